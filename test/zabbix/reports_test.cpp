// The Zabbix side of the bot commands (`show issues`, `show status`, `show host`):
//   - pure parts without I/O: trapper framing and answers, status.get data -> StatusReport,
//     trigger.get answers -> Problem, host.get objects -> HostDetails, the login pause;
//   - the trapper client against loopback fakes (answer in pieces, silence, not Zabbix,
//     nothing listening);
//   - the real Zabbix 6.0 of test/zabbix/lab.sh (ctest fixture zabbix_lab; skipped without
//     its env file): the test makes its own groups, hosts (one disabled), template, items
//     (a disabled one, one that turns not supported), web scenarios and triggers, raises
//     problems with zabbix_sender, checks every report against them, and deletes it all.
// Everything runs on one io_context per test case, bounded by run()'s time limit.
// Note (GCC bug 107288): json values and option structs are built in their own statements,
// never as temporaries inside a co_await expression.
#define BOOST_TEST_MODULE zabbix_reports_test
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "test/support/zabbix_lab.hpp"
#include "zabbix/client.hpp"
#include "zabbix/reports.hpp"
#include "zabbix/trapper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace zpark::zabbix {
std::ostream& operator<<(std::ostream& os, Error::Kind kind) { return os << to_string(kind); }
}  // namespace zpark::zabbix

#ifndef ZABBIX_LAB_ENV
#define ZABBIX_LAB_ENV ""
#endif

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace utf = boost::unit_test;
namespace zbx = zpark::zabbix;
namespace trapper = zpark::zabbix::trapper;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using zbx::Client;
using zbx::Error;
using zbx::Options;
using zbx::Problem;
using zbx::ProblemFilter;
using zbx::StatusReport;
using zbx::StatusSource;
using Kind = zbx::Error::Kind;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs one test coroutine on `io`; its exceptions fail the test, so does the time limit.
void run(asio::io_context& io, asio::awaitable<void> task, std::chrono::seconds limit = 60s) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
    error = e;
    done = true;
    io.stop();
  });
  io.run_for(limit);
  if (error) std::rethrow_exception(error);
  BOOST_REQUIRE_MESSAGE(done, "the test did not finish within " << limit.count() << " s");
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_tuple);
}

// "host | name | Severity", plus " | ack" when acknowledged: what a reply line shows.
std::vector<std::string> lines(const std::vector<Problem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) {
    out.push_back(p.host + " | " + p.name + " | " + zbx::severity_name(p.severity) +
                  (p.acknowledged ? " | ack" : ""));
  }
  return out;
}

// ---- pure: the trapper protocol ----------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(pure)

BOOST_AUTO_TEST_CASE(frames_a_request_like_the_frontend) {
  const std::string frame = trapper::encode(R"({"request":"status.get"})");
  const std::string expected = std::string("ZBXD\x01\x18\x00\x00\x00\x00\x00\x00\x00", 13) +
                               R"({"request":"status.get"})";
  BOOST_TEST(frame == expected);
  const json::value req = trapper::status_request("abc");
  BOOST_TEST(req == json::parse(R"({"request":"status.get","type":"full","sid":"abc"})"));
}

BOOST_AUTO_TEST_CASE(decodes_answers_as_they_arrive) {
  const std::string payload = R"({"response":"success","data":{}})";
  const std::string frame = trapper::encode(payload);
  // Every prefix asks for more; the whole frame gives the payload; bytes after it are ignored.
  for (std::size_t n = 0; n < frame.size(); ++n) {
    auto r = trapper::decode(std::string_view(frame).substr(0, n));
    BOOST_REQUIRE_MESSAGE(r, "prefix " << n << ": " << r.error().message);
    BOOST_TEST(!r->has_value(), "prefix " << n);
  }
  auto whole = trapper::decode(frame + "junk");
  BOOST_REQUIRE(whole);
  BOOST_REQUIRE(whole->has_value());
  BOOST_TEST(**whole == payload);

  // The large-packet flag (0x04): 8-byte lengths.
  std::string large = std::string("ZBXD\x05", 5);
  large += std::string("\x02\x00\x00\x00\x00\x00\x00\x00", 8) + std::string(8, '\0') + "{}";
  auto l = trapper::decode(large);
  BOOST_REQUIRE(l);
  BOOST_REQUIRE(l->has_value());
  BOOST_TEST(**l == "{}");
}

BOOST_AUTO_TEST_CASE(refuses_what_it_cannot_read) {
  auto http = trapper::decode("HTTP/1.1 400 Bad Request\r\n");
  BOOST_REQUIRE(!http);
  BOOST_TEST(http.error().kind == Kind::parse);
  BOOST_TEST(has(http.error().message, "does not start with ZBXD but 'HTTP/1.1 400 Bad Request..'"));
  BOOST_TEST(has(http.error().message, "trapper port"));
  BOOST_TEST(!trapper::decode("ZB!"));  // wrong from the third byte on: no need to wait

  auto compressed = trapper::decode(std::string("ZBXD\x03\x02\x00\x00\x00\x02\x00\x00\x00xx", 15));
  BOOST_REQUIRE(!compressed);
  BOOST_TEST(has(compressed.error().message, "compressed"));

  auto big = trapper::decode(std::string("ZBXD\x01\x00\x00\x00\x01\x00\x00\x00\x00", 13), 1000);
  BOOST_REQUIRE(!big);
  BOOST_TEST(has(big.error().message, "16777216 bytes, more than the 1000"));
}

BOOST_AUTO_TEST_CASE(reads_success_and_failure) {
  auto ok = trapper::parse_response("status.get", R"({"response":"success","data":{"a":1}})");
  BOOST_REQUIRE(ok);
  BOOST_TEST(*ok == json::parse(R"({"a":1})"));
  auto no_data = trapper::parse_response("status.get", R"({"response":"success"})");
  BOOST_REQUIRE(no_data);
  BOOST_TEST(*no_data == json::value(true));

  auto denied = trapper::parse_response("status.get", R"({"response":"failed","info":"Permission denied."})");
  BOOST_REQUIRE(!denied);
  BOOST_TEST(denied.error().kind == Kind::rpc);
  BOOST_TEST(denied.error().zabbix_text == "Permission denied.");
  BOOST_TEST(denied.error().message == "the Zabbix server refused status.get: Permission denied.");

  auto garbage = trapper::parse_response("status.get", "<html>");
  BOOST_REQUIRE(!garbage);
  BOOST_TEST(garbage.error().kind == Kind::parse);
}

struct AddressCase {
  const char* text;
  const char* host;
  const char* port;
};
std::ostream& operator<<(std::ostream& os, const AddressCase& c) { return os << c.text; }

const AddressCase addresses[] = {
    {"zabbix.example.com", "zabbix.example.com", "10051"},
    {"10.0.0.5:10052", "10.0.0.5", "10052"},
    {" 127.0.0.1:28467 ", "127.0.0.1", "28467"},
    {"[2001:db8::1]:10051", "2001:db8::1", "10051"},
    {"[::1]", "::1", "10051"},
    {"2001:db8::1", "2001:db8::1", "10051"},
};

BOOST_DATA_TEST_CASE(server_addresses, utf::data::make(addresses), c) {
  auto a = trapper::parse_address(c.text);
  BOOST_REQUIRE_MESSAGE(a, a.error().message);
  BOOST_TEST(a->host == c.host);
  BOOST_TEST(a->port == c.port);
}

