// The alert path end to end: the real zpark binary, our Webex emulator over TLS, faults.
// One suite, two outbox backends: SQLite in each test's data directory (the default), or,
// with ZPARK_TEST_BACKEND=postgresql, one throw-away PostgreSQL for the whole test process
// (test/support/pg_cluster.hpp), emptied before each test case and given to every zpark the
// test starts as ZPARK_DATABASE_URL. ctest runs both: relay_e2e_test, relay_e2e_test_postgresql.
#define BOOST_TEST_MODULE relay_e2e
#include <boost/test/unit_test.hpp>

#include "test/support/emulator.hpp"
#include "test/support/eventually.hpp"
#include "test/support/http.hpp"
#include "test/support/pg_cluster.hpp"
#include "test/support/process.hpp"
#include "test/support/zpark_process.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace zpark::test;
using http::verb;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kToken = "relay-token";

// ZPARK_TEST_BACKEND: unset, empty or "sqlite" (the default), or "postgresql".
bool on_postgresql() {
  const char* b = std::getenv("ZPARK_TEST_BACKEND");
  const std::string backend = b ? b : "";
  if (backend.empty() || backend == "sqlite") return false;
  if (backend == "postgresql") return true;
  throw std::runtime_error("ZPARK_TEST_BACKEND='" + backend + "': use sqlite or postgresql");
}

// The outbox backend of this test process. With PostgreSQL: one server for all the cases
// (about 2 s to start); missing PostgreSQL programs fail the run, they do not skip it.
struct Backend {
  static inline std::unique_ptr<PgCluster> pg;

  Backend() {
    if (!on_postgresql()) return;
    if (!PgCluster::available()) throw std::runtime_error(PgCluster::missing_binaries());
    pg = std::make_unique<PgCluster>();
    BOOST_TEST_MESSAGE("outbox backend: PostgreSQL at " << pg->url());
  }
  ~Backend() { pg.reset(); }  // stops the server by PID, removes its directory

  // For a new test case: an empty outbox, and what points zpark at it (nothing for SQLite:
  // the outbox lives in each test's own ZPARK_DATA_DIR).
  static Env fresh_outbox() {
    if (!pg) return {};
    pg->reset_database();
    return {{"ZPARK_DATABASE_URL", pg->url()}};
  }
};
BOOST_TEST_GLOBAL_FIXTURE(Backend);

// Precondition of the cases about SQLite's files in the data directory.
boost::test_tools::assertion_result sqlite_only(boost::unit_test::test_unit_id) {
  if (!on_postgresql()) return true;
  boost::test_tools::assertion_result r(false);
  r.message() << "about the SQLite outbox in ZPARK_DATA_DIR; skipped with ZPARK_TEST_BACKEND=postgresql";
  return r;
}

struct Setup {
  TempDir dir;
  std::unique_ptr<Emulator> emu;
  std::unique_ptr<Process> zpark;
  std::string addr;
  Env env;

  explicit Setup(Env extra = {}, const std::string& cert = "server", bool with_webex = true) {
    if (with_webex) emu = std::make_unique<Emulator>(dir.path(), cert);
    env = {{"ZPARK_API_TOKEN", kToken}, {"ZPARK_LISTEN", "127.0.0.1:0"}, {"ZPARK_DATA_DIR", dir.path() + "/data"},
           {"ZPARK_FSYNC", "false"}};
    for (auto& [k, v] : Backend::fresh_outbox()) env[k] = v;
    if (with_webex) {
      env["SPARK_ACCESS_TOKEN"] = "test-token";
      env["WEBEX_API_URL"] = emu->api_url();
      env["WEBEX_CA_FILE"] = emu->ca_file();
    }
    for (auto& [k, v] : extra) env[k] = v;
    start();
  }
  void start(const std::string& log = "zpark.log") {
    zpark = start_zpark(env, dir.path() + "/" + log);
    addr = zpark->wait_listening().front();
    // SQLite's outbox is open before zpark listens; PostgreSQL's is opened (schema created)
    // just after, and until then an alert is answered 503.
    if (Backend::pg && !zpark->wait_log("msg=\"PostgreSQL outbox ready\"", 10s))
      throw std::runtime_error("zpark did not open the PostgreSQL outbox within 10 s:\n" + zpark->log());
  }
  Reply alert(const std::string& body, Connection* c = nullptr) {
    if (c) return c->request(verb::post, "/api/v1/alert", body, {{"Token", kToken}});
    return request(addr, verb::post, "/api/v1/alert", body, {{"Token", kToken}});
  }
  // Polls until `pred` holds or `limit` passes.
  template <class F>
  bool eventually(F pred, std::chrono::milliseconds limit = 15s) {
    return zpark::test::eventually(pred, limit);
  }
  std::string task_state(const std::string& id) {
    auto r = request(addr, verb::get, "/api/v1/tasks/" + id, "", {{"Token", kToken}});
    return r.status == 200 ? std::string(r.json().at("state").as_string()) : "http " + std::to_string(r.status);
  }
};

