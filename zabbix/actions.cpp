#include "zabbix/actions.hpp"

#include "zabbix/answer_fields.hpp"

#include "zabbix/reports.hpp"

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <utility>

namespace zpark::zabbix {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

// The marks of Zpark's own messages: what author_in() reads back.
constexpr std::string_view kVia = " via Webex";
constexpr std::string_view kDash = " \xE2\x80\x94 ";  // " — "
constexpr std::string_view kZparkPrefix = "Zpark: ";
constexpr std::size_t kMaxMaintenanceName = 128;  // Zabbix: "value is too long" beyond

// The first `max` code points of `s` (UTF-8), with "…" when cut.
std::string clip_chars(std::string_view s, std::size_t max) {
  std::size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (chars == max) break;
    ++chars;
  }
  if (i >= s.size()) return std::string(s);
  // Cut one more character for the ellipsis.
  std::size_t end = i;
  do --end;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80);
  return std::string(s.substr(0, end)) + "\xE2\x80\xA6";
}

std::size_t count_chars(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string utc_minute(std::int64_t t) {
  return fmt::format("{:%Y-%m-%d %H:%M} UTC", fmt::gmtime(static_cast<std::time_t>(t)));
}

const char* past_tense(EventAction a) {
  switch (a) {
    case EventAction::acknowledge: return "Acknowledged";
    case EventAction::unacknowledge: return "Unacknowledged";
    case EventAction::close: return "Closed";
    case EventAction::comment: return "Commented";
  }
  return "Updated";
}

}  // namespace

// ---- pure parts ----------------------------------------------------------------------------

const char* to_string(EventOutcome o) {
  switch (o) {
    case EventOutcome::done: return "done";
    case EventOutcome::already_done: return "already_done";
    case EventOutcome::not_found: return "not_found";
    case EventOutcome::not_a_problem: return "not_a_problem";
    case EventOutcome::resolved: return "resolved";
    case EventOutcome::no_manual_close: return "no_manual_close";
    case EventOutcome::no_permission: return "no_permission";
    case EventOutcome::refused: return "refused";
  }
  return "unknown";
}

const char* to_string(MaintenanceOutcome o) {
  switch (o) {
    case MaintenanceOutcome::done: return "done";
    case MaintenanceOutcome::no_target: return "no_target";
    case MaintenanceOutcome::several_targets: return "several_targets";
    case MaintenanceOutcome::not_found: return "not_found";
    case MaintenanceOutcome::not_ours: return "not_ours";
    case MaintenanceOutcome::already_over: return "already_over";
    case MaintenanceOutcome::no_permission: return "no_permission";
    case MaintenanceOutcome::refused: return "refused";
  }
  return "unknown";
}

std::string author_text(const Author& a) {
  if (a.display_name.empty()) return a.email;
  if (a.email.empty()) return a.display_name;
  return a.display_name + " <" + a.email + ">";
}

std::string attributed_message(EventAction action, std::string_view message, const Author& author) {
  const std::string who = author_text(author);
  if (message.empty()) return fmt::format("{} by {}{}", past_tense(action), who, kVia);
  return fmt::format("{}{}{}{}", message, kDash, who, kVia);
}

std::string author_in(std::string_view m) {
  if (!m.ends_with(kVia)) return {};
  m.remove_suffix(kVia.size());
  if (auto dash = m.rfind(kDash); dash != std::string_view::npos) return std::string(m.substr(dash + kDash.size()));
  for (EventAction a : {EventAction::acknowledge, EventAction::unacknowledge, EventAction::close, EventAction::comment}) {
    const std::string prefix = std::string(past_tense(a)) + " by ";
    if (m.starts_with(prefix)) return std::string(m.substr(prefix.size()));
  }
  return {};
}

json::object event_query(std::string_view eventid) {
  json::object q;
  q["eventids"] = json::array{eventid};
  q["output"] = json::array{"eventid", "source", "object", "objectid", "value", "acknowledged",
                            "r_eventid", "name", "severity", "clock"};
  q["select_acknowledges"] =
      json::array{"acknowledgeid", "clock", "action", "message", "username", "name", "surname"};
  q["selectHosts"] = json::array{"host", "name"};
  // For trigger events the related object is the trigger.
  q["selectRelatedObject"] = json::array{"triggerid", "manual_close"};
  return q;
}

