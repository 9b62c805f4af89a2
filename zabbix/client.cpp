#include "zabbix/client.hpp"

#include "conf/log.hpp"
#include "net/http_client.hpp"
#include "zabbix/http_options.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <stdexcept>
#include <utility>

namespace zpark::zabbix {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = boost::beast::http;
using asio::awaitable;

// ---- errors --------------------------------------------------------------------------------

std::string_view to_string(Error::Kind kind) {
  switch (kind) {
    case Error::Kind::config: return "config";
    case Error::Kind::transport: return "transport";
    case Error::Kind::http: return "http";
    case Error::Kind::parse: return "parse";
    case Error::Kind::rpc: return "rpc";
    case Error::Kind::auth: return "auth";
  }
  return "unknown";
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

namespace {

Error make_error(Error::Kind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// A short, printable excerpt of an unexpected answer for error messages.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 80)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (body.size() > 80) out += "...";
  return out.empty() ? "an empty body" : "'" + out + "'";
}

std::string string_member(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

}  // namespace

// ---- pure parts ----------------------------------------------------------------------------

std::optional<Version> parse_version(std::string_view text) {
  Version v;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  auto major = std::from_chars(p, end, v.major);
  if (major.ec != std::errc{} || major.ptr == end || *major.ptr != '.') return std::nullopt;
  auto minor = std::from_chars(major.ptr + 1, end, v.minor);
  if (minor.ec != std::errc{}) return std::nullopt;
  v.text = std::string(text);
  return v;
}

Dialect dialect_for(const Version& v) {
  const auto at_least = [&](int major, int minor) {
    return v.major > major || (v.major == major && v.minor >= minor);
  };
  Dialect d;
  d.login_user_key = at_least(5, 4) ? "username" : "user";
  d.bearer = at_least(6, 4);
  return d;
}

bool needs_auth(std::string_view method) {
  return method != "apiinfo.version" && method != "user.login" &&
         method != "user.checkAuthentication";
}

std::string request_body(std::string_view method, const json::value& params, std::uint64_t id,
                         std::string_view auth) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["method"] = method;
  o["params"] = params;
  if (!auth.empty()) o["auth"] = auth;
  o["id"] = id;
  return json::serialize(o);
}

Result<json::value> parse_answer(std::string_view method, unsigned http_status,
                                 std::string_view body, std::string_view url) {
  const std::string endpoint = std::string(url) + "/api_jsonrpc.php";
  boost::system::error_code ec;
  json::value answer = json::parse(body, ec);
  const json::object* o = !ec ? answer.if_object() : nullptr;

  // Zabbix answers errors with 200, but a proxy or a newer frontend may not: an error object
  // is the better text whatever the status.
  if (o) {
    if (auto* err = o->if_contains("error"); err && err->is_object()) {
      const auto& eo = err->get_object();
      Error e;
      e.kind = Error::Kind::rpc;
      if (auto* code = eo.if_contains("code"); code && code->is_int64())
        e.rpc_code = static_cast<int>(code->get_int64());
      const std::string message = string_member(eo, "message");
      const std::string data = string_member(eo, "data");
      e.zabbix_text = data.empty() ? message : data;
      e.message = fmt::format("Zabbix API {} failed: {}", method, e.zabbix_text);
      if (!data.empty() && !message.empty()) e.message += fmt::format(" ({} code {})", message, e.rpc_code);
      return e;
    }
  }
  if (http_status != 200) {
    return make_error(Error::Kind::http,
                      fmt::format("Zabbix API at {} answered HTTP {} to {}; check ZABBIX_SERVER_URL "
                                  "(the frontend's URL, e.g. http://zabbix.example.com/zabbix)",
                                  endpoint, http_status, method));
  }
  if (!o) {
    return make_error(Error::Kind::parse,
                      fmt::format("{} answered {} with {}, not JSON-RPC; is ZABBIX_SERVER_URL the "
                                  "Zabbix frontend's URL?",
                                  endpoint, method, excerpt(body)));
  }
  if (auto* result = o->if_contains("result")) return *result;
  return make_error(Error::Kind::parse,
                    fmt::format("{} answered {} without \"result\" or \"error\": {}", endpoint,
                                method, excerpt(body)));
}

bool is_session_expired(const Error& e) {
  if (e.kind != Error::Kind::rpc) return false;
  if (contains(e.zabbix_text, "Session terminated, re-login")) return true;
  // 6.0 spells it "Not authorized.", older frontends "Not authorised."
  return e.rpc_code == -32602 &&
         (contains(e.zabbix_text, "Not authorized") || contains(e.zabbix_text, "Not authorised"));
}

std::chrono::milliseconds login_pause_after(int refusals, std::chrono::milliseconds base) {
  using std::chrono::milliseconds;
  if (refusals <= 0 || base <= milliseconds::zero()) return milliseconds::zero();
  const milliseconds cap = std::max<milliseconds>(base, std::chrono::minutes(10));
  milliseconds pause = base;
  for (int i = 1; i < refusals && pause < cap; ++i) pause *= 2;
  return std::min(pause, cap);
}

std::string frontend_url(std::string_view url) {
  while (!url.empty() && (url.back() == ' ' || url.back() == '/')) url.remove_suffix(1);
  constexpr std::string_view api = "/api_jsonrpc.php";
  if (url.ends_with(api)) url.remove_suffix(api.size());
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

// ---- the client ----------------------------------------------------------------------------

namespace detail {

struct State {
  State(const asio::any_io_executor& ex, Options o)
      : opts(std::move(o)),
        url(frontend_url(opts.url)),
        login_done(ex, asio::steady_timer::time_point::max()) {}

  Options opts;
  std::string url;
  std::optional<net::HttpClient> http;
  std::optional<Error> config_error;
  bool closed = false;

  std::optional<Version> version;
  Dialect dialect;
  std::string auth;  // session id or API token; empty: not logged in
  std::string user;  // who we are logged in as, once known
  std::uint64_t next_id = 1;

  // One login at a time: calls that need one while it runs wait on login_done (cancelled when
  // it finishes) and take its result, so a wrong password is tried once, not once per call
  // that was waiting.
  bool login_running = false;
  asio::steady_timer login_done;
  Result<void> last_login;
  std::uint64_t logins_done = 0;

  // Login pause (Options::login_pause): refused passwords in a row, and until when further
  // logins answer `refused` without asking Zabbix.
  int refusals = 0;
  std::chrono::steady_clock::time_point paused_until{};
  Error refused;

  std::chrono::steady_clock::time_point now() const {
    return opts.clock ? opts.clock() : std::chrono::steady_clock::now();
  }
};

}  // namespace detail

namespace {

using detail::State;
using StatePtr = std::shared_ptr<State>;

Error closed_error(const State& st) {
  return make_error(Error::Kind::transport, "Zabbix client for " + st.url + " was closed");
}

Error transport_error(const State& st, boost::system::error_code ec) {
  std::string text = fmt::format("cannot reach the Zabbix API at ZABBIX_SERVER_URL={}: {}",
                                 st.url, st.http->describe(ec));
  // Only a failed check of the server's certificate can be skipped. For an untrusted one the
  // HTTP client's advice (tls_hint, below) says so already; a name mismatch gets it here.
  if (st.http->kind(ec) == net::ErrorKind::certificate_name_mismatch) {
    text += "; or set ZABBIX_TLS_CERT_VERIFY=false to skip the check";
  }
  return make_error(Error::Kind::transport, std::move(text));
}

Error token_refused(const Error& e) {
  Error out = e;
  out.kind = Error::Kind::auth;
  out.message = fmt::format(
      "Zabbix refused ZABBIX_API_TOKEN: {} (check the token: wrong, expired or disabled, or its "
      "user disabled)",
      e.zabbix_text);
  return out;
}

awaitable<Result<json::value>> raw_call(StatePtr st, std::string method, json::value params,
                                        std::string auth) {
  if (st->config_error) co_return *st->config_error;
  if (st->closed) co_return closed_error(*st);
  net::RequestSpec spec;
  spec.method = http::verb::post;
  spec.target = "/api_jsonrpc.php";
  spec.content_type = "application/json-rpc";
  const bool send_auth = !auth.empty() && needs_auth(method);
  const bool bearer = send_auth && st->dialect.bearer;
  spec.body = request_body(method, params, st->next_id++, send_auth && !bearer ? auth : "");
  if (bearer) spec.headers.emplace_back("Authorization", "Bearer " + auth);
  auto answer = co_await st->http->request(std::move(spec));
  if (!answer) co_return transport_error(*st, answer.error());
  co_return parse_answer(method, answer->result_int(), answer->body(), st->url);
}

awaitable<Result<std::string>> ensure_version(StatePtr st) {
  if (st->version) co_return st->version->text;
  json::value no_params = json::array();
  std::string no_auth;
  auto answer = co_await raw_call(st, "apiinfo.version", std::move(no_params), std::move(no_auth));
  if (!answer) co_return answer.error();
  const auto* text = answer->if_string();
  auto version = text ? parse_version(*text) : std::nullopt;
  if (!version) {
    co_return make_error(Error::Kind::parse,
                         fmt::format("{}/api_jsonrpc.php answered apiinfo.version with {}, not a "
                                     "Zabbix version",
                                     st->url, json::serialize(*answer)));
  }
  st->dialect = dialect_for(*version);
  st->version = std::move(version);
  co_return st->version->text;
}

// Proves the token (user.checkAuthentication takes it from 5.4 on, without auth).
awaitable<Result<void>> check_token(StatePtr st) {
  json::value params = {{"token", st->opts.api_token}};
  std::string no_auth;
  auto answer = co_await raw_call(st, "user.checkAuthentication", std::move(params), std::move(no_auth));
  if (!answer) {
    if (answer.error().kind == Error::Kind::rpc) co_return token_refused(answer.error());
    co_return answer.error();
  }
  st->auth = st->opts.api_token;
  if (const auto* o = answer->if_object()) st->user = string_member(*o, "username");
  log::info("zabbix API token accepted",
            {{"url", st->url}, {"user", st->user}, {"version", st->version->text}});
  co_return Result<void>();
}

awaitable<Result<void>> password_login(StatePtr st) {
  if (st->opts.username.empty()) {
    co_return make_error(Error::Kind::auth,
                         "Zabbix login needs ZABBIX_USERNAME and ZABBIX_PASSWORD, or ZABBIX_API_TOKEN");
  }
  json::object credentials;
  credentials[st->dialect.login_user_key] = st->opts.username;
  credentials["password"] = st->opts.password;
  json::value params = std::move(credentials);
  std::string no_auth;
  auto answer = co_await raw_call(st, "user.login", std::move(params), std::move(no_auth));
  if (!answer) {
    Error e = answer.error();
    if (e.kind != Error::Kind::rpc) co_return e;  // no answer: Zabbix counted no failed login
    e.kind = Error::Kind::auth;
    e.message = fmt::format("Zabbix login failed: {} (check ZABBIX_USERNAME/ZABBIX_PASSWORD)",
                            e.zabbix_text);
    ++st->refusals;
    const auto pause = login_pause_after(st->refusals, st->opts.login_pause);
    st->paused_until = st->now() + pause;
    st->refused = e;
    if (pause.count() > 0) {
      log::warn("zabbix login refused; pausing logins",
                {{"url", st->url},
                 {"user", st->opts.username},
                 {"refusals", st->refusals},
                 {"pause_s", std::chrono::ceil<std::chrono::seconds>(pause).count()}});
    }
    co_return e;
  }
  const auto* session = answer->if_string();
  if (!session || session->empty()) {
    co_return make_error(Error::Kind::parse,
                         fmt::format("Zabbix answered user.login with {}, not a session id",
                                     excerpt(json::serialize(*answer))));
  }
  st->auth = std::string(*session);
  st->user = st->opts.username;
  st->refusals = 0;
  st->paused_until = {};
  log::info("zabbix login",
            {{"url", st->url}, {"user", st->user}, {"version", st->version->text}});
  co_return Result<void>();
}

// Logs in unless the session that failed (`stale`) was already replaced by another call's
// login; a login already under way is waited for and its result taken.
awaitable<Result<void>> login(StatePtr st, std::string stale) {
  const std::uint64_t logins_before = st->logins_done;
  for (;;) {
    if (st->login_running) {
      co_await st->login_done.async_wait(asio::as_tuple(asio::use_awaitable));
      if (st->closed) co_return closed_error(*st);
      co_return st->last_login;
    }
    // A login finished while this one waited for the version: its result is ours too.
    if (st->logins_done != logins_before) co_return st->last_login;
    if (!st->auth.empty() && st->auth != stale) co_return Result<void>();
    if (st->version) break;
    auto version = co_await ensure_version(st);  // may let another login start or finish
    if (!version) co_return version.error();
  }
  if (st->opts.api_token.empty() && st->refusals > 0) {
    // Within the pause after a refused password: the same answer, without asking Zabbix.
    const auto now = st->now();
    if (now < st->paused_until) {
      const auto left = std::chrono::ceil<std::chrono::seconds>(st->paused_until - now);
      Error e = st->refused;
      e.message += fmt::format("; Zpark tries again in {} s, not sooner, so that Zabbix does not "
                               "block the account",
                               left.count());
      co_return e;
    }
  }
  st->login_running = true;
  st->auth.clear();
  Result<void> result;
  if (st->opts.api_token.empty()) {
    result = co_await password_login(st);
  } else {
    result = co_await check_token(st);
  }
  st->login_running = false;
  st->last_login = result;
  ++st->logins_done;
  st->login_done.cancel();  // wakes the calls waiting for this login
  co_return result;
}

awaitable<Result<json::value>> call(StatePtr st, std::string method, json::value params) {
  if (!needs_auth(method)) {
    std::string no_auth;
    co_return co_await raw_call(st, std::move(method), std::move(params), std::move(no_auth));
  }
  const bool token = !st->opts.api_token.empty();
  if (st->auth.empty()) {
    if (token) {
      // No need to prove a token before using it: a refusal says the same.
      auto version = co_await ensure_version(st);
      if (!version) co_return version.error();
      st->auth = st->opts.api_token;
    } else {
      auto logged_in = co_await login(st, "");
      if (!logged_in) co_return logged_in.error();
    }
  }
  std::string used = st->auth;
  auto answer = co_await raw_call(st, method, params, used);
  if (answer || answer.error().kind != Error::Kind::rpc) co_return answer;
  const Error e = answer.error();  // error() returns a copy
  if (token) {
    if (is_session_expired(e) || contains(e.zabbix_text, "API token expired"))
      co_return token_refused(e);
    co_return answer;
  }
  if (!is_session_expired(e)) co_return answer;
  log::warn("zabbix session expired, logging in again", {{"url", st->url}, {"method", method}});
  auto logged_in = co_await login(st, std::move(used));
  if (!logged_in) co_return logged_in.error();
  co_return co_await raw_call(st, std::move(method), std::move(params), st->auth);
}

awaitable<Result<void>> logout(StatePtr st) {
  if (!st->opts.api_token.empty() || st->auth.empty()) co_return Result<void>();
  std::string session = std::move(st->auth);
  st->auth.clear();
  json::value no_params = json::array();
  auto answer = co_await raw_call(st, "user.logout", std::move(no_params), std::move(session));
  if (!answer && !is_session_expired(answer.error())) co_return answer.error();
  co_return Result<void>();
}

}  // namespace

Client::Client(asio::any_io_executor ex, Options options)
    : st_(std::make_shared<State>(ex, std::move(options))) {
  try {
    st_->http.emplace(ex, http_options(st_->url, st_->opts.ca_file, st_->opts.verify_tls, st_->opts.timeout, 4));
  } catch (const net::ConfigError& e) {
    std::string text;
    switch (e.kind()) {
      case net::ErrorKind::bad_url:
        text = fmt::format("ZABBIX_SERVER_URL is not usable: {}", e.what());
        break;
      case net::ErrorKind::bad_ca_file:
        text = fmt::format("ZABBIX_CA_FILE is not usable: {}", e.what());
        break;
      default:  // not a setting of ours (TLS library, pool size): say what failed, where
        text = fmt::format("cannot set up the Zabbix API client for ZABBIX_SERVER_URL={}: {}", st_->url, e.what());
        break;
    }
    st_->config_error = make_error(Error::Kind::config, std::move(text));
  }
}

Client::~Client() { close(); }
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    close();
    st_ = std::move(other.st_);
  }
  return *this;
}

awaitable<Result<std::string>> Client::version() { return ensure_version(st_); }

awaitable<Result<void>> Client::login() { return zabbix::login(st_, st_->auth); }

awaitable<Result<void>> Client::logout() { return zabbix::logout(st_); }

awaitable<Result<json::value>> Client::call(std::string method, json::value params) {
  return zabbix::call(st_, std::move(method), std::move(params));
}

awaitable<Result<json::value>> Client::raw_call(std::string method, json::value params,
                                                std::string auth) {
  return zabbix::raw_call(st_, std::move(method), std::move(params), std::move(auth));
}

const std::string& Client::url() const { return st_->url; }
bool Client::uses_token() const { return !st_->opts.api_token.empty(); }
const std::string& Client::auth() const { return st_->auth; }
const std::string& Client::user() const { return st_->user; }

void Client::close() {
  if (!st_) return;  // moved from
  st_->closed = true;
  if (st_->http) st_->http->close();
  st_->login_done.cancel();
}

}  // namespace zpark::zabbix
