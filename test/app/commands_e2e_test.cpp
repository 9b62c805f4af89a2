// Bot commands end to end, Webex side: the real zpark binary, our Webex emulator over TLS, and
// webhook calls signed here the way Webex signs them. Zabbix answers are in commands_zabbix_test.
#define BOOST_TEST_MODULE commands_e2e
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "test/support/emulator.hpp"
#include "test/support/eventually.hpp"
#include "test/support/fake_zabbix.hpp"
#include "test/support/http.hpp"
#include "test/support/process.hpp"
#include "test/support/webex_webhook.hpp"
#include "test/support/zpark_process.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <map>
#include <thread>

using namespace zpark::test;
using http::verb;
using namespace std::chrono_literals;
namespace json = boost::json;

// Named, not anonymous: data test cases capture these types (-Wsubobject-linkage).
namespace commands_e2e {

const std::string kSecret = "webhook-secret-for-tests";

struct Setup {
  TempDir dir;
  Emulator emu{dir.path()};
  std::unique_ptr<Process> zpark;
  std::string addr;
  std::string bot_id;

  explicit Setup(Env extra = {}) {
    Env env = webex_env(dir.path(), emu, "api-token");
    env.insert({{"SPARK_WEBHOOK_SECRET", kSecret},
                {"SPARK_TRUSTED_USERS", "alice@example.com, @ops.example.org"},
                {"ZPARK_CONTACT_INFO", "the NOC at +1 555 0100"},
                // Nothing listens there: commands that need Zabbix fail fast; help does not ask it.
                {"ZABBIX_SERVER_URL", "http://127.0.0.1:9/zabbix"},
                {"ZABBIX_USERNAME", "Admin"},
                {"ZABBIX_PASSWORD", "zabbix"},
                {"ZPARK_COMMAND_RETRY_DELAY", "1"},
                {"ZPARK_LOG_LEVEL", "debug"}});
    override_env(env, extra);
    zpark = start_zpark(env, dir.path() + "/zpark.log");
    addr = zpark->wait_listening().front();
    bot_id = json_str(webex_get("/v1/people/me"), "id");
    BOOST_REQUIRE(!bot_id.empty());
  }

