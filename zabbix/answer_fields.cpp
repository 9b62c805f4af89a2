#include "zabbix/answer_fields.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <charconv>

namespace zpark::zabbix {

namespace json = boost::json;

std::int64_t to_int(const json::value* v, std::int64_t fallback) {
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) {
    // Converting a double out of int64's range (1e300, NaN) is undefined behaviour.
    const double d = v->get_double();
    return d >= -0x1p63 && d < 0x1p63 ? static_cast<std::int64_t>(d) : fallback;
  }
  if (v->is_string()) {
    const auto& s = v->get_string();
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc{} && p == s.data() + s.size()) return out;
  }
  return fallback;
}

std::int64_t int_member(const json::object& o, std::string_view key, std::int64_t fallback) {
  return to_int(o.if_contains(key), fallback);
}

std::string str_member(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

const json::object* object_member(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

const json::array* array_member(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

Error bad_answer(std::string_view method, const json::value& v) {
  std::string text = json::serialize(v);
  if (text.size() > 80) text = text.substr(0, 80) + "...";
  Error e;
  e.kind = Error::Kind::parse;
  e.message = fmt::format("Zabbix answered {} with {}, not what it should", method, text);
  return e;
}

}  // namespace zpark::zabbix
