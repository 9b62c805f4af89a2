// Fault injection: settings parsed from POST /_emu/faults and the per-request decision.
// No I/O: the server only carries out what decide() returns.
#pragma once
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "json_util.hpp"

namespace emu {

// One injected failure: an error answer, or (reset) an abrupt close with no answer.
struct CannedAnswer {
  unsigned status = 503;
  std::optional<unsigned> retry_after;  // seconds; nullopt: no Retry-After header
  bool reset = false;                   // {"reset": true}: RST instead of an answer
};

// "fail_next_by_route": {"GET /v1/messages/{id}": [...]}: answers for the next requests of
// one route. "{...}" stands for one path segment (any id, "me" included).
struct RouteFaults {
  std::string key;  // as given, for error texts
  std::string method;
  std::vector<std::string> segments;  // {"v1", "messages", "{id}"}
  std::deque<CannedAnswer> answers;
};

// Webex disables a webhook after about 100 failed deliveries within 5 minutes.
inline constexpr unsigned webex_disable_after_failures = 100;
inline constexpr std::int64_t webex_failure_window_ms = 5 * 60 * 1000;

struct FaultSettings {
  double error_5xx_ratio = 0;
  double reset_ratio = 0;
  std::uint64_t seed = 0x5eed;                  // fixed default: a failing run can be replayed
  std::deque<CannedAnswer> fail_next;           // for the next POST /v1/messages, in order
  std::vector<RouteFaults> fail_next_by_route;  // any /v1 route, after fail_next
  unsigned burst_429_count = 0;
  std::optional<unsigned> burst_429_retry_after;
  unsigned reset_next = 0;
  unsigned accept_then_reset_next = 0;  // POST /v1/messages: store, then reset
  unsigned delay_ms = 0;
  std::set<std::string> unknown_emails;  // lower case
  std::set<std::string> unknown_rooms;
  // Failed deliveries (no answer, or not 2xx) of one webhook within webex_failure_window_ms
  // that make its status "inactive"; 0 never disables.
  unsigned disable_webhook_after_failures = webex_disable_after_failures;
  // How long after a 429 other requests may still arrive without counting as rate-limit
  // violations: the ones already in flight when the 429 went out (see RateLimitWatch).
  unsigned violation_grace_ms = 200;
};

// POST /_emu/faults body, every key optional:
//   {"fail_next": [ANSWER...],                          next POST /v1/messages, in order
//    "fail_next_by_route": {"GET /v1/messages/{id}": [ANSWER...], "GET /v1/people/{id}": [...]},
//    "burst_429": {"count": N, "retry_after": S},       next N calls of any route
//    "reset_next": N, "accept_then_reset_next": N, "error_5xx_ratio": R, "reset_ratio": R,
//    "seed": N, "delay_ms": MS, "unknown_emails": [...], "unknown_rooms": [...],
//    "disable_webhook_after_failures": N, "violation_grace_ms": MS}
// ANSWER is {"status": 400..599, "retry_after": S?} (S becomes Retry-After) or {"reset": true}.
// Route keys name a route the emulator serves, "{id}" for any id; when several match, the
// most literal one with answers left is used ("GET /v1/people/me" before ".../{id}").
// Per call the first that applies wins: reset_next, reset_ratio, burst_429, fail_next,
// fail_next_by_route, error_5xx_ratio, accept_then_reset_next.
// violation_grace_ms (default 200) is not a fault but the tolerance of RateLimitWatch below.
// Strict: unknown keys and out-of-range values are errors, so a typo in a test fails loudly.
Result<FaultSettings> parse_faults(const boost::json::value& v);

struct FaultDecision {
  enum Kind { none, reset, canned } kind = none;
  CannedAnswer answer;                  // when canned
  bool reset_after_processing = false;  // accept_then_reset
};

class Faults {
 public:
  Faults() { set(FaultSettings{}); }
  void set(FaultSettings s);
  const FaultSettings& settings() const { return s_; }

  // Called once per authorised /v1 request, in arrival order; consumes counters.
  // `segments` is the decoded path: {"v1", "messages", "<id>"}.
  FaultDecision decide(std::string_view method, std::span<const std::string> segments);
  bool unknown_email(const std::string& lower_email) const {
    return s_.unknown_emails.count(lower_email) != 0;
  }
  bool unknown_room(const std::string& id) const { return s_.unknown_rooms.count(id) != 0; }

 private:
  double draw();  // uniform in [0, 1)
  FaultSettings s_;
  std::mt19937_64 rng_;
};

// A /v1 request that arrived while a 429 told its clients to wait (GET /_emu/stats).
struct RateLimitViolation {
  std::string request;             // "POST /v1/messages"
  std::int64_t ms_after_429 = 0;   // since the oldest 429 whose Retry-After had not run out
};

// Rate-limit windows: each 429 answered with Retry-After: S (S > 0) at time T opens one, from
// T until T + S s. Zpark instances that share a database must all honour a 429 that one of
// them received, so any /v1 request arriving inside a window more than the grace after it
// opened is a violation, whoever sends it and whatever it is answered (a 429 of a burst too).
// Within the grace, requests that were already on their way are tolerated. No I/O, no clock:
// the caller passes the request's arrival time.
class RateLimitWatch {
 public:
  static constexpr std::size_t kept_violations = 100;

  // Every /v1 request, on arrival and before it is answered; true when it is a violation.
  bool arrived(std::int64_t now_ms, std::string request_line, unsigned grace_ms);
  // A 429 with Retry-After: `retry_after_s` answered at `now_ms`.
  void answered_429(std::int64_t now_ms, unsigned retry_after_s);

  std::uint64_t violations() const { return violations_; }
  std::uint64_t windows() const { return windows_; }
  const std::deque<RateLimitViolation>& recent() const { return recent_; }  // oldest first

 private:
  struct Window {
    std::int64_t opened_ms, until_ms;
  };
  // Open windows, oldest first, each ending later than the one before: a window that opens
  // later and ends no later than another adds nothing (the older one already covers it with
  // an earlier start), so it is counted but not kept. The front is what a request violates.
  std::deque<Window> open_;
  std::uint64_t violations_ = 0, windows_ = 0;
  std::deque<RateLimitViolation> recent_;
};

}  // namespace emu
