#define BOOST_TEST_MODULE outbox
#include <boost/test/unit_test.hpp>

#include "spark/alert.hpp"
#include "tasks/outbox.hpp"
#include "tasks/relay.hpp"
#include "tasks/sqlite.hpp"
#include "tasks/task_id.hpp"
#include "test/tasks/faulty_disk.hpp"

#include <boost/json.hpp>
#include <sqlite3.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <string>
#include <vector>

using namespace zpark::tasks;
namespace fs = std::filesystem;

namespace {

// A fresh directory under /tmp, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = "/tmp/zpark-outbox-test-XXXXXX";
    if (!mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

OutboxOptions options(const fs::path& dir, bool fsync = true) {
  OutboxOptions o;
  o.data_dir = dir;
  o.fsync_each_commit = fsync;
  return o;
}

NewTask task(std::string recipient, std::string dedup_key = {}, std::string payload = "{}") {
  return NewTask{std::move(recipient), std::move(dedup_key), std::move(payload)};
}

std::vector<std::string> ids(const std::vector<Task>& tasks) {
  std::vector<std::string> out;
  for (const auto& t : tasks) out.push_back(t.taskid);
  return out;
}

std::vector<std::string> ids(const std::vector<Accepted>& acc) {
  std::vector<std::string> out;
  for (const auto& a : acc) out.push_back(a.taskid);
  return out;
}

bool says(const std::runtime_error& e, const std::string& part) {
  return std::string(e.what()).find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(task_ids_are_uuid_v7_text) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_task_id();
    BOOST_TEST(is_task_id(id));
    BOOST_TEST(id[14] == '7');
    BOOST_TEST(std::string("89ab").find(id[19]) != std::string::npos);
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 1000u);
  // Time-ordered: an id made later never sorts before an earlier one's millisecond.
  auto a = new_task_id();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto b = new_task_id();
  BOOST_TEST(a.substr(0, 13) < b.substr(0, 13));
  BOOST_TEST(is_task_id("9d2c1a4e-5b7f-4f0e-8c51-1f2d3e4a5b6c"));
  BOOST_TEST(!is_task_id("9D2C1A4E-5B7F-4F0E-8C51-1F2D3E4A5B6C"));
  BOOST_TEST(!is_task_id("9d2c1a4e5b7f-4f0e-8c51-1f2d3e4a5b6c-"));
  BOOST_TEST(!is_task_id("../../etc/passwd"));
}

BOOST_AUTO_TEST_CASE(accept_then_pending_in_accept_order) {
  TempDir dir;
  Outbox box(options(dir.path / "data"));  // creates the missing directory
  BOOST_TEST(fs::exists(dir.path / "data" / "outbox.sqlite3"));
  BOOST_TEST(box.pending().empty());
  BOOST_TEST(box.counts().pending == 0u);

  auto a = box.accept({task("a@example.com", "", R"({"n":1})"), task("room1"), task("a@example.com")},
                      1000);
  auto b = box.accept({task("b@example.com"), task("room1")}, 2000);
  BOOST_TEST_REQUIRE(a.size() == 3u);
  BOOST_TEST_REQUIRE(b.size() == 2u);
  for (const auto& x : a) BOOST_TEST(!x.duplicate);

  auto p = box.pending();
  std::vector<std::string> want = ids(a);
  for (const auto& id : ids(b)) want.push_back(id);
  BOOST_TEST(ids(p) == want, boost::test_tools::per_element());
  BOOST_TEST(p[0].recipient == "a@example.com");
  BOOST_TEST(p[0].payload == R"({"n":1})");
  BOOST_TEST(p[0].accepted_at_ms == 1000);
  BOOST_TEST(p[3].accepted_at_ms == 2000);
  BOOST_TEST(p[0].attempts == 0);
  BOOST_TEST((p[0].state == TaskState::pending));
  for (std::size_t i = 1; i < p.size(); ++i) BOOST_TEST(p[i - 1].seq < p[i].seq);
  BOOST_TEST(box.accept({}, 3000).empty());
}

BOOST_AUTO_TEST_CASE(pending_survives_reopen_in_order) {
  TempDir dir;
  std::vector<std::string> want;
  {
    Outbox box(options(dir.path));
    for (int i = 0; i < 20; ++i) {
      auto acc = box.accept({task("r" + std::to_string(i % 3), "", std::to_string(i))}, i);
      want.push_back(acc[0].taskid);
    }
    BOOST_TEST(box.mark_delivered(want[5], "msg5", 100));
  }
  want.erase(want.begin() + 5);
  Outbox box(options(dir.path));
  auto p = box.pending();
  BOOST_TEST(ids(p) == want, boost::test_tools::per_element());
  BOOST_TEST(p[5].payload == "6");
}

BOOST_AUTO_TEST_CASE(finished_tasks_leave_pending_and_find_shows_them) {
  TempDir dir;
  Outbox box(options(dir.path));
  auto acc = ids(box.accept({task("x"), task("y"), task("z")}, 10));

  BOOST_TEST(box.mark_attempt(acc[0], 3));
  BOOST_TEST(box.mark_delivered(acc[0], "Y2lzY29zcGFyazovL21lc3NhZ2U", 20));
  BOOST_TEST(box.mark_failed(acc[1], "404 room not found", 30));
  BOOST_TEST(ids(box.pending()) == std::vector<std::string>{acc[2]}, boost::test_tools::per_element());

  auto d = box.find(acc[0]);
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST((d->state == TaskState::delivered));
  BOOST_TEST(d->webex_id == "Y2lzY29zcGFyazovL21lc3NhZ2U");
  BOOST_TEST(d->attempts == 3);
  BOOST_TEST(d->recipient == "x");
  auto f = box.find(acc[1]);
  BOOST_TEST_REQUIRE(f.has_value());
  BOOST_TEST((f->state == TaskState::failed));
  BOOST_TEST(f->reason == "404 room not found");
  BOOST_TEST(f->webex_id.empty());
  BOOST_TEST((box.find(acc[2])->state == TaskState::pending));
  BOOST_TEST(!box.find(new_task_id()).has_value());

  // A final state does not change again; unknown ids change nothing.
  BOOST_TEST(!box.mark_delivered(acc[1], "late", 40));
  BOOST_TEST(!box.mark_failed(acc[0], "late", 40));
  BOOST_TEST(!box.mark_attempt(acc[0], 9));
  BOOST_TEST(!box.mark_delivered(new_task_id(), "m", 40));
  BOOST_TEST((box.find(acc[1])->state == TaskState::failed));

  auto n = box.counts();
  BOOST_TEST(n.pending == 1u);
  BOOST_TEST(n.delivered == 1u);
  BOOST_TEST(n.failed == 1u);
}

BOOST_AUTO_TEST_CASE(dedup_within_window_returns_first_taskid) {
  TempDir dir;
  auto o = options(dir.path);
  o.dedup_window = std::chrono::seconds(60);
  Outbox box(o);
  const std::int64_t t0 = 1'700'000'000'000;

  auto first = box.accept({task("a@x", "17|problem|a@x")}, t0);
  auto again = box.accept({task("a@x", "17|problem|a@x")}, t0 + 59'999);
  BOOST_TEST(!first[0].duplicate);
  BOOST_TEST(again[0].duplicate);
  BOOST_TEST(again[0].taskid == first[0].taskid);
  BOOST_TEST(box.counts().pending == 1u);

  // Other kind or recipient is a different alert.
  BOOST_TEST(!box.accept({task("a@x", "17|recovery|a@x")}, t0 + 1)[0].duplicate);
  BOOST_TEST(!box.accept({task("b@x", "17|problem|b@x")}, t0 + 1)[0].duplicate);

  // The window runs from the first accept; after it a new task starts a new window.
  auto late = box.accept({task("a@x", "17|problem|a@x")}, t0 + 60'000);
  BOOST_TEST(!late[0].duplicate);
  BOOST_TEST(late[0].taskid != first[0].taskid);
  auto later = box.accept({task("a@x", "17|problem|a@x")}, t0 + 60'001);
  BOOST_TEST(later[0].duplicate);
  BOOST_TEST(later[0].taskid == late[0].taskid);
  BOOST_TEST(box.counts().pending == 4u);
}

BOOST_AUTO_TEST_CASE(dedup_survives_reopen) {
  TempDir dir;
  std::string first;
  {
    Outbox box(options(dir.path));
    first = box.accept({task("a@x", "k")}, 1000)[0].taskid;
  }
  Outbox box(options(dir.path));
  auto again = box.accept({task("a@x", "k")}, 2000);
  BOOST_TEST(again[0].duplicate);
  BOOST_TEST(again[0].taskid == first);
}

BOOST_AUTO_TEST_CASE(duplicates_in_one_batch_collapse) {
  TempDir dir;
  Outbox box(options(dir.path));
  auto acc = box.accept({task("a", "k1"), task("a", "k1"), task("b", "k2"), task("a", "k1")}, 5);
  BOOST_TEST_REQUIRE(acc.size() == 4u);
  BOOST_TEST(!acc[0].duplicate);
  BOOST_TEST(acc[1].duplicate);
  BOOST_TEST(!acc[2].duplicate);
  BOOST_TEST(acc[3].duplicate);
  BOOST_TEST(acc[1].taskid == acc[0].taskid);
  BOOST_TEST(acc[3].taskid == acc[0].taskid);
  BOOST_TEST(acc[2].taskid != acc[0].taskid);
  BOOST_TEST(ids(box.pending()) == (std::vector<std::string>{acc[0].taskid, acc[2].taskid}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(empty_dedup_key_never_dedups) {
  TempDir dir;
  Outbox box(options(dir.path));
  auto acc = box.accept({task("a", "", "same"), task("a", "", "same")}, 5);
  auto more = box.accept({task("a", "", "same")}, 6);
  BOOST_TEST(!acc[0].duplicate);
  BOOST_TEST(!acc[1].duplicate);
  BOOST_TEST(!more[0].duplicate);
  BOOST_TEST(box.counts().pending == 3u);
}

BOOST_AUTO_TEST_CASE(thread_roots_remembered_per_event_and_recipient) {
  TempDir dir;
  {
    Outbox box(options(dir.path));
    BOOST_TEST(!box.thread("17", "a@x").has_value());
    box.remember_thread("17", "a@x", "msg-1", "room-1", "**PROBLEM** disk full", 100);
    box.remember_thread("17", "b@x", "msg-2", "room-2", "", 100);
    auto r = box.thread("17", "a@x");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->message_id == "msg-1");
    BOOST_TEST(r->room_id == "room-1");
    BOOST_TEST(r->markdown == "**PROBLEM** disk full");
    BOOST_TEST(box.thread("17", "b@x")->message_id == "msg-2");
    BOOST_TEST(!box.thread("18", "a@x").has_value());
    box.remember_thread("17", "a@x", "msg-3", "room-1", "again", 200);  // replaces
  }
  Outbox box(options(dir.path));
  BOOST_TEST(box.thread("17", "a@x")->message_id == "msg-3");
  BOOST_TEST(box.thread("17", "a@x")->markdown == "again");
}

BOOST_AUTO_TEST_CASE(a_thread_root_message_tells_its_event) {
  TempDir dir;
  {
    Outbox box(options(dir.path));
    box.remember_thread("17", "a@x", "msg-1", "room-1", "", 100);
    box.remember_thread("17", "b@x", "msg-2", "room-2", "", 100);
    box.remember_thread("18", "a@x", "msg-3", "room-1", "", 100);
    BOOST_TEST(box.thread_event("msg-1").value_or("") == "17");
    BOOST_TEST(box.thread_event("msg-2").value_or("") == "17");
    BOOST_TEST(box.thread_event("msg-3").value_or("") == "18");
    BOOST_TEST(!box.thread_event("msg-9").has_value());
    BOOST_TEST(!box.thread_event("").has_value());
    box.remember_thread("17", "a@x", "msg-4", "room-1", "", 200);  // a new root replaces msg-1
    BOOST_TEST(!box.thread_event("msg-1").has_value());
    box.prune(150);
    BOOST_TEST(!box.thread_event("msg-2").has_value());
  }
  Outbox box(options(dir.path));
  BOOST_TEST(box.thread_event("msg-4").value_or("") == "17");
  // Found through an index, not by scanning every root kept for a month.
  sqlite::Db db((dir.path / "outbox.sqlite3").string());
  BOOST_TEST(db.query_int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'threads_message'") == 1);
}

BOOST_AUTO_TEST_CASE(prune_drops_old_finished_tasks_threads_and_dedup) {
  TempDir dir;
  Outbox box(options(dir.path));
  auto acc = ids(box.accept(
      {task("a", "k-old"), task("b"), task("c"), task("d")}, 0));
  box.mark_delivered(acc[0], "m0", 100);
  box.mark_failed(acc[1], "gone", 200);
  box.mark_delivered(acc[3], "m3", 300);  // finished after the cutoff: kept
  box.remember_thread("e1", "a", "m0", "r", "", 100);
  box.remember_thread("e2", "a", "m3", "r", "", 300);

  BOOST_TEST(box.prune(250) == 2u);
  BOOST_TEST(!box.find(acc[0]).has_value());
  BOOST_TEST(!box.find(acc[1]).has_value());
  BOOST_TEST(box.find(acc[2]).has_value());  // pending: never pruned
  BOOST_TEST(box.find(acc[3]).has_value());
  BOOST_TEST(!box.thread("e1", "a").has_value());
  BOOST_TEST(box.thread("e2", "a").has_value());
  auto n = box.counts();
  BOOST_TEST(n.pending == 1u);
  BOOST_TEST(n.delivered == 1u);
  BOOST_TEST(n.failed == 0u);

  // The dedup entry from t=0 is gone, so the same key is a new task even inside the window.
  auto again = box.accept({task("a", "k-old")}, 260);
  BOOST_TEST(!again[0].duplicate);
  BOOST_TEST(box.prune(250) == 0u);
}

BOOST_AUTO_TEST_CASE(data_dir_under_a_regular_file_throws_naming_the_path) {
  TempDir dir;
  std::ofstream(dir.path / "file") << "not a directory";
  auto bad = dir.path / "file" / "data";
  BOOST_CHECK_EXCEPTION(Outbox(options(bad)), std::runtime_error, [&](const std::runtime_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return says(e, (bad / "outbox.sqlite3").string()) && says(e, "ZPARK_DATA_DIR");
  });
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_database_throws_naming_the_path) {
  TempDir dir;
  std::ofstream(dir.path / "outbox.sqlite3") << std::string(4096, 'x');
  BOOST_CHECK_EXCEPTION(Outbox(options(dir.path)), std::runtime_error,
                        [&](const std::runtime_error& e) {
                          BOOST_TEST_MESSAGE(e.what());
                          return says(e, (dir.path / "outbox.sqlite3").string()) &&
                                 says(e, "not a database") && says(e, "backup");
                        });
}

BOOST_AUTO_TEST_CASE(a_newer_schema_is_refused) {
  TempDir dir;
  { Outbox box(options(dir.path)); }
  {
    sqlite::Db db((dir.path / "outbox.sqlite3").string());
    db.exec("PRAGMA user_version = 99");
  }
  BOOST_CHECK_EXCEPTION(Outbox(options(dir.path)), std::runtime_error,
                        [](const std::runtime_error& e) {
                          BOOST_TEST_MESSAGE(e.what());
                          return says(e, "schema version 99");
                        });
}

// A crash leaves the outbox as its files were at that moment: copying the main file and the
// WAL while the outbox is open gives that state without killing anything.
void copy_crash_state(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  fs::copy_file(from / "outbox.sqlite3", to / "outbox.sqlite3");
  fs::copy_file(from / "outbox.sqlite3-wal", to / "outbox.sqlite3-wal");
}

BOOST_AUTO_TEST_CASE(an_intact_wal_left_by_a_crash_is_recovered) {
  TempDir dir;
  Outbox box(options(dir.path / "live"));
  auto acc = box.accept({task("a"), task("b")}, 1);
  copy_crash_state(dir.path / "live", dir.path / "crashed");
  Outbox after(options(dir.path / "crashed"));
  BOOST_TEST(ids(after.pending()) == ids(acc), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_garbage_wal_is_refused_naming_it) {
  TempDir dir;
  Outbox box(options(dir.path / "live"));
  box.accept({task("a"), task("b")}, 1);  // only in the WAL so far
  copy_crash_state(dir.path / "live", dir.path / "crashed");
  const auto wal = dir.path / "crashed" / "outbox.sqlite3-wal";
  const auto size = fs::file_size(wal);
  std::ofstream(wal, std::ios::binary | std::ios::trunc) << std::string(size, 'g');
  BOOST_CHECK_EXCEPTION(Outbox(options(dir.path / "crashed")), std::runtime_error, [&](const std::runtime_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return says(e, wal.string()) && says(e, "move") && says(e, "backup");
  });
  BOOST_TEST(fs::file_size(wal) == size);  // left as it was, for the operator
}

BOOST_AUTO_TEST_CASE(an_empty_outbox_file_is_refused_naming_it) {
  TempDir dir;
  {
    Outbox box(options(dir.path));
    box.accept({task("a")}, 1);
  }
  fs::resize_file(dir.path / "outbox.sqlite3", 0);
  BOOST_CHECK_EXCEPTION(Outbox(options(dir.path)), std::runtime_error, [&](const std::runtime_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return says(e, (dir.path / "outbox.sqlite3").string()) && says(e, "empty") && says(e, "backup");
  });
  BOOST_TEST(fs::file_size(dir.path / "outbox.sqlite3") == 0u);
}

BOOST_AUTO_TEST_CASE(a_wal_without_its_outbox_file_is_refused) {
  TempDir dir;
  Outbox box(options(dir.path / "live"));
  box.accept({task("a")}, 1);
  copy_crash_state(dir.path / "live", dir.path / "crashed");
  fs::remove(dir.path / "crashed" / "outbox.sqlite3");
  BOOST_CHECK_EXCEPTION(Outbox(options(dir.path / "crashed")), std::runtime_error, [&](const std::runtime_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return says(e, (dir.path / "crashed" / "outbox.sqlite3").string()) && says(e, "missing");
  });
}

BOOST_AUTO_TEST_CASE(a_new_data_directory_gets_a_new_outbox) {
  TempDir dir;
  { Outbox box(options(dir.path / "new" / "data")); }
  Outbox again(options(dir.path / "new" / "data"));  // what the first one made opens again
  BOOST_TEST(again.pending().empty());
  for (auto& entry : fs::directory_iterator(dir.path / "new" / "data"))
    BOOST_TEST(entry.path().filename().string().starts_with("outbox.sqlite3"), entry.path());
}

BOOST_AUTO_TEST_CASE(a_full_disk_error_says_what_to_do) {
  zpark::test::FaultyDisk disk;
  TempDir dir;
  Outbox box(options(dir.path));
  disk.fail_writes(SQLITE_FULL);
  BOOST_CHECK_EXCEPTION(box.accept({task("a")}, 1), std::runtime_error, [&](const std::runtime_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return says(e, "full") && says(e, "free space");
  });
  disk.fail_writes(SQLITE_IOERR_WRITE);
  BOOST_CHECK_EXCEPTION(box.accept({task("a")}, 1), std::runtime_error, [&](const std::runtime_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return says(e, "I/O error") && says(e, "read-only");
  });
  disk.heal();
  BOOST_TEST(box.accept({task("a")}, 2).size() == 1u);
}

// Finding: the dedup key must not change between builds of the standard library.
BOOST_AUTO_TEST_CASE(dedup_keys_are_a_stable_digest_of_the_alert_text) {
  zpark::spark::Alert a;
  a.to = "Ops@Example.com";
  a.subject = "disk full";
  a.event_id = "42";
  a.kind = zpark::spark::AlertKind::problem;
  BOOST_TEST(dedup_key(a) ==
             "42|problem|ops@example.com|8186b6e966f2510f79973ddba65f59f2e4c04766ac3481764c5473fe1ef14594");
  a.kind = zpark::spark::AlertKind::update;
  a.subject = "Problem: CPU";
  a.has_message = true;
  a.message = "CPU is at 99% on db01";
  a.update_message = "on it";
  a.update_action = "acknowledged";
  a.update_user = "Admin";
  BOOST_TEST(dedup_key(a) ==
             "42|update|ops@example.com|f4d0ac1ae10d150ad0428942781035f46f0348185391f4845c5a1133904e4df3");
  a.event_id.clear();
  BOOST_TEST(dedup_key(a).empty());  // plain alerts are not deduplicated
}

// Schema version 1 as zpark 0.1 shipped it (tasks/outbox.cpp, migration 0), to build the
// outbox an older zpark left behind.
constexpr const char* schema_v1 = R"sql(
CREATE TABLE tasks (
  seq            INTEGER PRIMARY KEY,
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
  markdown      TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (event_id, recipient)
) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

BOOST_AUTO_TEST_CASE(a_zabbix_retry_accepted_before_an_upgrade_is_still_recognised) {
  TempDir dir;
  zpark::spark::Alert a;
  a.to = "ops@example.com";
  a.subject = "Problem: disk full";
  a.has_message = true;
  a.message = "on db01";
  a.event_id = "77";
  a.kind = zpark::spark::AlertKind::problem;
  const auto payload = boost::json::serialize(zpark::spark::to_json(a));
  const std::string taskid = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  const std::int64_t t0 = 1'700'000'000'000;
  {
    sqlite::Db db((dir.path / "outbox.sqlite3").string());
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(schema_v1);
    // The key an older build made: std::hash of the text, whatever that build's hash gave.
    sqlite::Stmt task(db, "INSERT INTO tasks (taskid, recipient, payload, accepted_at_ms) VALUES (?1, ?2, ?3, ?4)");
    task(taskid, a.to, payload, t0).run();
    sqlite::Stmt key(db, "INSERT INTO dedup (key, taskid, accepted_at_ms) VALUES (?1, ?2, ?3)");
    key("77|problem|ops@example.com|12737512961744357046", taskid, t0).run();
    // A key whose task is gone cannot be rebuilt; it must not stop the upgrade.
    key("78|problem|ops@example.com|99", "0190a1b2-c3d4-7e5f-8a9b-000000000000", t0).run();
  }
  auto o = options(dir.path);
  o.dedup_window = std::chrono::seconds(600);
  Outbox box(o);
  auto again = box.accept({NewTask{a.to, dedup_key(a), payload}}, t0 + 60'000);
  BOOST_TEST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].duplicate);
  BOOST_TEST(again[0].taskid == taskid);
  BOOST_TEST(box.counts().pending == 1u);
  // Every later migration ran too: the thread roots of the old file are found by message.
  box.remember_thread("77", a.to, "root-77", "room", "", t0);
  BOOST_TEST(box.thread_event("root-77").value_or("") == "77");
  sqlite::Db db((dir.path / "outbox.sqlite3").string());
  BOOST_TEST(db.query_int("PRAGMA user_version") == 4);
}

namespace {

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) _exit(4);
    done += static_cast<std::size_t>(n);
  }
}

// Child: accepts batches forever and reports each task id only after accept() returned.
[[noreturn]] void accept_forever(const fs::path& dir, bool fsync, int out) {
  try {
    Outbox box(options(dir, fsync));
    for (std::int64_t i = 0;; ++i) {
      std::vector<NewTask> batch;
      for (int j = 0; j <= i % 4; ++j)
        batch.push_back(task("r" + std::to_string(j), std::to_string(i) + "|" + std::to_string(j) + "|r", R"({"subject":"x"})"));
      std::string lines;
      for (const auto& a : box.accept(batch, i)) lines += a.taskid + '\n';
      write_all(out, lines);
    }
  } catch (...) {
    _exit(3);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(acknowledged_accepts_survive_kill_9) {
  std::mt19937 rng(std::random_device{}());
  for (bool fsync : {true, false}) {
    for (int round = 0; round < 4; ++round) {
      TempDir dir;
      int fds[2];
      BOOST_TEST_REQUIRE(::pipe(fds) == 0);
      pid_t pid = ::fork();
      BOOST_TEST_REQUIRE(pid >= 0);
      if (pid == 0) {
        ::close(fds[0]);
        accept_forever(dir.path, fsync, fds[1]);
      }
      ::close(fds[1]);

      // Kill at a random moment, most likely in the middle of a transaction.
      const std::size_t kill_after = std::uniform_int_distribution<std::size_t>(50, 600)(rng);
      std::vector<std::string> reported;
      std::string buf;
      bool killed = false;
      char chunk[4096];
      for (;;) {
        ssize_t n = ::read(fds[0], chunk, sizeof chunk);
        if (n <= 0) break;  // EOF: the child is gone
        buf.append(chunk, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1))
          reported.push_back(buf.substr(0, nl));
        if (!killed && reported.size() >= kill_after) {
          ::kill(pid, SIGKILL);
          killed = true;
        }
      }
      ::close(fds[0]);
      int status = 0;
      ::waitpid(pid, &status, 0);
      BOOST_TEST_REQUIRE(WIFSIGNALED(status), "child exited on its own, status " << status);
      BOOST_TEST(WTERMSIG(status) == SIGKILL);

      // Every reported id is there, in order; the child may have committed a few more.
      Outbox box(options(dir.path));  // recovers the WAL the child left behind
      {
        sqlite::Db db((dir.path / "outbox.sqlite3").string());
        BOOST_TEST(db.query_text("PRAGMA integrity_check") == "ok");
      }
      auto p = ids(box.pending());
      const auto on_disk = p.size();
      BOOST_TEST_REQUIRE(on_disk >= reported.size());
      p.resize(reported.size());
      BOOST_TEST(p == reported, boost::test_tools::per_element());
      BOOST_TEST_MESSAGE("kill -9 (fsync " << fsync << "): " << reported.size()
                                           << " reported, all present; " << on_disk
                                           << " on disk");
    }
  }
}

BOOST_AUTO_TEST_CASE(throughput_report) {
  // Numbers are for the log only: shared machines swing too much to assert on.
  const std::string payload(300, 'p');
  auto run = [&](bool fsync, std::size_t batch_size, std::size_t rows) {
    TempDir dir;
    Outbox box(options(dir.path, fsync));
    std::vector<NewTask> batch(batch_size);
    auto start = std::chrono::steady_clock::now();
    for (std::size_t done = 0; done < rows; done += batch_size) {
      for (std::size_t j = 0; j < batch_size; ++j)
        batch[j] = task("room-" + std::to_string(j), std::to_string(done + j) + "|problem|room",
                        payload);
      box.accept(batch, static_cast<std::int64_t>(done));
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    BOOST_TEST(box.counts().pending == rows);
    BOOST_TEST_MESSAGE("accept: " << static_cast<long>(rows / took.count()) << " rows/s ("
                                  << batch_size << " per transaction, synchronous="
                                  << (fsync ? "FULL" : "NORMAL") << ", " << rows << " rows)");
  };
  run(false, 10, 50'000);
  run(true, 10, 10'000);
  run(false, 1, 10'000);
  run(true, 1, 3'000);
}
