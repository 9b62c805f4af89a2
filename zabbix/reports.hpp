#pragma once
// The Zabbix queries behind the bot commands. Each returns plain report data
// (zabbix/report_data.hpp) or the client's Error; nothing here knows Webex.
#include "zabbix/client.hpp"
#include "zabbix/report_data.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

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

}  // namespace zpark::zabbix
