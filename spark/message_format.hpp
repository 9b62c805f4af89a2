#pragma once
// Turns an alert into Webex markdown: a marker for problem/update/recovery, the subject in
// bold, then the message. Webex refuses text over 7439 bytes, so long alerts are split into
// numbered parts (sent in one thread) and, past a few parts, cut with a marker.
//
// Alert text cannot mention anyone or pose as Zpark's own lines: the subject and an update's
// user and comment are escaped (spark::escape_markdown: one line, no markup, no "<@"); the
// message keeps the markdown the admin's Zabbix template gives it, but no "<@" of a mention,
// unless FormatOptions::escape_message escapes it too (line by line). A reply of a bot
// command is sent as it is: spark/replies made it, escaping what it took from Zabbix.
#include "spark/alert.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zpark::spark {

inline constexpr std::size_t kMaxMessageBytes = 7439;
inline constexpr std::size_t kMaxParts = 4;

struct FormatOptions {
  bool escape_message = false;  // ZPARK_ESCAPE_MESSAGE: the message as plain text too
};

std::string format_markdown(const Alert& alert, const FormatOptions& options = {});

// `text` with every "<@" (also "<\@") that could open a Webex mention made harmless, the
// rest untouched: "&lt;@" shows as "<@" and mentions no one.
std::string without_mentions(std::string_view text);

// Splits `markdown` into parts of at most `limit` bytes each (UTF-8 safe, preferring line
// breaks), numbered "(part i/n)" when more than one; more than `max_parts` parts: the last
// one ends with a "message cut" marker.
std::vector<std::string> split_message(const std::string& markdown, std::size_t limit = kMaxMessageBytes,
                                       std::size_t max_parts = kMaxParts);

// The first message of a resolved event, edited to say so.
std::string resolved_markdown(const std::string& original);

}  // namespace zpark::spark
