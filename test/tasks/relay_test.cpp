// The relay against a scripted in-memory sink: order, retries, 429 pause, dedup, threads,
// max age, restart, a full disk. Real outbox (SQLite in a temp dir), real io_context, and a
// ManualClock: time moves only when every coroutine waits, straight to the next deadline, so
// an hour of pauses and backoff runs in milliseconds and nothing sleeps.
#define BOOST_TEST_MODULE relay
#include <boost/test/unit_test.hpp>

#include "tasks/relay.hpp"
#include "tasks/sqlite_store.hpp"
#include "test/support/process.hpp"
#include "test/tasks/faulty_disk.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sqlite3.h>

#include <deque>
#include <functional>
#include <map>

using namespace zpark;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct Sent {
  spark::OutMessage msg;
  std::int64_t at_ms;  // on the fixture's clock
  std::string id;
};

// Answers from a script (per call, FIFO), then success.
class ScriptedSink : public spark::MessageSink {
 public:
  explicit ScriptedSink(const tasks::Clock& clock) : clock_(clock) {}
  std::deque<spark::SendResult> script;
  std::vector<Sent> sent;  // only the successful ones
  std::vector<std::int64_t> attempts;
  std::vector<std::pair<std::string, std::string>> edits;
  int next = 1;
  std::function<void()> on_send;  // called at each attempt, before answering
  asio::steady_timer* gate = nullptr;  // when set, each send waits until it is cancelled

  asio::awaitable<spark::SendResult> send(spark::OutMessage m) override {
    attempts.push_back(clock_.now_ms());
    if (on_send) on_send();
    if (gate) co_await gate->async_wait(asio::as_tuple(asio::use_awaitable));
    if (!script.empty()) {
      auto r = script.front();
      script.pop_front();
      if (!r.ok()) co_return r;
    }
    spark::SendResult r;
    r.status = 200;
    r.message_id = "m" + std::to_string(next++);
    r.room_id = "room-" + m.to;
    sent.push_back({m, clock_.now_ms(), r.message_id});
    co_return r;
  }
  asio::awaitable<spark::SendResult> edit(std::string id, std::string, std::string md) override {
    edits.emplace_back(id, md);
    spark::SendResult r;
    r.status = 200;
    co_return r;
  }

 private:
  const tasks::Clock& clock_;
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
  // Before io: the coroutine frames io destroys last unregister their waits from the clock.
  tasks::ManualClock clock;
  asio::io_context io;
  std::unique_ptr<tasks::Outbox> outbox;
  std::unique_ptr<tasks::SqliteStore> store;
  ScriptedSink sink{clock};
  std::unique_ptr<tasks::Relay> relay;

  explicit Fixture(tasks::RelayOptions opts = {}) { open(opts); }
  void open(tasks::RelayOptions opts = {}) {
    if (relay) {  // as at shutdown: stop, let the coroutines unwind, then destroy
      relay->stop();
      settle();
      relay.reset();
    }
    store.reset();
    outbox = std::make_unique<tasks::Outbox>(tasks::OutboxOptions{dir.path(), false, 60s});
    store = std::make_unique<tasks::SqliteStore>(*outbox);
    relay = std::make_unique<tasks::Relay>(io.get_executor(), *store, sink, opts, clock);
  }
  // Runs every handler that is ready, without moving the clock.
  void settle() {
    for (;;) {
      if (io.stopped()) io.restart();
      if (io.poll() == 0) break;
    }
  }
  // The simulation: run what is ready; when everything waits, move the clock to the next
  // deadline. False when `done` does not hold within `limit` of simulated time.
  bool run_until(std::function<bool()> done, std::chrono::milliseconds limit = 1h) {
    const auto end = clock.now_ms() + limit.count();
    for (;;) {
      settle();
      if (done()) return true;
      const auto next = clock.next_deadline();
      if (next < 0 || next > end) return false;
      clock.set(next);
    }
  }
  // Accepts and runs until the outbox answered; rethrows its error.
  std::vector<tasks::Accepted> accept(std::vector<spark::Alert> alerts) {
    auto out = std::make_shared<std::optional<std::vector<tasks::Accepted>>>();
    auto error = std::make_shared<std::exception_ptr>();
    asio::co_spawn(io, relay->accept(std::move(alerts)), [out, error](std::exception_ptr e, std::vector<tasks::Accepted> r) {
      if (e) *error = e;
      else *out = std::move(r);
    });
    while (!out->has_value() && !*error) settle();
    if (*error) std::rethrow_exception(*error);
    return out->value();
  }
  std::size_t delivered() const { return outbox->counts().delivered; }
  std::int64_t now() const { return clock.now_ms(); }
};

}  // namespace

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

