#pragma once
// API token check for ping/alert/tasks: header `Token: T` (original) or
// `Authorization: Bearer T`. Compared in constant time.
#include "net/http_server.hpp"

#include <string_view>

namespace zpark::app {

// The token the client presented, empty when none. Takes the header alone so that a request
// can be refused before its body is read.
std::string_view presented_token(const boost::beast::http::fields& header);
bool constant_time_equal(std::string_view a, std::string_view b);
bool authorized(const boost::beast::http::fields& header, std::string_view expected);

}  // namespace zpark::app
