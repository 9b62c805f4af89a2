#include "spark/replies.hpp"

#include "spark/message_format.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <vector>

namespace zpark::spark {

namespace {

// Longest piece of Zabbix text one line shows; a 64 KiB trigger name must not eat a reply.
constexpr std::size_t kMaxFieldBytes = 300;
// Bytes kept free at the end of a list for the "... and N more" line.
constexpr std::size_t kMoreLineRoom = 100;
constexpr std::size_t kMaxListedGroups = 30;
constexpr std::size_t kMaxListedInterfaces = 10;

struct CodePoint {
  std::uint32_t value;
  std::size_t size;  // 0: an invalid byte (counts as 1)
};

CodePoint next_code_point(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  std::size_t n = 0;
  std::uint32_t cp = 0, min = 0;
  if ((b0 & 0xE0) == 0xC0) n = 2, cp = b0 & 0x1F, min = 0x80;
  else if ((b0 & 0xF0) == 0xE0) n = 3, cp = b0 & 0x0F, min = 0x800;
  else if ((b0 & 0xF8) == 0xF0) n = 4, cp = b0 & 0x07, min = 0x10000;
  else return {0xFFFD, 0};
  if (s.size() - i < n) return {0xFFFD, 0};
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {0xFFFD, 0};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0xFFFD, 0};
  return {cp, n};
}

bool dropped(std::uint32_t cp) {
  return (cp < 0x20 && cp != '\n' && cp != '\r' && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);  // bidi overrides
}

// At most `max` bytes of `s`, cut on a UTF-8 boundary, with "…" when cut. Applied to raw
// Zabbix text before escaping, so an escape is never cut in half.
std::string_view clip(std::string_view s, std::size_t max, bool& cut) {
  cut = s.size() > max;
  if (!cut) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string field(std::string_view s, std::size_t max = kMaxFieldBytes) {
  bool cut = false;
  std::string out = escape_markdown(clip(s, max, cut));
  if (cut) out += "\xE2\x80\xA6";  // …
  return out;
}

// A caller's email is fit for <@personEmail:...|...> when nothing in it can end the mention.
bool mentionable(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos || email.size() > 254)
    return false;
  for (char c : email) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || std::string_view("<>|()[]\\\",;:*`").find(c) != std::string_view::npos) return false;
  }
  return true;
}