  json::value webex_get(const std::string& path) {
    return json::parse(run_command("curl -sSfk --max-time 10 -H 'Authorization: Bearer test-token' '" + emu.url() +
                                   path + "'"));
  }
  // A message written by a person, as Webex stores it; returns it with its id.
  json::value seed(json::object m) {
    return json::parse(run_command("curl -sSfk --max-time 10 -X POST -H 'Content-Type: application/json' "
                                   "--data-binary @- '" +
                                   emu.url() + "/_emu/messages' <<'EOF_JSON'\n" + json::serialize(m) + "\nEOF_JSON"));
  }
  // The webhook envelope Webex would send for that message.
  static std::string envelope(const json::value& m, const std::string& resource = "messages") {
    return message_envelope(m, resource);
  }
  Reply call(const std::string& body, const std::string& signature) {
    Headers h;
    if (!signature.empty()) h.emplace_back("X-Spark-Signature", signature);
    return request(addr, verb::post, "/api/v1/webhook", body, h);
  }
  Reply deliver(const json::value& m) {
    auto body = envelope(m);
    return call(body, hmac_sha1_hex(kSecret, body));
  }
  // Messages the bot posted (its replies), oldest first.
  json::array replies() {
    json::array out;
    for (auto& m : emu.messages())
      if (json_str(m, "personId") == bot_id)
        out.push_back(m);
    return out;
  }
  // Waits for `n` replies, then a moment more to be sure no other one follows.
  json::array wait_replies(std::size_t n) {
    BOOST_REQUIRE_MESSAGE(eventually([&] { return replies().size() >= n; }), "no reply; zpark log:\n" + zpark->log());
    std::this_thread::sleep_for(300ms);
    return replies();
  }
  std::size_t message_fetches() {
    std::size_t n = 0;
    for (auto& r : emu.requests())
      if (json_str(r, "method") == "GET" && json_str(r, "path").starts_with("/v1/messages/")) ++n;
    return n;
  }
  // A problem alert as Zabbix's media type posts it; returns the message the bot posted for it.
  json::value alert_problem(const std::string& eventid, const std::string& to = "alice@example.com") {
    json::object a{{"to", to}, {"subject", "Problem: Disk full on db01"}, {"message", "Disk is 99% full"},
                   {"event_id", eventid}, {"event_value", "1"}, {"update_status", "0"}, {"severity", "High"},
                   {"nseverity", "4"}, {"host", "db01"}, {"trigger_id", "13001"}};
    auto r = request(addr, verb::post, "/api/v1/alert", json::serialize(a), {{"Token", "api-token"}});
    BOOST_REQUIRE_MESSAGE(r.status == 200u, r.body);
    json::value root;
    BOOST_REQUIRE_MESSAGE(eventually([&] {
                            for (auto& m : emu.messages())
                              if (json_str(m, "personId") == bot_id && has_text(m, "Disk full on db01") &&
                                  json_str(m, "parentId").empty())
                                root = m;
                            return !root.is_null();
                          }),
                          "the alert was not posted; zpark log:\n" + zpark->log());
    return root;
  }
  static bool has_text(const json::value& m, const std::string& part) {
    return json_str(m, "markdown").find(part) != std::string::npos;
  }
  // The bot's messages whose markdown contains `part`, oldest first.
  json::array replies_with(const std::string& part) {
    json::array out;
    for (auto& m : replies())
      if (has_text(m, part)) out.push_back(m);
    return out;
  }
  // The card the bot posted in the thread of `root`, or null.
  json::value card_of(const json::value& root) {
    for (auto& m : emu.messages())
      if (json_str(m, "personId") == bot_id && json_str(m, "parentId") == json_str(root, "id") && m.as_object().contains("attachments"))
        return m;
    return nullptr;
  }
  json::value wait_card(const json::value& root) {
    json::value card;
    BOOST_REQUIRE_MESSAGE(eventually([&] { return !(card = card_of(root)).is_null(); }), "no card; zpark log:\n" + zpark->log());
    return card;
  }
  // Someone presses a button of `card`: the action stored in the emulator, and its signed
  // attachmentActions webhook delivered to zpark. Returns zpark's answer.
  Reply press(const json::value& card, json::object inputs, const std::string& email = "alice@example.com",
              const std::string& name = "Alice Example") {
    auto action = emu.seed_attachment_action(json::serialize(json::object{
        {"messageId", json_str(card, "id")}, {"personEmail", email}, {"displayName", name}, {"inputs", std::move(inputs)}}));
    last_action = json::value(action);
    return deliver_action(last_action);
  }
  Reply deliver_action(const json::value& action) {
    json::object data{{"id", json_str(action, "id")}, {"type", "submit"}, {"messageId", json_str(action, "messageId")},
                      {"personId", json_str(action, "personId")}, {"roomId", json_str(action, "roomId")},
                      {"created", json_str(action, "created")}};
    auto body = json::serialize(json::object{{"id", "WEBHOOK-2"}, {"name", "Zpark card actions"},
                                             {"resource", "attachmentActions"}, {"event", "created"},
                                             {"actorId", json_str(action, "personId")}, {"data", data}});
    return call(body, hmac_sha1_hex(kSecret, body));
  }
  json::value last_action;
  json::object group_message(const std::string& from, const std::string& shown_name, const std::string& rest,
                             const std::string& room = "GROUP-ROOM-1") {
    return {{"personEmail", from},
            {"roomId", room},
            {"text", shown_name + " " + rest},
            {"html", "<p><spark-mention data-object-type=\"person\" data-object-id=\"" + bot_id + "\">" +
                         shown_name + "</spark-mention>" + rest + "</p>"},
            {"mentionedPeople", json::array{json::value(bot_id)}}};
  }
};

std::string markdown(const json::value& m) { return json_str(m, "markdown"); }
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace commands_e2e
using namespace commands_e2e;

BOOST_AUTO_TEST_CASE(signature_is_checked_on_the_raw_body_before_anything_else) {
  Setup s;
  auto m = s.seed({{"personEmail", "alice@example.com"}, {"text", "help"}});
  const auto body = Setup::envelope(m);
  const auto good = hmac_sha1_hex(kSecret, body);

  auto missing = s.call(body, "");
  BOOST_TEST(missing.status == 403u);
  BOOST_TEST(json_str(missing.json(), "error") == "Unauthorized");
  BOOST_TEST(s.call(body, std::string(40, '0')).status == 403u);
  BOOST_TEST(s.call(body, hmac_sha1_hex(kSecret, body + " ")).status == 403u);  // another body's signature
  BOOST_TEST(s.call(body, hmac_sha1_hex("another secret", body)).status == 403u);
  std::string upper = good;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  BOOST_TEST(s.call(body, upper).status == 403u);
  BOOST_TEST(s.call(body + " ", good).status == 403u);  // the body changed after signing
  // Invalid JSON is refused after the signature, and only when it is signed.
  BOOST_TEST(s.call("{not json", "").status == 403u);
  BOOST_TEST(s.call("{not json", hmac_sha1_hex(kSecret, "{not json")).status == 400u);
  BOOST_TEST(s.call("[1,2]", hmac_sha1_hex(kSecret, "[1,2]")).status == 400u);
  // Nothing was fetched for any of these.
  BOOST_TEST(s.message_fetches() == 0u);

  auto ok = s.call(body, good);
  BOOST_TEST(ok.status == 200u);
  BOOST_TEST(json_str(ok.json(), "taskid").size() == 36u);
  s.wait_replies(1);
  BOOST_TEST(has(s.zpark->log(), "bad signature"));
  BOOST_TEST(!has(s.zpark->log(), good));  // no HMAC values in the log
  BOOST_TEST(!has(s.zpark->log(), kSecret));
}

BOOST_AUTO_TEST_CASE(body_length_limits_and_malformed_envelopes) {
  Setup s;
  // 413 from the header alone, before the body is read.
  Connection big(s.addr);
  big.send_raw("POST /api/v1/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 40000\r\n\r\n");
  auto too_big = big.read_reply();
  BOOST_TEST(too_big.status == 413u);
  BOOST_TEST(json_str(too_big.json(), "error") == "Too big");
  // Chunked bodies over the limit too.
  Connection chunked(s.addr);
  chunked.send_raw("POST /api/v1/webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8000\r\n" +
                   std::string(0x8000, 'a') + "\r\n8000\r\n" + std::string(0x8000, 'a') + "\r\n0\r\n\r\n");
  BOOST_TEST(chunked.read_reply().status == 413u);
  for (std::string cl : {"abc", "-5", ""}) {
    Connection c(s.addr);
    c.send_raw("POST /api/v1/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: " + cl + "\r\n\r\n{}");
    auto r = c.read_reply();
    BOOST_TEST(r.status == 400u, "Content-Length '" << cl << "' gives " << r.status);
  }
  Connection no_length(s.addr);
  no_length.send_raw("POST /api/v1/webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(no_length.read_reply().status == 400u);
  BOOST_TEST(request(s.addr, verb::get, "/api/v1/webhook").status == 405u);

  auto signed_call = [&](const std::string& body) { return s.call(body, hmac_sha1_hex(kSecret, body)); };
  for (std::string body : {R"({"event":"created","data":{"personEmail":"alice@example.com"}})",
                           R"({"resource":"messages","data":{"personEmail":"alice@example.com"}})",
                           R"({"resource":"messages","event":"created"})",
                           R"({"resource":"messages","event":"created","data":{"id":"x"}})"}) {
    auto r = signed_call(body);
    BOOST_TEST(r.status == 400u);
    BOOST_TEST(has(json_str(r.json(), "error"), "malformed"), body);
  }
  auto other = signed_call(R"({"resource":"rooms","event":"created","data":{"personEmail":"alice@example.com"}})");
  BOOST_TEST(other.status == 400u);
  BOOST_TEST(s.message_fetches() == 0u);
  BOOST_TEST(has(request(s.addr, verb::get, "/metrics").body, "zpark_webhooks_total{outcome=\"malformed\"} 4"));
}

BOOST_DATA_TEST_CASE(trust_decides_who_is_answered,
                     boost::unit_test::data::make(std::vector<std::string>{
                         "alice@example.com", "ALICE@Example.COM", "bob@ops.example.org", "eve@example.com",
                         "mallory@sub.ops.example.org", "x@evil-ops.example.org"}) ^
                         boost::unit_test::data::make({true, true, true, false, false, false}),
                     from, trusted) {
  Setup s;
  auto m = s.seed({{"personEmail", from}, {"text", "help"}});
  auto r = s.deliver(m);
  BOOST_TEST(r.status == 200u);
  if (trusted) {
    BOOST_TEST(json_str(r.json(), "taskid").size() == 36u);
    BOOST_TEST(s.wait_replies(1).size() == 1u);
  } else {
    BOOST_TEST(json_str(r.json(), "error") == "User not authorized");
    std::this_thread::sleep_for(500ms);
    BOOST_TEST(s.replies().size() == 0u);
    BOOST_TEST(s.message_fetches() == 0u);  // decided from the envelope, before any fetch
  }
}

BOOST_AUTO_TEST_CASE(everyone_with_star_and_nobody_when_unset) {
  {
    Setup s(Env{{"SPARK_TRUSTED_USERS", "*"}});
    BOOST_TEST(json_str(s.deliver(s.seed({{"personEmail", "anyone@anywhere.net"}, {"text", "help"}})).json(), "taskid").size() ==
               36u);
    BOOST_TEST(s.wait_replies(1).size() == 1u);
  }
  Setup s(Env{{"SPARK_TRUSTED_USERS", ""}});
  auto r = s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "help"}}));
  BOOST_TEST(json_str(r.json(), "error") == "User not authorized");
}

