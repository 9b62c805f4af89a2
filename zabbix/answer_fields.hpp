#pragma once
// Reading fields of Zabbix API answers, which send numbers as strings ("4") and status.get as
// numbers: shared by the command queries (reports) and actions.
#include "zabbix/client.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace zpark::zabbix {

// A number, or a string holding a whole number; `fallback` otherwise.
std::int64_t to_int(const boost::json::value* v, std::int64_t fallback = 0);
std::int64_t int_member(const boost::json::object& o, std::string_view key, std::int64_t fallback = 0);
std::string str_member(const boost::json::object& o, std::string_view key);  // "" unless a string
const boost::json::object* object_member(const boost::json::object& o, std::string_view key);
const boost::json::array* array_member(const boost::json::object& o, std::string_view key);

// A parse error for an answer to `method` of the wrong shape, quoting its start.
Error bad_answer(std::string_view method, const boost::json::value& v);

}  // namespace zpark::zabbix
