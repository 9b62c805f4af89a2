#pragma once
// The Zabbix queries behind the bot commands. Each returns plain report data
// (zabbix/report_data.hpp) or the client's Error; nothing here knows Webex.
#include "zabbix/client.hpp"
#include "zabbix/report_data.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace zpark::zabbix {

// `show issues`: unacknowledged problems of monitored, enabled triggers (dependent ones
// skipped) on monitored hosts, newest first, like the original's trigger.get; `total` counts
// all that match. Filters narrow by severity, host and group.
boost::asio::awaitable<Result<ProblemReport>> problems(Client& client, ProblemFilter filter);

// Where `show status` asks: the server's trapper port (status.get, the dashboard's own
// source) when `server_address` is set ("host:port", port 10051 by default), else the API.
struct StatusSource {
  std::string server_address;                  // ZABBIX_SERVER_ADDRESS; empty = API only
  std::chrono::milliseconds timeout{10000};
};
boost::asio::awaitable<Result<StatusReport>> status(Client& client, StatusSource source);

// `show host NAME`: exact technical or visible name first (case-insensitive), then a search.
boost::asio::awaitable<Result<HostLookup>> host(Client& client, std::string name);

// ---- pure parts (tested without I/O) -------------------------------------------------------

// The trigger.get parameters behind problems(): monitored, enabled triggers in problem
// (dependent ones skipped), hosts and last event selected, newest first. `hostids` and
// `groupids` narrow it when not empty; `unacknowledged_only` adds withLastEventUnacknowledged;
// `count` asks for countOutput instead of the list (no selects, sort or limit); `limit` 0 is
// no limit.
boost::json::object problem_query(int min_severity, const std::vector<std::string>& hostids,
                                  const std::vector<std::string>& groupids,
                                  bool unacknowledged_only, std::size_t limit, bool count);

// One Problem per object of a trigger.get answer of problem_query(); the host is the trigger's
// first, the event its lastEvent (since = its clock, else the trigger's lastchange; severity
// the event's, which an operator may have changed, else the trigger's priority).
std::vector<Problem> problems_from_triggers(const boost::json::value& triggers);

// The dashboard's figures from a status.get "data" object, summed as the 6.0 frontend's
// System information widget does (CSystemInfoHelper::getServerStatus): hosts, items and
// required performance from the proxyid 0 entries (the server's totals; other entries are
// per-proxy shares of them); items enabled = status 0 state 0, not supported = status 0
// state 1, disabled = status 1; triggers problem/ok = status 0 value 1/0, disabled =
// status 1; users online = sessions status 0, total = online + status 1. from_server is set;
// version and web figures are left to the caller.
Result<StatusReport> status_from_server(const boost::json::value& data);

// A host.get object (selectInterfaces, selectGroups or selectHostGroups) -> HostDetails
// without problems. Interfaces lacking "available" (before 5.4) take the host's
// available / snmp_available / ipmi_available / jmx_available for their type.
HostDetails host_details_from(const boost::json::object& host);

// Names compared as Zabbix users expect: ASCII letters case-insensitively, other bytes exactly.
bool same_name(std::string_view a, std::string_view b);

}  // namespace zpark::zabbix
