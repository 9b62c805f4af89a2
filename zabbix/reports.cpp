#include "zabbix/reports.hpp"

#include "zabbix/answer_fields.hpp"

#include "conf/log.hpp"
#include "zabbix/trapper.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <utility>

namespace zpark::zabbix {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

Error make_error(Error::Kind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

// A countOutput answer ("42").
std::uint64_t count_of(const json::value& v) {
  const auto n = to_int(&v, 0);
  return n > 0 ? static_cast<std::uint64_t>(n) : 0;
}

json::array string_array(const std::vector<std::string>& ids) {
  json::array a;
  for (const auto& id : ids) a.emplace_back(id);
  return a;
}

}  // namespace

// ---- pure parts ----------------------------------------------------------------------------

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

json::object problem_query(int min_severity, const std::vector<std::string>& hostids,
                           const std::vector<std::string>& groupids, bool unacknowledged_only,
                           std::size_t limit, bool count) {
  json::object q;
  // The original's query: only_true with value 1 is "in problem now"; monitored drops
  // triggers whose host or item is disabled, active those of disabled hosts; deleted triggers
  // are simply gone (problem.get keeps showing their problems for about a minute).
  q["only_true"] = true;
  q["skipDependent"] = true;
  q["monitored"] = true;
  q["active"] = true;
  q["filter"] = json::object{{"value", 1}};
  if (unacknowledged_only) q["withLastEventUnacknowledged"] = true;
  if (min_severity > 0) q["min_severity"] = min_severity;
  if (!hostids.empty()) q["hostids"] = string_array(hostids);
  if (!groupids.empty()) q["groupids"] = string_array(groupids);
  if (count) {
    q["countOutput"] = true;
    return q;
  }
  q["output"] = json::array{"triggerid", "description", "priority", "lastchange", "value"};
  q["expandDescription"] = true;
  q["selectHosts"] = json::array{"hostid", "host", "name"};
  q["selectLastEvent"] = json::array{"eventid", "clock", "acknowledged", "severity"};
  q["sortfield"] = json::array{"lastchange", "priority"};
  q["sortorder"] = "DESC";
  if (limit > 0) q["limit"] = limit;
  return q;
}

std::vector<Problem> problems_from_triggers(const json::value& triggers) {
  std::vector<Problem> out;
  const auto* list = triggers.if_array();
  if (!list) return out;
  for (const auto& t : *list) {
    const auto* o = t.if_object();
    if (!o) continue;
    Problem p;
    p.triggerid = str_member(*o, "triggerid");
    p.name = str_member(*o, "description");
    p.severity = static_cast<int>(int_member(*o, "priority"));
    p.since = int_member(*o, "lastchange");
    if (const auto* hosts = array_member(*o, "hosts"); hosts && !hosts->empty()) {
      if (const auto* h = hosts->front().if_object()) {
        p.host = str_member(*h, "host");
        p.host_name = str_member(*h, "name");
        if (p.host_name.empty()) p.host_name = p.host;
      }
    }
    // lastEvent is an object, or [] for a trigger without events.
    if (const auto* ev = object_member(*o, "lastEvent")) {
      p.eventid = str_member(*ev, "eventid");
      p.since = int_member(*ev, "clock", p.since);
      p.severity = static_cast<int>(int_member(*ev, "severity", p.severity));
      p.acknowledged = int_member(*ev, "acknowledged") == 1;
    }
    out.push_back(std::move(p));
  }
  return out;
}

Result<StatusReport> status_from_server(const json::value& data) {
  const auto* d = data.if_object();
  if (!d) return bad_answer("status.get", data);
  StatusReport r;
  r.from_server = true;

  // Each figure is a list of {"attributes":{...},"count":N}; the frontend refuses an answer
  // without any of these five, and so do we.
  const json::array* lists[5];
  const char* names[5] = {"template stats", "host stats", "item stats", "trigger stats", "user stats"};
  for (int i = 0; i < 5; ++i) {
    lists[i] = array_member(*d, names[i]);
    if (!lists[i]) {
      return make_error(Error::Kind::parse,
                        fmt::format("the Zabbix server's status.get answer has no \"{}\"", names[i]));
    }
  }
  struct Entry {
    const json::object* attributes;
    std::uint64_t count;
  };
  const auto each = [](const json::array& list, auto&& fn) {
    static const json::object none;
    for (const auto& v : list) {
      const auto* o = v.if_object();
      if (!o) continue;
      const auto* a = object_member(*o, "attributes");
      const auto n = int_member(*o, "count");
      fn(Entry{a ? a : &none, n > 0 ? static_cast<std::uint64_t>(n) : 0});
    }
  };
  // Hosts, items and required performance come as the server's totals (proxyid 0) and as
  // per-proxy shares of them; like the frontend, sum the totals only.
  const auto total = [](const Entry& e) { return int_member(*e.attributes, "proxyid") == 0; };

  each(*lists[0], [&](const Entry& e) { r.templates += e.count; });
  each(*lists[1], [&](const Entry& e) {
    if (!total(e)) return;
    switch (int_member(*e.attributes, "status", -1)) {
      case 0: r.hosts_enabled += e.count; break;
      case 1: r.hosts_disabled += e.count; break;
    }
  });
  each(*lists[2], [&](const Entry& e) {
    if (!total(e)) return;
    const auto status = int_member(*e.attributes, "status", -1);
    const auto state = int_member(*e.attributes, "state", -1);
    if (status == 0 && state == 0) r.items_enabled += e.count;
    if (status == 0 && state == 1) r.items_not_supported += e.count;
    if (status == 1) r.items_disabled += e.count;
  });
  each(*lists[3], [&](const Entry& e) {
    const auto status = int_member(*e.attributes, "status", -1);
    const auto value = int_member(*e.attributes, "value", -1);
    if (status == 0 && value == 1) r.triggers_problem += e.count;
    if (status == 0 && value == 0) r.triggers_ok += e.count;
    if (status == 1) r.triggers_disabled += e.count;
  });
  r.triggers_enabled = r.triggers_problem + r.triggers_ok;
  std::uint64_t online = 0, offline = 0;
  each(*lists[4], [&](const Entry& e) {
    switch (int_member(*e.attributes, "status", -1)) {
      case 0: online += e.count; break;   // ZBX_SESSION_ACTIVE
      case 1: offline += e.count; break;  // ZBX_SESSION_PASSIVE
    }
  });
  r.users = online + offline;
  r.users_online = online;
  // Only for a Super admin; the count is a decimal string ("0.133333").
  if (const auto* perf = array_member(*d, "required performance")) {
    double nvps = 0;
    for (const auto& v : *perf) {
      const auto* o = v.if_object();
      const auto* a = o ? object_member(*o, "attributes") : nullptr;
      if (!a || int_member(*a, "proxyid") != 0) continue;
      const auto* c = o->if_contains("count");
      if (c && c->is_string()) {
        try {
          nvps += std::stod(std::string(c->get_string()));
        } catch (const std::exception&) {
          return make_error(Error::Kind::parse,
                            fmt::format("the Zabbix server's required performance '{}' is not a number",
                                        std::string(c->get_string())));
        }
      } else if (c && c->is_number()) {
        nvps += c->to_number<double>();
      }
    }
    r.required_performance = nvps;
  }
  return r;
}

HostDetails host_details_from(const json::object& h) {
  HostDetails d;
  d.hostid = str_member(h, "hostid");
  d.host = str_member(h, "host");
  d.name = str_member(h, "name");
  if (d.name.empty()) d.name = d.host;
  d.monitored = int_member(h, "status") == 0;
  d.in_maintenance = int_member(h, "maintenance_status") == 1;
  const json::array* groups = array_member(h, "hostgroups");  // 6.2+
  if (!groups) groups = array_member(h, "groups");
  if (groups) {
    for (const auto& g : *groups)
      if (const auto* o = g.if_object()) d.groups.push_back(str_member(*o, "name"));
    std::sort(d.groups.begin(), d.groups.end());
  }
  if (const auto* ifaces = array_member(h, "interfaces")) {
    for (const auto& i : *ifaces) {
      const auto* o = i.if_object();
      if (!o) continue;
      HostInterface hi;
      const auto type = int_member(*o, "type");
      static constexpr const char* types[] = {"unknown", "agent", "SNMP", "IPMI", "JMX"};
      hi.type = type >= 1 && type <= 4 ? types[type] : "unknown";
      hi.address = int_member(*o, "useip", 1) == 1 ? str_member(*o, "ip") : str_member(*o, "dns");
      hi.port = str_member(*o, "port");
      hi.main = int_member(*o, "main") == 1;
      // 5.4+: per interface; before: per host and interface type.
      std::int64_t available = 0;
      if (o->contains("available")) {
        available = int_member(*o, "available");
      } else {
        static constexpr const char* host_fields[] = {"", "available", "snmp_available",
                                                      "ipmi_available", "jmx_available"};
        if (type >= 1 && type <= 4) available = int_member(h, host_fields[type]);
      }
      hi.available = available == 1 ? "available" : available == 2 ? "unavailable" : "unknown";
      d.interfaces.push_back(std::move(hi));
    }
    // Main interfaces first, then by type as the frontend lists them.
    std::stable_sort(d.interfaces.begin(), d.interfaces.end(),
                     [](const HostInterface& a, const HostInterface& b) { return a.main > b.main; });
  }
  return d;
}

// ---- queries -------------------------------------------------------------------------------

namespace {

struct NamedId {
  std::string id;
  std::string host;  // technical name (hosts only)
  std::string name;  // visible name
};

// host.get / hostgroup.get with a case-insensitive search on `fields`. With `exact`, the name
// is searched as a LIKE pattern without wildcards (UPPER(field) LIKE UPPER(name): equality,
// case-insensitive; '%' and '_' are escaped by Zabbix) unless it contains '*', which stays a
// wildcard; without, a substring search (or the user's '*' pattern).
awaitable<Result<std::vector<NamedId>>> search_names(Client& client, std::string method,
                                                     std::string name, bool exact,
                                                     std::size_t limit) {
  const bool hosts = method == "host.get";
  const bool wildcards = name.find('*') != std::string::npos;
  json::object search;
  search["name"] = name;
  if (hosts) search["host"] = name;
  json::object q;
  q["output"] = hosts ? json::array{"hostid", "host", "name"} : json::array{"groupid", "name"};
  q["search"] = std::move(search);
  q["searchByAny"] = true;
  if (exact || wildcards) q["searchWildcardsEnabled"] = true;
  q["sortfield"] = "name";
  if (limit > 0) q["limit"] = limit;
  json::value params = std::move(q);
  auto answer = co_await client.call(method, std::move(params));
  if (!answer) co_return answer.error();
  const auto* list = answer->if_array();
  if (!list) co_return bad_answer(method, *answer);
  std::vector<NamedId> out;
  for (const auto& v : *list) {
    const auto* o = v.if_object();
    if (!o) continue;
    NamedId n;
    n.id = str_member(*o, hosts ? "hostid" : "groupid");
    n.host = str_member(*o, "host");
    n.name = str_member(*o, "name");
    out.push_back(std::move(n));
  }
  co_return out;
}

// Hosts whose technical or visible name is `name` (case-insensitive), or groups named so.
awaitable<Result<std::vector<NamedId>>> exact_names(Client& client, std::string method,
                                                    std::string name) {
  if (name.find('*') != std::string::npos) co_return std::vector<NamedId>{};
  auto found = co_await search_names(client, method, name, true, 0);
  if (!found) co_return found.error();
  // The database compared UPPER(field) LIKE UPPER(name); compare again ourselves, except for
  // names with non-ASCII letters, whose case only the database folds.
  const bool ascii = std::all_of(name.begin(), name.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  std::vector<NamedId> out;
  for (auto& n : *found) {
    if (!ascii || same_name(n.host, name) || same_name(n.name, name)) out.push_back(n);
  }
  co_return out;
}

std::vector<std::string> ids_of(const std::vector<NamedId>& list) {
  std::vector<std::string> ids;
  for (const auto& n : list) ids.push_back(n.id);
  return ids;
}

awaitable<Result<std::uint64_t>> count(Client& client, std::string method, json::object params) {
  params["countOutput"] = true;
  json::value p = std::move(params);
  auto answer = co_await client.call(method, std::move(p));
  if (!answer) co_return answer.error();
  if (!answer->is_string() && !answer->is_number()) co_return bad_answer(method, *answer);
  co_return count_of(*answer);
}

// The API queries whose counts equal the widget's (checked against status.get on 6.0.14;
// see reports_test). The server counts from its configuration cache: host items (templates'
// are not in it) including web scenario items, items of disabled hosts as disabled, and a
// trigger as disabled when it, one of its items or one of their hosts is disabled.
awaitable<Result<void>> api_figures(Client& client, StatusReport& r) {
  const auto get = [&](std::string method, json::object params) {
    return count(client, std::move(method), std::move(params));
  };
  json::object q;

  q = {{"filter", {{"status", 0}}}};
  auto n = co_await get("host.get", std::move(q));
  if (!n) co_return n.error();
  r.hosts_enabled = *n;
  q = {{"filter", {{"status", 1}}}};
  n = co_await get("host.get", std::move(q));
  if (!n) co_return n.error();
  r.hosts_disabled = *n;
  q = json::object();
  n = co_await get("template.get", std::move(q));
  if (!n) co_return n.error();
  r.templates = *n;

  // Items of hosts (templated: false), web scenario items included (webitems); prototypes
  // and discovery rules are left out by item.get as by the server.
  q = {{"templated", false}, {"webitems", true}, {"monitored", true}, {"filter", {{"state", 0}}}};
  n = co_await get("item.get", std::move(q));
  if (!n) co_return n.error();
  r.items_enabled = *n;
  q = {{"templated", false}, {"webitems", true}, {"monitored", true}, {"filter", {{"state", 1}}}};
  n = co_await get("item.get", std::move(q));
  if (!n) co_return n.error();
  r.items_not_supported = *n;
  // monitored: false is "item disabled or host not monitored".
  q = {{"templated", false}, {"webitems", true}, {"monitored", false}};
  n = co_await get("item.get", std::move(q));
  if (!n) co_return n.error();
  r.items_disabled = *n;

  q = {{"templated", false}, {"monitored", true}, {"filter", {{"value", 1}}}};
  n = co_await get("trigger.get", std::move(q));
  if (!n) co_return n.error();
  r.triggers_problem = *n;
  q = {{"templated", false}, {"monitored", true}, {"filter", {{"value", 0}}}};
  n = co_await get("trigger.get", std::move(q));
  if (!n) co_return n.error();
  r.triggers_ok = *n;
  r.triggers_enabled = r.triggers_problem + r.triggers_ok;
  // trigger.get has no "not monitored": all host triggers minus the monitored ones.
  q = {{"templated", false}};
  n = co_await get("trigger.get", std::move(q));
  if (!n) co_return n.error();
  r.triggers_disabled = *n > r.triggers_enabled ? *n - r.triggers_enabled : 0;

  q = json::object();
  n = co_await get("user.get", std::move(q));
  if (!n) co_return n.error();
  r.users = *n;
  co_return Result<void>();
}

// Web scenarios of hosts: enabled on monitored hosts, the rest (scenario or host disabled).
awaitable<Result<void>> web_figures(Client& client, StatusReport& r) {
  json::object q = {{"templated", false}, {"monitored", true}};
  auto n = co_await count(client, "httptest.get", std::move(q));
  if (!n) co_return n.error();
  r.web_enabled = *n;
  q = {{"templated", false}, {"monitored", false}};
  n = co_await count(client, "httptest.get", std::move(q));
  if (!n) co_return n.error();
  r.web_disabled = *n;
  co_return Result<void>();
}

// status.get over the trapper with the client's session (or token) as sid. A password
// session the server no longer knows ("Permission denied.") is renewed once.
awaitable<Result<StatusReport>> server_figures(Client& client, StatusSource source) {
  if (client.auth().empty()) {
    auto in = co_await client.login();
    if (!in) co_return in.error();
  }
  for (int attempt = 0;; ++attempt) {
    json::value req = trapper::status_request(client.auth());
    auto data = co_await trapper::request(source.server_address, std::move(req), source.timeout);
    if (!data) {
      const Error e = data.error();
      // The session ended (expired, or logged out elsewhere): the server answers
      // "Permission denied."; log in again once.
      const bool denied = e.zabbix_text.find("Permission denied") != std::string::npos;
      if (denied && attempt == 0 && !client.uses_token()) {
        auto in = co_await client.login();
        if (!in) co_return in.error();
        continue;
      }
      co_return e;
    }
    co_return status_from_server(*data);
  }
}

}  // namespace

awaitable<Result<ProblemReport>> problems(Client& client, ProblemFilter filter) {
  std::vector<std::string> hostids, groupids;
  if (!filter.host.empty()) {
    auto found = co_await exact_names(client, "host.get", filter.host);
    if (!found) co_return found.error();
    if (found->empty()) co_return ProblemReport{};
    hostids = ids_of(*found);
  }
  if (!filter.group.empty()) {
    auto found = co_await exact_names(client, "hostgroup.get", filter.group);
    if (!found) co_return found.error();
    if (found->empty()) co_return ProblemReport{};
    groupids = ids_of(*found);
  }
  ProblemReport report;
  if (filter.limit > 0) {
    json::value q = problem_query(filter.min_severity, hostids, groupids, true, filter.limit, false);
    auto list = co_await client.call("trigger.get", std::move(q));
    if (!list) co_return list.error();
    if (!list->is_array()) co_return bad_answer("trigger.get", *list);
    report.problems = problems_from_triggers(*list);
  }
  json::value q = problem_query(filter.min_severity, hostids, groupids, true, 0, true);
  auto total = co_await client.call("trigger.get", std::move(q));
  if (!total) co_return total.error();
  // Counted a moment later than the list: never report fewer than shown.
  report.total = std::max<std::size_t>(count_of(*total), report.problems.size());
  co_return report;
}

awaitable<Result<StatusReport>> status(Client& client, StatusSource source) {
  auto version = co_await client.version();
  if (!version) co_return version.error();
  StatusReport report;
  if (!source.server_address.empty()) {
    auto server = co_await server_figures(client, source);
    if (server) {
      report = std::move(*server);
    } else if (server.error().kind == Error::Kind::auth) {
      co_return server.error();  // the API refuses us too: nothing to fall back on
    } else {
      // The API's figures are the same but for users online and required performance, so a
      // firewalled trapper port still gets an answer; the log says why it was not used.
      log::warn("zabbix status.get failed; using API counts",
                {{"address", source.server_address}, {"error", server.error().message}});
    }
  }
  if (!report.from_server) {
    auto api = co_await api_figures(client, report);
    if (!api) co_return api.error();
  }
  report.version = *version;
  auto web = co_await web_figures(client, report);
  if (!web) co_return web.error();
  co_return report;
}

awaitable<Result<HostLookup>> host(Client& client, std::string name) {
  HostLookup out;
  while (!name.empty() && name.front() == ' ') name.erase(name.begin());
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (name.empty()) co_return out;
  auto version = co_await client.version();
  if (!version) co_return version.error();
  const auto v = parse_version(*version).value_or(Version{6, 0, *version});
  const auto at_least = [&](int major, int minor) {
    return v.major > major || (v.major == major && v.minor >= minor);
  };

  std::string hostid;
  auto exact = co_await exact_names(client, "host.get", name);
  if (!exact) co_return exact.error();
  // A technical name match wins over visible names that happen to equal it.
  std::vector<NamedId> matches;
  for (const auto& n : *exact)
    if (same_name(n.host, name)) matches.push_back(n);
  if (matches.empty()) matches = *exact;
  if (matches.size() != 1) {
    constexpr std::size_t shown = 10;
    if (matches.empty()) {
      auto found = co_await search_names(client, "host.get", name, false, shown + 1);
      if (!found) co_return found.error();
      matches = std::move(*found);
    }
    if (matches.size() != 1) {
      for (const auto& n : matches) {
        if (out.candidates.size() == shown) break;
        out.candidates.push_back(n.name == n.host || n.name.empty() ? n.host
                                                                    : n.name + " (" + n.host + ")");
      }
      // The database's order depends on its collation; ours does not.
      std::sort(out.candidates.begin(), out.candidates.end(), [](const std::string& x, const std::string& y) {
        return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end(), [](char p, char q) {
          const auto lower = [](char ch) { return ch >= 'A' && ch <= 'Z' ? char(ch - 'A' + 'a') : ch; };
          return lower(p) < lower(q);
        });
      });
      co_return out;
    }
  }
  hostid = matches.front().id;

