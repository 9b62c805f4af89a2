// The relay against a scripted in-memory sink: order, retries, 429 pause, dedup, threads,
// max age, restart. Real outbox (SQLite in a temp dir), real io_context, short delays.
#define BOOST_TEST_MODULE relay
#include <boost/test/unit_test.hpp>

#include "spark/message_format.hpp"
#include "tasks/relay.hpp"
#include "tasks/retry_policy.hpp"
#include "test/support/process.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <map>

using namespace zpark;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct Sent {
  spark::OutMessage msg;
  std::chrono::steady_clock::time_point at;
  std::string id;
};

// Answers from a script (per call, FIFO), then success.
class ScriptedSink : public spark::MessageSink {
 public:
  std::deque<spark::SendResult> script;
  std::vector<Sent> sent;  // only the successful ones
  std::vector<std::chrono::steady_clock::time_point> attempts;
  std::vector<std::pair<std::string, std::string>> edits;
  int next = 1;

  asio::awaitable<spark::SendResult> send(spark::OutMessage m) override {
    attempts.push_back(std::chrono::steady_clock::now());
    if (!script.empty()) {
      auto r = script.front();
      script.pop_front();
      if (!r.ok()) co_return r;
    }
    spark::SendResult r;
    r.status = 200;
    r.message_id = "m" + std::to_string(next++);
    r.room_id = "room-" + m.to;
    sent.push_back({m, std::chrono::steady_clock::now(), r.message_id});
    co_return r;
  }
  asio::awaitable<spark::SendResult> edit(std::string id, std::string, std::string md) override {
    edits.emplace_back(id, md);
    spark::SendResult r;
    r.status = 200;
    co_return r;
  }
};

spark::SendResult status(unsigned s, std::optional<long> retry_after = std::nullopt) {
  spark::SendResult r;
  r.status = s;
  r.retry_after_seconds = retry_after;
  r.error = "HTTP " + std::to_string(s);
  return r;
}

spark::Alert alert(std::string to, std::string subject, std::string event = "", spark::AlertKind kind = spark::AlertKind::plain) {
  spark::Alert a;
  a.to = std::move(to);
  a.subject = std::move(subject);
  a.event_id = std::move(event);
  a.kind = kind;
  return a;
}

struct Fixture {
  test::TempDir dir;
  asio::io_context io;
  std::unique_ptr<tasks::Outbox> outbox;
  ScriptedSink sink;
  std::unique_ptr<tasks::Relay> relay;
  std::int64_t clock_offset_ms = 0;

  explicit Fixture(tasks::RelayOptions opts = fast()) { open(opts); }
  static tasks::RelayOptions fast() {
    tasks::RelayOptions o;
    o.retry.base = 5ms;
    o.retry.cap = 20ms;
    return o;
  }
  void open(tasks::RelayOptions opts = fast()) {
    if (relay) {  // as at shutdown: stop, let the coroutines unwind, then destroy
      relay->stop();
      run_until([] { return false; }, 30ms);
      relay.reset();
    }
    outbox = std::make_unique<tasks::Outbox>(tasks::OutboxOptions{dir.path(), false, 60s});
    relay = std::make_unique<tasks::Relay>(io.get_executor(), *outbox, sink, opts,
                                           [this] { return tasks::system_now_ms() + clock_offset_ms; });
  }
  // Accepts and runs the loop until the outbox answered.
  std::vector<tasks::Accepted> accept(std::vector<spark::Alert> alerts) {
    auto out = std::make_shared<std::optional<std::vector<tasks::Accepted>>>();
    asio::co_spawn(io, relay->accept(std::move(alerts)), [out](std::exception_ptr e, std::vector<tasks::Accepted> r) {
      if (e) std::rethrow_exception(e);
      *out = std::move(r);
    });
    run_until([&] { return out->has_value(); });
    return out->value_or(std::vector<tasks::Accepted>{});
  }
  // Runs the loop until `done` or the time is up.
  bool run_until(std::function<bool()> done, std::chrono::milliseconds limit = 5s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) {
      io.run_for(5ms);
      if (io.stopped()) io.restart();
    }
    return done();
  }
  std::size_t delivered() const { return outbox->counts().delivered; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(retry_policy_decisions) {
  tasks::RetryPolicy p;
  BOOST_TEST((tasks::decide(status(200), 1, p, 0.5).verdict == tasks::Verdict::delivered));
  BOOST_TEST((tasks::decide(status(503), 1, p, 0.5).verdict == tasks::Verdict::retry));
  BOOST_TEST((tasks::decide(status(404), 1, p, 0.5).verdict == tasks::Verdict::failed));
  BOOST_TEST((tasks::decide(status(400), 1, p, 0.5).verdict == tasks::Verdict::failed));
  auto limited = tasks::decide(status(429, 7), 1, p, 0.5);
  BOOST_TEST((limited.verdict == tasks::Verdict::pause_all));
  BOOST_TEST(limited.delay.count() == 7000);
  BOOST_TEST(tasks::decide(status(429), 1, p, 0.5).delay.count() == 15000);
  spark::SendResult net;
  net.transport_error = true;
  BOOST_TEST((tasks::decide(net, 3, p, 0.5).verdict == tasks::Verdict::retry));
  // Backoff doubles, stays within [d/2, d], and is capped.
  BOOST_TEST(tasks::backoff(1, p, 0.0).count() == 500);
  BOOST_TEST(tasks::backoff(1, p, 1.0).count() == 1000);
  BOOST_TEST(tasks::backoff(3, p, 1.0).count() == 4000);
  BOOST_TEST(tasks::backoff(30, p, 1.0).count() == 30000);
}

BOOST_AUTO_TEST_CASE(accepted_alerts_are_delivered_in_order_per_recipient_despite_faults) {
  Fixture f;
  f.sink.script = {status(503), status(500), status(502)};
  for (int i = 0; i < 20; ++i) {
    f.accept({alert("a@example.com", "A" + std::to_string(i))});
    f.accept({alert("ROOM1", "R" + std::to_string(i))});
  }
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 40; }));
  std::vector<std::string> a, r;
  for (auto& s : f.sink.sent) (s.msg.to == "ROOM1" ? r : a).push_back(s.msg.markdown);
  BOOST_REQUIRE(a.size() == 20u);
  for (int i = 0; i < 20; ++i) {
    BOOST_TEST(a[i] == "**A" + std::to_string(i) + "**");
    BOOST_TEST(r[i] == "**R" + std::to_string(i) + "**");
  }
  BOOST_TEST(f.relay->stats().retries == 3u);
}

