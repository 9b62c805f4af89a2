// The emulated Webex REST API under /v1, after authorisation and fault injection.
#pragma once
#include "request.hpp"
#include "types.hpp"
#include "world.hpp"

namespace emu {

Outcome handle_v1(World& w, const Request& r);

// Per-resource handlers, one file each; r.seg(1) names the resource.
Outcome route_messages(World& w, const Request& r);
Outcome route_webhooks(World& w, const Request& r);
Outcome route_rooms(World& w, const Request& r);
Outcome route_people(World& w, const Request& r);

// Shared answers.
Outcome fail(const Request& r, unsigned status, std::string message);
Outcome fail(const Request& r, const ApiError& e);
Outcome not_found(const Request& r);
Outcome method_not_allowed(const Request& r);
// 400 for a non-JSON body, 415 for a non-JSON content type; nullopt when fine.
std::optional<Outcome> check_json_body(const Request& r);

}  // namespace emu
