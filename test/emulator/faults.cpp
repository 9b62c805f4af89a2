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

Result<CannedAnswer> canned(const json::value& v) {
  if (!v.is_object()) return bad("fail_next entries must be objects");
  CannedAnswer a;
  for (const auto& [k, val] : v.get_object()) {
    if (k == "status") {
      auto s = count(val, "fail_next.status");
      if (!s || *s < 400 || *s > 599) return bad("fail_next.status must be within 400..599");
      a.status = *s;
    } else if (k == "retry_after") {
      auto r = count(val, "fail_next.retry_after");
      if (!r) return r.error();
      a.retry_after = *r;
    } else {
      return bad("unknown key fail_next." + std::string(k));
    }
  }
  return a;
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
      if (!val.is_array()) return bad("fail_next must be an array");
      for (const auto& e : val.get_array()) {
        auto a = canned(e);
        if (!a) return a.error();
        s.fail_next.push_back(*a);
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

FaultDecision Faults::decide(bool is_message_post) {
  FaultDecision d;
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
  } else if (is_message_post && !s_.fail_next.empty()) {
    d.kind = FaultDecision::canned;
    d.answer = s_.fail_next.front();
    s_.fail_next.pop_front();
  } else if (s_.error_5xx_ratio > 0 && draw() < s_.error_5xx_ratio) {
    static constexpr unsigned codes[] = {500, 502, 503};
    d.kind = FaultDecision::canned;
    d.answer = CannedAnswer{codes[rng_() % 3], std::nullopt};
  } else if (is_message_post && s_.accept_then_reset_next > 0) {
    --s_.accept_then_reset_next;
    d.reset_after_processing = true;
  }
  return d;
}

}  // namespace emu
