#include "net/http_client.hpp"

#include "net/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <deque>
#include <exception>
#include <optional>
#include <stdexcept>
#include <variant>

namespace zpark::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The parts of base_url every request needs.
struct Origin {
  bool tls = false;
  std::string host;         // for resolving, SNI and certificate checks: "::1", no brackets
  bool is_ip = false;       // IP literal: no DNS, no SNI, certificate checked for the IP
  std::uint16_t port = 0;
  std::string host_header;  // "[::1]:8443", port left out when it is the scheme's default
  std::string display;      // "[::1]:8443", always with the port
  std::string base_path;    // "/zabbix", never ending in '/'
};

Origin parse_origin(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return ConfigError(ErrorKind::bad_url, "not an http(s) URL: '" + url + "'" + why);
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw bad("");
  const auto& u = *parsed;
  Origin o;
  if (u.scheme_id() == boost::urls::scheme::https) {
    o.tls = true;
  } else if (u.scheme_id() != boost::urls::scheme::http) {
    throw bad(" (the scheme must be http or https)");
  }
  if (u.has_userinfo() || u.has_query() || u.has_fragment()) {
    throw bad(" (user name, ?query and #fragment are not supported in a base URL)");
  }
  o.host = u.host_address();
  if (o.host.empty()) throw bad(" (no host)");
  o.is_ip = u.host_type() == boost::urls::host_type::ipv4 ||
            u.host_type() == boost::urls::host_type::ipv6;
  const std::uint16_t default_port = o.tls ? 443 : 80;
  o.port = u.has_port() ? u.port_number() : default_port;
  if (o.port == 0) throw bad(" (bad port)");
  const std::string bracketed =
      u.host_type() == boost::urls::host_type::ipv6 ? "[" + o.host + "]" : o.host;
  o.display = bracketed + ":" + std::to_string(o.port);
  o.host_header = o.port == default_port ? bracketed : o.display;
  o.base_path = u.encoded_path();
  while (!o.base_path.empty() && o.base_path.back() == '/') o.base_path.pop_back();
  return o;
}

std::string join_target(const std::string& base, const std::string& target) {
  if (target.empty()) return base.empty() ? "/" : base;
  if (target.front() == '/') return base + target;
  if (target.front() == '?') return (base.empty() ? "/" : base) + target;
  return base + "/" + target;
}

// One pooled connection. The buffer lives with the stream: bytes read past a response
// belong to that connection.
struct Conn {
  explicit Conn(const asio::any_io_executor& ex) : stream(std::in_place_type<PlainStream>, ex) {}
  Conn(const asio::any_io_executor& ex, ssl::context& ctx)
      : stream(std::in_place_type<TlsStream>, ex, ctx) {}

  beast::tcp_stream& tcp() {
    if (auto* tls = std::get_if<TlsStream>(&stream)) return beast::get_lowest_layer(*tls);
    return std::get<PlainStream>(stream);
  }

  std::variant<PlainStream, TlsStream> stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
};

// A request queued for a connection. close() or the caller's cancellation wakes it with
// granted == false.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex, Clock::time_point::max()) {}
  asio::steady_timer timer;
  std::unique_ptr<Conn> conn;  // null with granted: open a new connection in this slot
  bool granted = false;
};

// Completion handler for background coroutines: they only fail on bugs or bad_alloc, and
// those must reach io_context::run() instead of vanishing.
void rethrow_if(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

}  // namespace

namespace detail {

struct ClientState {
  ClientState(asio::any_io_executor e, ClientOptions o, Origin org)
      : ex(std::move(e)), opts(std::move(o)), origin(std::move(org)), sweep_timer(ex) {}

  asio::any_io_executor ex;
  ClientOptions opts;
  Origin origin;
  std::optional<ssl::context> tls_ctx;
  std::size_t busy = 0;                     // connections (or slots to open one) handed out
  std::deque<std::unique_ptr<Conn>> idle;   // oldest first
  std::deque<std::shared_ptr<Waiter>> waiters;
  asio::steady_timer sweep_timer;
  bool sweeping = false;
  bool closed = false;
  HttpClient::Stats stats;
  long last_verify = X509_V_OK;  // OpenSSL's verify result of the last failed handshake
};

}  // namespace detail

