// Fault injection: settings parsed from POST /_emu/faults and the per-request decision.
// No I/O: the server only carries out what decide() returns.
#pragma once
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "json_util.hpp"

namespace emu {

struct CannedAnswer {
  unsigned status = 503;
  std::optional<unsigned> retry_after;  // seconds; nullopt: no Retry-After header
};

struct FaultSettings {
  double error_5xx_ratio = 0;
  double reset_ratio = 0;
  std::uint64_t seed = 0x5eed;         // fixed default: a failing run can be replayed
  std::deque<CannedAnswer> fail_next;  // for the next POST /v1/messages, in order
  unsigned burst_429_count = 0;
  std::optional<unsigned> burst_429_retry_after;
  unsigned reset_next = 0;
  unsigned accept_then_reset_next = 0;  // POST /v1/messages: store, then reset
  unsigned delay_ms = 0;
  std::set<std::string> unknown_emails;  // lower case
  std::set<std::string> unknown_rooms;
};

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
  FaultDecision decide(bool is_message_post);
  bool unknown_email(const std::string& lower_email) const {
    return s_.unknown_emails.count(lower_email) != 0;
  }
  bool unknown_room(const std::string& id) const { return s_.unknown_rooms.count(id) != 0; }

 private:
  double draw();  // uniform in [0, 1)
  FaultSettings s_;
  std::mt19937_64 rng_;
};

}  // namespace emu
