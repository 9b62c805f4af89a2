#include "app/metrics.hpp"

#include <fmt/format.h>

namespace zpark::app {

void HttpMetrics::observe(std::string_view route, unsigned status, std::chrono::steady_clock::duration d) {
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), RouteFigures{}).first;
  ++it->second.by_status[status];
  auto& h = it->second.latency;
  const double seconds = std::chrono::duration<double>(d).count();
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void HttpMetrics::render(std::string& out) const {
  out += "# HELP zpark_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE zpark_http_requests_total counter\n";
  for (auto& [route, figures] : routes_)
    for (auto& [status, n] : figures.by_status)
      out += fmt::format("zpark_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", route, status, n);
  out += "# HELP zpark_http_request_duration_seconds Time from the first byte of a request to its answer.\n";
  out += "# TYPE zpark_http_request_duration_seconds histogram\n";
  for (auto& [route, figures] : routes_) {
    const auto& h = figures.latency;
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      out += fmt::format("zpark_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route,
                         kBuckets[i], h.buckets[i]);
    out += fmt::format("zpark_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route, h.count);
    out += fmt::format("zpark_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("zpark_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, h.count);
  }
  render_metric(out, "zpark_http_connections_open", "gauge", "Open client connections.",
                static_cast<double>(open_connections_));
  render_metric(out, "zpark_http_refused_total", "counter",
                "Connections answered 503 (or closed, TLS) because the connection limit was reached.",
                static_cast<double>(refused_));
}

void render_metric(std::string& out, const char* name, const char* type, const char* help, double value,
                   const std::string& labels) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}{} {}\n", name, help, name, type, name,
                     labels.empty() ? "" : "{" + labels + "}", value);
}

}  // namespace zpark::app
