#include "paging.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "ids.hpp"

namespace emu {
namespace json = boost::json;

Result<std::size_t> parse_max(std::optional<std::string_view> text, std::size_t fallback,
                              std::size_t limit) {
  if (!text) return fallback;
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc{} || end != text->data() + text->size() || n < 1 || n > limit)
    return ApiError{400, "max must be an integer between 1 and " + std::to_string(limit)};
  return n;
}

std::string encode_cursor(const json::object& state) {
  return base64url_encode(json::serialize(state));
}

std::optional<json::object> decode_cursor(std::string_view cursor) {
  auto raw = base64url_decode(cursor);
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(*raw, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::optional<std::uint64_t> cursor_number(const json::object& state, std::string_view key) {
  const auto* v = state.if_contains(key);
  if (!v || !v->is_number()) return std::nullopt;
  std::error_code ec;
  auto n = v->to_number<std::uint64_t>(ec);
  if (ec) return std::nullopt;
  return n;
}

Page paginate(std::size_t total, std::size_t offset, std::size_t max) {
  Page p;
  p.begin = std::min(offset, total);
  p.end = std::min(total, p.begin + max);
  p.more = p.end < total;
  return p;
}

std::string next_link(std::string_view host, std::string_view path, std::size_t max,
                      std::string_view cursor) {
  std::string link = "<https://";
  link.append(host).append(path).append("?max=").append(std::to_string(max));
  link.append("&cursor=").append(cursor).append(">; rel=\"next\"");
  return link;
}

}  // namespace emu
