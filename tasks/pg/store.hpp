#pragma once
// The outbox in PostgreSQL, for several Zpark instances on one database (ZPARK_DATABASE_URL).
//
// Lane ownership uses session advisory locks (pg_try_advisory_lock) taken on one connection of
// this instance's own, the "lock connection": PostgreSQL releases them the moment that session
// ends, so a killed instance frees its lanes at once, and a vanished machine within the
// keepalive/tcp_user_timeout set on that session (about 10 s), with no lease to renew and no
// clock to trust. The lock connection also LISTENs: "zpark_lanes" (another instance accepted
// alerts for a lane) and "zpark_pause" (another instance saw a Webex 429). When it breaks,
// every lane is taken for lost (StoreEvents::lanes_lost) and it is made again with back-off.
#include "tasks/pg/pool.hpp"
#include "tasks/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <set>
#include <string>

namespace zpark::tasks::pg {

struct StoreOptions {
  ConnectOptions connect;
  std::size_t pool_size = 4;
  std::chrono::seconds dedup_window{3600};
};

// Applies the schema migrations (under an advisory lock, so instances starting together do
// not race) and returns the schema version. Throws Error.
boost::asio::awaitable<int> migrate(Connection& c);
int schema_version();  // the version this build writes

class PgStore final : public Store {
 public:
  PgStore(boost::asio::any_io_executor ex, StoreOptions opts);
  ~PgStore() override;

  // Connects, migrates and starts the lock connection. Throws Error (e.g. unreachable): the
  // service does not start on a database it has never reached.
  awaitable<void> open();
  void close();
  // Why the lock connection is down ("" when up): lanes are not delivered meanwhile.
  const std::string& lock_problem() const { return lock_problem_; }

  std::string where() const override;
  awaitable<std::vector<Accepted>> accept(std::vector<NewTask> batch, std::int64_t now_ms) override;
  awaitable<void> check_writable(std::int64_t now_ms) override;
  awaitable<std::vector<Task>> pending() override;
  awaitable<std::optional<Task>> find(std::string taskid) override;
  awaitable<bool> mark_attempt(std::string taskid, int attempts) override;
  awaitable<bool> mark_delivered(std::string taskid, std::string webex_id, std::int64_t now_ms) override;
  awaitable<bool> mark_failed(std::string taskid, std::string reason, std::int64_t now_ms) override;
  awaitable<void> remember_thread(std::string event_id, std::string recipient, ThreadRoot root,
                                  std::int64_t now_ms) override;
  awaitable<std::optional<ThreadRoot>> thread(std::string event_id, std::string recipient) override;
  awaitable<std::optional<std::string>> thread_event(std::string root_message_id) override;
  awaitable<std::size_t> prune(std::int64_t cutoff_ms) override;

  bool shared() const override { return true; }
  void set_events(StoreEvents events) override { events_ = std::move(events); }
  awaitable<bool> own_lane(std::string lane) override;
  awaitable<void> release_lane(std::string lane) override;
  awaitable<std::vector<Task>> pending_in_lane(std::string lane, std::size_t limit) override;
  awaitable<std::vector<std::string>> pending_lanes() override;
  awaitable<void> share_pause(std::int64_t until_ms) override;
  awaitable<std::int64_t> shared_pause() override;
  awaitable<std::optional<std::string>> claim_message(std::string message_id, std::string taskid,
                                                      std::int64_t now_ms) override;
  awaitable<bool> lead(std::string job) override;

 private:
  awaitable<void> keep_lock_connection();
  awaitable<bool> try_lock(std::int32_t space, const std::string& name);
  awaitable<bool> change_pending(std::string set, Params params);
  void lock_connection_lost(const std::string& why);

  boost::asio::any_io_executor ex_;
  StoreOptions opts_;
  Pool pool_;     // accepts and reads: commits as durable as the server makes them
  Pool relaxed_;  // delivery records and thread roots: synchronous_commit off (a database crash
                  // can forget the last moment's records, which at worst sends an alert again)
  std::unique_ptr<Connection> locks_;  // advisory locks + LISTEN
  std::set<std::string> owned_, leading_;
  StoreEvents events_;
  std::string lock_problem_ = "not connected yet";
  boost::asio::steady_timer lock_timer_;
  bool closing_ = false;
  bool opened_ = false;  // schema checked: accepts may go to the database
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace zpark::tasks::pg
