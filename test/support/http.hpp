#pragma once
// Blocking HTTP/1.1 client for tests: TCP or unix socket, keep-alive, raw bytes, and a
// receive timeout so a broken server fails the test instead of hanging it.
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace zpark::test {

namespace http = boost::beast::http;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Reply {
  unsigned status = 0;
  std::string body;
  http::fields headers;
  bool keep_alive = true;
  boost::json::value json() const;
};

class Connection {
 public:
  // `address` is "127.0.0.1:PORT", "[::1]:PORT" or "unix:/path".
  explicit Connection(const std::string& address,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  Reply request(http::verb method, const std::string& target, const std::string& body = {},
                const Headers& headers = {}, const std::string& content_type = "application/json");
  void send_raw(const std::string& bytes);
  // Reads one response after send_raw.
  Reply read_reply(bool head = false);
  // True when the server closed the connection within `within` (reads EOF or reset).
  bool closed_by_peer(std::chrono::milliseconds within);

 private:
  boost::asio::io_context io_;
  boost::asio::generic::stream_protocol::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// One request on a fresh connection.
Reply request(const std::string& address, http::verb method, const std::string& target,
              const std::string& body = {}, const Headers& headers = {});

}  // namespace zpark::test
