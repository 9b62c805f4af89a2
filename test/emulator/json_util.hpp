// Small JSON helpers: Webex-style answers and error bodies, typed field readers.
#pragma once
#include <boost/assert/source_location.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "types.hpp"

namespace emu {

template <class T>
using Result = boost::system::result<T, ApiError>;

// Lets Result<T>::value() throw; found by ADL. Only reached through programming errors.
[[noreturn]] void throw_exception_from_error(const ApiError& e, const boost::source_location&);

// "2024-05-01T12:00:00.123Z", the format Webex uses for created/updated.
std::string iso8601(std::chrono::system_clock::time_point t);

Outcome json_answer(unsigned status, const boost::json::value& body);
// {"message":..., "errors":[{"description":...}], "trackingId":...}
Outcome error_answer(const ApiError& e, std::string_view tracking_id);

// Optional string field: absent or null gives nullopt; any other non-string is a 400.
Result<std::optional<std::string>> opt_string(const boost::json::object& o, std::string_view key);
// Required non-empty string field.
Result<std::string> req_string(const boost::json::object& o, std::string_view key);

}  // namespace emu
