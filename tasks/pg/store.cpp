#include "tasks/pg/store.hpp"

#include "conf/log.hpp"
#include "tasks/alert_keys.hpp"
#include "tasks/task_id.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <map>

namespace zpark::tasks::pg {

namespace asio = boost::asio;
using asio::awaitable;
using namespace std::string_literals;  // GCC 12 cannot pass a string literal to a coroutine taking std::string

namespace {

// migrations[i] moves the schema from version i to i + 1. Never edit one that has shipped.
// Table names start with zpark_ so that a database shared with other programs stays readable.
const char* const migrations[] = {
    R"sql(
CREATE TABLE zpark_tasks (
  seq            bigserial PRIMARY KEY,   -- accept order
  taskid         text NOT NULL UNIQUE,
  recipient      text NOT NULL,
  lane           text NOT NULL,           -- lane_key(recipient): one owner delivers it
  payload        text NOT NULL,
  state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts       integer NOT NULL DEFAULT 0,
  accepted_at_ms bigint NOT NULL,
  finished_at_ms bigint,
  webex_id       text,
  reason         text
);
CREATE INDEX zpark_tasks_pending ON zpark_tasks (lane, seq) WHERE state = 'pending';
CREATE INDEX zpark_tasks_finished ON zpark_tasks (finished_at_ms) WHERE state <> 'pending';
-- One row per key: the task that opened the current window.
CREATE TABLE zpark_dedup (
  key            text PRIMARY KEY,
  taskid         text NOT NULL,
  accepted_at_ms bigint NOT NULL
);
CREATE TABLE zpark_threads (
  event_id      text NOT NULL,
  recipient     text NOT NULL,
  message_id    text NOT NULL,
  room_id       text NOT NULL,
  markdown      text NOT NULL DEFAULT '',
  created_at_ms bigint NOT NULL,
  PRIMARY KEY (event_id, recipient)
);
CREATE INDEX zpark_threads_message ON zpark_threads (message_id);
-- The Webex 429 pause of the bot token, shared by every instance.
CREATE TABLE zpark_pause (
  id       integer PRIMARY KEY CHECK (id = 1),
  until_ms bigint NOT NULL
);
-- Webhook messages an instance has taken: Webex's repeats are answered once.
CREATE TABLE zpark_handled (
  message_id text PRIMARY KEY,
  taskid     text NOT NULL,
  at_ms      bigint NOT NULL
);
CREATE TABLE zpark_write_probe (
  id    integer PRIMARY KEY CHECK (id = 1),
  at_ms bigint NOT NULL
);
)sql",
};
constexpr int latest = int(std::size(migrations));

// Advisory lock keys: (space, hash of a name). Spaces keep lanes, jobs and the migration apart.
constexpr std::int32_t space_base = 0x7a706b00;  // "zpk\0"
constexpr std::int32_t lanes_space = space_base + 1, jobs_space = space_base + 2, migration_space = space_base + 3;

// FNV-1a: the same on every build and machine, unlike std::hash.
std::int32_t name_key(const std::string& s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return static_cast<std::int32_t>(h);
}

// A PostgreSQL array literal of texts: {"a","b\"c"}.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + '}';
}

constexpr const char* task_columns =
    "taskid, seq, recipient, payload, state, attempts, accepted_at_ms, coalesce(webex_id, ''), coalesce(reason, '')";

TaskState parse_state(const std::string& s) {
  if (s == "delivered") return TaskState::delivered;
  if (s == "failed") return TaskState::failed;
  return TaskState::pending;
}

Task read_task(const Result& r, int row) {
  Task t;
  t.taskid = r.text(row, 0);
  t.seq = r.int64(row, 1);
  t.recipient = r.text(row, 2);
  t.payload = r.text(row, 3);
  t.state = parse_state(r.text(row, 4));
  t.attempts = static_cast<int>(r.int64(row, 5));
  t.accepted_at_ms = r.int64(row, 6);
  t.webex_id = r.text(row, 7);
  t.reason = r.text(row, 8);
  return t;
}

std::vector<Task> read_tasks(const Result& r) {
  std::vector<Task> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_task(r, i));
  return out;
}

std::string num(std::int64_t v) { return std::to_string(v); }

}  // namespace

int schema_version() { return latest; }

