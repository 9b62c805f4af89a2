#pragma once
// Where accepted alerts wait until Webex has them: the relay's view of the outbox. Two
// backends: SQLite in the data directory (one instance, the default; tasks/sqlite_store.hpp)
// and PostgreSQL (several instances on one database; tasks/pg/store.hpp). Every call is a
// coroutine: SQLite's complete without suspending, PostgreSQL's wait on the network.
// Errors throw: sqlite::Error or pg::Error (std::runtime_error), whose text says what to do.
#include "tasks/outbox.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace zpark::tasks {

// What a shared store tells the relay of the other instances, as it happens.
struct StoreEvents {
  std::function<void(const std::string& lane)> lane_has_work;  // another instance accepted for it
  std::function<void(std::int64_t until_ms)> paused_until;     // another instance saw a 429
  std::function<void()> lanes_lost;  // every lane this instance owned may now be another's
};

class Store {
 public:
  template <class T>
  using awaitable = boost::asio::awaitable<T>;
  using ThreadRoot = Outbox::ThreadRoot;

  virtual ~Store() = default;
  // Names the store in messages: "the outbox /data/outbox.sqlite3".
  virtual std::string where() const = 0;

  virtual awaitable<std::vector<Accepted>> accept(std::vector<NewTask> batch, std::int64_t now_ms) = 0;
  virtual awaitable<void> check_writable(std::int64_t now_ms) = 0;
  virtual awaitable<std::vector<Task>> pending() = 0;  // all pending tasks, in accept order
  virtual awaitable<std::optional<Task>> find(std::string taskid) = 0;
  virtual awaitable<bool> mark_attempt(std::string taskid, int attempts) = 0;
  virtual awaitable<bool> mark_delivered(std::string taskid, std::string webex_id, std::int64_t now_ms) = 0;
  virtual awaitable<bool> mark_failed(std::string taskid, std::string reason, std::int64_t now_ms) = 0;
  virtual awaitable<void> remember_thread(std::string event_id, std::string recipient, ThreadRoot root,
                                          std::int64_t now_ms) = 0;
  virtual awaitable<std::optional<ThreadRoot>> thread(std::string event_id, std::string recipient) = 0;
  virtual awaitable<std::optional<std::string>> thread_event(std::string root_message_id) = 0;
  virtual awaitable<std::size_t> prune(std::int64_t cutoff_ms) = 0;

  // Several instances share this store. Then a lane is delivered only by the instance that
  // owns it, tasks accepted by others come from pending_in_lane(), and the 429 pause, handled
  // webhook messages and the webhook repair are shared. A store of one instance answers as
  // SqliteStore does. (Pure virtual: GCC 12 miscompiles a call through the base class to an
  // override of a virtual coroutine that has a body.)
  virtual bool shared() const = 0;
  virtual void set_events(StoreEvents events) = 0;
  // True when this instance now owns the lane (or already did).
  virtual awaitable<bool> own_lane(std::string lane) = 0;
  virtual awaitable<void> release_lane(std::string lane) = 0;
  virtual awaitable<std::vector<Task>> pending_in_lane(std::string lane, std::size_t limit) = 0;
  virtual awaitable<std::vector<std::string>> pending_lanes() = 0;
  virtual awaitable<void> share_pause(std::int64_t until_ms) = 0;
  virtual awaitable<std::int64_t> shared_pause() = 0;
  // Webex delivered this webhook message: the taskid the first instance gave it, or nullopt
  // when this call is the first (it then stored `taskid`).
  virtual awaitable<std::optional<std::string>> claim_message(std::string message_id, std::string taskid,
                                                              std::int64_t now_ms) = 0;
  // True while this instance is the one to run `job` (e.g. the webhook repair).
  virtual awaitable<bool> lead(std::string job) = 0;
};

}  // namespace zpark::tasks