// The name shown in a mention: letters, digits, spaces and a few harmless marks only, since
// what markdown or Webex make of escapes inside a mention is not documented.
std::string mention_label(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    const auto cp = next_code_point(name, i);
    const std::size_t len = cp.size ? cp.size : 1;
    const char c = name[i];
    const bool keep = cp.size > 1 ? !dropped(cp.value)
                      : (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                            c == '.' || c == '-' || c == '\'' || c == ',';
    if (cp.size == 1 && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (keep) {
      out.append(name.substr(i, len));
    }
    i += len;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  bool cut = false;
  const auto clipped = clip(out, 64, cut);
  return std::string(clipped);
}

std::string greeting(const Caller& c) {
  if (!c.group_room) return {};
  std::string label = mention_label(c.display_name);
  if (label.empty()) label = mention_label(std::string_view(c.email).substr(0, c.email.find('@')));
  if (!mentionable(c.email)) return label.empty() ? "Hi,\n\n" : fmt::format("Hi {},\n\n", label);
  if (label.empty()) label = "there";
  return fmt::format("Hi <@personEmail:{}|{}>,\n\n", c.email, label);
}

std::string caretaker(std::string_view contact_info) {
  const std::string contact = field(contact_info, 500);
  return contact.empty() ? std::string() : fmt::format("Zpark is looked after by {}.", contact);
}

// One message: Webex refuses more than kMaxMessageBytes. Lists are fitted line by line
// before this; here anything still too long is cut by split_message, as alerts are.
std::string one_message(std::string markdown) {
  if (markdown.size() <= kMaxMessageBytes) return markdown;
  std::string cut = split_message(markdown, kMaxMessageBytes, 1).front();
  constexpr std::string_view part_header = "(part 1/1)\n";  // meaningless for one part
  if (std::string_view(cut).starts_with(part_header)) cut.erase(0, part_header.size());
  return cut;
}

// Appends "\n" + line when the message still has `room` bytes free after it.
bool add_line(std::string& out, std::string_view line, std::size_t room = kMoreLineRoom) {
  if (out.size() + 1 + line.size() + room > kMaxMessageBytes) return false;
  out += '\n';
  out += line;
  return true;
}

std::string problem_line(const zabbix::Problem& p, std::int64_t now, bool with_host) {
  std::string line = "- ";
  if (with_host) {
    line += field(p.host.empty() ? p.host_name : p.host, 128);
    if (!p.host_name.empty() && !p.host.empty() && p.host_name != p.host) line += " (" + field(p.host_name, 128) + ")";
    line += " - ";
  }
  line += p.name.empty() ? std::string("(no name)") : field(p.name);
  line += fmt::format(" - **{}**", zabbix::severity_name(p.severity));
  if (p.since > 0) line += " - since " + format_age(now - p.since);
  line += p.acknowledged ? " (acknowledged)" : " (not acknowledged)";
  if (!p.eventid.empty()) line += " - event " + field(p.eventid, 32);
  return line;
}

std::string describe(const zabbix::ProblemFilter& f) {
  std::vector<std::string> parts;
  if (f.min_severity > 0) parts.push_back(fmt::format("severity {} or higher", zabbix::severity_name(f.min_severity)));
  if (!f.host.empty()) parts.push_back("host " + field(f.host, 128));
  if (!f.group.empty()) parts.push_back("group " + field(f.group, 128));
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? " and " : ", ";
    out += parts[i];
  }
  return out;
}

bool has_filters(const zabbix::ProblemFilter& f) { return f.min_severity > 0 || !f.host.empty() || !f.group.empty(); }

// `matching`: empty, or " matching ..." after "issues".
std::string issues(const Caller& caller, const zabbix::ProblemReport& report, std::int64_t now,
                   const std::string& matching) {
  std::string out = greeting(caller);
  const std::size_t count = std::max(report.total, report.problems.size());
  if (count == 0) {
    out += matching.empty() ? "There are no active issues right now."
                            : fmt::format("There are no active issues{} right now.", matching);
    return one_message(std::move(out));
  }
  if (count == 1)
    out += fmt::format("There is currently **one** active issue{}:\n", matching);
  else
    out += fmt::format("There are currently **{}** active issues{}, most recent first:\n", count, matching);
  std::size_t shown = 0;
  for (const auto& p : report.problems) {
    if (!add_line(out, problem_line(p, now, true))) break;
    ++shown;
  }
  // A blank line first: a line right after a list item would continue that item.
  if (count > shown) out += fmt::format("\n\n... and {} more (use limit or filters)", count - shown);
  return one_message(std::move(out));
}

std::string interface_text(const zabbix::HostInterface& i) {
  std::string out = field(i.type.empty() ? std::string_view("interface") : std::string_view(i.type), 32);
  if (!i.address.empty()) {
    out += ' ' + field(i.address, 128);
    if (!i.port.empty()) out += ':' + field(i.port, 16);
  }
  std::vector<std::string> notes;
  if (i.main) notes.emplace_back("main");
  if (!i.available.empty()) notes.push_back(field(i.available, 32));
  if (!notes.empty()) {
    out += " (" + notes[0];
    for (std::size_t k = 1; k < notes.size(); ++k) out += ", " + notes[k];
    out += ')';
  }
  return out;
}

template <class T, class F>
std::string joined(const std::vector<T>& items, std::size_t max, std::string_view sep, F text) {
  if (items.empty()) return "none";
  std::string out;
  const std::size_t n = std::min(items.size(), max);
  for (std::size_t k = 0; k < n; ++k) {
    if (k) out += sep;
    out += text(items[k]);
  }
  if (items.size() > n) out += fmt::format(" and {} more", items.size() - n);
  return out;
}

std::string with_contact(std::string text, std::string_view contact_info) {
  const std::string who = caretaker(contact_info);
  if (!who.empty()) text += "\n\n" + who;
  return one_message(std::move(text));
}

// ---- write commands ----------------------------------------------------------------------

using zabbix::EventAction;
using zabbix::EventOutcome;
using zabbix::MaintenanceOutcome;

const char* verb(EventAction a) {
  switch (a) {
    case EventAction::acknowledge: return "acknowledge";
    case EventAction::unacknowledge: return "unacknowledge";
    case EventAction::close: return "close";
    case EventAction::comment: return "comment on";
  }
  return "update";
}

// "**Disk full on /var** on db01 (event 8812)", or "event **8812**" when Zabbix gave no name.
std::string problem_label(const zabbix::EventResult& r) {
  const std::string id = field(r.eventid.empty() ? r.event.eventid : r.eventid, 32);
  if (r.event.name.empty()) return "event **" + id + "**";
  std::string out = "**" + field(r.event.name) + "**";
  if (!r.event.host.empty()) out += " on " + field(r.event.host, 128);
  return out + " (event " + id + ")";
}

bool closed_by_hand(const zabbix::Event& e) {
  return std::any_of(e.updates.begin(), e.updates.end(),
                     [](const zabbix::EventUpdate& u) { return (u.action & zabbix::kActClose) != 0; });
}

std::string ago(std::int64_t clock, std::int64_t now) { return format_age(now - clock) + " ago"; }

constexpr std::size_t kMaxListedTargets = 5;
constexpr std::size_t kMaxListedMaintenances = 30;

// "host db01", "hosts a, b and 3 more; group Linux servers"; "no hosts" for neither.
std::string targets(const zabbix::Maintenance& m) {
  const auto names = [](const std::vector<std::string>& list, const char* one, const char* many) {
    return std::string(list.size() == 1 ? one : many) + " " +
           joined(list, kMaxListedTargets, ", ", [](const std::string& n) { return field(n, 128); });
  };
  std::string out;
  if (!m.hosts.empty()) out = names(m.hosts, "host", "hosts");
  if (!m.groups.empty()) out += (out.empty() ? "" : "; ") + names(m.groups, "group", "groups");
  return out.empty() ? "no hosts" : out;
}

// "maintenance **Zpark: disk swap (jane@example.com)** (id 17)"; "Maintenance ..." to start a
// sentence.
std::string maintenance_label(const zabbix::Maintenance& m, std::string_view id, bool capital = false) {
  const std::string shown_id = field(m.id.empty() ? id : std::string_view(m.id), 32);
  const char* word = capital ? "Maintenance" : "maintenance";
  if (m.name.empty()) return fmt::format("{} **{}**", word, shown_id);
  return fmt::format("{} **{}** (id {})", word, field(m.name, 128), shown_id);
}

}  // namespace

