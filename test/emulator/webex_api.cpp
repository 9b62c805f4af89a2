#include "webex_api.hpp"

#include <boost/json/object.hpp>

namespace emu {
namespace json = boost::json;

Outcome fail(const Request& r, unsigned status, std::string message) {
  return error_answer(ApiError{status, std::move(message)}, r.tracking_id);
}
Outcome fail(const Request& r, const ApiError& e) { return error_answer(e, r.tracking_id); }

Outcome not_found(const Request& r) {
  return fail(r, 404, "The requested resource could not be found.");
}

Outcome method_not_allowed(const Request& r) {
  return fail(r, 405, "Method " + r.method + " is not allowed on " + r.target);
}

std::optional<Outcome> check_json_body(const Request& r) {
  // An absent content type is tolerated; a wrong one is a client bug worth seeing.
  if (!r.content_type.empty() && r.content_type.find("json") == std::string::npos)
    return fail(r, 415, "Content-Type must be application/json");
  if (r.body_invalid) return fail(r, 400, "body is not valid JSON");
  if (!r.body.is_object()) return fail(r, 400, "body must be a JSON object");
  return std::nullopt;
}

namespace {

Outcome attachment_action(World& w, const Request& r) {
  if (r.seg(2) != "actions" || r.segments.size() != 4) return not_found(r);
  if (r.method != "GET") return method_not_allowed(r);
  const auto* a = w.store.attachment_action(r.segments[3]);
  if (!a) return fail(r, 404, "Could not find an attachment action with provided ID.");
  return json_answer(200, *a);
}

Outcome memberships(World&, const Request& r) {
  if (r.segments.size() != 2) return not_found(r);
  if (r.method != "GET") return method_not_allowed(r);
  if (!r.param("roomId")) return fail(r, 400, "roomId is required");
  return json_answer(200, json::object{{"items", json::array{}}});
}

}  // namespace

Outcome handle_v1(World& w, const Request& r) {
  auto resource = r.seg(1);
  if (resource == "messages") return route_messages(w, r);
  if (resource == "webhooks") return route_webhooks(w, r);
  if (resource == "rooms") return route_rooms(w, r);
  if (resource == "people") return route_people(w, r);
  if (resource == "attachment") return attachment_action(w, r);
  if (resource == "memberships") return memberships(w, r);
  return not_found(r);
}

}  // namespace emu
