#pragma once
// Builds the bot-command path from settings: the Zabbix client, the command task runner, the
// webhook route, and the self-heal check that keeps our Webex webhook active; with their
// metrics and readiness. Commands reply through the alert path's lanes, so it needs the
// AlertPath.
#include "app/api.hpp"
#include "app/basic_routes.hpp"
#include "app/relay_wiring.hpp"
#include "app/webhook_route.hpp"
#include "conf/settings.hpp"
#include "tasks/commands/runner.hpp"
#include "zabbix/client.hpp"
#include "zabbix/frontend.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace zpark::app {

class CommandPath {
 public:
  // `frontend`: the graph path's frontend session for `graph`; null when graphs are off.
  CommandPath(boost::asio::io_context& io, const conf::Settings& settings, Api& api, AlertPath& alerts,
              zabbix::Frontend* frontend = nullptr);
  void start();  // the webhook self-heal check, when commands are on and ZPARK_SERVER_URL is set
  void stop();
  // Not ready while commands are on but cannot arrive (no active webhook of ours).
  ReadinessCheck readiness();

 private:
  boost::asio::awaitable<void> keep_webhook();
  boost::asio::awaitable<void> check_webhook();

  boost::asio::io_context& io_;
  const conf::Settings& settings_;
  AlertPath& alerts_;
  spark::WebexClient* webex_ = nullptr;
  std::unique_ptr<zabbix::Client> zabbix_;
  std::unique_ptr<tasks::CommandRunner> runner_;
  std::unique_ptr<WebhookRoute> route_;
  boost::asio::steady_timer check_timer_;
  std::string webhook_problem_;
  std::uint64_t repairs_ = 0;
  bool stopping_ = false;
};

}  // namespace zpark::app
