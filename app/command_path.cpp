#include "app/command_path.hpp"

#include "app/check_zabbix.hpp"
#include "app/metrics.hpp"
#include "app/webex_cli.hpp"
#include "conf/log.hpp"
#include "spark/webhook_repair.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace zpark::app {

namespace asio = boost::asio;

CommandPath::CommandPath(asio::io_context& io, const conf::Settings& s, Api& api, AlertPath& alerts,
                         zabbix::Frontend* frontend)
    : io_(io), settings_(s), alerts_(alerts), check_timer_(io) {
  WebhookSettings ws{s.webhook_secret, s.trusted_users, s.webhook_body_limit, s.commands_off_reason()};
  if (ws.off_reason.empty()) {
    webex_ = alerts.webex();
    zabbix_ = std::make_unique<zabbix::Client>(io.get_executor(), zabbix_options(s));
    tasks::CommandOptions co;
    co.contact_info = s.contact_info;
    co.zabbix_retries = s.command_retries;
    co.zabbix_retry_delay = s.command_retry_delay;
    co.status_source.server_address = s.zabbix_server_address;
    co.frontend = frontend;
    co.graphs_off = frontend ? "" : s.graphs_off_reason();
    co.graph_period = s.graph_period;
    // ack / close ... without an event id, written in the thread of one of our problem alerts.
    co.event_for_thread = [&relay = alerts.relay()](std::string root) { return relay.thread_event(std::move(root)); };
    co.trusted = s.trusted_users;
    runner_ = std::make_unique<tasks::CommandRunner>(io.get_executor(), *webex_, *zabbix_, alerts.relay(), co);
    alerts.on_identity([this](const spark::Identity& me) { runner_->set_bot(me); });
    if (s.trusted_users.empty())
      log::warn("SPARK_TRUSTED_USERS is empty: nobody's commands will be answered");
  } else {
    log::info("bot commands are off", {{"why", ws.off_reason}});
  }
  route_ = std::make_unique<WebhookRoute>(std::move(ws), runner_.get());
  route_->add_to(api);
  api.add_metrics_source([this](std::string& out) {
    route_->render_metrics(out);
    if (runner_)
      render_metric(out, "zpark_webhook_repairs_total", "counter",
                    "Repairs of our Webex webhook by the self-heal check.", double(repairs_));
  });
}

void CommandPath::start() {
  if (!runner_ || settings_.webhook_check_interval.count() == 0) return;
  if (settings_.server_url.empty()) {
    log::warn("ZPARK_SERVER_URL is not set: the Webex webhook is not checked (set it to let Zpark keep "
              "its webhook active)");
    return;
  }
  webhook_problem_ = "the Webex webhook has not been checked yet";
  asio::co_spawn(io_, keep_webhook(), [](std::exception_ptr e) {
    if (e) log::error("webhook self-heal check stopped");
  });
}

void CommandPath::stop() {
  stopping_ = true;
  check_timer_.cancel();
  if (runner_) runner_->stop();
  if (zabbix_) zabbix_->close();
}

ReadinessCheck CommandPath::readiness() {
  return [this] { return webhook_problem_; };
}

asio::awaitable<void> CommandPath::keep_webhook() {
  while (!stopping_) {
    co_await check_webhook();
    check_timer_.expires_after(settings_.webhook_check_interval);
    co_await check_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Webex disables a webhook after many failed deliveries and never re-enables it; someone may
// delete it or change ZPARK_SERVER_URL. One pass of `zpark webhook repair`, logged.
asio::awaitable<void> CommandPath::check_webhook() {
  // Instances sharing an outbox take turns through it: one repairs, the others would only race it.
  const bool leading = co_await alerts_.relay().store().lead(std::string("webhook-repair"));  // not in the if: GCC 12
  if (!leading) {
    // Another instance checks (and repairs) the webhook both share: nothing for this one to
    // report, and its readiness must not wait for a check it will not make.
    webhook_problem_.clear();
    co_return;
  }
  const auto specs = webhook_specs(settings_);  // messages, and the cards' buttons
  std::vector<spark::WebhookInfo> hooks;
  auto r = co_await spark::list_webhooks(*webex_, hooks, settings_.webhook_secret);
  if (!r.ok()) {
    webhook_problem_ = "cannot check the Webex webhook: " + r.error;
    log::warn("webhook check failed", {{"error", r.error}, {"tracking_id", r.tracking_id}});
    co_return;
  }
  std::string problem;
  for (const auto& want : specs)
  for (auto& step : spark::plan_repair(hooks, want)) {
    spark::WebhookInfo done;
    spark::SendResult s;
    const char* what = "";
    switch (step.kind) {
      case spark::RepairStep::Kind::create: s = co_await spark::create_webhook(*webex_, want, done); what = "created"; break;
      case spark::RepairStep::Kind::update: s = co_await spark::update_webhook(*webex_, step.id, want, done); what = "repaired"; break;
      case spark::RepairStep::Kind::remove: s = co_await spark::delete_webhook(*webex_, step.id); what = "removed"; break;
    }
    if (s.ok()) {
      ++repairs_;
      log::warn("Webex webhook fixed", {{"action", what}, {"webhook", done.id.empty() ? step.id : done.id},
                                        {"why", step.reason}});
    } else if (step.kind != spark::RepairStep::Kind::remove) {
      problem = "commands cannot arrive: no active Webex webhook at " + want.target_url + " (" + what +
                " failed: " + s.error + ")";
      log::error("cannot fix the Webex webhook", {{"action", what}, {"error", s.error}, {"tracking_id", s.tracking_id}});
    }
  }
  webhook_problem_ = problem;
}

}  // namespace zpark::app