std::string escape_markdown(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    const auto cp = next_code_point(text, i);
    const std::size_t len = cp.size ? cp.size : 1;
    if (cp.size == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
    } else if (cp.value == '\n' || cp.value == '\r' || cp.value == '\t') {
      out += ' ';
    } else if (dropped(cp.value)) {
      // nothing: controls and bidi overrides only hide or reorder what is shown
    } else if (cp.size > 1) {
      out.append(text.substr(i, len));
    } else {
      switch (const char c = text[i]) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '*': case '_': case '`': case '~': case '[': case ']': case '(': case ')':
        case '#': case '|': case '\\':
          out += '\\';
          out += c;
          break;
        default: out += c;
      }
    }
    i += len;
  }
  // Surrounding white space means nothing in a name and would start a code block.
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  out.erase(0, first);
  out.erase(out.find_last_not_of(' ') + 1);
  // Markers that only mean something at the start of a line: "- x", "+ x", "= x", "1. x".
  if (out[0] == '-' || out[0] == '+' || out[0] == '=') {
    out.insert(0, 1, '\\');
  } else {
    std::size_t d = 0;
    while (d < out.size() && out[d] >= '0' && out[d] <= '9') ++d;
    if (d > 0 && d < out.size() && out[d] == '.' && (d + 1 == out.size() || out[d + 1] == ' '))
      out.insert(d, 1, '\\');
  }
  return out;
}

