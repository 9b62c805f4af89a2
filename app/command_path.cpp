#include "app/command_path.hpp"

#include "app/check_zabbix.hpp"
#include "conf/log.hpp"

namespace zpark::app {

CommandPath::CommandPath(boost::asio::io_context& io, const conf::Settings& s, Api& api, AlertPath& alerts) {
  WebhookSettings ws{s.webhook_secret, s.trusted_users, s.webhook_body_limit, s.commands_off_reason()};
  if (ws.off_reason.empty()) {
    zabbix_ = std::make_unique<zabbix::Client>(io.get_executor(), zabbix_options(s));
    tasks::CommandOptions co;
    co.contact_info = s.contact_info;
    co.zabbix_retries = s.command_retries;
    co.zabbix_retry_delay = s.command_retry_delay;
    co.status_source.server_address = s.zabbix_server_address;
    runner_ = std::make_unique<tasks::CommandRunner>(io.get_executor(), *alerts.webex(), *zabbix_,
                                                     alerts.relay(), co);
    alerts.on_identity([this](const spark::Identity& me) { runner_->set_bot(me); });
    if (s.trusted_users.empty())
      log::warn("SPARK_TRUSTED_USERS is empty: nobody's commands will be answered");
  } else {
    log::info("bot commands are off", {{"why", ws.off_reason}});
  }
  route_ = std::make_unique<WebhookRoute>(std::move(ws), runner_.get());
  route_->add_to(api);
  api.add_metrics_source([this](std::string& out) { route_->render_metrics(out); });
}

void CommandPath::stop() {
  if (runner_) runner_->stop();
  if (zabbix_) zabbix_->close();
}

}  // namespace zpark::app
