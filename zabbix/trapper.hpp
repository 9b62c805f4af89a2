#pragma once
// A small client for the Zabbix server's trapper port (10051): one request, one answer, then
// the connection closes. Zpark uses it for `status.get`, the request behind the frontend's
// "System information" widget, which no JSON-RPC method answers.
//
// Wire format (Zabbix 4.0+, checked on 6.0.14): "ZBXD", a flags byte (0x01 protocol,
// 0x02 zlib-compressed, 0x04 large packet), then the data length and a reserved length
// (uncompressed size) as little-endian integers, 4 bytes each (8 each with the large-packet
// flag), then the JSON text. The server answers {"response":"success","data":...} or
// {"response":"failed","info":"Permission denied."}.
//
// Framing and answers are pure functions below, tested without I/O; request() is the thin
// I/O part, bounded by one timeout from resolve to the last byte.
#include "zabbix/client.hpp"  // Error, Result

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace zpark::zabbix::trapper {

inline constexpr std::string_view default_port = "10051";
// Larger answers are refused; status.get answers are a few KiB even with hundreds of proxies.
inline constexpr std::size_t max_answer = 16 * 1024 * 1024;

// ---- pure parts ----------------------------------------------------------------------------

struct Address {
  std::string host;
  std::string port;
};

// "zabbix.example.com", "10.0.0.5:10051", "[2001:db8::1]:10051", "2001:db8::1" (a bare IPv6
// address, no port) -> host and port (10051 when absent). A config error names
// ZABBIX_SERVER_ADDRESS.
Result<Address> parse_address(std::string_view text);

// "ZBXD\x01" + 4-byte LE length + 4 reserved zero bytes + json.
std::string encode(std::string_view json);

// The JSON text of one complete answer at the start of `bytes`, nullopt while more bytes are
// needed, or a parse error (not "ZBXD", a compressed answer, larger than `limit`).
Result<std::optional<std::string>> decode(std::string_view bytes, std::size_t limit = max_answer);

// The "data" of a successful answer to `request` (true when it has none); an rpc error with
// Zabbix's "info" as zabbix_text for "failed"; a parse error for anything else.
Result<boost::json::value> parse_response(std::string_view request, std::string_view json);

// {"request":"status.get","type":"full","sid":sid}
boost::json::value status_request(std::string_view sid);

// ---- I/O -----------------------------------------------------------------------------------

// Sends `request` (a JSON object with "request") to `address` ("host[:port]") and returns
// parse_response() of the answer. Transport errors and the timeout come back as
// Error::Kind::transport naming ZABBIX_SERVER_ADDRESS.
boost::asio::awaitable<Result<boost::json::value>> request(std::string address,
                                                           boost::json::value request,
                                                           std::chrono::milliseconds timeout);

}  // namespace zpark::zabbix::trapper
