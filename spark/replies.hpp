#pragma once
// Chat replies of the bot commands, in Webex markdown. Every piece of Zabbix text is escaped
// so it cannot break the layout or mention anyone; every reply fits one message (7439 bytes),
// cut with a note when needed. Pure functions.
#include "zabbix/action_data.hpp"
#include "zabbix/graph_data.hpp"
#include "zabbix/report_data.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zpark::spark {

// Escapes markdown and mention syntax in text from Zabbix or users: * _ ` ~ [ ] ( ) # > | \ < >
// and leading list markers, newlines become spaces, control characters dropped.
// How: < > & become &lt; &gt; &amp; (so no "<@" of a mention survives in the markdown), the
// other marks get a backslash; a leading - + = and the '.' of a leading "1." are escaped;
// newlines and tabs become spaces; C0/C1 controls and bidi overrides are dropped; invalid
// UTF-8 becomes U+FFFD; surrounding white space is trimmed.
std::string escape_markdown(std::string_view text);

// Who asked: for the greeting in group rooms.
struct Caller {
  std::string email;
  std::string display_name;  // may be empty
  bool group_room = false;   // greet with a mention only in group rooms
};

std::string help_reply(const Caller& caller, std::string_view contact_info);
// `now` (unix seconds) for the ages. `filtered` says whether filters were given (wording).
std::string issues_reply(const Caller& caller, const zabbix::ProblemReport& report,
                         std::int64_t now, bool filtered);
// The same, naming the filters in the wording ("no active issues matching severity High or
// higher and host db01"); `filtered` is then taken from the filter itself.
std::string issues_reply(const Caller& caller, const zabbix::ProblemReport& report,
                         std::int64_t now, const zabbix::ProblemFilter& filter);
std::string status_reply(const Caller& caller, const zabbix::StatusReport& status);
std::string host_reply(const Caller& caller, const zabbix::HostLookup& lookup,
                       std::string_view asked_name, std::int64_t now);
// ack / unack / close / comment: what was done, or why not, in one or two lines naming the
// problem ("**Disk full** on db01, event 8812"). `now` (unix seconds) for "5m ago".
std::string event_action_reply(const Caller& caller, const zabbix::EventResult& result, std::int64_t now);
// An event command without an event id, outside an alert's thread (or in a thread Zpark does
// not know): which event? `command` is the command's name ("ack").
std::string no_event_id_reply(const Caller& caller, std::string_view command, bool in_thread);
// maintenance host|group NAME ...: created (name, id, target, until when), or why not.
// `asked` is the name as the user wrote it.
std::string maintenance_created_reply(const Caller& caller, const zabbix::MaintenanceResult& result,
                                      bool group, std::string_view asked);
// maintenance list: the maintenances of zabbix::maintenances() (active and future).
std::string maintenance_list_reply(const Caller& caller, const std::vector<zabbix::Maintenance>& list,
                                   std::int64_t now);
// maintenance end ID: ended, or why not.
std::string maintenance_ended_reply(const Caller& caller, const zabbix::MaintenanceResult& result,
                                    std::string_view asked_id);
// "2024-05-01 14:00 UTC": when a maintenance starts or ends.
std::string format_utc_minute(std::int64_t unix_seconds);
// Unknown command or a bad argument: one short line pointing to `help`.
std::string unknown_reply(const Caller& caller, std::string_view problem);
// First Zabbix failure: trouble reaching Zabbix, will retry; names the contact when set.
std::string zabbix_trouble_reply(const Caller& caller, std::string_view contact_info);
// Retries exhausted: gave up; names the contact when set.
std::string zabbix_gave_up_reply(const Caller& caller, std::string_view contact_info);

// graph HOST ITEM: no such host, no such item, or only non-numeric items (one line, with a
// few item keys of that host when known). `asked_host`/`asked_item` as the user wrote them.
std::string graph_lookup_reply(const Caller& caller, const zabbix::GraphLookup& lookup,
                               std::string_view asked_host, std::string_view asked_item);
// The caption of a graph image: "**db01**: CPU load, Load average (last 6h)". Items of one host
// name it once. At most a few names, then "and N more".
std::string graph_caption(const std::vector<zabbix::GraphItem>& items, std::int64_t period_seconds);
// graph HOST ITEM when the image could not be made or sent: one line with the reason.
std::string graph_failed_reply(const Caller& caller, std::string_view why);

// "5m", "3h 12m", "2d 4h"; "45s" under a minute, "0s" for negative ages (clock skew).
std::string format_age(std::int64_t seconds);

}  // namespace zpark::spark
