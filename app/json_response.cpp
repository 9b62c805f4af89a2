#include "app/json_response.hpp"

#include <boost/json/serialize.hpp>

namespace zpark::app {

net::Response json_response(boost::beast::http::status status, const boost::json::value& body) {
  net::Response res{status, 11};
  res.set(boost::beast::http::field::content_type, "application/json");
  res.body() = boost::json::serialize(body) + "\n";
  res.prepare_payload();
  return res;
}

net::Response json_message(boost::beast::http::status status, std::string_view message) {
  return json_response(status, boost::json::object{{"message", message}});
}

}  // namespace zpark::app
