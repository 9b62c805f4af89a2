#include "json_out.hpp"

namespace emu {
namespace json = boost::json;

json::object to_json(const Person& p) {
  return json::object{{"id", p.id},
                      {"emails", json::array{json::value(p.email)}},
                      {"displayName", p.display_name},
                      {"type", p.type}};
}

json::object to_json(const Room& r) {
  return json::object{{"id", r.id},           {"title", r.title},
                      {"type", r.type},       {"isLocked", false},
                      {"created", r.created}, {"lastActivity", r.last_activity}};
}

json::object to_json(const Webhook& w) {
  json::object o{{"id", w.id},
                 {"name", w.name},
                 {"targetUrl", w.target_url},
                 {"resource", w.resource},
                 {"event", w.event},
                 {"status", w.status},
                 {"created", w.created},
                 {"ownedBy", "creator"}};
  if (w.filter) o["filter"] = *w.filter;
  if (w.secret) o["secret"] = *w.secret;
  return o;
}

json::object to_json(const Message& m, bool with_emulator_fields) {
  json::object o;
  o["id"] = m.id;
  o["roomId"] = m.room_id;
  o["roomType"] = m.room_type;
  if (!m.to_person_email.empty()) o["toPersonEmail"] = m.to_person_email;
  if (!m.to_person_id.empty()) o["toPersonId"] = m.to_person_id;
  if (!m.parent_id.empty()) o["parentId"] = m.parent_id;
  if (with_emulator_fields) {
    // Exactly what was sent, so tests can tell text from markdown.
    if (m.text) o["text"] = *m.text;
  } else {
    // Webex always answers a text; for markdown-only messages it is the rendered markdown.
    o["text"] = m.text ? *m.text : m.markdown.value_or("");
  }
  if (m.markdown) o["markdown"] = *m.markdown;
  if (m.html) o["html"] = *m.html;
  if (!m.attachments.is_null()) o["attachments"] = m.attachments;
  if (m.file) o["files"] = json::array{json::value("https://webexapis.com/v1/contents/" + m.id + "/0")};
  if (!m.mentioned_people.empty()) o["mentionedPeople"] = m.mentioned_people;
  o["personId"] = m.person_id;
  o["personEmail"] = m.person_email;
  o["created"] = m.created;
  if (!m.updated.empty()) o["updated"] = m.updated;
  if (with_emulator_fields) {
    o["edits"] = m.edit_count;
    o["deleted"] = m.deleted;
    o["seq"] = m.seq;
    if (m.file)
      o["file"] = json::object{{"name", m.file->name},
                               {"contentType", m.file->content_type},
                               {"size", m.file->size},
                               {"head", m.file->head}};
  }
  return o;
}

}  // namespace emu
