// The Zabbix side of the bot's write commands (ack, unack, close, comment, maintenance):
//   - pure parts without I/O: the messages that name the Webex user, event.get answers ->
//     Event, what each action sends on each event state, maintenance names and parameters,
//     maintenance.get answers, permission errors;
//   - the real Zabbix 6.0 of test/zabbix/lab.sh (ctest fixture zabbix_lab; skipped without its
//     env file): the test makes its own group, hosts, triggers (one allowing manual close) and
//     problems, writes each command as a user would (parse_command -> act -> reply), checks what
//     Zabbix recorded with event.get / maintenance.get, does the same as Zabbix users without
//     the rights, and deletes all it made.
// Note (GCC bug 107288): json values and requests are built in their own statements, never as
// temporaries inside a co_await expression.
#define BOOST_TEST_MODULE zabbix_actions_test
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "spark/command.hpp"
#include "spark/replies.hpp"
#include "zabbix/actions.hpp"
#include "test/support/zabbix_lab.hpp"
#include "zabbix/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#ifndef ZABBIX_LAB_ENV
#define ZABBIX_LAB_ENV ""
#endif

namespace zpark::zabbix {
std::ostream& operator<<(std::ostream& os, EventOutcome o) { return os << static_cast<int>(o); }
std::ostream& operator<<(std::ostream& os, MaintenanceOutcome o) { return os << static_cast<int>(o); }
}  // namespace zpark::zabbix

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace utf = boost::unit_test;
namespace zbx = zpark::zabbix;
namespace spark = zpark::spark;
using namespace std::chrono_literals;
using zbx::Author;
using zbx::Client;
using zbx::Event;
using zbx::EventAction;
using zbx::EventOutcome;
using zbx::EventUpdate;
using zbx::MaintenanceOutcome;
using zbx::MaintenanceRequest;
using zbx::Options;

const Author kJane{"jane@example.com", "Jane Doe"};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string text(const boost::json::value& v) { return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v); }

// ---- pure: messages naming the Webex user -------------------------------------------------------

BOOST_AUTO_TEST_SUITE(pure)

BOOST_AUTO_TEST_CASE(messages_name_the_webex_user) {
  BOOST_TEST(zbx::author_text(kJane) == "Jane Doe <jane@example.com>");
  BOOST_TEST(zbx::author_text(Author{"jane@example.com", ""}) == "jane@example.com");
  BOOST_TEST(zbx::attributed_message(EventAction::acknowledge, "looking into it", kJane) ==
             "looking into it \xE2\x80\x94 Jane Doe <jane@example.com> via Webex");
  BOOST_TEST(zbx::attributed_message(EventAction::acknowledge, "", Author{"jane@example.com", ""}) ==
             "Acknowledged by jane@example.com via Webex");
  BOOST_TEST(zbx::attributed_message(EventAction::unacknowledge, "", kJane) ==
             "Unacknowledged by Jane Doe <jane@example.com> via Webex");
  BOOST_TEST(zbx::attributed_message(EventAction::close, "", kJane) == "Closed by Jane Doe <jane@example.com> via Webex");
  BOOST_TEST(zbx::attributed_message(EventAction::comment, "disk ordered", kJane) ==
             "disk ordered \xE2\x80\x94 Jane Doe <jane@example.com> via Webex");
}

BOOST_AUTO_TEST_CASE(the_webex_user_is_read_back_from_zparks_own_messages) {
  for (auto a : {EventAction::acknowledge, EventAction::unacknowledge, EventAction::close, EventAction::comment}) {
    BOOST_TEST(zbx::author_in(zbx::attributed_message(a, "", kJane)) == "Jane Doe <jane@example.com>");
    BOOST_TEST(zbx::author_in(zbx::attributed_message(a, "a \xE2\x80\x94 b", kJane)) == "Jane Doe <jane@example.com>");
  }
  BOOST_TEST(zbx::author_in("fixed it") == "");
  BOOST_TEST(zbx::author_in("") == "");
  BOOST_TEST(zbx::author_in("sent via Webex") == "");
}

// ---- pure: events ----------------------------------------------------------------------------------

// A 6.0.14 event.get answer to event_query() (history in the server's order).
const char* const kEventAnswer = R"([{
  "eventid":"55","source":"0","object":"0","objectid":"23226","clock":"1700000000","value":"1",
  "acknowledged":"1","name":"Disk full on /var","severity":"4","r_eventid":"0",
  "hosts":[{"hostid":"10589","host":"db01","name":"Database 01"}],
  "relatedObject":{"triggerid":"23226","manual_close":"1"},
  "acknowledges":[
    {"acknowledgeid":"7","clock":"1700000100","action":"4","message":"second","username":"Admin","name":"Zabbix","surname":"Administrator"},
    {"acknowledgeid":"9","clock":"1700000200","action":"6","message":"newest","username":"ops","name":"","surname":""},
    {"acknowledgeid":"6","clock":"1700000050","action":"6","message":"first","username":"Admin","name":"Zabbix","surname":"Administrator"},
    {"acknowledgeid":"8","clock":"1700000100","action":"4","message":"third","username":"Admin","name":"Zabbix","surname":"Administrator"}]
}])";

