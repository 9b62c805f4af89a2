#include "tasks/outbox.hpp"

#include "tasks/alert_keys.hpp"
#include "tasks/sqlite.hpp"
#include "tasks/task_id.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

namespace zpark::tasks {

namespace fs = std::filesystem;

namespace {

void rebuild_dedup_keys(sqlite::Db& db);

// One step of the schema: SQL, or C++ for what SQL alone cannot compute.
struct Migration {
  const char* sql = nullptr;
  void (*run)(sqlite::Db&) = nullptr;
};

// migrations[i] moves the schema from version i to i + 1 (PRAGMA user_version).
// Never edit one that has shipped; append a new one instead.
const Migration migrations[] = {
    {R"sql(
CREATE TABLE tasks (
  seq            INTEGER PRIMARY KEY,  -- rowid: always above every existing row, so accept order
  taskid         TEXT NOT NULL UNIQUE,
  recipient      TEXT NOT NULL,
  payload        TEXT NOT NULL,
  state          TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts       INTEGER NOT NULL DEFAULT 0,
  accepted_at_ms INTEGER NOT NULL,
  finished_at_ms INTEGER,
  webex_id       TEXT,
  reason         TEXT
);
CREATE INDEX tasks_state_seq ON tasks (state, seq);

-- One row per key: the task that opened the current window. Apart from tasks so that it is
-- pruned by accept time whatever became of the task.
CREATE TABLE dedup (
  key            TEXT PRIMARY KEY,
  taskid         TEXT NOT NULL,
  accepted_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE threads (
  event_id      TEXT NOT NULL,
  recipient     TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  room_id       TEXT NOT NULL,
  markdown      TEXT NOT NULL DEFAULT '',  -- the root's text, for the "resolved" edit
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (event_id, recipient)
) WITHOUT ROWID;
)sql"},
    // 1 -> 2: dedup keys ended in std::hash of the alert's text, which differs between builds
    // of the standard library (a Zabbix retry after an upgrade was accepted twice). Made again
    // from the stored alerts, as SHA-256 (tasks/alert_keys.hpp).
    {nullptr, rebuild_dedup_keys},
    // 2 -> 3: a row that Outbox::check_writable() rewrites, to learn whether the disk takes
    // writes again after it refused one.
    {R"sql(
CREATE TABLE write_probe (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  at_ms INTEGER NOT NULL
);
)sql"},
    // 3 -> 4: a command written in an alert's thread names its root message; finding that
    // root's event must not scan every thread root kept for a month.
    {R"sql(
CREATE INDEX threads_message ON threads (message_id);
)sql"},
};
constexpr std::int64_t schema_version = std::size(migrations);

void rebuild_dedup_keys(sqlite::Db& db) {
  struct Row {
    std::string key, payload;
  };
  std::vector<Row> rows;
  {
    sqlite::Stmt all(db, "SELECT d.key, t.payload FROM dedup d LEFT JOIN tasks t ON t.taskid = d.taskid");
    auto c = all();
    while (c.next()) rows.push_back({c.text(0), c.text(1)});
  }
  sqlite::Stmt rekey(db, "UPDATE OR REPLACE dedup SET key = ?2 WHERE key = ?1");
  sqlite::Stmt drop(db, "DELETE FROM dedup WHERE key = ?1");
  for (const auto& row : rows) {
    // A key whose task is gone or unreadable cannot be made again: at worst one retry of
    // that alert is accepted a second time.
    auto key = dedup_key_of_payload(row.payload);
    if (key.empty())
      drop(row.key).run();
    else
      rekey(row.key, key).run();
  }
}

constexpr std::string_view state_name(TaskState s) {
  switch (s) {
    case TaskState::pending: return "pending";
    case TaskState::delivered: return "delivered";
    case TaskState::failed: return "failed";
  }
  return "pending";
}

TaskState parse_state(const std::string& s) {
  if (s == "delivered") return TaskState::delivered;
  if (s == "failed") return TaskState::failed;
  return TaskState::pending;
}

void migrate(sqlite::Db& db) {
  // Inside one write transaction, so two processes opening a fresh file cannot both create it.
  sqlite::Transaction::Statements st(db);
  sqlite::Transaction t(st);
  std::int64_t v = db.query_int("PRAGMA user_version");
  if (v > schema_version)
    throw std::runtime_error(fmt::format(
        "schema version {} is newer than this zpark knows ({}); run a newer zpark", v,
        schema_version));
  if (v == schema_version) return;  // the transaction rolls back: nothing was written
  for (; v < schema_version; ++v) {
    if (migrations[v].sql) db.exec(migrations[v].sql);
    if (migrations[v].run) migrations[v].run(db);
  }
  db.exec(fmt::format("PRAGMA user_version = {}", schema_version).c_str());
  t.commit();
}

sqlite::Db open_db(sqlite::Db db, const OutboxOptions& opts) {
  // Waits for a second process (an operator's sqlite3 shell) instead of failing at once.
  db.exec("PRAGMA busy_timeout = 5000");
  std::string mode = db.query_text("PRAGMA journal_mode = WAL");
  if (mode != "wal")
    throw std::runtime_error(fmt::format(
        "the file system does not support WAL (journal mode is \"{}\"); use a local disk", mode));
  db.exec(opts.fsync_each_commit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  // Random task ids dirty a different index page per row; checkpointing every 16 MiB instead
  // of 4 MiB writes each such page back fewer times (measured: ~15% less CPU per accept).
  db.exec("PRAGMA wal_autocheckpoint = 4000");
  migrate(db);
  return db;
}

// True when the 32-byte header of a WAL file is SQLite's: magic, version and checksum (the
// layout is in https://www.sqlite.org/fileformat2.html#walformat). SQLite itself reads a WAL
// with a bad header as empty and then overwrites it: the transactions in it are gone.
bool is_wal_header(const fs::path& wal) {
  std::array<unsigned char, 32> h{};
  std::ifstream in(wal, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(h.data()), h.size())) return false;
  auto be32 = [&](std::size_t i) {
    return std::uint32_t(h[i]) << 24 | std::uint32_t(h[i + 1]) << 16 | std::uint32_t(h[i + 2]) << 8 | h[i + 3];
  };
  auto le32 = [&](std::size_t i) {
    return std::uint32_t(h[i + 3]) << 24 | std::uint32_t(h[i + 2]) << 16 | std::uint32_t(h[i + 1]) << 8 | h[i];
  };
  const std::uint32_t magic = be32(0);
  if ((magic & ~1u) != 0x377f0682u || be32(4) != 3007000u) return false;
  // The checksum's words are big-endian when the magic's low bit is set, else little-endian.
  std::uint32_t s1 = 0, s2 = 0;
  for (std::size_t i = 0; i < 24; i += 8) {
    s1 += ((magic & 1) ? be32(i) : le32(i)) + s2;
    s2 += ((magic & 1) ? be32(i + 4) : le32(i + 4)) + s1;
  }
  return s1 == be32(24) && s2 == be32(28);
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the rename is what matters
  ::fsync(fd);
  ::close(fd);
}

// A new outbox is made complete under another name and then renamed, so an outbox.sqlite3
// that exists was always a whole database: an empty one means its content was lost.
void create_outbox(const fs::path& file, const OutboxOptions& opts) {
  auto tmp = file;
  tmp += ".new";
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {  // from a start that stopped half-way
    auto leftover = tmp;
    leftover += suffix;
    fs::remove(leftover);
  }
  {
    // Closing the only connection checkpoints the WAL into the file and removes the WAL.
    auto db = open_db(sqlite::Db(tmp.string()), opts);
  }
  fs::rename(tmp, file);
  fsync_dir(file.parent_path());
}

constexpr const char* task_columns =
    "taskid, seq, recipient, payload, state, attempts, accepted_at_ms, webex_id, reason";

Task read_task(const sqlite::Cursor& c) {
  Task t;
  t.taskid = c.text(0);
  t.seq = c.int64(1);
  t.recipient = c.text(2);
  t.payload = c.text(3);
  t.state = parse_state(c.text(4));
  t.attempts = static_cast<int>(c.int64(5));
  t.accepted_at_ms = c.int64(6);
  t.webex_id = c.text(7);
  t.reason = c.text(8);
  return t;
}

}  // namespace

// Statements are prepared once: preparing costs about as much as running a small insert.
struct Outbox::Impl {
  // State changes after delivery (delivered, failed, attempts, thread roots) commit without
  // an fsync: they are still durable across a crash or kill -9 (WAL), and the next accept's
  // fsync carries them to disk. Only a power loss can lose one, which at worst resends an
  // alert. Accepts keep synchronous=FULL. This keeps fsyncs off the per-delivery path, where
  // they blocked the event loop once per message.
  class Relaxed {
   public:
    explicit Relaxed(Impl& m) : m_(m) {
      if (m_.fsync_each_commit) m_.db.exec("PRAGMA synchronous = NORMAL");
    }
    ~Relaxed() {
      try {
        if (m_.fsync_each_commit) m_.db.exec("PRAGMA synchronous = FULL");
      } catch (...) {  // cannot fail for a valid pragma; never throw from a destructor
      }
    }
    Relaxed(const Relaxed&) = delete;
    Relaxed& operator=(const Relaxed&) = delete;