awaitable<int> migrate(Connection& c) {
  co_await c.exec("BEGIN"s);
  try {
    Params key{num(migration_space), num(0)};
    co_await c.query("SELECT pg_advisory_xact_lock($1::int, $2::int)"s, key);
    co_await c.exec(
        "CREATE TABLE IF NOT EXISTS zpark_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL);"
        "INSERT INTO zpark_schema VALUES (1, 0) ON CONFLICT (id) DO NOTHING"s);
    auto r = co_await c.query("SELECT version FROM zpark_schema"s);
    int v = static_cast<int>(r.int64(0, 0));
    if (v > latest)
      throw Error(fmt::format("the database's zpark schema is version {}, newer than this zpark knows ({}); "
                              "run a newer zpark",
                              v, latest),
                  false);
    for (; v < latest; ++v) co_await c.exec(migrations[v]);
    Params version{num(latest)};
    co_await c.query("UPDATE zpark_schema SET version = $1::int"s, version);
    co_await c.exec("COMMIT"s);
    co_return latest;
  } catch (...) {
    c.close();  // the transaction dies with the session
    throw;
  }
}

PgStore::PgStore(asio::any_io_executor ex, StoreOptions opts)
    : ex_(ex),
      opts_(std::move(opts)),
      pool_(ex, opts_.connect, opts_.pool_size),
      relaxed_(ex, opts_.connect, std::max<std::size_t>(1, opts_.pool_size / 2), "SET synchronous_commit = off"),
      lock_timer_(ex) {}

PgStore::~PgStore() { close(); }

std::string PgStore::where() const { return "the PostgreSQL outbox at " + describe(opts_.connect.url); }

awaitable<void> PgStore::open() {
  auto c = co_await pool_.dedicated();
  int v = co_await migrate(*c);
  opened_ = true;
  log::info("PostgreSQL outbox ready", {{"database", describe(opts_.connect.url)}, {"schema", v}});
  asio::co_spawn(ex_, keep_lock_connection(), [](std::exception_ptr e) {
    if (e) log::error("PostgreSQL lock connection keeper stopped");
  });
}

void PgStore::close() {
  if (closing_) return;
  closing_ = true;
  *alive_ = false;
  lock_timer_.cancel();
  if (locks_) {
    locks_->on_lost = nullptr;
    locks_->close();
  }
  pool_.close();
  relaxed_.close();
}

awaitable<void> PgStore::keep_lock_connection() {
  auto alive = alive_;
  std::chrono::milliseconds wait{500};
  while (!closing_) {
    try {
      auto c = co_await pool_.dedicated();
      if (!*alive) co_return;
      c->on_notify = [this, alive](const std::string& channel, const std::string& payload) {
        if (!*alive) return;
        if (channel == "zpark_lanes" && events_.lane_has_work) events_.lane_has_work(payload);
        if (channel == "zpark_pause" && events_.paused_until) events_.paused_until(std::strtoll(payload.c_str(), nullptr, 10));
      };
      c->on_lost = [this, alive](const std::string& why) {
        if (*alive) lock_connection_lost(why);
      };
      // The server drops this session (and so its locks) within ~10 s of this machine
      // vanishing, instead of the kernel's default two hours of keepalive.
      std::string session =
          "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3;"
          "SET tcp_user_timeout = 10000; LISTEN zpark_lanes; LISTEN zpark_pause";
      co_await c->exec(std::move(session));
      if (!*alive) co_return;
      locks_ = std::move(c);
      if (!lock_problem_.empty() && lock_problem_ != "not connected yet")
        log::info("PostgreSQL lock connection is back: lanes are taken again", {{"database", describe(opts_.connect.url)}});
      lock_problem_.clear();
      wait = std::chrono::milliseconds(500);
      lock_timer_.expires_at(asio::steady_timer::time_point::max());
      co_await lock_timer_.async_wait(asio::as_tuple(asio::use_awaitable));  // until lost or closed
      if (!*alive) co_return;
    } catch (const Error& e) {
      if (!*alive) co_return;
      if (lock_problem_ != e.what()) log::error("no PostgreSQL lock connection: lanes wait", {{"error", e.what()}});
      lock_problem_ = e.what();
    }
    lock_timer_.expires_after(wait);
    co_await lock_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!*alive) co_return;
    wait = std::min(wait * 2, std::chrono::milliseconds(5000));
  }
}

