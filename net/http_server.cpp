#include "net/http_server.hpp"

#include "conf/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <type_traits>

namespace zpark::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using asio::awaitable;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

namespace {

struct SessionEntry {
  std::function<void()> cancel;  // aborts the session's pending I/O
  bool idle = true;              // waiting for the next request (safe to close at shutdown)
};

template <class T>
struct is_ssl : std::false_type {};
template <class T>
struct is_ssl<beast::ssl_stream<T>> : std::true_type {};

bool is_quiet_close(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

void spawn_logged(asio::io_context& io, awaitable<void> task, const char* what) {
  asio::co_spawn(io, std::move(task), [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error("coroutine failed", {{"task", what}, {"error", x.what()}});
    }
  });
}

}  // namespace

Response json_error(http::status status, std::string_view message, unsigned version) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  boost::json::object body{{"message", message}};
  res.body() = boost::json::serialize(body) + "\n";
  res.prepare_payload();
  return res;
}

struct HttpServer::State {
  asio::io_context& io;
  Handler& handler;
  ServerLimits limits;
  std::shared_ptr<asio::ssl::context> tls;
  std::list<tcp::acceptor> tcp_acceptors;
  std::list<local::acceptor> unix_acceptors;
  std::vector<std::string> unix_paths;
  std::list<SessionEntry> sessions;
  bool stopping = false;

  State(asio::io_context& i, Handler& h, ServerLimits l, std::shared_ptr<asio::ssl::context> t)
      : io(i), handler(h), limits(l), tls(std::move(t)) {}
};

namespace {

using StatePtr = std::shared_ptr<HttpServer::State>;

// Registers the session for shutdown and connection counting for its whole lifetime.
class SessionGuard {
 public:
  SessionGuard(StatePtr st, std::function<void()> cancel) : st_(std::move(st)) {
    it_ = st_->sessions.insert(st_->sessions.end(), SessionEntry{std::move(cancel), true});
    st_->handler.connections_changed(st_->sessions.size());
  }
  ~SessionGuard() {
    st_->sessions.erase(it_);
    st_->handler.connections_changed(st_->sessions.size());
  }
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;
  void set_idle(bool idle) { it_->idle = idle; }

 private:
  StatePtr st_;
  std::list<SessionEntry>::iterator it_;
};

template <class Stream>
awaitable<void> write_and_report(StatePtr st, Stream& stream, Response res, std::string method,
                                 std::string target, std::chrono::steady_clock::time_point started,
                                 boost::system::error_code& ec) {
  beast::get_lowest_layer(stream).expires_after(st->limits.write_timeout);
  auto [wec, n] = co_await http::async_write(stream, res, tuple);
  (void)n;
  ec = wec;
  st->handler.completed(Exchange{std::move(method), std::move(target), res.result_int(),
                                 std::chrono::steady_clock::now() - started});
}

template <class Stream>
awaitable<void> run_session(StatePtr st, Stream stream) {
  auto& lowest = beast::get_lowest_layer(stream);
  SessionGuard guard(st, [&lowest] { lowest.cancel(); });
  const auto& lim = st->limits;
  beast::flat_buffer buffer;

  if constexpr (is_ssl<Stream>::value) {
    lowest.expires_after(lim.read_timeout);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, tuple);
    if (ec) co_return;
  }

  for (;;) {
    if (st->stopping) break;
    // Idle: wait (idle timeout) for the first byte of the next request.
    guard.set_idle(true);
    if (buffer.size() == 0) {
      lowest.expires_after(lim.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), tuple);
      if (ec) break;
      buffer.commit(n);
    }
    guard.set_idle(false);
    const auto started = std::chrono::steady_clock::now();