std::string format_age(std::int64_t s) {
  if (s < 0) s = 0;
  if (s < 60) return fmt::format("{}s", s);
  const std::int64_t m = s / 60, h = m / 60, d = h / 24;
  if (d > 0) return h % 24 ? fmt::format("{}d {}h", d, h % 24) : fmt::format("{}d", d);
  if (h > 0) return m % 60 ? fmt::format("{}h {}m", h, m % 60) : fmt::format("{}h", h);
  return fmt::format("{}m", m);
}

std::string help_reply(const Caller& caller, std::string_view contact_info) {
  std::string out = greeting(caller);
  out +=
      "I'm a Zpark bot: I relay Zabbix alerts to Webex and answer a few commands about Zabbix.\n"
      "\n"
      "- `help` (or `hello`): this message\n"
      "- `show issues`: the active Zabbix issues, most recent first (10 unless you give a limit). "
      "Filters, in any order: `severity>=LEVEL` (not classified, information, warning, average, "
      "high, disaster, or 0 to 5), `host NAME`, `group NAME`, `limit N` (1 to 50); put a name "
      "with spaces in double quotes. For example: `show issues severity>=high host db01 limit 5`\n"
      "- `show status`: the Zabbix server's figures (hosts, items, triggers, users, web "
      "scenarios), as its dashboard shows them\n"
      "- `show host NAME`: one host's status, groups, interfaces and current problems. For "
      "example: `show host db01`\n"
      "- `ack EVENTID [message]`: acknowledge a problem (its event id is in the alert and in show "
      "issues). For example: `ack 8812 looking into it`\n"
      "- `unack EVENTID`: take an acknowledgement back\n"
      "- `close EVENTID [message]`: close a problem by hand, when its trigger allows it\n"
      "- `comment EVENTID message`: add a message to a problem. For example: `comment 8812 disk "
      "ordered`\n"
      "- `maintenance host NAME DURATION [reason]` or `maintenance group NAME DURATION [reason]`: "
      "maintenance with data collection from now, for 5m to 30d (like 30m, 2h, 1d). For example: "
      "`maintenance host db01 2h disk swap`\n"
      "- `maintenance list`: active and planned maintenances; `maintenance end ID` ends one made "
      "here\n"
      "- `graph HOST ITEM [PERIOD]`: a graph of a numeric item (its key or name) of the last "
      "hour, or of PERIOD (like 30m, 6h, 7d). For example: `graph db01 system.cpu.load 6h`\n"
      "\n"
      "Written as a reply in an alert's thread, ack, unack, close and comment need no event id. "
      "Zabbix records what you do with your name.\n"
      "\n"
      "In a group room, mention me first and then write the command; in a direct room, just "
      "write it. I only answer trusted users.";
  return with_contact(std::move(out), contact_info);
}

std::string issues_reply(const Caller& caller, const zabbix::ProblemReport& report, std::int64_t now,
                         bool filtered) {
  return issues(caller, report, now, filtered ? " matching your filters" : "");
}

std::string issues_reply(const Caller& caller, const zabbix::ProblemReport& report, std::int64_t now,
                         const zabbix::ProblemFilter& filter) {
  return issues(caller, report, now, has_filters(filter) ? " matching " + describe(filter) : "");
}