BOOST_AUTO_TEST_CASE(a_429_pauses_every_lane_for_retry_after) {
  Fixture f;
  f.sink.script = {status(429, 3600)};
  f.accept({alert("a@example.com", "first")});
  BOOST_REQUIRE(f.run_until([&] { return f.sink.attempts.size() == 1; }));
  const auto limited_at = f.sink.attempts[0];
  BOOST_TEST(f.relay->stats().paused);
  // The bot commands read the pause as a steady_clock deadline.
  BOOST_TEST((f.relay->paused_until() > std::chrono::steady_clock::now() + 3590s));
  // Other recipients arrive during the pause: nothing may be sent before it ends.
  f.accept({alert("b@example.com", "b")});
  f.accept({alert("ROOM2", "c")});
  f.clock.advance(3'599'000);
  f.settle();
  BOOST_TEST(f.sink.attempts.size() == 1u);
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 3; }));
  for (auto& s : f.sink.sent) BOOST_TEST(s.at_ms - limited_at == 3'600'000);
  BOOST_TEST(f.relay->stats().rate_limited == 1u);
  BOOST_TEST(!f.relay->stats().paused);
  BOOST_TEST((f.relay->paused_until() <= std::chrono::steady_clock::now()));
}

BOOST_AUTO_TEST_CASE(pause_all_from_a_command_holds_the_lanes_too) {
  Fixture f;
  f.relay->pause_all(20s);
  f.accept({alert("a@example.com", "held")});
  f.clock.advance(19'999);
  f.settle();
  BOOST_TEST(f.sink.attempts.empty());
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 1; }));
  BOOST_TEST(f.sink.sent[0].at_ms == f.now());
}

BOOST_AUTO_TEST_CASE(failed_sends_back_off_exponentially_up_to_the_cap) {
  Fixture f;
  for (int i = 0; i < 8; ++i) f.sink.script.push_back(status(503));
  auto acc = f.accept({alert("a@example.com", "flaky")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 1; }));
  BOOST_REQUIRE(f.sink.attempts.size() == 9u);
  for (std::size_t i = 1; i < f.sink.attempts.size(); ++i) {
    const auto gap = f.sink.attempts[i] - f.sink.attempts[i - 1];
    const auto full = std::min<std::int64_t>(1000LL << (i - 1), 30'000);  // [full/2, full]
    BOOST_TEST(gap >= full / 2, "retry " << i << " after " << gap << " ms");
    BOOST_TEST(gap <= full, "retry " << i << " after " << gap << " ms");
  }
  BOOST_TEST(f.relay->stats().retries == 8u);
  BOOST_TEST(f.outbox->find(acc[0].taskid)->attempts == 8);
}

BOOST_AUTO_TEST_CASE(final_4xx_fails_the_task_and_the_lane_moves_on) {
  tasks::RelayOptions o;
  o.admin_room = "ADMINROOM";
  Fixture f(o);
  f.sink.script = {status(404)};
  auto acc = f.accept({alert("nobody@example.com", "lost <@all>")});
  f.accept({alert("nobody@example.com", "next")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 2; }));  // "next" and the admin note
  BOOST_REQUIRE(acc.size() == 1u);
  auto t = f.outbox->find(acc[0].taskid);
  BOOST_REQUIRE(t);
  BOOST_TEST((t->state == tasks::TaskState::failed));
  BOOST_TEST(t->reason.find("404") != std::string::npos);
  bool admin_noted = false;
  for (auto& s : f.sink.sent) {
    admin_noted |= s.msg.to == "ADMINROOM" && s.msg.markdown.find("lost") != std::string::npos;
    BOOST_TEST(s.msg.markdown.find("<@") == std::string::npos, s.msg.markdown);
  }
  BOOST_TEST(admin_noted);
}

