// /v1/messages: create, list, get, edit, delete.
#include <boost/json/object.hpp>
#include <limits>

#include "json_out.hpp"
#include "messages.hpp"
#include "multipart.hpp"
#include "paging.hpp"
#include "webex_api.hpp"

namespace emu {
namespace json = boost::json;
namespace {

// A file upload: text parts as the JSON fields, one `files` part.
Result<NewMessage> parse_upload(const Request& r) {
  auto form = parse_multipart(r.content_type, r.raw_body);
  if (!form) return form.error();
  json::object fields;
  for (auto& [name, value] : form->fields) {
    if (name == "files") return ApiError{400, "files must be a file part (with a filename)"};
    fields[name] = value;
  }
  if (form->files.size() != 1 || form->files[0].field != "files")
    return ApiError{400, "exactly one file is allowed, in a part named files"};
  auto m = parse_new_message(fields, true);
  if (!m) return m.error();
  const FormFile& f = form->files[0];
  if (f.bytes.empty()) return ApiError{400, "the uploaded file is empty"};
  m->file = StoredFile{f.filename, f.content_type, f.bytes.size(), hex_head(f.bytes)};
  return m;
}

Outcome create(World& w, const Request& r) {
  const bool upload = !r.raw_body.empty();
  if (!upload)
    if (auto bad = check_json_body(r)) return *bad;
  auto parsed = upload ? parse_upload(r) : parse_new_message(r.body);
  if (!parsed) return fail(r, parsed.error());
  auto stored = create_message(w.store, w.faults, std::move(*parsed), r.now_iso);
  if (!stored) return fail(r, stored.error());
  Outcome out = json_answer(200, to_json(**stored));
  out.message_id = (*stored)->id;
  return out;
}

// Newest first; the cursor remembers the filters and the last seq shown, so messages
// created between pages neither repeat nor shift the listing.
Outcome list(World& w, const Request& r) {
  auto max = parse_max(r.param("max"), 50, 1000);
  if (!max) return fail(r, max.error());
  std::string room_id, parent_id;
  std::uint64_t before = std::numeric_limits<std::uint64_t>::max();
  if (auto c = r.param("cursor")) {
    auto state = decode_cursor(*c);
    auto b = state ? cursor_number(*state, "b") : std::nullopt;
    if (!b || !state->contains("r") || !state->at("r").is_string())
      return fail(r, 400, "cursor is not valid");
    room_id = std::string(state->at("r").as_string());
    if (auto* p = state->if_contains("p"); p && p->is_string())
      parent_id = std::string(p->as_string());
    before = *b;
  } else {
    auto room = r.param("roomId");
    if (!room || room->empty()) return fail(r, 400, "roomId is required");
    room_id = std::string(*room);
    parent_id = std::string(r.param("parentId").value_or(""));
  }
  if (w.faults.unknown_room(room_id))
    return fail(r, 404, "Could not find a room with provided ID.");
  json::array items;
  std::uint64_t last_seq = 0;
  bool more = false;
  const auto& all = w.store.messages();
  const auto& idx = w.store.room_messages(room_id);
  for (auto it = idx.rbegin(); it != idx.rend(); ++it) {
    const Message& m = all[*it];
    if (m.deleted || m.seq >= before || (!parent_id.empty() && m.parent_id != parent_id)) continue;
    if (items.size() == *max) {
      more = true;
      break;
    }
    items.push_back(to_json(m));
    last_seq = m.seq;
  }
  Outcome out = json_answer(200, json::object{{"items", std::move(items)}});
  if (more) {
    json::object state{{"r", room_id}, {"b", last_seq}};
    if (!parent_id.empty()) state["p"] = parent_id;
    out.headers.emplace_back("Link", next_link(r.host, "/v1/messages", *max, encode_cursor(state)));
  }
  return out;
}

Outcome one(World& w, const Request& r) {
  const std::string& id = r.segments[2];
  if (r.method == "GET") {
    const Message* m = w.store.message(id);
    if (!m) return fail(r, 404, "Could not find a message with provided ID.");
    return json_answer(200, to_json(*m));
  }
  if (r.method == "PUT") {
    if (auto bad = check_json_body(r)) return *bad;
    auto edit = parse_message_edit(r.body);
    if (!edit) return fail(r, edit.error());
    auto m = edit_message(w.store, id, std::move(*edit), r.now_iso);
    if (!m) return fail(r, m.error());
    return json_answer(200, to_json(**m));
  }
  if (r.method == "DELETE") {
    Message* m = w.store.message(id);
    if (!m) return fail(r, 404, "Could not find a message with provided ID.");
    if (m->person_id != w.store.bot().id)
      return fail(r, 403, "Only the author can delete this message");
    m->deleted = true;
    Outcome out;
    out.status = 204;
    return out;
  }
  return method_not_allowed(r);
}

}  // namespace

Outcome route_messages(World& w, const Request& r) {
  if (r.segments.size() == 2) {
    if (r.method == "POST") return create(w, r);
    if (r.method == "GET") return list(w, r);
    return method_not_allowed(r);
  }
  if (r.segments.size() == 3) return one(w, r);
  return not_found(r);
}

}  // namespace emu