std::string status_reply(const Caller& caller, const zabbix::StatusReport& s) {
  std::string out = greeting(caller);
  out += "**Zabbix server status**";
  if (!s.version.empty()) out += " (Zabbix " + field(s.version, 32) + ")";
  out += "\n\n";
  out += fmt::format("- Hosts (enabled / disabled / templates): {} / {} / {} ({})\n", s.hosts_enabled,
                     s.hosts_disabled, s.templates, s.hosts_enabled + s.hosts_disabled + s.templates);
  out += fmt::format("- Items (enabled / disabled / not supported): {} / {} / {} ({})\n", s.items_enabled,
                     s.items_disabled, s.items_not_supported,
                     s.items_enabled + s.items_disabled + s.items_not_supported);
  out += fmt::format("- Triggers (enabled / disabled): {} / {} ({}); problem / ok: {} / {}\n", s.triggers_enabled,
                     s.triggers_disabled, s.triggers_enabled + s.triggers_disabled, s.triggers_problem,
                     s.triggers_ok);
  out += fmt::format("- Users: {}", s.users);
  if (s.users_online) out += fmt::format(" ({} online)", *s.users_online);
  out += '\n';
  if (s.required_performance)
    out += fmt::format("- Required server performance: {:.2f} new values per second\n", *s.required_performance);
  out += fmt::format("- Web scenarios (enabled / disabled): {} / {}\n\n", s.web_enabled, s.web_disabled);
  out += s.from_server ? "Figures from the Zabbix server itself, as on its dashboard."
                       : "Figures counted through the Zabbix API, as on its dashboard (users online and "
                         "required performance come only from the server: set ZABBIX_SERVER_ADDRESS).";
  return one_message(std::move(out));
}

std::string host_reply(const Caller& caller, const zabbix::HostLookup& lookup, std::string_view asked_name,
                       std::int64_t now) {
  std::string out = greeting(caller);
  const std::string asked = field(asked_name, 128);
  if (!lookup.host) {
    if (lookup.candidates.empty()) {
      out += fmt::format("I found no host called **{}** in Zabbix (by technical or visible name).", asked);
      return one_message(std::move(out));
    }
    out += fmt::format("Several hosts match **{}**:\n", asked);
    std::size_t shown = 0;
    for (const auto& name : lookup.candidates) {
      if (!add_line(out, "- " + field(name, 128))) break;
      ++shown;
    }
    if (lookup.candidates.size() > shown) out += fmt::format("\n\n... and {} more", lookup.candidates.size() - shown);
    out += "\n\nPlease write show host with one of these names exactly.";
    return one_message(std::move(out));
  }
  const auto& h = *lookup.host;
  out += "**Host " + field(h.host.empty() ? h.name : h.host, 128) + "**";
  if (!h.name.empty() && !h.host.empty() && h.name != h.host) out += " (" + field(h.name, 128) + ")";
  out += '\n';
  out += std::string("- Status: ") + (h.monitored ? "monitored" : "not monitored") +
         (h.in_maintenance ? ", in maintenance" : "") + '\n';
  out += "- Groups: " +
         joined(h.groups, kMaxListedGroups, ", ", [](const std::string& g) { return field(g, 128); }) + '\n';
  out += "- Interfaces: " + joined(h.interfaces, kMaxListedInterfaces, "; ", interface_text) + "\n\n";
  if (h.problems.empty()) {
    out += "No current problems.";
    return one_message(std::move(out));
  }
  out += h.problems.size() == 1 ? std::string("**One** current problem:\n")
                                : fmt::format("**{}** current problems, most recent first:\n", h.problems.size());
  std::size_t shown = 0;
  for (const auto& p : h.problems) {
    if (!add_line(out, problem_line(p, now, false))) break;
    ++shown;
  }
  if (h.problems.size() > shown) out += fmt::format("\n\n... and {} more", h.problems.size() - shown);
  return one_message(std::move(out));
}

std::string format_utc_minute(std::int64_t t) {
  return fmt::format("{:%Y-%m-%d %H:%M} UTC", fmt::gmtime(static_cast<std::time_t>(t)));
}

