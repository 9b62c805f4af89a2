#include "control_api.hpp"

#include <boost/json/object.hpp>
#include <charconv>

#include "deliveries.hpp"
#include "json_out.hpp"
#include "messages.hpp"
#include "seeding.hpp"
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

std::optional<Outcome> needs_object(const Request& r) {
  if (r.body_invalid || !r.body.is_object()) return fail(r, 400, "body must be a JSON object");
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

// One action answers the stored action, an array {"items": [...]}; "deliver": true fires the
// attachmentActions/created webhooks once the answer is out.
Outcome seed_actions(World& w, const Request& r) {
  json::array stored;
  std::vector<Outbound> sends;
  auto bad = each_object(r, [&](const json::object& o) -> std::optional<Outcome> {
    auto a = seed_action(w.store, o, r.now_iso);
    if (!a) return fail(r, a.error());
    stored.push_back(*a->action);
    if (a->deliver)
      for (auto& d : deliver_action(w, *a->action, r.now)) sends.push_back(std::move(d));
    return std::nullopt;
  });
  if (bad) return *bad;
  Outcome out = r.body.is_array() ? json_answer(200, json::object{{"items", std::move(stored)}})
                                  : json_answer(200, stored.at(0));
  out.deliveries = std::move(sends);
  return out;
}

// A message written by a person, as Webex would deliver it to Zpark's webhook: the answer is
// the message as GET /v1/messages/{id} shows it; then the webhooks that want it get it.
Outcome seed_one_message(World& w, const Request& r) {
  if (auto bad = needs_object(r)) return *bad;
  auto seeded = seed_message(w.store, r.body.get_object(), r.now_iso);
  if (!seeded) return fail(r, seeded.error());
  Outcome out = json_answer(200, to_json(*seeded->message));
  if (seeded->deliver) out.deliveries = deliver_message(w, *seeded->message, r.now);
  return out;
}

// {"messageId": ...} or {"attachmentActionId": ...}, optional "webhookId": the same envelope
// again (byte-identical while the webhook is unchanged), to test duplicate handling. Answers
// {"deliveries": [...]}: the entries planned, so a test sees at once what will arrive.
Outcome redeliver(World& w, const Request& r) {
  if (auto bad = needs_object(r)) return *bad;
  const auto& o = r.body.get_object();
  for (const auto& kv : o)
    if (kv.key() != "messageId" && kv.key() != "attachmentActionId" && kv.key() != "webhookId")
      return fail(r, 400,
                  "unknown key '" + std::string(kv.key()) +
                      "'; redeliver takes messageId or attachmentActionId, and webhookId");
  auto message_id = opt_string(o, "messageId");
  auto action_id = opt_string(o, "attachmentActionId");
  auto webhook_id = opt_string(o, "webhookId");
  if (!message_id || !action_id || !webhook_id)
    return fail(r, 400, "messageId, attachmentActionId and webhookId must be strings");
  if (message_id->has_value() == action_id->has_value())
    return fail(r, 400, "give exactly one of messageId and attachmentActionId");
  DeliveryRequest how{true, webhook_id->value_or("")};
  if (!how.only_webhook.empty() && !w.store.webhook(how.only_webhook))
    return fail(r, 404, "no webhook " + how.only_webhook);
  const std::uint64_t before = w.deliveries.last_seq();
  Outcome out;
  if (*message_id) {
    const Message* m = w.store.message(**message_id);
    if (!m) return fail(r, 404, "no message " + **message_id);
    out.deliveries = deliver_message(w, *m, r.now, how);
  } else {
    const json::object* a = w.store.attachment_action(**action_id);
    if (!a) return fail(r, 404, "no attachment action " + **action_id);
    out.deliveries = deliver_action(w, *a, r.now, how);
  }
  auto sends = std::move(out.deliveries);
  out = json_answer(200, w.deliveries.to_json(before));
  out.deliveries = std::move(sends);
  return out;
}

// {"id": ...}: what Webex does to a webhook after too many failed deliveries.
Outcome disable_webhook(World& w, const Request& r) {
  if (auto bad = needs_object(r)) return *bad;
  auto id = req_string(r.body.get_object(), "id");
  if (!id) return fail(r, id.error());
  Webhook* h = w.store.webhook(*id);
  if (!h) return fail(r, 404, "no webhook " + *id);
  h->status = "inactive";
  return json_answer(200, to_json(*h));
}

Outcome messages(World& w) {
  json::array items;
  for (const Message& m : w.store.messages()) items.push_back(to_json(m, true));
  return json_answer(200, json::object{{"messages", std::move(items)}});
}

// Files uploaded with messages, oldest first: what a test checks of a graph upload.
Outcome files(World& w) {
  json::array items;
  for (const Message& m : w.store.messages()) {
    if (!m.file) continue;
    json::object o{{"messageId", m.id},          {"roomId", m.room_id},
                   {"parentId", m.parent_id},    {"name", m.file->name},
                   {"contentType", m.file->content_type}, {"size", m.file->size},
                   {"head", m.file->head}};
    if (m.markdown) o["markdown"] = *m.markdown;
    if (m.text) o["text"] = *m.text;
    items.push_back(std::move(o));
  }
  return json_answer(200, json::object{{"files", std::move(items)}});
}

Outcome webhooks(World& w) {
  json::array items;
  for (const Webhook& h : w.store.webhooks()) items.push_back(to_json(h));
  return json_answer(200, json::object{{"webhooks", std::move(items)}});
}

Result<std::uint64_t> since(const Request& r) {
  std::uint64_t n = 0;
  if (auto s = r.param("since")) {
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
    if (ec != std::errc{} || end != s->data() + s->size())
      return ApiError{400, "since must be a sequence number"};
  }
  return n;
}

Outcome requests(World& w, const Request& r) {
  auto n = since(r);
  return n ? json_answer(200, w.log.to_json(*n)) : fail(r, n.error());
}

Outcome deliveries(World& w, const Request& r) {
  auto n = since(r);
  return n ? json_answer(200, w.deliveries.to_json(*n)) : fail(r, n.error());
}

Outcome stats(World& w) {
  json::array violations;
  for (const RateLimitViolation& v : w.rate_limits.recent())
    violations.push_back(json::object{{"request", v.request}, {"ms_after_429", v.ms_after_429}});
  return json_answer(200, json::object{{"connections_accepted", w.stats.connections_accepted},
                                       {"tls_handshakes", w.stats.tls_handshakes},
                                       {"requests", w.stats.requests},
                                       {"rate_limit_windows", w.rate_limits.windows()},
                                       {"rate_limit_violations", w.rate_limits.violations()},
                                       {"violations", std::move(violations)}});
}

Outcome reset(World& w) {
  w.store.clear();
  w.faults.set(FaultSettings{});
  w.log.clear();
  w.deliveries.clear();
  w.stats = Stats{};
  w.rate_limits = RateLimitWatch{};
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
  if (what == "messages" && post) return seed_one_message(w, r);
  if (what == "webhooks" && get) return webhooks(w);
  if (what == "files" && get) return files(w);
  if (what == "deliveries" && get) return deliveries(w, r);
  if (what == "redeliver" && post) return redeliver(w, r);
  if (what == "disable_webhook" && post) return disable_webhook(w, r);
  if (what == "stats" && get) return stats(w);
  if (what == "reset" && post) return reset(w);
  if (what == "faults" && post) return faults(w, r);
  if (what == "rooms" && post) return seed_rooms(w, r);
  if (what == "attachment_actions" && post) return seed_actions(w, r);
  return not_found(r);
}

}  // namespace emu
