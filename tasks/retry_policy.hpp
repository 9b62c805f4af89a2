#pragma once
// What to do after a send attempt: pure, so every branch is unit-tested without I/O.
#include "spark/sink.hpp"

#include <chrono>
#include <string>

namespace zpark::tasks {

struct RetryPolicy {
  std::chrono::milliseconds base{1000};      // first retry delay
  std::chrono::milliseconds cap{30000};      // longest delay: delivery resumes soon after an outage
  std::chrono::seconds default_retry_after{15};  // a 429 without Retry-After
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

}  // namespace zpark::tasks