BOOST_AUTO_TEST_CASE(alerts_older_than_max_age_are_failed) {
  tasks::RelayOptions o;
  o.max_age = 24h;
  Fixture f(o);
  for (int i = 0; i < 100'000; ++i) f.sink.script.push_back(status(503));
  const auto accepted_at = f.now();
  auto acc = f.accept({alert("a@example.com", "doomed")});
  BOOST_REQUIRE(f.run_until([&] { return f.outbox->counts().failed == 1; }, 25h));
  // Failed at the age limit, not a backoff later.
  BOOST_TEST(f.now() - accepted_at == 24 * 3'600'000 + 1);
  auto t = f.outbox->find(acc[0].taskid);
  BOOST_TEST(t->reason.find("ZPARK_ALERT_MAX_AGE") != std::string::npos);
  BOOST_TEST(t->reason.find("HTTP 503") != std::string::npos);
  BOOST_TEST(t->attempts > 24 * 120 - 10);  // every 30 s (the cap) for a day
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
  tasks::RelayOptions o;
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

// No double news: Zabbix's notice of an ack the bot made is not sent where the bot's reply
// already told it; other recipients, other messages and late notices still go out.
BOOST_AUTO_TEST_CASE(zabbix_notice_of_the_bots_own_ack_is_not_sent_to_the_room_that_saw_the_reply) {
  Fixture f;
  f.accept({alert("a@example.com", "Problem: disk", "7", spark::AlertKind::problem),
            alert("b@example.com", "Problem: disk", "7", spark::AlertKind::problem)});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 2; }));
  const std::string said = "on it \xE2\x80\x94 Alice <alice@example.com> via Webex";
  f.relay->expect_bot_update("7", "room-a@example.com", said);
  auto update = [&](std::string to, std::string message) {
    auto u = alert(std::move(to), "Update: disk", "7", spark::AlertKind::update);
    u.update_action = "acknowledged";
    u.update_message = std::move(message);
    return u;
  };
  auto echo = f.accept({update("a@example.com", said + "\n")}).front();
  f.accept({update("b@example.com", said)});                          // another recipient
  f.accept({update("a@example.com", "someone else's comment")});      // other news
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 5; }));
  BOOST_REQUIRE(f.sink.sent.size() == 4u);
  BOOST_TEST(f.sink.sent[2].msg.to == "b@example.com");
  BOOST_TEST(f.sink.sent[3].msg.to == "a@example.com");
  BOOST_TEST(f.sink.sent[3].msg.markdown.find("someone else") != std::string::npos);
  BOOST_TEST((f.outbox->find(echo.taskid)->state == tasks::TaskState::delivered));  // answered, recorded
  BOOST_TEST(f.relay->stats().echoes_dropped == 1u);
  // Past the window the same notice is news again.
  f.clock.set(f.now() + 11 * 60 * 1000);
  f.accept({update("a@example.com", said + " ")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 6; }));
  BOOST_TEST(f.sink.sent.size() == 5u);
}

