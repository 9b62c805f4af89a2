#pragma once
// Builds the alert path from settings: outbox (SQLite, or PostgreSQL with ZPARK_DATABASE_URL), Webex client (or dry-run sink), relay, the
// Webex token check, routes, readiness and metrics.
#include "app/api.hpp"
#include "app/basic_routes.hpp"
#include "conf/settings.hpp"
#include "spark/webex_client.hpp"
#include "tasks/pg/store.hpp"
#include "tasks/relay.hpp"
#include "tasks/sqlite_store.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace zpark::app {

// Client options for the Webex API from the settings (URL, CA file, pool size).
net::ClientOptions webex_client_options(const conf::Settings& s);

class AlertPath {
 public:
  // Throws std::runtime_error / std::invalid_argument with a clear message (outbox path,
  // Webex URL or CA file).
  AlertPath(boost::asio::io_context& io, const conf::Settings& settings, Api& api);
  ~AlertPath();
  ReadinessCheck readiness();
  void start();  // resumes pending alerts, starts the token check
  void stop();

  // For the bot commands, which reply through the same lanes: null Webex client in dry-run.
  spark::WebexClient* webex() { return webex_.get(); }
  tasks::Relay& relay() { return *relay_; }
  // Called once the token check learned the bot's identity (GET /people/me).
  void on_identity(std::function<void(const spark::Identity&)> fn) { on_identity_ = std::move(fn); }

 private:
  boost::asio::awaitable<void> prove_token();
  boost::asio::awaitable<void> open_database();

  boost::asio::io_context& io_;
  const conf::Settings& settings_;
  int lock_fd_ = -1;  // flock on the data directory, held while running
  std::unique_ptr<tasks::Outbox> outbox_;  // SQLite, or:
  std::unique_ptr<tasks::pg::PgStore> pg_;  // ZPARK_DATABASE_URL
  std::unique_ptr<tasks::SqliteStore> sqlite_store_;
  tasks::Store* store_ = nullptr;
  std::string pg_problem_;  // why the PostgreSQL outbox is not open yet
  std::unique_ptr<spark::WebexClient> webex_;
  std::unique_ptr<spark::DryRunSink> dry_run_;
  std::unique_ptr<tasks::Relay> relay_;
  bool token_ok_ = false;
  std::string token_problem_ = "Webex token not checked yet";
  bool stopping_ = false;
  std::function<void(const spark::Identity&)> on_identity_;
};

}  // namespace zpark::app
