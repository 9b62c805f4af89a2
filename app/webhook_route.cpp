#include "app/webhook_route.hpp"

#include "app/json_response.hpp"
#include "app/metrics.hpp"
#include "conf/log.hpp"
#include "spark/webhook.hpp"
#include "tasks/task_id.hpp"

#include <boost/json.hpp>

namespace zpark::app {

namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

net::Response error(http::status status, std::string_view text) {
  return json_response(status, json::object{{"error", text}});
}

// Only for the warning about a bad signature: which webhook (of ours, or a stranger) called.
std::string webhook_id_for_log(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return "-";
  auto* id = v.get_object().if_contains("id");
  if (!id || !id->is_string() || id->get_string().size() > 200) return "-";
  return std::string(id->get_string());
}

}  // namespace

WebhookRoute::WebhookRoute(WebhookSettings settings, tasks::CommandRunner* runner)
    : s_(std::move(settings)), runner_(runner) {}

void WebhookRoute::add_to(Api& api) {
  api.add({.path = "/api/v1/webhook",
           .methods = {http::verb::post},
           .name = "webhook",
           .needs_token = false,  // Webex calls it: the signature is the proof
           .body_limit = s_.body_limit,
           .fn = [this](net::Request req, std::string) { return handle(std::move(req)); }});
}

net::Response WebhookRoute::outcome(const char* name, net::Response res) {
  ++outcomes_[name];
  return res;
}

awaitable<net::Response> WebhookRoute::handle(net::Request req) {
  if (!s_.off_reason.empty()) co_return outcome("off", error(http::status::service_unavailable, s_.off_reason));
  // Beast already refused a non-numeric or negative Content-Length; a body without any length
  // reads as empty and would only fail the signature, so say what is really wrong.
  if (!req.chunked() && req.find(http::field::content_length) == req.end())
    co_return outcome("bad_request", error(http::status::bad_request, "Bad request: Content-Length is required"));
  if (req.body().empty())
    co_return outcome("bad_request", error(http::status::bad_request, "Bad request: the body is empty"));

  const auto signature = req["X-Spark-Signature"];
  if (!spark::signature_valid(s_.secret, req.body(), signature)) {
    log::warn("webhook call refused: bad signature",
              {{"webhook", webhook_id_for_log(req.body())}, {"signature", signature.empty() ? "missing" : "wrong"}});
    co_return outcome("forbidden", error(http::status::forbidden, "Unauthorized"));
  }

  auto env = spark::parse_envelope(req.body());
  if (!env) {
    const auto e = env.error();
    log::warn("webhook call refused", {{"why", spark::to_string(e)}});
    if (e == spark::EnvelopeError::not_json)
      co_return outcome("bad_request", json_message(http::status::bad_request, spark::to_string(e)));
    co_return outcome(e == spark::EnvelopeError::malformed ? "malformed" : "unsupported",
                      error(http::status::bad_request, spark::to_string(e)));
  }
  if (env->resource == "attachmentActions") {
    // A card button. The envelope names only the person's id: trust is checked by the task
    // once GET /people/{id} gave the email, after this 200 (Webex wants a quick answer).
    auto taskid = tasks::new_task_id();
    if (auto first = co_await runner_->claim(env->data_id, taskid)) {
      log::info("webhook call repeated: already answered", {{"action", env->data_id}, {"taskid", *first}});
      co_return outcome("duplicate", json_response(http::status::ok, json::object{{"taskid", *first}}));
    }
    log::info("card action accepted", {{"webhook", env->id}, {"action", env->data_id}, {"taskid", taskid}});
    runner_->start_card(std::move(*env), taskid);
    co_return outcome("accepted", json_response(http::status::ok, json::object{{"taskid", taskid}}));
  }
  const auto& bot = runner_->bot();
  if ((!bot.id.empty() && env->person_id == bot.id) ||
      (!bot.email.empty() && spark::is_trusted(env->person_email, {bot.email}))) {
    log::debug("webhook call ignored: the bot's own message", {{"message", env->data_id}});
    co_return outcome("own_message", json_response(http::status::ok, json::object{{"ignored", "own message"}}));
  }
  if (!spark::is_trusted(env->person_email, s_.trusted)) {
    log::debug("webhook call from an untrusted user", {{"from", env->person_email}});
    co_return outcome("untrusted", error(http::status::ok, "User not authorized"));
  }
  auto taskid = tasks::new_task_id();
  if (auto first = co_await runner_->claim(env->data_id, taskid)) {
    log::info("webhook call repeated: already answered", {{"message", env->data_id}, {"taskid", *first}});
    co_return outcome("duplicate", json_response(http::status::ok, json::object{{"taskid", *first}}));
  }
  log::info("webhook call accepted", {{"webhook", env->id}, {"from", env->person_email}, {"taskid", taskid}});
  runner_->start(std::move(*env), taskid);
  co_return outcome("accepted", json_response(http::status::ok, json::object{{"taskid", taskid}}));
}

void WebhookRoute::render_metrics(std::string& out) const {
  out += "# HELP zpark_webhooks_total Webex webhook calls by outcome.\n# TYPE zpark_webhooks_total counter\n";
  for (auto& [name, n] : outcomes_) out += "zpark_webhooks_total{outcome=\"" + name + "\"} " + std::to_string(n) + "\n";
  if (!runner_) return;
  out += "# HELP zpark_commands_total Bot commands by name and outcome.\n# TYPE zpark_commands_total counter\n";
  for (auto& [key, n] : runner_->counts())
    out += "zpark_commands_total{command=\"" + key.first + "\",outcome=\"" + key.second + "\"} " +
           std::to_string(n) + "\n";
}

}  // namespace zpark::app
