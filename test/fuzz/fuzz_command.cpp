// From a Webex message to a bot command (spark/command.hpp): chat_message_from_json,
// extract_command and parse_command, then the chat replies that need no Zabbix data.
//
// Input: "BOT_ID\n--\nBOT_DISPLAY_NAME\n--\nMESSAGE_JSON" (GET /messages/{id}'s answer); the
// whole input is also tried as the message JSON, and as a command line given straight to
// parse_command.
//
// Checks: nothing throws; a message gives a command or a reason to ignore it, never both; the
// bot's own message is ignored; a command is valid UTF-8, trimmed, single-spaced, without
// control characters, at most 200 code points, and its text is its original lower-cased
// (ASCII); parse_command keeps limit in 1..50 and the severity in 0..5; help and unknown
// replies are valid UTF-8, fit one Webex message and mention nobody but the caller, only in
// the greeting of a group room.
#include "spark/command.hpp"
#include "spark/message_format.hpp"
#include "spark/replies.hpp"
#include "test/fuzz/check.hpp"

#include <boost/json.hpp>

namespace {

using namespace zpark::spark;
namespace json = boost::json;
using zpark::fuzz::valid_utf8;

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void check_reply(const std::string& reply, const Caller& caller) {
  FUZZ_CHECK(valid_utf8(reply));
  FUZZ_CHECK(reply.size() <= kMaxMessageBytes);
  const auto mention = reply.find("<@");
  if (mention == std::string::npos) return;
  // The one mention: "Hi <@personEmail:EMAIL|NAME>," of the caller, in a group room.
  FUZZ_CHECK(caller.group_room && mention == 3 && reply.starts_with("Hi <@personEmail:"));
  const auto end = reply.find('>', mention);
  FUZZ_CHECK(end != std::string::npos);
  const std::string_view inside = std::string_view(reply).substr(mention, end - mention);
  FUZZ_CHECK(inside.substr(std::string_view("<@personEmail:").size()).starts_with(caller.email));
  FUZZ_CHECK(reply.find("<@", end) == std::string::npos);
}

void check_parse(std::string_view normalised, std::string_view original) {
  const Command c = parse_command(normalised, original);
  FUZZ_CHECK(to_string(c.kind) != nullptr);
  FUZZ_CHECK(c.limit >= 1 && c.limit <= 50);
  FUZZ_CHECK(c.min_severity >= 0 && c.min_severity <= 5);
  if (c.kind == Command::Kind::help) FUZZ_CHECK(c.problem.empty());
}

void check_message(const json::value& v, std::string_view bot_id, std::string_view display_name) {
  const ChatMessage m = chat_message_from_json(v);
  for (const Extracted& e : {extract_command(m, bot_id), extract_command(m, bot_id, display_name)}) {
    FUZZ_CHECK(e.text.empty() != e.ignored.empty());
    if (!m.person_id.empty() && m.person_id == bot_id) FUZZ_CHECK(!e.ignored.empty());
    if (e.text.empty()) continue;
    FUZZ_CHECK(valid_utf8(e.original));
    FUZZ_CHECK(e.text == lower_ascii(e.original));
    FUZZ_CHECK(code_points(e.original) <= kMaxCommandLength);
    FUZZ_CHECK(e.original.front() != ' ' && e.original.back() != ' ');
    FUZZ_CHECK(e.original.find("  ") == std::string::npos);
    for (std::size_t i = 0; i < e.original.size(); ++i) {
      const auto c = static_cast<unsigned char>(e.original[i]);
      FUZZ_CHECK(c >= 0x20 && c != 0x7F);
      if (c == 0xC2 && i + 1 < e.original.size()) FUZZ_CHECK(static_cast<unsigned char>(e.original[i + 1]) > 0x9F);
    }
    check_parse(e.text, e.original);

    const Caller caller{m.person_email, std::string(display_name), m.room_type != "direct"};
    const Command c = parse_command(e.text, e.original);
    check_reply(c.kind == Command::Kind::help ? help_reply(caller, display_name) : unknown_reply(caller, c.problem),
                caller);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz_bytes(data, size);
  check_parse(lower_ascii(in), in);
  check_parse(in, in);

  zpark::fuzz::Fields f{in};
  const auto bot_id = f.next();
  const auto display_name = f.next();
  boost::system::error_code ec;
  for (std::string_view text : {f.rest, in}) {
    const json::value v = json::parse(text, ec);
    if (!ec) check_message(v, bot_id, display_name);
  }
  // Replies to a caller the fuzzer names, in a group room and a direct one. Webex sends the
  // caller's email in JSON, so it is always valid UTF-8.
  if (!zpark::fuzz::valid_utf8(bot_id)) return 0;
  for (bool group : {true, false}) {
    const Caller caller{std::string(bot_id), std::string(display_name), group};
    check_reply(unknown_reply(caller, f.rest), caller);
    check_reply(help_reply(caller, f.rest), caller);
  }
  return 0;
}
