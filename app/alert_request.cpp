#include "app/alert_request.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

namespace zpark::app {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxRecipients = 50;

// Text as Webex should get it: Zabbix keeps message templates with CRLF line ends (a lone CR
// is a line end too), and JSON escapes can carry control characters (\u0000, ESC, BEL, C1)
// that only garble a message; newline and tab stay.
std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      if (i + 1 >= s.size() || s[i + 1] != '\n') out += '\n';
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      ++i;  // U+0080..U+009F in UTF-8 (the parser has checked the encoding)
    } else if ((c >= 0x20 && c != 0x7F) || c == '\n' || c == '\t') {
      out += s[i];
    }
  }
  return out;
}

// The original passed values through str(): scalars become text, a list its first item.
std::optional<std::string> as_text(const json::value* v) {
  if (!v) return std::nullopt;
  switch (v->kind()) {
    case json::kind::null: return std::nullopt;
    case json::kind::string: return clean_text(v->get_string());
    case json::kind::bool_: return v->get_bool() ? "true" : "false";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return json::serialize(*v);
    case json::kind::array:
      if (v->get_array().empty()) return std::nullopt;
      return as_text(&v->get_array()[0]);
    // serialize() escapes only C0 controls: a DEL or C1 in a key or value would stay.
    case json::kind::object: return clean_text(json::serialize(*v));
  }
  return std::nullopt;
}

std::string trimmed(std::string_view s) {
  constexpr std::string_view space = " \t\n";
  auto b = s.find_first_not_of(space);
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(space) - b + 1));
}

// Zabbix sends a macro it could not resolve literally, e.g. "{EVENT.RECOVERY.ID}".
std::string field(const json::object& o, const char* key) {
  auto t = as_text(o.if_contains(key)).value_or("");
  if (t.size() > 2 && t.front() == '{' && t.back() == '}' && t.find(' ') == std::string::npos) return {};
  return t;
}

void split_recipients(const std::string& to, std::vector<std::string>& out) {
  std::string item;
  auto flush = [&] {
    if (auto r = trimmed(item); !r.empty()) out.push_back(std::move(r));
    item.clear();
  };
  for (char c : to) {
    if (c == ',' || c == ';') flush();
    else item += c;
  }
  flush();
}

// One alert per recipient, even when named twice: an email in any letter case (Webex treats
// it so), a room id exactly (it is case-sensitive). The first spelling is kept.
std::vector<std::string> distinct_recipients(std::vector<std::string> all) {
  std::vector<std::string> out;
  std::vector<std::string> keys;
  for (auto& r : all) {
    std::string key = r;
    if (key.find('@') != std::string::npos)
      std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    keys.push_back(std::move(key));
    out.push_back(std::move(r));
  }
  return out;
}

const char* const kToWhy = "The Webex recipient: a person's email address or a room id. Required.";

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
  // `to`: text with recipients separated by ',' or ';', or a list of them (every element).
  std::vector<std::string> recipients;
  std::string to_as_given;
  if (auto* list = o.if_contains("to"); list && list->is_array() && !list->get_array().empty()) {
    for (auto& r : list->get_array()) {
      if (!r.is_string()) return AlertRequestError{"to", "A list of recipients must hold only text."};
      to_as_given += (to_as_given.empty() ? "" : ", ") + clean_text(r.get_string());
      if (auto t = trimmed(clean_text(r.get_string())); !t.empty()) recipients.push_back(std::move(t));
    }
  } else {
    auto to = as_text(list);
    if (!to) return AlertRequestError{"to", kToWhy};
    to_as_given = *to;
    split_recipients(*to, recipients);
  }
  auto subject = as_text(o.if_contains("subject"));
  if (!subject) return AlertRequestError{"subject", "The subject of the alert message. Required."};
  auto message = as_text(o.if_contains("message"));

  if (auto* list = o.if_contains("recipients"); list && list->is_array())
    for (auto& r : list->get_array())
      if (auto t = trimmed(as_text(&r).value_or("")); !t.empty()) recipients.push_back(std::move(t));
  recipients = distinct_recipients(std::move(recipients));
  if (recipients.empty()) return AlertRequestError{"to", kToWhy};
  if (recipients.size() > kMaxRecipients)
    return AlertRequestError{"to", "At most " + std::to_string(kMaxRecipients) + " recipients per alert."};

  spark::Alert base;
  base.subject = *subject;
  base.has_message = message.has_value();
  base.message = message.value_or("");
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
  req.to_as_given = std::move(to_as_given);
  for (auto& r : recipients) {
    spark::Alert a = base;
    a.to = r;
    req.alerts.push_back(std::move(a));
  }
  return req;
}

}  // namespace zpark::app
