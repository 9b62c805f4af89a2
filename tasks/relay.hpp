#pragma once
// The alert relay: accepted alerts are written to the outbox (grouped into one transaction
// with whatever arrives at the same moment) before the caller answers 200, then delivered
// by one lane coroutine per recipient, in order, with retries, a shared 429 pause, Zabbix
// retry dedup and threading of update/recovery messages under their problem.
//
// With a shared store (PostgreSQL, several instances) a lane runs only where the store says
// this instance owns it; it reads its tasks from the store, whoever accepted them, and a scan
// every second takes over the lanes that have work and no owner (another instance died).
//
// What to do next with a task is decided by next_step (tasks/retry_policy.hpp) from the
// task's Delivery state, the last answer and the time; this file only carries it out. Time
// comes from one injected Clock, so tests run pauses, backoff and ages in simulated time.
#include "spark/alert.hpp"
#include "spark/cards.hpp"
#include "spark/message_format.hpp"
#include "spark/sink.hpp"
#include "tasks/alert_keys.hpp"
#include "tasks/bot_updates.hpp"
#include "tasks/clock.hpp"
#include "tasks/store.hpp"
#include "tasks/retry_policy.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <unordered_map>

namespace zpark::tasks {

struct RelayOptions {
  std::chrono::seconds max_age{86400};  // undelivered longer than this: failed
  bool edit_on_recovery = false;        // edit the problem message to say it is resolved
  std::string admin_room;               // final failures are reported there too
  RetryPolicy retry;
  std::chrono::hours keep_history{24 * 30};  // delivered/failed tasks and thread roots
  spark::FormatOptions format;               // ZPARK_ESCAPE_MESSAGE
  // ZPARK_ALERT_CARDS: after each problem message, a card with buttons in its thread.
  std::optional<spark::CardOptions> cards;
};

struct RelayStats {
  std::uint64_t accepted = 0, duplicates = 0, delivered = 0, failed = 0, retries = 0, rate_limited = 0;
  std::uint64_t webex_sends = 0, commits = 0;
  std::uint64_t echoes_dropped = 0;  // Zabbix updates for the bot's own acts, already told by its reply
  std::size_t queued = 0;  // in lanes, not yet delivered
  std::size_t lanes = 0;
  bool paused = false;     // derived in stats() from the pause deadline
};

class Relay {
 public:
  Relay(boost::asio::any_io_executor ex, Store& store, spark::MessageSink& sink, RelayOptions options,
        Clock& clock = system_clock());

  // Durably stores the alerts and queues them; one Accepted per alert, same order.
  // Throws when the outbox cannot write (nothing was accepted then).
  boost::asio::awaitable<std::vector<Accepted>> accept(std::vector<spark::Alert> alerts);
  // Queues everything the outbox still holds as pending (at start-up); with a shared store,
  // starts the scan for lanes without an owner.
  void resume();
  // Lanes stop after their current send; what is left stays in the outbox. Let the
  // executor run once more before destroying the relay so the lanes can unwind.
  void stop();
  RelayStats stats() const;
  // Why the relay cannot take alerts now (the outbox refuses writes: disk full, read-only),
  // with what to do; empty when it can. For /readyz. Cleared by the next write that works;
  // while set, the outbox is tried again every few seconds.
  const std::string& problem() const { return problem_; }
  // The Webex 429 pause is per token: command replies go through the lanes, and the message
  // fetches of commands wait for it and extend it too.
  std::chrono::steady_clock::time_point paused_until() const;
  void pause_all(std::chrono::milliseconds d);
  boost::asio::awaitable<std::optional<Task>> find(std::string taskid) { return store_.find(std::move(taskid)); }
  Store& store() { return store_; }
  // Called once a problem alert's first message is recorded delivered, with that message's id
  // and room (the root of the alert's thread). It must not wait: start slow work (a graph) on
  // the executor. An exception it throws is logged, never the delivery's concern.
  using ProblemDelivered =
      std::function<void(const spark::Alert& alert, const std::string& message_id, const std::string& room_id)>;
  void on_problem_delivered(ProblemDelivered fn) { on_problem_delivered_ = std::move(fn); }
  // The event of the problem alert whose Webex message `root_message_id` is (the root of its
  // thread); nullopt when it is none of ours or the outbox cannot be read.
  boost::asio::awaitable<std::optional<std::string>> thread_event(std::string root_message_id);
  // The bot is about to write `message` on `event_id` for a user answered in `room_id`:
  // Zabbix's update alert carrying that message is not delivered to that room (bot_updates.hpp).
  void expect_bot_update(std::string event_id, std::string room_id, std::string message) {
    bot_updates_.expect(std::move(event_id), std::move(room_id), std::move(message), clock_.now_ms());
  }

