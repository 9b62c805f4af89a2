// Webhook deliveries over real sockets: the emulator's Deliverer against a loopback receiver
// (in process, plain HTTP), then the webex-emulator binary delivering over HTTPS end to end
// through test/support/emulator.hpp. Every wait is bounded.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "deliverer.hpp"
#include "net/tls.hpp"
#include "test/support/emulator.hpp"
#include "webhook_events.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Received {
  std::string target, content_type, body;
  std::optional<std::string> signature;  // X-Spark-Signature, when sent
};

// What the receiver saw and how it answers; shared with its coroutines and, for the binary
// test, with the test's thread.
struct ReceiverState {
  std::mutex mu;
  std::vector<Received> got;
  std::deque<unsigned> statuses;  // next answers; 200 when empty

  std::vector<Received> snapshot() {
    std::lock_guard lock(mu);
    return got;
  }
};

template <class Stream>
asio::awaitable<void> serve(std::shared_ptr<ReceiverState> s, Stream& stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    beast::get_lowest_layer(stream).expires_after(10s);
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (ec) co_return;
    unsigned status = 200;
    {
      std::lock_guard lock(s->mu);
      Received r{std::string(req.target()), std::string(req[http::field::content_type]), req.body(),
                 std::nullopt};
      if (auto it = req.find("X-Spark-Signature"); it != req.end())
        r.signature = std::string(it->value());
      s->got.push_back(std::move(r));
      if (!s->statuses.empty()) {
        status = s->statuses.front();
        s->statuses.pop_front();
      }
    }
    http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
    res.keep_alive(req.keep_alive());
    res.body() = status == 200 ? "" : "receiver says no";
    res.prepare_payload();
    auto [wec, written] = co_await http::async_write(stream, res, use_tuple);
    if (wec || !req.keep_alive()) co_return;
  }
}

asio::awaitable<void> session(std::shared_ptr<ReceiverState> s, tcp::socket socket,
                              std::shared_ptr<asio::ssl::context> tls) {
  if (!tls) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(s, stream);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
  beast::get_lowest_layer(stream).expires_after(10s);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (!ec) co_await serve(s, stream);
}

asio::awaitable<void> accept_loop(std::shared_ptr<ReceiverState> s,
                                  std::shared_ptr<tcp::acceptor> acceptor,
                                  std::shared_ptr<asio::ssl::context> tls) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), session(s, std::move(socket), tls),
                   [](std::exception_ptr e) {
                     if (e) std::rethrow_exception(e);
                   });
  }
}

// A webhook receiver on 127.0.0.1:0, plain HTTP or (with a certificate prefix) HTTPS.
struct Receiver {
  explicit Receiver(asio::any_io_executor ex, const std::string& cert_prefix = "")
      : state(std::make_shared<ReceiverState>()),
        acceptor(std::make_shared<tcp::acceptor>(
            ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0))) {
    std::shared_ptr<asio::ssl::context> tls;
    if (!cert_prefix.empty())
      tls = std::make_shared<asio::ssl::context>(
          zpark::net::make_server_tls_context(cert_prefix + ".pem", cert_prefix + ".key"));
    scheme = tls ? "https" : "http";
    asio::co_spawn(ex, accept_loop(state, acceptor, tls), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
  std::string url(const std::string& path) const {
    return scheme + "://127.0.0.1:" + std::to_string(acceptor->local_endpoint().port()) + path;
  }

  std::shared_ptr<ReceiverState> state;
  std::shared_ptr<tcp::acceptor> acceptor;
  std::string scheme;
};

emu::HttpIn call(std::string method, std::string target, std::string body, bool bot) {
  emu::HttpIn in;
  in.method = std::move(method);
  in.target = std::move(target);
  in.body = std::move(body);
  in.authorization = bot ? "Bearer test-token" : "";
  in.content_type = "application/json";
  in.host = "127.0.0.1:1";
  return in;
}

// An unused loopback port: bound, then closed again.
unsigned short closed_port(asio::io_context& io) {
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

bool binary_available(boost::unit_test::test_unit_id) {
  return std::getenv("WEBEX_EMULATOR_BIN") && std::getenv("ZPARK_TEST_CERTS");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delivery_io)

BOOST_AUTO_TEST_CASE(deliverer_posts_signed_envelopes_in_order_and_records_failures) {
  asio::io_context io;
  Receiver rx(io.get_executor());
  rx.state->statuses = {200, 200, 500};
  emu::Emulator emulator{emu::Config{}};
  emu::Deliverer deliverer(io.get_executor(), emulator, emu::DelivererOptions{});
  const emu::Clock clock = deliverer.clock();
  auto handle = [&](emu::HttpIn in) {
    emu::Outcome out = emulator.handle(in, clock.now());
    BOOST_TEST_REQUIRE(out.status == 200u, out.body);
    for (auto& d : out.deliveries) deliverer.send(std::move(d));
    return json::parse(out.body);
  };
  handle(call("POST", "/v1/webhooks",
              R"({"name":"cmd","targetUrl":")" + rx.url("/api/v1/webhook") +
                  R"(","resource":"messages","event":"created","filter":"mentionedPeople=me",
                      "secret":"it's a secret"})",
              true));
  handle(call("POST", "/v1/webhooks",
              R"({"name":"gone","targetUrl":"http://127.0.0.1:)" + std::to_string(closed_port(io)) +
                  R"(/hook","resource":"messages","event":"created"})",
              true));
  auto message = handle(call("POST", "/_emu/messages",
                             R"({"personEmail":"ann@example.com","roomId":"g1","mentionBot":"Zpark",
                                 "text":"show issues"})",
                             false));
  std::string id(message.at("id").as_string());
  handle(call("POST", "/_emu/redeliver", R"({"messageId":")" + id + "\"}", false));
  handle(call("POST", "/_emu/redeliver", R"({"messageId":")" + id + "\"}", false));

  auto log = [&] { return emulator.world().deliveries.to_json(0).at("deliveries").as_array(); };
  auto finished = [&] {
    auto all = log();
    return std::none_of(all.begin(), all.end(), [](const json::value& d) {
      return d.at("state").as_string() == "pending";
    });
  };
  for (auto until = std::chrono::steady_clock::now() + 10s;
       !finished() && std::chrono::steady_clock::now() < until;)
    io.run_one_for(50ms);
  auto all = log();
  BOOST_TEST_REQUIRE(finished(), json::serialize(all));
  // Both webhooks want the mention: three POSTs each, the original and two redeliveries.
  BOOST_TEST_REQUIRE(all.size() == 6u);

  auto got = rx.state->snapshot();
  BOOST_TEST_REQUIRE(got.size() == 3u);
  std::vector<json::value> to_rx, to_gone;
  for (auto& d : all) (d.at("webhook_name").as_string() == "cmd" ? to_rx : to_gone).push_back(d);
  BOOST_TEST_REQUIRE(to_rx.size() == 3u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    BOOST_TEST(got[i].target == "/api/v1/webhook");
    BOOST_TEST(got[i].content_type == "application/json");
    BOOST_TEST(got[i].body == to_rx[i].at("body").as_string());  // the exact bytes, in order
    BOOST_TEST_REQUIRE(got[i].signature.has_value());
    BOOST_TEST(*got[i].signature == emu::hmac_sha1_hex("it's a secret", got[i].body));
    BOOST_TEST(json::parse(got[i].body).at("data").at("id").as_string() == id);
  }
  BOOST_TEST(got[1].body == got[0].body);  // a duplicate, byte for byte
  BOOST_TEST(to_rx[0].at("state").as_string() == "delivered");
  BOOST_TEST(to_rx[0].at("status").to_number<int>() == 200);
  BOOST_TEST(to_rx[2].at("state").as_string() == "failed");  // the receiver answered 500
  BOOST_TEST(to_rx[2].at("status").to_number<int>() == 500);
  BOOST_TEST(to_rx[2].at("response").as_string() == "receiver says no");
  for (auto& d : to_gone) {
    BOOST_TEST(d.at("state").as_string() == "failed");
    BOOST_TEST(d.at("status").to_number<int>() == 0);
    BOOST_TEST(!d.at("error").as_string().empty());
    BOOST_TEST(d.at("signature").is_null());
  }
}

