#include "seeding.hpp"

#include <algorithm>

#include "messages.hpp"
#include "webhook_events.hpp"

namespace emu {
namespace json = boost::json;
namespace {

template <std::size_t N>
std::optional<ApiError> only_known_keys(const json::object& o, const std::string_view (&keys)[N],
                                        std::string_view what) {
  for (const auto& kv : o) {
    if (std::find(std::begin(keys), std::end(keys), kv.key()) != std::end(keys)) continue;
    std::string known;
    for (auto k : keys) known.append(known.empty() ? "" : ", ").append(k);
    return ApiError{400, "unknown key '" + std::string(kv.key()) + "' in " + std::string(what) +
                             "; known keys: " + known};
  }
  return std::nullopt;
}

Result<bool> opt_bool(const json::object& o, std::string_view key, bool fallback) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  if (!v->is_bool()) return ApiError{400, "'" + std::string(key) + "' must be true or false"};
  return v->get_bool();
}

Result<json::array> opt_ids(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return json::array{};
  const auto* a = v->if_array();
  if (!a || !std::all_of(a->begin(), a->end(), [](const json::value& e) { return e.is_string(); }))
    return ApiError{400, "'" + std::string(key) + "' must be an array of person ids"};
  return *a;
}

constexpr std::string_view message_keys[] = {
    "personEmail", "displayName",     "roomId",     "text",     "markdown",
    "html",        "mentionedPeople", "mentionBot", "parentId", "deliver"};

constexpr std::string_view action_keys[] = {
    "id", "type", "messageId", "inputs", "personId", "personEmail", "displayName", "roomId", "created", "deliver"};

}  // namespace

RenderedMention render_bot_mention(std::string_view bot_id, std::string_view shown,
                                   std::string_view rest) {
  RenderedMention r;
  r.text = std::string(shown);
  r.html = "<p><spark-mention data-object-type=\"person\" data-object-id=\"" + html_escape(bot_id) +
           "\">" + html_escape(shown) + "</spark-mention>";
  if (!rest.empty()) {
    r.text.append(" ").append(rest);
    r.html.append(" ").append(html_escape(rest));
  }
  r.html.append("</p>");
  return r;
}

Result<SeededMessage> seed_message(Store& store, const json::object& o, const std::string& now) {
  if (auto bad = only_known_keys(o, message_keys, "a seeded message")) return *bad;
  auto email = req_string(o, "personEmail");
  if (!email) return email.error();
  if (email->find('@') == std::string::npos)
    return ApiError{400, "personEmail is not an email address"};
  std::string lower = to_lower(*email);
  auto display = opt_string(o, "displayName");
  if (!display) return display.error();
  if (*display) store.set_display_name(lower, std::move(**display));
  const Person& author = store.person_for_email(lower);

  Message m;
  m.person_id = author.id;
  m.person_email = author.email;
  auto room_id = opt_string(o, "roomId");
  if (!room_id) return room_id.error();
  Room& room = *room_id && !(*room_id)->empty() ? store.group_room(**room_id, now)
                                                : store.direct_room(author, now);
  room.last_activity = now;
  m.room_id = room.id;
  m.room_type = room.type;
  for (auto [key, field] : {std::pair{"text", &m.text}, std::pair{"markdown", &m.markdown},
                            std::pair{"html", &m.html}}) {
    auto v = opt_string(o, key);
    if (!v) return v.error();
    *field = std::move(*v);
  }
  auto mentioned = opt_ids(o, "mentionedPeople");
  if (!mentioned) return mentioned.error();
  m.mentioned_people = std::move(*mentioned);
  auto shown = opt_string(o, "mentionBot");
  if (!shown) return shown.error();
  if (*shown) {
    if ((*shown)->empty())
      return ApiError{400, "mentionBot must be the name shown for the bot, e.g. \"Zpark\""};
    auto r = render_bot_mention(store.bot().id, **shown, m.text.value_or(""));
    m.text = std::move(r.text);
    if (!m.html) m.html = std::move(r.html);
    if (!o.contains("mentionedPeople"))
      m.mentioned_people = json::array{json::value(store.bot().id)};
  }
  auto parent = opt_string(o, "parentId");
  if (!parent) return parent.error();
  if (*parent && !(*parent)->empty()) {
    if (auto bad = check_parent(store, **parent, m.room_id)) return *bad;
    m.parent_id = std::move(**parent);
  }
  auto deliver = opt_bool(o, "deliver", true);
  if (!deliver) return deliver.error();
  m.id = store.ids().next("MESSAGE");
  m.created = now;
  return SeededMessage{&store.add_message(std::move(m)), *deliver};
}

Result<SeededAction> seed_action(Store& store, const json::object& o, const std::string& now) {
  if (auto bad = only_known_keys(o, action_keys, "a seeded attachment action")) return *bad;
  json::object a;
  auto id = opt_string(o, "id");
  if (!id) return id.error();
  a["id"] = *id && !(*id)->empty() ? **id : store.ids().next("ATTACHMENT_ACTION");
  auto type = opt_string(o, "type");
  if (!type) return type.error();
  a["type"] = type->value_or("submit");
  auto message_id = opt_string(o, "messageId");
  if (!message_id) return message_id.error();
  if (*message_id) a["messageId"] = **message_id;
  if (const auto* inputs = o.if_contains("inputs"); inputs && !inputs->is_null()) {
    if (!inputs->is_object()) return ApiError{400, "'inputs' must be an object"};
    a["inputs"] = *inputs;
  }
  auto person_id = opt_string(o, "personId");
  auto person_email = opt_string(o, "personEmail");
  if (!person_id) return person_id.error();
  if (!person_email) return person_email.error();
  if (*person_id && *person_email) return ApiError{400, "give personId or personEmail, not both"};
  auto display = opt_string(o, "displayName");
  if (!display) return display.error();
  if (*display && !*person_email) return ApiError{400, "displayName needs personEmail"};
  if (*display) store.set_display_name(to_lower(**person_email), std::move(**display));
  if (*person_email) a["personId"] = store.person_for_email(to_lower(**person_email)).id;
  if (*person_id) a["personId"] = **person_id;
  auto room_id = opt_string(o, "roomId");
  if (!room_id) return room_id.error();
  if (*room_id) {
    a["roomId"] = **room_id;
  } else if (const Message* card = *message_id ? store.message(**message_id) : nullptr) {
    a["roomId"] = card->room_id;
  }
  auto created = opt_string(o, "created");
  if (!created) return created.error();
  a["created"] = created->value_or(now);
  auto deliver = opt_bool(o, "deliver", false);
  if (!deliver) return deliver.error();
  if (*deliver && (!a.contains("messageId") || !a.contains("personId")))
    return ApiError{400,
                    "an attachment action to deliver needs messageId and personEmail or personId"};
  std::string key(a.at("id").as_string());
  store.seed_attachment_action(std::move(a));
  return SeededAction{store.attachment_action(key), *deliver};
}

}  // namespace emu
