// Graphs end to end: the real zpark binary, our Webex emulator over TLS, and a fake Zabbix
// frontend (test/support/fake_frontend). A problem alert gets its PNG in its thread after the
// alert; the alert never waits for the graph and goes out on time without a frontend; the
// `graph` command uploads into the asker's room. The real 6.0 case is in test/zabbix/e2e.
#define BOOST_TEST_MODULE graphs_e2e
#include <boost/test/unit_test.hpp>

#include "test/support/emulator.hpp"
#include "test/support/eventually.hpp"
#include "test/support/fake_frontend.hpp"
#include "test/support/http.hpp"
#include "test/support/process.hpp"
#include "test/support/webex_webhook.hpp"
#include "test/support/zpark_process.hpp"

#include <boost/json.hpp>

#include <map>
#include <thread>

using namespace zpark::test;
using http::verb;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace graphs_e2e {

const std::string kSecret = "webhook-secret-for-tests";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct Setup {
  TempDir dir;
  Emulator emu{dir.path()};
  FakeFrontend zabbix;
  std::unique_ptr<Process> zpark;
  std::string addr;
  std::string bot_id;

  explicit Setup(Env extra = {}) {
    Env env = webex_env(dir.path(), emu, "api-token");
    env.insert({{"SPARK_WEBHOOK_SECRET", kSecret},
                {"SPARK_TRUSTED_USERS", "alice@example.com"},
                {"ZABBIX_SERVER_URL", zabbix.url()},
                {"ZABBIX_USERNAME", "Admin"},
                {"ZABBIX_PASSWORD", "zabbix"},
                {"ZPARK_LOG_LEVEL", "debug"}});
    override_env(env, extra);
    zpark = start_zpark(env, dir.path() + "/zpark.log");
    addr = zpark->wait_listening().front();
    auto me = json::parse(run_command("curl -sSfk --max-time 10 -H 'Authorization: Bearer test-token' '" + emu.url() +
                                      "/v1/people/me'"));
    bot_id = json_str(me, "id");
    BOOST_REQUIRE(!bot_id.empty());
  }

  // A problem alert as Zabbix's media type posts it; returns the message the bot posted for it
  // and how long that took.
  std::pair<json::value, std::chrono::milliseconds> alert_problem(const std::string& eventid, const std::string& trigger) {
    json::object a{{"to", "alice@example.com"}, {"subject", "Problem: CPU load is too high on db01"},
                   {"message", "Load 12"},     {"event_id", eventid},
                   {"event_value", "1"},       {"update_status", "0"},
                   {"severity", "High"},       {"nseverity", "4"},
                   {"host", "db01"},           {"trigger_id", trigger}};
    const auto t0 = std::chrono::steady_clock::now();
    auto r = request(addr, verb::post, "/api/v1/alert", json::serialize(a), {{"Token", "api-token"}});
    BOOST_REQUIRE_MESSAGE(r.status == 200u, r.body);
    json::value root;
    BOOST_REQUIRE_MESSAGE(eventually([&] {
                            for (auto& m : emu.messages())
                              if (json_str(m, "personId") == bot_id && has(json_str(m, "markdown"), "CPU load is too high") &&
                                  json_str(m, "parentId").empty())
                                root = m;
                            return !root.is_null();
                          }),
                          "the alert was not posted; zpark log:\n" + zpark->log());
    return {root, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)};
  }
  json::array files() { return emu.get("/_emu/files").at("files").as_array(); }
  std::string metrics() { return request(addr, verb::get, "/metrics").body; }

  // `text` written by alice in her direct room with the bot, delivered as Webex would.
  json::value command(const std::string& text) {
    auto m = emu.seed_message(json::serialize(json::object{{"personEmail", "alice@example.com"}, {"text", text}}));
    const auto body = message_envelope(m);
    auto r = request(addr, verb::post, "/api/v1/webhook", body, {{"X-Spark-Signature", hmac_sha1_hex(kSecret, body)}});
    BOOST_REQUIRE_MESSAGE(r.status == 200u, r.body);
    return m;
  }
};

}  // namespace graphs_e2e
using namespace graphs_e2e;

