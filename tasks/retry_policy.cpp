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

}  // namespace zpark::tasks
