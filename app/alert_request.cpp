#include "app/alert_request.hpp"

#include <boost/json.hpp>

#include <optional>

namespace zpark::app {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxRecipients = 50;

// The original passed values through str(): scalars become text, a list its first item.
std::optional<std::string> as_text(const json::value* v) {
  if (!v) return std::nullopt;
  switch (v->kind()) {
    case json::kind::null: return std::nullopt;
    case json::kind::string: return std::string(v->get_string());
    case json::kind::bool_: return v->get_bool() ? "true" : "false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return json::serialize(*v);
    case json::kind::array:
      if (v->get_array().empty()) return std::nullopt;
      return as_text(&v->get_array()[0]);
    case json::kind::object: return json::serialize(*v);
  }
  return std::nullopt;
}

// Zabbix keeps message templates with CRLF line ends; Webex wants LF.
std::string normalize_newlines(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
  return out;
}

// Zabbix sends a macro it could not resolve literally, e.g. "{EVENT.RECOVERY.ID}".
std::string field(const json::object& o, const char* key) {
  auto t = as_text(o.if_contains(key)).value_or("");
  if (t.size() > 2 && t.front() == '{' && t.back() == '}' && t.find(' ') == std::string::npos) return {};
  return t;
}

std::vector<std::string> split_recipients(const std::string& to) {
  std::vector<std::string> out;
  std::string item;
  auto flush = [&] {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    item.clear();
  };
  for (char c : to) {
    if (c == ',' || c == ';') flush();
    else item += c;
  }
  flush();
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_tags(const json::value* v) {
  std::vector<std::pair<std::string, std::string>> tags;
  if (!v) return tags;
  json::value parsed;
  if (v->is_string()) {  // {EVENT.TAGSJSON} arrives as a JSON string
    boost::system::error_code ec;
    parsed = json::parse(v->get_string(), ec);
    if (ec) return tags;
    v = &parsed;
  }
  if (!v->is_array()) return tags;
  for (auto& t : v->get_array()) {
    if (!t.is_object()) continue;
    auto tag = as_text(t.get_object().if_contains("tag"));
    if (!tag) continue;
    tags.emplace_back(*tag, as_text(t.get_object().if_contains("value")).value_or(""));
  }
  return tags;
}

}  // namespace

std::variant<AlertRequest, AlertRequestError> parse_alert_request(const json::value& body) {
  if (!body.is_object()) return AlertRequestError{"body", "The request body must be a JSON object."};
  const auto& o = body.get_object();
  auto to = as_text(o.if_contains("to"));
  if (!to)
    return AlertRequestError{"to", "The Webex recipient: a person's email address or a room id. Required."};
  auto subject = as_text(o.if_contains("subject"));
  if (!subject) return AlertRequestError{"subject", "The subject of the alert message. Required."};
  auto message = as_text(o.if_contains("message"));

  std::vector<std::string> recipients = split_recipients(*to);
  if (auto* list = o.if_contains("recipients"); list && list->is_array())
    for (auto& r : list->get_array())
      if (auto t = as_text(&r)) recipients.push_back(*t);
  if (recipients.empty())
    return AlertRequestError{"to", "The Webex recipient: a person's email address or a room id. Required."};
  if (recipients.size() > kMaxRecipients)
    return AlertRequestError{"to", "At most " + std::to_string(kMaxRecipients) + " recipients per alert."};

  spark::Alert base;
  base.subject = normalize_newlines(*subject);
  base.has_message = message.has_value();
  base.message = normalize_newlines(message.value_or(""));
  base.event_id = field(o, "event_id");
  if (base.event_id.size() > 64) return AlertRequestError{"event_id", "The event id is too long."};
  const auto value = field(o, "event_value");
  const auto update = field(o, "update_status");
  if (!base.event_id.empty())
    base.kind = update == "1"  ? spark::AlertKind::update
                : value == "0" ? spark::AlertKind::recovery
                               : spark::AlertKind::problem;
  base.severity = field(o, "severity");
  base.nseverity = field(o, "nseverity");
  base.host = field(o, "host");
  base.trigger_id = field(o, "trigger_id");
  base.recovery_id = field(o, "recovery_id");
  base.update_action = field(o, "update_action");
  base.update_message = field(o, "update_message");
  base.update_user = field(o, "update_user");
  base.tags = parse_tags(o.if_contains("tags"));

  AlertRequest req;
  req.to_as_given = *to;
  for (auto& r : recipients) {
    spark::Alert a = base;
    a.to = r;
    req.alerts.push_back(std::move(a));
  }
  return req;
}

}  // namespace zpark::app
