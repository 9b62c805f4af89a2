#include "messages.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cctype>

namespace emu {
namespace json = boost::json;
namespace {

constexpr std::string_view card_type = "application/vnd.microsoft.card.adaptive";

// Both fields optional, at least one non-empty, each within the Webex size limit.
Result<std::pair<std::optional<std::string>, std::optional<std::string>>> content(
    const json::object& o, bool may_be_empty = false) {
  auto text = opt_string(o, "text");
  if (!text) return text.error();
  auto markdown = opt_string(o, "markdown");
  if (!markdown) return markdown.error();
  for (auto* f : {&*text, &*markdown}) {
    if (*f && (*f)->empty()) f->reset();
  }
  if (!*text && !*markdown && !may_be_empty) return ApiError{400, "text or markdown is required"};
  if (*text && (*text)->size() > max_text_bytes)
    return ApiError{400, "text is longer than 7439 bytes"};
  if (*markdown && (*markdown)->size() > max_text_bytes)
    return ApiError{400, "markdown is longer than 7439 bytes"};
  return std::pair{std::move(*text), std::move(*markdown)};
}

Result<json::value> attachments(const json::object& o) {
  auto it = o.find("attachments");
  if (it == o.end() || it->value().is_null()) return json::value{};
  const auto* arr = it->value().if_array();
  if (!arr || arr->size() != 1)
    return ApiError{400, "attachments must be an array with exactly one card"};
  const auto* card = (*arr)[0].if_object();
  const auto* type = card ? card->if_contains("contentType") : nullptr;
  if (!type || !type->is_string() || type->get_string() != card_type ||
      !card->contains("content") || !card->at("content").is_object())
    return ApiError{
        400, "attachment needs contentType " + std::string(card_type) + " and an object content"};
  return it->value();
}

}  // namespace

std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Result<NewMessage> parse_new_message(const json::value& body, bool with_file) {
  const auto* o = body.if_object();
  if (!o) return ApiError{400, "body must be a JSON object"};
  NewMessage m;
  int targets = 0;
  static constexpr std::pair<const char*, NewMessage::Target> keys[] = {
      {"roomId", NewMessage::room},
      {"toPersonEmail", NewMessage::person_email},
      {"toPersonId", NewMessage::person_id}};
  for (auto [key, kind] : keys) {
    auto v = opt_string(*o, key);
    if (!v) return v.error();
    if (!*v) continue;
    if ((*v)->empty()) return ApiError{400, std::string(key) + " must not be empty"};
    ++targets;
    m.target = kind;
    m.target_value = std::move(**v);
  }
  if (targets != 1)
    return ApiError{400, "exactly one of roomId, toPersonEmail, toPersonId is required"};
  if (m.target == NewMessage::person_email) {
    m.target_value = to_lower(std::move(m.target_value));
    if (m.target_value.find('@') == std::string::npos)
      return ApiError{400, "toPersonEmail is not an email address"};
  }
  auto c = content(*o, with_file);
  if (!c) return c.error();
  m.text = std::move(c->first);
  m.markdown = std::move(c->second);
  auto a = attachments(*o);
  if (!a) return a.error();
  m.attachments = std::move(*a);
  auto parent = opt_string(*o, "parentId");
  if (!parent) return parent.error();
  if (*parent) m.parent_id = std::move(**parent);
  return m;
}

Result<MessageEdit> parse_message_edit(const json::value& body) {
  const auto* o = body.if_object();
  if (!o) return ApiError{400, "body must be a JSON object"};
  MessageEdit e;
  auto room = req_string(*o, "roomId");
  if (!room) return room.error();
  e.room_id = std::move(*room);
  auto c = content(*o);
  if (!c) return c.error();
  e.text = std::move(c->first);
  e.markdown = std::move(c->second);
  return e;
}

std::optional<ApiError> check_parent(Store& store, const std::string& parent_id,
                                     const std::string& room_id) {
  const Message* parent = store.message(parent_id);
  if (!parent) return ApiError{400, "parentId does not name an existing message"};
  if (!parent->parent_id.empty())
    return ApiError{400, "parentId names a reply; replies to replies are not allowed"};
  if (parent->room_id != room_id) return ApiError{400, "parentId names a message in another room"};
  return std::nullopt;
}

Result<Message*> create_message(Store& store, const Faults& faults, NewMessage m,
                                const std::string& now) {
  Message msg;
  const Room* room = nullptr;
  switch (m.target) {
    case NewMessage::room:
      if (faults.unknown_room(m.target_value))
        return ApiError{404, "Could not find a room with provided ID."};
      room = &store.group_room(m.target_value, now);
      break;
    case NewMessage::person_email: {
      if (faults.unknown_email(m.target_value))
        return ApiError{404, "Failed to get person by email: person not found."};
      const Person& p = store.person_for_email(m.target_value);
      room = &store.direct_room(p, now);
      msg.to_person_email = p.email;
      break;
    }
    case NewMessage::person_id: {
      const Person* p = store.person_by_id(m.target_value);
      if (!p) return ApiError{404, "Could not find a person with provided ID."};
      room = &store.direct_room(*p, now);
      msg.to_person_id = p->id;
      break;
    }
  }
  if (!m.parent_id.empty())
    if (auto bad = check_parent(store, m.parent_id, room->id)) return *bad;
  msg.id = store.ids().next("MESSAGE");
  msg.room_id = room->id;
  msg.room_type = room->type;
  msg.parent_id = std::move(m.parent_id);
  msg.text = std::move(m.text);
  msg.markdown = std::move(m.markdown);
  msg.attachments = std::move(m.attachments);
  msg.file = std::move(m.file);
  msg.person_id = store.bot().id;
  msg.person_email = store.bot().email;
  msg.created = now;
  store.room(msg.room_id)->last_activity = now;
  return &store.add_message(std::move(msg));
}

Result<Message*> edit_message(Store& store, const std::string& id, MessageEdit e,
                              const std::string& now) {
  Message* m = store.message(id);
  if (!m) return ApiError{404, "Could not find a message with provided ID."};
  if (m->room_id != e.room_id) return ApiError{400, "roomId does not match the message's room"};
  if (m->person_id != store.bot().id) return ApiError{403, "Only the author can edit a message"};
  // As Webex: a message that carries a card (or a file) cannot be edited at all.
  if (!m->attachments.is_null())
    return ApiError{400, "Cannot edit a message with attachments; only the text of a plain message can be edited"};
  if (m->file) return ApiError{400, "A message with a file cannot be edited"};
  if (m->edit_count >= max_edits)
    return ApiError{400, "Message has been edited too many times (limit 10)"};
  m->text = std::move(e.text);
  m->markdown = std::move(e.markdown);
  m->updated = now;
  ++m->edit_count;
  return m;
}

}  // namespace emu
