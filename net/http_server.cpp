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
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
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
  std::function<void()> cancel;  // aborts the session's pending I/O (set once it runs)
  bool idle = true;              // waiting for the next request (safe to close at shutdown)
  bool reserve = false;          // beyond max_connections: one request, answer_when_full or 503
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

// RFC 9112 §6.1–6.3: a body is framed by Content-Length or by chunked as the final (here: the
// only) transfer coding. Anything else would be served without its body, which is then read
// as the next request: request smuggling behind a proxy that frames it differently.
std::optional<std::string_view> framing_problem(const http::request_header<>& h) {
  auto [first, last] = h.equal_range(http::field::transfer_encoding);
  if (first == last) return std::nullopt;
  if (h.find(http::field::content_length) != h.end())
    return "Transfer-Encoding and Content-Length together are refused";
  if (std::next(first) != last || !beast::iequals(first->value(), "chunked"))
    return "Transfer-Encoding other than chunked is not supported";
  if (h.version() < 11) return "Transfer-Encoding needs HTTP/1.1";
  return std::nullopt;
}

Response too_large(std::size_t limit) {
  // "error" is the original Zpark's webhook answer, "message" ours.
  Response res{http::status::payload_too_large, 11};
  res.set(http::field::content_type, "application/json");
  boost::json::object body{{"error", "Too big"},
                           {"message", "Request body is larger than " + std::to_string(limit) + " bytes"}};
  res.body() = boost::json::serialize(body) + "\n";
  res.prepare_payload();
  return res;
}

Response busy(std::string_view message) {
  auto res = json_error(http::status::service_unavailable, message);
  res.set(http::field::retry_after, "1");
  return res;
}

// Version, Connection and Content-Length of an answer about to be written. An answer to HEAD
// has the length of what GET would send and no body (RFC 9110 §9.3.2), refusals included.
void finish(Response& res, unsigned version, bool keep_alive, bool head = false) {
  res.version(version);
  res.keep_alive(keep_alive);
  if (head && !res.body().empty()) {
    res.content_length(res.body().size());
    res.body().clear();
  }
  if (res.find(http::field::content_length) == res.end()) res.prepare_payload();
}

}  // namespace

std::optional<Response> Handler::answer_from_header(const http::request_header<>&) { return std::nullopt; }
bool Handler::answer_when_full(const http::request_header<>&) { return false; }
void Handler::connection_refused() {}

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
  Handler* handler;  // null once the HttpServer is destroyed: late sessions must not call it
  ServerLimits limits;
  std::shared_ptr<asio::ssl::context> tls;
  std::list<tcp::acceptor> tcp_acceptors;
  std::list<local::acceptor> unix_acceptors;
  std::vector<std::string> unix_paths;
  std::list<SessionEntry> sessions;  // regular and reserve
  std::size_t reserve_open = 0;      // how many of `sessions` are on reserve connections
  std::size_t body_bytes = 0;        // declared body bytes of the requests being received
  std::size_t bodies_since_trim = 0;  // body bytes released since memory was last given back
  bool stopping = false;
  bool aborting = false;  // shutdown deadline passed: close at once, no TLS goodbye or draining
  // Connection-limit refusals since the last log line, logged at most every 10 s.
  std::uint64_t refused_unlogged = 0;
  std::optional<std::chrono::steady_clock::time_point> refused_logged_at;

  State(asio::io_context& i, Handler& h, ServerLimits l, std::shared_ptr<asio::ssl::context> t)
      : io(i), handler(&h), limits(l), tls(std::move(t)) {}
};