namespace {

using detail::ClientState;

// Graceful TLS close: send close_notify, but never wait long for a peer that went away.
asio::awaitable<void> tls_goodbye(std::unique_ptr<Conn> conn) {
  auto& tls = std::get<TlsStream>(conn->stream);
  beast::get_lowest_layer(tls).expires_after(std::chrono::seconds(2));
  // eof, stream_truncated (peer closed without close_notify) and timeouts all mean "gone".
  co_await tls.async_shutdown(use_tuple);
  beast::get_lowest_layer(tls).close();
}

// Closes a connection that will not be used again. Graceful only for healthy TLS
// connections; after an error or at close() the socket is just closed.
void retire(ClientState& st, std::unique_ptr<Conn> conn, bool graceful) {
  if (!conn) return;
  if (graceful && std::holds_alternative<TlsStream>(conn->stream)) {
    asio::co_spawn(st.ex, tls_goodbye(std::move(conn)), rethrow_if);
    return;
  }
  conn->tcp().close();
}

void prune_idle(ClientState& st, Clock::time_point now) {
  while (!st.idle.empty() && now - st.idle.front()->idle_since >= st.opts.idle_timeout) {
    retire(st, std::move(st.idle.front()), true);
    st.idle.pop_front();
  }
}

// Closes idle connections when they expire, so that sockets do not linger until the next
// request. Runs while there are idle connections; close() stops it.
asio::awaitable<void> sweep(std::shared_ptr<ClientState> st) {
  while (!st->closed && !st->idle.empty()) {
    st->sweep_timer.expires_at(st->idle.front()->idle_since + st->opts.idle_timeout);
    co_await st->sweep_timer.async_wait(use_tuple);
    if (!st->closed) prune_idle(*st, Clock::now());
  }
  st->sweeping = false;
}

// Gives back what acquire() handed out: a healthy connection to pool, or null when it was
// closed (the slot is free again). The first waiter gets it before the pool does (FIFO).
void release(const std::shared_ptr<ClientState>& st, std::unique_ptr<Conn> conn) {
  --st->busy;
  if (conn && st->closed) {
    retire(*st, std::move(conn), false);
  }
  if (!st->waiters.empty()) {
    auto w = std::move(st->waiters.front());
    st->waiters.pop_front();
    w->conn = std::move(conn);
    w->granted = true;
    ++st->busy;
    w->timer.cancel();
    return;
  }
  if (!conn) return;
  conn->idle_since = Clock::now();
  st->idle.push_back(std::move(conn));
  if (!st->sweeping) {
    st->sweeping = true;
    asio::co_spawn(st->ex, sweep(st), rethrow_if);
  }
}

// A pooled connection (most recently used first: least likely to be closed by the server),
// or null meaning "open a new one", or operation_aborted when closed while queued.
asio::awaitable<boost::system::result<std::unique_ptr<Conn>>> acquire(
    std::shared_ptr<ClientState> st) {
  prune_idle(*st, Clock::now());
  if (!st->idle.empty()) {
    auto conn = std::move(st->idle.back());
    st->idle.pop_back();
    ++st->busy;
    co_return std::move(conn);
  }
  if (st->busy < st->opts.pool_size) {
    ++st->busy;
    co_return std::unique_ptr<Conn>();
  }
  auto w = std::make_shared<Waiter>(st->ex);
  st->waiters.push_back(w);
  co_await w->timer.async_wait(use_tuple);  // woken by release() or close()
  if (w->granted) co_return std::move(w->conn);
  // close() or the caller's cancellation: leave the queue if still in it.
  std::erase(st->waiters, w);
  co_return error_code(asio::error::operation_aborted);
}

error_code map_timeout(error_code ec) {
  if (ec == beast::error::timeout) return asio::error::timed_out;
  return ec;
}

error_code last_ssl_error() {
  return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
}

// SNI and host-name verification with OpenSSL's own checks, which report "hostname
// mismatch" / "IP address mismatch" as the verify result (used by describe()).
error_code prepare_tls(TlsStream& tls, const Origin& o, bool verify_peer) {
  SSL* ssl = tls.native_handle();
  if (!o.is_ip && SSL_set_tlsext_host_name(ssl, o.host.c_str()) != 1) return last_ssl_error();
  if (!verify_peer) return {};
  const int ok = o.is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), o.host.c_str())
                         : SSL_set1_host(ssl, o.host.c_str());
  return ok == 1 ? error_code() : last_ssl_error();
}