void PgStore::lock_connection_lost(const std::string& why) {
  lock_problem_ = "the PostgreSQL lock connection broke: " + why;
  log::error("PostgreSQL lock connection lost: this instance's lanes may now be another's", {{"error", why}});
  owned_.clear();
  leading_.clear();
  lock_timer_.cancel();
  if (events_.lanes_lost) events_.lanes_lost();
}

awaitable<bool> PgStore::try_lock(std::int32_t space, const std::string& name) {
  if (!locks_ || !locks_->connected()) co_return false;
  try {
    Params params{num(space), num(name_key(name))};
    auto r = co_await locks_->query("SELECT pg_try_advisory_lock($1::int, $2::int)"s, std::move(params));
    co_return r.text(0, 0) == "t";
  } catch (const Error& e) {
    log::warn("cannot take a PostgreSQL advisory lock", {{"name", name}, {"error", e.what()}});
    co_return false;
  }
}

awaitable<bool> PgStore::own_lane(std::string lane) {
  if (owned_.contains(lane)) co_return true;
  // Awaited in its own statement: GCC 12 miscompiles `if (co_await ...)` in a coroutine that
  // already has a co_return (its resume jumps to an invalid state).
  const bool got = co_await try_lock(lanes_space, lane);
  if (got) {
    owned_.insert(lane);
    co_return true;
  }
  co_return false;
}

awaitable<void> PgStore::release_lane(std::string lane) {
  if (!owned_.erase(lane) || !locks_ || !locks_->connected()) co_return;
  try {
    Params params{num(lanes_space), num(name_key(lane))};
    co_await locks_->query("SELECT pg_advisory_unlock($1::int, $2::int)"s, std::move(params));
  } catch (const Error& e) {
    log::warn("cannot release a lane's PostgreSQL lock", {{"lane", lane}, {"error", e.what()}});
  }
}

awaitable<bool> PgStore::lead(std::string job) {
  if (leading_.contains(job)) co_return true;
  const bool got = co_await try_lock(jobs_space, job);  // its own statement: see own_lane()
  if (got) {
    leading_.insert(job);
    co_return true;
  }
  co_return false;
}

awaitable<std::vector<Accepted>> PgStore::accept(std::vector<NewTask> batch, std::int64_t now_ms) {
  std::vector<Accepted> out(batch.size());
  if (batch.empty()) co_return out;
  if (!opened_)
    throw Error("not open yet (its schema is checked at start, once the database can be reached); "
                "see /readyz",
                true);
  // A key twice in one batch: the later ones are the first one's duplicates (one statement
  // cannot claim a key twice).
  std::map<std::string, std::size_t> first_of_key;
  std::vector<std::size_t> rows;  // indexes of batch sent to the database
  std::vector<std::string> ids = new_task_ids(batch.size()), taskids, recipients, lanes, payloads, keys;
  std::vector<std::optional<std::size_t>> copy_of(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& t = batch[i];
    if (!t.dedup_key.empty()) {
      auto [it, fresh] = first_of_key.try_emplace(t.dedup_key, i);
      if (!fresh) {
        copy_of[i] = it->second;
        continue;
      }
    }
    rows.push_back(i);
    taskids.push_back(ids[i]);
    recipients.push_back(t.recipient);
    lanes.push_back(lane_key(t.recipient));
    payloads.push_back(t.payload);
    keys.push_back(t.dedup_key);
  }
  const std::int64_t window = std::chrono::milliseconds(opts_.dedup_window).count();
  // One statement, so one round trip and one commit: claim the dedup keys (a key is taken
  // again only once its window has passed), insert the tasks whose key was claimed or that
  // have none, in batch order, and tell the other instances which lanes have work.
  Params params{text_array(taskids), text_array(recipients), text_array(lanes), text_array(payloads),
                                 text_array(keys), num(now_ms), num(now_ms - window)};
  auto r = co_await pool_.query(R"sql(
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
    AS i(taskid, recipient, lane, payload, key, ord)
), claimed AS (
  INSERT INTO zpark_dedup AS d (key, taskid, accepted_at_ms)
  SELECT key, taskid, $6::bigint FROM input WHERE key <> ''
  ON CONFLICT (key) DO UPDATE SET taskid = excluded.taskid, accepted_at_ms = excluded.accepted_at_ms
    WHERE d.accepted_at_ms <= $7::bigint
  RETURNING d.taskid
), inserted AS (
  INSERT INTO zpark_tasks (taskid, recipient, lane, payload, accepted_at_ms)
  SELECT taskid, recipient, lane, payload, $6::bigint FROM input
  WHERE key = '' OR taskid IN (SELECT taskid FROM claimed)
  ORDER BY ord
  RETURNING taskid, lane
), notified AS (
  SELECT count(pg_notify('zpark_lanes', lane)) AS n FROM (SELECT DISTINCT lane FROM inserted) l
)
SELECT i.ord, ins.taskid IS NOT NULL, coalesce(d.taskid, ''), (SELECT n FROM notified)
FROM input i
LEFT JOIN inserted ins ON ins.taskid = i.taskid
LEFT JOIN zpark_dedup d ON i.key <> '' AND d.key = i.key
ORDER BY i.ord
)sql"s, std::move(params));
  for (int row = 0; row < r.rows(); ++row) {
    const std::size_t i = rows.at(static_cast<std::size_t>(r.int64(row, 0) - 1));
    if (r.text(row, 1) == "t") {
      out[i] = {ids[i], false};
      continue;
    }
    std::string first = r.text(row, 2);
    if (first.empty()) {
      // Claimed by an instance whose commit came after this statement's snapshot.
      Params params{batch[i].dedup_key};
      auto again = co_await pool_.query("SELECT taskid FROM zpark_dedup WHERE key = $1"s, std::move(params));
      if (again.rows()) first = again.text(0, 0);
    }
    out[i] = {first, true};
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (copy_of[i]) out[i] = {out[*copy_of[i]].taskid, true};
  co_return out;
}

