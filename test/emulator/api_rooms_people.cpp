// /v1/rooms (paginated, seeded through /_emu/rooms) and /v1/people (created lazily).
#include <boost/json/object.hpp>

#include "json_out.hpp"
#include "messages.hpp"
#include "paging.hpp"
#include "webex_api.hpp"

namespace emu {
namespace json = boost::json;
namespace {

Outcome list_rooms(World& w, const Request& r) {
  auto max = parse_max(r.param("max"), 100, 1000);
  if (!max) return fail(r, max.error());
  std::string type(r.param("type").value_or(""));
  std::size_t offset = 0;
  if (auto c = r.param("cursor")) {
    auto state = decode_cursor(*c);
    auto o = state ? cursor_number(*state, "o") : std::nullopt;
    if (!o) return fail(r, 400, "cursor is not valid");
    offset = *o;
    if (auto* t = state->if_contains("t"); t && t->is_string()) type = t->get_string();
  }
  if (!type.empty() && type != "group" && type != "direct")
    return fail(r, 400, "type must be group or direct");
  std::vector<const Room*> rooms;
  for (const Room& room : w.store.rooms())
    if (type.empty() || room.type == type) rooms.push_back(&room);
  Page p = paginate(rooms.size(), offset, *max);
  json::array items;
  for (auto i = p.begin; i < p.end; ++i) items.push_back(to_json(*rooms[i]));
  Outcome out = json_answer(200, json::object{{"items", std::move(items)}});
  if (p.more) {
    json::object state{{"o", p.end}};
    if (!type.empty()) state["t"] = type;
    out.headers.emplace_back("Link", next_link(r.host, "/v1/rooms", *max, encode_cursor(state)));
  }
  return out;
}

}  // namespace

Outcome route_rooms(World& w, const Request& r) {
  if (r.method != "GET") return method_not_allowed(r);
  if (r.segments.size() == 2) return list_rooms(w, r);
  if (r.segments.size() != 3) return not_found(r);
  const Room* room = w.store.room(r.segments[2]);
  if (!room || w.faults.unknown_room(room->id))
    return fail(r, 404, "Could not find a room with provided ID.");
  return json_answer(200, to_json(*room));
}

Outcome route_people(World& w, const Request& r) {
  if (r.method != "GET") return method_not_allowed(r);
  if (r.segments.size() == 3) {
    const Person* p = r.segments[2] == "me" ? &w.store.bot() : w.store.person_by_id(r.segments[2]);
    if (!p) return fail(r, 404, "Could not find a person with provided ID.");
    return json_answer(200, to_json(*p));
  }
  if (r.segments.size() != 2) return not_found(r);
  auto email = r.param("email");
  if (!email || email->empty()) return fail(r, 400, "email is required");
  std::string lower = to_lower(std::string(*email));
  json::array items;
  if (!w.faults.unknown_email(lower)) items.push_back(to_json(w.store.person_for_email(lower)));
  return json_answer(200, json::object{{"items", std::move(items)}});
}

}  // namespace emu
