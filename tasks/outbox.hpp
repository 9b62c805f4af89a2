// The durable outbox: an accepted alert is on disk before its 200 goes out, and stays until
// Webex took it or the failure is final. Synchronous SQLite, no other I/O.
//
// Not thread-safe: one Outbox per process, used from the io_context thread. Every call is a
// short synchronous SQLite transaction; with fsync_each_commit it includes one fdatasync.
// Errors (disk full, I/O error, corrupt file) throw sqlite::Error (a std::runtime_error
// whose problem() says what is wrong and what to do).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zpark::tasks {

struct NewTask {
  std::string recipient;  // email or room id; the delivery lane key
  std::string dedup_key;  // empty = no dedup; else dedup_key() of tasks/alert_keys.hpp:
                          // "eventid|kind|recipient|SHA-256 of the text"
  std::string payload;    // JSON text of the alert (spark::to_json); the outbox reads it only to
                          // make dedup keys again when their format changes (a migration)
};

struct Accepted {
  std::string taskid;
  bool duplicate = false;
};

enum class TaskState { pending, delivered, failed };

struct Task {
  std::string taskid;
  std::int64_t seq = 0;  // accept order; pending() resumes in this order
  std::string recipient;
  std::string payload;
  TaskState state = TaskState::pending;
  int attempts = 0;
  std::int64_t accepted_at_ms = 0;
  std::string webex_id;  // set when delivered
  std::string reason;    // set when failed
};

struct OutboxOptions {
  std::filesystem::path data_dir;
  // FULL survives power loss; NORMAL only process crashes (kill -9), but is much faster on
  // slow disks.
  bool fsync_each_commit = true;
  std::chrono::seconds dedup_window{3600};
};

class Outbox {
public:
  // Creates data_dir if missing and data_dir/outbox.sqlite3 (WAL). Throws std::runtime_error
  // "cannot open outbox at <path>: <why and what to do>; check ZPARK_DATA_DIR", also for an
  // existing outbox that SQLite would silently open as empty or without its WAL (an empty
  // file, a damaged WAL, a WAL without its file): that would drop what was pending.
  explicit Outbox(OutboxOptions opts);
  ~Outbox();
  Outbox(Outbox&&) noexcept;
  Outbox& operator=(Outbox&&) noexcept;

  const std::filesystem::path& path() const;

  // One transaction for the whole batch (group commit). A task whose dedup_key was accepted
  // less than dedup_window before now_ms (also earlier in this batch) adds no row: its answer
  // is the first task's id with duplicate = true. Answers are in batch order.
  std::vector<Accepted> accept(const std::vector<NewTask>& batch, std::int64_t now_ms);

  // Writes (and commits) one small row: throws like any write when the disk takes none, so
  // that a refused write can be retried until the disk takes writes again.
  void check_writable(std::int64_t now_ms);

  std::vector<Task> pending() const;  // ordered by seq, for resuming after a restart
  std::optional<Task> find(const std::string& taskid) const;

  // The state changes below touch pending tasks only and return false for an unknown or
  // already finished task, so a late or repeated call cannot flip a final state.
  bool mark_attempt(const std::string& taskid, int attempts);
  bool mark_delivered(const std::string& taskid, const std::string& webex_id, std::int64_t now_ms);
  bool mark_failed(const std::string& taskid, const std::string& reason, std::int64_t now_ms);

  // Thread roots: the Webex message (and room) that started an event's thread for a recipient,
  // with its markdown so it can be edited to show the event resolved. Remembering again for
  // the same event and recipient replaces the earlier root.
  struct ThreadRoot {
    std::string message_id;
    std::string room_id;
    std::string markdown;
  };
  void remember_thread(const std::string& event_id, const std::string& recipient,
                       const std::string& message_id, const std::string& room_id,
                       const std::string& markdown, std::int64_t now_ms);
  std::optional<ThreadRoot> thread(const std::string& event_id, const std::string& recipient) const;
  // The event whose thread starts at that Webex message (a command written in the thread
  // names it as its parent); nullopt when it is not one of our thread roots (or was pruned).
  std::optional<std::string> thread_event(const std::string& root_message_id) const;

  // Deletes tasks finished before cutoff_ms, thread roots remembered before it and dedup
  // entries accepted before it; returns the number of tasks deleted. Pending tasks stay.
  // Choose a cutoff older than dedup_window, or duplicates of recent alerts get through.
  std::size_t prune(std::int64_t cutoff_ms);

  struct Counts {
    std::size_t pending = 0, delivered = 0, failed = 0;
  };
  Counts counts() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zpark::tasks
