#pragma once
// HTTP/1.1 server: one io_context, one session coroutine per connection, keep-alive, limits
// (header 431, body 413 per route, a server-wide budget of body bytes, read and idle
// timeouts, max connections plus a small reserve for liveness probes) and graceful shutdown.
// Listens on TCP (optionally TLS) and unix sockets. Transport only: what a request means is
// the Handler's business.
#include "conf/listen.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zpark::net {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct ServerLimits {
  std::size_t max_connections = 1024;
  // Connections beyond max_connections that read one request and answer it only if the
  // handler says so (answer_when_full: /healthz), else 503; beyond these, 503 at once.
  std::size_t reserve_connections = 16;
  std::size_t header_limit = 8192;
  // Request body bytes all connections together may hold, counted from the declared
  // Content-Length (a chunked body counts as its route's limit); 503 beyond.
  std::size_t body_budget = std::size_t{64} << 20;
  // A new connection's first request, and every request from its first byte to the whole
  // request, must arrive within this.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10000};
};

// What the server reports about each finished exchange (for logs and metrics).
struct Exchange {
  std::string method;
  std::string target;
  unsigned status = 0;
  std::chrono::steady_clock::duration duration{};
};

// Called on the io_context's thread, and never after the HttpServer is destroyed (sessions
// that outlive it, e.g. destroyed with a stopped io_context, no longer report).
class Handler {
 public:
  virtual ~Handler() = default;
  // An answer decided from the header alone (401, 404, 405, ...), before any body is read or
  // 100 Continue sent; nullopt lets the request through. When a body was announced, the
  // connection is closed after this answer.
  virtual std::optional<Response> answer_from_header(const http::request_header<>& header);
  // Largest body accepted for this request, decided from its header (413 beyond).
  virtual std::size_t body_limit(const http::request_header<>& header) = 0;
  // Whether this request is still served on a reserve connection, i.e. when the connection
  // limit is reached (liveness probes); others get 503 there.
  virtual bool answer_when_full(const http::request_header<>& header);
  virtual boost::asio::awaitable<Response> handle(Request request) = 0;
  virtual void completed(const Exchange& exchange) = 0;
  virtual void connections_changed(std::size_t open) = 0;
  // A connection got 503 because the connection limit was reached.
  virtual void connection_refused();
};

// A JSON error answer {"message": text}, used for transport-level refusals.
Response json_error(http::status status, std::string_view message, unsigned version = 11);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Handler& handler, ServerLimits limits,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  // Detaches the handler: sessions still alive (they end with the io_context) no longer call it.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds; throws std::runtime_error naming the address on failure. Unix sockets: a stale
  // socket file is removed, a live one is an error; the file gets `socket_mode`.
  void listen(const conf::ListenAddress& address, unsigned socket_mode);
  // Actual addresses (port 0 resolved), e.g. "127.0.0.1:43121" or "unix:/run/zpark.sock".
  std::vector<std::string> addresses() const;
  void start();
  // Stops accepting, closes idle connections, lets requests in flight finish; returns when
  // every connection is gone or the deadline passed (then the rest are aborted, and those
  // waiting only for I/O are given a moment to end while the handler is still alive).
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds deadline);
  std::size_t open_connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace zpark::net
