#include "spark/message_format.hpp"

#include "spark/replies.hpp"

#include <fmt/format.h>

namespace zpark::spark {

namespace {

const char* marker(AlertKind kind) {
  switch (kind) {
    case AlertKind::problem: return "\xF0\x9F\x94\xB4 PROBLEM";   // red circle
    case AlertKind::update: return "\xF0\x9F\x94\xB5 UPDATE";     // blue circle
    case AlertKind::recovery: return "\xE2\x9C\x85 RESOLVED";     // check mark
    case AlertKind::plain:
    case AlertKind::reply: return "";
  }
  return "";
}

// Largest cut <= limit that does not split a UTF-8 sequence; prefers the last newline.
std::size_t cut_point(const std::string& s, std::size_t from, std::size_t limit) {
  if (s.size() - from <= limit) return s.size();
  std::size_t end = from + limit;
  auto nl = s.rfind('\n', end - 1);
  if (nl != std::string::npos && nl > from + limit / 2) return nl + 1;
  while (end > from && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return end;
}

// escape_markdown for each line, keeping the line breaks (it makes one line of its input).
std::string escape_lines(std::string_view text) {
  std::string out;
  for (std::size_t pos = 0;;) {
    auto nl = text.find('\n', pos);
    out += escape_markdown(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    if (nl == std::string_view::npos) break;
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

}  // namespace

std::string without_mentions(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') {
      auto j = i + 1;
      while (j < text.size() && text[j] == '\\') ++j;  // "<\@" may reach Webex as "<@"
      if (j < text.size() && text[j] == '@') {
        out += "&lt;";
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string format_markdown(const Alert& a, const FormatOptions& options) {
  if (a.kind == AlertKind::reply) return a.message;  // formatted (and escaped) by spark/replies
  std::string out;
  if (a.kind != AlertKind::plain) out += fmt::format("**{}** ", marker(a.kind));
  const auto subject = escape_markdown(a.subject);
  out += subject.empty() ? std::string("(no subject)") : "**" + subject + "**";
  if (a.kind == AlertKind::update && (!a.update_user.empty() || !a.update_message.empty())) {
    out += "\n\n";
    if (!a.update_user.empty()) out += escape_markdown(a.update_user) + ": ";
    out += escape_markdown(a.update_message);
  }
  if (a.has_message && !a.message.empty())
    out += "\n\n" + (options.escape_message ? escape_lines(a.message) : without_mentions(a.message));
  return out;
}

std::vector<std::string> split_message(const std::string& md, std::size_t limit, std::size_t max_parts) {
  if (md.size() <= limit) return {md};
  const std::string cut_marker = "\n\n*(message cut: too long for Webex)*";
  // Room for "(part 10/10)\n" in front of each part.
  const std::size_t header_room = 16;
  const std::size_t body_limit = limit - header_room;
  std::vector<std::string> chunks;
  std::size_t pos = 0;
  while (pos < md.size() && chunks.size() < max_parts) {
    std::size_t room = body_limit;
    if (chunks.size() + 1 == max_parts) room -= cut_marker.size();
    auto end = cut_point(md, pos, room);
    chunks.push_back(md.substr(pos, end - pos));
    pos = end;
  }
  if (pos < md.size()) chunks.back() += cut_marker;
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < chunks.size(); ++i)
    parts.push_back(fmt::format("(part {}/{})\n{}", i + 1, chunks.size(), chunks[i]));
  return parts;
}

std::string resolved_markdown(const std::string& original) {
  const std::string resolved = fmt::format("**{}** ", marker(AlertKind::recovery));
  const std::string problem = fmt::format("**{}** ", marker(AlertKind::problem));
  // Replace the problem marker rather than stacking markers.
  if (original.starts_with(problem)) return resolved + original.substr(problem.size());
  return resolved + original;
}

}  // namespace zpark::spark