const char* const bad_addresses[] = {"", "   ", ":10051", "host:", "host:port", "host:70000",
                                     "host:0", "[::1", "[::1]x"};

BOOST_DATA_TEST_CASE(bad_server_addresses, utf::data::make(bad_addresses), text) {
  auto a = trapper::parse_address(text);
  BOOST_REQUIRE(!a);
  BOOST_TEST(a.error().kind == Kind::config);
  BOOST_TEST(has(a.error().message, "ZABBIX_SERVER_ADDRESS="));
  BOOST_TEST(has(a.error().message, "e.g. zabbix.example.com:10051"));
}

// ---- pure: status.get data -> StatusReport -----------------------------------------------------

// A 6.0.14 answer with one proxy (id 10500) whose entries are shares of the totals (proxyid 0).
const char* const status_with_proxy = R"({
  "template stats":[{"count":325}],
  "host stats":[{"attributes":{"proxyid":0,"status":0},"count":12},
                {"attributes":{"proxyid":0,"status":1},"count":3},
                {"attributes":{"proxyid":10500,"status":0},"count":5},
                {"attributes":{"proxyid":10500,"status":1},"count":1}],
  "item stats":[{"attributes":{"proxyid":0,"status":0,"state":0},"count":107},
                {"attributes":{"proxyid":0,"status":0,"state":1},"count":2},
                {"attributes":{"proxyid":0,"status":1},"count":8},
                {"attributes":{"proxyid":10500,"status":0,"state":0},"count":40},
                {"attributes":{"proxyid":10500,"status":0,"state":1},"count":1},
                {"attributes":{"proxyid":10500,"status":1},"count":2}],
  "trigger stats":[{"attributes":{"status":0,"value":0},"count":50},
                   {"attributes":{"status":0,"value":1},"count":4},
                   {"attributes":{"status":1},"count":56}],
  "user stats":[{"attributes":{"status":0},"count":1},{"attributes":{"status":1},"count":2}],
  "required performance":[{"attributes":{"proxyid":0},"count":"1.733333"},
                          {"attributes":{"proxyid":10500},"count":"0.5"}]
})";

BOOST_AUTO_TEST_CASE(status_figures_summed_like_the_widget) {
  auto r = zbx::status_from_server(json::parse(status_with_proxy));
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  BOOST_TEST(r->from_server);
  BOOST_TEST(r->templates == 325u);
  BOOST_TEST(r->hosts_enabled == 12u);
  BOOST_TEST(r->hosts_disabled == 3u);
  BOOST_TEST(r->items_enabled == 107u);
  BOOST_TEST(r->items_not_supported == 2u);
  BOOST_TEST(r->items_disabled == 8u);
  BOOST_TEST(r->triggers_ok == 50u);
  BOOST_TEST(r->triggers_problem == 4u);
  BOOST_TEST(r->triggers_enabled == 54u);
  BOOST_TEST(r->triggers_disabled == 56u);
  BOOST_TEST(r->users == 3u);
  BOOST_REQUIRE(r->users_online);
  BOOST_TEST(*r->users_online == 1u);
  BOOST_REQUIRE(r->required_performance);
  BOOST_TEST(*r->required_performance == 1.733333, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(status_without_performance_or_lists) {
  json::value data = json::parse(status_with_proxy);
  data.as_object().erase("required performance");  // not a Super admin
  auto r = zbx::status_from_server(data);
  BOOST_REQUIRE(r);
  BOOST_TEST(!r->required_performance);

  data.as_object().erase("user stats");
  r = zbx::status_from_server(data);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::parse);
  BOOST_TEST(r.error().message == "the Zabbix server's status.get answer has no \"user stats\"");
  BOOST_TEST(!zbx::status_from_server(json::value(true)));
}

// ---- pure: trigger.get -> Problem, host.get -> HostDetails, queries ----------------------------

BOOST_AUTO_TEST_CASE(problems_from_a_trigger_answer) {
  const auto answer = json::parse(R"([
    {"triggerid":"101","description":"High CPU on Web 1","priority":"4","lastchange":"1700000100",
     "value":"1","hosts":[{"hostid":"10","host":"web1","name":"Web 1"}],
     "lastEvent":{"eventid":"9001","clock":"1700000099","acknowledged":"1","severity":"5",
                  "objectid":"101","value":"1"}},
    {"triggerid":"102","description":"Disk full","priority":"2","lastchange":"1700000050",
     "value":"1","hosts":[{"hostid":"11","host":"db1","name":""}],"lastEvent":[]}
  ])");
  auto ps = zbx::problems_from_triggers(answer);
  BOOST_REQUIRE_EQUAL(ps.size(), 2u);
  BOOST_TEST(ps[0].triggerid == "101");
  BOOST_TEST(ps[0].eventid == "9001");
  BOOST_TEST(ps[0].host == "web1");
  BOOST_TEST(ps[0].host_name == "Web 1");
  BOOST_TEST(ps[0].name == "High CPU on Web 1");
  BOOST_TEST(ps[0].severity == 5);  // the event's: an operator raised it
  BOOST_TEST(ps[0].since == 1700000099);
  BOOST_TEST(ps[0].acknowledged);
  // Without an event: the trigger's priority and lastchange.
  BOOST_TEST(ps[1].eventid.empty());
  BOOST_TEST(ps[1].severity == 2);
  BOOST_TEST(ps[1].since == 1700000050);
  BOOST_TEST(ps[1].host_name == "db1");
  BOOST_TEST(!ps[1].acknowledged);
  BOOST_TEST(zbx::problems_from_triggers(json::value("3")).empty());
}

BOOST_AUTO_TEST_CASE(problem_queries) {
  auto list = zbx::problem_query(3, {"10"}, {}, true, 5, false);
  BOOST_TEST(list.at("min_severity") == 3);
  BOOST_TEST(list.at("hostids") == json::array{"10"});
  BOOST_TEST(!list.contains("groupids"));
  BOOST_TEST(list.at("limit") == 5);
  BOOST_TEST(list.at("withLastEventUnacknowledged") == true);
  for (const char* key : {"only_true", "skipDependent", "monitored", "active", "expandDescription"})
    BOOST_TEST(list.at(key) == true, key);
  BOOST_TEST(list.at("filter") == json::parse(R"({"value":1})"));
  BOOST_TEST(list.at("sortfield") == json::parse(R"(["lastchange","priority"])"));
  BOOST_TEST(list.at("sortorder") == "DESC");

  auto count = zbx::problem_query(0, {}, {"7"}, false, 5, true);
  BOOST_TEST(count.at("countOutput") == true);
  BOOST_TEST(count.at("groupids") == json::array{"7"});
  for (const char* key : {"min_severity", "limit", "selectHosts", "selectLastEvent", "sortfield",
                          "withLastEventUnacknowledged", "hostids"})
    BOOST_TEST(!count.contains(key), key);
}