BOOST_AUTO_TEST_CASE(a_429_pauses_every_lane) {
  Fixture f;
  f.sink.script = {status(429, 1)};
  f.accept({alert("a@example.com", "first")});
  BOOST_REQUIRE(f.run_until([&] { return f.sink.attempts.size() == 1; }));
  auto limited_at = f.sink.attempts[0];
  // Other recipients arrive during the pause: nothing may be sent before it ends.
  f.accept({alert("b@example.com", "b")});
  f.accept({alert("ROOM2", "c")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 3; }));
  for (auto& s : f.sink.sent) BOOST_TEST((s.at - limited_at) >= 990ms);
  BOOST_TEST(f.relay->stats().rate_limited == 1u);
}

BOOST_AUTO_TEST_CASE(final_4xx_fails_the_task_and_the_lane_moves_on) {
  tasks::RelayOptions o = Fixture::fast();
  o.admin_room = "ADMINROOM";
  Fixture f(o);
  f.sink.script = {status(404)};
  auto acc = f.accept({alert("nobody@example.com", "lost")});
  f.accept({alert("nobody@example.com", "next")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 2; }));  // "next" and the admin note
  BOOST_REQUIRE(acc.size() == 1u);
  auto t = f.outbox->find(acc[0].taskid);
  BOOST_REQUIRE(t);
  BOOST_TEST((t->state == tasks::TaskState::failed));
  BOOST_TEST(t->reason.find("404") != std::string::npos);
  bool admin_noted = false;
  for (auto& s : f.sink.sent) admin_noted |= s.msg.to == "ADMINROOM" && s.msg.markdown.find("lost") != std::string::npos;
  BOOST_TEST(admin_noted);
}

BOOST_AUTO_TEST_CASE(alerts_older_than_max_age_are_failed) {
  tasks::RelayOptions o = Fixture::fast();
  o.max_age = 1s;
  Fixture f(o);
  for (int i = 0; i < 1000; ++i) f.sink.script.push_back(status(503));
  auto acc = f.accept({alert("a@example.com", "doomed")});
  BOOST_REQUIRE(f.run_until([&] { return f.outbox->counts().failed == 1; }, 5s));
  BOOST_TEST(f.outbox->find(acc[0].taskid)->reason.find("ZPARK_ALERT_MAX_AGE") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(zabbix_retries_are_accepted_once) {
  Fixture f;
  auto p = alert("a@example.com", "disk full", "42", spark::AlertKind::problem);
  auto first = f.accept({p});
  auto again = f.accept({p});
  BOOST_REQUIRE(f.run_until([&] { return !first.empty() && !again.empty() && f.delivered() == 1; }));
  BOOST_TEST(again[0].duplicate);
  BOOST_TEST(again[0].taskid == first[0].taskid);
  // A second acknowledgement of the same event is not a retry.
  auto u1 = alert("a@example.com", "ack", "42", spark::AlertKind::update);
  u1.update_message = "looking";
  auto u2 = u1;
  u2.update_message = "fixed it";
  f.accept({u1});
  f.accept({u2});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 3; }));
  BOOST_TEST(f.sink.sent.size() == 3u);
}

