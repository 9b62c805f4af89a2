#include "json_util.hpp"

#include <array>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace emu {
namespace json = boost::json;

void throw_exception_from_error(const ApiError& e, const boost::source_location&) {
  throw std::logic_error("unexpected ApiError: " + e.message);
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 80> out{};  // roomy: the compiler cannot bound tm_year
  std::snprintf(out.data(), out.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return out.data();
}

Outcome json_answer(unsigned status, const json::value& body) {
  Outcome out;
  out.status = status;
  out.body = json::serialize(body);
  return out;
}

Outcome error_answer(const ApiError& e, std::string_view tracking_id) {
  json::object body;
  body["message"] = e.message;
  body["errors"] = json::array{json::object{{"description", e.message}}};
  body["trackingId"] = tracking_id;
  return json_answer(e.status, body);
}

Result<std::optional<std::string>> opt_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_string()) return ApiError{400, "'" + std::string(key) + "' must be a string"};
  return std::optional<std::string>{std::string(it->value().get_string())};
}

Result<std::string> req_string(const json::object& o, std::string_view key) {
  auto s = opt_string(o, key);
  if (!s) return s.error();
  if (!*s || (*s)->empty()) return ApiError{400, "'" + std::string(key) + "' is required"};
  return std::move(**s);
}

}  // namespace emu