std::string event_action_reply(const Caller& caller, const zabbix::EventResult& r, std::int64_t now) {
  std::string out = greeting(caller);
  const std::string label = problem_label(r);
  const std::string id = field(r.eventid, 32);
  const bool words = r.message_added;
  switch (r.outcome) {
    case EventOutcome::done:
      switch (r.action) {
        case EventAction::acknowledge:
          out += fmt::format("Acknowledged {}{}.", label, words ? ", with your message" : "");
          break;
        case EventAction::unacknowledge:
          out += fmt::format("Unacknowledged {}{}.", label, words ? ", with your message" : "");
          break;
        case EventAction::close:
          out += fmt::format("Asked Zabbix to close {}{}; it closes the problem within a few seconds.", label,
                             words ? ", with your message" : "");
          break;
        case EventAction::comment: out += fmt::format("Added your comment to {}.", label); break;
      }
      break;
    case EventOutcome::already_done: {
      const std::string added = words ? "; I added your message to it" : "; nothing changed";
      switch (r.action) {
        case EventAction::acknowledge: {
          std::string by;
          if (!r.acknowledged_by.empty()) by += " by " + field(r.acknowledged_by, 200);
          if (r.acknowledged_at > 0) by += " " + ago(r.acknowledged_at, now);
          out += fmt::format("{} was already acknowledged{}{}.", label, by, added);
          break;
        }
        case EventAction::unacknowledge:
          out += fmt::format("{} is not acknowledged{}.", label, added);
          break;
        case EventAction::close:
          out += fmt::format("Closing {} was already asked for; Zabbix closes it within a few seconds{}.", label,
                             words ? ". I added your message to it" : "");
          break;
        case EventAction::comment: out += fmt::format("Added your comment to {}.", label); break;
      }
      break;
    }
    case EventOutcome::not_found:
      out += fmt::format("I can't find event **{}** in Zabbix: it does not exist, or Zpark's Zabbix account is "
                         "not allowed to see it.",
                         id);
      break;
    case EventOutcome::not_a_problem:
      out += fmt::format("Event **{}** is not a problem (it may be a recovery event); please use the problem's "
                         "event id, as the alert shows it.",
                         id);
      break;
    case EventOutcome::resolved:
      out += fmt::format("{} is already resolved{}, so there is nothing to {}.", label,
                         closed_by_hand(r.event) ? " (closed by hand)" : "", verb(r.action));
      break;
    case EventOutcome::no_manual_close:
      out += fmt::format("{} can't be closed by hand: its trigger does not allow it (the trigger's \"Allow "
                         "manual close\" setting in Zabbix).",
                         label);
      break;
    case EventOutcome::no_permission:
      out += fmt::format("Zpark's Zabbix account is not allowed to {} {}. Please ask your Zabbix administrator "
                         "to give it access to the host's group and a role that may acknowledge and close "
                         "problems.",
                         verb(r.action), label);
      break;
    case EventOutcome::refused:
      out += fmt::format("Zabbix refused to {} {}: {}.", verb(r.action), label, field(r.detail, 200));
      break;
  }
  return one_message(std::move(out));
}

std::string no_event_id_reply(const Caller& caller, std::string_view command, bool in_thread) {
  std::string out = greeting(caller);
  const std::string cmd = field(command, 32);
  const std::string example =
      fmt::format("`{} 8812{}`", cmd, command == "comment" ? " disk replaced" : command == "unack" ? "" : " looking into it");
  if (in_thread)
    out += fmt::format("I can't tell which problem this thread is about. Please write the event id, for "
                       "example {}.",
                       example);
  else
    out += fmt::format("Which problem? Please write its event id, for example {} (show issues lists them), or "
                       "write the command as a reply in the alert's thread.",
                       example);
  return one_message(std::move(out));
}

