// /v1/webhooks: create, list (paginated), get, update, delete.
#include <algorithm>
#include <array>
#include <boost/json/object.hpp>

#include "json_out.hpp"
#include "paging.hpp"
#include "webex_api.hpp"
#include "webhook_events.hpp"

namespace emu {
namespace json = boost::json;
namespace {

// Webex rejects unknown resources and events; a misspelt one is a bug we want to see.
// clang-format off
constexpr std::array<std::string_view, 10> resources = {
    "messages", "memberships", "rooms", "attachmentActions", "meetings",
    "recordings", "meetingParticipants", "meetingTranscripts", "telephony_calls", "all"};
constexpr std::array<std::string_view, 11> events = {
    "created", "updated", "deleted", "started", "ended", "joined",
    "left", "migrated", "authorized", "deauthorized", "all"};
// clang-format on

template <class List>
bool among(const List& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Result<std::string> target_url(const json::object& o) {
  auto url = req_string(o, "targetUrl");
  if (url && !url->starts_with("https://") && !url->starts_with("http://"))
    return ApiError{400, "targetUrl must be an http(s) URL"};
  return url;
}

Outcome create(World& w, const Request& r) {
  if (auto bad = check_json_body(r)) return *bad;
  const auto& o = r.body.get_object();
  Webhook h;
  using Field = std::pair<const char*, std::string*>;
  for (auto [key, field] :
       {Field{"name", &h.name}, Field{"resource", &h.resource}, Field{"event", &h.event}}) {
    auto v = req_string(o, key);
    if (!v) return fail(r, v.error());
    *field = std::move(*v);
  }
  auto url = target_url(o);
  if (!url) return fail(r, url.error());
  h.target_url = std::move(*url);
  if (!among(resources, h.resource)) return fail(r, 400, "unknown resource " + h.resource);
  if (!among(events, h.event)) return fail(r, 400, "unknown event " + h.event);
  auto filter = opt_string(o, "filter");
  auto secret = opt_string(o, "secret");
  if (!filter) return fail(r, filter.error());
  if (!secret) return fail(r, secret.error());
  if (*filter)
    if (auto f = parse_filter(**filter, h.resource); !f) return fail(r, f.error());
  h.filter = std::move(*filter);
  h.secret = std::move(*secret);
  h.id = w.store.ids().next("WEBHOOK");
  h.status = "active";
  h.created = r.now_iso;
  return json_answer(200, to_json(w.store.add_webhook(std::move(h))));
}

Outcome list(World& w, const Request& r) {
  auto max = parse_max(r.param("max"), 100, 1000);
  if (!max) return fail(r, max.error());
  std::size_t offset = 0;
  if (auto c = r.param("cursor")) {
    auto state = decode_cursor(*c);
    auto o = state ? cursor_number(*state, "o") : std::nullopt;
    if (!o) return fail(r, 400, "cursor is not valid");
    offset = *o;
  }
  const auto& all = w.store.webhooks();
  Page p = paginate(all.size(), offset, *max);
  json::array items;
  for (auto i = p.begin; i < p.end; ++i) items.push_back(to_json(all[i]));
  Outcome out = json_answer(200, json::object{{"items", std::move(items)}});
  if (p.more) {
    auto cursor = encode_cursor(json::object{{"o", p.end}});
    out.headers.emplace_back("Link", next_link(r.host, "/v1/webhooks", *max, cursor));
  }
  return out;
}

// PUT takes name and targetUrl (required, as at Webex), secret and status.
Outcome update(Webhook& h, const Request& r) {
  if (auto bad = check_json_body(r)) return *bad;
  const auto& o = r.body.get_object();
  auto name = req_string(o, "name");
  if (!name) return fail(r, name.error());
  auto url = target_url(o);
  if (!url) return fail(r, url.error());
  auto secret = opt_string(o, "secret");
  if (!secret) return fail(r, secret.error());
  auto status = opt_string(o, "status");
  if (!status) return fail(r, status.error());
  if (*status && **status != "active" && **status != "inactive")
    return fail(r, 400, "status must be active or inactive");
  h.name = std::move(*name);
  h.target_url = std::move(*url);
  if (*secret) h.secret = std::move(*secret);
  if (*status) h.status = std::move(**status);
  return json_answer(200, to_json(h));
}

Outcome one(World& w, const Request& r) {
  const std::string& id = r.segments[2];
  Webhook* h = w.store.webhook(id);
  if (!h) return fail(r, 404, "Could not find a webhook with provided ID.");
  if (r.method == "GET") return json_answer(200, to_json(*h));
  if (r.method == "PUT") return update(*h, r);
  if (r.method == "DELETE") {
    w.store.remove_webhook(id);
    Outcome out;
    out.status = 204;
    return out;
  }
  return method_not_allowed(r);
}

}  // namespace

Outcome route_webhooks(World& w, const Request& r) {
  if (r.segments.size() == 2) {
    if (r.method == "POST") return create(w, r);
    if (r.method == "GET") return list(w, r);
    return method_not_allowed(r);
  }
  if (r.segments.size() == 3) return one(w, r);
  return not_found(r);
}

}  // namespace emu