  json::object q;
  q["hostids"] = json::array{hostid};
  json::array output = {"hostid", "host", "name", "status", "maintenance_status"};
  if (!at_least(5, 4)) {
    for (const char* f : {"available", "snmp_available", "ipmi_available", "jmx_available"})
      output.emplace_back(f);
  }
  q["output"] = std::move(output);
  q[at_least(6, 2) ? "selectHostGroups" : "selectGroups"] = json::array{"groupid", "name"};
  q["selectInterfaces"] = json::array{"type", "ip", "dns", "useip", "port", "main", "available"};
  if (!at_least(5, 4)) q["selectInterfaces"] = json::array{"type", "ip", "dns", "useip", "port", "main"};
  json::value params = std::move(q);
  auto details = co_await client.call("host.get", std::move(params));
  if (!details) co_return details.error();
  const auto* list = details->if_array();
  if (!list) co_return bad_answer("host.get", *details);
  if (list->empty() || !list->front().is_object()) co_return out;  // deleted in between
  HostDetails d = host_details_from(list->front().get_object());

  if (d.monitored) {
    std::vector<std::string> ids{hostid};
    json::value pq = problem_query(0, ids, {}, false, 0, false);
    auto problems = co_await client.call("trigger.get", std::move(pq));
    if (!problems) co_return problems.error();
    d.problems = problems_from_triggers(*problems);
  }
  out.host = std::move(d);
  co_return out;
}

}  // namespace zpark::zabbix
