// Webex-style pagination: a `max` parameter and a `Link: <...>; rel="next"` header whose URL
// carries an opaque cursor. The cursor holds the listing's filters, so the next URL is only
// `?max=N&cursor=...`.
#pragma once
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "json_util.hpp"

namespace emu {

// `max` query value: absent gives fallback; must be an integer within 1..limit.
Result<std::size_t> parse_max(std::optional<std::string_view> text, std::size_t fallback,
                              std::size_t limit);

std::string encode_cursor(const boost::json::object& state);
std::optional<boost::json::object> decode_cursor(std::string_view cursor);
// A whole number >= 0 stored in a cursor (parsing yields int64, so is_uint64 is not enough).
std::optional<std::uint64_t> cursor_number(const boost::json::object& state, std::string_view key);

struct Page {
  std::size_t begin = 0, end = 0;
  bool more = false;
};
Page paginate(std::size_t total, std::size_t offset, std::size_t max);

// `<https://HOST/v1/rooms?max=N&cursor=C>; rel="next"`
std::string next_link(std::string_view host, std::string_view path, std::size_t max,
                      std::string_view cursor);

}  // namespace emu
