// A request decoded once (path segments, query, JSON body) for the route handlers.
#pragma once
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json_util.hpp"
#include "types.hpp"

namespace emu {

struct Request {
  std::string method;
  std::string target;                 // path with query, as received
  std::vector<std::string> segments;  // percent-decoded: {"v1", "messages", "<id>"}
  std::vector<std::pair<std::string, std::string>> query;
  std::string content_type;
  std::string host;
  boost::json::value body;    // null when the body is empty or not JSON
  bool body_invalid = false;  // a non-empty body that is not JSON
  std::string raw_body;       // multipart/form-data bodies only (file uploads)
  Now now;
  std::string now_iso;
  std::string tracking_id;

  std::optional<std::string_view> param(std::string_view name) const;
  // Segment i, or "" past the end, so routing can compare without bounds checks.
  std::string_view seg(std::size_t i) const;
};

// Fails (400) only on a target that is not a valid origin-form URL.
Result<Request> decode_request(const HttpIn& in, const Now& now, std::string tracking_id);

}  // namespace emu
