// Graphs, Zabbix side: the frontend session (form login, chart.php) and the queries that find a
// graph's items, in three layers: pure functions; a fake frontend on loopback
// (test/support/fake_frontend) for sessions that expire, refused logins and HTML answers; and
// the real Zabbix 6.0 of test/zabbix/lab.sh (skipped without its env file).
// Note (GCC bug 107288): requests and option structs are built in their own statements.
#define BOOST_TEST_MODULE zabbix_frontend_test
#include <boost/test/unit_test.hpp>

#include "test/support/fake_frontend.hpp"
#include "test/support/zabbix_lab.hpp"
#include "zabbix/frontend.hpp"
#include "zabbix/graphs.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>

#ifndef ZABBIX_LAB_ENV
#define ZABBIX_LAB_ENV ""
#endif

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace utf = boost::unit_test;
using namespace zpark::zabbix;
using zpark::test::FakeFrontend;

template <class T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    error = e;
    out = std::move(v);
    io.stop();  // pooled connections keep idle timers: do not wait for them
  });
  io.restart();
  io.run_for(std::chrono::seconds(90));
  if (error) std::rethrow_exception(error);
  BOOST_TEST_REQUIRE(out.has_value(), "timed out");
  return std::move(*out);
}

FrontendOptions options(const std::string& url, const std::string& user = "Admin", const std::string& pass = "zabbix") {
  FrontendOptions o;
  o.url = url;
  o.username = user;
  o.password = pass;
  o.timeout = std::chrono::seconds(30);
  return o;
}

std::string lab_url() { return zpark::test::lab_value(zpark::test::read_lab_env(ZABBIX_LAB_ENV), "ZABBIX_URL"); }

boost::test_tools::assertion_result have_lab(utf::test_unit_id) {
  if (!lab_url().empty()) return true;
  boost::test_tools::assertion_result r(false);
  r.message() << "no Zabbix lab env file " << ZABBIX_LAB_ENV << " (run test/zabbix/lab.sh start)";
  return r;
}

}  // namespace

// ---- pure parts ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(png_and_html_are_told_apart) {
  BOOST_TEST(is_png(std::string("\x89PNG\r\n\x1a\n\0\0", 10)));
  BOOST_TEST(!is_png("\x89PNG"));
  BOOST_TEST(!is_png("<!DOCTYPE html><html>"));
  BOOST_TEST(!is_png(""));
  BOOST_TEST(looks_like_html("\n  <!DOCTYPE html>\n<html lang=\"en\">"));
  BOOST_TEST(looks_like_html("<HTML><body>"));
  BOOST_TEST(!looks_like_html(std::string("\x89PNG\r\n\x1a\n", 8)));
  BOOST_TEST(!looks_like_html("{\"jsonrpc\":\"2.0\"}"));
}

BOOST_AUTO_TEST_CASE(login_form_and_session_cookie) {
  BOOST_TEST(login_form("Admin", "p&ss w=rd") == "name=Admin&password=p%26ss%20w%3Drd&autologin=1&enter=Sign%20in");
  BOOST_TEST(session_cookie("zbx_session=eyJz%3D; expires=Tue, 05 Jan 2027; HttpOnly").value_or("") == "eyJz%3D");
  BOOST_TEST(session_cookie(" zbx_session=abc").value_or("") == "abc");
  BOOST_TEST(!session_cookie("PHPSESSID=abc; path=/").has_value());
  BOOST_TEST(!session_cookie("zbx_session=deleted; expires=Thu, 01 Jan 1970").has_value());
  BOOST_TEST(!session_cookie("zbx_session=; path=/").has_value());
}

BOOST_AUTO_TEST_CASE(chart_target_has_items_period_and_the_profile_that_makes_from_count) {
  ChartRequest r;
  r.itemids = {"23001", "23002"};
  r.period_seconds = 21600;
  BOOST_TEST(chart_target(r) ==
             "/chart.php?itemids%5B%5D=23001&itemids%5B%5D=23002&from=now-21600s&to=now&width=900&height=200"
             "&type=0&legend=1&profileIdx=web.item.graph.filter");
}

BOOST_AUTO_TEST_CASE(only_numeric_items_are_drawn_at_most_eight) {
  json::array answer;
  answer.push_back(json::object{{"itemid", "1"}, {"name", "CPU"}, {"key_", "cpu"}, {"value_type", "0"},
                                {"hosts", json::array{json::object{{"name", "db01"}}}}});
  answer.push_back(json::object{{"itemid", "2"}, {"name", "Version"}, {"key_", "v"}, {"value_type", "4"}});
  answer.push_back(json::object{{"itemid", "3"}, {"name", "Log"}, {"key_", "l"}, {"value_type", "2"}});
  answer.push_back(json::object{{"itemid", "4"}, {"name", "Mem"}, {"key_", "m"}, {"value_type", "3"}});
  auto items = numeric_items(answer);
  BOOST_TEST_REQUIRE(items.size() == 2u);
  BOOST_TEST(items[0].host == "db01");
  BOOST_TEST(items[1].itemid == "4");
  json::array many;
  for (int i = 0; i < 12; ++i) many.push_back(json::object{{"itemid", std::to_string(i)}, {"value_type", 0}});
  BOOST_TEST(numeric_items(many).size() == kMaxGraphItems);
  BOOST_TEST(numeric_items(json::value("x")).empty());
}