    // Busy: the whole request must arrive within the read timeout.
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(lim.header_limit));
    parser.body_limit(boost::none);  // the route decides below, once the target is known
    lowest.expires_after(lim.read_timeout);
    boost::system::error_code wec;
    {
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, tuple);
      (void)n;
      if (ec == http::error::header_limit) {
        co_await write_and_report(st, stream, json_error(http::status::request_header_fields_too_large,
                                                         "Request header fields too large"),
                                  "-", "-", started, wec);
        break;
      }
      if (ec && is_quiet_close(ec)) break;
      if (ec) {
        co_await write_and_report(st, stream, json_error(http::status::bad_request, "Malformed HTTP request"),
                                  "-", "-", started, wec);
        break;
      }
    }
    std::string method(parser.get().method_string());
    std::string target(parser.get().target());
    const std::size_t limit = st->handler.body_limit(parser.get());
    auto too_large = [&] {
      return json_error(http::status::payload_too_large,
                        "Request body is larger than " + std::to_string(limit) + " bytes");
    };
    if (parser.content_length() && *parser.content_length() > limit) {
      co_await write_and_report(st, stream, too_large(), method, target, started, wec);
      break;  // the body was not read, so the connection cannot be reused
    }
    parser.body_limit(limit);
    if (!parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        auto [ec, n] = co_await http::async_write(stream, cont, tuple);
        (void)n;
        if (ec) break;
      }
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, tuple);
      (void)n;
      if (ec == http::error::body_limit) {
        co_await write_and_report(st, stream, too_large(), method, target, started, wec);
        break;
      }
      if (ec && is_quiet_close(ec)) break;
      if (ec) {
        co_await write_and_report(st, stream, json_error(http::status::bad_request, "Malformed HTTP request body"),
                                  method, target, started, wec);
        break;
      }
    }

    Request req = parser.release();
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    Response res;
    try {
      res = co_await st->handler.handle(std::move(req));
    } catch (const std::exception& e) {
      log::error("request failed", {{"method", method}, {"path", target}, {"error", e.what()}});
      res = json_error(http::status::internal_server_error, "Internal Server Error", version);
    }
    res.version(version);
    res.keep_alive(keep_alive && !st->stopping);
    if (res.find(http::field::content_length) == res.end()) res.prepare_payload();
    co_await write_and_report(st, stream, std::move(res), method, target, started, wec);
    if (wec || !keep_alive || st->stopping) break;
  }

  // Orderly close: TLS close_notify (bounded), then TCP FIN.
  boost::system::error_code ignored;
  if constexpr (is_ssl<Stream>::value) {
    lowest.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await stream.async_shutdown(tuple);
    (void)ec;
  } else {
    lowest.socket().shutdown(asio::socket_base::shutdown_send, ignored);
  }
  lowest.close();
}

awaitable<void> refuse_busy(beast::tcp_stream stream) {
  stream.expires_after(std::chrono::seconds(2));
  auto res = json_error(http::status::service_unavailable, "Too many connections; try again later");
  res.keep_alive(false);
  auto [ec, n] = co_await http::async_write(stream, res, tuple);
  (void)ec;
  (void)n;
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::socket_base::shutdown_send, ignored);
}

// Starts the session for a TCP connection: TLS or plain, or a 503 beyond the limit.
void start_session(StatePtr st, tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  if (st->sessions.size() >= st->limits.max_connections) {
    if (!st->tls) spawn_logged(st->io, refuse_busy(std::move(stream)), "refuse");
    return;
  }
  if (st->tls)
    spawn_logged(st->io, run_session(st, beast::ssl_stream<beast::tcp_stream>(std::move(stream), *st->tls)),
                 "session");
  else
    spawn_logged(st->io, run_session(st, std::move(stream)), "session");
}

void start_session(StatePtr st, local::socket socket) {
  if (st->sessions.size() >= st->limits.max_connections) return;  // closes it
  spawn_logged(st->io, run_session(st, beast::basic_stream<local>(std::move(socket))), "session");
}

template <class Acceptor>
awaitable<void> accept_loop(StatePtr st, Acceptor& acceptor) {
  asio::steady_timer backoff(st->io);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(tuple);
    if (st->stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      log::warn("accept failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(100));  // e.g. out of file descriptors
      co_await backoff.async_wait(tuple);
      continue;
    }
    start_session(st, std::move(socket));
  }
}