// Resolve with a deadline. The resolver's thread cannot be interrupted, so the coroutine
// waits on a timer that the lookup cancels when it is done, and a late lookup lands in
// the shared state it keeps alive.
struct ResolveOp {
  explicit ResolveOp(const asio::any_io_executor& ex) : resolver(ex), timer(ex) {}
  tcp::resolver resolver;
  asio::steady_timer timer;
  error_code ec;
  tcp::resolver::results_type results;
  bool done = false;
};

asio::awaitable<boost::system::result<std::vector<tcp::endpoint>>> resolve(
    std::shared_ptr<ClientState> st, Clock::time_point deadline) {
  auto op = std::make_shared<ResolveOp>(st->ex);
  op->timer.expires_at(deadline);
  auto on_resolved = [op](error_code ec, tcp::resolver::results_type results) {
    op->ec = ec;
    op->results = std::move(results);
    op->done = true;
    op->timer.cancel();
  };
  op->resolver.async_resolve(st->origin.host, std::to_string(st->origin.port),
                             std::move(on_resolved));
  co_await op->timer.async_wait(use_tuple);
  if (!op->done) {
    op->resolver.cancel();
    co_return error_code(asio::error::timed_out);
  }
  if (op->ec) co_return op->ec;
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : op->results) endpoints.push_back(entry.endpoint());
  co_return endpoints;
}

// Resolve, connect and (https) handshake, all within connect_timeout.
asio::awaitable<boost::system::result<std::unique_ptr<Conn>>> connect(
    std::shared_ptr<ClientState> st) {
  const auto deadline = Clock::now() + st->opts.connect_timeout;
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  const auto address = asio::ip::make_address(st->origin.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, st->origin.port);
  } else {
    auto resolved = co_await resolve(st, deadline);
    if (!resolved) co_return resolved.error();
    endpoints = std::move(*resolved);
  }

  auto conn = st->tls_ctx && st->origin.tls ? std::make_unique<Conn>(st->ex, *st->tls_ctx)
                                            : std::make_unique<Conn>(st->ex);
  conn->tcp().expires_at(deadline);
  auto [connect_ec, endpoint] = co_await conn->tcp().async_connect(endpoints, use_tuple);
  if (connect_ec) co_return map_timeout(connect_ec);
  ++st->stats.connects;
  conn->tcp().socket().set_option(tcp::no_delay(true), ec);  // small requests, no Nagle wait

  if (auto* tls = std::get_if<TlsStream>(&conn->stream)) {
    if (auto prep_ec = prepare_tls(*tls, st->origin, st->opts.verify_peer)) co_return prep_ec;
    conn->tcp().expires_at(deadline);
    auto [hs_ec] = co_await tls->async_handshake(ssl::stream_base::client, use_tuple);
    if (hs_ec) {
      st->last_verify = SSL_get_verify_result(tls->native_handle());
      co_return map_timeout(hs_ec);
    }
    ++st->stats.tls_handshakes;
  }
  co_return std::move(conn);
}

struct Exchange {
  error_code ec;
  bool got_bytes = false;  // any response byte arrived: the server saw the request
  Response response;
};

// Write one request and read its response under one request_timeout deadline.
// References are safe: the caller's frame owns them and awaits this directly.
template <class Stream>
asio::awaitable<Exchange> exchange(Stream& stream, beast::flat_buffer& buffer, const Request& req,
                                   std::chrono::milliseconds timeout) {
  Exchange x;
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [write_ec, written] = co_await http::async_write(stream, req, use_tuple);
  if (write_ec) {
    x.ec = map_timeout(write_ec);
    co_return x;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_body);
  parser.header_limit(64 * 1024);
  if (req.method() == http::verb::head) parser.skip(true);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  x.got_bytes = parser.got_some();
  x.ec = map_timeout(read_ec);
  if (!x.ec) x.response = parser.release();
  co_return x;
}

asio::awaitable<Exchange> exchange_on(Conn& conn, const Request& req,
                                      std::chrono::milliseconds timeout) {
  if (auto* tls = std::get_if<TlsStream>(&conn.stream)) {
    co_return co_await exchange(*tls, conn.buffer, req, timeout);
  }
  co_return co_await exchange(std::get<PlainStream>(conn.stream), conn.buffer, req, timeout);
}

