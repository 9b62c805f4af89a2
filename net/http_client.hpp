#pragma once
// HTTP/1.1 client for one origin (http or https, host, port, base path) with a keep-alive
// connection pool. Runs as C++20 coroutines on the caller's single-threaded executor: no
// locks, no threads. Used for the Webex API and the Zabbix JSON-RPC API.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zpark::net {

namespace http = boost::beast::http;
using Response = http::response<http::string_body>;

// Larger bodies fail with http::error::body_limit.
inline constexpr std::size_t max_response_body = 8 * 1024 * 1024;

struct ClientOptions {
  std::string base_url;       // "https://webexapis.com/v1", "http://127.0.0.1:8080/zabbix"; path prefix is kept
  std::size_t pool_size = 4;  // max connections (busy + idle) to that origin; more requests wait in FIFO order
  std::string ca_file;        // extra CA file (PEM); default system CA paths are always loaded too
  bool verify_peer = true;    // false only for self-signed Zabbix frontends (ZABBIX_TLS_CERT_VERIFY=false)
  std::chrono::milliseconds connect_timeout{5000};   // resolve+connect+handshake
  std::chrono::milliseconds request_timeout{30000};  // write+read of one request
  std::chrono::seconds idle_timeout{50};             // close pooled connections idle longer than this
  std::string user_agent = "zpark";
  // Advice appended by describe() to certificate failures, e.g. "set WEBEX_CA_FILE to the CA
  // that signed it". Empty: generic advice.
  std::string tls_hint;
};

struct RequestSpec {
  http::verb method = http::verb::get;
  std::string target;  // appended to the base path, may have ?query
  std::string body;
  std::string content_type = "application/json";  // sent when the body is not empty
  std::vector<std::pair<std::string, std::string>> headers;  // set after the defaults (may override)
};

// What went wrong, for callers that act differently on each: HttpClient::kind() for an error
// of request(), ConfigError::kind() for the constructor. describe() says it in words.
enum class ErrorKind {
  none,
  // The constructor:
  bad_url,      // base_url is not an http(s) URL with a host (and a usable port)
  bad_ca_file,  // ca_file missing, unreadable or holding no PEM certificate
  bad_option,   // another option out of range (pool_size 0)
  tls_setup,    // the TLS context could not be made (not about ca_file)
  // request():
  resolve,                    // the host name does not resolve
  connect,                    // no TCP connection: refused, unreachable
  timeout,                    // connect_timeout or request_timeout passed
  certificate_untrusted,      // the server's certificate failed the check: unknown CA, expired, ...
  certificate_name_mismatch,  // a valid certificate, but not for this host name or IP address
  tls,                        // any other TLS failure: not an https server, an alert from it
  closed,                     // the server closed or reset the connection before answering
  too_big,                    // the response is larger than max_response_body
  protocol,                   // the answer is not HTTP/1.x as Beast reads it
  cancelled,                  // the client was closed (or the caller cancelled)
  other,
};

std::string_view to_string(ErrorKind kind);

// Thrown by HttpClient's constructor: what() is the text for the operator (it names the URL
// or the file), kind() which option it is about.
class ConfigError : public std::invalid_argument {
 public:
  ConfigError(ErrorKind kind, const std::string& what) : std::invalid_argument(what), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

namespace detail {
struct ClientState;
}

class HttpClient {
public:
  // Throws ConfigError (a std::invalid_argument) with a clear text for a bad URL ("not an
  // http(s) URL: ..."), pool_size 0, or an unreadable ca_file (names the file).
  HttpClient(boost::asio::any_io_executor ex, ClientOptions opts);
  ~HttpClient();  // close(); requests in flight finish on their own and drop their connection
  HttpClient(HttpClient&&) noexcept = default;
  HttpClient& operator=(HttpClient&& other);  // closes the client it replaces
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Transport failures come back as error codes, never exceptions: timeouts as
  // boost::asio::error::timed_out, TLS verification failures as the ssl error, the client
  // closed as operation_aborted. HTTP error statuses are normal responses. A pooled
  // connection the server closed while idle is replaced and the request sent again once;
  // nothing else is retried. The client may be destroyed while this is suspended.
  boost::asio::awaitable<boost::system::result<Response>> request(RequestSpec spec);

  // Human text for an error from request(), naming host:port, e.g. "TLS certificate of
  // 127.0.0.1:8443 not trusted (certificate verify failed: ...); <tls_hint>".
  std::string describe(boost::system::error_code ec) const;

  // The kind of an error from request(), to act on without reading describe()'s text. A
  // failed certificate check is told apart by the last TLS handshake this client failed.
  ErrorKind kind(boost::system::error_code ec) const;

  // Shutdown: closes idle connections, fails queued requests and later ones with
  // operation_aborted; connections of requests in flight are closed when they finish.
  void close();

  struct Stats {
    std::uint64_t connects = 0;        // TCP connections established
    std::uint64_t tls_handshakes = 0;  // successful TLS handshakes
    std::uint64_t requests = 0;        // calls to request()
    std::uint64_t reused = 0;          // sends on a pooled connection
    std::uint64_t retries = 0;         // resends after a pooled connection turned out closed
  };
  Stats stats() const;

  const std::string& origin() const;  // "host:port" ("[::1]:8443"), for log lines
  const std::string& base_path() const;  // the base URL's path, "/v1", never ending in '/'

private:
  std::shared_ptr<detail::ClientState> state_;
};

}  // namespace zpark::net