void bind_unix(HttpServer::State& st, const std::string& path, unsigned mode) {
  namespace fs = std::filesystem;
  std::error_code fec;
  if (fs::exists(fs::symlink_status(path, fec))) {
    if (!fs::is_socket(fs::symlink_status(path, fec)))
      throw std::runtime_error("cannot listen on unix:" + path + ": the path exists and is not a socket");
    local::socket probe(st.io);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path), ec);
    if (!ec) throw std::runtime_error("cannot listen on unix:" + path + ": another process is serving it");
    fs::remove(path, fec);  // stale socket from a process that died
  }
  auto& acc = st.unix_acceptors.emplace_back(st.io);
  boost::system::error_code ec;
  acc.open(local(), ec);
  if (!ec) acc.bind(local::endpoint(path), ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    st.unix_acceptors.pop_back();
    throw std::runtime_error("cannot listen on unix:" + path + ": " + ec.message());
  }
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
  st.unix_paths.push_back(path);
}

void bind_tcp(HttpServer::State& st, const conf::ListenAddress& address) {
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code ec;
  if (address.host.empty()) {
    endpoints.emplace_back(tcp::v6(), address.port);  // dual stack below; IPv4 if no IPv6
  } else {
    tcp::resolver resolver(st.io);
    auto results = resolver.resolve(address.host, std::to_string(address.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) throw std::runtime_error("cannot listen on " + address.to_string() + ": " + ec.message());
    endpoints.push_back(results.begin()->endpoint());
  }
  auto& acc = st.tcp_acceptors.emplace_back(st.io);
  auto try_bind = [&](const tcp::endpoint& ep) {
    ec.clear();
    if (acc.is_open()) acc.close();
    acc.open(ep.protocol(), ec);
    if (!ec && ep.address().is_v6() && address.host.empty()) acc.set_option(asio::ip::v6_only(false), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  };
  try_bind(endpoints.front());
  if (ec && address.host.empty()) try_bind(tcp::endpoint(tcp::v4(), address.port));
  if (ec) {
    st.tcp_acceptors.pop_back();
    throw std::runtime_error("cannot listen on " + address.to_string() + ": " + ec.message());
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Handler& handler, ServerLimits limits,
                       std::shared_ptr<asio::ssl::context> tls)
    : state_(std::make_shared<State>(io, handler, limits, std::move(tls))) {}

HttpServer::~HttpServer() {
  std::error_code ec;
  for (auto& p : state_->unix_paths) std::filesystem::remove(p, ec);
}

void HttpServer::listen(const conf::ListenAddress& address, unsigned socket_mode) {
  if (address.kind == conf::ListenAddress::Kind::unix_socket) bind_unix(*state_, address.path, socket_mode);
  else bind_tcp(*state_, address);
}

std::vector<std::string> HttpServer::addresses() const {
  std::vector<std::string> out;
  for (auto& a : state_->tcp_acceptors) {
    auto ep = a.local_endpoint();
    auto addr = ep.address();
    std::string host = addr.to_string();
    out.push_back(addr.is_v6() ? "[" + host + "]:" + std::to_string(ep.port())
                               : host + ":" + std::to_string(ep.port()));
  }
  for (auto& p : state_->unix_paths) out.push_back("unix:" + p);
  return out;
}

void HttpServer::start() {
  for (auto& a : state_->tcp_acceptors) spawn_logged(state_->io, accept_loop(state_, a), "accept");
  for (auto& a : state_->unix_acceptors) spawn_logged(state_->io, accept_loop(state_, a), "accept");
}

awaitable<void> HttpServer::shutdown(std::chrono::milliseconds deadline) {
  auto st = state_;
  st->stopping = true;
  boost::system::error_code ec;
  for (auto& a : st->tcp_acceptors) a.close(ec);
  for (auto& a : st->unix_acceptors) a.close(ec);
  for (auto& s : st->sessions)
    if (s.idle) s.cancel();
  asio::steady_timer timer(st->io);
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!st->sessions.empty() && std::chrono::steady_clock::now() < until) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(tuple);
    for (auto& s : st->sessions)
      if (s.idle) s.cancel();
  }
  for (auto& s : st->sessions) s.cancel();  // deadline passed: abort the rest
}

std::size_t HttpServer::open_connections() const { return state_->sessions.size(); }

}  // namespace zpark::net