BOOST_AUTO_TEST_CASE(host_details_of_each_version) {
  // 6.0: selectGroups, availability per interface.
  auto d = zbx::host_details_from(json::parse(R"({"hostid":"10","host":"web1","name":"Web 1",
      "status":"0","maintenance_status":"1",
      "groups":[{"groupid":"2","name":"Linux servers"},{"groupid":"5","name":"Discovered hosts"}],
      "interfaces":[{"type":"2","ip":"10.0.0.1","dns":"","useip":"1","port":"161","main":"0","available":"2"},
                    {"type":"1","ip":"","dns":"web1.example.com","useip":"0","port":"10050","main":"1","available":"1"}]
  })").as_object());
  BOOST_TEST(d.hostid == "10");
  BOOST_TEST(d.monitored);
  BOOST_TEST(d.in_maintenance);
  BOOST_TEST(d.groups == (std::vector<std::string>{"Discovered hosts", "Linux servers"}),
             boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(d.interfaces.size(), 2u);
  BOOST_TEST(d.interfaces[0].type == "agent");  // the main one first
  BOOST_TEST(d.interfaces[0].address == "web1.example.com");
  BOOST_TEST(d.interfaces[0].available == "available");
  BOOST_TEST(d.interfaces[0].main);
  BOOST_TEST(d.interfaces[1].type == "SNMP");
  BOOST_TEST(d.interfaces[1].address == "10.0.0.1");
  BOOST_TEST(d.interfaces[1].port == "161");
  BOOST_TEST(d.interfaces[1].available == "unavailable");

  // 6.2+: hostgroups; a disabled host.
  d = zbx::host_details_from(json::parse(R"({"hostid":"11","host":"db1","name":"db1","status":"1",
      "maintenance_status":"0","hostgroups":[{"groupid":"2","name":"Databases"}],"interfaces":[]})").as_object());
  BOOST_TEST(!d.monitored);
  BOOST_TEST(!d.in_maintenance);
  BOOST_TEST(d.groups == std::vector<std::string>{"Databases"}, boost::test_tools::per_element());

  // 5.2: availability on the host, per interface type.
  d = zbx::host_details_from(json::parse(R"({"hostid":"12","host":"old","name":"old","status":"0",
      "available":"1","snmp_available":"0","ipmi_available":"2","jmx_available":"0",
      "interfaces":[{"type":"1","ip":"1.2.3.4","useip":"1","port":"10050","main":"1"},
                    {"type":"3","ip":"1.2.3.5","useip":"1","port":"623","main":"1"},
                    {"type":"4","ip":"1.2.3.6","useip":"1","port":"12345","main":"1"}]})").as_object());
  BOOST_REQUIRE_EQUAL(d.interfaces.size(), 3u);
  BOOST_TEST(d.interfaces[0].available == "available");
  BOOST_TEST(d.interfaces[1].type == "IPMI");
  BOOST_TEST(d.interfaces[1].available == "unavailable");
  BOOST_TEST(d.interfaces[2].type == "JMX");
  BOOST_TEST(d.interfaces[2].available == "unknown");
}

BOOST_AUTO_TEST_CASE(names_compare_case_insensitively) {
  BOOST_TEST(zbx::same_name("Web-01", "web-01"));
  BOOST_TEST(!zbx::same_name("web-01", "web-011"));
  BOOST_TEST(!zbx::same_name("web_01", "web-01"));
  BOOST_TEST(zbx::same_name("Zürich", "Zürich"));
}

BOOST_AUTO_TEST_CASE(login_pause_doubles_up_to_ten_minutes) {
  using zbx::login_pause_after;
  BOOST_TEST(login_pause_after(0, 60s).count() == 0);
  BOOST_TEST(login_pause_after(1, 60s) == 60s);
  BOOST_TEST(login_pause_after(2, 60s) == 120s);
  BOOST_TEST(login_pause_after(3, 60s) == 240s);
  BOOST_TEST(login_pause_after(4, 60s) == 480s);
  BOOST_TEST(login_pause_after(5, 60s) == 600s);
  BOOST_TEST(login_pause_after(50, 60s) == 600s);
  BOOST_TEST(login_pause_after(3, 0s).count() == 0);       // pause turned off
  BOOST_TEST(login_pause_after(3, 900s) == 900s);          // a longer base is kept
  BOOST_TEST(login_pause_after(2, 400s) == 600s);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the trapper client against loopback fakes ---------------------------------------------------

enum class FakeMode { answer_in_pieces, silent, http };

// Serves one connection: reads one request frame into *seen, then answers as `mode` says.
asio::awaitable<void> fake_trapper(std::shared_ptr<tcp::acceptor> acceptor, FakeMode mode,
                                   std::shared_ptr<std::string> seen) {
  auto [aec, socket] = co_await acceptor->async_accept(use_tuple);
  if (aec) co_return;
  std::string in;
  std::array<char, 1024> chunk;
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_tuple);
    if (ec) co_return;
    in.append(chunk.data(), n);
    auto frame = trapper::decode(in);
    if (!frame) co_return;
    if (*frame) {
      *seen = **frame;
      break;
    }
  }
  if (mode == FakeMode::silent) {
    co_await sleep_for(10s);
    co_return;
  }
  std::string out = mode == FakeMode::http
                        ? std::string("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        : trapper::encode(R"({"response":"success","data":{"answer":42}})");
  // In three pieces, a moment apart: the client must wait for the whole frame.
  const std::size_t third = out.size() / 3;
  for (std::size_t at = 0; at < out.size(); at += third) {
    auto [wec, wn] = co_await asio::async_write(
        socket, asio::buffer(out.data() + at, std::min(third, out.size() - at)), use_tuple);
    if (wec) co_return;
    co_await sleep_for(20ms);
  }
}

struct FakeTrapper {
  FakeTrapper(asio::io_context& io, FakeMode mode)
      : acceptor(std::make_shared<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0))),
        seen(std::make_shared<std::string>()) {
    asio::co_spawn(io, fake_trapper(acceptor, mode, seen),
                   [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    address = "127.0.0.1:" + std::to_string(acceptor->local_endpoint().port());
  }
  std::shared_ptr<tcp::acceptor> acceptor;
  std::shared_ptr<std::string> seen;
  std::string address;
};

BOOST_AUTO_TEST_SUITE(trapper_io)

asio::awaitable<void> pieces(FakeTrapper* fake) {
  json::value req = trapper::status_request("sid1");
  auto r = co_await trapper::request(fake->address, std::move(req), 5s);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  BOOST_TEST(*r == json::parse(R"({"answer":42})"));
  BOOST_TEST(json::parse(*fake->seen) == trapper::status_request("sid1"));
}

BOOST_AUTO_TEST_CASE(answer_in_pieces) {
  asio::io_context io;
  FakeTrapper fake(io, FakeMode::answer_in_pieces);
  run(io, pieces(&fake));
}

asio::awaitable<void> silence(FakeTrapper* fake) {
  const auto t0 = std::chrono::steady_clock::now();
  json::value req = trapper::status_request("sid1");
  auto r = co_await trapper::request(fake->address, std::move(req), 300ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::transport);
  BOOST_TEST(r.error().message == "the Zabbix server at ZABBIX_SERVER_ADDRESS=" + fake->address +
                                      " did not answer status.get within 300 ms");
  BOOST_TEST(took >= 300ms);
  BOOST_TEST(took < 2s);
}

BOOST_AUTO_TEST_CASE(silent_server_times_out) {
  asio::io_context io;
  FakeTrapper fake(io, FakeMode::silent);
  run(io, silence(&fake));
}

asio::awaitable<void> not_zabbix(FakeTrapper* fake) {
  json::value req = trapper::status_request("sid1");
  auto r = co_await trapper::request(fake->address, std::move(req), 5s);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::parse);
  BOOST_TEST(has(r.error().message, "ZABBIX_SERVER_ADDRESS=" + fake->address + ": the answer does not start with ZBXD"));
}

