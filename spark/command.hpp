#pragma once
// From a Webex message to a bot command: strip the bot's mention in group rooms, normalise,
// parse. Pure functions, no I/O; tested alone and fuzzed.
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace zpark::spark {

// The parts of GET /messages/{id} that command extraction needs.
struct ChatMessage {
  std::string id, room_id, room_type;  // room_type "group" or "direct"
  std::string person_id, person_email;
  std::string parent_id;               // set when written inside a thread
  std::string text, html;
  std::vector<std::string> mentioned_people;  // person ids
};
ChatMessage chat_message_from_json(const boost::json::value& v);

inline constexpr std::size_t kMaxCommandLength = 200;

struct Extracted {
  std::string text;     // normalised command: lower case, single spaces, trimmed
  std::string ignored;  // non-empty: why the message is ignored (log line), text is empty
};

// Group room: the message must start (in `html`, after optional opening tags) with a
// <spark-mention> of `bot_id` (data-object-id, or else the bot's id in mentioned_people);
// the command is the html text after that mention, after optional ',' ':' ';' and spaces,
// with tags removed and entities (&amp; &lt; &gt; &quot; &#39; &nbsp;) decoded. When
// `html` is empty, the same from `text` minus the mention's display text is tried only if
// mentioned_people holds the bot. Direct room: the whole `text`.
// Over kMaxCommandLength characters or containing control characters: ignored.
Extracted extract_command(const ChatMessage& m, std::string_view bot_id);

struct Command {
  enum class Kind { help, show_issues, show_status, show_host, unknown } kind = Kind::unknown;
  // show issues filters
  int min_severity = 0;
  std::string host, group;
  std::size_t limit = 10;
  // show host NAME (original case kept)
  std::string name;
  // unknown or a bad argument: a short hint for the reply ("limit must be 1 to 50")
  std::string problem;
};
const char* to_string(Command::Kind kind);  // "help", "show issues", ... (metrics labels)

// `hello` and `help` -> help. `show issues [severity>=LEVEL] [host NAME] [group NAME]
// [limit N]` (LEVEL a name such as "high" or a number 0..5; NAME may be quoted with "" when
// it holds spaces). `show status`. `show host NAME`. Anything else -> unknown.
// `original` is the extracted text before lower-casing (to keep host name case).
Command parse_command(std::string_view normalised, std::string_view original);

}  // namespace zpark::spark