std::string maintenance_created_reply(const Caller& caller, const zabbix::MaintenanceResult& r, bool group,
                                      std::string_view asked) {
  std::string out = greeting(caller);
  const char* kind = group ? "host group" : "host";
  const std::string target = "**" + field(r.target.empty() ? asked : std::string_view(r.target), 128) + "**";
  const auto list = [&out](const std::vector<std::string>& names) {
    std::size_t shown = 0;
    for (const auto& n : names) {
      if (!add_line(out, "- " + field(n, 128))) break;
      ++shown;
    }
    if (names.size() > shown) out += fmt::format("\n\n... and {} more", names.size() - shown);
  };
  switch (r.outcome) {
    case MaintenanceOutcome::done: {
      const auto& m = r.maintenance;
      out += fmt::format("Created {} for {} {} from {} until {} ({}), with data collection. End it early with "
                         "`maintenance end {}`.",
                         maintenance_label(m, {}), kind, target, format_utc_minute(m.since),
                         format_utc_minute(m.till), format_age(m.till - m.since), field(m.id, 32));
      break;
    }
    case MaintenanceOutcome::no_target:
      out += fmt::format("I found no {} called {} in Zabbix{}, or Zpark's Zabbix account is not allowed to see "
                         "it. No maintenance was created.",
                         kind, target, group ? "" : " (by technical or visible name)");
      if (!r.candidates.empty()) {
        out += fmt::format("\n\n{} whose names contain it:\n", group ? "Groups" : "Hosts");
        list(r.candidates);
        out += "\n\nPlease write the name exactly (in double quotes when it has spaces).";
      }
      break;
    case MaintenanceOutcome::several_targets:
      out += fmt::format("Several {}s are called {}, so I created no maintenance:\n", kind, target);
      list(r.candidates);
      out += "\n\nPlease write the technical name (in brackets) instead.";
      break;
    case MaintenanceOutcome::no_permission:
      out += fmt::format("Zpark's Zabbix account is not allowed to create maintenances for {}. It needs an Admin "
                         "role with write access to {}; please ask your Zabbix administrator.",
                         target, group ? "that group" : "the host's group");
      break;
    default:
      out += fmt::format("Zabbix refused the maintenance for {}: {}.", target,
                         field(r.detail.empty() ? std::string_view("no reason given") : std::string_view(r.detail), 200));
      break;
  }
  return one_message(std::move(out));
}

std::string maintenance_list_reply(const Caller& caller, const std::vector<zabbix::Maintenance>& list,
                                   std::int64_t now) {
  std::string out = greeting(caller);
  if (list.empty()) {
    out += "There are no active or planned maintenances in Zabbix.";
    return one_message(std::move(out));
  }
  out += list.size() == 1 ? std::string("**One** active or planned maintenance:\n")
                          : fmt::format("**{}** active or planned maintenances, active ones first:\n", list.size());
  std::size_t shown = 0;
  for (const auto& m : list) {
    if (shown == kMaxListedMaintenances) break;
    std::string line = fmt::format("- {}: **{}** - {} - ", field(m.id, 32), field(m.name, 128), targets(m));
    if (m.since > now)
      line += fmt::format("from {} until {} (starts in {})", format_utc_minute(m.since), format_utc_minute(m.till),
                          format_age(m.since - now));
    else
      line += fmt::format("until {} (in {})", format_utc_minute(m.till), format_age(m.till - now));
    if (!add_line(out, line)) break;
    ++shown;
  }
  if (list.size() > shown) out += fmt::format("\n\n... and {} more", list.size() - shown);
  out += "\n\nEnd one made from Webex with `maintenance end ID`.";
  return one_message(std::move(out));
}

std::string maintenance_ended_reply(const Caller& caller, const zabbix::MaintenanceResult& r,
                                    std::string_view asked_id) {
  std::string out = greeting(caller);
  const auto& m = r.maintenance;
  const std::string label = maintenance_label(m, asked_id);
  switch (r.outcome) {
    case MaintenanceOutcome::done:
      out += fmt::format("Ended {}{}: it is deleted, and its hosts leave maintenance within a minute.", label,
                         m.hosts.empty() && m.groups.empty() ? std::string() : " of " + targets(m));
      break;
    case MaintenanceOutcome::not_found:
      out += fmt::format("I can't find maintenance **{}** in Zabbix, or Zpark's Zabbix account is not allowed to "
                         "see it. `maintenance list` shows the current ones.",
                         field(asked_id, 32));
      break;
    case MaintenanceOutcome::not_ours:
      out += fmt::format("{} was not made from Webex, so I leave it alone; please end it in the Zabbix frontend.",
                         maintenance_label(m, asked_id, true));
      break;
    case MaintenanceOutcome::already_over:
      out += fmt::format("{} already ended at {}; nothing to do.", maintenance_label(m, asked_id, true),
                         format_utc_minute(m.till));
      break;
    case MaintenanceOutcome::no_permission:
      out += fmt::format("Zpark's Zabbix account is not allowed to delete {}. It needs an Admin role with write "
                         "access to the groups of its hosts; please ask your Zabbix administrator.",
                         label);
      break;
    default:
      out += fmt::format("Zabbix refused to end {}: {}.", label,
                         field(r.detail.empty() ? std::string_view("no reason given") : std::string_view(r.detail), 200));
      break;
  }
  return one_message(std::move(out));
}

