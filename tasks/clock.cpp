#include "tasks/clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

namespace zpark::tasks {

namespace asio = boost::asio;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::int64_t ms_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::int64_t SystemClock::now_ms() const {
  static const auto wall0 = ms_since_epoch(std::chrono::system_clock::now());
  static const auto mono0 = std::chrono::steady_clock::now();
  return wall0 + std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - mono0).count();
}

asio::awaitable<void> SystemClock::wait_until(asio::steady_timer& timer, std::int64_t at_ms) {
  timer.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, at_ms - now_ms())));
  co_await timer.async_wait(tuple);
}

Clock& system_clock() {
  static SystemClock clock;
  return clock;
}

asio::awaitable<void> ManualClock::wait_until(asio::steady_timer& timer, std::int64_t at_ms) {
  if (at_ms <= now_) co_return;
  // Parked until advance() or the owner cancels the timer; unregistered however it ends.
  struct Registration {
    ManualClock& clock;
    asio::steady_timer* timer;
    ~Registration() {
      auto& w = clock.waiters_;
      w.erase(std::remove_if(w.begin(), w.end(), [&](const Waiter& x) { return x.timer == timer; }), w.end());
    }
  };
  waiters_.push_back({&timer, at_ms});
  Registration registration{*this, &timer};
  timer.expires_at(asio::steady_timer::time_point::max());
  co_await timer.async_wait(tuple);
}

void ManualClock::advance(std::int64_t ms) { set(now_ + ms); }

void ManualClock::set(std::int64_t now_ms) {
  now_ = std::max(now_, now_ms);
  for (auto& w : waiters_)
    if (w.at_ms <= now_) w.timer->cancel();
}

std::int64_t ManualClock::next_deadline() const {
  std::int64_t next = -1;
  for (auto& w : waiters_)
    if (next < 0 || w.at_ms < next) next = w.at_ms;
  return next;
}

}  // namespace zpark::tasks
