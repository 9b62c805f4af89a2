// The CLI verbs that talk to Webex (webhook create/list/delete/repair, rooms, send), `zpark
// check`'s webhook line, and the self-heal check while serving: the real binary against our
// Webex emulator.
#define BOOST_TEST_MODULE webex_cli
#include <boost/test/unit_test.hpp>

#include "test/support/emulator.hpp"
#include "test/support/http.hpp"
#include "test/support/process.hpp"

#include <boost/json.hpp>

#include <sys/wait.h>

#include <csignal>
#include <map>
#include <set>
#include <thread>

using namespace zpark::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kSecret = "cli-test-secret";

struct Cli {
  TempDir dir;
  Emulator emu{dir.path()};
  std::map<std::string, std::string> env{{"ZPARK_API_TOKEN", "api-token"},
                                         {"SPARK_ACCESS_TOKEN", "test-token"},
                                         {"WEBEX_API_URL", emu.api_url()},
                                         {"WEBEX_CA_FILE", emu.ca_file()},
                                         {"SPARK_WEBHOOK_SECRET", kSecret},
                                         {"SPARK_TRUSTED_USERS", "alice@example.com"},
                                         {"ZPARK_SERVER_URL", "https://zpark.example.com/"},
                                         {"ZPARK_DATA_DIR", dir.path() + "/data"},
                                         {"ZPARK_FSYNC", "false"},
                                         // The messages webhook alone; the cards' own in its case.
                                         {"ZPARK_ALERT_CARDS", "false"}};
  struct Out {
    int code;
    std::string out;
  };
  // Runs `zpark ARGS` with env; stdout and stderr together.
  Out run(const std::string& args) {
    std::string cmd = "env -i PATH=/usr/bin:/bin";
    for (auto& [k, v] : env) cmd += " " + k + "=" + shell_quote(v);
    cmd += " " + env_or_fail("ZPARK_BIN") + " " + args + " 2>&1";
    Out o{0, ""};
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof buf, p)) o.out.append(buf, n);
    int status = ::pclose(p);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return o;
  }
  json::array ours() {
    json::array out;
    for (auto& w : emu.webhooks())
      if (w.at("targetUrl").as_string() == "https://zpark.example.com/api/v1/webhook") out.push_back(w);
    return out;
  }
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(with_alert_cards_a_second_webhook_brings_the_buttons) {
  Cli c;
  c.env.erase("ZPARK_ALERT_CARDS");  // on by default with the commands
  // Only the messages webhook (as before cards): `zpark check` names the missing one.
  c.emu.create_webhook(R"({"name":"Zpark incoming webhook","targetUrl":"https://zpark.example.com/api/v1/webhook",
      "resource":"messages","event":"created","secret":")" + kSecret + R"("})");
  auto missing = c.run("check");
  BOOST_TEST(has(missing.out, "Webhook: FAILED: no attachmentActions webhook at"), missing.out);
  for (int i = 0; i < 2; ++i) BOOST_TEST(c.run("webhook create").code == 0);
  BOOST_TEST(has(c.run("check").out, "Webhook: OK"));
  auto hooks = c.ours();
  BOOST_REQUIRE(hooks.size() == 2u);
  std::set<std::string> resources;
  for (auto& h : hooks) {
    resources.insert(std::string(h.at("resource").as_string()));
    BOOST_TEST(h.at("event").as_string() == "created");
  }
  BOOST_TEST((resources == std::set<std::string>{"attachmentActions", "messages"}));
  auto gone = c.run("webhook delete --all-mine");
  BOOST_TEST(gone.code == 0, gone.out);
  BOOST_TEST(c.ours().size() == 0u);
}