BOOST_AUTO_TEST_CASE(bot_updates_match_event_room_and_message_within_the_window) {
  tasks::BotUpdates b(1000);
  b.expect("7", "R", "ack \xE2\x80\x94 A via Webex", 0);
  b.expect("", "R", "x", 0);  // nothing to match: not kept
  b.expect("7", "R", "  ", 0);
  BOOST_TEST(b.size() == 1u);
  BOOST_TEST(b.is_echo("7", "R", "ack \xE2\x80\x94 A via Webex", 999));
  BOOST_TEST(b.is_echo("7", "R", "\nack \xE2\x80\x94 A via Webex\r\n", 10));
  BOOST_TEST(!b.is_echo("8", "R", "ack \xE2\x80\x94 A via Webex", 10));
  BOOST_TEST(!b.is_echo("7", "S", "ack \xE2\x80\x94 A via Webex", 10));
  BOOST_TEST(!b.is_echo("7", "", "ack \xE2\x80\x94 A via Webex", 10));
  BOOST_TEST(!b.is_echo("7", "R", "ack", 10));
  BOOST_TEST(!b.is_echo("7", "R", "", 10));
  BOOST_TEST(!b.is_echo("7", "R", "ack \xE2\x80\x94 A via Webex", 1000));
  BOOST_TEST(b.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_problem_gets_its_card_in_its_thread_after_it_and_a_refused_card_costs_only_itself) {
  tasks::RelayOptions o;
  o.cards = spark::CardOptions{"http://zabbix.example.com"};
  o.edit_on_recovery = true;
  Fixture f(o);
  f.accept({alert("a@example.com", "Problem: disk", "7", spark::AlertKind::problem)});
  f.accept({alert("a@example.com", "Resolved: disk", "7", spark::AlertKind::recovery)});
  f.accept({alert("a@example.com", "plain")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 4 && f.sink.edits.size() == 1; }));
  auto& s = f.sink.sent;
  BOOST_REQUIRE(s.size() == 4u);
  BOOST_TEST(s[0].msg.card.empty());  // the problem message stays editable
  std::size_t card = 0;
  for (std::size_t i = 1; i < s.size(); ++i)
    if (!s[i].msg.card.empty()) card = i;
  BOOST_REQUIRE(card > 0u);
  BOOST_TEST(s[card].msg.parent_id == s[0].id);
  BOOST_TEST(s[card].msg.card.find("\"Acknowledge\"") != std::string::npos);
  BOOST_TEST(f.sink.edits[0].first == s[0].id);
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != card) BOOST_TEST(s[i].msg.card.empty());

  // Webex refuses a card (400): the problem is delivered all the same, the card alone fails.
  f.sink.script = {spark::SendResult{.status = 200}, status(400)};
  f.accept({alert("b@example.com", "Problem: cpu", "8", spark::AlertKind::problem)});
  BOOST_REQUIRE(f.run_until([&] { return f.outbox->counts().failed == 1; }));
  BOOST_TEST(f.delivered() == 5u);
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
  for (int i = 0; i < 5; ++i) f.accept({alert("a@example.com", "n" + std::to_string(i))});
  BOOST_REQUIRE(f.run_until([&] { return f.sink.attempts.size() == 1; }));
  f.open();  // a new relay on the same outbox, as after a restart (the clock has not moved)
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


BOOST_AUTO_TEST_CASE(a_reply_goes_verbatim_into_its_thread) {
  Fixture f;
  spark::Alert r;
  r.to = "ROOMR";
  r.kind = spark::AlertKind::reply;
  r.parent_id = "QUESTION";
  r.has_message = true;
  r.message = "Hello <@personEmail:joel@example.com|Joel>, **2** issues";
  f.accept({r});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 1; }));
  BOOST_TEST(f.sink.sent[0].msg.markdown == r.message);
  BOOST_TEST(f.sink.sent[0].msg.parent_id == "QUESTION");
  BOOST_TEST(f.sink.sent[0].msg.to == "ROOMR");
}

BOOST_AUTO_TEST_CASE(what_webex_accepted_is_not_sent_again_while_the_disk_is_full) {
  test::FaultyDisk disk;  // before the outbox opens its file
  Fixture f;
  auto a = alert("a@example.com", "big", "9", spark::AlertKind::problem);
  a.has_message = true;
  a.message = std::string(30000, 'x');  // 4 parts
  // The disk fills up once Webex has the first part: the outbox cannot record the delivery.
  f.sink.on_send = [&] {
    if (f.sink.attempts.size() == 1) disk.fail_writes(SQLITE_FULL);
  };
  auto acc = f.accept({a});
  BOOST_REQUIRE(f.run_until([&] { return f.sink.attempts.size() == 4; }));
  // A minute of full disk: the record is retried, nothing is sent again, not ready.
  BOOST_TEST(!f.run_until([&] { return f.delivered() == 1; }, 60s));
  BOOST_TEST(f.sink.attempts.size() == 4u);
  BOOST_TEST(disk.failed_writes() >= 12u);  // every <= 5 s
  BOOST_TEST(f.relay->problem().find(f.outbox->path().string()) != std::string::npos, f.relay->problem());
  BOOST_TEST(f.relay->problem().find("free space") != std::string::npos, f.relay->problem());
  BOOST_CHECK_THROW(f.accept({alert("b@example.com", "refused")}), std::exception);
  disk.heal();  // space returns
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 1; }, 6s));
  BOOST_TEST(f.sink.sent.size() == 4u);
  auto t = f.outbox->find(acc[0].taskid);
  BOOST_TEST(t->webex_id == f.sink.sent[0].id);
  BOOST_TEST(f.relay->problem().empty());
  // The thread root was remembered with the record: an update goes under the first part.
  auto u = alert("a@example.com", "update", "9", spark::AlertKind::update);
  f.accept({u});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 2; }));
  BOOST_TEST(f.sink.sent.back().msg.parent_id == f.sink.sent[0].id);
}