BOOST_AUTO_TEST_CASE(http_server_is_not_a_trapper) {
  asio::io_context io;
  FakeTrapper fake(io, FakeMode::http);
  run(io, not_zabbix(&fake));
}

asio::awaitable<void> refused(std::string address) {
  json::value req = trapper::status_request("sid1");
  auto r = co_await trapper::request(address, std::move(req), 5s);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::transport);
  BOOST_TEST(has(r.error().message, "cannot reach the Zabbix server at ZABBIX_SERVER_ADDRESS=" + address +
                                        ": connection refused (is zabbix_server running"));
  json::value req2 = trapper::status_request("sid1");
  r = co_await trapper::request("bad:port", std::move(req2), 5s);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::config);
}

BOOST_AUTO_TEST_CASE(nothing_listening) {
  asio::io_context io;
  std::string address;
  {
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    address = "127.0.0.1:" + std::to_string(a.local_endpoint().port());
  }
  run(io, refused(address));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the real Zabbix 6.0 lab ------------------------------------------------------------------

// An entry of the lab's env file; ZABBIX_URL, SERVER_PORT and ZABBIX_SERVER_CONF may come from the
// environment instead.
std::string lab(const std::string& key) {
  static const auto env =
      zpark::test::read_lab_env(ZABBIX_LAB_ENV, {"ZABBIX_URL", "SERVER_PORT", "ZABBIX_SERVER_CONF"});
  return zpark::test::lab_value(env, key);
}

boost::test_tools::assertion_result have_lab(utf::test_unit_id) {
  if (!lab("ZABBIX_URL").empty() && !lab("SERVER_PORT").empty())
    return boost::test_tools::assertion_result(true);
  BOOST_TEST_MESSAGE("no Zabbix lab (" << ZABBIX_LAB_ENV
                                       << " absent; run test/zabbix/lab.sh start): real-server cases skipped");
  boost::test_tools::assertion_result r(false);
  r.message() << "no Zabbix lab env file " << ZABBIX_LAB_ENV;
  return r;
}

Options lab_admin() {
  Options o;
  o.url = lab("ZABBIX_URL");
  // A lab just started on a loaded machine answers its first big counts slowly (cold PHP and
  // database caches): 15 s was seen to pass there. Slow is not wrong; the test stays bounded.
  o.timeout = std::chrono::seconds(60);
  o.username = "Admin";
  o.password = "zabbix";
  return o;
}

std::string server_address() { return "127.0.0.1:" + lab("SERVER_PORT"); }

std::string shell(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen((command + " 2>&1").c_str(), "r")) {
    std::array<char, 512> buf;
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    ::pclose(p);
  }
  return out;
}

// zabbix_sender one value; true when the server processed it (the item is in its cache).
bool send(const std::string& host, const std::string& key, const std::string& value) {
  const std::string out = shell("zabbix_sender -z 127.0.0.1 -p " + lab("SERVER_PORT") + " -s '" + host +
                                "' -k '" + key + "' -o '" + value + "'");
  return has(out, "processed: 1;");
}

// Makes the server load our API changes now instead of within CacheUpdateFrequency.
void reload_config() {
  if (!lab("ZABBIX_SERVER_CONF").empty())
    shell("zabbix_server -c '" + lab("ZABBIX_SERVER_CONF") + "' -R config_cache_reload");
}

asio::awaitable<json::value> must(Client& c, std::string method, json::value params) {
  auto r = co_await c.call(method, std::move(params));
  BOOST_REQUIRE_MESSAGE(r, method << ": " << (r ? "" : r.error().message));
  co_return *r;
}

asio::awaitable<std::string> create(Client& c, std::string method, json::value params,
                                    std::string ids_key) {
  auto r = co_await must(c, std::move(method), std::move(params));
  co_return std::string(r.at(ids_key).at(0).as_string());
}

// A trigger's value (0 ok, 1 problem) as the API has it.
asio::awaitable<int> trigger_value(Client& c, std::string triggerid) {
  json::value q = {{"triggerids", json::array{triggerid}}, {"output", json::array{"value"}}};
  auto r = co_await must(c, "trigger.get", std::move(q));
  co_return r.as_array().empty() ? -1 : std::atoi(r.at(0).at("value").as_string().c_str());
}

struct Lab {
  std::string pid = std::to_string(::getpid());
  std::string pfx = "zrt" + pid;  // technical names: zrt<pid>-a, -b, -c, -tpl
  std::string group_a = "Zpark Reports " + pid, group_b = "Zpark Reports Other " + pid;
  std::string host_a = pfx + "-a", name_a = "Zrt Alpha " + pid, host_b = pfx + "-b",
              host_c = pfx + "-c", tpl = pfx + "-tpl";
  // ids
  std::string g_a, g_b, t_id, h_a, h_b, h_c, i_bad;
  std::string ta1, ta2, tb1, tb2, tb3;
  std::vector<std::string> hosts() const {
    std::vector<std::string> out;
    for (const auto* id : {&h_a, &h_b, &h_c})
      if (!id->empty()) out.push_back(*id);
    return out;
  }
};

asio::awaitable<void> add_item(Client& c, std::string hostid, std::string key, int status,
                               std::string* itemid = nullptr) {
  json::value q = {{"hostid", hostid}, {"name", key}, {"key_", key}, {"type", 2},
                   {"value_type", 3}, {"status", status}};
  auto id = co_await create(c, "item.create", std::move(q), "itemids");
  if (itemid) *itemid = id;
}

asio::awaitable<std::string> add_trigger(Client& c, std::string description, std::string expression,
                                         int priority, int status = 0, std::string depends_on = {}) {
  json::object q = {{"description", description}, {"expression", expression},
                    {"priority", priority}, {"status", status}};
  if (!depends_on.empty()) q["dependencies"] = json::array{json::object{{"triggerid", depends_on}}};
  json::value p = std::move(q);
  co_return co_await create(c, "trigger.create", std::move(p), "triggerids");
}

asio::awaitable<void> add_web(Client& c, std::string hostid, std::string name, int status) {
  json::value q = {{"hostid", hostid}, {"name", name}, {"delay", "1h"}, {"status", status},
                   {"steps", json::array{json::object{{"name", "home"}, {"url", "http://127.0.0.1:1/"},
                                                      {"no", 1}, {"status_codes", "200"}}}}};
  co_await create(c, "httptest.create", std::move(q), "httptestids");
}