BOOST_AUTO_TEST_CASE(commands_off_without_a_secret) {
  Setup s(Env{{"SPARK_WEBHOOK_SECRET", ""}});
  auto r = request(s.addr, verb::post, "/api/v1/webhook", "{}", {{"X-Spark-Signature", "00"}});
  BOOST_TEST(r.status == 503u);
  BOOST_TEST(has(json_str(r.json(), "error"), "SPARK_WEBHOOK_SECRET"));
}

BOOST_AUTO_TEST_CASE(help_in_a_direct_room_answers_in_that_room) {
  Setup s;
  auto m = s.seed({{"personEmail", "alice@example.com"}, {"text", "  HeLLo  "}});
  BOOST_TEST(s.deliver(m).status == 200u);
  auto replies = s.wait_replies(1);
  BOOST_REQUIRE(replies.size() == 1u);
  const auto md = markdown(replies[0]);
  BOOST_TEST(json_str(replies[0], "roomId") == json_str(m, "roomId"));
  BOOST_TEST(json_str(replies[0], "parentId") == "");
  for (auto part : {"show issues", "show status", "show host", "help", "the NOC at +1 555 0100"})
    BOOST_TEST(has(md, part), "help lacks " << part << ":\n" << md);
  BOOST_TEST(!has(md, "<@personEmail"));  // no greeting mention in a direct room
  BOOST_TEST(has(request(s.addr, verb::get, "/metrics").body, "zpark_commands_total{command=\"help\",outcome=\"answered\"} 1"));
}

