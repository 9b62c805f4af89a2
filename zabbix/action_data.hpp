#pragma once
// Plain results of the bot's write commands (ack, unack, close, comment, maintenance): no I/O,
// no Webex, no markdown. zabbix/actions.hpp fills these; spark/replies.hpp turns them into
// chat replies. The twin of report_data.hpp for the read-only commands.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zpark::zabbix {

// ---- problem events (event.acknowledge) -------------------------------------------------------

enum class EventAction { acknowledge, unacknowledge, close, comment };

// event.acknowledge action bits (6.0; 8 change severity and 32/64 suppress are not used).
inline constexpr int kActClose = 1;
inline constexpr int kActAcknowledge = 2;
inline constexpr int kActMessage = 4;
inline constexpr int kActUnacknowledge = 16;

// One entry of an event's history (event.get select_acknowledges).
struct EventUpdate {
  std::int64_t clock = 0;
  int action = 0;        // event.acknowledge bits: 1 close, 2 acknowledge, 4 message, 16 unacknowledge
  std::string message;
  std::string user;      // the Zabbix user: "Name Surname" or the username
};

struct Event {
  std::string eventid;
  bool problem = false;       // a trigger's problem event (source 0, object 0, value 1)
  bool resolved = false;      // r_eventid != 0
  bool acknowledged = false;
  bool manual_close = false;  // its trigger allows closing by hand
  std::string name;           // the problem's name
  std::string host;           // its first host's visible name
  int severity = 0;
  std::int64_t clock = 0;             // when the problem started
  std::vector<EventUpdate> updates;   // newest first
};

enum class EventOutcome {
  done,             // acknowledged, unacknowledged, close asked for, comment added
  already_done,     // acknowledged before, not acknowledged, close asked for before
  not_found,        // no such event, or the account may not see it
  not_a_problem,    // a recovery event or one of another source (discovery, internal...)
  resolved,         // resolved already: nothing to acknowledge, unacknowledge or close
  no_manual_close,  // close: the trigger does not allow closing by hand
  no_permission,    // Zabbix refused: the account may read the event but not do this
  refused,          // Zabbix refused for another reason: `detail`
};

struct EventResult {
  EventAction action = EventAction::acknowledge;
  EventOutcome outcome = EventOutcome::not_found;
  std::string eventid;          // as asked
  Event event;                  // as Zabbix had it before acting (when found)
  bool message_added = false;   // the caller's message is now in the event's history
  // already_done of an acknowledge: who acknowledged it and when, when known (the Webex user
  // named in Zpark's own message, else the Zabbix user).
  std::string acknowledged_by;
  std::int64_t acknowledged_at = 0;
  std::string detail;           // refused: Zabbix's reason, one line
};

// ---- maintenances ------------------------------------------------------------------------------

struct Maintenance {
  std::string id;
  std::string name;
  std::string description;
  std::int64_t since = 0;  // active_since
  std::int64_t till = 0;   // active_till
  std::vector<std::string> hosts;   // visible names
  std::vector<std::string> groups;
  bool from_zpark = false;  // created by `maintenance host|group` (its name starts "Zpark: ")
};

enum class MaintenanceOutcome {
  done,             // created, or ended (deleted)
  no_target,        // create: no host (group) of that name, or the account may not see it
  several_targets,  // create: the name is not exact; `candidates` lists what it may mean
  not_found,        // end: no maintenance with that id, or the account may not see it
  not_ours,         // end: not created from Webex; left alone
  already_over,     // end: its active window is over already
  no_permission,    // Zabbix refused: the account may not create or delete maintenances
  refused,          // Zabbix refused for another reason: `detail`
};

struct MaintenanceResult {
  MaintenanceOutcome outcome = MaintenanceOutcome::refused;
  Maintenance maintenance;              // created or ended (as far as known)
  std::string target;                   // create: the host or group as Zabbix names it
  std::vector<std::string> candidates;  // several_targets / no_target: names that contain it
  std::string detail;
};

}  // namespace zpark::zabbix