std::string body(const std::string& to, const std::string& subject, const std::string& extra = "") {
  json::object o{{"to", to}, {"subject", subject}, {"message", "details of " + subject}};
  auto s = json::serialize(o);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

std::string str(const json::value& v, const char* key) {
  auto* p = v.as_object().if_contains(key);
  return p && p->is_string() ? std::string(p->get_string()) : "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(alert_contract_and_validation) {
  Setup s;
  auto ok = s.alert(R"({"to":"joel@example.com","subject":"Disk full","message":"On db01"})");
  BOOST_TEST(ok.status == 200u);
  BOOST_TEST(str(ok.json(), "to") == "joel@example.com");
  BOOST_TEST(str(ok.json(), "message") == "Disk full\n\nOn db01");
  BOOST_TEST(str(ok.json(), "taskid").size() == 36u);

  auto no_message = s.alert(R"({"to":"ROOMID","subject":"Only subject"})");
  BOOST_TEST(no_message.status == 200u);
  BOOST_TEST(str(no_message.json(), "message") == "Only subject");
  auto numbers = s.alert(R"({"to":"ROOMID","subject":123,"message":true})");
  BOOST_TEST(numbers.status == 200u);
  BOOST_TEST(str(numbers.json(), "message") == "123\n\ntrue");

  auto no_to = s.alert(R"({"subject":"x"})");
  BOOST_TEST(no_to.status == 400u);
  BOOST_TEST(std::string(no_to.json().at("message").at("to").as_string()).ends_with("Required."));
  auto null_subject = s.alert(R"({"to":"a@b.c","subject":null})");
  BOOST_TEST(null_subject.status == 400u);
  BOOST_TEST(std::string(null_subject.json().at("message").at("subject").as_string()).ends_with("Required."));
  BOOST_TEST(s.alert("{not json").status == 400u);

  Connection c(s.addr);
  auto form = c.request(verb::post, "/api/v1/alert", "to=x", {{"Token", kToken}}, "application/x-www-form-urlencoded");
  BOOST_TEST(form.status == 415u);
  BOOST_TEST(request(s.addr, verb::post, "/api/v1/alert", body("a@b.c", "x")).status == 401u);
  BOOST_TEST(request(s.addr, verb::get, "/api/v1/alert", "", {{"Token", kToken}}).status == 405u);
  // Refused from the header alone, before the body is read.
  Connection big(s.addr);
  big.send_raw("POST /api/v1/alert HTTP/1.1\r\nHost: x\r\nToken: " + kToken +
               "\r\nContent-Type: application/json\r\nContent-Length: 3000000\r\n\r\n");
  auto too_big = big.read_reply();
  BOOST_TEST(too_big.status == 413u);
  BOOST_TEST(str(too_big.json(), "error") == "Too big");  // the original webhook's body
  BOOST_TEST(str(too_big.json(), "message") == "Request body is larger than 1048576 bytes");
  BOOST_TEST(request(s.addr, verb::get, "/api/v1/tasks/nope", "", {{"Token", kToken}}).status == 404u);
  BOOST_TEST(request(s.addr, verb::get, "/api/v1/tasks/" + str(ok.json(), "taskid")).status == 401u);
}

BOOST_AUTO_TEST_CASE(delivers_to_people_and_rooms_and_reports_the_task) {
  Setup s;
  BOOST_REQUIRE(s.eventually([&] { return request(s.addr, verb::get, "/readyz").status == 200; }));
  auto a = s.alert(body("Alice@Example.com", "to a person"));
  auto r = s.alert(body("Y2lzY29zcGFyazovL3VzL1JPT00vMTIz", "to a room"));
  auto ida = str(a.json(), "taskid"), idr = str(r.json(), "taskid");
  BOOST_REQUIRE(s.eventually([&] { return s.task_state(ida) == "delivered" && s.task_state(idr) == "delivered"; }));
  auto msgs = s.emu->messages();
  BOOST_REQUIRE(msgs.size() == 2u);
  // Two recipients, two lanes: either may deliver first.
  if (str(msgs[0], "toPersonEmail").empty()) std::swap(msgs[0], msgs[1]);
  BOOST_TEST(str(msgs[0], "toPersonEmail").size() > 0u);
  BOOST_TEST(str(msgs[0], "markdown").find("**to a person**") != std::string::npos);
  BOOST_TEST(str(msgs[1], "roomId") == "Y2lzY29zcGFyazovL3VzL1JPT00vMTIz");
  auto task = request(s.addr, verb::get, "/api/v1/tasks/" + ida, "", {{"Token", kToken}}).json();
  BOOST_TEST(str(task, "webex_message_id") == str(msgs[0], "id"));
  auto m = request(s.addr, verb::get, "/metrics").body;
  BOOST_TEST(m.find("zpark_alerts_delivered_total 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(order_per_recipient_holds_under_5xx_and_resets) {
  Setup s;
  s.emu->post("/_emu/faults", R"({"error_5xx_ratio":0.3,"reset_ratio":0.1,"seed":7})");
  std::vector<std::string> ids;
  Connection c(s.addr);
  const std::vector<std::string> to{"a@example.com", "b@example.com", "ROOMX"};
  for (int i = 0; i < 60; ++i)
    ids.push_back(str(s.alert(body(to[i % 3], "n" + std::to_string(i)), &c).json(), "taskid"));
  BOOST_REQUIRE(s.eventually([&] { return s.emu->messages().size() >= 60; }, 60s));
  std::map<std::string, std::vector<int>> seen;
  for (auto& m : s.emu->messages()) {
    auto md = str(m, "markdown");
    auto n = std::stoi(md.substr(md.find("**n") + 3));
    auto who = str(m, "toPersonEmail").empty() ? str(m, "roomId") : str(m, "toPersonEmail");
    seen[who].push_back(n);
  }
  for (auto& [who, ns] : seen) {
    BOOST_TEST(ns.size() == 20u);
    BOOST_TEST(std::is_sorted(ns.begin(), ns.end()), who << " out of order");
  }
}

BOOST_AUTO_TEST_CASE(a_429_pauses_all_sending_for_retry_after) {
  Setup s;
  BOOST_REQUIRE(s.eventually([&] { return request(s.addr, verb::get, "/readyz").status == 200; }));
  s.emu->post("/_emu/faults", R"({"fail_next":[{"status":429,"retry_after":2}]})");
  s.alert(body("a@example.com", "first"));
  std::this_thread::sleep_for(300ms);
  s.alert(body("b@example.com", "second"));
  s.alert(body("ROOMZ", "third"));
  BOOST_REQUIRE(s.eventually([&] { return s.emu->messages().size() == 3; }));
  long long limited_at = -1;
  for (auto& r : s.emu->requests()) {
    if (str(r, "method") != "POST") continue;
    auto t = r.at("time_ms").to_number<long long>();
    if (r.at("status").to_number<int>() == 429) limited_at = t;
    else if (limited_at >= 0) BOOST_TEST(t - limited_at >= 1950, "sent " << t - limited_at << " ms after the 429");
  }
  BOOST_TEST(limited_at >= 0);
}

BOOST_AUTO_TEST_CASE(threads_dedup_and_edit_with_event_fields) {
  Setup s(Env{{"ZPARK_EDIT_ON_RECOVERY", "true"}});
  auto ev = [](const char* value, const char* update, const char* extra = "") {
    return std::string(R"("event_id":"555","event_value":")") + value + R"(","update_status":")" + update + "\"" + extra;
  };
  auto p1 = s.alert(body("ops@example.com", "Problem: CPU", ev("1", "0", R"(,"recovery_id":"{EVENT.RECOVERY.ID}")")));
  auto p2 = s.alert(body("ops@example.com", "Problem: CPU", ev("1", "0", R"(,"recovery_id":"{EVENT.RECOVERY.ID}")")));
  BOOST_TEST(str(p1.json(), "taskid") == str(p2.json(), "taskid"));  // Zabbix retry: accepted once
  s.alert(body("ops@example.com", "Update: CPU", ev("1", "1", R"(,"update_message":"on it","update_user":"Admin")")));
  s.alert(body("ops@example.com", "Resolved: CPU", ev("0", "0")));
  BOOST_REQUIRE(s.eventually([&] {
    auto msgs = s.emu->messages();
    return msgs.size() == 3 && msgs[0].as_object().contains("edits") ? true : msgs.size() == 3;
  }));
  BOOST_REQUIRE(s.eventually([&] { return str(s.emu->messages()[0], "markdown").find("RESOLVED") != std::string::npos; }));
  auto msgs = s.emu->messages();
  BOOST_REQUIRE(msgs.size() == 3u);
  auto root = str(msgs[0], "id");
  BOOST_TEST(str(msgs[0], "parentId") == "");
  BOOST_TEST(str(msgs[1], "parentId") == root);
  BOOST_TEST(str(msgs[1], "markdown").find("on it") != std::string::npos);
  BOOST_TEST(str(msgs[2], "parentId") == root);
  BOOST_TEST(str(msgs[2], "markdown").find("Resolved: CPU") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(several_recipients_in_one_call) {
  Setup s;
  auto r = s.alert(R"({"to":"a@example.com, b@example.com","subject":"both","recipients":["ROOMQ"]})");
  BOOST_TEST(r.status == 200u);
  BOOST_TEST(r.json().at("taskids").as_array().size() == 3u);
  BOOST_REQUIRE(s.eventually([&] { return s.emu->messages().size() == 3; }));
}

BOOST_AUTO_TEST_CASE(to_as_a_list_sends_to_every_element) {
  Setup s;
  auto r = s.alert(R"({"to":["a@example.com","ROOMQ"],"subject":"listed"})");
  BOOST_TEST(r.status == 200u);
  BOOST_REQUIRE(r.json().as_object().contains("taskids"));
  BOOST_TEST(r.json().at("taskids").as_array().size() == 2u);
  BOOST_REQUIRE(s.eventually([&] { return s.emu->messages().size() == 2; }));
  std::set<std::string> got;
  for (auto& m : s.emu->messages())
    got.insert(str(m, "toPersonEmail").empty() ? str(m, "roomId") : str(m, "toPersonEmail"));
  BOOST_TEST((got == std::set<std::string>{"a@example.com", "ROOMQ"}));

  auto bad = s.alert(R"({"to":["a@example.com",5],"subject":"not a list of text"})");
  BOOST_TEST(bad.status == 400u);
  BOOST_TEST(bad.json().at("message").as_object().contains("to"));
}

BOOST_AUTO_TEST_CASE(a_recipient_repeated_in_one_alert_is_delivered_once) {
  Setup s;
  auto r = s.alert(
      R"({"to":"a@example.com; A@Example.COM","subject":"once","recipients":["a@example.com","ROOMQ","ROOMQ"]})");
  BOOST_TEST(r.status == 200u);
  BOOST_REQUIRE(r.json().as_object().contains("taskids"));
  auto ids = r.json().at("taskids").as_array();
  BOOST_TEST(ids.size() == 2u);
  BOOST_REQUIRE(s.eventually([&] {
    for (auto& id : ids)
      if (s.task_state(std::string(id.as_string())) != "delivered") return false;
    return true;
  }));
  BOOST_TEST(s.emu->messages().size() == 2u);
}

BOOST_AUTO_TEST_CASE(escaped_control_characters_are_dropped_from_the_text) {
  Setup s;
  auto r = s.alert(
      R"({"to":"a@example.com","subject":"Disk\u0000 full\u001b[0m","message":"line 1\r\nline 2\tend\u0007\u007f\u0085"})");
  BOOST_TEST(r.status == 200u);
  BOOST_TEST(str(r.json(), "message") == "Disk full[0m\n\nline 1\nline 2\tend");
  // Other text fields too, e.g. an update's comment.
  s.alert(body("a@example.com", "Update: CPU",
                R"("event_id":"7","event_value":"1","update_status":"1","update_message":"on\u0000\u0008 it")"));
  BOOST_REQUIRE(s.eventually([&] { return s.emu->messages().size() == 2; }));
  auto md = str(s.emu->messages()[1], "markdown");
  BOOST_TEST(md.find("on it") != std::string::npos, md);
  BOOST_TEST(md.find('\0') == std::string::npos);
  BOOST_TEST(md.find('\b') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(long_message_is_split_in_a_thread) {
  Setup s;
  s.alert(R"({"to":"a@example.com","subject":"big","message":")" + std::string(16000, 'z') + "\"}");
  BOOST_REQUIRE(s.eventually([&] { return s.emu->messages().size() == 3; }));
  auto msgs = s.emu->messages();
  BOOST_TEST(str(msgs[0], "markdown").starts_with("(part 1/3)"));
  BOOST_TEST(str(msgs[1], "parentId") == str(msgs[0], "id"));
  BOOST_TEST(str(msgs[2], "parentId") == str(msgs[0], "id"));
}

BOOST_AUTO_TEST_CASE(unknown_person_fails_the_task_with_the_reason) {
  Setup s;
  s.emu->post("/_emu/faults", R"({"unknown_emails":["nobody@example.com"]})");
  auto id = str(s.alert(body("nobody@example.com", "lost")).json(), "taskid");
  BOOST_REQUIRE(s.eventually([&] { return s.task_state(id) == "failed"; }));
  auto t = request(s.addr, verb::get, "/api/v1/tasks/" + id, "", {{"Token", kToken}}).json();
  BOOST_TEST(str(t, "reason").find("404") != std::string::npos);
  BOOST_TEST(s.zpark->wait_log("TrackingID", 2s));
}

BOOST_AUTO_TEST_CASE(wrong_ca_gives_a_clear_error_and_not_ready) {
  Setup s(Env{}, "wrong-server");
  BOOST_REQUIRE(s.zpark->wait_log("certificate verify failed", 10s));
  auto ready = request(s.addr, verb::get, "/readyz");
  BOOST_TEST(ready.status == 503u);
  BOOST_TEST(ready.body.find("certificate") != std::string::npos);
  // The alert is still accepted and kept for later.
  auto id = str(s.alert(body("a@example.com", "kept")).json(), "taskid");
  std::this_thread::sleep_for(500ms);
  BOOST_TEST(s.task_state(id) == "pending");
}

BOOST_AUTO_TEST_CASE(dry_run_prints_what_it_would_send) {
  Setup s(Env{}, "server", false);
  auto r = s.alert(body("a@example.com", "Dry subject"));
  BOOST_TEST(r.status == 200u);
  BOOST_REQUIRE(s.zpark->wait_log("dry-run: would send to=a@example.com", 5s));
  BOOST_TEST(s.zpark->log().find("**Dry subject**") != std::string::npos);
  BOOST_TEST(s.eventually([&] { return s.task_state(str(r.json(), "taskid")) == "delivered"; }));
  BOOST_TEST(request(s.addr, verb::get, "/readyz").status == 200u);
}

BOOST_AUTO_TEST_CASE(kill_9_during_a_storm_loses_nothing) {
  Setup s(Env{{"ZPARK_FSYNC", "true"}});
  s.emu->post("/_emu/faults", R"({"delay_ms":2})");
  std::mutex mu;
  std::map<std::string, std::string> accepted;  // subject -> taskid (answered 200)
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&, t] {
      try {
        Connection c(s.addr, 2s);
        for (int i = 0; i < 125 && !stop; ++i) {
          auto subject = "storm-" + std::to_string(t) + "-" + std::to_string(i);
          auto r = s.alert(body("r" + std::to_string(t % 4) + "@example.com", subject), &c);
          if (r.status == 200) {
            std::lock_guard l(mu);
            accepted[subject] = str(r.json(), "taskid");
          }
        }
      } catch (...) {
        // the server was killed mid-request: that alert was never answered 200
      }
    });
  BOOST_REQUIRE(s.eventually([&] { std::lock_guard l(mu); return accepted.size() >= 400; }, 30s));
  s.zpark->signal(SIGKILL);
  stop = true;
  for (auto& c : clients) c.join();
  s.zpark->wait_exit(5s);
  const auto before_restart = s.emu->messages().size();
  s.start("zpark-2.log");
  BOOST_REQUIRE(s.eventually([&] {
    std::set<std::string> got;
    for (auto& m : s.emu->messages()) got.insert(str(m, "markdown"));
    std::lock_guard l(mu);
    for (auto& [subject, id] : accepted)
      if (!got.count("**" + subject + "**\n\ndetails of " + subject)) return false;
    return true;
  }, 60s));
  std::map<std::string, int> count;
  for (auto& m : s.emu->messages()) ++count[str(m, "markdown")];
  int duplicates = 0;
  for (auto& [md, n] : count) duplicates += n - 1;
  BOOST_TEST_MESSAGE("accepted " << accepted.size() << ", delivered before kill " << before_restart
                                 << ", duplicates " << duplicates);
  BOOST_TEST(duplicates <= 4);  // at most one in flight per pooled connection (WEBEX_POOL_SIZE=4)
}

BOOST_AUTO_TEST_CASE(check_proves_the_webex_token) {
  TempDir dir;
  Emulator emu(dir.path());
  Env env{{"ZPARK_API_TOKEN", kToken}, {"SPARK_ACCESS_TOKEN", "test-token"}, {"WEBEX_API_URL", emu.api_url()},
          {"WEBEX_CA_FILE", emu.ca_file()}, {"ZPARK_DATA_DIR", dir.path() + "/data"}};
  for (auto& [k, v] : Backend::fresh_outbox()) env[k] = v;
  Process good({env_or_fail("ZPARK_BIN"), "check"}, env, dir.path() + "/good.log");
  BOOST_TEST(good.wait_exit(15s) == 0);
  BOOST_TEST(good.log().find("Webex: token OK") != std::string::npos);
  BOOST_TEST(good.log().find("test-token") == std::string::npos);
  if (Backend::pg)  // the outbox is proven too: an empty database, `zpark check` does not create the schema
    BOOST_TEST(good.log().find("Outbox: PostgreSQL at 127.0.0.1:" + std::to_string(Backend::pg->port()) +
                               "/zpark: connected (PostgreSQL ") != std::string::npos,
               good.log());
  if (Backend::pg) BOOST_TEST(good.log().find("schema version 0 (not created yet") != std::string::npos);
  env["SPARK_ACCESS_TOKEN"] = "wrong-token";
  Process bad({env_or_fail("ZPARK_BIN"), "check"}, env, dir.path() + "/bad.log");
  BOOST_TEST(bad.wait_exit(15s) == 1);
  BOOST_TEST(bad.log().find("SPARK_ACCESS_TOKEN") != std::string::npos);
  BOOST_TEST(bad.log().find("wrong-token") == std::string::npos);
}

// With PostgreSQL there is no lock on the data directory: several instances are the point.
BOOST_AUTO_TEST_CASE(a_second_instance_on_the_same_data_dir_is_refused, *boost::unit_test::precondition(sqlite_only)) {
  Setup s(Env{}, "server", false);
  auto env = s.env;
  Process second({env_or_fail("ZPARK_BIN"), "serve"}, env, s.dir.path() + "/second.log");
  BOOST_TEST(second.wait_exit(5s) != 0);
  BOOST_TEST(second.log().find("another zpark is already using ZPARK_DATA_DIR") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(alerts_accepted_during_a_webex_outage_are_delivered_after_it) {
  Setup s;
  BOOST_REQUIRE(s.eventually([&] { return request(s.addr, verb::get, "/readyz").status == 200; }));
  const auto port = port_of(s.emu->url().substr(8));
  s.emu.reset();  // Webex is down: connections refused
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(str(s.alert(body("a@example.com", "outage-" + std::to_string(i))).json(), "taskid"));
  std::this_thread::sleep_for(3s);
  BOOST_TEST(s.task_state(ids[0]) == "pending");
  s.emu = std::make_unique<Emulator>(s.dir.path(), "server", port);  // back, same address
  BOOST_REQUIRE(s.eventually([&] { return s.emu->messages().size() == 5; }, 30s));
  auto msgs = s.emu->messages();
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(str(msgs[i], "markdown").find("**outage-" + std::to_string(i) + "**") == 0u);
  for (auto& id : ids) BOOST_TEST(s.task_state(id) == "delivered");
}