// ---- a fake frontend on loopback ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(chart_logs_in_once_and_keeps_the_session) {
  FakeFrontend fake;
  asio::io_context io;
  Frontend frontend(io.get_executor(), options(fake.url()));
  ChartRequest r;
  r.itemids = {"23001"};
  auto png = run(io, frontend.chart(r));
  BOOST_TEST_REQUIRE(png.has_value(), png.error().message);
  BOOST_TEST((*png == FakeFrontend::png()));
  auto again = run(io, frontend.chart(r));
  BOOST_TEST(again.has_value());
  BOOST_TEST(fake.logins() == 1u);
  BOOST_TEST(fake.charts().size() == 2u);
  BOOST_TEST(fake.charts()[0].find("itemids%5B%5D=23001") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(graphs_asked_at_once_share_one_login) {
  FakeFrontend fake;
  asio::io_context io;
  Frontend frontend(io.get_executor(), options(fake.url()));
  ChartRequest r;
  r.itemids = {"23001"};
  int done = 0;
  for (int i = 0; i < 5; ++i)
    asio::co_spawn(io, frontend.chart(r), [&](std::exception_ptr e, Result<std::string> png) {
      BOOST_TEST(!e);
      BOOST_TEST(png.has_value());
      if (++done == 5) io.stop();
    });
  io.run_for(std::chrono::seconds(30));
  BOOST_TEST(done == 5);
  BOOST_TEST(fake.logins() == 1u);
  BOOST_TEST(fake.charts().size() == 5u);
}

BOOST_AUTO_TEST_CASE(an_expired_session_gets_one_fresh_login) {
  FakeFrontend fake;
  asio::io_context io;
  Frontend frontend(io.get_executor(), options(fake.url()));
  ChartRequest r;
  r.itemids = {"23001"};
  BOOST_TEST(run(io, frontend.chart(r)).has_value());
  fake.expire_sessions();  // chart.php now answers the login page
  auto png = run(io, frontend.chart(r));
  BOOST_TEST_REQUIRE(png.has_value(), png.error().message);
  BOOST_TEST(is_png(*png));
  BOOST_TEST(fake.logins() == 2u);
}

BOOST_AUTO_TEST_CASE(html_instead_of_an_image_is_refused_after_one_retry) {
  FakeFrontend fake;
  fake.always_html(true);
  asio::io_context io;
  Frontend frontend(io.get_executor(), options(fake.url()));
  ChartRequest r;
  r.itemids = {"23001"};
  auto png = run(io, frontend.chart(r));
  BOOST_TEST_REQUIRE(!png.has_value());
  BOOST_TEST((png.error().kind == Error::Kind::parse));
  BOOST_TEST(png.error().message.find("an HTML page instead of a PNG") != std::string::npos, png.error().message);
  BOOST_TEST(fake.logins() == 2u);
}

BOOST_AUTO_TEST_CASE(a_refused_login_pauses_further_logins) {
  FakeFrontend fake;
  asio::io_context io;
  Frontend frontend(io.get_executor(), options(fake.url(), "Admin", "wrong"));
  auto in = run(io, frontend.login());
  BOOST_TEST_REQUIRE(!in.has_value());
  BOOST_TEST((in.error().kind == Error::Kind::auth));
  BOOST_TEST(in.error().message.find("ZABBIX_USERNAME/ZABBIX_PASSWORD") != std::string::npos, in.error().message);
  ChartRequest r;
  r.itemids = {"23001"};
  auto png = run(io, frontend.chart(r));
  BOOST_TEST(!png.has_value());
  BOOST_TEST(fake.refused_logins() == 1u);  // the chart did not try the password again
}

BOOST_AUTO_TEST_CASE(no_username_and_no_frontend_are_clear_errors) {
  asio::io_context io;
  Frontend no_user(io.get_executor(), options("http://127.0.0.1:9/zabbix", "", ""));
  auto a = run(io, no_user.login());
  BOOST_TEST_REQUIRE(!a.has_value());
  BOOST_TEST(a.error().message.find("an API token cannot open a frontend session") != std::string::npos);
  Frontend closed_port(io.get_executor(), options("http://127.0.0.1:9/zabbix"));
  ChartRequest r;
  r.itemids = {"1"};
  auto b = run(io, closed_port.chart(r));
  BOOST_TEST_REQUIRE(!b.has_value());
  BOOST_TEST((b.error().kind == Error::Kind::transport));
  BOOST_TEST(b.error().message.find("ZABBIX_SERVER_URL=http://127.0.0.1:9/zabbix") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(graph_items_by_trigger_event_key_prefix_and_name) {
  FakeFrontend fake;
  asio::io_context io;
  Options o;
  o.url = fake.url();
  o.username = "Admin";
  o.password = "zabbix";
  Client client(io.get_executor(), o);
  auto by_trigger = run(io, trigger_items(client, "13001", "555"));
  BOOST_TEST_REQUIRE(by_trigger.has_value(), by_trigger.error().message);
  BOOST_TEST_REQUIRE(by_trigger->size() == 1u);
  BOOST_TEST((*by_trigger)[0].itemid == "23001");
  // No trigger id (a macro left unexpanded): the event says which trigger.
  auto by_event = run(io, trigger_items(client, "{TRIGGER.ID}", "555"));
  BOOST_TEST_REQUIRE(by_event.has_value());
  BOOST_TEST(by_event->size() == 1u);
  auto text_only = run(io, trigger_items(client, "13002", "556"));
  BOOST_TEST_REQUIRE(text_only.has_value());
  BOOST_TEST(text_only->empty());

  auto prefix = run(io, find_graph_items(client, "DB01", "system.cpu.load"));
  BOOST_TEST_REQUIRE(prefix.has_value(), prefix.error().message);
  BOOST_TEST((prefix->outcome == GraphLookup::Outcome::found));
  BOOST_TEST(prefix->items.size() == 2u);
  auto by_name = run(io, find_graph_items(client, "db01", "CPU load"));
  BOOST_TEST_REQUIRE(by_name.has_value());
  BOOST_TEST(by_name->items.size() == 1u);
  auto text = run(io, find_graph_items(client, "db01", "agent.version"));
  BOOST_TEST((text->outcome == GraphLookup::Outcome::not_numeric));
  auto none = run(io, find_graph_items(client, "db01", "nothing.here"));
  BOOST_TEST((none->outcome == GraphLookup::Outcome::no_item));
  BOOST_TEST(none->other.size() == 2u);
  auto no_host = run(io, find_graph_items(client, "db99", "cpu"));
  BOOST_TEST((no_host->outcome == GraphLookup::Outcome::no_host));
}

// ---- the real Zabbix 6.0 -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(lab_frontend_draws_a_png_of_a_real_trigger, *utf::precondition(have_lab)) {
  asio::io_context io;
  Options o;
  o.url = lab_url();
  o.username = "Admin";
  o.password = "zabbix";
  o.timeout = std::chrono::seconds(60);
  Client client(io.get_executor(), o);
  // A trigger of the "Zabbix server" host on a load average item (from its Linux template).
  json::value q = {{"output", json::array{"itemid"}},
                   {"hostids", json::array{"10084"}},
                   {"search", json::object{{"key_", "system.cpu.load[all,avg1]"}}},
                   {"selectTriggers", json::array{"triggerid"}}};
  auto found = run(io, client.call("item.get", q));
  BOOST_TEST_REQUIRE(found.has_value(), found.error().message);
  std::string trigger;
  for (const auto& item : found->as_array())
    for (const auto& t : item.at("triggers").as_array()) trigger = std::string(t.at("triggerid").as_string());
  BOOST_TEST_REQUIRE(!trigger.empty(), "no trigger on system.cpu.load[all,avg1]: " << json::serialize(*found));
  auto items = run(io, trigger_items(client, trigger, ""));
  BOOST_TEST_REQUIRE(items.has_value(), items.error().message);
  BOOST_TEST_REQUIRE(!items->empty());

  Frontend frontend(io.get_executor(), options(lab_url()));
  ChartRequest r;
  for (const auto& i : *items) r.itemids.push_back(i.itemid);
  auto png = run(io, frontend.chart(r));
  BOOST_TEST_REQUIRE(png.has_value(), png.error().message);
  BOOST_TEST(is_png(*png));
  BOOST_TEST(png->size() > 5000u);  // an empty chart is still about 20 KB

  auto lookup = run(io, find_graph_items(client, "Zabbix server", "system.cpu.load"));
  BOOST_TEST_REQUIRE(lookup.has_value(), lookup.error().message);
  BOOST_TEST((lookup->outcome == GraphLookup::Outcome::found));
  BOOST_TEST(lookup->items.size() >= 3u);  // avg1, avg5, avg15
  auto no_host = run(io, find_graph_items(client, "no-such-host-here", "cpu"));
  BOOST_TEST((no_host->outcome == GraphLookup::Outcome::no_host));

  // A user the frontend does not know (not Admin with a wrong password: that could block Admin
  // for the other lab tests).
  Frontend stranger(io.get_executor(), options(lab_url(), "zpark-nobody", "x"));
  auto in = run(io, stranger.login());
  BOOST_TEST_REQUIRE(!in.has_value());
  BOOST_TEST((in.error().kind == Error::Kind::auth));
}
