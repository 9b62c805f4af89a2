#pragma once
// The default store: the SQLite outbox in the data directory, for one instance.
#include "tasks/store.hpp"

namespace zpark::tasks {

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(Outbox& outbox) : outbox_(outbox) {}
  std::string where() const override { return "the outbox " + outbox_.path().string(); }
  awaitable<std::vector<Accepted>> accept(std::vector<NewTask> batch, std::int64_t now_ms) override {
    co_return outbox_.accept(batch, now_ms);
  }
  awaitable<void> check_writable(std::int64_t now_ms) override {
    outbox_.check_writable(now_ms);
    co_return;
  }
  awaitable<std::vector<Task>> pending() override { co_return outbox_.pending(); }
  awaitable<std::optional<Task>> find(std::string taskid) override { co_return outbox_.find(taskid); }
  awaitable<bool> mark_attempt(std::string taskid, int attempts) override {
    co_return outbox_.mark_attempt(taskid, attempts);
  }
  awaitable<bool> mark_delivered(std::string taskid, std::string webex_id, std::int64_t now_ms) override {
    co_return outbox_.mark_delivered(taskid, webex_id, now_ms);
  }
  awaitable<bool> mark_failed(std::string taskid, std::string reason, std::int64_t now_ms) override {
    co_return outbox_.mark_failed(taskid, reason, now_ms);
  }
  awaitable<void> remember_thread(std::string event_id, std::string recipient, ThreadRoot root,
                                  std::int64_t now_ms) override {
    outbox_.remember_thread(event_id, recipient, root.message_id, root.room_id, root.markdown, now_ms);
    co_return;
  }
  awaitable<std::optional<ThreadRoot>> thread(std::string event_id, std::string recipient) override {
    co_return outbox_.thread(event_id, recipient);
  }
  awaitable<std::optional<std::string>> thread_event(std::string root_message_id) override {
    co_return outbox_.thread_event(root_message_id);
  }
  awaitable<std::size_t> prune(std::int64_t cutoff_ms) override { co_return outbox_.prune(cutoff_ms); }

  // One instance: every lane is its own, nothing to share.
  bool shared() const override { return false; }
  void set_events(StoreEvents) override {}
  awaitable<bool> own_lane(std::string) override { co_return true; }
  awaitable<void> release_lane(std::string) override { co_return; }
  awaitable<std::vector<Task>> pending_in_lane(std::string, std::size_t) override { co_return std::vector<Task>{}; }
  awaitable<std::vector<std::string>> pending_lanes() override { co_return std::vector<std::string>{}; }
  awaitable<void> share_pause(std::int64_t) override { co_return; }
  awaitable<std::int64_t> shared_pause() override { co_return 0; }
  awaitable<std::optional<std::string>> claim_message(std::string, std::string, std::int64_t) override {
    co_return std::nullopt;
  }
  awaitable<bool> lead(std::string) override { co_return true; }

 private:
  Outbox& outbox_;
};

}  // namespace zpark::tasks