std::optional<Event> event_from(const json::value& answer) {
  const auto* list = answer.if_array();
  if (!list || list->empty() || !list->front().is_object()) return std::nullopt;
  const auto& o = list->front().get_object();
  Event e;
  e.eventid = str_member(o, "eventid");
  e.problem = int_member(o, "source", -1) == 0 && int_member(o, "object", -1) == 0 && int_member(o, "value") == 1;
  e.resolved = int_member(o, "r_eventid") != 0;
  e.acknowledged = int_member(o, "acknowledged") == 1;
  e.name = str_member(o, "name");
  e.severity = static_cast<int>(int_member(o, "severity"));
  e.clock = int_member(o, "clock");
  if (const auto* hosts = array_member(o, "hosts"); hosts && !hosts->empty()) {
    if (const auto* h = hosts->front().if_object()) {
      e.host = str_member(*h, "name");
      if (e.host.empty()) e.host = str_member(*h, "host");
    }
  }
  if (const auto* rel = o.if_contains("relatedObject"); rel && rel->is_object())
    e.manual_close = int_member(rel->get_object(), "manual_close") == 1;
  if (const auto* acks = array_member(o, "acknowledges")) {
    // Newest first whatever order the server used: 6.0 lists updates of one second in either
    // order, so by clock and then by id (ids grow).
    std::vector<std::pair<std::pair<std::int64_t, std::int64_t>, EventUpdate>> sorted;
    for (const auto& a : *acks) {
      const auto* ao = a.if_object();
      if (!ao) continue;
      EventUpdate u;
      u.clock = int_member(*ao, "clock");
      u.action = static_cast<int>(int_member(*ao, "action"));
      u.message = str_member(*ao, "message");
      const std::string name = str_member(*ao, "name"), surname = str_member(*ao, "surname");
      u.user = name.empty() || surname.empty() ? name + surname : name + " " + surname;
      if (u.user.empty()) u.user = str_member(*ao, "username");
      sorted.push_back({{u.clock, int_member(*ao, "acknowledgeid")}, std::move(u)});
    }
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    for (auto& [key, u] : sorted) e.updates.push_back(std::move(u));
  }
  return e;
}

std::optional<EventUpdate> last_acknowledgement(const Event& e) {
  for (const auto& u : e.updates) {
    if (u.action & kActUnacknowledge) return std::nullopt;
    if (u.action & kActAcknowledge) return u;
  }
  return std::nullopt;
}

bool close_pending(const Event& e) {
  if (e.resolved) return false;
  return std::any_of(e.updates.begin(), e.updates.end(), [](const EventUpdate& u) { return u.action & kActClose; });
}

bool has_message_since(const Event& e, std::string_view message, std::int64_t since) {
  return std::any_of(e.updates.begin(), e.updates.end(), [&](const EventUpdate& u) {
    return u.clock >= since && (u.action & kActMessage) && u.message == message;
  });
}

EventPlan plan_event_action(const Event& e, EventAction action, bool has_message) {
  if (!e.problem) return {EventOutcome::not_a_problem, 0};
  // Every update carries a message naming the Webex user (attributed_message), even without
  // the user's own words: Zabbix would show the API account alone.
  constexpr int msg = kActMessage;
  const int comment_only = has_message ? msg : 0;
  switch (action) {
    case EventAction::comment: return {EventOutcome::done, msg};
    case EventAction::acknowledge:
      if (e.resolved) return {EventOutcome::resolved, 0};
      if (e.acknowledged) return {EventOutcome::already_done, comment_only};
      return {EventOutcome::done, kActAcknowledge | msg};
    case EventAction::unacknowledge:
      if (e.resolved) return {EventOutcome::resolved, 0};
      if (!e.acknowledged) return {EventOutcome::already_done, comment_only};
      return {EventOutcome::done, kActUnacknowledge | msg};
    case EventAction::close:
      if (e.resolved) return {EventOutcome::resolved, 0};
      if (!e.manual_close) return {EventOutcome::no_manual_close, 0};
      if (close_pending(e)) return {EventOutcome::already_done, comment_only};
      return {EventOutcome::done, kActClose | msg};
  }
  return {EventOutcome::refused, 0};
}