BOOST_AUTO_TEST_CASE(a_delivery_unrecorded_past_max_age_is_still_recorded_delivered) {
  test::FaultyDisk disk;
  tasks::RelayOptions o;
  o.max_age = 1min;
  Fixture f(o);
  f.sink.on_send = [&] { disk.fail_writes(SQLITE_IOERR_WRITE); };  // e.g. the disk went read-only
  auto acc = f.accept({alert("a@example.com", "kept")});
  BOOST_TEST(!f.run_until([&] { return f.delivered() == 1; }, 10min));
  BOOST_TEST(f.relay->problem().find("read-only") != std::string::npos, f.relay->problem());
  disk.heal();
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 1; }, 6s));
  BOOST_TEST(f.sink.attempts.size() == 1u);
  BOOST_TEST(f.outbox->counts().failed == 0u);
}

BOOST_AUTO_TEST_CASE(readiness_returns_when_the_disk_has_room_again_without_traffic) {
  test::FaultyDisk disk;
  Fixture f;
  disk.fail_writes(SQLITE_FULL);
  BOOST_CHECK_THROW(f.accept({alert("a@example.com", "refused")}), std::exception);
  BOOST_TEST(!f.relay->problem().empty());
  BOOST_TEST(!f.run_until([&] { return f.relay->problem().empty(); }, 1min));  // still full
  disk.heal();
  BOOST_REQUIRE(f.run_until([&] { return f.relay->problem().empty(); }, 6s));
  f.accept({alert("a@example.com", "taken")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 1; }));
  BOOST_TEST(f.sink.sent.size() == 1u);
}

BOOST_AUTO_TEST_CASE(stop_records_the_send_in_flight_and_starts_nothing_new) {
  Fixture f;
  asio::steady_timer gate(f.io, asio::steady_timer::time_point::max());
  f.sink.gate = &gate;
  auto first = f.accept({alert("a@example.com", "in flight")});
  auto second = f.accept({alert("a@example.com", "next")});
  BOOST_REQUIRE(f.sink.attempts.size() == 1u);
  f.relay->stop();  // as at SIGTERM, while Webex has not answered yet
  gate.cancel();    // Webex answers 200
  f.settle();
  BOOST_TEST((f.outbox->find(first[0].taskid)->state == tasks::TaskState::delivered));
  BOOST_TEST((f.outbox->find(second[0].taskid)->state == tasks::TaskState::pending));
  BOOST_TEST(f.sink.attempts.size() == 1u);
}

// Graphs hook in here: once per problem, after Webex took it (not on a failed try), with the
// message that roots its thread; never for updates, recoveries, plain alerts or replies.
BOOST_AUTO_TEST_CASE(the_problem_delivered_hook_fires_once_per_delivered_problem_with_its_thread_root) {
  Fixture f;
  struct Call {
    std::string event, message_id, room_id;
  };
  std::vector<Call> calls;
  f.relay->on_problem_delivered([&](const spark::Alert& a, const std::string& id, const std::string& room) {
    calls.push_back({a.event_id, id, room});
  });
  f.sink.script.push_back(status(503));
  f.accept({alert("a@example.com", "Problem: disk", "7", spark::AlertKind::problem)});
  f.accept({alert("a@example.com", "Update: disk", "7", spark::AlertKind::update)});
  f.accept({alert("a@example.com", "Resolved: disk", "7", spark::AlertKind::recovery)});
  f.accept({alert("a@example.com", "plain")});
  BOOST_REQUIRE(f.run_until([&] { return f.delivered() == 4; }));
  BOOST_REQUIRE(calls.size() == 1u);
  BOOST_TEST(calls[0].event == "7");
  BOOST_TEST(calls[0].message_id == f.sink.sent.at(0).id);
  BOOST_TEST(calls[0].room_id == "room-a@example.com");
  // A hook that throws changes nothing for the delivery.
  f.relay->on_problem_delivered([](const spark::Alert&, const std::string&, const std::string&) {
    throw std::runtime_error("graph bug");
  });
  f.accept({alert("a@example.com", "Problem: cpu", "8", spark::AlertKind::problem)});
  BOOST_TEST(f.run_until([&] { return f.delivered() == 5; }));
}