// What a server that closed an idle keep-alive connection looks like on the next use.
bool closed_by_peer(error_code ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

Request build_request(const ClientState& st, RequestSpec spec) {
  Request req{spec.method, join_target(st.origin.base_path, spec.target), 11};
  req.set(http::field::host, st.origin.host_header);
  req.set(http::field::user_agent, st.opts.user_agent);
  if (!spec.body.empty()) req.set(http::field::content_type, spec.content_type);
  for (const auto& [name, value] : spec.headers) req.set(name, value);
  req.body() = std::move(spec.body);
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

asio::awaitable<boost::system::result<Response>> run_request(std::shared_ptr<ClientState> st,
                                                             RequestSpec spec) {
  ++st->stats.requests;
  if (st->closed) co_return error_code(asio::error::operation_aborted);
  const Request req = build_request(*st, std::move(spec));

  auto lease = co_await acquire(st);
  if (!lease) co_return lease.error();
  std::unique_ptr<Conn> conn = std::move(*lease);
  bool pooled = conn != nullptr;
  for (;;) {
    if (!conn) {
      auto fresh = co_await connect(st);
      if (!fresh) {
        release(st, nullptr);
        co_return fresh.error();
      }
      conn = std::move(*fresh);
      pooled = false;
    } else {
      ++st->stats.reused;
    }

    Exchange x = co_await exchange_on(*conn, req, st->opts.request_timeout);
    if (!x.ec) {
      // Connection: close or HTTP/1.0 without keep-alive: the server will not take more.
      if (!x.response.keep_alive() || st->closed) retire(*st, std::move(conn), !st->closed);
      release(st, std::move(conn));
      co_return std::move(x.response);
    }
    retire(*st, std::move(conn), false);  // state unknown after an error (or timeout)
    // A pooled connection that fails before any response byte was most likely closed by the
    // server while idle: the request did not reach it, so send it once on a new connection.
    // A fresh connection is never retried; the caller owns retries.
    if (pooled && !x.got_bytes && closed_by_peer(x.ec)) {
      ++st->stats.retries;
      continue;
    }
    release(st, nullptr);
    co_return x.ec;
  }
}

bool is_verify_failure(error_code ec) {
  return ec.category() == asio::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

bool is_name_mismatch(long verify_result) {
  return verify_result == X509_V_ERR_HOSTNAME_MISMATCH || verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH ||
         verify_result == X509_V_ERR_EMAIL_MISMATCH;
}

// The kind of an error from request(); `last_verify` tells certificate failures apart.
ErrorKind classify(error_code ec, long last_verify) {
  if (!ec) return ErrorKind::none;
  if (ec == asio::error::timed_out) return ErrorKind::timeout;
  if (ec == asio::error::operation_aborted) return ErrorKind::cancelled;
  if (is_verify_failure(ec)) {
    return is_name_mismatch(last_verify) ? ErrorKind::certificate_name_mismatch
                                         : ErrorKind::certificate_untrusted;
  }
  if (ec.category() == asio::error::get_ssl_category()) return ErrorKind::tls;
  if (ec == asio::error::connection_refused || ec == asio::error::network_unreachable ||
      ec == asio::error::host_unreachable || ec == asio::error::network_down) {
    return ErrorKind::connect;
  }
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again ||
      ec == asio::error::no_data) {
    return ErrorKind::resolve;
  }
  if (ec == http::error::body_limit) return ErrorKind::too_big;
  if (closed_by_peer(ec)) return ErrorKind::closed;
  if (ec == http::error::partial_message) return ErrorKind::closed;  // in the middle of the answer
  if (ec.category() == make_error_code(http::error::bad_version).category()) return ErrorKind::protocol;
  return ErrorKind::other;
}

}  // namespace

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::none: return "none";
    case ErrorKind::bad_url: return "bad_url";
    case ErrorKind::bad_ca_file: return "bad_ca_file";
    case ErrorKind::bad_option: return "bad_option";
    case ErrorKind::tls_setup: return "tls_setup";
    case ErrorKind::resolve: return "resolve";
    case ErrorKind::connect: return "connect";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::certificate_untrusted: return "certificate_untrusted";
    case ErrorKind::certificate_name_mismatch: return "certificate_name_mismatch";
    case ErrorKind::tls: return "tls";
    case ErrorKind::closed: return "closed";
    case ErrorKind::too_big: return "too_big";
    case ErrorKind::protocol: return "protocol";
    case ErrorKind::cancelled: return "cancelled";
    case ErrorKind::other: return "other";
  }
  return "unknown";
}