BOOST_AUTO_TEST_CASE(update_and_recovery_go_into_the_problem_thread_and_edit) {
  tasks::RelayOptions o = Fixture::fast();
  o.edit_on_recovery = true;
  Fixture f(o);
  f.accept({alert("a@example.com", "Problem: disk", "7", spark::AlertKind::problem)});
  f.accept({alert("a@example.com", "Update: disk", "7", spark::AlertKind::update)});
  f.accept({alert("a@example.com", "Resolved: disk", "7", spark::AlertKind::recovery)});
  f.accept({alert("a@example.com", "plain")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 4 && f.sink.edits.size() == 1; }));
  auto& s = f.sink.sent;
  BOOST_TEST(s[0].msg.parent_id == "");
  BOOST_TEST(s[1].msg.parent_id == s[0].id);
  BOOST_TEST(s[2].msg.parent_id == s[0].id);
  BOOST_TEST(s[3].msg.parent_id == "");
  BOOST_TEST(f.sink.edits[0].first == s[0].id);
  BOOST_TEST(f.sink.edits[0].second.find("RESOLVED") != std::string::npos);
  BOOST_TEST(f.sink.edits[0].second.find("Problem: disk") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(long_messages_are_split_into_a_thread) {
  Fixture f;
  auto a = alert("a@example.com", "big");
  a.has_message = true;
  a.message = std::string(20000, 'x');
  f.accept({a});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 1; }));
  BOOST_REQUIRE(f.sink.sent.size() == 3u);
  for (auto& s : f.sink.sent) BOOST_TEST(s.msg.markdown.size() <= spark::kMaxMessageBytes);
  BOOST_TEST(f.sink.sent[0].msg.markdown.starts_with("(part 1/3)"));
  BOOST_TEST(f.sink.sent[1].msg.parent_id == f.sink.sent[0].id);
  BOOST_TEST(f.sink.sent[2].msg.parent_id == f.sink.sent[0].id);
}

BOOST_AUTO_TEST_CASE(pending_alerts_resume_in_order_after_restart) {
  Fixture f;
  f.sink.script = {status(503)};
  tasks::RelayOptions slow = Fixture::fast();
  slow.retry.base = 10s;  // so the first attempt's retry does not happen before the "crash"
  slow.retry.cap = 10s;
  f.open(slow);
  for (int i = 0; i < 5; ++i) f.accept({alert("a@example.com", "n" + std::to_string(i))});
  BOOST_REQUIRE(f.run_until([&] { return f.sink.attempts.size() == 1; }));
  f.open();  // a new relay on the same outbox, as after a restart
  f.relay->resume();
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 5; }));
  BOOST_REQUIRE(f.sink.sent.size() == 5u);
  for (int i = 0; i < 5; ++i) BOOST_TEST(f.sink.sent[i].msg.markdown == "**n" + std::to_string(i) + "**");
}

BOOST_AUTO_TEST_CASE(concurrent_accepts_share_one_commit) {
  Fixture f;
  int done = 0;
  for (int i = 0; i < 50; ++i)
    asio::co_spawn(f.io, f.relay->accept({alert("a@example.com", "x" + std::to_string(i))}),
                   [&](std::exception_ptr, std::vector<tasks::Accepted>) { ++done; });
  BOOST_REQUIRE(f.run_until([&] { return done == 50; }));
  BOOST_TEST(f.relay->stats().commits == 1u);
}

BOOST_AUTO_TEST_CASE(message_format_markers_and_split) {
  auto p = alert("a@b", "Disk full", "1", spark::AlertKind::problem);
  p.has_message = true;
  p.message = "on db01";
  BOOST_TEST(spark::format_markdown(p).find("PROBLEM** **Disk full**\n\non db01") != std::string::npos);
  auto r = alert("a@b", "Resolved", "1", spark::AlertKind::recovery);
  BOOST_TEST(spark::format_markdown(r).find("RESOLVED") != std::string::npos);
  auto parts = spark::split_message(std::string(100000, 'y'));
  BOOST_TEST(parts.size() == spark::kMaxParts);
  BOOST_TEST(parts.back().find("message cut") != std::string::npos);
  // UTF-8 is never cut in the middle of a character.
  std::string euro;
  for (int i = 0; i < 4000; ++i) euro += "\xE2\x82\xAC";
  for (auto& part : spark::split_message(euro)) {
    auto body = part.substr(part.find('\n') + 1);
    BOOST_TEST(body.size() % 3 == 0u);
  }
}