BOOST_DATA_TEST_CASE(group_rooms_need_a_leading_mention,
                     boost::unit_test::data::make(std::vector<std::string>{", help", ": help", "; help", "   HELP   ",
                                                                           " help", " make coffee",
                                                                           " " + std::string(250, 'x')}) ^
                         boost::unit_test::data::make(std::vector<std::string>{"help", "help", "help", "help", "help",
                                                                               "unknown", "none"}),
                     rest, expect) {
  Setup s;
  // The mention shows only the first name: Zpark must not guess it from the text.
  auto m = s.seed(s.group_message("alice@example.com", "Zed", rest));
  BOOST_TEST(s.deliver(m).status == 200u);
  if (expect == "none") {
    BOOST_TEST(eventually([&] { return has(s.zpark->log(), "message ignored"); }));
    BOOST_TEST(s.replies().size() == 0u);
    return;
  }
  auto replies = s.wait_replies(1);
  BOOST_REQUIRE(replies.size() == 1u);
  const auto md = markdown(replies[0]);
  BOOST_TEST(json_str(replies[0], "roomId") == "GROUP-ROOM-1");
  BOOST_TEST(has(md, "<@personEmail:alice@example.com"));  // the caller is greeted in a group room
  if (expect == "help") BOOST_TEST(has(md, "show issues"));
  else BOOST_TEST((has(md, "help") && !has(md, "show status")), md);
}

BOOST_AUTO_TEST_CASE(group_message_not_starting_with_the_bot_is_ignored) {
  Setup s;
  auto m = s.seed({{"personEmail", "alice@example.com"},
                   {"roomId", "GROUP-ROOM-2"},
                   {"text", "Bob Zed help"},
                   {"html", "<p><spark-mention data-object-type=\"person\" data-object-id=\"SOMEONE-ELSE\">Bob</spark-mention> "
                            "<spark-mention data-object-type=\"person\" data-object-id=\"" + s.bot_id +
                                "\">Zed</spark-mention> help</p>"},
                   {"mentionedPeople", json::array{"SOMEONE-ELSE", json::value(s.bot_id)}}});
  BOOST_TEST(s.deliver(m).status == 200u);
  BOOST_TEST(eventually([&] { return has(s.zpark->log(), "message ignored"); }));
  BOOST_TEST(s.replies().size() == 0u);
}

BOOST_AUTO_TEST_CASE(control_characters_are_ignored_and_unknown_commands_get_one_line) {
  Setup s;
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "show\x01issues"}}));
  BOOST_TEST(eventually([&] { return has(s.zpark->log(), "message ignored"); }));
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "make coffee"}}));
  auto replies = s.wait_replies(1);
  BOOST_REQUIRE(replies.size() == 1u);
  const auto md = markdown(replies[0]);
  BOOST_TEST(has(md, "help"));
  BOOST_TEST(std::count(md.begin(), md.end(), '\n') <= 1);
}

BOOST_AUTO_TEST_CASE(the_same_message_delivered_twice_is_answered_once) {
  Setup s;
  auto m = s.seed({{"personEmail", "alice@example.com"}, {"text", "help"}});
  auto first = s.deliver(m);
  auto again = s.deliver(m);
  BOOST_TEST(first.status == 200u);
  BOOST_TEST(again.status == 200u);
  BOOST_TEST(json_str(again.json(), "taskid") == json_str(first.json(), "taskid"));
  s.wait_replies(1);
  std::this_thread::sleep_for(500ms);
  BOOST_TEST(s.replies().size() == 1u);
  BOOST_TEST(s.message_fetches() == 1u);
}

BOOST_AUTO_TEST_CASE(the_bots_own_messages_are_ignored) {
  Setup s;
  BOOST_REQUIRE(eventually([&] { return request(s.addr, verb::get, "/readyz").status == 200; }));
  json::object data{{"id", "OWN-MESSAGE"}, {"roomId", "R"}, {"roomType", "group"}, {"personId", s.bot_id},
                    {"personEmail", "zpark@webex.bot"}};
  auto body = json::serialize(json::object{{"id", "W"}, {"resource", "messages"}, {"event", "created"}, {"data", data}});
  auto r = s.call(body, hmac_sha1_hex(kSecret, body));
  BOOST_TEST(r.status == 200u);
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(s.message_fetches() == 0u);
}