json::object acknowledge_params(std::string_view eventid, int bits, std::string_view message) {
  json::object p;
  p["eventids"] = json::array{eventid};
  p["action"] = bits;
  if (bits & kActMessage) p["message"] = message;
  return p;
}

bool is_permission_error(const Error& e) {
  if (e.kind != Error::Kind::rpc) return false;
  const std::string_view t = e.zabbix_text;
  return t.find("No permissions") != std::string_view::npos ||
         t.find("do not have permission") != std::string_view::npos ||
         t.find("Permission denied") != std::string_view::npos;
}

std::string one_line(std::string_view text) {
  text = text.substr(0, text.find_first_of("\r\n"));
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.size() <= 200) return std::string(text);
  std::size_t end = 200;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "\xE2\x80\xA6";
}

std::string maintenance_name(const MaintenanceRequest& r, std::string_view target, bool with_time) {
  const std::string what =
      r.reason.empty() ? std::string(r.group ? "group " : "host ") + std::string(target) : r.reason;
  const std::string tail =
      " (" + r.author.email + ")" + (with_time ? " " + utc_minute(r.now) : std::string());
  const std::size_t fixed = count_chars(kZparkPrefix) + count_chars(tail);
  // A reason (or an email) too long for 128 characters is shortened; the tail with the email
  // and the time keeps names unique.
  const std::size_t room = fixed < kMaxMaintenanceName ? kMaxMaintenanceName - fixed : 1;
  return clip_chars(std::string(kZparkPrefix) + clip_chars(what, std::max<std::size_t>(room, 1)) + tail,
                    kMaxMaintenanceName);
}

std::string maintenance_description(const MaintenanceRequest& r, std::string_view target) {
  std::string d = fmt::format("Created from Webex by {} for {} {}", author_text(r.author),
                              r.group ? "host group" : "host", target);
  if (!r.reason.empty()) d += ": " + r.reason;
  return d;
}

json::object maintenance_params(const MaintenanceRequest& r, std::string_view name,
                                 std::string_view description, std::string_view targetid) {
  // Zabbix rounds the times down to the minute itself; doing it here keeps the period and
  // the active window the same length, and a retried request's times equal the first's.
  const std::int64_t since = r.now - r.now % 60;
  const std::int64_t till = since + r.duration;
  json::object p;
  p["name"] = name;
  p["description"] = description;
  p["maintenance_type"] = 0;  // with data collection
  p["active_since"] = since;
  p["active_till"] = till;
  // The objects form: 6.0 takes groupids/hostids too, 7.0 only this.
  if (r.group) p["groups"] = json::array{json::object{{"groupid", targetid}}};
  else p["hosts"] = json::array{json::object{{"hostid", targetid}}};
  p["timeperiods"] = json::array{json::object{{"timeperiod_type", 0}, {"start_date", since}, {"period", r.duration}}};
  return p;
}

json::object maintenance_query(bool host_groups) {
  json::object q;
  q["output"] = json::array{"maintenanceid", "name", "description", "active_since", "active_till"};
  q["selectHosts"] = json::array{"host", "name"};
  q[host_groups ? "selectHostGroups" : "selectGroups"] = json::array{"name"};
  return q;
}

Maintenance maintenance_from(const json::object& m) {
  Maintenance out;
  out.id = str_member(m, "maintenanceid");
  out.name = str_member(m, "name");
  out.description = str_member(m, "description");
  out.since = int_member(m, "active_since");
  out.till = int_member(m, "active_till");
  out.from_zpark = out.name.starts_with(kZparkPrefix);
  if (const auto* hosts = array_member(m, "hosts")) {
    for (const auto& h : *hosts) {
      if (const auto* ho = h.if_object()) {
        std::string name = str_member(*ho, "name");
        out.hosts.push_back(name.empty() ? str_member(*ho, "host") : std::move(name));
      }
    }
  }
  const json::array* groups = array_member(m, "hostgroups");  // 6.2+
  if (!groups) groups = array_member(m, "groups");
  if (groups) {
    for (const auto& g : *groups)
      if (const auto* go = g.if_object()) out.groups.push_back(str_member(*go, "name"));
  }
  std::sort(out.hosts.begin(), out.hosts.end());
  std::sort(out.groups.begin(), out.groups.end());
  return out;
}