BOOST_AUTO_TEST_CASE(an_event_reads_from_event_get) {
  const auto q = zbx::event_query("55");
  BOOST_TEST(q.at("eventids") == json::array{"55"});
  BOOST_TEST(q.at("selectRelatedObject") == json::parse(R"(["triggerid","manual_close"])"));
  BOOST_TEST(q.contains("select_acknowledges"));

  auto e = zbx::event_from(json::parse(kEventAnswer));
  BOOST_REQUIRE(e.has_value());
  BOOST_TEST(e->eventid == "55");
  BOOST_TEST(e->problem);
  BOOST_TEST(!e->resolved);
  BOOST_TEST(e->acknowledged);
  BOOST_TEST(e->manual_close);
  BOOST_TEST(e->name == "Disk full on /var");
  BOOST_TEST(e->host == "Database 01");
  BOOST_TEST(e->severity == 4);
  BOOST_TEST(e->clock == 1700000000);
  BOOST_REQUIRE_EQUAL(e->updates.size(), 4u);
  BOOST_TEST(e->updates[0].message == "newest");  // newest first; in one second, the later id
  BOOST_TEST(e->updates[0].user == "ops");
  BOOST_TEST(e->updates[1].message == "third");
  BOOST_TEST(e->updates[1].user == "Zabbix Administrator");
  BOOST_TEST(e->updates[2].message == "second");
  BOOST_TEST(e->updates[3].message == "first");

  BOOST_TEST(!zbx::event_from(json::parse("[]")).has_value());
  BOOST_TEST(!zbx::event_from(json::value("x")).has_value());
  // A recovery event, an internal one: not problems.
  auto rec = zbx::event_from(json::parse(R"([{"eventid":"57","source":"0","object":"0","value":"0","r_eventid":"0"}])"));
  BOOST_REQUIRE(rec.has_value());
  BOOST_TEST(!rec->problem);
  auto internal = zbx::event_from(json::parse(R"([{"eventid":"58","source":"3","object":"4","value":"1"}])"));
  BOOST_TEST(!internal->problem);
  auto resolved = zbx::event_from(json::parse(R"([{"eventid":"59","source":"0","object":"0","value":"1","r_eventid":"60"}])"));
  BOOST_TEST(resolved->resolved);
}

Event state(bool acknowledged, bool resolved = false, bool manual_close = true, std::vector<EventUpdate> updates = {}) {
  Event e;
  e.eventid = "55";
  e.problem = true;
  e.acknowledged = acknowledged;
  e.resolved = resolved;
  e.manual_close = manual_close;
  e.updates = std::move(updates);
  return e;
}

struct Planned {
  const char* what;
  Event event;
  EventAction action;
  bool has_message;
  EventOutcome outcome;
  int bits;
};
std::ostream& operator<<(std::ostream& os, const Planned& p) { return os << p.what; }

const EventUpdate kCloseAsked{1700000100, zbx::kActClose | zbx::kActMessage, "Closed by x via Webex", "Admin"};

BOOST_DATA_TEST_CASE(
    each_action_sends_what_the_events_state_allows,
    utf::data::make(std::vector<Planned>{
        {"ack", state(false), EventAction::acknowledge, false, EventOutcome::done, 6},
        {"ack with words", state(false), EventAction::acknowledge, true, EventOutcome::done, 6},
        {"ack twice", state(true), EventAction::acknowledge, false, EventOutcome::already_done, 0},
        {"ack twice with words: the words only", state(true), EventAction::acknowledge, true,
         EventOutcome::already_done, 4},
        {"ack resolved", state(false, true), EventAction::acknowledge, true, EventOutcome::resolved, 0},
        {"unack", state(true), EventAction::unacknowledge, false, EventOutcome::done, 20},
        {"unack not acknowledged", state(false), EventAction::unacknowledge, false, EventOutcome::already_done, 0},
        {"unack resolved", state(true, true), EventAction::unacknowledge, false, EventOutcome::resolved, 0},
        {"close", state(false), EventAction::close, false, EventOutcome::done, 5},
        {"close acknowledged", state(true), EventAction::close, true, EventOutcome::done, 5},
        {"close without manual close", state(false, false, false), EventAction::close, false,
         EventOutcome::no_manual_close, 0},
        {"close asked before", state(false, false, true, {kCloseAsked}), EventAction::close, false,
         EventOutcome::already_done, 0},
        {"close resolved", state(false, true), EventAction::close, false, EventOutcome::resolved, 0},
        {"comment", state(false), EventAction::comment, true, EventOutcome::done, 4},
        {"comment on a resolved problem", state(true, true), EventAction::comment, true, EventOutcome::done, 4},
    }),
    p) {
  const auto plan = zbx::plan_event_action(p.event, p.action, p.has_message);
  BOOST_TEST(plan.outcome == p.outcome);
  BOOST_TEST(plan.bits == p.bits);
}

BOOST_AUTO_TEST_CASE(nothing_is_sent_for_what_is_not_a_problem) {
  Event e = state(false);
  e.problem = false;
  for (auto a : {EventAction::acknowledge, EventAction::unacknowledge, EventAction::close, EventAction::comment}) {
    const auto plan = zbx::plan_event_action(e, a, true);
    BOOST_TEST(plan.outcome == EventOutcome::not_a_problem);
    BOOST_TEST(plan.bits == 0);
  }
}

BOOST_AUTO_TEST_CASE(the_acknowledgement_in_force_and_a_pending_close) {
  const EventUpdate ack{100, 6, "a", "u"}, unack{200, 20, "b", "u"}, ack2{300, 6, "c", "u"}, msg{400, 4, "d", "u"};
  BOOST_TEST(!zbx::last_acknowledgement(state(false)).has_value());
  BOOST_TEST(zbx::last_acknowledgement(state(true, false, true, {msg, ack})).value().message == "a");
  BOOST_TEST(!zbx::last_acknowledgement(state(false, false, true, {unack, ack})).has_value());
  BOOST_TEST(zbx::last_acknowledgement(state(true, false, true, {msg, ack2, unack, ack})).value().message == "c");

  BOOST_TEST(!zbx::close_pending(state(false, false, true, {ack})));
  BOOST_TEST(zbx::close_pending(state(false, false, true, {kCloseAsked})));
  BOOST_TEST(!zbx::close_pending(state(false, true, true, {kCloseAsked})));  // done: resolved

  BOOST_TEST(zbx::has_message_since(state(false, false, true, {msg}), "d", 400));
  BOOST_TEST(!zbx::has_message_since(state(false, false, true, {msg}), "d", 401));
  BOOST_TEST(!zbx::has_message_since(state(false, false, true, {msg}), "e", 0));
  BOOST_TEST(!zbx::has_message_since(state(false, false, true, {EventUpdate{500, 2, "f", "u"}}), "f", 0));
}

BOOST_AUTO_TEST_CASE(acknowledge_parameters) {
  BOOST_TEST(json::value(zbx::acknowledge_params("55", 6, "m")) ==
             json::parse(R"({"eventids":["55"],"action":6,"message":"m"})"));
  BOOST_TEST(json::value(zbx::acknowledge_params("55", 2, "m")) == json::parse(R"({"eventids":["55"],"action":2})"));
}

