#pragma once
// Prometheus text-format metrics for the HTTP API; other modules' figures are pulled in by
// the renderer (app wires them), so no module needs to know about this one.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace zpark::app {

class HttpMetrics {
 public:
  static constexpr std::array<double, 10> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                   0.025,  0.05,  0.1,    0.5,   1.0};
  void observe(std::string_view route, unsigned status, std::chrono::steady_clock::duration d);
  void set_open_connections(std::size_t n) { open_connections_ = n; }
  void count_refused() { ++refused_; }  // a connection got 503 at the connection limit
  // Appends the HTTP metrics in Prometheus text format.
  void render(std::string& out) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct RouteFigures {
    std::map<unsigned, std::uint64_t> by_status;
    Histogram latency;
  };
  // std::less<> finds by string_view: no allocation per request.
  std::map<std::string, RouteFigures, std::less<>> routes_;
  std::size_t open_connections_ = 0;
  std::uint64_t refused_ = 0;
};

// Helpers for other figures: "# HELP/# TYPE" header plus one sample line.
void render_metric(std::string& out, const char* name, const char* type, const char* help, double value,
                   const std::string& labels = {});

}  // namespace zpark::app
