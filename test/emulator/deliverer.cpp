#include "deliverer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <iostream>

#include "net/http_client.hpp"

namespace emu {
namespace asio = boost::asio;
namespace net = zpark::net;

namespace {

constexpr std::size_t kept_response_bytes = 1000;

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::cerr << "webex-emulator: webhook delivery failed: " << ex.what() << '\n';
  }
}

}  // namespace

Now Clock::now() const {
  using namespace std::chrono;
  return Now{duration_cast<milliseconds>(steady_clock::now() - start).count(), system_clock::now()};
}

// Coroutine parameters by value: the Deliverer is reached through a pointer that outlives it.
struct Deliverer::Sending {
  static asio::awaitable<void> run(Deliverer* d, Outbound o) {
    DeliveryResult r;
    if (net::HttpClient* client = d->client_for(o.origin, r.error)) {
      net::RequestSpec spec;
      spec.method = net::http::verb::post;
      spec.target = o.target;
      spec.body = o.body;
      spec.content_type = "application/json";
      if (!o.signature.empty()) spec.headers.emplace_back("X-Spark-Signature", o.signature);
      auto res = co_await client->request(std::move(spec));
      if (res) {
        r.status = res->result_int();
        r.response = res->body().substr(0, kept_response_bytes);
      } else {
        r.error = client->describe(res.error());
      }
    }
    d->emu_.delivery_finished(o.seq, r, d->clock_.now());
  }
};

Deliverer::Deliverer(asio::any_io_executor ex, Emulator& emu, DelivererOptions opts, Clock clock)
    : ex_(std::move(ex)), emu_(emu), opts_(std::move(opts)), clock_(clock) {}

Deliverer::~Deliverer() = default;

net::HttpClient* Deliverer::client_for(const std::string& origin, std::string& error) {
  auto it = clients_.find(origin);
  if (it != clients_.end()) return it->second.get();
  net::ClientOptions o;
  o.base_url = origin;
  o.pool_size = 1;  // one connection: deliveries to one receiver keep their order
  o.ca_file = opts_.ca_file;
  o.connect_timeout = opts_.connect_timeout;
  o.request_timeout = opts_.request_timeout;
  o.user_agent = "webex-emulator";
  o.tls_hint = "start webex-emulator with --webhook-ca FILE naming the CA of the receiver";
  try {
    auto client = std::make_unique<net::HttpClient>(ex_, std::move(o));
    return clients_.emplace(origin, std::move(client)).first->second.get();
  } catch (const std::exception& e) {  // e.g. an unreadable --webhook-ca file
    error = e.what();
    return nullptr;
  }
}

void Deliverer::send(Outbound o) {
  asio::co_spawn(ex_, Sending::run(this, std::move(o)), log_exception);
}

}  // namespace emu