asio::awaitable<void> build(Client& c, Lab& lab) {
  json::value q = {{"name", lab.group_a}};
  lab.g_a = co_await create(c, "hostgroup.create", std::move(q), "groupids");
  q = {{"name", lab.group_b}};
  lab.g_b = co_await create(c, "hostgroup.create", std::move(q), "groupids");

  q = {{"host", lab.tpl}, {"groups", json::array{json::object{{"groupid", lab.g_a}}}}};
  lab.t_id = co_await create(c, "template.create", std::move(q), "templateids");
  co_await add_item(c, lab.t_id, "tpl.item", 0);
  co_await add_trigger(c, "Zrt template trigger on {HOST.HOST}", "last(/" + lab.tpl + "/tpl.item)>0", 2);

  q = {{"host", lab.host_a}, {"name", lab.name_a},
       {"groups", json::array{json::object{{"groupid", lab.g_a}}}},
       {"templates", json::array{json::object{{"templateid", lab.t_id}}}},
       {"interfaces", json::array{json::object{{"type", 1}, {"main", 1}, {"useip", 1},
                                               {"ip", "127.0.0.1"}, {"dns", ""}, {"port", "10050"}}}}};
  lab.h_a = co_await create(c, "host.create", std::move(q), "hostids");
  q = {{"host", lab.host_b}, {"groups", json::array{json::object{{"groupid", lab.g_b}}}}};
  lab.h_b = co_await create(c, "host.create", std::move(q), "hostids");
  q = {{"host", lab.host_c}, {"status", 1}, {"groups", json::array{json::object{{"groupid", lab.g_a}}}}};
  lab.h_c = co_await create(c, "host.create", std::move(q), "hostids");

  for (const char* key : {"a1", "a2"}) co_await add_item(c, lab.h_a, key, 0);
  co_await add_item(c, lab.h_a, "a.off", 1);
  co_await add_item(c, lab.h_a, "a.bad", 0, &lab.i_bad);
  for (const char* key : {"b1", "b2"}) co_await add_item(c, lab.h_b, key, 0);
  co_await add_item(c, lab.h_c, "c1", 0);
  co_await add_web(c, lab.h_a, "Zrt web " + lab.pid, 0);
  co_await add_web(c, lab.h_b, "Zrt web off " + lab.pid, 1);
  co_await add_web(c, lab.h_c, "Zrt web on disabled host " + lab.pid, 0);

  const std::string a = "/" + lab.host_a + "/", b = "/" + lab.host_b + "/", cc = "/" + lab.host_c + "/";
  lab.ta1 = co_await add_trigger(c, "Zrt high on {HOST.NAME}", "last(" + a + "a1)>0", 4);
  lab.ta2 = co_await add_trigger(c, "Zrt warning on A", "last(" + a + "a2)>0", 2);
  co_await add_trigger(c, "Zrt disabled trigger", "last(" + a + "a1)>100", 4, 1);
  co_await add_trigger(c, "Zrt on a disabled item", "last(" + a + "a.off)>0", 4);
  co_await add_trigger(c, "Zrt on an unsupported item", "last(" + a + "a.bad)>0", 3);
  co_await add_trigger(c, "Zrt two items", "last(" + a + "a1)>5 and last(" + a + "a2)>5", 1);
  lab.tb1 = co_await add_trigger(c, "Zrt average on B", "last(" + b + "b1)>0", 3);
  lab.tb2 = co_await add_trigger(c, "Zrt dependent on B", "last(" + b + "b2)>0", 5, 0, lab.tb1);
  lab.tb3 = co_await add_trigger(c, "Zrt acknowledged on B", "last(" + b + "b2)>1", 1);
  co_await add_trigger(c, "Zrt on a disabled host", "last(" + cc + "c1)>0", 4);

  // Low-level discovery on A: the rule and its prototypes count nowhere, what they discover
  // counts like any item and trigger.
  q = {{"hostid", lab.h_a}, {"name", "Zrt discovery"}, {"key_", "zrt.lld"}, {"type", 2}};
  const std::string ruleid = co_await create(c, "discoveryrule.create", std::move(q), "itemids");
  q = {{"hostid", lab.h_a}, {"ruleid", ruleid}, {"name", "Zrt proto {#N}"}, {"key_", "zrt.proto[{#N}]"},
       {"type", 2}, {"value_type", 3}};
  co_await create(c, "itemprototype.create", std::move(q), "itemids");
  q = {{"description", "Zrt proto {#N}"}, {"expression", "last(" + a + "zrt.proto[{#N}])>0"}, {"priority", 2}};
  co_await create(c, "triggerprototype.create", std::move(q), "triggerids");
}

// What the objects above add to each figure.
StatusReport expected_delta() {
  StatusReport d;
  d.hosts_enabled = 2;   // A, B
  d.hosts_disabled = 1;  // C
  d.templates = 1;
  // A: a1, a2, the template's tpl.item, and the web scenario's 6 items (3 + 3 per step);
  // B: b1, b2, and its disabled scenario's 6 items... which are disabled with it (below).
  d.items_enabled = 2 + 1 + 6 + 2 + 1;  // + the discovered zrt.proto[one]
  d.items_not_supported = 1;  // a.bad
  // a.off; C (disabled host): c1 and its scenario's 6 items; B's disabled scenario: 6.
  d.items_disabled = 1 + 7 + 6;
  d.triggers_problem = 5;   // A: high, warning; B: average, dependent, acknowledged
  d.triggers_ok = 4;        // on the unsupported item, two items, the template's on A, discovered
  d.triggers_enabled = d.triggers_problem + d.triggers_ok;
  d.triggers_disabled = 3;  // disabled, on the disabled item, on the disabled host
  d.web_enabled = 1;
  d.web_disabled = 2;  // B's disabled scenario, C's on a disabled host
  return d;
}

// Each figure, named, for messages and comparisons.
std::vector<std::pair<std::string, std::int64_t>> figures(const StatusReport& r) {
  return {{"hosts_enabled", r.hosts_enabled},       {"hosts_disabled", r.hosts_disabled},
          {"templates", r.templates},               {"items_enabled", r.items_enabled},
          {"items_disabled", r.items_disabled},     {"items_not_supported", r.items_not_supported},
          {"triggers_enabled", r.triggers_enabled}, {"triggers_disabled", r.triggers_disabled},
          {"triggers_problem", r.triggers_problem}, {"triggers_ok", r.triggers_ok},
          {"users", r.users},                       {"web_enabled", r.web_enabled},
          {"web_disabled", r.web_disabled}};
}

std::string show(const StatusReport& r) {
  std::string out;
  for (const auto& [k, v] : figures(r)) out += k + "=" + std::to_string(v) + " ";
  return out;
}

asio::awaitable<StatusReport> must_status(Client& c, StatusSource source) {
  auto r = co_await zbx::status(c, std::move(source));
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  co_return *r;
}