BOOST_AUTO_TEST_CASE(a_question_in_a_thread_is_answered_in_that_thread) {
  Setup s;
  auto root = s.seed({{"personEmail", "alice@example.com"}, {"text", "something"}});
  auto m = s.seed({{"personEmail", "alice@example.com"}, {"text", "help"}, {"roomId", json_str(root, "roomId")},
                   {"parentId", json_str(root, "id")}});
  s.deliver(m);
  auto replies = s.wait_replies(1);
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(json_str(replies[0], "parentId") == json_str(root, "id"));
}

BOOST_AUTO_TEST_CASE(a_zabbix_failure_gets_one_trouble_reply_naming_the_contact) {
  Setup s(Env{{"ZPARK_COMMAND_RETRIES", "2"}});
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "show status"}}));
  auto replies = s.wait_replies(1);
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(has(markdown(replies[0]), "Zabbix"));
  BOOST_TEST(has(markdown(replies[0]), "the NOC at +1 555 0100"));
  // Retries at 1 s and 2 s fail too: no second error reply.
  BOOST_TEST(eventually([&] { return has(s.zpark->log(), "Zabbix kept failing"); }, 15s));
  BOOST_TEST(s.replies().size() == 1u);
  BOOST_TEST(has(request(s.addr, verb::get, "/metrics").body,
                 "zpark_commands_total{command=\"show status\",outcome=\"zabbix_failed\"} 1"));
}

BOOST_AUTO_TEST_CASE(a_503_on_the_reply_is_retried_and_sent_once) {
  Setup s;
  s.emu.post("/_emu/faults", R"({"fail_next":[{"status":503},{"status":502}]})");
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "help"}}));
  auto replies = s.wait_replies(1);
  std::this_thread::sleep_for(500ms);
  BOOST_TEST(s.replies().size() == 1u);
  std::size_t posts = 0;
  for (auto& r : s.emu.requests())
    if (json_str(r, "method") == "POST" && json_str(r, "path") == "/v1/messages") ++posts;
  BOOST_TEST(posts == 3u);  // 503, 502, then the reply
}

BOOST_AUTO_TEST_CASE(a_429_on_a_reply_pauses_alerts_and_fetches_too) {
  Setup s;
  BOOST_REQUIRE(eventually([&] { return request(s.addr, verb::get, "/readyz").status == 200; }));
  s.emu.post("/_emu/faults", R"({"fail_next":[{"status":429,"retry_after":2}]})");
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "help"}}));
  BOOST_REQUIRE(eventually([&] {
    for (auto& r : s.emu.requests())
      if (r.at("status").to_number<int>() == 429) return true;
    return false;
  }));
  const Headers token{{"Token", "api-token"}};
  BOOST_TEST(request(s.addr, verb::post, "/api/v1/alert", R"({"to":"ops@example.com","subject":"Disk full"})", token)
                 .status == 200u);
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "hello"}}));
  BOOST_REQUIRE(eventually([&] { return s.replies().size() == 3u; }));
  long long limited_at = -1;
  std::size_t after = 0;
  for (auto& r : s.emu.requests()) {
    const auto t = r.at("time_ms").to_number<long long>();
    if (r.at("status").to_number<int>() == 429) {
      limited_at = t;
      continue;
    }
    if (limited_at < 0 || json_str(r, "path").starts_with("/v1/people")) continue;
    ++after;
    BOOST_TEST(t - limited_at >= 1950, json_str(r, "method") << " " << json_str(r, "path") << " sent " << t - limited_at
                                                        << " ms after the 429");
  }
  BOOST_TEST(limited_at >= 0);
  BOOST_TEST(after >= 4u);  // the retried reply, the alert, the second fetch and its reply
}

BOOST_AUTO_TEST_CASE(a_503_and_a_reset_on_the_message_fetch_are_retried) {
  Setup s;
  s.emu.post("/_emu/faults", R"({"fail_next_by_route":{"GET /v1/messages/{id}":[{"status":503},{"reset":true}]}})");
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "help"}}));
  auto replies = s.wait_replies(1);
  BOOST_TEST(replies.size() == 1u);
  BOOST_TEST(s.message_fetches() >= 2u);
}

BOOST_AUTO_TEST_CASE(a_404_on_the_message_fetch_ends_quietly) {
  Setup s;
  s.emu.post("/_emu/faults", R"({"fail_next_by_route":{"GET /v1/messages/{id}":[{"status":404}]}})");
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "help"}}));
  BOOST_TEST(eventually([&] { return has(s.zpark->log(), "cannot fetch the command message"); }));
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(s.replies().size() == 0u);
  BOOST_TEST(s.message_fetches() == 1u);
}