awaitable<void> PgStore::check_writable(std::int64_t now_ms) {
  Params params{num(now_ms)};
  co_await pool_.query(
      "INSERT INTO zpark_write_probe VALUES (1, $1::bigint) ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms"s, std::move(params));
}

awaitable<std::vector<Task>> PgStore::pending() {
  auto r = co_await pool_.query(fmt::format("SELECT {} FROM zpark_tasks WHERE state = 'pending' ORDER BY seq", task_columns));
  co_return read_tasks(r);
}

awaitable<std::vector<Task>> PgStore::pending_in_lane(std::string lane, std::size_t limit) {
  Params params{lane, num(static_cast<std::int64_t>(limit))};
  auto r = co_await pool_.query(
      fmt::format("SELECT {} FROM zpark_tasks WHERE lane = $1 AND state = 'pending' ORDER BY seq LIMIT $2::int", task_columns), std::move(params));
  co_return read_tasks(r);
}

awaitable<std::vector<std::string>> PgStore::pending_lanes() {
  auto r = co_await pool_.query("SELECT DISTINCT lane FROM zpark_tasks WHERE state = 'pending'"s);
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
  co_return out;
}

awaitable<std::optional<Task>> PgStore::find(std::string taskid) {
  Params params{taskid};
  auto r = co_await pool_.query(fmt::format("SELECT {} FROM zpark_tasks WHERE taskid = $1", task_columns), std::move(params));
  if (!r.rows()) co_return std::nullopt;
  co_return read_task(r, 0);
}

// A state change of a pending task: false when the task is unknown or already finished.
awaitable<bool> PgStore::change_pending(std::string set, Params params) {
  std::string sql = "UPDATE zpark_tasks SET " + set + " WHERE taskid = $1 AND state = 'pending'";
  auto r = co_await relaxed_.query(std::move(sql), std::move(params));
  co_return r.affected() > 0;
}

awaitable<bool> PgStore::mark_attempt(std::string taskid, int attempts) {
  Params params{taskid, num(attempts)};
  co_return co_await change_pending("attempts = $2::int"s, std::move(params));
}

awaitable<bool> PgStore::mark_delivered(std::string taskid, std::string webex_id, std::int64_t now_ms) {
  Params params{taskid, webex_id, num(now_ms)};
  co_return co_await change_pending("state = 'delivered', webex_id = $2, finished_at_ms = $3::bigint"s, std::move(params));
}

