#pragma once
// The HTTP API: route table (also under the ZPARK_SERVER_URL path prefix), token check,
// 404/405 answers (decided from the header, before any body is read), per-route body limits,
// request log and metrics.
#include "app/metrics.hpp"
#include "net/http_server.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace zpark::app {

using RouteFn = std::function<boost::asio::awaitable<net::Response>(net::Request req, std::string tail)>;

struct Route {
  std::string path;            // exact path, or a prefix ending in '/' when `subtree`
  bool subtree = false;        // "/api/v1/tasks/" matches "/api/v1/tasks/<tail>"
  std::vector<boost::beast::http::verb> methods;
  std::string name;            // label in logs and metrics
  bool needs_token = false;
  std::size_t body_limit = 0;  // bytes; 0 = no body expected (small limit)
  RouteFn fn;
};

class Api final : public net::Handler {
 public:
  Api(std::string api_token, std::string path_prefix);
  void add(Route route);
  // Extra figures appended to /metrics (outbox, delivery, ...).
  void add_metrics_source(std::function<void(std::string&)> source);

  std::optional<net::Response> answer_from_header(const boost::beast::http::request_header<>& header) override;
  std::size_t body_limit(const boost::beast::http::request_header<>& header) override;
  // /healthz: a liveness probe must not fail because clients hold every connection.
  bool answer_when_full(const boost::beast::http::request_header<>& header) override;
  boost::asio::awaitable<net::Response> handle(net::Request request) override;
  void completed(const net::Exchange& exchange) override;
  void connections_changed(std::size_t open) override { metrics_.set_open_connections(open); }
  void connection_refused() override { metrics_.count_refused(); }

  std::string render_metrics() const;

 private:
  struct Match {
    const Route* route = nullptr;
    std::string tail;
  };
  Match match(std::string_view target) const;
  // 404, 405 or 401 for this request, or nullopt when the route may take it.
  std::optional<net::Response> refusal(const boost::beast::http::request_header<>& header, const Match& m) const;
  std::string_view strip_prefix(std::string_view path) const;

  std::string api_token_;
  std::string prefix_;
  std::vector<Route> routes_;
  std::vector<std::function<void(std::string&)>> metric_sources_;
  HttpMetrics metrics_;
};

// The path of a request target without its query string.
std::string_view path_of(std::string_view target);

}  // namespace zpark::app
