#include "spark/alert.hpp"

#include <boost/json.hpp>

namespace zpark::spark {

namespace json = boost::json;

const char* to_string(AlertKind kind) {
  switch (kind) {
    case AlertKind::plain: return "plain";
    case AlertKind::problem: return "problem";
    case AlertKind::update: return "update";
    case AlertKind::recovery: return "recovery";
    case AlertKind::reply: return "reply";
  }
  return "plain";
}

json::object to_json(const Alert& a) {
  json::object o{{"to", a.to}, {"subject", a.subject}, {"kind", to_string(a.kind)}};
  if (a.has_message) o["message"] = a.message;
  auto opt = [&](const char* key, const std::string& v) {
    if (!v.empty()) o[key] = v;
  };
  opt("event_id", a.event_id);
  opt("severity", a.severity);
  opt("nseverity", a.nseverity);
  opt("host", a.host);
  opt("trigger_id", a.trigger_id);
  opt("recovery_id", a.recovery_id);
  opt("update_action", a.update_action);
  opt("update_message", a.update_message);
  opt("update_user", a.update_user);
  opt("parent_id", a.parent_id);
  opt("card", a.card);
  if (!a.tags.empty()) {
    json::array tags;
    for (auto& [t, v] : a.tags) tags.push_back(json::object{{"tag", t}, {"value", v}});
    o["tags"] = std::move(tags);
  }
  return o;
}

Alert alert_from_json(const json::value& v) {
  const auto& o = v.as_object();
  auto str = [&](const char* key) {
    auto* p = o.if_contains(key);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  Alert a;
  a.to = str("to");
  a.subject = str("subject");
  a.has_message = o.contains("message");
  a.message = str("message");
  a.event_id = str("event_id");
  auto kind = str("kind");
  a.kind = kind == "problem" ? AlertKind::problem
           : kind == "update" ? AlertKind::update
           : kind == "recovery" ? AlertKind::recovery
           : kind == "reply"    ? AlertKind::reply
                                : AlertKind::plain;
  a.severity = str("severity");
  a.nseverity = str("nseverity");
  a.host = str("host");
  a.trigger_id = str("trigger_id");
  a.recovery_id = str("recovery_id");
  a.update_action = str("update_action");
  a.update_message = str("update_message");
  a.update_user = str("update_user");
  a.parent_id = str("parent_id");
  a.card = str("card");
  if (auto* t = o.if_contains("tags"); t && t->is_array())
    for (auto& item : t->get_array())
      if (item.is_object()) {
        auto* tag = item.get_object().if_contains("tag");
        auto* val = item.get_object().if_contains("value");
        a.tags.emplace_back(tag && tag->is_string() ? std::string(tag->get_string()) : "",
                            val && val->is_string() ? std::string(val->get_string()) : "");
      }
  return a;
}

}  // namespace zpark::spark
