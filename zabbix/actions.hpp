#pragma once
// The Zabbix side of the bot's write commands: acknowledge, unacknowledge, close and comment on
// a problem (event.acknowledge), create, list and end maintenances. Each looks first (event.get,
// host.get, maintenance.get) and then acts, so every refusal is a plain outcome the reply can
// explain (zabbix/action_data.hpp). Refusals Zabbix itself answers (no permission, no manual
// close) are outcomes too, not errors: the command is answered at once and never retried. An
// Error comes back only when Zabbix could not be asked (network, login, a broken answer), which
// the command task retries; `retry` requests make such a retry find what the lost attempt did
// instead of doing it twice. Nothing here knows Webex or markdown.
#include "zabbix/action_data.hpp"
#include "zabbix/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zpark::zabbix {

// Who asked, as the Zabbix history should name them: Zabbix records the API account as the
// author of every update, so each message Zpark writes names the Webex user.
struct Author {
  std::string email;
  std::string display_name;  // may be empty
};

struct EventRequest {
  EventAction action = EventAction::acknowledge;
  std::string eventid;
  std::string message;   // the user's own words; may be empty (not for comment)
  Author author;
  std::int64_t asked_at = 0;  // unix seconds when the command came (the same on every retry)
  bool retry = false;         // an earlier attempt may have reached Zabbix
};

// ack / unack / close / comment on one problem event.
boost::asio::awaitable<Result<EventResult>> act_on_event(Client& client, EventRequest request);

struct MaintenanceRequest {
  bool group = false;         // a host group, else a host
  std::string target;         // the host's technical or visible name, or the group's name
  std::int64_t duration = 0;  // seconds (at least 300: Zabbix's minimum period)
  std::string reason;         // may be empty
  Author author;
  std::int64_t now = 0;       // unix seconds when the command came (the same on every retry)
};

// maintenance host|group NAME DURATION [reason]: one-time maintenance with data collection from
// now (rounded down to the minute) for `duration`, on exactly one host or group whose name
// matches exactly (case-insensitive). A retried request finds the maintenance its lost attempt
// created rather than making a second one.
boost::asio::awaitable<Result<MaintenanceResult>> create_maintenance(Client& client,
                                                                     MaintenanceRequest request);

// maintenance list: maintenances whose active window has not ended by `now`, active ones first
// (soonest to end first), then future ones (soonest to start first).
boost::asio::awaitable<Result<std::vector<Maintenance>>> maintenances(Client& client, std::int64_t now);

// maintenance end ID: deletes one maintenance Zpark created (maintenance.delete: a maintenance
// made a moment ago cannot be shortened to "now", since Zabbix rounds its times down to the
// minute). Maintenances made in the frontend are left alone (not_ours): deleting a recurring
// one from chat would lose its schedule. On a `retry`, a maintenance that is gone was deleted
// by the attempt whose answer was lost: done.
boost::asio::awaitable<Result<MaintenanceResult>> end_maintenance(Client& client, std::string id,
                                                                  std::int64_t now, bool retry = false);

// ---- pure parts (tested without I/O) -------------------------------------------------------

// "done", "already_done", "no_permission", ...: for log lines.
const char* to_string(EventOutcome outcome);
const char* to_string(MaintenanceOutcome outcome);

// "Jane Doe <jane@example.com>", or the email alone without a name.
std::string author_text(const Author& author);

// The message Zabbix records for an action: the user's words and who wrote them,
// "<message> — Jane Doe <jane@example.com> via Webex", or without words
// "Acknowledged by Jane Doe <jane@example.com> via Webex" (Unacknowledged, Closed, ...).
std::string attributed_message(EventAction action, std::string_view message, const Author& author);

// The Webex user named in a message attributed_message() wrote; empty for other messages.
std::string author_in(std::string_view message);

// event.get parameters for one event: state, history with users, hosts, and the trigger's
// manual_close.
boost::json::object event_query(std::string_view eventid);

// The event of an event.get answer to event_query(); nullopt when the answer is empty.
std::optional<Event> event_from(const boost::json::value& answer);

// What an action on `event` needs: the outcome, and the event.acknowledge bits to send (0:
// send nothing). Acknowledging an acknowledged event sends only its message (Zabbix would drop
// the ack bit anyway and record the message), so "ack" twice acknowledges once; comments go
// on resolved problems too, the other actions do not.
struct EventPlan {
  EventOutcome outcome = EventOutcome::done;
  int bits = 0;
};
EventPlan plan_event_action(const Event& event, EventAction action, bool has_message);

// The most recent acknowledgement still in force (no unacknowledge after it).
std::optional<EventUpdate> last_acknowledgement(const Event& event);

// A close asked for and not yet done (Zabbix closes in the background, seconds later).
bool close_pending(const Event& event);

// A retry's check: `message` is already in the history, written at `since` or later.
bool has_message_since(const Event& event, std::string_view message, std::int64_t since);

boost::json::object acknowledge_params(std::string_view eventid, int bits, std::string_view message);

// Zabbix refusals a user can be told about: permissions ("No permissions to referred object or
// it does not exist!", "No permissions to call ...", "You do not have permission to perform
// this operation.").
bool is_permission_error(const Error& e);

// Zabbix's reason, as one line of at most 200 bytes (a debug-mode trace is cut off).
std::string one_line(std::string_view zabbix_text);

// Maintenance names must be unique and at most 128 characters:
// "Zpark: <reason> (jane@example.com)", with " YYYY-MM-DD HH:MM UTC" of `now` when
// `with_time`; without a reason "Zpark: host db01 (...)" / "Zpark: group X (...)". The reason
// is shortened (…) to fit.
std::string maintenance_name(const MaintenanceRequest& r, std::string_view target, bool with_time);
std::string maintenance_description(const MaintenanceRequest& r, std::string_view target);

// maintenance.create parameters: data collection, active from `now` rounded down to the minute
// for `duration`, one one-time period; hosts / groups as [{hostid}] / [{groupid}] (6.0 and 7.0).
boost::json::object maintenance_params(const MaintenanceRequest& r, std::string_view name,
                                       std::string_view description, std::string_view targetid);

// maintenance.get parameters; `host_groups` for 6.2+ (selectHostGroups, else selectGroups).
boost::json::object maintenance_query(bool host_groups);
Maintenance maintenance_from(const boost::json::object& m);
// The maintenances of a maintenance.get answer that have not ended by `now`, in list order.
std::vector<Maintenance> current_maintenances(const boost::json::value& answer, std::int64_t now);

}  // namespace zpark::zabbix
