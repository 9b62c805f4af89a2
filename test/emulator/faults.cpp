#include "faults.hpp"

#include <algorithm>
#include <boost/json/object.hpp>

namespace emu {
namespace json = boost::json;
namespace {

ApiError bad(std::string what) { return ApiError{400, "faults: " + std::move(what)}; }

Result<double> ratio(const json::value& v, const char* key) {
  if (!v.is_number()) return bad(std::string(key) + " must be a number");
  double r = v.to_number<double>();
  if (r < 0 || r > 1) return bad(std::string(key) + " must be within 0..1");
  return r;
}

Result<unsigned> count(const json::value& v, const char* key) {
  std::error_code ec;
  auto n = v.is_number() ? v.to_number<std::int64_t>(ec) : -1;
  if (ec || n < 0 || n > 100000000) return bad(std::string(key) + " must be a whole number >= 0");
  return static_cast<unsigned>(n);
}

// One entry of fail_next or of a fail_next_by_route list; `what` names the list in errors.
Result<CannedAnswer> canned(const json::value& v, const std::string& what) {
  if (!v.is_object()) return bad(what + " entries must be objects");
  CannedAnswer a;
  bool has_status = false;
  for (const auto& [k, val] : v.get_object()) {
    if (k == "status") {
      auto s = count(val, "status");
      if (!s || *s < 400 || *s > 599) return bad(what + ".status must be within 400..599");
      a.status = *s;
      has_status = true;
    } else if (k == "retry_after") {
      auto r = count(val, (what + ".retry_after").c_str());
      if (!r) return r.error();
      a.retry_after = *r;
    } else if (k == "reset") {
      if (!val.is_bool()) return bad(what + ".reset must be true or false");
      a.reset = val.get_bool();
    } else {
      return bad("unknown key " + what + "." + std::string(k));
    }
  }
  if (a.reset && (has_status || a.retry_after))
    return bad(what + ": a reset entry has no status or retry_after (nothing is answered)");
  return a;
}

Result<std::deque<CannedAnswer>> canned_list(const json::value& v, const std::string& what) {
  if (!v.is_array()) return bad(what + " must be an array of {status, retry_after} or {reset}");
  std::deque<CannedAnswer> out;
  for (const auto& e : v.get_array()) {
    auto a = canned(e, what);
    if (!a) return a.error();
    out.push_back(*a);
  }
  return out;
}

// The routes the emulator serves: a fault for anything else is a typo that would never fire.
// Keep in step with handle_v1 (webex_api.cpp) and the route_* handlers.
constexpr std::string_view known_routes[] = {
    "GET /v1/messages",       "POST /v1/messages",
    "GET /v1/messages/{}",    "PUT /v1/messages/{}",
    "DELETE /v1/messages/{}", "GET /v1/webhooks",
    "POST /v1/webhooks",      "GET /v1/webhooks/{}",
    "PUT /v1/webhooks/{}",    "DELETE /v1/webhooks/{}",
    "GET /v1/rooms",          "GET /v1/rooms/{}",
    "GET /v1/people",         "GET /v1/people/me",
    "GET /v1/people/{}",      "GET /v1/attachment/actions/{}",
    "GET /v1/memberships"};

bool placeholder(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// "GET /v1/messages/{id}" -> method and segments; placeholders may be named freely.
Result<RouteFaults> route_key(std::string_view key) {
  auto fail = [&] {
    return bad("fail_next_by_route key '" + std::string(key) +
               "' is not a route of the emulator; write it as METHOD /v1/PATH with {id} for "
               "ids, e.g. \"GET /v1/messages/{id}\" or \"GET /v1/people/{id}\"");
  };
  auto space = key.find(' ');
  if (space == std::string_view::npos) return fail();
  RouteFaults r;
  r.key = std::string(key);
  r.method = std::string(key.substr(0, space));
  std::string_view path = key.substr(space + 1);
  if (!path.starts_with('/')) return fail();
  std::string normal = r.method + " ";
  for (std::size_t at = 1; at <= path.size();) {
    auto end = std::min(path.find('/', at), path.size());
    std::string_view seg = path.substr(at, end - at);
    if (seg.empty()) return fail();
    r.segments.emplace_back(seg);
    normal.append("/").append(placeholder(seg) ? "{}" : seg);
    at = end + 1;
  }
  if (std::find(std::begin(known_routes), std::end(known_routes), normal) == std::end(known_routes))
    return fail();
  return r;
}

bool route_matches(const RouteFaults& r, std::string_view method,
                   std::span<const std::string> segments) {
  if (r.method != method || r.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i)
    if (!placeholder(r.segments[i]) && r.segments[i] != segments[i]) return false;
  return true;
}

std::size_t literal_segments(const RouteFaults& r) {
  return static_cast<std::size_t>(std::count_if(r.segments.begin(), r.segments.end(),
                                                [](const auto& s) { return !placeholder(s); }));
}

Result<std::set<std::string>> strings(const json::value& v, const char* key, bool lower) {
  if (!v.is_array()) return bad(std::string(key) + " must be an array of strings");
  std::set<std::string> out;
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return bad(std::string(key) + " must be an array of strings");
    std::string s(e.get_string());
    if (lower)
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.insert(std::move(s));
  }
  return out;
}

}  // namespace

Result<FaultSettings> parse_faults(const json::value& v) {
  if (!v.is_object()) return bad("body must be a JSON object");
  FaultSettings s;
  for (const auto& [key, val] : v.get_object()) {
#define EMU_TRY(expr, field) \
  if (auto r = (expr); !r)   \
    return r.error();        \
  else                       \
    s.field = *r
    if (key == "error_5xx_ratio") {
      EMU_TRY(ratio(val, "error_5xx_ratio"), error_5xx_ratio);
    } else if (key == "reset_ratio") {
      EMU_TRY(ratio(val, "reset_ratio"), reset_ratio);
    } else if (key == "seed") {
      std::error_code ec;
      auto n = val.is_number() ? val.to_number<std::uint64_t>(ec) : 0;
      if (!val.is_number() || ec) return bad("seed must be a whole number >= 0");
      s.seed = n;
    } else if (key == "fail_next") {
      EMU_TRY(canned_list(val, "fail_next"), fail_next);
    } else if (key == "fail_next_by_route") {
      if (!val.is_object())
        return bad("fail_next_by_route must be an object {\"METHOD /v1/PATH\": [answers]}");
      for (const auto& [route, list] : val.get_object()) {
        auto r = route_key(route);
        if (!r) return r.error();
        auto answers = canned_list(list, "fail_next_by_route[" + std::string(route) + "]");
        if (!answers) return answers.error();
        r->answers = std::move(*answers);
        s.fail_next_by_route.push_back(std::move(*r));
      }
    } else if (key == "burst_429") {
      if (!val.is_object()) return bad("burst_429 must be an object {count, retry_after}");
      for (const auto& [k, b] : val.get_object()) {
        if (k == "count") {
          EMU_TRY(count(b, "burst_429.count"), burst_429_count);
        } else if (k == "retry_after") {
          EMU_TRY(count(b, "burst_429.retry_after"), burst_429_retry_after);
        } else {
          return bad("unknown key burst_429." + std::string(k));
        }
      }
    } else if (key == "reset_next") {
      EMU_TRY(count(val, "reset_next"), reset_next);
    } else if (key == "accept_then_reset_next") {
      EMU_TRY(count(val, "accept_then_reset_next"), accept_then_reset_next);
    } else if (key == "delay_ms") {
      EMU_TRY(count(val, "delay_ms"), delay_ms);
    } else if (key == "unknown_emails") {
      EMU_TRY(strings(val, "unknown_emails", true), unknown_emails);
    } else if (key == "unknown_rooms") {
      EMU_TRY(strings(val, "unknown_rooms", false), unknown_rooms);
    } else if (key == "disable_webhook_after_failures") {
      EMU_TRY(count(val, "disable_webhook_after_failures"), disable_webhook_after_failures);
    } else if (key == "violation_grace_ms") {
      EMU_TRY(count(val, "violation_grace_ms"), violation_grace_ms);
    } else {
      return bad("unknown key " + std::string(key));
    }
#undef EMU_TRY
  }
  return s;
}

void Faults::set(FaultSettings s) {
  s_ = std::move(s);
  rng_.seed(s_.seed);
}

double Faults::draw() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

FaultDecision Faults::decide(std::string_view method, std::span<const std::string> segments) {
  const bool message_post = method == "POST" && segments.size() == 2 && segments[1] == "messages";
  FaultDecision d;
  auto take = [&](std::deque<CannedAnswer>& list) {
    CannedAnswer a = list.front();
    list.pop_front();
    d.kind = a.reset ? FaultDecision::reset : FaultDecision::canned;
    d.answer = a;
  };
  // The most literal route with answers left: "GET /v1/people/me" before "/v1/people/{id}".
  RouteFaults* route = nullptr;
  for (auto& r : s_.fail_next_by_route)
    if (!r.answers.empty() && route_matches(r, method, segments) &&
        (!route || literal_segments(r) > literal_segments(*route)))
      route = &r;
  // Ratios draw only when set, so adding one fault does not reshuffle the others' sequence.
  if (s_.reset_next > 0) {
    --s_.reset_next;
    d.kind = FaultDecision::reset;
  } else if (s_.reset_ratio > 0 && draw() < s_.reset_ratio) {
    d.kind = FaultDecision::reset;
  } else if (s_.burst_429_count > 0) {
    --s_.burst_429_count;
    d.kind = FaultDecision::canned;
    d.answer = CannedAnswer{429, s_.burst_429_retry_after};
  } else if (message_post && !s_.fail_next.empty()) {
    take(s_.fail_next);
  } else if (route) {
    take(route->answers);
  } else if (s_.error_5xx_ratio > 0 && draw() < s_.error_5xx_ratio) {
    static constexpr unsigned codes[] = {500, 502, 503};
    d.kind = FaultDecision::canned;
    d.answer = CannedAnswer{codes[rng_() % 3], std::nullopt};
  } else if (message_post && s_.accept_then_reset_next > 0) {
    --s_.accept_then_reset_next;
    d.reset_after_processing = true;
  }
  return d;
}

bool RateLimitWatch::arrived(std::int64_t now_ms, std::string request_line, unsigned grace_ms) {
  while (!open_.empty() && open_.front().until_ms <= now_ms) open_.pop_front();
  if (open_.empty()) return false;
  const std::int64_t after = now_ms - open_.front().opened_ms;
  if (after <= static_cast<std::int64_t>(grace_ms)) return false;
  ++violations_;
  recent_.push_back(RateLimitViolation{std::move(request_line), after});
  if (recent_.size() > kept_violations) recent_.pop_front();
  return true;
}

void RateLimitWatch::answered_429(std::int64_t now_ms, unsigned retry_after_s) {
  if (retry_after_s == 0) return;  // "retry now": nothing to wait for
  ++windows_;
  const Window w{now_ms, now_ms + std::int64_t{retry_after_s} * 1000};
  if (open_.empty() || open_.back().until_ms < w.until_ms) open_.push_back(w);
}

}  // namespace emu