BOOST_AUTO_TEST_CASE(webex_delivers_through_the_webhook_zpark_registered) {
  // As an admin connects the bot: `zpark webhook create`, then people write to it.
  TempDir dir;
  Emulator emu(dir.path());
  std::map<std::string, std::string> env{{"ZPARK_API_TOKEN", "api-token"},
                                         {"SPARK_ACCESS_TOKEN", "test-token"},
                                         {"WEBEX_API_URL", emu.api_url()},
                                         {"WEBEX_CA_FILE", emu.ca_file()},
                                         {"SPARK_WEBHOOK_SECRET", kSecret},
                                         {"SPARK_TRUSTED_USERS", "alice@example.com"},
                                         {"ZPARK_DATA_DIR", dir.path() + "/data"},
                                         {"ZPARK_FSYNC", "false"}};
  // A free port first: ZPARK_SERVER_URL names it.
  Process probe({env_or_fail("ZPARK_BIN"), "serve"},
                [&] {
                  auto e = env;
                  e["ZPARK_LISTEN"] = "127.0.0.1:0";
                  return e;
                }(),
                dir.path() + "/probe.log");
  const auto port = port_of(probe.wait_listening().front());
  probe.signal(SIGTERM);
  BOOST_REQUIRE(probe.wait_exit(10s) == 0);
  env["ZPARK_LISTEN"] = "127.0.0.1:" + std::to_string(port);
  env["ZPARK_SERVER_URL"] = "http://127.0.0.1:" + std::to_string(port) + "/";
  std::string cli;
  for (auto& [k, v] : env) cli += k + "='" + v + "' ";
  cli += env_or_fail("ZPARK_BIN");
  auto created = run_command(cli + " webhook create");
  BOOST_TEST(has(created, "/api/v1/webhook"));
  run_command(cli + " webhook create");  // twice: no duplicate
  auto listed = json::parse(run_command(cli + " webhook list --json"));
  BOOST_REQUIRE(listed.as_array().size() == 2u);  // messages, and attachmentActions for the cards
  for (auto& h : listed.as_array())
    BOOST_TEST(json_str(h, "targetUrl") == "http://127.0.0.1:" + std::to_string(port) + "/api/v1/webhook");
  BOOST_TEST(!has(run_command(cli + " webhook list"), kSecret));

  Process zpark({env_or_fail("ZPARK_BIN"), "serve"}, env, dir.path() + "/zpark.log");
  zpark.wait_listening();
  BOOST_REQUIRE(zpark.wait_log("Webex token accepted", 10s));
  run_command("curl -sSfk --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary "
              "'{\"personEmail\":\"alice@example.com\",\"roomId\":\"G1\",\"mentionBot\":\"Zpark\",\"text\":\"help\"}' '" +
              emu.url() + "/_emu/messages'");
  auto bot_id = json_str(json::parse(run_command("curl -sSfk -H 'Authorization: Bearer test-token' '" + emu.url() +
                                            "/v1/people/me'")),
                    "id");
  auto until = std::chrono::steady_clock::now() + 10s;
  json::array replies;
  while (replies.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
    for (auto& m : emu.messages())
      if (json_str(m, "personId") == bot_id) replies.push_back(m);
  }
  BOOST_REQUIRE_MESSAGE(replies.size() == 1u, zpark.log());
  BOOST_TEST(has(json_str(replies[0], "markdown"), "show issues"));
  BOOST_TEST(json_str(replies[0], "roomId") == "G1");
  // The bot's own reply was delivered to the webhook too (as Webex does) and ignored.
  std::this_thread::sleep_for(500ms);
  replies.clear();
  for (auto& m : emu.messages())
    if (json_str(m, "personId") == bot_id) replies.push_back(m);
  BOOST_TEST(replies.size() == 1u);
  zpark.signal(SIGTERM);
  BOOST_TEST(zpark.wait_exit(10s) == 0);
  run_command(cli + " webhook delete --all-mine");
  BOOST_TEST(json::parse(run_command(cli + " webhook list --json")).as_array().size() == 0u);
}

BOOST_AUTO_TEST_CASE(ack_alone_in_an_alerts_thread_acknowledges_that_alerts_event) {
  FakeZabbix zabbix;
  zabbix.add_event({.eventid = "8812"});
  Setup s(Env{{"ZABBIX_SERVER_URL", zabbix.url()}});
  auto root = s.alert_problem("8812");
  auto m = s.seed({{"personEmail", "alice@example.com"}, {"displayName", "Alice Example"}, {"text", "ack"},
                   {"roomId", json_str(root, "roomId")}, {"parentId", json_str(root, "id")}});
  BOOST_TEST(s.deliver(m).status == 200u);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return !s.replies_with("Acknowledged").empty(); }), s.zpark->log());
  auto reply = s.replies_with("Acknowledged").front();
  BOOST_TEST(json_str(reply, "parentId") == json_str(root, "id"));  // answered in the alert's thread
  BOOST_TEST(has(markdown(reply), "8812"));
  auto acks = zabbix.calls("event.acknowledge");
  BOOST_REQUIRE(acks.size() == 1u);
  BOOST_TEST(json::serialize(acks[0].params.at("eventids")) == R"(["8812"])");
  BOOST_TEST((acks[0].params.at("action").to_number<int>() & 2) == 2);
  BOOST_TEST(has(json_str(acks[0].params, "message"), "Alice Example <alice@example.com> via Webex"));
  BOOST_TEST(zabbix.event("8812").acknowledged);
}