namespace {

using StatePtr = std::shared_ptr<HttpServer::State>;

// At the connection limit the refusals can come by the thousand: one line per 10 s, with
// the count, is enough to see it and to act.
void note_refused(HttpServer::State& st) {
  if (auto* h = st.handler) h->connection_refused();
  ++st.refused_unlogged;
  const auto now = std::chrono::steady_clock::now();
  if (st.refused_logged_at && now - *st.refused_logged_at < std::chrono::seconds(10)) return;
  log::warn("connection limit reached, answering 503",
            {{"limit", st.limits.max_connections},
             {"refused", st.refused_unlogged},
             {"hint", "raise ZPARK_MAX_CONNECTIONS if these clients are legitimate"}});
  st.refused_unlogged = 0;
  st.refused_logged_at = now;
}

// Registers the session for shutdown and connection counting for its whole lifetime; made
// when the connection is accepted, so the count is right before the session first runs.
class SessionGuard {
 public:
  SessionGuard(StatePtr st, bool reserve) : st_(std::move(st)) {
    it_ = st_->sessions.insert(st_->sessions.end(), SessionEntry{{}, true, reserve});
    if (reserve) ++st_->reserve_open;
    notify();
  }
  SessionGuard(SessionGuard&& other) noexcept : st_(std::move(other.st_)), it_(other.it_) {}
  SessionGuard& operator=(SessionGuard&&) = delete;
  ~SessionGuard() {
    if (!st_) return;
    if (it_->reserve) --st_->reserve_open;
    st_->sessions.erase(it_);
    notify();
  }
  void set_cancel(std::function<void()> cancel) { it_->cancel = std::move(cancel); }
  void set_idle(bool idle) { it_->idle = idle; }
  bool reserve() const { return it_->reserve; }

 private:
  void notify() {
    if (auto* h = st_->handler) h->connections_changed(st_->sessions.size());
  }
  StatePtr st_;
  std::list<SessionEntry>::iterator it_;
};

// Body bytes one request holds of the server-wide budget; given back by release() or the
// destructor.
class BodyBudget {
 public:
  explicit BodyBudget(HttpServer::State& st) : st_(st) {}
  ~BodyBudget() { release(); }
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;
  bool take(std::uint64_t n) {
    const auto free = st_.limits.body_budget - std::min(st_.body_bytes, st_.limits.body_budget);
    if (n > free) return false;
    held_ = static_cast<std::size_t>(n);
    st_.body_bytes += held_;
    return true;
  }
  void release() {
    st_.body_bytes -= held_;
    st_.bodies_since_trim += held_;
    held_ = 0;
    give_back_memory();
  }

 private:
  // Big bodies live in heap pages that glibc keeps after they are freed: a burst of 1 MiB
  // uploads would leave the process at its peak for good. Once no body is held any more and
  // many MiB went through, hand the free pages back (a few ms, at most once per 16 MiB).
  void give_back_memory() {
    constexpr std::size_t kTrimAfterBytes = std::size_t{16} << 20;
    if (st_.body_bytes != 0 || st_.bodies_since_trim < kTrimAfterBytes) return;
    st_.bodies_since_trim = 0;
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
  }

  HttpServer::State& st_;
  std::size_t held_ = 0;
};

template <class Stream>
awaitable<void> write_and_report(StatePtr st, Stream& stream, Response res, std::string method,
                                 std::string target, std::chrono::steady_clock::time_point started,
                                 boost::system::error_code& ec) {
  beast::get_lowest_layer(stream).expires_after(st->limits.write_timeout);
  auto [wec, n] = co_await http::async_write(stream, res, tuple);
  (void)n;
  ec = wec;
  if (auto* h = st->handler)
    h->completed(Exchange{std::move(method), std::move(target), res.result_int(),
                          std::chrono::steady_clock::now() - started});
}

// Closing a socket with unread input makes the kernel answer with a reset, and a client still
// sending its body may then lose the answer we wrote. So, after our FIN, read and discard
// what is still coming for a short while (nginx's "lingering close"), in a fixed buffer.
template <class Lowest>
awaitable<void> drain(Lowest& lowest) {
  std::array<char, 4096> sink;
  lowest.expires_after(std::chrono::seconds(2));
  for (std::size_t total = 0; total < (std::size_t{4} << 20);) {
    auto [ec, n] = co_await lowest.async_read_some(asio::buffer(sink), tuple);
    if (ec) break;
    total += n;
  }
}

// A session's buffer only needs to hold a header and some pipelined bytes; after a large
// request it gives the rest back instead of keeping it for the life of the connection.
constexpr std::size_t kKeptBufferBytes = 16384;

template <class Stream>
awaitable<void> run_session(StatePtr st, Stream stream, SessionGuard guard) {
  auto& lowest = beast::get_lowest_layer(stream);
  guard.set_cancel([&lowest] { lowest.cancel(); });
  const auto& lim = st->limits;
  beast::flat_buffer buffer;
  bool linger = false;  // closing with a request body unread: drain() before close

  if constexpr (is_ssl<Stream>::value) {
    lowest.expires_after(lim.read_timeout);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, tuple);
    if (ec) co_return;
  }

