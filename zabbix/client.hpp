#pragma once
// Zabbix JSON-RPC API client (POST <ZABBIX_SERVER_URL>/api_jsonrpc.php) for 5.x, 6.0 LTS and
// 7.x. It asks `apiinfo.version` first (without auth) and picks the dialect from the answer:
// the user.login parameter name, and whether the session id or API token travels in the
// "auth" field (before 6.4) or as "Authorization: Bearer" (6.4 on; the only way from 7.2).
// A password session that expires is renewed once, transparently, and the call sent again.
// A refused password pauses further logins (Options::login_pause) so Zabbix does not block
// the account while users keep retrying commands.
//
// Runs on the caller's single-threaded executor; errors come back as values whose message
// says what to do. Pure parts (request bodies, answers, dialects, session expiry) are plain
// functions below, tested without I/O.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/assert/source_location.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace zpark::zabbix {

// ---- errors --------------------------------------------------------------------------------

struct Error {
  enum class Kind {
    config,     // bad ZABBIX_SERVER_URL or unreadable ZABBIX_CA_FILE
    transport,  // no answer: connect, TLS, timeout
    http,       // an HTTP status other than 200 (wrong URL, proxy, ...)
    parse,      // the answer is not a JSON-RPC answer (not Zabbix's API?)
    rpc,        // Zabbix answered with {"error": ...}
    auth,       // login or API token refused
  };
  Kind kind = Kind::transport;
  std::string message;  // full human text, ready for a log line or a chat reply
  // For rpc and auth: Zabbix's own error (code, and "data" or else "message" text).
  int rpc_code = 0;
  std::string zabbix_text;
};

std::string_view to_string(Error::Kind kind);

// boost::system::result<T, Error>::value() throws std::runtime_error(message) through this.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

// ---- pure parts ----------------------------------------------------------------------------

struct Version {
  int major = 0;
  int minor = 0;
  std::string text;  // as Zabbix sent it, "6.0.14"
};

// "6.0.14", "7.0.0rc1", "5.4" -> {major, minor, text}; nullopt when it does not start with N.N.
std::optional<Version> parse_version(std::string_view text);

struct Dialect {
  std::string_view login_user_key = "username";  // user.login: "username" (5.4+) or "user"
  bool bearer = false;  // auth as "Authorization: Bearer" (6.4+), else in the "auth" field
};
Dialect dialect_for(const Version& v);

// Methods that must be sent without any auth (apiinfo.version refuses it).
bool needs_auth(std::string_view method);

// {"jsonrpc":"2.0","method":...,"params":...,"id":...} plus "auth" when `auth` is not empty.
std::string request_body(std::string_view method, const boost::json::value& params,
                         std::uint64_t id, std::string_view auth = {});

// The "result" of a JSON-RPC answer, or an Error: kind http for a status other than 200,
// parse for a body that is not a JSON-RPC answer, rpc for {"error":{code,message,data}}
// ("Zabbix API host.get failed: Invalid params. (Incorrect ...)"). `url` goes into the
// advice of http and parse errors.
Result<boost::json::value> parse_answer(std::string_view method, unsigned http_status,
                                        std::string_view body, std::string_view url);

// Zabbix's "Session terminated, re-login, please." or "Not authorised." (code -32602): the
// session id is no longer valid.
bool is_session_expired(const Error& e);

// The frontend URL without a trailing "/" or "/api_jsonrpc.php" (users paste either).
std::string frontend_url(std::string_view url);

// How long to refuse logins after `refusals` refused passwords in a row (1, 2, ...): `base`,
// doubled for each further refusal, at most 10 minutes (or `base` when that is longer); zero
// for no refusal or a zero base.
std::chrono::milliseconds login_pause_after(int refusals, std::chrono::milliseconds base);

// ---- the client ----------------------------------------------------------------------------

struct Options {
  std::string url = "http://localhost/zabbix";  // ZABBIX_SERVER_URL, the frontend's URL
  std::string username;                         // ZABBIX_USERNAME
  std::string password;                         // ZABBIX_PASSWORD
  std::string api_token;                        // ZABBIX_API_TOKEN; wins over username/password
  bool verify_tls = true;                       // ZABBIX_TLS_CERT_VERIFY
  std::string ca_file;                          // ZABBIX_CA_FILE
  std::chrono::milliseconds timeout{15000};     // connect, and then send+answer, of each call
  // After Zabbix refuses the password, logins within this pause (doubled on each further
  // refusal, up to 10 min; reset by a successful login) return the last error at once without
  // asking Zabbix: it blocks an account after a few failed logins, and a bot whose users keep
  // retrying commands must not get it blocked. Zero: no pause.
  std::chrono::milliseconds login_pause{60000};
  // The clock of the login pause; empty: std::chrono::steady_clock::now. For tests.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

namespace detail {
struct State;
}

class Client {
 public:
  // Never throws for bad options: a bad URL or CA file comes back from every call as a
  // config error.
  Client(boost::asio::any_io_executor ex, Options options);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // apiinfo.version ("6.0.14"), asked once and remembered; also picks the dialect.
  boost::asio::awaitable<Result<std::string>> version();

  // Proves the credentials: with a password user.login (afresh, even with a session already),
  // keeping the session id; with an API token user.checkAuthentication, which also tells
  // user(). call() logs in by itself; this is for `zpark check` and start-up checks.
  boost::asio::awaitable<Result<void>> login();

  // user.logout of a password session (nothing to do with a token or without a session).
  boost::asio::awaitable<Result<void>> logout();

  // One API call with auth as the server's version wants it; logs in first when needed and
  // once more when the session expired. Returns the answer's "result".
  boost::asio::awaitable<Result<boost::json::value>> call(std::string method,
                                                         boost::json::value params);

  // The same without any login, session renewal or auth: for apiinfo.version and for tests.
  // `auth` goes into the "auth" field or the Bearer header as the dialect wants.
  boost::asio::awaitable<Result<boost::json::value>> raw_call(std::string method,
                                                             boost::json::value params,
                                                             std::string auth);

  const std::string& url() const;  // the frontend URL, for messages
  bool uses_token() const;
  // The current session id or token for raw_call (tests); empty before login().
  const std::string& auth() const;
  // The user logged in as: ZABBIX_USERNAME, or the API token's user once login() proved it.
  const std::string& user() const;

  // Closes pooled connections; calls in flight fail. The destructor does this too, and calls
  // suspended at that moment finish with a transport error.
  void close();

 private:
  std::shared_ptr<detail::State> st_;
};

}  // namespace zpark::zabbix
