#include "control_api.hpp"

#include <boost/json/object.hpp>
#include <charconv>

#include "json_out.hpp"
#include "messages.hpp"
#include "webex_api.hpp"

namespace emu {
namespace json = boost::json;
namespace {

Outcome ok() { return json_answer(200, json::object{}); }

// Accepts one object or an array of them.
template <class Fn>
std::optional<Outcome> each_object(const Request& r, Fn&& fn) {
  if (r.body_invalid) return fail(r, 400, "body is not valid JSON");
  json::array one;
  const json::array* list = r.body.if_array();
  if (!list) {
    one.push_back(r.body);
    list = &one;
  }
  for (const auto& v : *list) {
    if (!v.is_object()) return fail(r, 400, "expected JSON objects");
    if (auto bad = fn(v.get_object())) return bad;
  }
  return std::nullopt;
}

Outcome seed_rooms(World& w, const Request& r) {
  auto bad = each_object(r, [&](const json::object& o) -> std::optional<Outcome> {
    auto id = req_string(o, "id");
    if (!id) return fail(r, id.error());
    auto title = opt_string(o, "title");
    auto type = opt_string(o, "type");
    if (!title || !type) return fail(r, 400, "title and type must be strings");
    Room room{*id, title->value_or(*id), type->value_or("group"), r.now_iso, r.now_iso};
    if (room.type != "group" && room.type != "direct")
      return fail(r, 400, "type must be group or direct");
    w.store.seed_room(std::move(room));
    return std::nullopt;
  });
  return bad ? *bad : ok();
}

Outcome seed_actions(World& w, const Request& r) {
  auto bad = each_object(r, [&](const json::object& o) -> std::optional<Outcome> {
    if (!req_string(o, "id")) return fail(r, 400, "attachment action needs a string id");
    w.store.seed_attachment_action(o);
    return std::nullopt;
  });
  return bad ? *bad : ok();
}

// A message written by a person (what Webex would deliver to Zpark's webhook), so command
// tests can have Zpark fetch it with GET /v1/messages/{id}.
Outcome seed_message(World& w, const Request& r) {
  if (!r.body.is_object()) return fail(r, 400, "body must be a JSON object");
  const auto& o = r.body.get_object();
  auto email = req_string(o, "personEmail");
  if (!email) return fail(r, email.error());
  Message m;
  const Person& author = w.store.person_for_email(to_lower(*email));
  m.person_id = author.id;
  m.person_email = author.email;
  auto room_id = opt_string(o, "roomId");
  if (!room_id) return fail(r, room_id.error());
  const Room& room =
      *room_id ? w.store.group_room(**room_id, r.now_iso) : w.store.direct_room(author, r.now_iso);
  m.room_id = room.id;
  m.room_type = room.type;
  for (auto [key, field] : {std::pair{"text", &m.text}, std::pair{"markdown", &m.markdown},
                            std::pair{"html", &m.html}}) {
    auto v = opt_string(o, key);
    if (!v) return fail(r, v.error());
    *field = std::move(*v);
  }
  auto parent = opt_string(o, "parentId");
  if (!parent) return fail(r, parent.error());
  m.parent_id = parent->value_or("");
  if (auto* mp = o.if_contains("mentionedPeople"); mp && mp->is_array())
    m.mentioned_people = mp->get_array();
  m.id = w.store.ids().next("MESSAGE");
  m.created = r.now_iso;
  return json_answer(200, to_json(w.store.add_message(std::move(m))));
}

Outcome messages(World& w) {
  json::array items;
  for (const Message& m : w.store.messages()) items.push_back(to_json(m, true));
  return json_answer(200, json::object{{"messages", std::move(items)}});
}

Outcome webhooks(World& w) {
  json::array items;
  for (const Webhook& h : w.store.webhooks()) items.push_back(to_json(h));
  return json_answer(200, json::object{{"webhooks", std::move(items)}});
}

Outcome requests(World& w, const Request& r) {
  std::uint64_t since = 0;
  if (auto s = r.param("since")) {
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), since);
    if (ec != std::errc{} || end != s->data() + s->size())
      return fail(r, 400, "since must be a sequence number");
  }
  return json_answer(200, w.log.to_json(since));
}

Outcome stats(World& w) {
  return json_answer(200, json::object{{"connections_accepted", w.stats.connections_accepted},
                                       {"tls_handshakes", w.stats.tls_handshakes},
                                       {"requests", w.stats.requests}});
}

Outcome reset(World& w) {
  w.store.clear();
  w.faults.set(FaultSettings{});
  w.log.clear();
  w.stats = Stats{};
  return ok();
}

Outcome faults(World& w, const Request& r) {
  if (r.body_invalid) return fail(r, 400, "body is not valid JSON");
  auto s = parse_faults(r.body.is_null() ? json::value(json::object{}) : r.body);
  if (!s) return fail(r, s.error());
  w.faults.set(std::move(*s));
  return ok();
}

}  // namespace

Outcome handle_control(World& w, const Request& r) {
  auto what = r.seg(1);
  bool get = r.method == "GET", post = r.method == "POST";
  if (r.segments.size() != 2) return not_found(r);
  if (what == "requests" && get) return requests(w, r);
  if (what == "messages" && get) return messages(w);
  if (what == "messages" && post) return seed_message(w, r);
  if (what == "webhooks" && get) return webhooks(w);
  if (what == "stats" && get) return stats(w);
  if (what == "reset" && post) return reset(w);
  if (what == "faults" && post) return faults(w, r);
  if (what == "rooms" && post) return seed_rooms(w, r);
  if (what == "attachment_actions" && post) return seed_actions(w, r);
  return not_found(r);
}

}  // namespace emu