  for (bool first = true;; first = false) {
    if (st->stopping) break;
    // Idle: wait for the first byte of the next request. A new connection gets the read
    // timeout: silent connections must not hold their slots for the whole idle timeout.
    guard.set_idle(true);
    if (buffer.size() == 0) {
      lowest.expires_after(first ? lim.read_timeout : lim.idle_timeout);
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
        auto res = json_error(http::status::request_header_fields_too_large, "Request header fields too large");
        finish(res, 11, false);
        co_await write_and_report(st, stream, std::move(res), "-", "-", started, wec);
        linger = true;
        break;
      }
      if (ec && is_quiet_close(ec)) break;
      if (ec) {
        auto res = json_error(http::status::bad_request, "Malformed HTTP request");
        finish(res, 11, false);
        co_await write_and_report(st, stream, std::move(res), "-", "-", started, wec);
        linger = true;
        break;
      }
    }
    Handler* h = st->handler;
    if (!h) break;
    const auto& header = parser.get();
    std::string method(header.method_string());
    std::string target(header.target());
    const unsigned version = header.version();
    const bool head = header.method() == http::verb::head;
    const bool body_unread = !parser.is_done();

    // Decided from the header alone, so that no body is read (or invited with 100 Continue)
    // for a request that will be refused anyway: framing, connection limit, token, route,
    // size, and the budget all connections share.
    BodyBudget budget(*st);
    std::optional<Response> answer;
    bool close = true;
    std::size_t limit = 0;
    if (auto why = framing_problem(header)) {
      answer = json_error(http::status::bad_request, *why);
    } else if (guard.reserve() && (body_unread || !h->answer_when_full(header))) {
      note_refused(*st);
      answer = busy("Too many connections; try again later");
    } else if ((answer = h->answer_from_header(header))) {
      close = body_unread;
    } else {
      limit = h->body_limit(header);
      const auto length = parser.content_length();
      if (length && *length > limit) answer = too_large(limit);  // the body was not read
      else if (!budget.take(length ? *length : body_unread ? limit : 0))
        answer = busy("Too many request bodies are being received; try again shortly");
    }
    if (answer) {
      const bool keep_alive = !close && header.keep_alive() && !st->stopping && !guard.reserve();
      finish(*answer, version, keep_alive, head);
      co_await write_and_report(st, stream, std::move(*answer), method, target, started, wec);
      if (wec || !keep_alive) {
        linger = close;  // refused: whatever follows the header is not for us
        break;
      }
      continue;
    }

    parser.body_limit(limit);
    if (body_unread) {
      if (beast::iequals(header[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        auto [ec, n] = co_await http::async_write(stream, cont, tuple);
        (void)n;
        if (ec) break;
      }
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, tuple);
      (void)n;
      if (ec == http::error::body_limit) {
        auto res = too_large(limit);
        finish(res, version, false, head);
        co_await write_and_report(st, stream, std::move(res), method, target, started, wec);
        linger = true;
        break;
      }
      if (ec && is_quiet_close(ec)) break;
      if (ec) {
        auto res = json_error(http::status::bad_request, "Malformed HTTP request body");
        finish(res, version, false, head);
        co_await write_and_report(st, stream, std::move(res), method, target, started, wec);
        linger = true;
        break;
      }
    }
    if (buffer.capacity() > kKeptBufferBytes) buffer.shrink_to_fit();
    h = st->handler;  // the server may have gone while the body arrived
    if (!h) break;

    Request req = parser.release();
    const bool keep_alive = req.keep_alive();
    Response res;
    try {
      res = co_await h->handle(std::move(req));
    } catch (const std::exception& e) {
      log::error("request failed", {{"method", method}, {"path", target}, {"error", e.what()}});
      res = json_error(http::status::internal_server_error, "Internal Server Error", version);
    }
    budget.release();  // the body went with the request into the handler, and is gone
    finish(res, version, keep_alive && !st->stopping && !guard.reserve(), head);
    co_await write_and_report(st, stream, std::move(res), method, target, started, wec);
    if (wec || !keep_alive || st->stopping || guard.reserve()) break;
  }

