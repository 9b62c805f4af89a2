#include "spark/cards.hpp"

#include "spark/replies.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace zpark::spark {

namespace json = boost::json;

namespace {

std::string trimmed(std::string_view s) {
  constexpr std::string_view space = " \t\r\n";
  const auto b = s.find_first_not_of(space);
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(space) - b + 1));
}

bool plain_id(std::string_view s) {
  return !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// At most `max` bytes, not cutting a UTF-8 character.
std::string clip(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

std::string string_in(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object submit(std::string_view title, std::string_view what, const std::string& event_id) {
  return json::object{{"type", "Action.Submit"}, {"title", title}, {"data", json::object{{"zpark", what}, {"event", event_id}}}};
}

}  // namespace

std::string zabbix_event_url(std::string_view base, std::string_view trigger_id, std::string_view event_id) {
  std::string url(base);
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.ends_with("/api_jsonrpc.php")) url.resize(url.size() - std::string_view("/api_jsonrpc.php").size());
  if (url.empty()) return {};
  if (plain_id(trigger_id) && plain_id(event_id))
    return url + "/tr_events.php?triggerid=" + std::string(trigger_id) + "&eventid=" + std::string(event_id);
  return url + "/zabbix.php?action=problem.view";
}

std::string problem_card_fallback(const Alert& a) {
  return "Act on this problem (event " + escape_markdown(a.event_id) +
         "): reply in this thread with `ack`, `ack your words`, `close` or `comment your words`.";
}

json::object problem_card(const Alert& a, const CardOptions& o) {
  std::string facts;
  if (!a.host.empty()) facts += a.host;
  if (!a.severity.empty()) facts += (facts.empty() ? "" : " \xC2\xB7 ") + a.severity;
  facts += (facts.empty() ? "" : " \xC2\xB7 ") + std::string("event ") + a.event_id;
  json::array body{
      json::object{{"type", "TextBlock"}, {"text", clip(a.subject.empty() ? "Problem" : a.subject, 300)},
                   {"weight", "Bolder"}, {"wrap", true}},
      json::object{{"type", "TextBlock"}, {"text", clip(facts, 300)}, {"isSubtle", true}, {"wrap", true},
                   {"spacing", "None"}},
      json::object{{"type", "Input.Text"}, {"id", "comment"}, {"placeholder", "Comment (optional)"},
                   {"isMultiline", true}, {"maxLength", kMaxCommentBytes}},
  };
  json::array actions{submit("Acknowledge", "ack", a.event_id),
                      submit("Acknowledge with comment", "ack_comment", a.event_id),
                      submit("Close", "close", a.event_id)};
  if (auto url = zabbix_event_url(o.zabbix_url, a.trigger_id, a.event_id); !url.empty())
    actions.push_back(json::object{{"type", "Action.OpenUrl"}, {"title", "Open in Zabbix"}, {"url", url}});
  return json::object{{"type", "AdaptiveCard"},
                      {"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                      {"version", "1.3"},
                      {"body", std::move(body)},
                      {"actions", std::move(actions)}};
}

Alert problem_card_reply(const Alert& problem, const std::string& root_id, const CardOptions& options) {
  Alert r;
  r.kind = AlertKind::reply;
  r.to = problem.to;
  r.subject = "card";
  r.event_id = problem.event_id;
  r.has_message = true;
  r.message = problem_card_fallback(problem);
  r.parent_id = root_id;
  r.card = json::serialize(problem_card(problem, options));
  return r;
}

std::optional<CardPress> read_card_press(const json::value& inputs) {
  const auto* o = inputs.if_object();
  if (!o) return std::nullopt;
  CardPress p;
  const std::string what = string_in(*o, "zpark");
  p.event_id = string_in(*o, "event");
  if (!plain_id(p.event_id)) return std::nullopt;
  if (what == "ack" || what == "ack_comment") p.kind = Command::Kind::ack;
  else if (what == "close") p.kind = Command::Kind::close;
  else return std::nullopt;
  // The field's value comes with every button; only "with comment" and Close use it.
  if (what != "ack") p.comment = clip(trimmed(string_in(*o, "comment")), kMaxCommentBytes);
  return p;
}

}  // namespace zpark::spark