BOOST_AUTO_TEST_CASE(ack_alone_in_a_thread_that_is_not_an_alert_asks_for_the_event_id) {
  FakeZabbix zabbix;
  Setup s(Env{{"ZABBIX_SERVER_URL", zabbix.url()}});
  auto root = s.seed({{"personEmail", "alice@example.com"}, {"text", "something"}});
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"text", "ack"}, {"roomId", json_str(root, "roomId")},
                    {"parentId", json_str(root, "id")}}));
  auto replies = s.wait_replies(1);
  BOOST_REQUIRE(replies.size() == 1u);
  BOOST_TEST(has(markdown(replies[0]), "I can't tell which problem this thread is about"));
  BOOST_TEST(json_str(replies[0], "parentId") == json_str(root, "id"));
  BOOST_TEST(zabbix.calls("event.acknowledge").empty());
}

BOOST_AUTO_TEST_CASE(a_problem_alert_gets_a_card_in_its_thread_and_the_plain_root_is_still_edited) {
  FakeZabbix zabbix;
  Setup s(Env{{"ZABBIX_SERVER_URL", zabbix.url() + "/"}, {"ZPARK_EDIT_ON_RECOVERY", "true"}});
  auto root = s.alert_problem("8812");
  BOOST_TEST(!root.as_object().contains("attachments"));  // the message to edit carries no card
  auto card = s.wait_card(root);
  const auto& a = card.at("attachments").as_array().at(0).as_object();
  BOOST_TEST(a.at("contentType").as_string() == "application/vnd.microsoft.card.adaptive");
  const auto& content = a.at("content").as_object();
  BOOST_TEST(content.at("version").as_string() == "1.3");
  std::string titles;
  for (auto& b : content.at("actions").as_array()) titles += std::string(b.at("title").as_string()) + "|";
  BOOST_TEST(titles == "Acknowledge|Acknowledge with comment|Close|Open in Zabbix|");
  BOOST_TEST(json::serialize(content).find(zabbix.url() + "/tr_events.php?triggerid=13001&eventid=8812") != std::string::npos);
  BOOST_TEST(has(markdown(card), "8812"));  // the fallback for clients without cards
  // The recovery: into the thread, and the problem message edited to say so.
  json::object rec{{"to", "alice@example.com"}, {"subject", "Resolved: Disk full on db01"}, {"event_id", "8812"},
                   {"event_value", "0"}, {"update_status", "0"}, {"recovery_id", "8813"}};
  BOOST_TEST(request(s.addr, verb::post, "/api/v1/alert", json::serialize(rec), {{"Token", "api-token"}}).status == 200u);
  BOOST_REQUIRE_MESSAGE(eventually([&] {
                          for (auto& m : s.emu.messages())
                            if (json_str(m, "id") == json_str(root, "id")) return has(markdown(m), "RESOLVED");
                          return false;
                        }),
                        s.zpark->log());
  BOOST_TEST(!has(s.zpark->log(), "could not mark the problem message resolved"));
}

