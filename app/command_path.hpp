#pragma once
// Builds the bot-command path from settings: the Zabbix client, the command task runner and
// the webhook route, with their metrics and readiness. Commands reply through the alert
// path's lanes, so it needs the AlertPath.
#include "app/api.hpp"
#include "app/relay_wiring.hpp"
#include "app/webhook_route.hpp"
#include "conf/settings.hpp"
#include "tasks/commands/runner.hpp"
#include "zabbix/client.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace zpark::app {

class CommandPath {
 public:
  CommandPath(boost::asio::io_context& io, const conf::Settings& settings, Api& api, AlertPath& alerts);
  void stop();

 private:
  std::unique_ptr<zabbix::Client> zabbix_;
  std::unique_ptr<tasks::CommandRunner> runner_;
  std::unique_ptr<WebhookRoute> route_;
};

}  // namespace zpark::app
