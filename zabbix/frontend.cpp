#include "zabbix/frontend.hpp"

#include "conf/log.hpp"
#include "net/http_client.hpp"
#include "zabbix/http_options.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fmt/format.h>

#include <utility>

namespace zpark::zabbix {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::awaitable;

// ---- pure parts ----------------------------------------------------------------------------

bool is_png(std::string_view body) {
  constexpr std::string_view signature("\x89PNG\r\n\x1a\n", 8);
  return body.starts_with(signature);
}

bool looks_like_html(std::string_view body) {
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\r' ||
                           body.front() == '\t'))
    body.remove_prefix(1);
  auto head = body.substr(0, 16);
  std::string lower;
  for (char c : head) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return lower.starts_with("<!doctype html") || lower.starts_with("<html");
}

namespace {

std::string form_encode(std::string_view s) {
  // Form encoding: unreserved characters stay, everything else is %XX (a space too).
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

}  // namespace

std::string login_form(std::string_view username, std::string_view password) {
  return "name=" + form_encode(username) + "&password=" + form_encode(password) +
         "&autologin=1&enter=Sign%20in";
}

std::optional<std::string> session_cookie(std::string_view set_cookie) {
  constexpr std::string_view name = "zbx_session=";
  while (!set_cookie.empty() && set_cookie.front() == ' ') set_cookie.remove_prefix(1);
  if (!set_cookie.starts_with(name)) return std::nullopt;
  auto value = set_cookie.substr(name.size());
  value = value.substr(0, value.find(';'));
  if (value.empty() || value == "deleted") return std::nullopt;
  return std::string(value);
}

std::string chart_target(const ChartRequest& r) {
  std::string t = "/chart.php?";
  for (const auto& id : r.itemids) t += "itemids%5B%5D=" + form_encode(id) + "&";
  t += fmt::format("from=now-{}s&to=now&width={}&height={}&type=0&legend=1&profileIdx=web.item.graph.filter",
                   r.period_seconds, r.width, r.height);
  return t;
}

// ---- the session ---------------------------------------------------------------------------

namespace detail {

struct FrontendState {
  explicit FrontendState(const asio::any_io_executor& ex) : login_done(ex, asio::steady_timer::time_point::max()) {}
  FrontendOptions opts;
  std::string url;
  std::optional<net::HttpClient> http;
  std::optional<Error> config_error;
  bool closed = false;
  std::string cookie;  // zbx_session value; empty: not logged in
  std::optional<Error> refused;
  std::chrono::steady_clock::time_point paused_until{};
  // One login at a time: graphs that need one while it runs (an alert storm at start-up) wait
  // for it and take its result, rather than each opening a frontend session.
  bool login_running = false;
  asio::steady_timer login_done;
  Result<void> last_login;
};

}  // namespace detail

namespace {

using State = detail::FrontendState;
using StatePtr = std::shared_ptr<State>;

Error make_error(Error::Kind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

Error transport_error(const State& st, boost::system::error_code ec) {
  return make_error(Error::Kind::transport,
                    fmt::format("cannot reach the Zabbix frontend at ZABBIX_SERVER_URL={}: {}", st.url,
                                st.http->describe(ec)));
}

// Keeps a zbx_session the frontend sets (a login, or a renewed session on any page).
void take_cookie(State& st, const net::Response& res) {
  for (auto it = res.find(http::field::set_cookie); it != res.end() && it->name() == http::field::set_cookie;
       ++it)
    if (auto c = session_cookie(it->value())) st.cookie = std::move(*c);
}

awaitable<Result<void>> form_login(StatePtr st) {
  if (st->config_error) co_return *st->config_error;
  if (st->closed) co_return make_error(Error::Kind::transport, "Zabbix frontend session was closed");
  if (st->opts.username.empty())
    co_return make_error(Error::Kind::auth,
                         "graphs need a Zabbix frontend login: set ZABBIX_USERNAME and ZABBIX_PASSWORD "
                         "(an API token cannot open a frontend session)");
  if (st->refused && std::chrono::steady_clock::now() < st->paused_until) co_return *st->refused;
  net::RequestSpec spec;
  spec.method = http::verb::post;
  spec.target = "/index.php";
  spec.content_type = "application/x-www-form-urlencoded";
  spec.body = login_form(st->opts.username, st->opts.password);
  st->cookie.clear();
  auto answer = co_await st->http->request(std::move(spec));
  if (!answer) co_return transport_error(*st, answer.error());
  const unsigned status = answer->result_int();
  // A good login redirects (302) to the dashboard with the session cookie; a refused one
  // answers the login form again (200).
  if (status >= 300 && status < 400) take_cookie(*st, *answer);
  if (status >= 300 && status < 400 && !st->cookie.empty()) {
    st->refused.reset();
    log::info("zabbix frontend login", {{"url", st->url}, {"user", st->opts.username}});
    co_return Result<void>();
  }
  st->cookie.clear();
  if (status == 200 && looks_like_html(answer->body())) {
    Error e = make_error(Error::Kind::auth,
                         fmt::format("the Zabbix frontend at {} refused the login of ZABBIX_USERNAME={} "
                                     "(check ZABBIX_USERNAME/ZABBIX_PASSWORD; the user needs frontend "
                                     "access)",
                                     st->url, st->opts.username));
    st->refused = e;
    st->paused_until = std::chrono::steady_clock::now() + st->opts.login_pause;
    co_return e;
  }
  co_return make_error(Error::Kind::http,
                       fmt::format("the Zabbix frontend at {} answered HTTP {} to the login form; check "
                                   "ZABBIX_SERVER_URL (the frontend's URL)",
                                   st->url, status));
}

awaitable<Result<void>> login(StatePtr st) {
  if (st->login_running) {
    co_await st->login_done.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return st->last_login;
  }
  st->login_running = true;
  auto result = co_await form_login(st);
  st->login_running = false;
  st->last_login = result;
  st->login_done.cancel();  // wakes the waiting graphs
  co_return result;
}

awaitable<Result<std::string>> chart(StatePtr st, ChartRequest request) {
  if (request.itemids.empty()) co_return make_error(Error::Kind::config, "a graph needs at least one item");
  const std::string target = chart_target(request);
  for (int attempt = 0;; ++attempt) {
    if (st->cookie.empty()) {
      auto in = co_await login(st);
      if (!in) co_return in.error();
    }
    net::RequestSpec spec;
    spec.target = target;
    spec.headers.emplace_back("Cookie", "zbx_session=" + st->cookie);
    auto answer = co_await st->http->request(std::move(spec));
    if (!answer) co_return transport_error(*st, answer.error());
    const unsigned status = answer->result_int();
    // Only an image's cookie is ours: with no valid session the frontend answers its login page
    // and sets a new guest session cookie.
    if (status == 200 && is_png(answer->body())) {
      take_cookie(*st, *answer);
      co_return std::move(answer->body());
    }
    if (status != 200)
      co_return make_error(Error::Kind::http,
                           fmt::format("the Zabbix frontend at {} answered HTTP {} to chart.php", st->url, status));
    // HTML: the session expired (or the items are not readable). One fresh login, one retry.
    if (attempt == 0) {
      st->cookie.clear();
      continue;
    }
    co_return make_error(Error::Kind::parse,
                         fmt::format("the Zabbix frontend at {} answered chart.php with {} instead of a PNG "
                                     "image (is ZABBIX_USERNAME allowed to read these items?)",
                                     st->url, looks_like_html(answer->body()) ? "an HTML page" : "something else"));
  }
}

}  // namespace

Frontend::Frontend(asio::any_io_executor ex, FrontendOptions options) : st_(std::make_shared<State>(ex)) {
  st_->opts = std::move(options);
  st_->url = frontend_url(st_->opts.url);
  try {
    st_->http.emplace(ex, http_options(st_->url, st_->opts.ca_file, st_->opts.verify_tls, st_->opts.timeout, 2));
  } catch (const std::exception& e) {
    st_->config_error = make_error(Error::Kind::config, fmt::format("ZABBIX_SERVER_URL or ZABBIX_CA_FILE is "
                                                                    "not usable: {}",
                                                                    e.what()));
  }
}

Frontend::~Frontend() { close(); }
Frontend::Frontend(Frontend&&) noexcept = default;
Frontend& Frontend::operator=(Frontend&& other) noexcept {
  if (this != &other) {
    close();
    st_ = std::move(other.st_);
  }
  return *this;
}

awaitable<Result<void>> Frontend::login() { return zabbix::login(st_); }
awaitable<Result<std::string>> Frontend::chart(ChartRequest request) {
  return zabbix::chart(st_, std::move(request));
}
const std::string& Frontend::url() const { return st_->url; }
bool Frontend::logged_in() const { return !st_->cookie.empty(); }

void Frontend::close() {
  if (!st_) return;
  st_->closed = true;
  if (st_->http) st_->http->close();
  st_->login_done.cancel();
}

}  // namespace zpark::zabbix
