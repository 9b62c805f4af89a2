#include "app/api.hpp"

#include "app/auth.hpp"
#include "app/json_response.hpp"
#include "conf/log.hpp"

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

boost::asio::awaitable<net::Response> Api::handle(net::Request req) {
  auto m = match(req.target());
  if (!m.route) co_return json_message(http::status::not_found, fmt::format("No such resource: {}", path_of(req.target())));
  const Route& r = *m.route;

  bool allowed = false;
  for (auto v : r.methods)
    if (v == req.method() || (v == http::verb::get && req.method() == http::verb::head)) allowed = true;
  auto allow = [&r] {  // only needed for OPTIONS and 405
    std::string text;
    for (auto v : r.methods) text += (text.empty() ? "" : ", ") + std::string(http::to_string(v));
    bool has_get = std::find(r.methods.begin(), r.methods.end(), http::verb::get) != r.methods.end();
    return text + (has_get ? ", HEAD, OPTIONS" : ", OPTIONS");
  };
  if (req.method() == http::verb::options) {
    net::Response res{http::status::ok, 11};
    res.set(http::field::allow, allow());
    res.prepare_payload();
    co_return res;
  }
  if (!allowed) {
    auto res = json_message(http::status::method_not_allowed,
                            fmt::format("Method {} is not allowed here; allowed: {}", req.method_string(), allow()));
    res.set(http::field::allow, allow());
    co_return res;
  }
  if (r.needs_token && !authorized(req, api_token_)) {
    log::warn("unauthorized API request", {{"path", path_of(req.target())},
                                           {"reason", presented_token(req).empty() ? "no token" : "wrong token"}});
    co_return json_message(http::status::unauthorized,
                           "Missing or wrong API token: send it in the Token header "
                           "(or Authorization: Bearer)");
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
    const double ms = std::chrono::duration<double, std::milli>(e.duration).count();
    log::info("request", {{"method", e.method},
                          {"path", path_of(e.target)},
                          {"route", route},
                          {"status", e.status},
                          {"ms", fmt::format("{:.3f}", ms)}});
  }
}

std::string Api::render_metrics() const {
  std::string out;
  metrics_.render(out);
  for (auto& src : metric_sources_) src(out);
  return out;
}

}  // namespace zpark::app