std::vector<Maintenance> current_maintenances(const json::value& answer, std::int64_t now) {
  std::vector<Maintenance> out;
  const auto* list = answer.if_array();
  if (!list) return out;
  for (const auto& v : *list) {
    const auto* o = v.if_object();
    if (!o) continue;
    Maintenance m = maintenance_from(*o);
    if (m.till > now) out.push_back(std::move(m));
  }
  const auto active = [now](const Maintenance& m) { return m.since <= now; };
  std::sort(out.begin(), out.end(), [&](const Maintenance& a, const Maintenance& b) {
    if (active(a) != active(b)) return active(a);
    const auto ka = active(a) ? a.till : a.since, kb = active(b) ? b.till : b.since;
    if (ka != kb) return ka < kb;
    return a.id < b.id;
  });
  return out;
}

// ---- queries -------------------------------------------------------------------------------

namespace {

// One event as event_query() asks for it; nullopt when Zabbix does not show it to us.
awaitable<Result<std::optional<Event>>> get_event(Client& client, std::string eventid) {
  json::value q = event_query(eventid);
  auto answer = co_await client.call("event.get", std::move(q));
  if (!answer) co_return answer.error();
  if (!answer->is_array()) co_return bad_answer("event.get", *answer);
  co_return event_from(*answer);
}

// A refusal of Zabbix as an outcome; anything else stays an error (retried).
std::optional<EventOutcome> refusal(const Error& e) {
  if (e.kind != Error::Kind::rpc) return std::nullopt;
  if (is_permission_error(e)) return EventOutcome::no_permission;
  if (e.zabbix_text.find("manual clos") != std::string::npos) return EventOutcome::no_manual_close;
  return EventOutcome::refused;
}

struct Target {
  std::string id;
  std::string name;  // as Zabbix names it: visible name, with the technical one when different
  std::string host, visible;
};

std::string shown_name(const std::string& host, const std::string& name) {
  if (name.empty() || name == host) return host;
  if (host.empty()) return name;
  return name + " (" + host + ")";
}

// Hosts (technical or visible name) or groups named exactly `name`, case-insensitively; when
// none, up to 10 whose names contain it, as candidates. A write command never picks a host by
// a part of its name: a maintenance on the wrong host silences its alerts.
struct Lookup {
  std::vector<Target> exact;
  std::vector<std::string> candidates;
};

awaitable<Result<Lookup>> find_target(Client& client, bool group, std::string name) {
  const std::string method = group ? "hostgroup.get" : "host.get";
  Lookup out;
  for (int pass = 0; pass < 2; ++pass) {
    const bool exact = pass == 0;
    json::object search;
    search["name"] = name;
    if (!group) search["host"] = name;
    json::object q;
    q["output"] = group ? json::array{"groupid", "name"} : json::array{"hostid", "host", "name"};
    q["search"] = std::move(search);
    q["searchByAny"] = true;
    // With wildcards on and no '*' in the pattern, Zabbix compares UPPER(field) LIKE
    // UPPER(name): equality without regard to case. A '*' the user wrote is taken literally
    // below, as a name, never as a pattern.
    if (exact) q["searchWildcardsEnabled"] = true;
    q["sortfield"] = "name";
    if (!exact) q["limit"] = 11;
    json::value params = std::move(q);
    auto answer = co_await client.call(method, std::move(params));
    if (!answer) co_return answer.error();
    const auto* list = answer->if_array();
    if (!list) co_return bad_answer(method, *answer);
    const bool ascii = std::all_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    std::vector<Target> technical, visible;
    for (const auto& v : *list) {
      const auto* o = v.if_object();
      if (!o) continue;
      const std::string id = str_member(*o, group ? "groupid" : "hostid");
      const std::string host = str_member(*o, "host"), shown = str_member(*o, "name");
      Target t{id, group ? shown : shown_name(host, shown), host, shown};
      if (!exact) {
        out.candidates.push_back(t.name);
        continue;
      }
      // The database folds the case of non-ASCII letters too; for those names trust it,
      // unless a '*' made the search a pattern.
      const bool literal = ascii || name.find('*') != std::string::npos;
      if (!group && (literal ? same_name(host, name) : true)) technical.push_back(t);
      else if (literal ? same_name(shown, name) : true) visible.push_back(t);
    }
    if (exact) {
      // A technical name match wins over visible names that happen to equal it; among names
      // that differ only in case (Zabbix allows "db01" and "DB01"), the one written exactly.
      out.exact = technical.empty() ? std::move(visible) : std::move(technical);
      if (out.exact.size() > 1) {
        std::vector<Target> same_case;
        for (const auto& t : out.exact)
          if (t.host == name || t.visible == name) same_case.push_back(t);
        if (same_case.size() == 1) out.exact = std::move(same_case);
      }
      if (!out.exact.empty()) co_return out;
    }
  }
  if (out.candidates.size() > 10) out.candidates.resize(10);
  co_return out;
}

// The maintenance named `name`, when there is one.
awaitable<Result<std::optional<Maintenance>>> maintenance_named(Client& client, bool host_groups,
                                                                std::string name) {
  json::object q = maintenance_query(host_groups);
  q["filter"] = json::object{{"name", name}};
  json::value params = std::move(q);
  auto answer = co_await client.call("maintenance.get", std::move(params));
  if (!answer) co_return answer.error();
  const auto* list = answer->if_array();
  if (!list) co_return bad_answer("maintenance.get", *answer);
  if (list->empty() || !list->front().is_object()) co_return std::optional<Maintenance>{};
  co_return maintenance_from(list->front().get_object());
}

awaitable<Result<bool>> host_groups_key(Client& client) {
  auto version = co_await client.version();
  if (!version) co_return version.error();
  const auto v = parse_version(*version).value_or(Version{6, 0, *version});
  co_return v.major > 6 || (v.major == 6 && v.minor >= 2);
}

MaintenanceResult maintenance_refusal(const Error& e) {
  MaintenanceResult r;
  r.outcome = is_permission_error(e) ? MaintenanceOutcome::no_permission : MaintenanceOutcome::refused;
  r.detail = one_line(e.zabbix_text.empty() ? e.message : e.zabbix_text);
  return r;
}

}  // namespace

