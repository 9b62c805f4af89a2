#pragma once
// HTTP/1.1 server: one io_context, one session coroutine per connection, keep-alive, limits
// (header 431, body 413 per route, read and idle timeouts, max connections) and graceful
// shutdown. Listens on TCP (optionally TLS) and unix sockets. Transport only: what a request
// means is the Handler's business.
#include "conf/listen.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <vector>

namespace zpark::net {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct ServerLimits {
  std::size_t max_connections = 1024;
  std::size_t header_limit = 8192;
  std::chrono::milliseconds read_timeout{10000};   // from the first byte to the whole request
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

class Handler {
 public:
  virtual ~Handler() = default;
  // Largest body accepted for this request, decided from its header (413 beyond).
  virtual std::size_t body_limit(const http::request_header<>& header) = 0;
  virtual boost::asio::awaitable<Response> handle(Request request) = 0;
  virtual void completed(const Exchange& exchange) = 0;
  virtual void connections_changed(std::size_t open) = 0;
};

// A JSON error answer {"message": text}, used for transport-level refusals.
Response json_error(http::status status, std::string_view message, unsigned version = 11);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Handler& handler, ServerLimits limits,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~HttpServer();

  // Binds; throws std::runtime_error naming the address on failure. Unix sockets: a stale
  // socket file is removed, a live one is an error; the file gets `socket_mode`.
  void listen(const conf::ListenAddress& address, unsigned socket_mode);
  // Actual addresses (port 0 resolved), e.g. "127.0.0.1:43121" or "unix:/run/zpark.sock".
  std::vector<std::string> addresses() const;
  void start();
  // Stops accepting, closes idle connections, lets requests in flight finish; returns when
  // every connection is gone or the deadline passed.
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds deadline);
  std::size_t open_connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace zpark::net
