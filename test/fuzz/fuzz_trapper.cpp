// The Zabbix server's trapper protocol (zabbix/trapper.hpp): framing, answers, addresses.
//
// Input: raw bytes, read as what the server sent (decode), as the JSON of an answer
// (parse_response), as ZABBIX_SERVER_ADDRESS (parse_address), and framed by encode().
//
// Checks: nothing throws; decode of a growing prefix of the same bytes asks for more, then
// settles on one result that later bytes do not change (an error stays an error, the first
// complete answer stays the same); a decoded answer is what the length said, never over the
// limit; encode then decode gives back the text whatever follows it; parse_response gives
// "data" (or true) for "success", an rpc error for anything else with a "response", and a
// parse error otherwise, always with a message; a parsed address has a host and a port from 1
// to 65535.
#include "test/fuzz/check.hpp"
#include "zabbix/reports.hpp"
#include "zabbix/trapper.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <optional>

namespace {

namespace json = boost::json;
namespace zbx = zpark::zabbix;
namespace trapper = zpark::zabbix::trapper;

// Compares two decode results: both errors, both "more", or the same answer.
enum class Outcome { more, answer, error };
Outcome outcome(const zbx::Result<std::optional<std::string>>& r) {
  if (!r) return Outcome::error;
  return *r ? Outcome::answer : Outcome::more;
}

void check_decode(std::string_view bytes, std::size_t limit) {
  const auto full = trapper::decode(bytes, limit);
  if (!full) FUZZ_CHECK(!full.error().message.empty() && full.error().kind == zbx::Error::Kind::parse);
  if (full && *full) FUZZ_CHECK((*full)->size() <= limit && (*full)->size() + 13 <= bytes.size());
  // Prefixes: every short one, and a few long ones.
  Outcome settled = Outcome::more;
  for (std::size_t n = 0;; n = std::min(bytes.size(), n < 32 ? n + 1 : n + 1 + (bytes.size() - n) / 2)) {
    const auto r = trapper::decode(bytes.substr(0, n), limit);
    const Outcome o = outcome(r);
    if (settled != Outcome::more) FUZZ_CHECK(o == settled);  // later bytes change nothing
    if (o == Outcome::answer) FUZZ_CHECK(**r == **full);
    settled = o;
    if (n == bytes.size()) break;
  }
  FUZZ_CHECK(settled == outcome(full));
}

void check_roundtrip(std::string_view text, std::string_view after) {
  std::string framed = trapper::encode(text);
  FUZZ_CHECK(framed.size() == text.size() + 13);
  framed += after;
  const auto r = trapper::decode(framed, text.size() + 1);
  FUZZ_CHECK(r && *r && **r == text);
}

void check_response(std::string_view text) {
  const auto r = trapper::parse_response("status.get", text);
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  const json::object* o = !ec ? v.if_object() : nullptr;
  const json::string* response = nullptr;
  if (o)
    if (auto* p = o->if_contains("response")) response = p->if_string();
  if (r) {
    FUZZ_CHECK(response && *response == "success");
    FUZZ_CHECK(o->contains("data") ? *r == o->at("data") : *r == json::value(true));
    // What `show status` makes of it.
    if (auto s = zbx::status_from_server(*r)) FUZZ_CHECK(s->triggers_enabled == s->triggers_problem + s->triggers_ok);
    return;
  }
  FUZZ_CHECK(!r.error().message.empty());
  FUZZ_CHECK(r.error().kind == (response ? zbx::Error::Kind::rpc : zbx::Error::Kind::parse));
}

void check_address(std::string_view text) {
  const auto a = trapper::parse_address(text);
  if (!a) {
    FUZZ_CHECK(a.error().kind == zbx::Error::Kind::config && !a.error().message.empty());
    return;
  }
  FUZZ_CHECK(!a->host.empty() && !a->port.empty());
  FUZZ_CHECK(a->port.find_first_not_of("0123456789") == std::string::npos);
  const auto digits = a->port.find_first_not_of('0');  // leading zeros are allowed
  FUZZ_CHECK(digits != std::string::npos && a->port.size() - digits <= 5);
  const unsigned long port = std::stoul(a->port.substr(digits));
  FUZZ_CHECK(port >= 1 && port <= 65535);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz_bytes(data, size);
  check_decode(in, trapper::max_answer);
  check_decode(in, size > 0 ? data[0] : 0);  // a small limit, so that "too large" is reached
  // Skip what looks like a frame header, so the fuzzer's JSON reaches parse_response too.
  const std::string_view body = in.starts_with("ZBXD") && in.size() >= 13 ? in.substr(13) : in;
  check_response(body);
  check_address(body);
  check_roundtrip(body, in);
  return 0;
}