   private:
    Impl& m_;
  };

  Impl(std::filesystem::path f, const OutboxOptions& opts)
      : file(std::move(f)),
        fsync_each_commit(opts.fsync_each_commit),
        dedup_window_ms(std::chrono::milliseconds(opts.dedup_window).count()),
        db(open_db(sqlite::Db::open_existing(file.string()), opts)),
        txn(db),
        find_dedup(db, "SELECT taskid, accepted_at_ms FROM dedup WHERE key = ?1"),
        upsert_dedup(db,
                     "INSERT INTO dedup (key, taskid, accepted_at_ms) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT (key) DO UPDATE SET taskid = excluded.taskid, "
                     "accepted_at_ms = excluded.accepted_at_ms"),
        insert_task(db,
                    "INSERT INTO tasks (taskid, recipient, payload, accepted_at_ms) "
                    "VALUES (?1, ?2, ?3, ?4)"),
        select_pending(db, fmt::format("SELECT {} FROM tasks WHERE state = 'pending' ORDER BY seq",
                                       task_columns)),
        select_task(db, fmt::format("SELECT {} FROM tasks WHERE taskid = ?1", task_columns)),
        set_attempts(db, "UPDATE tasks SET attempts = ?2 WHERE taskid = ?1 AND state = 'pending'"),
        finish(db,
               "UPDATE tasks SET state = ?2, webex_id = ?3, reason = ?4, finished_at_ms = ?5 "
               "WHERE taskid = ?1 AND state = 'pending'"),
        upsert_thread(db,
                      "INSERT OR REPLACE INTO threads "
                      "(event_id, recipient, message_id, room_id, markdown, created_at_ms) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        select_thread(db,
                      "SELECT message_id, room_id, markdown FROM threads "
                      "WHERE event_id = ?1 AND recipient = ?2"),
        select_thread_event(db, "SELECT event_id FROM threads WHERE message_id = ?1 LIMIT 1"),
        prune_tasks(db,
                    "DELETE FROM tasks WHERE state IN ('delivered', 'failed') "
                    "AND finished_at_ms < ?1"),
        prune_threads(db, "DELETE FROM threads WHERE created_at_ms < ?1"),
        prune_dedup(db, "DELETE FROM dedup WHERE accepted_at_ms < ?1"),
        count_states(db, "SELECT state, count(*) FROM tasks GROUP BY state"),
        probe(db, "INSERT OR REPLACE INTO write_probe (id, at_ms) VALUES (1, ?1)") {}