awaitable<Result<EventResult>> act_on_event(Client& client, EventRequest req) {
  EventResult out;
  out.action = req.action;
  out.eventid = req.eventid;
  auto found = co_await get_event(client, req.eventid);
  if (!found) co_return found.error();
  if (!*found) {
    out.outcome = EventOutcome::not_found;
    co_return out;
  }
  out.event = std::move(**found);
  const std::string message = attributed_message(req.action, req.message, req.author);

  // A retry after an attempt whose answer was lost: the message it wrote is there, and what it
  // did is done (ack state, close asked for); report that instead of doing it again. A minute
  // of slack covers the clocks of Zabbix and Zpark disagreeing.
  if (req.retry && has_message_since(out.event, message, req.asked_at - 60)) {
    out.outcome = EventOutcome::done;
    out.message_added = !req.message.empty();
    co_return out;
  }

  const EventPlan plan = plan_event_action(out.event, req.action, !req.message.empty());
  out.outcome = plan.outcome;
  if (plan.outcome == EventOutcome::already_done && req.action == EventAction::acknowledge) {
    if (auto ack = last_acknowledgement(out.event)) {
      out.acknowledged_by = author_in(ack->message);
      if (out.acknowledged_by.empty()) out.acknowledged_by = ack->user;
      out.acknowledged_at = ack->clock;
    }
  }
  if (plan.bits == 0) co_return out;

  json::value params = acknowledge_params(req.eventid, plan.bits, message);
  auto done = co_await client.call("event.acknowledge", std::move(params));
  if (!done) {
    auto why = refusal(done.error());
    if (!why) co_return done.error();
    out.outcome = *why;
    out.detail = one_line(done.error().zabbix_text);
    co_return out;
  }
  out.message_added = !req.message.empty();
  co_return out;
}