std::string unknown_reply(const Caller& caller, std::string_view problem) {
  std::string out = greeting(caller);
  if (problem.empty())
    out += "I don't know that command; write **help** to see what I can do.";
  else
    out += "I can't do that: " + field(problem, 400) + ". Write **help** to see what I can do.";
  return one_message(std::move(out));
}

std::string graph_lookup_reply(const Caller& caller, const zabbix::GraphLookup& lookup,
                               std::string_view asked_host, std::string_view asked_item) {
  std::string out = greeting(caller);
  using Outcome = zabbix::GraphLookup::Outcome;
  const std::string host = "**" + field(lookup.host.empty() ? asked_host : std::string_view(lookup.host), 200) + "**";
  switch (lookup.outcome) {
    case Outcome::no_host:
      out += "I can't find a host named **" + field(asked_host, 200) + "** in Zabbix.";
      break;
    case Outcome::no_item:
      out += "I can't find an item \"" + field(asked_item, 200) + "\" on " + host + ".";
      break;
    case Outcome::not_numeric:
      out += "The items matching \"" + field(asked_item, 200) + "\" on " + host +
             " are not numeric, so there is no graph to draw.";
      break;
    case Outcome::found:
      out += "Found " + host + ".";
      break;
  }
  if (lookup.outcome != Outcome::found && lookup.outcome != Outcome::no_host && !lookup.other.empty()) {
    out += lookup.outcome == Outcome::no_item ? " Its numeric items include: " : " They are: ";
    for (std::size_t i = 0; i < lookup.other.size(); ++i)
      out += (i ? ", " : "") + field(lookup.other[i], 120);
    out += ".";
  }
  return one_message(std::move(out));
}

std::string graph_caption(const std::vector<zabbix::GraphItem>& items, std::int64_t period_seconds) {
  std::string out;
  bool one_host = !items.empty();
  for (const auto& i : items)
    if (i.host != items.front().host) one_host = false;
  if (one_host && !items.front().host.empty()) out += "**" + field(items.front().host, 200) + "**: ";
  constexpr std::size_t shown = 4;
  for (std::size_t i = 0; i < items.size() && i < shown; ++i) {
    if (i) out += ", ";
    if (!one_host && !items[i].host.empty()) out += field(items[i].host, 100) + ": ";
    out += field(items[i].name.empty() ? items[i].key : items[i].name, 200);
  }
  if (items.size() > shown) out += " and " + std::to_string(items.size() - shown) + " more";
  out += " (last " + format_age(period_seconds) + ")";
  return one_message(std::move(out));
}

std::string graph_failed_reply(const Caller& caller, std::string_view why) {
  return one_message(greeting(caller) + "I could not make that graph: " + field(why, 600) + ".");
}

std::string zabbix_trouble_reply(const Caller& caller, std::string_view contact_info) {
  return with_contact(greeting(caller) +
                          "Sorry, I'm having trouble reaching Zabbix, so I can't answer yet. I'll try "
                          "again in a moment.",
                      contact_info);
}

std::string zabbix_gave_up_reply(const Caller& caller, std::string_view contact_info) {
  return with_contact(greeting(caller) +
                          "Sorry, I still can't reach Zabbix, so I've given up on this command. Please "
                          "try again later.",
                      contact_info);
}

}  // namespace zpark::spark
