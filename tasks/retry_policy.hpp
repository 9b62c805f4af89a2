#pragma once
// What to do next with a task: pure, so every rule (backoff, the shared 429 pause, the age
// limit, an outbox that cannot record) is unit-tested in simulated time, without I/O.
#include "spark/sink.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace zpark::tasks {

struct RetryPolicy {
  std::chrono::milliseconds base{1000};      // first retry delay
  std::chrono::milliseconds cap{30000};      // longest delay: delivery resumes soon after an outage
  std::chrono::seconds default_retry_after{15};  // a 429 without Retry-After
  // Longest wait before writing to an outbox that refused a write again (disk full): short,
  // since a delivery Webex accepted is only in memory until it is recorded.
  std::chrono::milliseconds record_cap{5000};
};

enum class Verdict {
  delivered,        // Webex took it
  retry,            // wait `delay`, then try again (5xx, network, timeouts)
  pause_all,        // 429: stop every lane of this token for `delay`, then try again
  failed,           // final: Webex refused this message (4xx)
};

struct Decision {
  Verdict verdict;
  std::chrono::milliseconds delay{0};
  std::string reason;
};

// `attempt` counts from 1; `jitter` is a random number in [0, 1).
Decision decide(const spark::SendResult& result, int attempt, const RetryPolicy& policy, double jitter);

// Exponential backoff with jitter: uniform in [d/2, d] where d = min(cap, base * 2^(attempt-1)).
std::chrono::milliseconds backoff(int attempt, const RetryPolicy& policy, double jitter);

// How far a task's delivery got. Kept with the task in its lane, in memory: once Webex took
// a part it is not sent again, even while the outbox cannot record the delivery yet.
struct Delivery {
  enum class Phase {
    sending,             // parts_sent of parts are with Webex
    recording_delivered, // all are; the outbox must say so
    recording_failed,    // final failure (`reason`); the outbox must say so
    done,                // the outbox has the final state
  };
  Phase phase = Phase::sending;
  std::int64_t accepted_at_ms = 0;
  int attempts = 0;               // failed sends so far (the outbox keeps a copy)
  std::size_t parts = 1;          // Webex messages this alert takes
  std::size_t parts_sent = 0;     // of them, taken by Webex, in order
  std::string parent_id;          // thread of the parts still to send (set from part 1 when empty)
  std::string first_id, room_id;  // Webex ids of part 1: the task's message and its room
  std::int64_t not_before_ms = 0; // backoff: nothing is tried before this
  int record_failures = 0;        // outbox writes refused in a row
  std::int64_t record_failed_at_ms = 0;  // when the last was refused
  std::string last_error;         // of the last failed send
  std::string reason;             // recording_failed: why the task failed
};

// What happened since the last step.
struct Answer {
  enum class Kind {
    none,           // nothing: the task is new, or a wait ended
    sent,           // Webex answered the send of part `parts_sent`: `send`
    recorded,       // the outbox took the final state
    record_failed,  // the outbox refused the write: `error`
  };
  Kind kind = Kind::none;
  spark::SendResult send;
  std::string error;

  static Answer sent(spark::SendResult r) { return {Kind::sent, std::move(r), {}}; }
  static Answer recorded() { return {Kind::recorded, {}, {}}; }
  static Answer record_failed(std::string e) { return {Kind::record_failed, {}, std::move(e)}; }
};

// What all lanes share.
struct Shared {
  std::int64_t paused_until_ms = 0;  // a 429: no lane sends before this
  std::int64_t outbox_ok_ms = 0;     // the outbox's last write that worked
};

struct DeliveryRules {
  RetryPolicy retry;
  std::chrono::milliseconds max_age{86'400'000};  // not delivered by then: failed
};

struct Step {
  enum class Action {
    send,              // send part `state.parts_sent` under `state.parent_id`
    wait,              // until `until_ms`, then step again with Answer::none
    record_delivered,  // write "delivered" (webex id state.first_id) to the outbox
    record_failed,     // write "failed" (state.reason) to the outbox
    done,              // next task
  };
  Action action;
  Delivery state;                               // the task's state from now on
  std::int64_t until_ms = 0;                    // wait
  std::optional<std::int64_t> pause_all_until;  // a 429: every lane waits until then
  bool retry = false;                           // a failed send to try again (stats, log)
  std::chrono::milliseconds delay{0};           // retry or pause: for how long
  std::string error;                            // retry or pause: the send's error
};

// The rules, in order: an answer updates the state (a part taken, a failure counted, the
// outbox's word); then a task whose parts all went is recorded delivered, never sent again,
// whatever its age or a pause; one older than max_age is recorded failed; a 429 pause
// (shared.paused_until_ms) and the backoff are waited out; else the next part is sent. A
// refused outbox write is tried again after a backoff capped at record_cap, or at once when
// the outbox has taken another write since (shared.outbox_ok_ms): the disk has room again.
// `jitter` is a random number in [0, 1).
Step next_step(Delivery state, const Answer& answer, std::int64_t now_ms, const Shared& shared,
               const DeliveryRules& rules, double jitter);

}  // namespace zpark::tasks