 private:
  // A task in its lane, with how far its delivery got.
  struct Queued {
    std::string taskid;
    std::string payload;
    Delivery delivery;
    // Read from the payload when the task reaches the front of its lane.
    bool prepared = false;
    spark::Alert alert;
    std::vector<std::string> parts;
    std::optional<Store::ThreadRoot> root;  // update/recovery: the problem's message
    bool echo = false;  // an update the bot's reply already told: recorded, not sent
  };
  struct Lane {
    std::deque<Queued> queue;
    boost::asio::steady_timer* timer = nullptr;  // the lane's waits; stop() cancels it
    bool lost = false;  // shared store: another instance may own it now; stop sending
  };
  struct PendingAccept;

  // A stored task as its lane queues it, with the progress the outbox kept.
  static Queued queued_from(Task t);
  void flush();
  boost::asio::awaitable<void> commit(std::vector<PendingAccept*> batch);
  void enqueue(const std::string& recipient, Queued task);
  void kick(const std::string& key);
  void start_lane(const std::string& key);
  boost::asio::awaitable<void> run_lane(std::string key);
  boost::asio::awaitable<bool> refill(std::string key, bool peek = false);
  boost::asio::awaitable<void> deliver(std::string key);
  boost::asio::awaitable<void> prepare(std::string key);
  boost::asio::awaitable<void> record_attempt(std::string taskid, int attempts);
  boost::asio::awaitable<Answer> record_delivered(std::string key);
  boost::asio::awaitable<Answer> record_failed(std::string key);
  boost::asio::awaitable<void> scan_shared();
  void lanes_lost();
  void shared_pause_seen(std::int64_t until_ms);
  void wrote();
  std::string write_failed(const std::exception& e);
  boost::asio::awaitable<void> probe_outbox();
  boost::asio::awaitable<void> housekeeping();

  boost::asio::any_io_executor ex_;
  Store& store_;
  spark::MessageSink& sink_;
  RelayOptions opts_;
  DeliveryRules rules_;
  Clock& clock_;
  std::unordered_map<std::string, Lane> lanes_;
  std::vector<PendingAccept*> batch_;
  bool flush_scheduled_ = false;
  std::size_t flush_seen_ = 0;  // batch size at the last look, to see whether it still grows
  int flush_rounds_ = 0;
  bool committing_ = false;     // an accept commit is in flight
  bool flush_waiting_ = false;  // a batch waits for it
  bool stopping_ = false;
  Shared shared_;  // the 429 pause and the outbox's last good write, on clock_
  std::string problem_;
  std::size_t refused_ = 0;  // alerts refused since the outbox began to refuse writes
  boost::asio::steady_timer* probe_timer_ = nullptr;  // while probe_outbox runs
  boost::asio::steady_timer* scan_timer_ = nullptr;   // while scan_shared runs
  std::mt19937_64 rng_{std::random_device{}()};
  RelayStats stats_;
  BotUpdates bot_updates_;
  boost::asio::steady_timer housekeeping_timer_;
  ProblemDelivered on_problem_delivered_;
};

}  // namespace zpark::tasks
