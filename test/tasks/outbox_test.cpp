#define BOOST_TEST_MODULE outbox
#include <boost/test/unit_test.hpp>

#include "tasks/outbox.hpp"
#include "tasks/sqlite.hpp"
#include "tasks/task_id.hpp"

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
                                 says(e, "not a database");
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
