// Zabbix JSON-RPC answers, and what the bot makes of them: parse_answer (zabbix/client.hpp),
// problems_from_triggers, status_from_server and host_details_from (zabbix/reports.hpp), then
// the chat replies built from their results (spark/replies.hpp).
//
// Input: byte 0 picks the HTTP status (mostly 200), the rest is the answer body. The body is
// also read as a bare "result" (the reports' input), so the fuzzer need not find the JSON-RPC
// envelope first.
//
// Checks: nothing throws; an answer is accepted only with status 200, as a JSON object whose
// "result" it returns; an {"error": {...}} object is an rpc error whatever the status, other
// failures http (status) or parse (body); every error has a message. Reports: one problem per
// trigger object; status figures add up (enabled triggers = problem + ok, users = online +
// offline); interfaces list main ones first with known type and availability words; groups
// sorted. Replies (issues, status, host): valid UTF-8, at most 7439 bytes, no mention but the
// caller's greeting. Also parse_version, dialect_for, frontend_url and login_pause_after on
// the same bytes.
#include "spark/message_format.hpp"
#include "spark/replies.hpp"
#include "test/fuzz/check.hpp"
#include "zabbix/client.hpp"
#include "zabbix/reports.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace {

namespace json = boost::json;
namespace zbx = zpark::zabbix;
using zpark::fuzz::valid_utf8;

constexpr std::int64_t kNow = 1'700'000'000;

void check_reply(const std::string& reply) {
  FUZZ_CHECK(valid_utf8(reply));
  FUZZ_CHECK(reply.size() <= zpark::spark::kMaxMessageBytes);
  const auto mention = reply.find("<@");
  // The only mention is the greeting (the caller below is mentionable).
  FUZZ_CHECK(mention == std::string::npos || mention == 3);
  if (mention != std::string::npos) FUZZ_CHECK(reply.find("<@", mention + 2) == std::string::npos);
}

const zpark::spark::Caller kCallers[] = {{"alice@example.com", "Alice", true}, {"bob@example.com", "", false}};

void check_reports(const json::value& result) {
  // show issues
  const auto problems = zbx::problems_from_triggers(result);
  std::size_t objects = 0;
  if (const auto* a = result.if_array())
    for (const auto& v : *a) objects += v.is_object();
  FUZZ_CHECK(problems.size() == objects);
  zbx::ProblemReport report;
  report.total = problems.size() + (objects % 3);
  report.problems.assign(problems.begin(), problems.begin() + std::min<std::size_t>(problems.size(), 50));
  zbx::ProblemFilter filter;
  filter.min_severity = 2;
  filter.host = problems.empty() ? "db01" : problems.front().host;
  for (const auto& caller : kCallers) {
    check_reply(zpark::spark::issues_reply(caller, report, kNow, false));
    check_reply(zpark::spark::issues_reply(caller, report, kNow, filter));
  }

  // show status
  if (auto status = zbx::status_from_server(result)) {
    FUZZ_CHECK(status->from_server);
    FUZZ_CHECK(status->triggers_enabled == status->triggers_problem + status->triggers_ok);
    FUZZ_CHECK(status->users_online && status->users >= *status->users_online);
    status->version = "6.0.14";
    for (const auto& caller : kCallers) check_reply(zpark::spark::status_reply(caller, *status));
  } else {
    FUZZ_CHECK(!status.error().message.empty());
  }

  // show host: each object of a host.get answer
  zbx::HostLookup many;
  const json::array* hosts = result.if_array();
  if (!hosts) return;
  for (const auto& v : *hosts) {
    const auto* o = v.if_object();
    if (!o) continue;
    zbx::HostDetails d = zbx::host_details_from(*o);
    FUZZ_CHECK(std::is_sorted(d.groups.begin(), d.groups.end()));
    FUZZ_CHECK(std::is_sorted(d.interfaces.begin(), d.interfaces.end(),
                              [](const auto& a, const auto& b) { return a.main > b.main; }));
    for (const auto& i : d.interfaces) {
      FUZZ_CHECK(i.type == "agent" || i.type == "SNMP" || i.type == "IPMI" || i.type == "JMX" || i.type == "unknown");
      FUZZ_CHECK(i.available == "available" || i.available == "unavailable" || i.available == "unknown");
    }
    if (d.name.empty()) FUZZ_CHECK(d.host.empty());
    d.problems = problems;
    many.candidates.push_back(d.name);
    zbx::HostLookup one;
    one.host = std::move(d);
    for (const auto& caller : kCallers) check_reply(zpark::spark::host_reply(caller, one, "db01", kNow));
  }
  for (const auto& caller : kCallers) check_reply(zpark::spark::host_reply(caller, many, "db", kNow));
}

void check_answer(unsigned status, std::string_view body) {
  auto r = zbx::parse_answer("trigger.get", status, body, "http://zabbix.example.com/zabbix");
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  const json::object* o = !ec ? v.if_object() : nullptr;
  const json::value* err = o ? o->if_contains("error") : nullptr;
  const bool rpc_error = err && err->is_object();
  if (r) {
    FUZZ_CHECK(status == 200 && o && !rpc_error && o->contains("result"));
    FUZZ_CHECK(*r == o->at("result"));
    check_reports(*r);
    return;
  }
  const auto& e = r.error();
  FUZZ_CHECK(!e.message.empty());
  FUZZ_CHECK(!zbx::to_string(e.kind).empty());
  if (rpc_error) FUZZ_CHECK(e.kind == zbx::Error::Kind::rpc);
  else if (status != 200) FUZZ_CHECK(e.kind == zbx::Error::Kind::http);
  else FUZZ_CHECK(e.kind == zbx::Error::Kind::parse);
  if (zbx::is_session_expired(e)) FUZZ_CHECK(e.kind == zbx::Error::Kind::rpc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr unsigned statuses[] = {200, 200, 200, 200, 200, 200, 401, 404, 412, 500, 502, 503};
  const unsigned status = statuses[data[0] % std::size(statuses)];
  const std::string_view body = fuzz_bytes(data + 1, size - 1);
  check_answer(status, body);

  // The reports read "result" values: try the body as one directly.
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (!ec) check_reports(v);

  if (auto version = zbx::parse_version(body)) {
    FUZZ_CHECK(version->text == body);
    const auto d = zbx::dialect_for(*version);
    FUZZ_CHECK(d.login_user_key == "username" || d.login_user_key == "user");
  }
  const std::string url = zbx::frontend_url(body);
  FUZZ_CHECK(url.size() <= body.size());
  const auto base = std::chrono::milliseconds(static_cast<unsigned char>(data[0]) * 1000);
  const auto pause = zbx::login_pause_after(data[0] % 40, base);
  FUZZ_CHECK(pause >= std::chrono::milliseconds::zero());
  FUZZ_CHECK(pause <= std::max<std::chrono::milliseconds>(base, std::chrono::minutes(10)));
  return 0;
}