BOOST_AUTO_TEST_CASE(create_twice_list_delete_all_mine) {
  Cli c;
  auto first = c.run("webhook create");
  BOOST_TEST(first.code == 0, first.out);
  BOOST_TEST(has(first.out, "Webhook created"));
  auto second = c.run("webhook create");
  BOOST_TEST(second.code == 0, second.out);
  BOOST_TEST(has(second.out, "nothing to do"));
  BOOST_TEST(c.ours().size() == 1u);
  auto listed = c.run("webhook list --json");
  auto hooks = json::parse(listed.out).as_array();
  BOOST_REQUIRE(hooks.size() == 1u);
  BOOST_TEST(hooks[0].at("secretSet").as_bool());
  BOOST_TEST(!has(listed.out, kSecret));
  BOOST_TEST(!has(c.run("webhook list").out, kSecret));
  // A stranger's webhook survives --all-mine.
  c.emu.create_webhook(R"({"name":"other","targetUrl":"https://other.example.com/hook","resource":"messages","event":"created"})");
  auto gone = c.run("webhook delete --all-mine");
  BOOST_TEST(gone.code == 0, gone.out);
  BOOST_TEST(c.ours().size() == 0u);
  BOOST_TEST(c.emu.webhooks().size() == 1u);
  BOOST_TEST(c.run("webhook delete NOPE").code == 1);
  BOOST_TEST(c.run("webhook frobnicate").code == 2);
}

BOOST_AUTO_TEST_CASE(repair_reactivates_fixes_the_secret_and_removes_duplicates) {
  Cli c;
  const std::string target = R"("targetUrl":"https://zpark.example.com/api/v1/webhook","resource":"messages","event":"created")";
  auto a = c.emu.create_webhook(R"({"name":"Zpark incoming webhook",)" + target + R"(,"secret":"old-secret"})");
  auto b = c.emu.create_webhook(R"({"name":"Zpark incoming webhook",)" + target + R"(,"secret":"old-secret"})");
  c.emu.post("/_emu/disable_webhook", R"({"id":")" + a + R"("})");
  auto check = c.run("check");
  BOOST_TEST(check.code != 0);
  BOOST_TEST(has(check.out, "Webhook: FAILED"), check.out);
  auto r = c.run("webhook repair");
  BOOST_TEST(r.code == 0, r.out);
  BOOST_TEST(has(r.out, "secret differs"), r.out);
  BOOST_TEST(has(r.out, "deleted"), r.out);
  auto ours = c.ours();
  BOOST_REQUIRE(ours.size() == 1u);
  BOOST_TEST(ours[0].at("status").as_string() == "active");
  BOOST_TEST(c.run("webhook repair").out.find("nothing to do") != std::string::npos);
  auto ok = c.run("check");
  BOOST_TEST(has(ok.out, "Webhook: OK"), ok.out);
  BOOST_TEST(!has(ok.out, kSecret));
}

BOOST_AUTO_TEST_CASE(missing_settings_are_named) {
  Cli c;
  c.env.erase("ZPARK_SERVER_URL");
  auto r = c.run("webhook create");
  BOOST_TEST(r.code == 78);
  BOOST_TEST(has(r.out, "ZPARK_SERVER_URL"));
  c.env.erase("SPARK_ACCESS_TOKEN");
  BOOST_TEST(c.run("rooms").code == 78);
}

BOOST_AUTO_TEST_CASE(rooms_follow_pagination_and_send_posts_one_message) {
  Cli c;
  json::array rooms;
  for (int i = 0; i < 130; ++i)
    rooms.push_back(json::object{{"id", "ROOM-" + std::to_string(i)}, {"title", "Ops " + std::to_string(i)}, {"type", "group"}});
  c.emu.post("/_emu/rooms", json::serialize(rooms));
  auto listed = c.run("rooms --json");
  BOOST_TEST(listed.code == 0, listed.out);
  auto all = json::parse(listed.out).as_array();
  BOOST_TEST(all.size() == 130u);
  BOOST_TEST(has(c.run("rooms").out, "\"Ops 129\""));
  auto sent = c.run("send --to bob@example.com 'Hello from **zpark send**'");
  BOOST_TEST(sent.code == 0, sent.out);
  auto msgs = c.emu.messages();
  BOOST_REQUIRE(msgs.size() == 1u);
  BOOST_TEST(msgs[0].at("markdown").as_string() == "Hello from **zpark send**");
  BOOST_TEST(c.run("send --to").code == 2);
}

BOOST_AUTO_TEST_CASE(self_heal_recreates_and_reactivates_the_webhook_while_serving) {
  Cli c;
  c.env["ZPARK_LISTEN"] = "127.0.0.1:0";
  c.env["ZPARK_WEBHOOK_CHECK_INTERVAL"] = "1";
  Process zpark({env_or_fail("ZPARK_BIN"), "serve"}, c.env, c.dir.path() + "/zpark.log");
  auto addr = zpark.wait_listening().front();
  auto eventually = [](auto pred) {
    for (int i = 0; i < 100 && !pred(); ++i) std::this_thread::sleep_for(100ms);
    return pred();
  };
  BOOST_REQUIRE_MESSAGE(eventually([&] { return c.ours().size() == 1u; }), zpark.log());
  const std::string id(c.ours()[0].at("id").as_string());
  c.emu.post("/_emu/disable_webhook", R"({"id":")" + id + R"("})");
  BOOST_TEST(eventually([&] { return c.ours().size() == 1u && c.ours()[0].at("status").as_string() == "active"; }));
  c.emu.api("DELETE", "/webhooks/" + id);
  BOOST_TEST(eventually([&] { return c.ours().size() == 1u; }));
  BOOST_TEST(has(request(addr, http::verb::get, "/metrics").body, "zpark_webhook_repairs_total"));
  BOOST_TEST(has(zpark.log(), "Webex webhook fixed"));
  // Webex refuses to make one: /readyz says commands cannot arrive.
  c.emu.faults(R"({"fail_next_by_route":{"POST /v1/webhooks":[{"status":403},{"status":403},{"status":403},{"status":403},{"status":403}]}})");
  c.emu.api("DELETE", "/webhooks/" + std::string(c.ours()[0].at("id").as_string()));
  BOOST_TEST(eventually([&] {
    auto r = request(addr, http::verb::get, "/readyz");
    return r.status == 503 && has(r.body, "commands cannot arrive");
  }));
  zpark.signal(SIGTERM);
  BOOST_TEST(zpark.wait_exit(10s) == 0);
}
