#pragma once
// The one clock of the relay: milliseconds since the epoch, and waiting until such a time.
// Every age, backoff and pause is measured on it, so a test that plugs in a ManualClock moves
// time by hand and runs a day of retries in a few milliseconds, sleeping never.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <vector>

namespace zpark::tasks {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
  // Completes once now_ms() >= at_ms, or earlier when `timer` is cancelled: the caller owns
  // the timer, so it can wake the wait (e.g. at stop) and must look at the time again.
  virtual boost::asio::awaitable<void> wait_until(boost::asio::steady_timer& timer, std::int64_t at_ms) = 0;
};

// Wall-clock time at the first call, then advancing with the monotonic clock: a stored
// accept time stays comparable across restarts, while a step of the system clock (NTP, a
// VM resumed) cannot stretch or cut a 429 pause or a backoff.
class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
  boost::asio::awaitable<void> wait_until(boost::asio::steady_timer& timer, std::int64_t at_ms) override;
};
Clock& system_clock();  // one per process

// Time that moves only when told to. Waits complete in the io_context's next turn after
// advance() passed their deadline.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  std::int64_t now_ms() const override { return now_; }
  boost::asio::awaitable<void> wait_until(boost::asio::steady_timer& timer, std::int64_t at_ms) override;
  void advance(std::int64_t ms);
  void set(std::int64_t now_ms);
  // The earliest deadline anyone waits for, or -1: for running a simulation event by event.
  std::int64_t next_deadline() const;

 private:
  struct Waiter {
    boost::asio::steady_timer* timer;
    std::int64_t at_ms;
  };
  std::int64_t now_;
  std::vector<Waiter> waiters_;
};

}  // namespace zpark::tasks