awaitable<bool> PgStore::mark_failed(std::string taskid, std::string reason, std::int64_t now_ms) {
  Params params{taskid, reason, num(now_ms)};
  co_return co_await change_pending("state = 'failed', reason = $2, finished_at_ms = $3::bigint"s, std::move(params));
}

awaitable<void> PgStore::remember_thread(std::string event_id, std::string recipient, ThreadRoot root,
                                         std::int64_t now_ms) {
  Params params{event_id, recipient, root.message_id, root.room_id, root.markdown, num(now_ms)};
  co_await relaxed_.query(
      "INSERT INTO zpark_threads (event_id, recipient, message_id, room_id, markdown, created_at_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6::bigint) ON CONFLICT (event_id, recipient) DO UPDATE SET "
      "message_id = excluded.message_id, room_id = excluded.room_id, markdown = excluded.markdown, "
      "created_at_ms = excluded.created_at_ms"s, std::move(params));
}

awaitable<std::optional<Store::ThreadRoot>> PgStore::thread(std::string event_id, std::string recipient) {
  Params params{event_id, recipient};
  auto r = co_await pool_.query(
      "SELECT message_id, room_id, markdown FROM zpark_threads WHERE event_id = $1 AND recipient = $2"s, std::move(params));
  if (!r.rows()) co_return std::nullopt;
  co_return ThreadRoot{r.text(0, 0), r.text(0, 1), r.text(0, 2)};
}

awaitable<std::optional<std::string>> PgStore::thread_event(std::string root_message_id) {
  Params params{root_message_id};
  auto r = co_await pool_.query("SELECT event_id FROM zpark_threads WHERE message_id = $1 LIMIT 1"s, std::move(params));
  if (!r.rows()) co_return std::nullopt;
  co_return r.text(0, 0);
}

awaitable<std::size_t> PgStore::prune(std::int64_t cutoff_ms) {
  Params params{num(cutoff_ms)};
  auto r = co_await pool_.query(R"sql(
WITH t AS (DELETE FROM zpark_tasks WHERE state <> 'pending' AND finished_at_ms < $1::bigint RETURNING 1),
     th AS (DELETE FROM zpark_threads WHERE created_at_ms < $1::bigint RETURNING 1),
     d AS (DELETE FROM zpark_dedup WHERE accepted_at_ms < $1::bigint RETURNING 1),
     h AS (DELETE FROM zpark_handled WHERE at_ms < $1::bigint RETURNING 1)
SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM th), (SELECT count(*) FROM d), (SELECT count(*) FROM h)
)sql"s, std::move(params));
  co_return static_cast<std::size_t>(r.int64(0, 0));
}

awaitable<void> PgStore::share_pause(std::int64_t until_ms) {
  Params params{num(until_ms)};
  co_await pool_.query(R"sql(
WITH up AS (
  INSERT INTO zpark_pause VALUES (1, $1::bigint)
  ON CONFLICT (id) DO UPDATE SET until_ms = greatest(zpark_pause.until_ms, excluded.until_ms)
  RETURNING until_ms
)
SELECT pg_notify('zpark_pause', until_ms::text) FROM up
)sql"s, std::move(params));
}

awaitable<std::int64_t> PgStore::shared_pause() {
  auto r = co_await pool_.query("SELECT until_ms FROM zpark_pause WHERE id = 1"s);
  co_return r.rows() ? r.int64(0, 0) : 0;
}

awaitable<std::optional<std::string>> PgStore::claim_message(std::string message_id, std::string taskid,
                                                             std::int64_t now_ms) {
  Params params{message_id, taskid, num(now_ms)};
  auto r = co_await pool_.query(
      "INSERT INTO zpark_handled (message_id, taskid, at_ms) VALUES ($1, $2, $3::bigint) "
      "ON CONFLICT (message_id) DO NOTHING RETURNING taskid"s, std::move(params));
  if (r.rows()) co_return std::nullopt;
  Params which{message_id};
  auto first = co_await pool_.query("SELECT taskid FROM zpark_handled WHERE message_id = $1"s, std::move(which));
  co_return first.rows() ? std::optional<std::string>(first.text(0, 0)) : std::optional<std::string>(taskid);
}

}  // namespace zpark::tasks::pg