BOOST_AUTO_TEST_CASE(a_problem_alert_gets_its_graph_in_its_thread_after_the_alert) {
  Setup s;
  auto [root, took] = s.alert_problem("555", "13001");
  json::array files;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return !(files = s.files()).empty(); }),
                        "no graph uploaded; zpark log:\n" + s.zpark->log());
  BOOST_REQUIRE(files.size() == 1u);
  const auto& f = files[0];
  BOOST_TEST(json_str(f, "parentId") == json_str(root, "id"));  // in the alert's thread
  BOOST_TEST(json_str(f, "roomId") == json_str(root, "roomId"));
  BOOST_TEST(json_str(f, "contentType") == "image/png");
  BOOST_TEST(json_str(f, "head").starts_with("89504e470d0a1a0a"));  // \x89PNG\r\n\x1a\n
  BOOST_TEST(f.at("size").as_int64() == static_cast<std::int64_t>(FakeFrontend::png().size()));
  BOOST_TEST(has(json_str(f, "name"), ".png"));
  BOOST_TEST(json_str(f, "markdown") == "**db01**: CPU load (last 1h)");
  // chart.php asked for the trigger's item over the default hour.
  auto charts = s.zabbix.charts();
  BOOST_REQUIRE(charts.size() == 1u);
  BOOST_TEST(has(charts[0], "itemids%5B%5D=23001&from=now-3600s&to=now"));
  // The upload reached the emulator as multipart/form-data.
  bool multipart = false;
  for (auto& r : s.emu.requests())
    if (json_str(r, "method") == "POST" && json_str(r, "path") == "/v1/messages" && r.at("body").is_object() &&
        r.at("body").as_object().contains("multipart"))
      multipart = true;
  BOOST_TEST(multipart);
  BOOST_TEST(eventually([&] { return has(s.metrics(), "zpark_graphs_posted_total 1"); }));
  BOOST_TEST(has(s.metrics(), "zpark_graphs_enabled 1"));
}

BOOST_AUTO_TEST_CASE(the_alert_goes_out_on_time_without_a_frontend_and_the_failure_is_counted) {
  Setup s(Env{{"ZABBIX_SERVER_URL", "http://127.0.0.1:9/zabbix"}});  // nothing listens there
  auto [root, took] = s.alert_problem("555", "13001");
  BOOST_TEST(took < 3000ms, "the alert took " << took.count() << " ms");
  BOOST_TEST(eventually([&] { return has(s.metrics(), "zpark_graphs_failed_total 1"); }), s.metrics());
  BOOST_TEST(s.files().empty());
  BOOST_TEST(has(s.zpark->log(), "graph not posted (the alert was delivered)"));
}

BOOST_AUTO_TEST_CASE(html_instead_of_a_png_is_never_posted) {
  Setup s;
  s.zabbix.always_html(true);
  s.alert_problem("555", "13001");
  BOOST_TEST(eventually([&] { return has(s.metrics(), "zpark_graphs_failed_total 1"); }), s.metrics());
  BOOST_TEST(s.files().empty());
}

BOOST_AUTO_TEST_CASE(a_trigger_without_numeric_items_gets_no_graph) {
  Setup s;
  s.alert_problem("556", "13002");
  BOOST_TEST(eventually([&] { return has(s.metrics(), "zpark_graphs_skipped_total 1"); }), s.metrics());
  BOOST_TEST(s.files().empty());
  BOOST_TEST(s.zabbix.charts().empty());
}

BOOST_AUTO_TEST_CASE(graphs_are_off_with_an_api_token_or_when_turned_off) {
  for (Env env : {Env{{"ZABBIX_USERNAME", ""}, {"ZABBIX_PASSWORD", ""}, {"ZABBIX_API_TOKEN", "tok"}},
                  Env{{"ZPARK_GRAPHS", "false"}}}) {
    Setup s(env);
    s.alert_problem("555", "13001");
    BOOST_TEST(has(s.metrics(), "zpark_graphs_enabled 0"));
    std::this_thread::sleep_for(300ms);
    BOOST_TEST(s.files().empty());
    BOOST_TEST(s.zabbix.logins() == 0u);
  }
}

BOOST_AUTO_TEST_CASE(the_graph_command_uploads_into_the_askers_room) {
  Setup s;
  auto asked = s.command("graph db01 system.cpu.load 6h");
  json::array files;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return !(files = s.files()).empty(); }),
                        "no graph uploaded; zpark log:\n" + s.zpark->log());
  const auto& f = files[0];
  BOOST_TEST(json_str(f, "roomId") == json_str(asked, "roomId"));
  BOOST_TEST(json_str(f, "parentId") == "");
  BOOST_TEST(json_str(f, "head").starts_with("89504e47"));
  BOOST_TEST(json_str(f, "markdown") == R"(**db01**: CPU load, Load average \(5m\) (last 6h))");
  BOOST_TEST(has(s.zabbix.charts().at(0), "itemids%5B%5D=23001&itemids%5B%5D=23002&from=now-21600s"));

  // Unknown host, unknown item: one clear line each, no image.
  s.command("graph db99 system.cpu.load");
  s.command("graph db01 no.such.key");
  auto line = [&](const std::string& part) {
    return eventually([&] {
      for (auto& m : s.emu.messages())
        if (json_str(m, "personId") == s.bot_id && has(json_str(m, "markdown"), part)) return true;
      return false;
    });
  };
  BOOST_TEST(line("I can't find a host named **db99**"), s.zpark->log());
  BOOST_TEST(line("I can't find an item \"no.such.key\" on **db01**"), s.zpark->log());
  BOOST_TEST(s.files().size() == 1u);
  BOOST_TEST(has(s.metrics(), "zpark_commands_total{command=\"graph\",outcome=\"answered\"} 1"));
}