BOOST_AUTO_TEST_CASE(binary_delivers_a_mention_over_https_end_to_end,
                     *boost::unit_test::precondition(binary_available)) {
  zpark::test::TempDir dir;
  zpark::test::Emulator emulator(dir.path());
  // The receiver stands in for Zpark: HTTPS with the test CA's certificate, its own thread.
  asio::io_context io;
  Receiver rx(io.get_executor(), zpark::test::env_or_fail("ZPARK_TEST_CERTS") + "/server");
  std::thread receiver([&] { io.run_for(60s); });
  struct Stop {
    asio::io_context& io;
    std::thread& t;
    ~Stop() {
      io.stop();
      t.join();
    }
  } stop{io, receiver};

  auto hook =
      emulator.create_webhook(R"({"name":"zpark","targetUrl":")" + rx.url("/api/v1/webhook") +
                              R"(","resource":"messages","event":"created",
                                          "filter":"mentionedPeople=me","secret":"s3cret"})");
  auto seeded = emulator.seed_message(R"({"personEmail":"ann@example.com","roomId":"g1",
                                          "mentionBot":"Zpark","text":"don't panic"})");
  std::string id(seeded.at("id").as_string());
  auto done = emulator.wait_deliveries(1);
  BOOST_TEST(done.at(0).at("state").as_string() == "delivered", json::serialize(done));
  auto got = rx.state->snapshot();
  BOOST_TEST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].body == done.at(0).at("body").as_string());
  BOOST_TEST(*got[0].signature == emu::hmac_sha1_hex("s3cret", got[0].body));
  auto envelope = json::parse(got[0].body);
  BOOST_TEST(envelope.at("id").as_string() == hook);
  BOOST_TEST(envelope.at("data").at("id").as_string() == id);

  // What Zpark does next: fetch the message, here once through an injected 503.
  emulator.faults(R"({"fail_next_by_route":{"GET /v1/messages/{id}":[{"status":503}]}})");
  BOOST_TEST(emulator.api("GET", "/messages/" + id).status == 503u);
  auto fetched = emulator.api("GET", "/messages/" + id);
  BOOST_TEST_REQUIRE(fetched.status == 200u);
  BOOST_TEST(fetched.body.at("text").as_string() == "Zpark don't panic");
  BOOST_TEST(fetched.body.at("html").as_string().find(
                 "data-object-id=\"" + std::string(envelope.at("createdBy").as_string()) + "\"") !=
             std::string::npos);

  auto again = emulator.redeliver(id);
  BOOST_TEST_REQUIRE(again.size() == 1u);
  auto second =
      emulator.wait_deliveries(1, 10s, again.at(0).at("seq").to_number<std::uint64_t>() - 1);
  BOOST_TEST(second.at(0).at("redelivery").as_bool());
  BOOST_TEST_REQUIRE(rx.state->snapshot().size() == 2u);
  BOOST_TEST(rx.state->snapshot()[1].body == got[0].body);
}

BOOST_AUTO_TEST_SUITE_END()
