#pragma once
// The alert relay: accepted alerts are written to the outbox (grouped into one transaction
// with whatever arrives at the same moment) before the caller answers 200, then delivered
// by one lane coroutine per recipient, in order, with retries, a shared 429 pause, Zabbix
// retry dedup and threading of update/recovery messages under their problem.
#include "spark/alert.hpp"
#include "spark/sink.hpp"
#include "tasks/outbox.hpp"
#include "tasks/retry_policy.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <random>
#include <unordered_map>

namespace zpark::tasks {

struct RelayOptions {
  std::chrono::seconds max_age{86400};  // undelivered longer than this: failed
  bool edit_on_recovery = false;        // edit the problem message to say it is resolved
  std::string admin_room;               // final failures are reported there too
  RetryPolicy retry;
  std::chrono::hours keep_history{24 * 30};  // delivered/failed tasks and thread roots
};

struct RelayStats {
  std::uint64_t accepted = 0, duplicates = 0, delivered = 0, failed = 0, retries = 0, rate_limited = 0;
  std::uint64_t webex_sends = 0, commits = 0;
  std::size_t queued = 0;  // in lanes, not yet delivered
  std::size_t lanes = 0;
  bool paused = false;     // derived in stats() from the pause deadline
};

// Milliseconds since the epoch; injectable for tests.
using Clock = std::function<std::int64_t()>;
std::int64_t system_now_ms();

class Relay {
 public:
  Relay(boost::asio::any_io_executor ex, Outbox& outbox, spark::MessageSink& sink, RelayOptions options,
        Clock clock = system_now_ms);

  // Durably stores the alerts and queues them; one Accepted per alert, same order.
  // Throws when the outbox cannot write (nothing was accepted then).
  boost::asio::awaitable<std::vector<Accepted>> accept(std::vector<spark::Alert> alerts);
  // Queues everything the outbox still holds as pending (at start-up).
  void resume();
  // Lanes stop after their current send; what is left stays in the outbox. Let the
  // executor run once more before destroying the relay so the lanes can unwind.
  void stop();
  RelayStats stats() const;
  // The Webex 429 pause is per token: command replies go through the lanes, and the message
  // fetches of commands wait for it and extend it too.
  std::chrono::steady_clock::time_point paused_until() const { return paused_until_; }
  void pause_all(std::chrono::milliseconds d);
  std::optional<Task> find(const std::string& taskid) const { return outbox_.find(taskid); }

 private:
  struct Queued {
    std::string taskid;
    std::string payload;
    std::int64_t accepted_at_ms;
    int attempts;
  };
  struct Lane {
    std::deque<Queued> queue;
    boost::asio::steady_timer* sleeping = nullptr;  // to wake it at stop
  };
  struct PendingAccept;

  void flush();
  void enqueue(const std::string& recipient, Queued task);
  boost::asio::awaitable<void> run_lane(std::string key);
  boost::asio::awaitable<void> deliver(std::string key, Queued task);
  boost::asio::awaitable<spark::SendResult> send_parts(const spark::Alert& alert, std::vector<std::string>& parts,
                                                       std::size_t& next_part, std::string& first_id,
                                                       std::string& parent);
  boost::asio::awaitable<bool> sleep(const std::string& key, std::chrono::milliseconds d);
  void fail(const Queued& task, const spark::Alert& alert, const std::string& reason);
  boost::asio::awaitable<void> housekeeping();

  boost::asio::any_io_executor ex_;
  Outbox& outbox_;
  spark::MessageSink& sink_;
  RelayOptions opts_;
  Clock clock_;
  std::unordered_map<std::string, Lane> lanes_;
  std::vector<PendingAccept*> batch_;
  bool flush_scheduled_ = false;
  std::size_t flush_seen_ = 0;  // batch size at the last look, to see whether it still grows
  int flush_rounds_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point paused_until_{};
  std::mt19937_64 rng_{std::random_device{}()};
  RelayStats stats_;
  boost::asio::steady_timer housekeeping_timer_;
};

// Lane key: emails compare case-insensitively, room ids exactly.
std::string lane_key(const std::string& recipient);
// Key under which a Zabbix retry of the same alert is recognised; empty for plain alerts.
std::string dedup_key(const spark::Alert& alert);

}  // namespace zpark::tasks
