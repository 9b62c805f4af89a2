// bench-hello-server: the baseline for bench/ping.sh. A bare Boost.Beast C++20 coroutine
// HTTP/1.1 server with the same shape as Zpark's (one io_context, one thread, one session
// coroutine per connection, keep-alive, a fresh parser per request, a deadline on every read
// and write, TCP_NODELAY) doing ping's work: build {"hello","apiversion","utctime"} with
// Boost.JSON and serialise it. No routing, auth, metrics or logging: what Zpark costs above
// this is its own overhead.
//
//   bench-hello-server [--listen 127.0.0.1] [--port 0]     prints "listening 127.0.0.1:PORT"
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

// Same text as Zpark's ping ("2024-05-01 12:00:00.123456").
std::string utctime(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto secs = time_point_cast<seconds>(t);
  if (secs > t) secs -= seconds(1);
  auto micros = duration_cast<microseconds>(t - secs).count();
  std::time_t tt = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return micros ? fmt::format("{}.{:06}", buf, micros) : std::string(buf);
}

http::response<http::string_body> answer(const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.set(http::field::content_type, "application/json");
  if (req.method() == http::verb::get || req.method() == http::verb::head) {
    res.result(http::status::ok);
    json::object body{{"hello", "Hello!"}, {"apiversion", 1},
                      {"utctime", utctime(std::chrono::system_clock::now())}};
    res.body() = json::serialize(body) + "\n";
  } else {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "{\"message\":\"Method not allowed\"}\n";
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::cerr << "bench-hello-server: " << x.what() << '\n';
  }
}

asio::awaitable<void> session(beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;  // fresh per request
    parser.header_limit(8192);
    parser.body_limit(8192);
    stream.expires_after(60s);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, tuple);
    (void)n;
    if (ec) break;  // end_of_stream is the normal close; timeouts and resets just end it
    auto req = parser.release();
    auto res = answer(req);
    stream.expires_after(10s);
    auto [wec, written] = co_await http::async_write(stream, res, tuple);
    (void)written;
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor.get_executor(), session(beast::tcp_stream(std::move(socket))), log_exception);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1";
  unsigned short port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view opt = argv[i];
    if (opt == "--listen" && i + 1 < argc) listen = argv[++i];
    else if (opt == "--port" && i + 1 < argc) port = static_cast<unsigned short>(std::stoul(argv[++i]));
    else {
      std::cerr << "usage: bench-hello-server [--listen 127.0.0.1] [--port 0]\n";
      return 2;
    }
  }
  asio::io_context io(1);
  tcp::acceptor acceptor(io);
  try {
    tcp::endpoint ep(asio::ip::make_address(listen), port);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    std::cerr << "bench-hello-server: cannot listen on " << listen << ':' << port << ": " << e.what() << '\n';
    return 2;
  }
  asio::co_spawn(io, accept_loop(acceptor), log_exception);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  std::cout << "listening " << listen << ':' << acceptor.local_endpoint().port() << std::endl;
  io.run();
  return 0;
}