  // Orderly close: TLS close_notify (bounded), or TCP FIN and draining what the client is
  // still sending; at once when the shutdown deadline has passed.
  boost::system::error_code ignored;
  if (!st->aborting) {
    guard.set_idle(true);  // nothing of value left: shutdown may cut this short
    if constexpr (is_ssl<Stream>::value) {
      lowest.expires_after(std::chrono::seconds(1));
      auto [ec] = co_await stream.async_shutdown(tuple);
      (void)ec;
    } else {
      lowest.socket().shutdown(asio::socket_base::shutdown_send, ignored);
      if (linger) co_await drain(lowest);
    }
  }
  lowest.close();
}

template <class Stream>
awaitable<void> refuse_busy(Stream stream) {
  stream.expires_after(std::chrono::seconds(2));
  auto res = busy("Too many connections; try again later");
  res.keep_alive(false);
  auto [ec, n] = co_await http::async_write(stream, res, tuple);
  (void)ec;
  (void)n;
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::socket_base::shutdown_send, ignored);
}

enum class Slot { regular, reserve, none };

Slot admit(const HttpServer::State& st) {
  const auto regular = st.sessions.size() - st.reserve_open;
  if (regular < st.limits.max_connections) return Slot::regular;
  if (st.reserve_open < st.limits.reserve_connections) return Slot::reserve;
  return Slot::none;
}

// Starts the session for a TCP connection: TLS or plain; beyond the connection limit on a
// reserve connection, and beyond that a 503 at once (TLS: closed, a 503 needs a handshake).
void start_session(StatePtr st, tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  const auto slot = admit(*st);
  if (slot == Slot::none) {
    note_refused(*st);
    if (!st->tls) spawn_logged(st->io, refuse_busy(std::move(stream)), "refuse");
    return;
  }
  SessionGuard guard(st, slot == Slot::reserve);
  if (st->tls)
    spawn_logged(st->io,
                 run_session(st, beast::ssl_stream<beast::tcp_stream>(std::move(stream), *st->tls), std::move(guard)),
                 "session");
  else
    spawn_logged(st->io, run_session(st, std::move(stream), std::move(guard)), "session");
}

void start_session(StatePtr st, local::socket socket) {
  beast::basic_stream<local> stream(std::move(socket));
  const auto slot = admit(*st);
  if (slot == Slot::none) {
    note_refused(*st);
    spawn_logged(st->io, refuse_busy(std::move(stream)), "refuse");
    return;
  }
  SessionGuard guard(st, slot == Slot::reserve);
  spawn_logged(st->io, run_session(st, std::move(stream), std::move(guard)), "session");
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
  // Sessions may outlive the server: the service stops the io_context after shutdown and
  // destroys the handler before it, so a session aborted at the deadline ends only with the
  // io_context. From here on none of them calls the handler.
  auto& st = *state_;
  st.handler = nullptr;
  st.stopping = true;
  st.aborting = true;
  boost::system::error_code ignored;
  for (auto& a : st.tcp_acceptors) a.close(ignored);
  for (auto& a : st.unix_acceptors) a.close(ignored);
  for (auto& s : st.sessions)
    if (s.cancel) s.cancel();
  std::error_code ec;
  for (auto& p : st.unix_paths) std::filesystem::remove(p, ec);
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
  auto cancel_idle = [&st] {
    for (auto& s : st->sessions)
      if (s.idle && s.cancel) s.cancel();
  };
  cancel_idle();
  asio::steady_timer timer(st->io);
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!st->sessions.empty() && std::chrono::steady_clock::now() < until) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(tuple);
    cancel_idle();
  }
  if (st->sessions.empty()) co_return;
  // Deadline passed: abort the rest. Those waiting for I/O end within a turn or two; let
  // them, so that they report to a handler that is still alive. Those waiting inside the
  // handler end when it answers, or with the io_context (see ~HttpServer).
  st->aborting = true;
  for (auto& s : st->sessions)
    if (s.cancel) s.cancel();
  for (int i = 0; i < 10 && !st->sessions.empty(); ++i) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(tuple);
  }
}

std::size_t HttpServer::open_connections() const { return state_->sessions.size(); }

}  // namespace zpark::net