BOOST_AUTO_TEST_CASE(cards_can_be_turned_off) {
  Setup s(Env{{"ZPARK_ALERT_CARDS", "false"}});
  auto root = s.alert_problem("8812");
  std::this_thread::sleep_for(800ms);
  BOOST_TEST(s.card_of(root).is_null());
  BOOST_TEST(s.replies().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_button_acknowledges_once_naming_the_webex_user_even_pressed_twice) {
  FakeZabbix zabbix;
  zabbix.add_event({.eventid = "8812"});
  Setup s(Env{{"ZABBIX_SERVER_URL", zabbix.url()}});
  auto root = s.alert_problem("8812");
  auto card = s.wait_card(root);
  auto r = s.press(card, {{"zpark", "ack"}, {"event", "8812"}, {"comment", ""}});
  BOOST_TEST(r.status == 200u);
  BOOST_TEST(json_str(r.json(), "taskid").size() == 36u);
  BOOST_TEST(s.deliver_action(s.last_action).status == 200u);  // Webex delivers the same action again
  s.press(card, {{"zpark", "ack"}, {"event", "8812"}, {"comment", ""}});  // a double click: a second action
  BOOST_REQUIRE_MESSAGE(eventually([&] { return !s.replies_with("Acknowledged").empty(); }), s.zpark->log());
  std::this_thread::sleep_for(800ms);
  auto replies = s.replies_with("Acknowledged");
  BOOST_TEST(replies.size() == 1u);
  BOOST_TEST(json_str(replies[0], "parentId") == json_str(root, "id"));  // in the problem's thread
  auto acks = zabbix.calls("event.acknowledge");
  BOOST_REQUIRE(acks.size() == 1u);
  BOOST_TEST((acks[0].params.at("action").to_number<int>() & 2) == 2);
  BOOST_TEST(json_str(acks[0].params, "message") == "Acknowledged by Alice Example <alice@example.com> via Webex");
  // With a comment: the ack is done already, the comment is recorded.
  s.press(card, {{"zpark", "ack_comment"}, {"event", "8812"}, {"comment", "  disk swapped "}});
  BOOST_REQUIRE(eventually([&] { return zabbix.calls("event.acknowledge").size() == 2u; }));
  BOOST_TEST(json_str(zabbix.calls("event.acknowledge")[1].params, "message") ==
             "disk swapped \xE2\x80\x94 Alice Example <alice@example.com> via Webex");
  BOOST_TEST(has(request(s.addr, verb::get, "/metrics").body,
                 "zpark_commands_total{command=\"button ack\",outcome=\"duplicate\"} 1"));
}

BOOST_AUTO_TEST_CASE(after_the_recovery_a_button_says_the_problem_is_resolved) {
  FakeZabbix zabbix;
  zabbix.add_event({.eventid = "8812"});
  Setup s(Env{{"ZABBIX_SERVER_URL", zabbix.url()}});
  auto card = s.wait_card(s.alert_problem("8812"));
  zabbix.resolve("8812");
  s.press(card, {{"zpark", "close"}, {"event", "8812"}, {"comment", ""}});
  BOOST_REQUIRE_MESSAGE(eventually([&] { return !s.replies_with("already resolved").empty(); }), s.zpark->log());
  BOOST_TEST(zabbix.calls("event.acknowledge").empty());
}

BOOST_AUTO_TEST_CASE(a_button_from_an_untrusted_user_or_a_foreign_card_does_nothing) {
  FakeZabbix zabbix;
  zabbix.add_event({.eventid = "8812"});
  Setup s(Env{{"ZABBIX_SERVER_URL", zabbix.url()}});
  auto card = s.wait_card(s.alert_problem("8812"));
  BOOST_TEST(s.press(card, {{"zpark", "ack"}, {"event", "8812"}}, "eve@example.com", "Eve").status == 200u);
  auto foreign = s.seed({{"personEmail", "bob@ops.example.org"}, {"text", "my own card"}});
  s.press(foreign, {{"zpark", "ack"}, {"event", "8812"}});
  BOOST_TEST(eventually([&] {
    auto m = request(s.addr, verb::get, "/metrics").body;
    return has(m, "command=\"button\",outcome=\"untrusted\"} 1") && has(m, "command=\"button\",outcome=\"not_our_card\"} 1");
  }));
  BOOST_TEST(zabbix.calls("event.acknowledge").empty());
  BOOST_TEST(s.replies_with("Acknowledged").empty());
}

// No double news: Zabbix's notice of the ack the bot made comes back through the alert relay;
// the room that saw the bot's reply does not get it again.
BOOST_AUTO_TEST_CASE(zabbix_notice_of_the_bots_ack_is_not_shown_twice) {
  FakeZabbix zabbix;
  zabbix.add_event({.eventid = "8812"});
  Setup s(Env{{"ZABBIX_SERVER_URL", zabbix.url()}});
  auto root = s.alert_problem("8812");
  s.deliver(s.seed({{"personEmail", "alice@example.com"}, {"displayName", "Alice Example"}, {"text", "ack on it"},
                    {"roomId", json_str(root, "roomId")}, {"parentId", json_str(root, "id")}}));
  BOOST_REQUIRE(eventually([&] { return !s.replies_with("Acknowledged").empty(); }));
  const std::string said = json_str(zabbix.calls("event.acknowledge").at(0).params, "message");
  auto update = [&](const std::string& message) {
    json::object u{{"to", "alice@example.com"}, {"subject", "Updated: Disk full on db01"}, {"message", "update"},
                   {"event_id", "8812"}, {"event_value", "1"}, {"update_status", "1"},
                   {"update_action", "acknowledged"}, {"update_message", message}, {"update_user", "Zabbix Administrator"}};
    return request(s.addr, verb::post, "/api/v1/alert", json::serialize(u), {{"Token", "api-token"}});
  };
  auto echo = update(said);
  BOOST_TEST(echo.status == 200u);
  BOOST_TEST(update("a comment written in the frontend").status == 200u);
  BOOST_REQUIRE(eventually([&] { return !s.replies_with("a comment written in the frontend").empty(); }));
  BOOST_TEST(s.replies_with("Updated: Disk full").size() == 1u);
  auto task = request(s.addr, verb::get, "/api/v1/tasks/" + json_str(echo.json(), "taskid"), "", {{"Token", "api-token"}});
  BOOST_TEST(json_str(task.json(), "state") == "delivered");
  BOOST_TEST(has(s.zpark->log(), "the bot's reply already told it"));
  BOOST_TEST(has(request(s.addr, verb::get, "/metrics").body, "zpark_alerts_bot_updates_skipped_total 1"));
}