HttpClient::HttpClient(asio::any_io_executor ex, ClientOptions opts) {
  Origin origin = parse_origin(opts.base_url);
  if (opts.pool_size == 0) throw ConfigError(ErrorKind::bad_option, "HTTP client pool_size must be at least 1");
  std::optional<ssl::context> ctx;
  // The CA file is checked even for http URLs: a bad setting should fail at start-up.
  if (origin.tls || !opts.ca_file.empty()) {
    try {
      ctx.emplace(make_client_tls_context(opts.ca_file, opts.verify_peer));
    } catch (const std::runtime_error& e) {
      // Everything make_client_tls_context() names is about the CA file, when there is one.
      throw ConfigError(opts.ca_file.empty() ? ErrorKind::tls_setup : ErrorKind::bad_ca_file, e.what());
    }
  }
  state_ = std::make_shared<ClientState>(std::move(ex), std::move(opts), std::move(origin));
  state_->tls_ctx = std::move(ctx);
}

HttpClient::~HttpClient() { close(); }

HttpClient& HttpClient::operator=(HttpClient&& other) {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

asio::awaitable<boost::system::result<Response>> HttpClient::request(RequestSpec spec) {
  // Not a coroutine itself: the frame must hold the shared state, not `this`.
  return run_request(state_, std::move(spec));
}

void HttpClient::close() {
  if (!state_) return;  // moved from
  auto& st = *state_;
  st.closed = true;
  for (auto& conn : st.idle) retire(st, std::move(conn), false);
  st.idle.clear();
  st.sweep_timer.cancel();
  auto waiters = std::move(st.waiters);
  st.waiters.clear();
  for (auto& w : waiters) w->timer.cancel();  // not granted: they return operation_aborted
}

HttpClient::Stats HttpClient::stats() const { return state_->stats; }

const std::string& HttpClient::origin() const { return state_->origin.display; }
const std::string& HttpClient::base_path() const { return state_->origin.base_path; }

ErrorKind HttpClient::kind(error_code ec) const { return classify(ec, state_->last_verify); }

std::string HttpClient::describe(error_code ec) const {
  const auto& st = *state_;
  const std::string& where = st.origin.display;
  const std::string generic = "HTTP request to " + where + " failed: " + ec.message();
  const ErrorKind k = kind(ec);
  switch (k) {
    case ErrorKind::none:
      return "no error";
    case ErrorKind::timeout:
      return "request to " + where + " timed out (connect timeout " +
             std::to_string(st.opts.connect_timeout.count()) + " ms, request timeout " +
             std::to_string(st.opts.request_timeout.count()) + " ms)";
    case ErrorKind::certificate_untrusted:
    case ErrorKind::certificate_name_mismatch: {
      std::string text = "TLS certificate of " + where + " not trusted (certificate verify failed";
      if (st.last_verify != X509_V_OK) text += std::string(": ") + X509_verify_cert_error_string(st.last_verify);
      text += "); ";
      if (k == ErrorKind::certificate_name_mismatch) {
        text += "the certificate is not issued for this host name or address; use one it lists";
      } else {
        text += st.opts.tls_hint.empty() ? "add the CA that signed it with the CA file setting, "
                                           "or fix the server certificate"
                                         : st.opts.tls_hint;
      }
      return text;
    }
    case ErrorKind::tls:
      return "TLS with " + where + " failed (" + ec.message() + "); is it an https server?";
    case ErrorKind::connect:
      if (ec != asio::error::connection_refused) return generic;
      return "cannot connect to " + where + ": connection refused; is the server running and the URL right?";
    case ErrorKind::resolve:
      return "cannot resolve the host of " + where + " (" + ec.message() + "); check the URL and DNS";
    case ErrorKind::cancelled:
      return "request to " + where + " cancelled: the HTTP client was closed";
    case ErrorKind::too_big:
      return "response from " + where + " is larger than " +
             std::to_string(max_response_body / (1024 * 1024)) + " MiB";
    case ErrorKind::closed:
      if (!closed_by_peer(ec)) return generic;  // a partial answer
      return where + " closed the connection before answering (" + ec.message() + ")";
    case ErrorKind::bad_url:  // constructor kinds: request() never returns them
    case ErrorKind::bad_ca_file:
    case ErrorKind::bad_option:
    case ErrorKind::tls_setup:
    case ErrorKind::protocol:
    case ErrorKind::other:
      break;
  }
  return generic;
}

}  // namespace zpark::net
