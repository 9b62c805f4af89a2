#include "app/alert_routes.hpp"

#include "app/alert_request.hpp"
#include "app/json_response.hpp"
#include "conf/log.hpp"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <fmt/format.h>

namespace zpark::app {

namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

bool is_json_type(std::string_view ct) {
  auto semi = ct.find(';');
  auto type = ct.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string t(type);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"));
}

std::string iso_time(std::int64_t ms) {
  std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

awaitable<net::Response> post_alert(tasks::Relay& relay, net::Request req) {
  if (!is_json_type(req[http::field::content_type]))
    co_return json_message(http::status::unsupported_media_type,
                           "Send the alert as JSON with Content-Type: application/json");
  boost::system::error_code ec;
  auto body = json::parse(req.body(), ec);
  if (ec) co_return json_message(http::status::bad_request, "The request body is not valid JSON: " + ec.message());
  auto parsed = parse_alert_request(body);
  if (auto* err = std::get_if<AlertRequestError>(&parsed))
    co_return json_response(http::status::bad_request, json::object{{"message", json::object{{err->field, err->why}}}});
  auto& ar = std::get<AlertRequest>(parsed);

  std::vector<tasks::Accepted> accepted;
  try {
    accepted = co_await relay.accept(ar.alerts);
  } catch (const std::exception&) {
    // The relay's problem says why and what to do (disk full: free space where ZPARK_DATA_DIR
    // is), naming the outbox file and never a secret; the caller's admin reads it in Zabbix's
    // media log. "error" stays as it was for scripts that look for it.
    const std::string& why = relay.problem();
    const std::string message = why.empty() ? "Unable to store the alert; try again later"
                                            : "Unable to store the alert: " + why;
    co_return json_response(http::status::service_unavailable,
                            json::object{{"error", "Unable to store the alert; try again"}, {"message", message}});
  }
  const auto& first = ar.alerts.front();
  log::info("alert accepted", {{"to", ar.to_as_given},
                               {"subject", first.subject},
                               {"kind", spark::to_string(first.kind)},
                               {"event", first.event_id.empty() ? "-" : first.event_id},
                               {"taskid", accepted.front().taskid},
                               {"duplicate", accepted.front().duplicate}});
  json::object out{{"to", ar.to_as_given}, {"message", first.plain_text()}, {"taskid", accepted.front().taskid}};
  if (accepted.size() > 1) {
    json::array ids;
    for (auto& a : accepted) ids.emplace_back(a.taskid);
    out["taskids"] = std::move(ids);
  }
  co_return json_response(http::status::ok, out);
}

awaitable<net::Response> get_task(tasks::Relay& relay, std::string taskid) {  // by value: a coroutine
  auto t = co_await relay.find(taskid);
  // The id comes from the path as sent: percent-encoded, so the JSON stays valid UTF-8.
  if (!t) co_return json_message(http::status::not_found, "No task with id " + boost::urls::encode(taskid, boost::urls::pchars));
  const char* state = t->state == tasks::TaskState::pending     ? "pending"
                      : t->state == tasks::TaskState::delivered ? "delivered"
                                                                : "failed";
  json::object out{{"taskid", t->taskid}, {"state", state}, {"to", t->recipient},
                   {"attempts", t->attempts}, {"accepted_at", iso_time(t->accepted_at_ms)}};
  if (!t->webex_id.empty()) out["webex_message_id"] = t->webex_id;
  if (!t->reason.empty()) out["reason"] = t->reason;
  co_return json_response(http::status::ok, out);
}

}  // namespace

void add_alert_routes(Api& api, tasks::Relay& relay, std::size_t body_limit) {
  api.add({.path = "/api/v1/alert",
           .methods = {http::verb::post},
           .name = "alert",
           .needs_token = true,
           .body_limit = body_limit,
           .fn = [&relay](net::Request req, std::string) { return post_alert(relay, std::move(req)); }});
  api.add({.path = "/api/v1/tasks/",
           .subtree = true,
           .methods = {http::verb::get},
           .name = "tasks",
           .needs_token = true,
           .fn = [&relay](net::Request, std::string tail) { return get_task(relay, tail); }});
}

}  // namespace zpark::app