  bool finish_task(const std::string& taskid, TaskState s, std::optional<std::string> webex_id,
                   std::optional<std::string> reason, std::int64_t now_ms) {
    finish(taskid, state_name(s), webex_id, reason, now_ms).run();
    return db.changes() > 0;
  }

  std::filesystem::path file;
  bool fsync_each_commit;
  std::int64_t dedup_window_ms;
  sqlite::Db db;
  sqlite::Transaction::Statements txn;
  sqlite::Stmt find_dedup, upsert_dedup, insert_task, select_pending, select_task, set_attempts,
      finish, upsert_thread, select_thread, select_thread_event, prune_tasks, prune_threads, prune_dedup, count_states, probe;
};

Outbox::Outbox(OutboxOptions opts) {
  if (opts.data_dir.empty())
    throw std::runtime_error("cannot open outbox: no data directory given; set ZPARK_DATA_DIR");
  auto file = opts.data_dir / "outbox.sqlite3";
  auto fail = [&](const std::string& why) {
    return std::runtime_error(fmt::format("cannot open outbox at {}: {}; check ZPARK_DATA_DIR",
                                          file.string(), why));
  };
  std::error_code ec;
  std::filesystem::create_directories(opts.data_dir, ec);
  if (ec)
    throw fail(fmt::format("cannot create directory {}: {}", opts.data_dir.string(), ec.message()));
  // What SQLite would open without a word, dropping what was pending: refused, with what to do.
  auto wal = file;
  wal += "-wal";
  const bool has_file = fs::exists(file, ec);
  const bool has_wal = fs::exists(wal, ec) && fs::file_size(wal, ec) > 0 && !ec;
  if (has_file && fs::is_regular_file(file, ec) && fs::file_size(file, ec) == 0 && !ec)
    throw fail(fmt::format(
        "the file is empty (0 bytes): the alerts that were pending in it are lost, and zpark will not "
        "start on it as if it were new. Restore {} from a backup, or delete it (and {}) to start with an "
        "empty outbox",
        file.string(), wal.string()));
  if (!has_file && has_wal)
    throw fail(fmt::format(
        "the file is missing but its write-ahead log {} is there, holding alerts that are not in any "
        "outbox file. Restore {} from a backup, or move {} aside to start with an empty outbox",
        wal.string(), file.string(), wal.string()));
  if (has_wal && !is_wal_header(wal))
    throw fail(fmt::format(
        "its write-ahead log {} is damaged (not a SQLite WAL), and alerts accepted since the last "
        "checkpoint are only there; SQLite would drop them without a word. Restore the data directory "
        "from a backup, or move {} aside to start from what {} holds (alerts only in the log are then "
        "lost)",
        wal.string(), wal.string(), file.string()));
  try {
    if (!has_file) create_outbox(file, opts);
    impl_ = std::make_unique<Impl>(file, opts);
  } catch (const sqlite::Error& e) {
    throw fail(e.problem());
  } catch (const std::exception& e) {
    throw fail(e.what());
  }
}

Outbox::~Outbox() = default;
Outbox::Outbox(Outbox&&) noexcept = default;
Outbox& Outbox::operator=(Outbox&&) noexcept = default;

const std::filesystem::path& Outbox::path() const { return impl_->file; }

std::vector<Accepted> Outbox::accept(const std::vector<NewTask>& batch, std::int64_t now_ms) {
  std::vector<Accepted> out;
  if (batch.empty()) return out;
  out.reserve(batch.size());
  auto& m = *impl_;
  auto new_ids = new_task_ids(batch.size());  // a duplicate leaves its id unused
  sqlite::Transaction t(m.txn);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& task = batch[i];
    if (!task.dedup_key.empty()) {
      auto c = m.find_dedup(task.dedup_key);
      // Measured from the first accept, so a duplicate does not extend the window.
      if (c.next() && now_ms - c.int64(1) < m.dedup_window_ms) {
        out.push_back({c.text(0), true});
        continue;
      }
    }
    auto& id = new_ids[i];
    m.insert_task(id, task.recipient, task.payload, now_ms).run();
    if (!task.dedup_key.empty()) m.upsert_dedup(task.dedup_key, id, now_ms).run();
    out.push_back({std::move(id), false});
  }
  t.commit();
  return out;
}

void Outbox::check_writable(std::int64_t now_ms) {
  Impl::Relaxed relaxed(*impl_);
  sqlite::Transaction t(impl_->txn);
  impl_->probe(now_ms).run();
  t.commit();
}

std::vector<Task> Outbox::pending() const {
  std::vector<Task> out;
  auto c = impl_->select_pending();
  while (c.next()) out.push_back(read_task(c));
  return out;
}

std::optional<Task> Outbox::find(const std::string& taskid) const {
  auto c = impl_->select_task(taskid);
  if (!c.next()) return std::nullopt;
  return read_task(c);
}

bool Outbox::mark_attempt(const std::string& taskid, int attempts) {
  Impl::Relaxed relaxed(*impl_);
  impl_->set_attempts(taskid, attempts).run();
  return impl_->db.changes() > 0;
}

bool Outbox::mark_delivered(const std::string& taskid, const std::string& webex_id,
                            std::int64_t now_ms) {
  Impl::Relaxed relaxed(*impl_);
  return impl_->finish_task(taskid, TaskState::delivered, webex_id, std::nullopt, now_ms);
}

bool Outbox::mark_failed(const std::string& taskid, const std::string& reason,
                         std::int64_t now_ms) {
  Impl::Relaxed relaxed(*impl_);
  return impl_->finish_task(taskid, TaskState::failed, std::nullopt, reason, now_ms);
}

void Outbox::remember_thread(const std::string& event_id, const std::string& recipient,
                             const std::string& message_id, const std::string& room_id,
                             const std::string& markdown, std::int64_t now_ms) {
  Impl::Relaxed relaxed(*impl_);
  impl_->upsert_thread(event_id, recipient, message_id, room_id, markdown, now_ms).run();
}

std::optional<Outbox::ThreadRoot> Outbox::thread(const std::string& event_id,
                                                 const std::string& recipient) const {
  auto c = impl_->select_thread(event_id, recipient);
  if (!c.next()) return std::nullopt;
  return ThreadRoot{c.text(0), c.text(1), c.text(2)};
}

std::optional<std::string> Outbox::thread_event(const std::string& root_message_id) const {
  auto c = impl_->select_thread_event(root_message_id);
  if (!c.next()) return std::nullopt;
  return c.text(0);
}

std::size_t Outbox::prune(std::int64_t cutoff_ms) {
  auto& m = *impl_;
  sqlite::Transaction t(m.txn);
  m.prune_tasks(cutoff_ms).run();
  auto tasks = static_cast<std::size_t>(m.db.changes());
  m.prune_threads(cutoff_ms).run();
  m.prune_dedup(cutoff_ms).run();
  t.commit();
  return tasks;
}

Outbox::Counts Outbox::counts() const {
  Counts n;
  auto c = impl_->count_states();
  while (c.next()) {
    auto k = static_cast<std::size_t>(c.int64(1));
    switch (parse_state(c.text(0))) {
      case TaskState::pending: n.pending = k; break;
      case TaskState::delivered: n.delivered = k; break;
      case TaskState::failed: n.failed = k; break;
    }
  }
  return n;
}

}  // namespace zpark::tasks
