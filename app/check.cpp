#include "app/check.hpp"

#include "app/check_zabbix.hpp"
#include "app/relay_wiring.hpp"

#include "app/webex_cli.hpp"
#include "spark/webex_client.hpp"
#include "spark/webhook_repair.hpp"
#include "tasks/pg/connection.hpp"
#include "tasks/pg/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>

namespace zpark::app {

namespace asio = boost::asio;

namespace {

asio::awaitable<bool> check_webex(const conf::Settings& s, std::string& report) {
  if (s.dry_run()) {
    report = "Webex: SPARK_ACCESS_TOKEN not set (dry-run: messages are printed, not sent)";
    co_return true;
  }
  auto opts = webex_client_options(s);
  opts.pool_size = 1;
  opts.request_timeout = std::chrono::seconds(15);
  spark::WebexClient client(co_await asio::this_coro::executor, s.spark_token, opts);
  spark::Identity me;
  auto r = co_await client.who_am_i(me);
  if (r.ok()) {
    report = "Webex: token OK, bot " + me.email + " (" + me.display_name + ") at " + s.webex_api_url;
  } else {
    report = "Webex: FAILED: " + r.error;
    if (!r.tracking_id.empty()) report += " (TrackingID " + r.tracking_id + ")";
    co_return false;
  }
  // The webhook that brings the commands: exists, active, at ZPARK_SERVER_URL, our secret.
  if (!s.commands_off_reason().empty() || s.server_url.empty()) co_return true;
  const auto specs = webhook_specs(s);
  const auto& want = specs.front();
  std::vector<spark::WebhookInfo> hooks;
  auto l = co_await spark::list_webhooks(client, hooks, want.secret);
  if (!l.ok()) {
    report += "\nWebhook: FAILED to list the bot's webhooks: " + l.error;
    co_return false;
  }
  std::string problems;
  for (const auto& spec : specs)
    for (auto& step : spark::plan_repair(hooks, spec))
      problems += (problems.empty() ? "" : "; ") +
                  (step.kind == spark::RepairStep::Kind::create
                       ? "no " + spec.resource + " webhook at " + spec.target_url
                       : spec.resource + " webhook " + step.reason);
  if (problems.empty()) {
    report += "\nWebhook: OK, active at " + want.target_url + " with the secret of SPARK_WEBHOOK_SECRET";
    co_return true;
  }
  report += "\nWebhook: FAILED: " + problems + "; run `zpark webhook repair`";
  co_return false;
}

// The outbox: SQLite needs nothing proven; PostgreSQL must be reachable, and its schema one
// this zpark can use (read only: `zpark serve` creates and migrates it).
asio::awaitable<bool> check_outbox(const conf::Settings& s, std::string& report) {
  if (s.database_url.empty()) {
    report = "Outbox: SQLite in " + s.data_dir + " (one instance; set ZPARK_DATABASE_URL to share one PostgreSQL)";
    co_return true;
  }
  namespace pg = tasks::pg;
  pg::ConnectOptions opts{s.database_url, s.database_password};
  pg::Connection c(co_await asio::this_coro::executor, opts);
  const std::string where = "Outbox: PostgreSQL at " + pg::describe(s.database_url);
  std::string failed;
  try {
    co_await c.connect();
    // The table is looked up when a statement is planned: ask whether it exists first.
    std::string sql = "SELECT current_setting('server_version'), to_regclass('zpark_schema') IS NOT NULL";
    auto r = co_await c.query(std::move(sql));
    int theirs = 0;
    if (r.text(0, 1) == "t") {
      std::string version = "SELECT version FROM zpark_schema";
      auto v = co_await c.query(std::move(version));
      theirs = v.rows() ? static_cast<int>(v.int64(0, 0)) : 0;
    }
    const int ours = pg::schema_version();
    report = where + ": connected (PostgreSQL " + r.text(0, 0) + "), schema version " + std::to_string(theirs);
    if (theirs == 0)
      report += " (not created yet: `zpark serve` creates version " + std::to_string(ours) + ")";
    else if (theirs < ours)
      report += " (`zpark serve` migrates it to " + std::to_string(ours) + ")";
    else if (theirs > ours)
      failed = "schema version " + std::to_string(theirs) + " is newer than this zpark knows (" + std::to_string(ours) +
               "); run a newer zpark";
  } catch (const std::exception& e) {
    failed = e.what();
  }
  c.close();
  if (failed.empty()) co_return true;
  report = where + ": FAILED: " + failed + "; check ZPARK_DATABASE_URL (and ZPARK_DATABASE_PASSWORD)";
  co_return false;
}

}  // namespace

int run_check(const conf::Settings& s) {
  std::printf("Settings are valid.\n");
  for (auto& [name, value] : conf::describe(s)) std::printf("  %-24s %s\n", name.c_str(), value.c_str());

  asio::io_context io;
  bool ok = true;
  std::string webex;
  asio::co_spawn(io, check_webex(s, webex), [&](std::exception_ptr e, bool passed) {
    if (e) {
      passed = false;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        webex = std::string("Webex: FAILED: ") + x.what();
      }
    }
    ok = ok && passed;
  });
  ZabbixCheck zabbix;
  asio::co_spawn(io, check_zabbix(s), [&](std::exception_ptr e, ZabbixCheck result) {
    zabbix = e ? ZabbixCheck{false, "Zabbix: check failed unexpectedly"} : std::move(result);
    ok = ok && zabbix.ok;
  });
  std::string outbox;
  asio::co_spawn(io, check_outbox(s, outbox), [&](std::exception_ptr e, bool passed) {
    if (e) {
      passed = false;
      outbox = "Outbox: FAILED: check failed unexpectedly";
    }
    ok = ok && passed;
  });
  io.run();
  std::printf("%s\n%s\n%s\n", outbox.c_str(), webex.c_str(), zabbix.report.c_str());
  if (!zabbix.graphs.empty()) std::printf("%s\n", zabbix.graphs.c_str());
  if (auto off = s.commands_off_reason(); !off.empty())
    std::printf("Bot commands: off: %s\n", off.c_str());
  else if (s.trusted_users.empty())
    std::printf("Bot commands: on, but SPARK_TRUSTED_USERS is empty: nobody will be answered\n");
  else
    std::printf("Bot commands: on (webhook at %s/api/v1/webhook)\n",
                s.server_url.empty() ? "ZPARK_SERVER_URL" : s.server_url.c_str());
  return ok ? 0 : 1;
}

}  // namespace zpark::app
