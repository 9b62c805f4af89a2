#include "app/api.hpp"

#include "app/auth.hpp"
#include "app/json_response.hpp"
#include "conf/log.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <fmt/format.h>

namespace zpark::app {

namespace http = boost::beast::http;

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

Api::Api(std::string api_token, std::string path_prefix)
    : api_token_(std::move(api_token)), prefix_(std::move(path_prefix)) {}

void Api::add(Route route) { routes_.push_back(std::move(route)); }

void Api::add_metrics_source(std::function<void(std::string&)> source) {
  metric_sources_.push_back(std::move(source));
}

std::string_view Api::strip_prefix(std::string_view path) const {
  // nginx may pass the prefix through or strip it: accept both.
  if (!prefix_.empty() && path.starts_with(prefix_)) {
    auto rest = path.substr(prefix_.size());
    if (rest.empty()) return "/";
    if (rest.front() == '/') return rest;
  }
  return path;
}

Api::Match Api::match(std::string_view target) const {
  auto path = strip_prefix(path_of(target));
  for (auto& r : routes_) {
    if (!r.subtree && path == r.path) return {&r, {}};
    if (r.subtree && path.starts_with(r.path) && path.size() > r.path.size())
      return {&r, std::string(path.substr(r.path.size()))};
  }
  return {};
}

std::size_t Api::body_limit(const http::request_header<>& header) {
  auto m = match(header.target());
  // Small default so unknown paths and body-less routes cannot be used to upload.
  return m.route && m.route->body_limit ? m.route->body_limit : 8192;
}

namespace {

std::string allowed_methods(const Route& r) {  // only needed for OPTIONS and 405
  std::string text;
  for (auto v : r.methods) text += (text.empty() ? "" : ", ") + std::string(http::to_string(v));
  bool has_get = std::find(r.methods.begin(), r.methods.end(), http::verb::get) != r.methods.end();
  return text + (has_get ? ", HEAD, OPTIONS" : ", OPTIONS");
}

// The liveness probe, answered even at the connection limit.
constexpr std::string_view kLivenessPath = "/healthz";

}  // namespace

std::optional<net::Response> Api::refusal(const http::request_header<>& header, const Match& m) const {
  if (!m.route) {
    // Shown percent-encoded (RFC 3986 pchars kept): the target may carry any byte, and the
    // answer must stay valid UTF-8 JSON.
    const auto shown = boost::urls::encode(path_of(header.target()), boost::urls::pchars + '/');
    return json_message(http::status::not_found, fmt::format("No such resource: {}", shown));
  }
  const Route& r = *m.route;
  if (header.method() == http::verb::options) return std::nullopt;
  bool allowed = false;
  for (auto v : r.methods)
    if (v == header.method() || (v == http::verb::get && header.method() == http::verb::head)) allowed = true;
  if (!allowed) {
    auto res = json_message(http::status::method_not_allowed,
                            fmt::format("Method {} is not allowed here; allowed: {}", header.method_string(),
                                        allowed_methods(r)));
    res.set(http::field::allow, allowed_methods(r));
    return res;
  }
  if (r.needs_token && !authorized(header, api_token_)) {
    log::warn("unauthorized API request", {{"path", path_of(header.target())},
                                           {"reason", presented_token(header).empty() ? "no token" : "wrong token"}});
    return json_message(http::status::unauthorized,
                        "Missing or wrong API token: send it in the Token header "
                        "(or Authorization: Bearer)");
  }
  return std::nullopt;
}

std::optional<net::Response> Api::answer_from_header(const http::request_header<>& header) {
  return refusal(header, match(header.target()));
}

bool Api::answer_when_full(const http::request_header<>& header) {
  auto m = match(header.target());
  return m.route && m.route->path == kLivenessPath;
}

boost::asio::awaitable<net::Response> Api::handle(net::Request req) {
  auto m = match(req.target());
  // The server asked answer_from_header already; asking again keeps handle() safe on its own.
  if (auto refused = refusal(req, m)) co_return std::move(*refused);
  const Route& r = *m.route;
  if (req.method() == http::verb::options) {
    net::Response res{http::status::ok, 11};
    res.set(http::field::allow, allowed_methods(r));
    res.prepare_payload();
    co_return res;
  }
  const bool head = req.method() == http::verb::head;
  auto res = co_await r.fn(std::move(req), std::move(m.tail));
  if (head) {
    res.content_length(res.body().size());
    res.body().clear();
  }
  co_return res;
}

void Api::completed(const net::Exchange& e) {
  auto m = match(e.target);
  const std::string_view route = m.route ? std::string_view(m.route->name) : (e.method == "-" ? "invalid" : "unknown");
  metrics_.observe(route, e.status, e.duration);
  if (log::enabled(log::Level::info)) {
    log::info("request", {{"method", e.method},
                          {"path", path_of(e.target)},
                          {"route", route},
                          {"status", e.status},
                          {"ms", log::Millis{e.duration}}});
  }
}

std::string Api::render_metrics() const {
  std::string out;
  metrics_.render(out);
  for (auto& src : metric_sources_) src(out);
  return out;
}

}  // namespace zpark::app