zbx::Error rpc(std::string text) {
  zbx::Error e;
  e.kind = zbx::Error::Kind::rpc;
  e.zabbix_text = std::move(text);
  e.message = "Zabbix API x failed: " + e.zabbix_text;
  return e;
}

BOOST_AUTO_TEST_CASE(permission_refusals_are_told_apart) {
  BOOST_TEST(zbx::is_permission_error(rpc("No permissions to referred object or it does not exist!")));
  BOOST_TEST(zbx::is_permission_error(rpc("No permissions to call \"maintenance.create\".")));
  BOOST_TEST(zbx::is_permission_error(rpc("You do not have permission to perform this operation.")));
  BOOST_TEST(!zbx::is_permission_error(rpc("Cannot close problem: trigger does not allow manual closing.")));
  auto transport = rpc("No permissions");
  transport.kind = zbx::Error::Kind::transport;
  BOOST_TEST(!zbx::is_permission_error(transport));
}

BOOST_AUTO_TEST_CASE(zabbix_reasons_become_one_short_line) {
  BOOST_TEST(zbx::one_line("Invalid params.") == "Invalid params.");
  BOOST_TEST(zbx::one_line("Cannot do it.\n#0 /usr/share/zabbix/include/classes/api/CApiService.php(..)") ==
             "Cannot do it.");
  const std::string long_text = std::string(199, 'x') + "\xC3\xA9" + std::string(50, 'y');
  const std::string cut = zbx::one_line(long_text);
  BOOST_TEST(cut == std::string(199, 'x') + "\xE2\x80\xA6");
}

// ---- pure: maintenances ------------------------------------------------------------------------------

MaintenanceRequest request(std::string reason, bool group = false, Author author = kJane) {
  MaintenanceRequest r;
  r.group = group;
  r.target = "db01";
  r.duration = 7200;
  r.reason = std::move(reason);
  r.author = std::move(author);
  r.now = 1700000045;  // 2023-11-14 22:14:05 UTC
  return r;
}

std::size_t chars(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

BOOST_AUTO_TEST_CASE(maintenance_names_are_unique_and_fit) {
  BOOST_TEST(zbx::maintenance_name(request("disk swap"), "db01", false) == "Zpark: disk swap (jane@example.com)");
  BOOST_TEST(zbx::maintenance_name(request("disk swap"), "db01", true) ==
             "Zpark: disk swap (jane@example.com) 2023-11-14 22:14 UTC");
  BOOST_TEST(zbx::maintenance_name(request(""), "Database 01 (db01)", false) ==
             "Zpark: host Database 01 (db01) (jane@example.com)");
  BOOST_TEST(zbx::maintenance_name(request("", true), "Linux servers", false) ==
             "Zpark: group Linux servers (jane@example.com)");
  // A long reason is cut so the email and the time stay: 128 characters at most.
  std::string reason;
  for (int i = 0; i < 60; ++i) reason += "\xC3\xA9x";
  const std::string name = zbx::maintenance_name(request(reason), "db01", true);
  BOOST_TEST(chars(name) == 128u);
  BOOST_TEST(name.starts_with("Zpark: \xC3\xA9x"));
  BOOST_TEST(name.ends_with("\xE2\x80\xA6 (jane@example.com) 2023-11-14 22:14 UTC"));
  // Even an absurd email leaves a name Zabbix takes.
  const std::string huge = zbx::maintenance_name(request("r", false, Author{std::string(300, 'a') + "@x", ""}), "db01", true);
  BOOST_TEST(chars(huge) == 128u);
  BOOST_TEST(huge.starts_with("Zpark: "));

  BOOST_TEST(zbx::maintenance_description(request("disk swap"), "db01") ==
             "Created from Webex by Jane Doe <jane@example.com> for host db01: disk swap");
  BOOST_TEST(zbx::maintenance_description(request("", true), "Linux servers") ==
             "Created from Webex by Jane Doe <jane@example.com> for host group Linux servers");
}

BOOST_AUTO_TEST_CASE(maintenance_parameters_for_6_0_and_7_0) {
  const auto host = zbx::maintenance_params(request("r"), "n", "d", "10589");
  BOOST_TEST(json::value(host) == json::parse(R"({"name":"n","description":"d","maintenance_type":0,
      "active_since":1700000040,"active_till":1700007240,"hosts":[{"hostid":"10589"}],
      "timeperiods":[{"timeperiod_type":0,"start_date":1700000040,"period":7200}]})"));
  const auto group = zbx::maintenance_params(request("r", true), "n", "d", "36");
  BOOST_TEST(group.at("groups") == json::parse(R"([{"groupid":"36"}])"));
  BOOST_TEST(!group.contains("hosts"));
  BOOST_TEST(!group.contains("groupids"));

  BOOST_TEST(zbx::maintenance_query(false).contains("selectGroups"));
  BOOST_TEST(!zbx::maintenance_query(false).contains("selectHostGroups"));
  BOOST_TEST(zbx::maintenance_query(true).contains("selectHostGroups"));
}

BOOST_AUTO_TEST_CASE(current_maintenances_active_first_then_planned) {
  const std::int64_t now = 1700000000;
  const auto answer = json::parse(R"J([
    {"maintenanceid":"1","name":"over","active_since":"1699990000","active_till":"1700000000","hosts":[],"groups":[]},
    {"maintenanceid":"2","name":"Zpark: late (a@b.c)","description":"d","active_since":"1699990000","active_till":"1700090000",
     "hosts":[{"hostid":"1","host":"b","name":"B"},{"hostid":"2","host":"a","name":""}],"groups":[]},
    {"maintenanceid":"3","name":"soon over","active_since":"1699990000","active_till":"1700000060",
     "hosts":[],"hostgroups":[{"groupid":"5","name":"Linux"}]},
    {"maintenanceid":"4","name":"future","active_since":"1700003600","active_till":"1700007200","hosts":[],"groups":[{"groupid":"6","name":"Web"}]}
  ])J");
  const auto list = zbx::current_maintenances(answer, now);
  BOOST_REQUIRE_EQUAL(list.size(), 3u);
  BOOST_TEST(list[0].id == "3");
  BOOST_TEST(list[0].groups == std::vector<std::string>{"Linux"}, boost::test_tools::per_element());
  BOOST_TEST(list[1].id == "2");
  BOOST_TEST(list[1].from_zpark);
  BOOST_TEST(list[1].hosts == (std::vector<std::string>{"B", "a"}), boost::test_tools::per_element());
  BOOST_TEST(list[2].id == "4");
  BOOST_TEST(!list[2].from_zpark);
  BOOST_TEST(list[2].since == 1700003600);
  BOOST_TEST(zbx::current_maintenances(json::value("x"), now).empty());
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
  if (!lab("ZABBIX_URL").empty() && !lab("SERVER_PORT").empty()) return boost::test_tools::assertion_result(true);
  BOOST_TEST_MESSAGE("no Zabbix lab (" << ZABBIX_LAB_ENV << " absent; run test/zabbix/lab.sh start): real-server cases skipped");
  boost::test_tools::assertion_result r(false);
  r.message() << "no Zabbix lab env file " << ZABBIX_LAB_ENV;
  return r;
}

