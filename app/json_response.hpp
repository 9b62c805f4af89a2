#pragma once
// JSON answers: compact JSON plus a newline, Content-Type application/json.
#include "net/http_server.hpp"

#include <boost/json/value.hpp>

namespace zpark::app {

net::Response json_response(boost::beast::http::status status, const boost::json::value& body);
net::Response json_message(boost::beast::http::status status, std::string_view message);

}  // namespace zpark::app
