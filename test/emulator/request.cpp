#include "request.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

namespace emu {

std::optional<std::string_view> Request::param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::string_view Request::seg(std::size_t i) const {
  return i < segments.size() ? std::string_view(segments[i]) : std::string_view();
}

Result<Request> decode_request(const HttpIn& in, const Now& now, std::string tracking_id) {
  auto url = boost::urls::parse_origin_form(in.target);
  if (!url) return ApiError{400, "request target is not a valid URL path"};
  Request r;
  r.method = in.method;
  r.target = in.target;
  for (auto s : url->segments()) r.segments.emplace_back(s);
  if (!r.segments.empty() && r.segments.back().empty()) r.segments.pop_back();  // "/x/"
  for (auto p : url->params()) r.query.emplace_back(p.key, p.value);
  r.content_type = in.content_type;
  r.host = in.host;
  if (in.content_type.starts_with("multipart/form-data")) {
    r.raw_body = in.body;
  } else if (!in.body.empty()) {
    boost::system::error_code ec;
    r.body = boost::json::parse(in.body, ec);
    if (ec) {
      r.body = nullptr;
      r.body_invalid = true;
    }
  }
  r.now = now;
  r.now_iso = iso8601(now.wall);
  r.tracking_id = std::move(tracking_id);
  return r;
}

}  // namespace emu
