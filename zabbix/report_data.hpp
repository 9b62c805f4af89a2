#pragma once
// Plain report data the bot commands get from Zabbix: no I/O, no Webex, no markdown.
// zabbix/reports.hpp fills these; spark/replies.hpp turns them into chat replies.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zpark::zabbix {

// Zabbix severities 0..5, as the frontend names them.
inline const char* severity_name(int severity) {
  static constexpr const char* names[] = {"Not classified", "Information", "Warning",
                                          "Average",        "High",        "Disaster"};
  return severity >= 0 && severity <= 5 ? names[severity] : "Unknown";
}

// `show issues` filters. Defaults give the original's report.
struct ProblemFilter {
  int min_severity = 0;   // severity>=LEVEL
  std::string host;       // technical or visible host name, exact (case-insensitive)
  std::string group;      // host group name, exact (case-insensitive)
  std::size_t limit = 10; // at most this many problems shown
};

struct Problem {
  std::string eventid;       // the problem event (for ack commands)
  std::string triggerid;
  std::string host;          // technical host name (`host`), as the original printed
  std::string host_name;     // visible name (`name`), may equal host
  std::string name;          // expanded trigger description / problem name
  int severity = 0;
  std::int64_t since = 0;    // unix seconds: when the problem started
  bool acknowledged = false;
};

struct ProblemReport {
  std::vector<Problem> problems;  // newest first, at most filter.limit
  std::size_t total = 0;          // all problems matching the filter (>= problems.size())
};

// The figures of the dashboard's "System information" widget (plus web scenarios).
struct StatusReport {
  bool from_server = false;  // true: the server's own status.get; false: API queries
  std::string version;       // Zabbix version, "6.0.14"
  std::uint64_t hosts_enabled = 0, hosts_disabled = 0, templates = 0;
  std::uint64_t items_enabled = 0, items_disabled = 0, items_not_supported = 0;
  std::uint64_t triggers_enabled = 0, triggers_disabled = 0, triggers_problem = 0, triggers_ok = 0;
  std::uint64_t users = 0;
  std::optional<std::uint64_t> users_online;           // server only
  std::optional<double> required_performance;          // NVPS; server and Super admin only
  std::uint64_t web_enabled = 0, web_disabled = 0;      // web scenarios (httptest.get)
};

struct HostInterface {
  std::string type;        // "agent", "SNMP", "IPMI", "JMX"
  std::string address;     // ip or dns, whichever the interface uses
  std::string port;
  std::string available;   // "available", "unavailable", "unknown"
  bool main = false;
};

struct HostDetails {
  std::string hostid;
  std::string host;        // technical name
  std::string name;        // visible name
  bool monitored = true;   // status 0
  bool in_maintenance = false;
  std::vector<std::string> groups;
  std::vector<HostInterface> interfaces;
  std::vector<Problem> problems;  // current problems, newest first
};

// `show host NAME`: one host, none, or several candidates.
struct HostLookup {
  std::optional<HostDetails> host;    // exactly one match
  std::vector<std::string> candidates;  // several matched: their names (at most 10)
};

}  // namespace zpark::zabbix
