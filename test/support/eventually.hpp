#pragma once
// Polling for end-to-end tests, where the outcome arrives from another process.
#include <chrono>
#include <thread>

namespace zpark::test {

// True as soon as `pred` holds; false when it still does not after `limit`.
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

}  // namespace zpark::test
