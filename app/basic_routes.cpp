#include "app/basic_routes.hpp"

#include "app/json_response.hpp"
#include "conf/version.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <ctime>

namespace zpark::app {

namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

std::string original_utctime(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto secs = time_point_cast<seconds>(t);
  if (secs > t) secs -= seconds(1);
  auto micros = duration_cast<microseconds>(t - secs).count();
  std::time_t tt = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return micros ? fmt::format("{}.{:06}", buf, micros) : std::string(buf);
}

void add_basic_routes(Api& api, std::vector<ReadinessCheck> checks) {
  api.add({"/api/v1/ping", false, {http::verb::get}, "ping", true, 0,
           [](net::Request, std::string) -> awaitable<net::Response> {
             co_return json_response(http::status::ok,
                                     json::object{{"hello", "Hello!"},
                                                  {"apiversion", 1},
                                                  {"utctime", original_utctime(std::chrono::system_clock::now())}});
           }});
  api.add({"/healthz", false, {http::verb::get}, "healthz", false, 0,
           [](net::Request, std::string) -> awaitable<net::Response> {
             co_return json_response(http::status::ok, json::object{{"status", "ok"}});
           }});
  api.add({"/readyz", false, {http::verb::get}, "readyz", false, 0,
           [checks = std::move(checks)](net::Request, std::string) -> awaitable<net::Response> {
             json::array problems;
             for (auto& check : checks)
               if (auto why = check(); !why.empty()) problems.emplace_back(why);
             const bool ready = problems.empty();
             co_return json_response(ready ? http::status::ok : http::status::service_unavailable,
                                     json::object{{"status", ready ? "ready" : "not ready"}, {"problems", problems}});
           }});
  api.add({"/metrics", false, {http::verb::get}, "metrics", false, 0,
           [&api](net::Request, std::string) -> awaitable<net::Response> {
             net::Response res{http::status::ok, 11};
             res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
             res.body() = api.render_metrics();
             res.body() += fmt::format(
                 "# HELP zpark_build_info Build of the running zpark.\n# TYPE zpark_build_info gauge\n"
                 "zpark_build_info{{version=\"{}\"}} 1\n",
                 conf::kVersion);
             res.prepare_payload();
             co_return res;
           }});
}

}  // namespace zpark::app
