// The delivery rules as a pure function: (task state, answer, now) -> next step. No I/O, no
// clock but the numbers passed in: each rule is checked at the millisecond it changes.
#define BOOST_TEST_MODULE retry_policy
#include <boost/test/unit_test.hpp>

#include "tasks/retry_policy.hpp"

using namespace zpark::tasks;
using zpark::spark::SendResult;
using Action = Step::Action;
using Phase = Delivery::Phase;

namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;

SendResult ok(std::string id) {
  SendResult r;
  r.status = 200;
  r.message_id = std::move(id);
  r.room_id = "ROOM";
  return r;
}

SendResult status(unsigned s, std::optional<long> retry_after = std::nullopt) {
  SendResult r;
  r.status = s;
  r.retry_after_seconds = retry_after;
  r.error = "HTTP " + std::to_string(s);
  r.tracking_id = "TRK";
  return r;
}

DeliveryRules rules() {
  DeliveryRules r;
  r.max_age = std::chrono::hours(24);
  return r;
}

Delivery fresh(std::size_t parts = 1) {
  Delivery d;
  d.accepted_at_ms = t0;
  d.parts = parts;
  return d;
}

// One step with jitter 1 (the longest backoff), no pause.
Step step(Delivery d, const Answer& a, std::int64_t now, std::int64_t paused_until = 0, std::int64_t outbox_ok = 0) {
  return next_step(std::move(d), a, now, Shared{paused_until, outbox_ok}, rules(), 1.0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(retry_policy_decisions) {
  RetryPolicy p;
  BOOST_TEST((decide(status(200), 1, p, 0.5).verdict == Verdict::delivered));
  BOOST_TEST((decide(status(503), 1, p, 0.5).verdict == Verdict::retry));
  BOOST_TEST((decide(status(404), 1, p, 0.5).verdict == Verdict::failed));
  BOOST_TEST((decide(status(400), 1, p, 0.5).verdict == Verdict::failed));
  auto limited = decide(status(429, 7), 1, p, 0.5);
  BOOST_TEST((limited.verdict == Verdict::pause_all));
  BOOST_TEST(limited.delay.count() == 7000);
  BOOST_TEST(decide(status(429), 1, p, 0.5).delay.count() == 15000);
  SendResult net;
  net.transport_error = true;
  BOOST_TEST((decide(net, 3, p, 0.5).verdict == Verdict::retry));
  // Backoff doubles, stays within [d/2, d], and is capped.
  BOOST_TEST(backoff(1, p, 0.0).count() == 500);
  BOOST_TEST(backoff(1, p, 1.0).count() == 1000);
  BOOST_TEST(backoff(3, p, 1.0).count() == 4000);
  BOOST_TEST(backoff(30, p, 1.0).count() == 30000);
}

BOOST_AUTO_TEST_CASE(parts_go_out_in_order_under_the_first_then_the_task_is_recorded) {
  auto s = step(fresh(3), {}, t0);
  BOOST_TEST((s.action == Action::send));
  BOOST_TEST(s.state.parts_sent == 0u);
  s = step(s.state, Answer::sent(ok("m1")), t0 + 1);
  BOOST_TEST((s.action == Action::send));
  BOOST_TEST(s.state.parts_sent == 1u);
  BOOST_TEST(s.state.first_id == "m1");
  BOOST_TEST(s.state.room_id == "ROOM");
  BOOST_TEST(s.state.parent_id == "m1");  // later parts thread under the first
  s = step(s.state, Answer::sent(ok("m2")), t0 + 2);
  s = step(s.state, Answer::sent(ok("m3")), t0 + 3);
  BOOST_TEST((s.action == Action::record_delivered));
  BOOST_TEST(s.state.first_id == "m1");
  s = step(s.state, Answer::recorded(), t0 + 4);
  BOOST_TEST((s.action == Action::done));
}

BOOST_AUTO_TEST_CASE(a_given_parent_is_kept_for_every_part) {
  auto d = fresh(2);
  d.parent_id = "PROBLEM";
  auto s = step(d, Answer::sent(ok("m1")), t0);
  BOOST_TEST(s.state.parent_id == "PROBLEM");
}

BOOST_AUTO_TEST_CASE(a_5xx_backs_off_exponentially_then_resends_the_part_that_failed) {
  auto s = step(fresh(2), Answer::sent(ok("m1")), t0);
  BOOST_REQUIRE((s.action == Action::send));
  std::int64_t now = t0 + 10;
  for (int attempt = 1; attempt <= 7; ++attempt) {
    s = step(s.state, Answer::sent(status(503)), now);
    const std::int64_t expected = std::min<std::int64_t>(1000LL << (attempt - 1), 30000);
    BOOST_TEST((s.action == Action::wait));
    BOOST_TEST(s.retry);
    BOOST_TEST(s.state.attempts == attempt);
    BOOST_TEST(s.until_ms == now + expected);
    BOOST_TEST(s.state.last_error == "HTTP 503 (TrackingID TRK)");
    // Woken early (a stop, another lane's pause ending): still waits for the same moment.
    BOOST_TEST(step(s.state, {}, now + expected - 1).until_ms == now + expected);
    now += expected;
    s = step(s.state, {}, now);
    BOOST_TEST((s.action == Action::send));
    BOOST_TEST(s.state.parts_sent == 1u);  // part 2 again, not part 1
  }
  // Jitter spreads the wait over [d/2, d].
  BOOST_TEST(next_step(fresh(), Answer::sent(status(502)), t0, {}, rules(), 0.0).until_ms == t0 + 500);
}

BOOST_AUTO_TEST_CASE(a_429_pauses_every_lane_until_retry_after) {
  auto s = step(fresh(), Answer::sent(status(429, 3600)), t0);
  BOOST_TEST((s.action == Action::wait));
  BOOST_REQUIRE(s.pause_all_until.has_value());
  BOOST_TEST(*s.pause_all_until == t0 + 3'600'000);
  BOOST_TEST(s.until_ms == t0 + 3'600'000);
  BOOST_TEST(!s.retry);
  BOOST_TEST(s.state.attempts == 0);  // a rate limit is not the message's fault
  // Another lane's new task during the pause waits for it, then sends.
  const std::int64_t paused_until = *s.pause_all_until;
  auto other = step(fresh(), {}, t0 + 5, paused_until);
  BOOST_TEST((other.action == Action::wait));
  BOOST_TEST(other.until_ms == paused_until);
  BOOST_TEST((step(other.state, {}, paused_until - 1, paused_until).action == Action::wait));
  BOOST_TEST((step(other.state, {}, paused_until, paused_until).action == Action::send));
  // Without Retry-After: the policy's default.
  BOOST_TEST(*step(fresh(), Answer::sent(status(429)), t0).pause_all_until == t0 + 15'000);
}

BOOST_AUTO_TEST_CASE(an_alert_older_than_max_age_is_recorded_failed_with_the_last_error) {
  auto s = step(fresh(), Answer::sent(status(503)), t0 + 1000);
  const std::int64_t deadline = t0 + 24 * 3'600'000LL;
  // Waits end at the age limit at the latest.
  auto late = step(fresh(), Answer::sent(status(503)), deadline - 10);
  BOOST_TEST(late.until_ms == deadline + 1);
  BOOST_TEST((step(s.state, {}, deadline).action == Action::send));
  auto failed = step(s.state, {}, deadline + 1);
  BOOST_TEST((failed.action == Action::record_failed));
  BOOST_TEST(failed.state.reason.find("ZPARK_ALERT_MAX_AGE") != std::string::npos);
  BOOST_TEST(failed.state.reason.find("HTTP 503") != std::string::npos);
  // A pause does not keep it alive either.
  BOOST_TEST((step(fresh(), {}, deadline + 1, deadline + 60'000).action == Action::record_failed));
}

BOOST_AUTO_TEST_CASE(a_4xx_is_final_and_says_why) {
  auto s = step(fresh(), Answer::sent(status(404)), t0);
  BOOST_TEST((s.action == Action::record_failed));
  BOOST_TEST(s.state.reason == "HTTP 404 (TrackingID TRK)");
  BOOST_TEST((step(s.state, Answer::recorded(), t0 + 1).action == Action::done));
}

BOOST_AUTO_TEST_CASE(what_webex_took_is_never_sent_again_while_the_outbox_refuses_the_record) {
  auto s = step(fresh(2), Answer::sent(ok("m1")), t0);
  s = step(s.state, Answer::sent(ok("m2")), t0 + 1);
  BOOST_REQUIRE((s.action == Action::record_delivered));
  std::int64_t now = t0 + 2;
  std::int64_t previous_wait = 0;
  for (int refusal = 1; refusal <= 10; ++refusal) {
    s = step(s.state, Answer::record_failed("database or disk is full"), now);
    BOOST_TEST((s.action == Action::wait));
    const auto wait = s.until_ms - now;
    BOOST_TEST(wait >= previous_wait);
    BOOST_TEST(wait <= 5000);  // record_cap: the delivery is only in memory meanwhile
    previous_wait = wait;
    now = s.until_ms;
    s = step(s.state, {}, now);
    BOOST_TEST((s.action == Action::record_delivered));
  }
  BOOST_TEST(previous_wait == 5000);
  // Past the age limit and during a pause: still recorded delivered, never failed or resent.
  s = step(s.state, Answer::record_failed("disk full"), t0 + 48 * 3'600'000LL);
  s = step(s.state, {}, t0 + 49 * 3'600'000LL, t0 + 50 * 3'600'000LL);
  BOOST_TEST((s.action == Action::record_delivered));
  BOOST_TEST(s.state.first_id == "m1");
  BOOST_TEST(s.state.parts_sent == 2u);
  BOOST_TEST((step(s.state, Answer::recorded(), t0 + 49 * 3'600'000LL).action == Action::done));
}

BOOST_AUTO_TEST_CASE(a_failure_the_outbox_refuses_is_recorded_later_not_resent) {
  auto s = step(fresh(), Answer::sent(status(400)), t0);
  s = step(s.state, Answer::record_failed("disk full"), t0 + 1);
  BOOST_TEST((s.action == Action::wait));
  s = step(s.state, {}, s.until_ms);
  BOOST_TEST((s.action == Action::record_failed));
  BOOST_TEST(s.state.reason.find("400") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_refused_record_is_tried_at_once_when_the_outbox_takes_writes_again) {
  auto s = step(fresh(), Answer::sent(ok("m1")), t0);
  s = step(s.state, Answer::record_failed("disk full"), t0 + 10, 0, t0 + 5);
  BOOST_REQUIRE((s.action == Action::wait));
  // Woken: another write worked after ours was refused (the disk has room again).
  BOOST_TEST((step(s.state, {}, t0 + 20, 0, t0 + 15).action == Action::record_delivered));
  // Only the writes before ours: keep waiting.
  BOOST_TEST((step(s.state, {}, t0 + 20, 0, t0 + 10).action == Action::wait));
}