// Raises the problems in order, each phase in a later second so "newest first" is certain:
// B's dependent and acknowledged triggers first (the dependent one must be in problem before
// the trigger it depends on), then A's warning, A's high, B's average. A value the server
// got before it loaded the trigger is lost, so each phase sends again until the API shows it.
asio::awaitable<void> raise_problems(Client& c, Lab& lab) {
  struct Phase {
    std::string host, key, value;
    std::vector<std::string> triggers;
  };
  const std::vector<Phase> phases = {{lab.host_b, "b2", "2", {lab.tb2, lab.tb3}},
                                     {lab.host_a, "a2", "1", {lab.ta2}},
                                     {lab.host_a, "a1", "1", {lab.ta1}},
                                     {lab.host_b, "b1", "1", {lab.tb1}}};
  std::time_t last_change = 0;
  for (const auto& phase : phases) {
    while (std::time(nullptr) <= last_change) co_await sleep_for(100ms);
    bool up = false;
    for (int attempt = 0; attempt < 40 && !up; ++attempt) {
      send(phase.host, phase.key, phase.value);
      co_await sleep_for(250ms);
      up = true;
      for (const auto& t : phase.triggers) {
        if ((co_await trigger_value(c, t)) != 1) up = false;
      }
    }
    BOOST_REQUIRE_MESSAGE(up, "no problem from " << phase.host << " " << phase.key << " within 10 s");
    last_change = std::time(nullptr);
  }
  // a.bad is numeric: text makes it not supported.
  bool unsupported = false;
  for (int attempt = 0; attempt < 40 && !unsupported; ++attempt) {
    send(lab.host_a, "a.bad", "not a number");
    co_await sleep_for(250ms);
    json::value q = {{"itemids", json::array{lab.i_bad}}, {"output", json::array{"state"}}};
    auto r = co_await must(c, "item.get", std::move(q));
    unsupported = r.at(0).at("state") == "1";
  }
  BOOST_REQUIRE_MESSAGE(unsupported, "a.bad did not turn not supported within 10 s");

  // Discovery: one item and one trigger from the prototypes.
  bool discovered = false;
  for (int attempt = 0; attempt < 40 && !discovered; ++attempt) {
    send(lab.host_a, "zrt.lld", R"([{"{#N}":"one"}])");
    co_await sleep_for(250ms);
    json::value q = {{"hostids", json::array{lab.h_a}}, {"filter", {{"description", "Zrt proto one"}}},
                     {"countOutput", true}};
    discovered = (co_await must(c, "trigger.get", std::move(q))) == "1";
  }
  BOOST_REQUIRE_MESSAGE(discovered, "discovery made no trigger within 10 s");

  // Acknowledge B's "acknowledged" problem.
  json::value q = {{"triggerids", json::array{lab.tb3}}, {"output", json::array{"triggerid"}},
                   {"selectLastEvent", json::array{"eventid"}}};
  auto t = co_await must(c, "trigger.get", std::move(q));
  const std::string eventid(t.at(0).at("lastEvent").at("eventid").as_string());
  q = {{"eventids", json::array{eventid}}, {"action", 2}};
  co_await must(c, "event.acknowledge", std::move(q));
}

asio::awaitable<zbx::ProblemReport> must_problems(Client& c, ProblemFilter f) {
  auto r = co_await zbx::problems(c, std::move(f));
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  co_return *r;
}

asio::awaitable<void> check_problems(Client& c, const Lab& lab, std::time_t started) {
  const std::string high = lab.host_a + " | Zrt high on " + lab.name_a + " | High";
  const std::string warning = lab.host_a + " | Zrt warning on A | Warning";
  const std::string average = lab.host_b + " | Zrt average on B | Average";
  using V = std::vector<std::string>;
  const auto per_element = boost::test_tools::per_element();

  // By group (names in another case): A's problems, newest first; C's trigger (disabled host)
  // never shows. B's dependent problem is skipped, its acknowledged one too.
  ProblemFilter f;
  f.group = "zpark reports " + lab.pid;
  auto r = co_await must_problems(c, f);
  BOOST_TEST(lines(r.problems) == (V{high, warning}), per_element);
  BOOST_TEST(r.total == 2u);
  BOOST_REQUIRE_EQUAL(r.problems.size(), 2u);
  const Problem& p = r.problems[0];
  BOOST_TEST(p.host_name == lab.name_a);
  BOOST_TEST(p.triggerid == lab.ta1);
  BOOST_TEST(!p.eventid.empty());
  BOOST_TEST(p.severity == 4);
  BOOST_TEST(!p.acknowledged);
  BOOST_TEST(p.since >= started);
  BOOST_TEST(p.since <= std::time(nullptr));
  BOOST_TEST(r.problems[1].since <= p.since);

  f.group = "ZPARK REPORTS OTHER " + lab.pid;
  r = co_await must_problems(c, f);
  BOOST_TEST(lines(r.problems) == V{average}, per_element);
  BOOST_TEST(r.total == 1u);

  // More than the limit: total says how many there are.
  f.group = lab.group_a;
  f.limit = 1;
  r = co_await must_problems(c, f);
  BOOST_TEST(lines(r.problems) == V{high}, per_element);
  BOOST_TEST(r.total == 2u);

  // Severity.
  f = {};
  f.group = lab.group_a;
  f.min_severity = 3;
  r = co_await must_problems(c, f);
  BOOST_TEST(lines(r.problems) == V{high}, per_element);
  BOOST_TEST(r.total == 1u);

  // By host: technical name, visible name in another case; B at severity >= High: none.
  f = {};
  f.host = lab.host_a;
  r = co_await must_problems(c, f);
  BOOST_TEST(lines(r.problems) == (V{high, warning}), per_element);
  f.host = "ZRT ALPHA " + lab.pid;
  r = co_await must_problems(c, f);
  BOOST_TEST(lines(r.problems) == (V{high, warning}), per_element);
  f.host = lab.host_b;
  r = co_await must_problems(c, f);
  BOOST_TEST(lines(r.problems) == V{average}, per_element);
  f.min_severity = 4;
  r = co_await must_problems(c, f);
  BOOST_TEST(r.problems.empty());
  BOOST_TEST(r.total == 0u);
  // A disabled host, a host or group that does not exist, a part of a name: nothing.
  const std::vector<std::string> nothing_there = {lab.host_c, lab.pfx + "-nope", lab.pfx};
  for (const auto& host : nothing_there) {
    f = {};
    f.host = host;
    r = co_await must_problems(c, f);
    BOOST_TEST(r.problems.empty(), host);
    BOOST_TEST(r.total == 0u, host);
  }
  f = {};
  f.group = "Zpark Reports";
  r = co_await must_problems(c, f);
  BOOST_TEST(r.problems.empty());

  // No filter: the lab may hold others' problems; ours come newest first, in this order.
  f = {};
  f.limit = 1000;
  r = co_await must_problems(c, f);
  V ours;
  for (const auto& line : lines(r.problems))
    if (has(line, lab.pfx)) ours.push_back(line);
  BOOST_TEST(ours == (V{average, high, warning}), per_element);
  BOOST_TEST(r.total >= r.problems.size());  // >: someone else's problem came in between
  // The default limit.
  const ProblemFilter defaults;
  r = co_await must_problems(c, defaults);
  BOOST_TEST(r.problems.size() <= 10u);
  BOOST_TEST(r.total >= 3u);
}

asio::awaitable<void> check_hosts(Client& c, const Lab& lab) {
  using V = std::vector<std::string>;
  const auto per_element = boost::test_tools::per_element();

  auto r = co_await zbx::host(c, lab.host_a);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  BOOST_REQUIRE(r->host);
  BOOST_TEST(r->candidates.empty());
  const auto& a = *r->host;
  BOOST_TEST(a.hostid == lab.h_a);
  BOOST_TEST(a.host == lab.host_a);
  BOOST_TEST(a.name == lab.name_a);
  BOOST_TEST(a.monitored);
  BOOST_TEST(!a.in_maintenance);
  BOOST_TEST(a.groups == V{lab.group_a}, per_element);
  BOOST_REQUIRE_EQUAL(a.interfaces.size(), 1u);
  BOOST_TEST(a.interfaces[0].type == "agent");
  BOOST_TEST(a.interfaces[0].address == "127.0.0.1");
  BOOST_TEST(a.interfaces[0].port == "10050");
  BOOST_TEST(a.interfaces[0].available == "unknown");  // no passive agent item polls it
  BOOST_TEST(a.interfaces[0].main);
  BOOST_TEST(lines(a.problems) == (V{lab.host_a + " | Zrt high on " + lab.name_a + " | High",
                                     lab.host_a + " | Zrt warning on A | Warning"}),
             per_element);

  // By visible name in another case; acknowledged problems are listed too, marked.
  r = co_await zbx::host(c, "zrt alpha " + lab.pid);
  BOOST_REQUIRE(r);
  BOOST_REQUIRE(r->host);
  BOOST_TEST(r->host->hostid == lab.h_a);
  r = co_await zbx::host(c, "ZRT" + lab.pid + "-B");
  BOOST_REQUIRE(r);
  BOOST_REQUIRE(r->host);
  BOOST_TEST(lines(r->host->problems) == (V{lab.host_b + " | Zrt average on B | Average",
                                            lab.host_b + " | Zrt acknowledged on B | Information | ack"}),
             per_element);
  BOOST_TEST(r->host->groups == V{lab.group_b}, per_element);
  BOOST_TEST(r->host->interfaces.empty());

  // A disabled host: found, not monitored, no problems.
  r = co_await zbx::host(c, lab.host_c);
  BOOST_REQUIRE(r);
  BOOST_REQUIRE(r->host);
  BOOST_TEST(!r->host->monitored);
  BOOST_TEST(r->host->problems.empty());

  // One host containing the text: that host. Several: their names. None: nothing.
  r = co_await zbx::host(c, lab.pid + "-b");
  BOOST_REQUIRE(r);
  BOOST_REQUIRE(r->host);
  BOOST_TEST(r->host->hostid == lab.h_b);
  r = co_await zbx::host(c, lab.pfx);
  BOOST_REQUIRE(r);
  BOOST_TEST(!r->host);
  BOOST_TEST(r->candidates == (V{lab.name_a + " (" + lab.host_a + ")", lab.host_b, lab.host_c}),
             per_element);
  r = co_await zbx::host(c, lab.pfx + "-*");
  BOOST_REQUIRE(r);
  BOOST_TEST(!r->host);
  BOOST_TEST(r->candidates.size() == 3u);
  r = co_await zbx::host(c, lab.pfx + "-nope");
  BOOST_REQUIRE(r);
  BOOST_TEST(!r->host);
  BOOST_TEST(r->candidates.empty());
}

// API and trapper figures agree on every field, and the API's moved by exactly what we made.
asio::awaitable<void> check_status(Client& c, const StatusReport& before) {
  StatusSource api;
  StatusSource server;
  server.server_address = server_address();
  // The server recomputes its figures at its next configuration sync; ask it to sync now,
  // and compare until both agree (or 15 s).
  reload_config();
  StatusReport from_api, from_server;
  bool same = false;
  for (int attempt = 0; attempt < 30 && !same; ++attempt) {
    if (attempt > 0) co_await sleep_for(500ms);
    if (attempt % 6 == 5) reload_config();
    from_api = co_await must_status(c, api);
    from_server = co_await must_status(c, server);
    same = figures(from_api) == figures(from_server);
  }
  BOOST_TEST_MESSAGE("API:    " << show(from_api));
  BOOST_TEST_MESSAGE("server: " << show(from_server));
  BOOST_TEST(!from_api.from_server);
  BOOST_TEST(from_server.from_server);
  BOOST_TEST(from_api.version.starts_with("6.0."));
  BOOST_TEST(from_server.version == from_api.version);
  const auto fa = figures(from_api), fs = figures(from_server), fb = figures(before),
             fd = figures(expected_delta());
  for (std::size_t i = 0; i < fa.size(); ++i) {
    BOOST_TEST(fa[i].second == fs[i].second, fa[i].first << ": API " << fa[i].second << ", server " << fs[i].second);
    BOOST_TEST(fa[i].second - fb[i].second == fd[i].second,
               fa[i].first << ": moved by " << fa[i].second - fb[i].second << ", expected " << fd[i].second);
  }
  // Only the server knows who is online (we are) and the required performance (Super admin).
  BOOST_TEST(!from_api.users_online);
  BOOST_TEST(!from_api.required_performance);
  BOOST_REQUIRE(from_server.users_online);
  BOOST_TEST(*from_server.users_online >= 1u);
  BOOST_TEST(*from_server.users_online <= from_server.users);
  BOOST_TEST(from_server.required_performance.has_value());

  // The session ended behind the client's back: status.get logs in again and answers.
  json::value none = json::array();
  auto bye = co_await c.raw_call("user.logout", none, c.auth());
  BOOST_REQUIRE(bye);
  auto again = co_await must_status(c, server);
  BOOST_TEST(again.from_server);

  // A wrong address: the API's figures, not an error.
  StatusSource nowhere;
  nowhere.server_address = "127.0.0.1:1";
  nowhere.timeout = 2s;
  auto fallback = co_await must_status(c, nowhere);
  BOOST_TEST(!fallback.from_server);
  BOOST_TEST(fallback.hosts_enabled == from_api.hosts_enabled);

  // The trapper itself refuses a session it does not know.
  json::value req = trapper::status_request("00000000000000000000000000000000");
  auto denied = co_await trapper::request(server_address(), std::move(req), 5s);
  BOOST_REQUIRE(!denied);
  BOOST_TEST(denied.error().kind == Kind::rpc);
  BOOST_TEST(denied.error().zabbix_text == "Permission denied.");
}

// An API token is a sid too: status.get with a token client.
asio::awaitable<void> check_token_status(Client& c, const Lab& lab) {
  json::value q = {{"name", lab.pfx + "-token"}, {"userid", "1"}};
  auto created = co_await must(c, "token.create", std::move(q));
  json::value tokenids = created.at("tokenids");
  std::exception_ptr failure;
  try {
    auto generated = co_await must(c, "token.generate", tokenids);
    Options o;
    o.url = lab_admin().url;
    o.api_token = std::string(generated.at(0).at("token").as_string());
    Client tc(co_await asio::this_coro::executor, o);
    StatusSource server;
    server.server_address = server_address();
    auto by_token = co_await must_status(tc, server);
    BOOST_TEST(by_token.from_server);
    BOOST_TEST(by_token.hosts_enabled >= 2u);
    BOOST_TEST(by_token.required_performance.has_value());  // the token's user is a Super admin
  } catch (...) {
    failure = std::current_exception();
  }
  co_await must(c, "token.delete", tokenids);
  if (failure) std::rethrow_exception(failure);
}

// What problem.get still lists for a minute (deleted triggers, disabled hosts) never shows.
asio::awaitable<void> check_gone(Client& c, Lab& lab) {
  // A: a second trigger in problem, deleted.
  const std::string doomed = co_await add_trigger(c, "Zrt deleted", "last(/" + lab.host_a + "/a2)>0", 4);
  reload_config();
  bool up = false;
  for (int attempt = 0; attempt < 40 && !up; ++attempt) {
    send(lab.host_a, "a2", "3");
    co_await sleep_for(250ms);
    up = (co_await trigger_value(c, doomed)) == 1;
  }
  BOOST_REQUIRE_MESSAGE(up, "the trigger to delete did not fire within 10 s");
  ProblemFilter f;
  f.host = lab.host_a;
  auto r = co_await must_problems(c, f);
  BOOST_TEST(r.total == 3u);
  json::value ids = json::array{doomed};
  co_await must(c, "trigger.delete", std::move(ids));
  r = co_await must_problems(c, f);
  BOOST_TEST(r.total == 2u);
  BOOST_TEST(r.problems.size() == 2u);

  // B disabled: its problem goes at once.
  json::value q = {{"hostid", lab.h_b}, {"status", 1}};
  co_await must(c, "host.update", std::move(q));
  f.host = lab.host_b;
  r = co_await must_problems(c, f);
  BOOST_TEST(r.problems.empty());
  BOOST_TEST(r.total == 0u);
  q = {{"hostids", json::array{lab.h_b}}, {"countOutput", true}};
  auto listed = co_await must(c, "problem.get", std::move(q));
  BOOST_TEST_MESSAGE("problem.get still lists " << json::serialize(listed)
                                                << " problem(s) of the disabled host");
}

asio::awaitable<void> cleanup(Client& c, Lab& lab) {
  auto hosts = lab.hosts();
  if (!hosts.empty()) {
    json::value ids = json::value_from(hosts);
    auto r = co_await c.call("host.delete", std::move(ids));
    BOOST_CHECK_MESSAGE(r, "host.delete: " << (r ? "" : r.error().message));
  }
  if (!lab.t_id.empty()) {
    json::value ids = json::array{lab.t_id};
    auto r = co_await c.call("template.delete", std::move(ids));
    BOOST_CHECK_MESSAGE(r, "template.delete: " << (r ? "" : r.error().message));
  }
  std::vector<std::string> groups;
  for (const auto* g : {&lab.g_a, &lab.g_b})
    if (!g->empty()) groups.push_back(*g);
  if (!groups.empty()) {
    json::value ids = json::value_from(groups);
    auto r = co_await c.call("hostgroup.delete", std::move(ids));
    BOOST_CHECK_MESSAGE(r, "hostgroup.delete: " << (r ? "" : r.error().message));
  }
  reload_config();
}

asio::awaitable<void> lab_reports() {
  Client c(co_await asio::this_coro::executor, lab_admin());
  Lab lab;
  const auto t0 = std::chrono::steady_clock::now();
  StatusSource api;
  const StatusReport before = co_await must_status(c, api);
  std::exception_ptr failure;
  try {
    const std::time_t started = std::time(nullptr);
    co_await build(c, lab);
    reload_config();
    co_await raise_problems(c, lab);
    BOOST_TEST_MESSAGE("objects built and problems raised in "
                       << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
    co_await check_problems(c, lab, started);
    co_await check_hosts(c, lab);
    co_await check_status(c, before);
    co_await check_token_status(c, lab);
    co_await check_gone(c, lab);
  } catch (...) {
    failure = std::current_exception();
  }
  co_await cleanup(c, lab);
  co_await c.logout();
  BOOST_TEST_MESSAGE("lab_reports took "
                     << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
  if (failure) std::rethrow_exception(failure);
}

// ---- the login pause, against the real server ---------------------------------------------------

asio::awaitable<int> failed_logins(Client& admin, std::string userid) {
  json::value q = {{"userids", json::array{userid}}, {"output", json::array{"attempt_failed"}}};
  auto r = co_await must(admin, "user.get", std::move(q));
  co_return std::atoi(r.at(0).at("attempt_failed").as_string().c_str());
}

asio::awaitable<void> set_password(Client& admin, std::string userid, std::string password) {
  json::value q = {{"userid", userid}, {"passwd", password}};
  co_await must(admin, "user.update", std::move(q));
}

asio::awaitable<void> lab_login_pause() {
  auto ex = co_await asio::this_coro::executor;
  Client admin(ex, lab_admin());
  const std::string pid = std::to_string(::getpid());
  const std::string user = "zrt" + pid + "-pause";
  const std::string right = "Zrt-right-" + pid, wrong = "Zrt-wrong-" + pid;
  json::value q = {{"username", user}, {"passwd", right}, {"roleid", "1"},
                   {"usrgrps", json::array{json::object{{"usrgrpid", "7"}}}}};
  const std::string userid = co_await create(admin, "user.create", std::move(q), "userids");

  std::exception_ptr failure;
  try {
    // The client's password is wrong; its clock is ours to move.
    auto now = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    Options o;
    o.url = lab("ZABBIX_URL");
    o.username = user;
    o.password = wrong;
    o.clock = [now] { return *now; };
    Client c(ex, o);

    auto in = co_await c.login();
    BOOST_REQUIRE(!in);
    BOOST_TEST(in.error().kind == Kind::auth);
    const std::string refused =
        "Zabbix login failed: Incorrect user name or password or account is temporarily blocked. "
        "(check ZABBIX_USERNAME/ZABBIX_PASSWORD)";
    BOOST_TEST(in.error().message == refused);
    BOOST_TEST((co_await failed_logins(admin, userid)) == 1);

    // Within the pause: the same error at once, Zabbix not asked (its counter stays at 1).
    auto params = json::value{{"countOutput", true}};
    for (int i = 0; i < 3; ++i) {
      auto r = co_await c.call("host.get", params);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().kind == Kind::auth);
      BOOST_TEST(r.error().message ==
                 refused + "; Zpark tries again in 60 s, not sooner, so that Zabbix does not block the account");
    }
    in = co_await c.login();
    BOOST_REQUIRE(!in);
    BOOST_TEST((co_await failed_logins(admin, userid)) == 1);

    // After it: one more try, refused, and the pause doubles.
    *now += 61s;
    in = co_await c.login();
    BOOST_REQUIRE(!in);
    BOOST_TEST(in.error().message == refused);
    BOOST_TEST((co_await failed_logins(admin, userid)) == 2);
    *now += 61s;
    in = co_await c.login();
    BOOST_REQUIRE(!in);
    BOOST_TEST(has(in.error().message, "tries again in 59 s"));
    BOOST_TEST((co_await failed_logins(admin, userid)) == 2);

    // The password is now right (changed on the server): after the pause the login works and
    // resets the pause; the next refusal pauses 60 s again, not 240 s.
    co_await set_password(admin, userid, wrong);
    *now += 60s;
    in = co_await c.login();
    BOOST_REQUIRE_MESSAGE(in, (in ? "" : in.error().message));
    BOOST_TEST((co_await failed_logins(admin, userid)) == 0);
    co_await set_password(admin, userid, right);
    in = co_await c.login();
    BOOST_REQUIRE(!in);
    in = co_await c.login();
    BOOST_REQUIRE(!in);
    BOOST_TEST(has(in.error().message, "tries again in 60 s"));
    BOOST_TEST((co_await failed_logins(admin, userid)) == 1);
  } catch (...) {
    failure = std::current_exception();
  }
  json::value ids = json::array{userid};
  auto deleted = co_await admin.call("user.delete", std::move(ids));
  BOOST_CHECK_MESSAGE(deleted, (deleted ? "" : deleted.error().message));
  co_await admin.logout();
  if (failure) std::rethrow_exception(failure);
}

BOOST_AUTO_TEST_SUITE(lab_suite, *utf::precondition(have_lab))

BOOST_AUTO_TEST_CASE(reports_match_the_lab) {
  asio::io_context io;
  run(io, lab_reports(), 120s);
}

BOOST_AUTO_TEST_CASE(login_pause_spares_the_account) {
  asio::io_context io;
  run(io, lab_login_pause());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
