#pragma once
// A bot command is a task, as it was a Celery task in the original: once the webhook route has
// checked signature, envelope and trust and answered 200, this coroutine fetches the message,
// extracts and parses the command, asks Zabbix (retrying with backoff, one "trouble" reply on
// the first failure) and hands the reply to the alerts' delivery path (shared lanes, shared
// 429 pause, durable outbox), so a retried query never sends a reply twice.
#include "spark/command.hpp"
#include "spark/replies.hpp"
#include "spark/webex_client.hpp"
#include "spark/webhook.hpp"
#include "tasks/commands/recent_ids.hpp"
#include "tasks/relay.hpp"
#include "zabbix/actions.hpp"
#include "zabbix/client.hpp"
#include "zabbix/frontend.hpp"
#include "zabbix/graphs.hpp"
#include "zabbix/reports.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace zpark::tasks {

struct CommandOptions {
  std::string contact_info;                       // ZPARK_CONTACT_INFO
  unsigned zabbix_retries = 3;                    // ZPARK_COMMAND_RETRIES
  std::chrono::milliseconds zabbix_retry_delay{15000};  // ZPARK_COMMAND_RETRY_DELAY, doubling
  zabbix::StatusSource status_source;             // ZABBIX_SERVER_ADDRESS
  unsigned fetch_attempts = 6;                    // GET /messages/{id} tries (5xx, network, 429)
  RetryPolicy fetch_retry{std::chrono::milliseconds(500), std::chrono::milliseconds(8000)};
  // ack / unack / close / comment written without an event id in a thread: the event id of
  // the alert Zpark posted as that thread's root message, or nullopt when the root is not one
  // of Zpark's alerts (or is forgotten). Unset: such commands are asked for the event id.
  std::function<boost::asio::awaitable<std::optional<std::string>>(std::string root_message_id)> event_for_thread;
  // SPARK_TRUSTED_USERS, for card buttons: their webhook names only the person's id, so trust
  // is checked by the task once GET /people/{id} gave the email (messages: by the route).
  std::vector<std::string> trusted;
  // A second press of the same button (same event, action and comment) within this window is
  // the same press: Webex users double-click, and Zabbix would record the message twice.
  std::chrono::seconds press_window{120};
  // `graph HOST ITEM`: the frontend session that draws the image; null when graphs are off
  // (then `graphs_off` says why). `graph_period` when the command gives none.
  zabbix::Frontend* frontend = nullptr;
  std::string graphs_off;
  std::chrono::seconds graph_period{3600};
};

class CommandRunner {
 public:
  CommandRunner(boost::asio::any_io_executor ex, spark::WebexClient& webex, zabbix::Client& zabbix,
                Relay& relay, CommandOptions options);

  // The bot's own identity (from GET /people/me at start); until known the runner asks itself.
  void set_bot(spark::Identity me) { bot_ = std::move(me); }
  const spark::Identity& bot() const { return bot_; }

  // The taskid this message was given before (by this instance or, with a shared outbox, by
  // another), or nullopt when `taskid` is the first: then it is remembered.
  boost::asio::awaitable<std::optional<std::string>> claim(std::string message_id, std::string taskid);
  // Starts the command task for a trusted envelope; `taskid` is what the route answered.
  void start(spark::Envelope envelope, std::string taskid);
  // Starts the task of a card button (attachmentActions/created) after signature and envelope;
  // it reads the action, checks trust, then acts as the command would.
  void start_card(spark::Envelope envelope, std::string taskid);
  // Commands waiting to retry Zabbix end; what is being answered right now finishes.
  void stop();

  // Commands by name and outcome, for /metrics.
  const std::map<std::pair<std::string, std::string>, std::uint64_t>& counts() const { return counts_; }

 private:
  boost::asio::awaitable<void> run(spark::Envelope envelope, std::string taskid);
  boost::asio::awaitable<void> run_card(spark::Envelope envelope, std::string taskid);
  // GET `target` with the retries of a message fetch; nullopt when it cannot be had (logged,
  // naming `what`).
  boost::asio::awaitable<std::optional<boost::json::value>> fetch_json(std::string target, std::string what,
                                                                      std::string taskid);
  boost::asio::awaitable<std::optional<spark::ChatMessage>> fetch_message(std::string id, std::string taskid);
  // Asks Zabbix (retrying) and replies to `asked`: the common end of commands and buttons.
  boost::asio::awaitable<void> execute(spark::Command command, spark::Caller caller, spark::ChatMessage asked,
                                       std::string taskid);
  void start_task(boost::asio::awaitable<void> task, const std::string& taskid);
  boost::asio::awaitable<bool> ensure_bot();
  // `asked_at` (unix seconds) is when the command came, the same on every attempt; `retry`
  // says an earlier attempt may have reached Zabbix (write commands then find what it did).
  boost::asio::awaitable<zabbix::Result<std::string>> answer(spark::Command command, spark::Caller caller,
                                                             std::int64_t asked_at, bool retry);
  boost::asio::awaitable<std::string> display_name(std::string person_id);
  boost::asio::awaitable<void> reply(const spark::ChatMessage& asked, std::string markdown);
  // graph HOST ITEM [PERIOD]: the PNG uploaded into the asker's room (and thread), or one line
  // saying why not.
  boost::asio::awaitable<void> graph(spark::ChatMessage asked, spark::Command command, spark::Caller caller);
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);
  void count(const std::string& command, const std::string& outcome) { ++counts_[{command, outcome}]; }

  boost::asio::any_io_executor ex_;
  spark::WebexClient& webex_;
  zabbix::Client& zabbix_;
  Relay& relay_;
  CommandOptions opts_;
  spark::Identity bot_;
  RecentIds seen_;
  std::map<std::string, std::int64_t> presses_;  // "event|action|comment" -> unix seconds pressed
  bool stopping_ = false;
  std::set<boost::asio::steady_timer*> sleeping_;  // to wake them at stop
  std::map<std::pair<std::string, std::string>, std::uint64_t> counts_;
};

}  // namespace zpark::tasks
