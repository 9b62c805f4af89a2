// Task ids are time-ordered (version 7) UUIDs in their usual lower-case text form,
// e.g. 019abc3e-5b7f-7f0e-8c51-1f2d3e4a5b6c: ms timestamp, then 74 random bits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zpark::tasks {

// Reads the kernel's random source on each call (no buffered state), so a forked process never
// repeats its parent's ids. Throws std::runtime_error if the kernel has no randomness to give.
std::string new_task_id();
// n ids from one read of the random source: a batch of accepts pays for one system call.
std::vector<std::string> new_task_ids(std::size_t n);

// True for text in the form new_task_id() makes (lets a route answer 404 without a lookup).
bool is_task_id(std::string_view s);

}  // namespace zpark::tasks
