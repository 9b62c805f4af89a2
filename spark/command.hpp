#pragma once
// From a Webex message to a bot command: strip the bot's mention in group rooms, normalise,
// parse. Pure functions, no I/O; tested alone and fuzzed.
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  std::string original; // the same with its case kept (for names given to commands)
  std::string ignored;  // non-empty: why the message is ignored (log line), text is empty
};

// Group room: the message must start (in `html`, after optional opening tags) with a
// <spark-mention> of `bot_id` (data-object-id, or else the bot's id in mentioned_people);
// the command is the html text after that mention, after optional ',' ':' ';' and spaces,
// with tags removed and entities (&amp; &lt; &gt; &quot; &#39; &nbsp;) decoded. When
// `html` is empty, the same from `text` minus the mention's display text is tried only if
// mentioned_people holds the bot. Direct room: the whole `text`.
// Over kMaxCommandLength characters or containing control characters: ignored.
// The rule, on the command after the mention, tags and entities are gone: leading and
// trailing white space (a trailing line break included) is trimmed first; then more than
// kMaxCommandLength code points, or any control character left inside (a line break, a tab,
// C0, DEL, C1), or invalid UTF-8 ignores the message; only then are runs of spaces collapsed.
// <br> and block tags (<p>, <div>, <li>...) count as line breaks, raw white space inside
// `html` as a space; a no-break space (&nbsp; or U+00A0) is a space. The bot's id matches
// data-object-id in both forms Webex clients send: the REST id and the bare UUID inside it.
// Empty command (a bare mention), the bot's own message (person_id == bot_id), any room
// type other than "direct" without the mention: ignored. Never throws.
Extracted extract_command(const ChatMessage& m, std::string_view bot_id);
// The same; with `html` empty, the text's leading mention is recognised by the bot's display
// name or its first word (what Webex clients show), e.g. from GET /people/me.
Extracted extract_command(const ChatMessage& m, std::string_view bot_id,
                          std::string_view bot_display_name);

// Maintenances from chat: at least Zabbix's minimum period, at most a month.
inline constexpr std::int64_t kMinMaintenanceSeconds = 5 * 60;
inline constexpr std::int64_t kMaxMaintenanceSeconds = 30 * 24 * 3600;

// "30m", "2h", "1d", "1w", "1h30m" (also "min", upper case) -> seconds; nullopt when it is not
// a duration. No range check: see kMinMaintenanceSeconds.
std::optional<std::int64_t> parse_duration(std::string_view text);

struct Command {
  enum class Kind {
    help, show_issues, show_status, show_host,
    ack, unack, close, comment,                                  // act on a problem event
    maintenance_create, maintenance_list, maintenance_end,
    graph,                                                       // graph HOST ITEM [PERIOD]
    unknown
  } kind = Kind::unknown;
  // show issues filters; maintenance host|group NAME: the NAME (original case kept)
  int min_severity = 0;
  std::string host, group;
  std::size_t limit = 10;
  // show host NAME (original case kept)
  std::string name;
  // ack / unack / close / comment: the event id, empty when not given (then the thread's
  // alert says which event); maintenance end: the maintenance id.
  std::string id;
  // ack / unack / close / comment: the user's words (case kept, may be empty but for
  // comment); maintenance: the reason (may be empty).
  std::string message;
  std::int64_t duration = 0;  // maintenance host|group: seconds; graph: the period (0: default)
  // A bad argument of a known command: `kind` says which command was recognised, `problem`
  // what is wrong ("limit must be a number from 1 to 50"). Answer
  // unknown_reply(caller, problem) and do not ask Zabbix. Empty for a plain unknown command.
  std::string problem;
};
const char* to_string(Command::Kind kind);  // "help", "show issues", "ack", ... (metrics labels)
// ack, unack, close and comment: the commands about one problem event.
bool is_event_command(Command::Kind kind);

// `hello` and `help` -> help. `show issues [severity>=LEVEL] [host NAME] [group NAME]
// [limit N]` (LEVEL a name such as "high" or a number 0..5; NAME may be quoted with "" when
// it holds spaces). `show status`. `show host NAME`. Anything else -> unknown.
// `original` is the extracted text before lower-casing (to keep host name case).
// Details: filters in any order, each at most once; `severity>=LEVEL`, `severity >= LEVEL`,
// `severity LEVEL` and `sev` alike; LEVEL "not classified" (two words or quoted),
// "information"/"info", "warning", "average", "high", "disaster" or 0..5; limit 1..50.
// `show problems` = `show issues`. `show host` takes the rest of the line as the name
// (quotes optional). Extra words after `help` are ignored; after `show status` they are a
// problem. Typographic quotes (“ ”) count as double quotes. When `original` does not
// lower-case to `normalised`, names come from `normalised`. Never throws.
//
// Acting on Zabbix: `ack [EVENTID] [message]` (also `acknowledge`), `unack [EVENTID]
// [message]` (also `unacknowledge`), `close [EVENTID] [message]`, `comment [EVENTID] message`.
// EVENTID is the first word when it is all digits (a leading '#' allowed); without it the
// command is about the alert whose thread it was written in. The message is the rest of the
// line as written, quotes and all.
// `maintenance host NAME DURATION [reason]`, `maintenance group NAME DURATION [reason]`: NAME
// is the words up to the first duration (or one quoted name), DURATION from 5m to 30d, the
// reason the rest of the line as written. `maintenance list`, `maintenance end ID`.
// `graph HOST ITEM [PERIOD]`: HOST in `host` (one word or quoted), ITEM (a key or a name; the
// words after HOST, or one quoted name) in `name`, PERIOD (1m to 730d, like 30m, 6h, 1d) in
// `duration` when the last word is one.
Command parse_command(std::string_view normalised, std::string_view original);

}  // namespace zpark::spark
