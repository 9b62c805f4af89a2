// Message text: split_message (spark/message_format.hpp) and escape_markdown
// (spark/replies.hpp).
//
// Input: byte 0 picks the part limit (64..7439), byte 1 the most parts (1..6), the rest is the
// markdown. split_message is also run with its defaults (7439 bytes, 4 parts) on the same text.
//
// split_message: each part at most `limit` bytes; one part, unchanged, when the text fits;
// otherwise "(part i/n)\n" + a piece, n <= max_parts; the pieces put together give back the
// whole text, or a prefix of it followed by the cut marker in the last part only; every part is
// valid UTF-8 when the text is.
// escape_markdown: valid UTF-8 whatever the input; no '<' or '>' (so no "<@" mention), no
// control character or bidi override, no surrounding space; every markdown mark * _ ` ~ [ ] ( )
// # | \ comes escaped with a backslash, every '&' starts &lt; &gt; or &amp;; a leading - + =
// and the '.' of a leading "1." are escaped.
#include "spark/message_format.hpp"
#include "spark/replies.hpp"
#include "test/fuzz/check.hpp"

#include <string>
#include <vector>

namespace {

using zpark::fuzz::valid_utf8;

const std::string kCutMarker = "\n\n*(message cut: too long for Webex)*";

void check_split(const std::string& md, std::size_t limit, std::size_t max_parts) {
  const auto parts = zpark::spark::split_message(md, limit, max_parts);
  FUZZ_CHECK(!parts.empty());
  for (const auto& p : parts) FUZZ_CHECK(p.size() <= limit);
  if (md.size() <= limit) {
    FUZZ_CHECK(parts.size() == 1 && parts[0] == md);
    return;
  }
  FUZZ_CHECK(parts.size() <= max_parts);
  const bool utf8 = valid_utf8(md);
  std::string joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string header = "(part " + std::to_string(i + 1) + "/" + std::to_string(parts.size()) + ")\n";
    FUZZ_CHECK(parts[i].starts_with(header));
    if (utf8) FUZZ_CHECK(valid_utf8(parts[i]));
    if (utf8) FUZZ_CHECK(parts[i].size() > header.size());  // no empty part
    joined += std::string_view(parts[i]).substr(header.size());
  }
  if (joined == md) return;
  // Cut: what was sent is a prefix of the text, and only the last part says so.
  FUZZ_CHECK(parts.back().ends_with(kCutMarker));
  joined.resize(joined.size() - kCutMarker.size());
  FUZZ_CHECK(joined.size() < md.size() && std::string_view(md).starts_with(joined));
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) FUZZ_CHECK(parts[i].find("*(message cut") == std::string::npos ||
                                                                md.find("*(message cut") != std::string::npos);
}

bool is_mark(char c) { return std::string_view("*_`~[]()#|\\").find(c) != std::string_view::npos; }

void check_escape(std::string_view text) {
  const std::string out = zpark::spark::escape_markdown(text);
  FUZZ_CHECK(valid_utf8(out));
  FUZZ_CHECK(out.find('<') == std::string::npos && out.find('>') == std::string::npos);
  if (out.empty()) return;
  FUZZ_CHECK(out.front() != ' ' && out.back() != ' ');
  FUZZ_CHECK(out.front() != '-' && out.front() != '+' && out.front() != '=');
  const std::size_t digits = out.find_first_not_of("0123456789");  // "1\\. x": the escaped '.'
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    FUZZ_CHECK(c >= 0x20 && c != 0x7F);
    if (c == 0xC2 && i + 1 < out.size()) FUZZ_CHECK(static_cast<unsigned char>(out[i + 1]) > 0x9F);  // C1
    if (c == 0xE2 && i + 2 < out.size() && static_cast<unsigned char>(out[i + 1]) == 0x80) {
      const auto b = static_cast<unsigned char>(out[i + 2]);
      FUZZ_CHECK(b < 0xAA || b > 0xAE);  // U+202A..U+202E
    }
    if (c == 0xE2 && i + 2 < out.size() && static_cast<unsigned char>(out[i + 1]) == 0x81) {
      const auto b = static_cast<unsigned char>(out[i + 2]);
      FUZZ_CHECK(b < 0xA6 || b > 0xA9);  // U+2066..U+2069
    }
    if (c == '\\') {
      // An escape: the next byte is a mark, or one of the line-start markers.
      FUZZ_CHECK(i + 1 < out.size());
      const char next = out[i + 1];
      const bool leading_marker = i == 0 && (next == '-' || next == '+' || next == '=');
      const bool list_number = next == '.' && i > 0 && i == digits;
      FUZZ_CHECK(is_mark(next) || leading_marker || list_number);
      ++i;
      continue;
    }
    FUZZ_CHECK(!is_mark(static_cast<char>(c)));
    if (c == '&') {
      const auto rest = std::string_view(out).substr(i);
      FUZZ_CHECK(rest.starts_with("&lt;") || rest.starts_with("&gt;") || rest.starts_with("&amp;"));
    }
  }
  // "1. x" would start a numbered list.
  std::size_t d = 0;
  while (d < out.size() && out[d] >= '0' && out[d] <= '9') ++d;
  if (d > 0 && d < out.size() && out[d] == '.') FUZZ_CHECK(d + 1 < out.size() && out[d + 1] != ' ');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = 64 + static_cast<std::size_t>(data[0]) * 29;  // 64 .. 7459
  const std::size_t max_parts = 1 + data[1] % 6;
  const std::string md(fuzz_bytes(data + 2, size - 2));
  check_split(md, std::min(limit, zpark::spark::kMaxMessageBytes), max_parts);
  check_split(md, zpark::spark::kMaxMessageBytes, zpark::spark::kMaxParts);
  check_escape(md);
  return 0;
}
