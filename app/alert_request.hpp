#pragma once
// Reading POST /api/v1/alert bodies: the original fields (to, subject, optional message)
// with the original's leniency (scalars as text, first element of a list, null = missing),
// plus the optional event fields sent by Zpark's Zabbix media type. `to` may also be a list
// of recipients; a recipient named twice gets one alert; control characters other than
// newline and tab are dropped from the text.
#include "spark/alert.hpp"

#include <boost/json/value.hpp>

#include <variant>

#include <string>
#include <vector>

namespace zpark::app {

struct AlertRequest {
  std::string to_as_given;           // echoed in the answer
  std::vector<spark::Alert> alerts;  // one per recipient, same text
};

struct AlertRequestError {
  std::string field;  // "to", "subject", ...
  std::string why;    // ends with "Required." for missing fields, like the original
};

// Either a request or the first problem found (checked in the order to, subject, ...).
std::variant<AlertRequest, AlertRequestError> parse_alert_request(const boost::json::value& body);

}  // namespace zpark::app
