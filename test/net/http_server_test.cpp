// HttpServer in-process: a fake Handler at the real seam, the io_context on its own thread,
// blocking loopback clients from test/support. For what only the transport can show (the
// handler's lifetime, the connection reserve); the API's behaviour is tested on the binary.
#define BOOST_TEST_MODULE http_server_test
#include <boost/test/unit_test.hpp>

#include "net/http_server.hpp"
#include "test/support/http.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <memory>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using zpark::net::Exchange;
using zpark::net::HttpServer;
using zpark::net::Request;
using zpark::net::Response;
using zpark::net::ServerLimits;
using zpark::test::Connection;

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

// Answers "/slow" never (work that closing the socket cannot abort, like waiting for a
// commit), everything else at once. Counts calls made after `server_gone` was set.
class Recorder final : public zpark::net::Handler {
 public:
  std::atomic<bool> server_gone{false};
  std::atomic<int> calls_after_server_gone{0};
  std::atomic<int> handling{0};
  std::atomic<int> refused{0};

  std::size_t body_limit(const http::request_header<>&) override {
    note();
    return 1024;
  }
  asio::awaitable<Response> handle(Request req) override {
    note();
    ++handling;
    if (req.target() == "/slow") {
      asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
      co_await forever.async_wait(tuple);
    }
    Response res{http::status::ok, 11};
    res.body() = "ok";
    res.prepare_payload();
    co_return res;
  }
  bool answer_when_full(const http::request_header<>& header) override { return header.target() == "/healthz"; }
  void completed(const Exchange&) override { note(); }
  void connections_changed(std::size_t) override { note(); }
  void connection_refused() override { ++refused; }

 private:
  void note() {
    if (server_gone) ++calls_after_server_gone;
  }
};

// The server and its io_context on a thread, stopped and joined by the destructor.
struct Running {
  std::unique_ptr<asio::io_context> io = std::make_unique<asio::io_context>(1);
  std::unique_ptr<HttpServer> server;
  std::thread thread;
  std::string address;

  Running(zpark::net::Handler& handler, ServerLimits limits) {
    server = std::make_unique<HttpServer>(*io, handler, limits);
    zpark::conf::ListenAddress at;
    at.host = "127.0.0.1";
    server->listen(at, 0);
    server->start();
    address = server->addresses().front();
    thread = std::thread([this] { io->run(); });
  }
  ~Running() {
    if (io) io->stop();
    if (thread.joinable()) thread.join();
  }
};

template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = 5s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

}  // namespace

// The service stops the io_context after shutdown and destroys the handler before it; the
// sessions aborted at the deadline die with the io_context and must not call the handler.
BOOST_AUTO_TEST_CASE(the_handler_is_not_called_once_the_server_is_destroyed) {
  Recorder handler;
  Running run(handler, ServerLimits{});
  Connection c(run.address);
  c.send_raw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_REQUIRE(eventually([&] { return handler.handling == 1; }));

  auto stop = [&run]() -> asio::awaitable<void> {
    co_await run.server->shutdown(50ms);
    run.io->stop();
  };
  asio::co_spawn(*run.io, stop, [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  run.thread.join();
  run.server.reset();
  handler.server_gone = true;
  run.io.reset();  // destroys the session still waiting for /slow
  BOOST_TEST(handler.calls_after_server_gone == 0);
}

// Beyond the connection limit a few reserve connections read one request each and serve it
// only if the handler says so (liveness probes); beyond those, 503 without reading anything.
BOOST_AUTO_TEST_CASE(beyond_the_reserve_connections_get_503_at_once) {
  Recorder handler;
  ServerLimits limits;
  limits.max_connections = 1;
  limits.reserve_connections = 1;
  Running run(handler, limits);
  Connection regular(run.address);
  BOOST_TEST(regular.request(http::verb::get, "/x").status == 200u);
  Connection reserve(run.address);  // silent for now
  Connection beyond(run.address);
  auto refused = beyond.read_reply();  // nothing sent
  BOOST_TEST(refused.status == 503u);
  BOOST_TEST(!refused.keep_alive);
  BOOST_TEST(handler.refused == 1);

  auto health = reserve.request(http::verb::get, "/healthz");
  BOOST_TEST(health.status == 200u);
  BOOST_TEST(!health.keep_alive);  // a reserve connection serves one request
  BOOST_TEST(reserve.closed_by_peer(2s));
  BOOST_TEST(handler.refused == 1);
  BOOST_TEST(regular.request(http::verb::get, "/x").status == 200u);  // the regular one lives on
}
