#include "server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <iostream>

namespace emu {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Pointers, not references: coroutine parameters are copied into the frame.
struct Shared {
  Emulator* emu;
  asio::ssl::context* tls;
  Deliverer* deliverer;
  ServerOptions options;
};

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::cerr << "webex-emulator: connection failed: " << ex.what() << '\n';
  }
}

// RST instead of FIN: SO_LINGER 0 then close, the way a crashing proxy looks to a client.
void reset_connection(Stream& stream) {
  auto& sock = beast::get_lowest_layer(stream).socket();
  boost::system::error_code ec;
  sock.set_option(tcp::socket::linger(true, 0), ec);
  sock.close(ec);
}

HttpIn to_http_in(http::request<http::string_body>& req) {
  HttpIn in;
  in.method = std::string(req.method_string());
  in.target = std::string(req.target());
  in.authorization = std::string(req[http::field::authorization]);
  in.content_type = std::string(req[http::field::content_type]);
  in.host = std::string(req[http::field::host]);
  in.body = std::move(req.body());
  return in;
}

http::response<http::string_body> to_response(Outcome& out, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(out.status), version};
  for (auto& [name, value] : out.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  if (out.status != 204) {  // a 204 carries no body and no Content-Length
    res.set(http::field::content_type, "application/json;charset=UTF-8");
    res.body() = std::move(out.body);
    res.prepare_payload();
  }
  return res;
}

Outcome answer(Shared& sh, const HttpIn& in) {
  Now now = sh.deliverer->clock().now();
  try {
    return sh.emu->handle(in, now);
  } catch (const std::exception& e) {  // the one place a request's exception ends up
    std::cerr << "webex-emulator: " << in.method << ' ' << in.target << " failed: " << e.what()
              << '\n';
    Outcome out;
    out.status = 500;
    out.body = R"({"message":"emulator internal error","errors":[]})";
    return out;
  }
}

// The helpers below take references: their callers await them at once and own the objects.
asio::awaitable<void> write_error(Stream& stream, http::status status, std::string why) {
  http::response<http::string_body> res{status, 11};
  res.keep_alive(false);
  res.body() = std::move(why);
  res.prepare_payload();
  co_await http::async_write(stream, res, use_tuple);
}

// Reads one request; answers "100 Continue" when asked so curl does not wait a second.
asio::awaitable<boost::system::error_code> read_request(
    Stream& stream, beast::flat_buffer& buffer, http::request_parser<http::string_body>& parser,
    std::chrono::seconds idle) {
  beast::get_lowest_layer(stream).expires_after(idle);
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (ec) co_return ec;
  if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
    beast::get_lowest_layer(stream).expires_after(30s);
    std::tie(ec, n) = co_await http::async_write(stream, cont, use_tuple);
    if (ec) co_return ec;
  }
  beast::get_lowest_layer(stream).expires_after(30s);
  std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_tuple);
  co_return ec;
}

asio::awaitable<void> session(Shared sh, tcp::socket socket) {
  Stream stream(std::move(socket), *sh.tls);
  beast::get_lowest_layer(stream).expires_after(10s);
  auto [hs_ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (hs_ec) co_return;
  ++sh.emu->world().stats.tls_handshakes;
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;  // fresh per request
    parser.body_limit(sh.options.body_limit);
    auto ec = co_await read_request(stream, buffer, parser, sh.options.idle_timeout);
    if (ec == http::error::body_limit) {
      co_await write_error(stream, http::status::payload_too_large, "body too large\n");
      break;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      co_await write_error(stream, http::status::bad_request, "malformed HTTP request\n");
      break;
    }
    if (ec) break;  // end of stream, timeout, reset: nothing to answer
    auto req = parser.release();
    ++sh.emu->world().stats.requests;
    if (req.version() >= 11 && req[http::field::host].empty()) {  // RFC 9112: must be 400
      co_await write_error(stream, http::status::bad_request, "Host header is required\n");
      break;
    }
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    HttpIn in = to_http_in(req);
    Outcome out = answer(sh, in);
    if (sh.options.verbose)
      std::cerr << in.method << ' ' << in.target << " -> "
                << (out.disposition == Disposition::reset ? "reset" : std::to_string(out.status))
                << '\n';
    if (out.delay.count() > 0) {  // a timer, so other connections keep being served
      asio::steady_timer timer(stream.get_executor(), out.delay);
      co_await timer.async_wait(use_tuple);
    }
    // Webhook deliveries start once the answer is out (or the reset done), as at Webex,
    // where the sender's POST returns before the webhooks fire.
    if (out.disposition == Disposition::reset) {
      reset_connection(stream);
      for (auto& d : out.deliveries) sh.deliverer->send(std::move(d));
      co_return;
    }
    auto deliveries = std::move(out.deliveries);
    auto res = to_response(out, version, keep_alive);
    beast::get_lowest_layer(stream).expires_after(30s);
    auto [wec, written] = co_await http::async_write(stream, res, use_tuple);
    for (auto& d : deliveries) sh.deliverer->send(std::move(d));
    if (wec) co_return;
    if (!keep_alive) break;
  }
  beast::get_lowest_layer(stream).expires_after(2s);
  co_await stream.async_shutdown(use_tuple);  // errors (truncation, timeout) do not matter
}

asio::awaitable<void> accept_loop(Shared sh, tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {  // e.g. EMFILE: pause instead of spinning
      std::cerr << "webex-emulator: accept failed: " << ec.message() << '\n';
      asio::steady_timer pause(acceptor->get_executor(), 100ms);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    ++sh.emu->world().stats.connections_accepted;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor->get_executor(), session(sh, std::move(socket)), log_exception);
  }
}

}  // namespace

void start_server(tcp::acceptor& acceptor, asio::ssl::context& tls, Emulator& emu,
                  Deliverer& deliverer, ServerOptions options) {
  Shared sh{&emu, &tls, &deliverer, options};
  asio::co_spawn(acceptor.get_executor(), accept_loop(sh, &acceptor), log_exception);
}

}  // namespace emu