Options lab_user(std::string user, std::string password) {
  Options o;
  o.url = lab("ZABBIX_URL");
  o.username = std::move(user);
  o.password = std::move(password);
  return o;
}

std::string shell(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen((command + " 2>&1").c_str(), "r")) {
    std::array<char, 512> buf;
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    ::pclose(p);
  }
  return out;
}

void send(const std::string& host, const std::string& key, const std::string& value) {
  shell("zabbix_sender -z 127.0.0.1 -p " + lab("SERVER_PORT") + " -s '" + host + "' -k '" + key + "' -o '" + value + "'");
}

void reload_config() {
  if (!lab("ZABBIX_SERVER_CONF").empty()) shell("zabbix_server -c '" + lab("ZABBIX_SERVER_CONF") + "' -R config_cache_reload");
}

void run(asio::io_context& io, asio::awaitable<void> task, std::chrono::seconds limit) {
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
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<json::value> must(Client& c, std::string method, json::value params) {
  auto r = co_await c.call(method, std::move(params));
  BOOST_REQUIRE_MESSAGE(r, method << ": " << (r ? "" : r.error().message));
  co_return *r;
}

asio::awaitable<std::string> create(Client& c, std::string method, json::value params, std::string ids_key) {
  auto r = co_await must(c, std::move(method), std::move(params));
  co_return std::string(r.at(ids_key).at(0).as_string());
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

struct Lab {
  std::string pid = std::to_string(::getpid());
  std::string pfx = "zat" + pid;  // technical names: zat<pid>-a, -b, -twin1, -twin2
  std::string group = "Zpark Actions " + pid;
  std::string host_a = pfx + "-a", name_a = "Zat Alpha " + pid, host_b = pfx + "-b";
  std::string twin = pfx + "-twin", twin_upper = "ZAT" + pid + "-TWIN";  // one name, two cases
  std::string gid, h_a, h_b, h_t1, h_t2;
  std::string t_fixed, t_closable;  // triggers: no manual close, manual close
  std::string e_fixed, e_closable;  // their problem events
  std::vector<std::string> maintenances, usergroups, users;
};

asio::awaitable<void> build(Client& c, Lab& lab) {
  json::value q = {{"name", lab.group}};
  lab.gid = co_await create(c, "hostgroup.create", std::move(q), "groupids");
  const json::value groups = json::array{json::object{{"groupid", lab.gid}}};
  q = {{"host", lab.host_a}, {"name", lab.name_a}, {"groups", groups}};
  lab.h_a = co_await create(c, "host.create", std::move(q), "hostids");
  q = {{"host", lab.host_b}, {"groups", groups}};
  lab.h_b = co_await create(c, "host.create", std::move(q), "hostids");
  q = {{"host", lab.twin}, {"groups", groups}};
  lab.h_t1 = co_await create(c, "host.create", std::move(q), "hostids");
  q = {{"host", lab.twin_upper}, {"groups", groups}};
  lab.h_t2 = co_await create(c, "host.create", std::move(q), "hostids");
  q = {{"hostid", lab.h_a}, {"name", "v"}, {"key_", "v"}, {"type", 2}, {"value_type", 3}};
  co_await create(c, "item.create", std::move(q), "itemids");
  const std::string item = "last(/" + lab.host_a + "/v)";
  q = {{"description", "Zat fixed on {HOST.NAME}"}, {"expression", item + ">0"}, {"priority", 3}};
  lab.t_fixed = co_await create(c, "trigger.create", std::move(q), "triggerids");
  q = {{"description", "Zat closable"}, {"expression", item + ">1"}, {"priority", 4}, {"manual_close", 1}};
  lab.t_closable = co_await create(c, "trigger.create", std::move(q), "triggerids");
}

// Sends values until both triggers are in problem; a value the server got before it loaded the
// trigger is lost, so keep sending.
asio::awaitable<void> raise_problems(Client& c, Lab& lab) {
  reload_config();
  for (int attempt = 0; attempt < 60; ++attempt) {
    send(lab.host_a, "v", "5");
    co_await sleep_for(250ms);
    json::value q = {{"triggerids", json::array{lab.t_fixed, lab.t_closable}}, {"output", json::array{"value"}},
                     {"selectLastEvent", json::array{"eventid", "value"}}};
    auto r = co_await must(c, "trigger.get", std::move(q));
    std::map<std::string, std::string> events;
    for (const auto& t : r.as_array()) {
      const auto& o = t.as_object();
      if (o.at("value") != "1" || !o.at("lastEvent").is_object()) continue;
      events[std::string(o.at("triggerid").as_string())] = std::string(o.at("lastEvent").at("eventid").as_string());
    }
    if (events.size() == 2) {
      lab.e_fixed = events[lab.t_fixed];
      lab.e_closable = events[lab.t_closable];
      co_return;
    }
  }
  BOOST_FAIL("no problems from " << lab.host_a << " within 15 s");
}

// The event's history, newest first, as Zabbix itself has it.
asio::awaitable<Event> history(Client& c, std::string eventid) {
  json::value q = zbx::event_query(eventid);
  auto r = co_await must(c, "event.get", std::move(q));
  auto e = zbx::event_from(r);
  BOOST_REQUIRE_MESSAGE(e, "event " << eventid << " is gone");
  co_return *e;
}

// A command as a user writes it: parsed, asked of Zabbix, answered. The runner does the same
// (tasks/commands/runner.cpp) with the Webex user's name and email.
struct Said {
  zbx::EventResult result;
  std::string reply;
};

asio::awaitable<Said> event_command(Client& c, std::string text, bool retry = false, std::int64_t asked_at = 0) {
  const auto cmd = spark::parse_command(text, text);
  BOOST_REQUIRE_MESSAGE(spark::is_event_command(cmd.kind) && cmd.problem.empty(), text << ": " << cmd.problem);
  zbx::EventRequest req;
  req.action = cmd.kind == spark::Command::Kind::ack     ? EventAction::acknowledge
               : cmd.kind == spark::Command::Kind::unack ? EventAction::unacknowledge
               : cmd.kind == spark::Command::Kind::close ? EventAction::close
                                                          : EventAction::comment;
  req.eventid = cmd.id;
  req.message = cmd.message;
  req.author = kJane;
  req.asked_at = asked_at ? asked_at : unix_now();
  req.retry = retry;
  auto r = co_await zbx::act_on_event(c, req);
  BOOST_REQUIRE_MESSAGE(r, text << ": " << (r ? "" : r.error().message));
  const spark::Caller caller{kJane.email, kJane.display_name, false};
  Said said{*r, spark::event_action_reply(caller, *r, unix_now())};
  BOOST_TEST_MESSAGE(text << " -> " << said.reply);
  co_return said;
}

const std::string kByJane = " \xE2\x80\x94 Jane Doe <jane@example.com> via Webex";

asio::awaitable<void> check_events(Client& c, Lab& lab) {
  const std::string e = lab.e_fixed;

  // ack with words: acknowledged, the words and the Webex user in the history.
  auto s = co_await event_command(c, "ack " + e + " looking into it");
  BOOST_TEST(s.result.outcome == EventOutcome::done);
  BOOST_TEST(s.reply == "Acknowledged **Zat fixed on " + lab.name_a + "** on " + lab.name_a + " (event " + e +
                            "), with your message.");
  Event h = co_await history(c, e);
  BOOST_TEST(h.acknowledged);
  BOOST_REQUIRE_EQUAL(h.updates.size(), 1u);
  BOOST_TEST(h.updates[0].action == (zbx::kActAcknowledge | zbx::kActMessage));
  BOOST_TEST(h.updates[0].message == "looking into it" + kByJane);

  // ack twice: acknowledged once; the second says by whom, records nothing without words and
  // only the words with them.
  s = co_await event_command(c, "ack " + e);
  BOOST_TEST(s.result.outcome == EventOutcome::already_done);
  BOOST_TEST(s.result.acknowledged_by == "Jane Doe <jane@example.com>");
  BOOST_TEST(has(s.reply, "was already acknowledged by Jane Doe &lt;jane@example.com&gt; "));
  BOOST_TEST(has(s.reply, "nothing changed"));
  BOOST_TEST((co_await history(c, e)).updates.size() == 1u);
  s = co_await event_command(c, "ACK #" + e + " Still On It");
  BOOST_TEST(s.result.outcome == EventOutcome::already_done);
  BOOST_TEST(has(s.reply, "I added your message to it"));
  h = co_await history(c, e);
  BOOST_REQUIRE_EQUAL(h.updates.size(), 2u);
  BOOST_TEST(h.updates[0].action == zbx::kActMessage);
  BOOST_TEST(h.updates[0].message == "Still On It" + kByJane);
  int acks = 0;
  for (const auto& u : h.updates) acks += (u.action & zbx::kActAcknowledge) ? 1 : 0;
  BOOST_TEST(acks == 1);

  // comment.
  s = co_await event_command(c, "comment " + e + " disk ordered");
  BOOST_TEST(s.result.outcome == EventOutcome::done);
  BOOST_TEST(has(s.reply, "Added your comment to **Zat fixed on"));
  h = co_await history(c, e);
  BOOST_REQUIRE_EQUAL(h.updates.size(), 3u);
  BOOST_TEST(h.updates[0].message == "disk ordered" + kByJane);

  // A retried comment whose first attempt reached Zabbix does not comment twice.
  const std::int64_t asked = unix_now();
  s = co_await event_command(c, "comment " + e + " only once", false, asked);
  s = co_await event_command(c, "comment " + e + " only once", true, asked);
  BOOST_TEST(s.result.outcome == EventOutcome::done);
  h = co_await history(c, e);
  BOOST_TEST(h.updates.size() == 4u);

  // unack: done, named; a second one changes nothing.
  s = co_await event_command(c, "unack " + e);
  BOOST_TEST(s.result.outcome == EventOutcome::done);
  BOOST_TEST(has(s.reply, "Unacknowledged **Zat fixed on"));
  h = co_await history(c, e);
  BOOST_TEST(!h.acknowledged);
  BOOST_REQUIRE_EQUAL(h.updates.size(), 5u);
  BOOST_TEST(h.updates[0].action == (zbx::kActUnacknowledge | zbx::kActMessage));
  BOOST_TEST(h.updates[0].message == "Unacknowledged by Jane Doe <jane@example.com> via Webex");
  s = co_await event_command(c, "unack " + e);
  BOOST_TEST(s.result.outcome == EventOutcome::already_done);
  BOOST_TEST(has(s.reply, "is not acknowledged; nothing changed"));
  BOOST_TEST((co_await history(c, e)).updates.size() == 5u);

  // close where the trigger does not allow it: refused before asking Zabbix, nothing recorded.
  s = co_await event_command(c, "close " + e + " rebooted");
  BOOST_TEST(s.result.outcome == EventOutcome::no_manual_close);
  BOOST_TEST(has(s.reply, "can't be closed by hand"));
  h = co_await history(c, e);
  BOOST_TEST(h.updates.size() == 5u);
  BOOST_TEST(!h.resolved);

  // close where it may: asked, named, and Zabbix closes it in the background a few seconds on.
  const std::string ce = lab.e_closable;
  s = co_await event_command(c, "close " + ce);
  BOOST_TEST(s.result.outcome == EventOutcome::done);
  BOOST_TEST(has(s.reply, "Asked Zabbix to close **Zat closable** on " + lab.name_a));
  h = co_await history(c, ce);
  BOOST_REQUIRE_EQUAL(h.updates.size(), 1u);
  BOOST_TEST(h.updates[0].action == (zbx::kActClose | zbx::kActMessage));
  BOOST_TEST(h.updates[0].message == "Closed by Jane Doe <jane@example.com> via Webex");
  const auto t0 = std::chrono::steady_clock::now();
  bool closing_checked = false;
  while (!h.resolved && std::chrono::steady_clock::now() - t0 < 20s) {
    if (!closing_checked) {
      // Asked again while Zabbix is still closing it: nothing more to do.
      s = co_await event_command(c, "close " + ce);
      closing_checked = true;
      h = co_await history(c, ce);
      if (!h.resolved) {
        BOOST_TEST(s.result.outcome == EventOutcome::already_done);
        BOOST_TEST(has(s.reply, "was already asked for"));
      }
    }
    co_await sleep_for(300ms);
    h = co_await history(c, ce);
  }
  BOOST_REQUIRE_MESSAGE(h.resolved, "Zabbix did not close the problem within 20 s");
  BOOST_TEST_MESSAGE("closed after " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                                     << " s");
  for (const char* verb : {"ack ", "unack ", "close "}) {
    s = co_await event_command(c, verb + ce);
    BOOST_TEST(s.result.outcome == EventOutcome::resolved, verb);
    BOOST_TEST(has(s.reply, "is already resolved (closed by hand), so there is nothing to"), s.reply);
  }
  s = co_await event_command(c, "comment " + ce + " post mortem on Monday");
  BOOST_TEST(s.result.outcome == EventOutcome::done);
  BOOST_TEST((co_await history(c, ce)).updates.front().message == "post mortem on Monday" + kByJane);

  // The recovery event and an event that does not exist.
  json::value q = {{"eventids", json::array{ce}}, {"output", json::array{"r_eventid"}}};
  auto rec = co_await must(c, "event.get", std::move(q));
  const std::string recovery(rec.at(0).at("r_eventid").as_string());
  s = co_await event_command(c, "ack " + recovery);
  BOOST_TEST(s.result.outcome == EventOutcome::not_a_problem);
  BOOST_TEST(has(s.reply, "is not a problem"));
  s = co_await event_command(c, "ack 9" + e + "99999");
  BOOST_TEST(s.result.outcome == EventOutcome::not_found);
  BOOST_TEST(has(s.reply, "I can't find event **9" + e + "99999** in Zabbix"));
}

// ---- maintenances ----

asio::awaitable<json::value> maintenance_get(Client& c, std::string id) {
  json::value q = {{"maintenanceids", json::array{id}},
                   {"output", "extend"},
                   {"selectHosts", json::array{"hostid"}},
                   {"selectGroups", json::array{"groupid"}},
                   {"selectTimeperiods", "extend"}};
  co_return co_await must(c, "maintenance.get", std::move(q));
}

struct Made {
  zbx::MaintenanceResult result;
  std::string reply;
};

asio::awaitable<Made> maintenance_command(Client& c, std::string text, std::int64_t now = 0) {
  const auto cmd = spark::parse_command(text, text);
  BOOST_REQUIRE_MESSAGE(cmd.kind == spark::Command::Kind::maintenance_create && cmd.problem.empty(),
                        text << ": " << cmd.problem);
  MaintenanceRequest req;
  req.group = !cmd.group.empty();
  req.target = req.group ? cmd.group : cmd.host;
  req.duration = cmd.duration;
  req.reason = cmd.message;
  req.author = kJane;
  req.now = now ? now : unix_now();
  auto r = co_await zbx::create_maintenance(c, req);
  BOOST_REQUIRE_MESSAGE(r, text << ": " << (r ? "" : r.error().message));
  const spark::Caller caller{kJane.email, kJane.display_name, false};
  Made made{*r, spark::maintenance_created_reply(caller, *r, req.group, req.target)};
  BOOST_TEST_MESSAGE(text << " -> " << made.reply);
  co_return made;
}

asio::awaitable<void> check_maintenances(Client& c, Lab& lab) {
  // On a host, named by its technical name in another case, with a reason.
  const std::int64_t now = unix_now();
  auto m = co_await maintenance_command(c, "maintenance host " + lab.pfx + "-A 2h disk swap", now);
  BOOST_REQUIRE(m.result.outcome == MaintenanceOutcome::done);
  const std::string id = m.result.maintenance.id;
  lab.maintenances.push_back(id);
  BOOST_TEST(m.result.maintenance.name == "Zpark: disk swap (jane@example.com)");
  BOOST_TEST(m.result.target == lab.name_a + " (" + lab.host_a + ")");
  BOOST_TEST(has(m.reply, "Created maintenance **Zpark: disk swap \\(jane@example.com\\)** (id " + id + ")"));
  BOOST_TEST(has(m.reply, "(2h), with data collection. End it early with `maintenance end " + id + "`."));
  auto got = co_await maintenance_get(c, id);
  BOOST_REQUIRE_EQUAL(got.as_array().size(), 1u);
  const auto& g = got.at(0);
  const std::int64_t since = now - now % 60;
  BOOST_TEST(text(g.at("name")) == "Zpark: disk swap (jane@example.com)");
  BOOST_TEST(text(g.at("description")) == "Created from Webex by Jane Doe <jane@example.com> for host " + lab.name_a +
                                         " (" + lab.host_a + "): disk swap");
  BOOST_TEST(text(g.at("maintenance_type")) == "0");
  BOOST_TEST(text(g.at("active_since")) == std::to_string(since));
  BOOST_TEST(text(g.at("active_till")) == std::to_string(since + 7200));
  BOOST_TEST(g.at("hosts") == json::parse("[{\"hostid\":\"" + lab.h_a + "\"}]"));
  BOOST_TEST(g.at("groups").as_array().empty());
  BOOST_REQUIRE_EQUAL(g.at("timeperiods").as_array().size(), 1u);
  BOOST_TEST(text(g.at("timeperiods").at(0).at("timeperiod_type")) == "0");
  BOOST_TEST(text(g.at("timeperiods").at(0).at("period")) == "7200");
  BOOST_TEST(text(g.at("timeperiods").at(0).at("start_date")) == std::to_string(since));

  // The same command retried after a lost answer finds it; another one a minute on gets a
  // name with its time.
  auto again = co_await maintenance_command(c, "maintenance host " + lab.pfx + "-A 2h disk swap", now);
  BOOST_TEST(again.result.outcome == MaintenanceOutcome::done);
  BOOST_TEST(again.result.maintenance.id == id);
  auto later = co_await maintenance_command(c, "maintenance host " + lab.pfx + "-A 2h disk swap", now + 60);
  BOOST_REQUIRE(later.result.outcome == MaintenanceOutcome::done);
  lab.maintenances.push_back(later.result.maintenance.id);
  BOOST_TEST(later.result.maintenance.id != id);
  BOOST_TEST(later.result.maintenance.name ==
             "Zpark: disk swap (jane@example.com) " + spark::format_utc_minute(now + 60));

  // On a group, without a reason.
  auto grp = co_await maintenance_command(c, "maintenance group \"" + lab.group + "\" 30m");
  BOOST_REQUIRE(grp.result.outcome == MaintenanceOutcome::done);
  lab.maintenances.push_back(grp.result.maintenance.id);
  BOOST_TEST(grp.result.maintenance.name == "Zpark: group " + lab.group + " (jane@example.com)");
  got = co_await maintenance_get(c, grp.result.maintenance.id);
  BOOST_TEST(got.at(0).at("groups") == json::parse("[{\"groupid\":\"" + lab.gid + "\"}]"));
  BOOST_TEST(got.at(0).at("hosts").as_array().empty());

  // No such host; a part of a name is not enough; two hosts whose names differ only in case:
  // the one written exactly, else neither.
  auto none = co_await maintenance_command(c, "maintenance host " + lab.pfx + "-nope 1h");
  BOOST_TEST(none.result.outcome == MaintenanceOutcome::no_target);
  BOOST_TEST(none.result.candidates.empty());
  auto part = co_await maintenance_command(c, "maintenance host " + lab.pfx + " 1h");
  BOOST_TEST(part.result.outcome == MaintenanceOutcome::no_target);
  BOOST_TEST(part.result.candidates.size() == 4u);
  BOOST_TEST(has(part.reply, "Hosts whose names contain it:"));
  auto twins = co_await maintenance_command(c, "maintenance host Zat" + lab.pid + "-Twin 1h");
  BOOST_TEST(twins.result.outcome == MaintenanceOutcome::several_targets);
  BOOST_TEST(twins.result.candidates.size() == 2u);
  BOOST_TEST(has(twins.reply, "Several hosts are called **Zat" + lab.pid + "-Twin**, so I created no maintenance:"));
  auto twin = co_await maintenance_command(c, "maintenance host " + lab.twin_upper + " 1h");
  BOOST_TEST(twin.result.outcome == MaintenanceOutcome::done);
  BOOST_TEST(twin.result.target == lab.twin_upper);
  if (twin.result.outcome == MaintenanceOutcome::done) lab.maintenances.push_back(twin.result.maintenance.id);

  // maintenance list: ours, with their hosts and groups.
  auto list = co_await zbx::maintenances(c, unix_now());
  BOOST_REQUIRE(list);
  std::map<std::string, zbx::Maintenance> by_id;
  for (const auto& x : *list) by_id[x.id] = x;
  for (const auto& mid : lab.maintenances) BOOST_TEST(by_id.count(mid) == 1u, mid);
  BOOST_TEST(by_id[id].hosts == std::vector<std::string>{lab.name_a}, boost::test_tools::per_element());
  BOOST_TEST(by_id[grp.result.maintenance.id].groups == std::vector<std::string>{lab.group},
             boost::test_tools::per_element());
  const spark::Caller caller{kJane.email, kJane.display_name, false};
  const std::string listed = spark::maintenance_list_reply(caller, *list, unix_now());
  BOOST_TEST(has(listed, "- " + id + ": **Zpark: disk swap \\(jane@example.com\\)** - host " + lab.name_a + " - until "));

  // maintenance end: gone from Zabbix; ending it again finds nothing (a retry: done).
  auto ended = co_await zbx::end_maintenance(c, id, unix_now());
  BOOST_REQUIRE(ended);
  BOOST_TEST(ended->outcome == MaintenanceOutcome::done);
  BOOST_TEST(has(spark::maintenance_ended_reply(caller, *ended, id), "Ended maintenance **Zpark: disk swap"));
  BOOST_TEST((co_await maintenance_get(c, id)).as_array().empty());
  ended = co_await zbx::end_maintenance(c, id, unix_now());
  BOOST_REQUIRE(ended);
  BOOST_TEST(ended->outcome == MaintenanceOutcome::not_found);
  ended = co_await zbx::end_maintenance(c, id, unix_now(), true);
  BOOST_TEST(ended->outcome == MaintenanceOutcome::done);
  list = co_await zbx::maintenances(c, unix_now());
  BOOST_REQUIRE(list);
  for (const auto& x : *list) BOOST_TEST(x.id != id);

  // One made in the frontend is left alone.
  json::value q = {{"name", "Zat frontend " + lab.pid},
                   {"active_since", since},
                   {"active_till", since + 3600},
                   {"hosts", json::array{json::object{{"hostid", lab.h_b}}}},
                   {"timeperiods", json::array{json::object{{"timeperiod_type", 0}, {"start_date", since}, {"period", 3600}}}}};
  const std::string frontend = co_await create(c, "maintenance.create", std::move(q), "maintenanceids");
  lab.maintenances.push_back(frontend);
  ended = co_await zbx::end_maintenance(c, frontend, unix_now());
  BOOST_REQUIRE(ended);
  BOOST_TEST(ended->outcome == MaintenanceOutcome::not_ours);
  BOOST_TEST(has(spark::maintenance_ended_reply(caller, *ended, frontend), "was not made from Webex"));
  BOOST_TEST((co_await maintenance_get(c, frontend)).as_array().size() == 1u);
}

// ---- Zabbix users without the rights ----

asio::awaitable<std::string> add_user(Client& admin, Lab& lab, std::string name, std::string roleid, int permission) {
  json::object g = {{"name", "Zat " + name + " " + lab.pid}};
  if (permission) g["rights"] = json::array{json::object{{"id", lab.gid}, {"permission", permission}}};
  json::value gq = std::move(g);
  const std::string ugid = co_await create(admin, "usergroup.create", std::move(gq), "usrgrpids");
  lab.usergroups.push_back(ugid);
  json::value uq = {{"username", lab.pfx + "-" + name},
                    {"passwd", "Zat-pass-" + lab.pid},
                    {"roleid", roleid},
                    {"usrgrps", json::array{json::object{{"usrgrpid", ugid}}}}};
  const std::string userid = co_await create(admin, "user.create", std::move(uq), "userids");
  lab.users.push_back(userid);
  co_return lab.pfx + "-" + name;
}

asio::awaitable<void> check_permissions(Client& admin, Lab& lab) {
  auto ex = co_await asio::this_coro::executor;
  const std::string password = "Zat-pass-" + lab.pid;
  // User role, no host permissions: sees no event and no host.
  const std::string nobody = co_await add_user(admin, lab, "nobody", "1", 0);
  {
    Client c(ex, lab_user(nobody, password));
    auto s = co_await event_command(c, "ack " + lab.e_fixed + " from nobody");
    BOOST_TEST(s.result.outcome == EventOutcome::not_found);
    BOOST_TEST(s.reply == "I can't find event **" + lab.e_fixed +
                              "** in Zabbix: it does not exist, or Zpark's Zabbix account is not allowed to see it.");
    auto m = co_await maintenance_command(c, "maintenance host " + lab.host_b + " 1h");
    BOOST_TEST(m.result.outcome == MaintenanceOutcome::no_target);
    BOOST_TEST(has(m.reply, "or Zpark's Zabbix account is not allowed to see it. No maintenance was created."));
    auto list = co_await zbx::maintenances(c, unix_now());
    BOOST_REQUIRE(list);
    BOOST_TEST(list->empty());
    co_await c.logout();
  }
  // User role with read access: may acknowledge, may not make maintenances.
  const std::string reader = co_await add_user(admin, lab, "reader", "1", 2);
  {
    Client c(ex, lab_user(reader, password));
    auto m = co_await maintenance_command(c, "maintenance host " + lab.host_b + " 1h");
    BOOST_TEST(m.result.outcome == MaintenanceOutcome::no_permission);
    BOOST_TEST(m.reply == "Zpark's Zabbix account is not allowed to create maintenances for **" + lab.host_b +
                              "**. It needs an Admin role with write access to the host's group; please ask your "
                              "Zabbix administrator.");
    BOOST_TEST(!has(m.reply, "Invalid params"));
    auto s = co_await event_command(c, "comment " + lab.e_fixed + " read-only comment");
    BOOST_TEST(s.result.outcome == EventOutcome::done);
    co_await c.logout();
  }
  // Admin role with read access only: Zabbix's "No permissions to referred object".
  const std::string admin_reader = co_await add_user(admin, lab, "adminreader", "2", 2);
  {
    Client c(ex, lab_user(admin_reader, password));
    auto m = co_await maintenance_command(c, "maintenance group \"" + lab.group + "\" 1h");
    BOOST_TEST(m.result.outcome == MaintenanceOutcome::no_permission);
    BOOST_TEST(has(m.reply, "is not allowed to create maintenances for **" + lab.group + "**"));
    BOOST_TEST(!has(m.reply, "referred object"));
    co_await c.logout();
  }
}

asio::awaitable<void> drop(Client& c, std::string method, std::vector<std::string> ids) {
  if (ids.empty()) co_return;
  json::value p = json::value_from(ids);
  auto r = co_await c.call(method, std::move(p));
  BOOST_CHECK_MESSAGE(r, method << ": " << (r ? "" : r.error().message));
}

asio::awaitable<void> cleanup(Client& c, Lab& lab) {
  // Maintenances first (Zabbix refuses to delete a host or group that is a maintenance's
  // only one); those the test ended are gone already.
  std::vector<std::string> left;
  for (const auto& id : lab.maintenances) {
    json::value q = {{"maintenanceids", json::array{id}}, {"output", json::array{"maintenanceid"}}};
    auto r = co_await c.call("maintenance.get", std::move(q));
    if (r && r->is_array() && !r->as_array().empty()) left.push_back(id);
  }
  co_await drop(c, "maintenance.delete", left);
  co_await drop(c, "user.delete", lab.users);
  co_await drop(c, "usergroup.delete", lab.usergroups);
  std::vector<std::string> hosts;
  for (const auto* h : {&lab.h_a, &lab.h_b, &lab.h_t1, &lab.h_t2})
    if (!h->empty()) hosts.push_back(*h);
  co_await drop(c, "host.delete", hosts);
  std::vector<std::string> groups;
  if (!lab.gid.empty()) groups.push_back(lab.gid);
  co_await drop(c, "hostgroup.delete", groups);
  reload_config();
}

asio::awaitable<void> lab_actions() {
  Client c(co_await asio::this_coro::executor, lab_user("Admin", "zabbix"));
  Lab lab;
  const auto t0 = std::chrono::steady_clock::now();
  std::exception_ptr failure;
  try {
    co_await build(c, lab);
    co_await raise_problems(c, lab);
    co_await check_events(c, lab);
    co_await check_maintenances(c, lab);
    co_await check_permissions(c, lab);
  } catch (...) {
    failure = std::current_exception();
  }
  co_await cleanup(c, lab);
  co_await c.logout();
  BOOST_TEST_MESSAGE("lab_actions took " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                                         << " s");
  if (failure) std::rethrow_exception(failure);
}

BOOST_AUTO_TEST_SUITE(lab_suite, *utf::precondition(have_lab))

BOOST_AUTO_TEST_CASE(commands_act_on_the_lab_and_name_the_webex_user) {
  asio::io_context io;
  run(io, lab_actions(), 180s);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