awaitable<Result<MaintenanceResult>> create_maintenance(Client& client, MaintenanceRequest req) {
  MaintenanceResult out;
  auto found = co_await find_target(client, req.group, req.target);
  if (!found) co_return found.error();
  if (found->exact.size() != 1) {
    out.outcome = found->exact.empty() ? MaintenanceOutcome::no_target : MaintenanceOutcome::several_targets;
    if (found->exact.empty()) {
      out.candidates = std::move(found->candidates);
    } else {
      for (const auto& t : found->exact) out.candidates.push_back(t.name);
    }
    co_return out;
  }
  const Target target = found->exact.front();
  out.target = target.name;
  auto groups_key = co_await host_groups_key(client);
  if (!groups_key) co_return groups_key.error();
  const std::string description = maintenance_description(req, target.name);

  for (int attempt = 0;; ++attempt) {
    const bool with_time = attempt > 0;
    const std::string name = maintenance_name(req, target.name, with_time);
    json::value params = maintenance_params(req, name, description, target.id);
    const std::int64_t since = params.at("active_since").as_int64(), till = params.at("active_till").as_int64();
    auto created = co_await client.call("maintenance.create", std::move(params));
    if (created) {
      const auto* ids = created->is_object() ? created->get_object().if_contains("maintenanceids") : nullptr;
      if (!ids || !ids->is_array() || ids->get_array().empty()) co_return bad_answer("maintenance.create", *created);
      const auto& id = ids->get_array().front();
      out.outcome = MaintenanceOutcome::done;
      out.maintenance.id = id.is_string() ? std::string(id.get_string()) : json::serialize(id);
      out.maintenance.name = name;
      out.maintenance.description = description;
      out.maintenance.since = since;
      out.maintenance.till = till;
      out.maintenance.from_zpark = true;
      (req.group ? out.maintenance.groups : out.maintenance.hosts).push_back(target.name);
      co_return out;
    }
    const Error e = created.error();
    if (e.kind != Error::Kind::rpc) co_return e;
    if (e.zabbix_text.find("already exists") == std::string::npos) co_return maintenance_refusal(e);
    // The name is taken: by this very request when an earlier attempt's answer was lost (same
    // description and times: report it), else by another maintenance (add the time).
    auto existing = co_await maintenance_named(client, *groups_key, name);
    if (!existing) co_return existing.error();
    if (*existing && (*existing)->description == description && (*existing)->since == since &&
        (*existing)->till == till) {
      out.outcome = MaintenanceOutcome::done;
      out.maintenance = std::move(**existing);
      co_return out;
    }
    if (with_time) co_return maintenance_refusal(e);
  }
}

awaitable<Result<std::vector<Maintenance>>> maintenances(Client& client, std::int64_t now) {
  auto groups_key = co_await host_groups_key(client);
  if (!groups_key) co_return groups_key.error();
  json::value q = maintenance_query(*groups_key);
  auto answer = co_await client.call("maintenance.get", std::move(q));
  if (!answer) co_return answer.error();
  if (!answer->is_array()) co_return bad_answer("maintenance.get", *answer);
  co_return current_maintenances(*answer, now);
}

awaitable<Result<MaintenanceResult>> end_maintenance(Client& client, std::string id, std::int64_t now,
                                                     bool retry) {
  MaintenanceResult out;
  out.maintenance.id = id;
  auto groups_key = co_await host_groups_key(client);
  if (!groups_key) co_return groups_key.error();
  json::object q = maintenance_query(*groups_key);
  q["maintenanceids"] = json::array{id};
  json::value params = std::move(q);
  auto answer = co_await client.call("maintenance.get", std::move(params));
  if (!answer) co_return answer.error();
  const auto* list = answer->if_array();
  if (!list) co_return bad_answer("maintenance.get", *answer);
  if (list->empty() || !list->front().is_object()) {
    out.outcome = retry ? MaintenanceOutcome::done : MaintenanceOutcome::not_found;
    co_return out;
  }
  out.maintenance = maintenance_from(list->front().get_object());
  if (!out.maintenance.from_zpark) {
    out.outcome = MaintenanceOutcome::not_ours;
    co_return out;
  }
  if (out.maintenance.till <= now) {
    out.outcome = MaintenanceOutcome::already_over;
    co_return out;
  }
  json::value ids = json::array{id};
  auto deleted = co_await client.call("maintenance.delete", std::move(ids));
  if (!deleted) {
    const Error e = deleted.error();
    if (e.kind != Error::Kind::rpc) co_return e;
    MaintenanceResult refused = maintenance_refusal(e);
    refused.maintenance = std::move(out.maintenance);
    co_return refused;
  }
  out.outcome = MaintenanceOutcome::done;
  co_return out;
}

}  // namespace zpark::zabbix
