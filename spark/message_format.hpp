#pragma once
// Turns an alert into Webex markdown: a marker for problem/update/recovery, the subject in
// bold, then the message. Webex refuses text over 7439 bytes, so long alerts are split into
// numbered parts (sent in one thread) and, past a few parts, cut with a marker.
#include "spark/alert.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace zpark::spark {

inline constexpr std::size_t kMaxMessageBytes = 7439;
inline constexpr std::size_t kMaxParts = 4;

std::string format_markdown(const Alert& alert);

// Splits `markdown` into parts of at most `limit` bytes each (UTF-8 safe, preferring line
// breaks), numbered "(part i/n)" when more than one; more than `max_parts` parts: the last
// one ends with a "message cut" marker.
std::vector<std::string> split_message(const std::string& markdown, std::size_t limit = kMaxMessageBytes,
                                       std::size_t max_parts = kMaxParts);

// The first message of a resolved event, edited to say so.
std::string resolved_markdown(const std::string& original);

}  // namespace zpark::spark
