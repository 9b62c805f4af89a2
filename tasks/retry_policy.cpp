#include "tasks/retry_policy.hpp"

#include <algorithm>

namespace zpark::tasks {

std::chrono::milliseconds backoff(int attempt, const RetryPolicy& p, double jitter) {
  const int shift = std::clamp(attempt - 1, 0, 30);
  const double full = std::min(static_cast<double>(p.cap.count()), static_cast<double>(p.base.count()) * double(1u << shift));
  return std::chrono::milliseconds(static_cast<long long>(full / 2 + full / 2 * std::clamp(jitter, 0.0, 1.0)));
}

Decision decide(const spark::SendResult& r, int attempt, const RetryPolicy& p, double jitter) {
  if (r.ok()) return {Verdict::delivered, {}, {}};
  if (r.transport_error) return {Verdict::retry, backoff(attempt, p, jitter), r.error};
  if (r.status == 429) {
    auto secs = r.retry_after_seconds ? std::chrono::seconds(*r.retry_after_seconds) : p.default_retry_after;
    return {Verdict::pause_all, std::chrono::duration_cast<std::chrono::milliseconds>(secs), r.error};
  }
  // 401: the bot token is wrong or expired for every message alike; keep the alert until
  // an admin fixes SPARK_ACCESS_TOKEN (the age limit still ends it) instead of dropping it.
  if (r.status >= 500 || r.status == 401 || r.status == 408) return {Verdict::retry, backoff(attempt, p, jitter), r.error};
  return {Verdict::failed, {}, r.error};
}

namespace {

using Phase = Delivery::Phase;

std::int64_t ms(std::chrono::milliseconds d) { return d.count(); }

Step wait(Delivery s, std::int64_t until_ms) {
  return {.action = Step::Action::wait, .state = std::move(s), .until_ms = until_ms};
}

// What the state calls for now, once the answer is in.
Step act(Delivery s, std::int64_t now, const Shared& shared, const DeliveryRules& rules) {
  switch (s.phase) {
    case Phase::done:
      return {.action = Step::Action::done, .state = std::move(s)};
    case Phase::recording_delivered:
    case Phase::recording_failed: {
      const bool outbox_recovered = shared.outbox_ok_ms > s.record_failed_at_ms;
      if (const auto until = s.not_before_ms; now < until && !outbox_recovered) return wait(std::move(s), until);
      const auto a = s.phase == Phase::recording_delivered ? Step::Action::record_delivered : Step::Action::record_failed;
      return {.action = a, .state = std::move(s)};
    }
    case Phase::sending:
      break;
  }
  if (s.parts_sent >= s.parts) {
    // Webex has every part: only the record is missing. Never sent again, never failed.
    s.phase = Phase::recording_delivered;
    s.not_before_ms = 0;
    return {.action = Step::Action::record_delivered, .state = std::move(s)};
  }
  const std::int64_t deadline = s.accepted_at_ms + ms(rules.max_age);
  if (now > deadline) {
    s.phase = Phase::recording_failed;
    s.not_before_ms = 0;
    s.reason = "not delivered within ZPARK_ALERT_MAX_AGE; last error: " + (s.last_error.empty() ? "none" : s.last_error);
    if (s.parts_sent > 0) s.reason += " (" + std::to_string(s.parts_sent) + " of " + std::to_string(s.parts) + " parts sent)";
    return {.action = Step::Action::record_failed, .state = std::move(s)};
  }
  // Waits end at the age limit at the latest, so an alert fails on time.
  if (now < shared.paused_until_ms) return wait(std::move(s), std::min(shared.paused_until_ms, deadline + 1));
  if (const auto until = s.not_before_ms; now < until) return wait(std::move(s), std::min(until, deadline + 1));
  return {.action = Step::Action::send, .state = std::move(s)};
}

}  // namespace

Step next_step(Delivery s, const Answer& answer, std::int64_t now, const Shared& shared, const DeliveryRules& rules,
               double jitter) {
  switch (answer.kind) {
    case Answer::Kind::none:
      break;
    case Answer::Kind::recorded:
      if (s.phase == Phase::recording_delivered || s.phase == Phase::recording_failed) s.phase = Phase::done;
      s.record_failures = 0;
      break;
    case Answer::Kind::record_failed: {
      ++s.record_failures;
      s.record_failed_at_ms = now;
      RetryPolicy p = rules.retry;
      p.cap = std::min(p.cap, p.record_cap);
      s.not_before_ms = now + ms(backoff(s.record_failures, p, jitter));
      break;
    }
    case Answer::Kind::sent: {
      if (s.phase != Phase::sending) break;
      const auto& r = answer.send;
      auto d = decide(r, s.attempts + 1, rules.retry, jitter);
      const std::string tracking = r.tracking_id.empty() ? "" : " (TrackingID " + r.tracking_id + ")";
      switch (d.verdict) {
        case Verdict::delivered:
          if (s.parts_sent == 0) {
            s.first_id = r.message_id;
            s.room_id = r.room_id;
            // Later parts go in a thread: under the given parent, or under the first part.
            if (s.parent_id.empty() && s.parts > 1) s.parent_id = r.message_id;
          }
          ++s.parts_sent;
          break;
        case Verdict::failed:
          s.phase = Phase::recording_failed;
          s.not_before_ms = 0;
          s.reason = d.reason + tracking;
          if (s.parts_sent > 0)
            s.reason += " (after " + std::to_string(s.parts_sent) + " of " + std::to_string(s.parts) + " parts)";
          break;
        case Verdict::pause_all: {
          s.last_error = d.reason + tracking;
          Shared paused = shared;
          paused.paused_until_ms = std::max(shared.paused_until_ms, now + ms(d.delay));
          auto step = act(std::move(s), now, paused, rules);
          step.pause_all_until = now + ms(d.delay);
          step.delay = d.delay;
          step.error = d.reason;
          return step;
        }
        case Verdict::retry: {
          ++s.attempts;
          s.last_error = d.reason + tracking;
          s.not_before_ms = now + ms(d.delay);
          auto step = act(std::move(s), now, shared, rules);
          step.retry = true;
          step.delay = d.delay;
          step.error = d.reason;
          return step;
        }
      }
      break;
    }
  }
  return act(std::move(s), now, shared, rules);
}

}  // namespace zpark::tasks
