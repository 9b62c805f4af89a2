// Integration tests: the real zpark binary on port 0 and on a unix socket.
#define BOOST_TEST_MODULE server
#include <boost/test/unit_test.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include "test/support/emulator.hpp"
#include "test/support/http.hpp"
#include "test/support/process.hpp"

#include <csignal>
#include <filesystem>
#include <memory>
#include <thread>

#include <sys/stat.h>

using namespace zpark::test;
using http::verb;
using namespace std::chrono_literals;
namespace data = boost::unit_test::data;

namespace {

const std::string kToken = "integration-token";
using Env = std::map<std::string, std::string>;

struct Zpark {
  TempDir dir;
  std::unique_ptr<Process> proc;
  std::vector<std::string> addresses;

  explicit Zpark(std::map<std::string, std::string> extra = {}, std::size_t listeners = 1,
                 std::vector<std::string> args = {"serve"}) {
    std::map<std::string, std::string> env{{"ZPARK_API_TOKEN", kToken},
                                           {"ZPARK_LISTEN", "127.0.0.1:0"},
                                           {"ZPARK_DATA_DIR", dir.path() + "/data"}};
    for (auto& [k, v] : extra) env[k] = v;
    std::vector<std::string> argv{env_or_fail("ZPARK_BIN")};
    argv.insert(argv.end(), args.begin(), args.end());
    proc = std::make_unique<Process>(argv, env, dir.path() + "/zpark.log");
    if (listeners) addresses = proc->wait_listening(listeners);
  }
  const std::string& addr() const { return addresses.front(); }
};

Headers token_header(const std::string& t = kToken) { return {{"Token", t}}; }

}  // namespace

BOOST_AUTO_TEST_CASE(ping_requires_the_token_in_either_header) {
  Zpark z;
  auto none = request(z.addr(), verb::get, "/api/v1/ping");
  BOOST_TEST(none.status == 401u);
  BOOST_TEST(none.json().as_object().contains("message"));
  BOOST_TEST(request(z.addr(), verb::get, "/api/v1/ping", "", token_header("wrong")).status == 401u);
  BOOST_TEST(request(z.addr(), verb::get, "/api/v1/ping", "", {{"Authorization", "Bearer wrong"}}).status == 401u);

  auto ok = request(z.addr(), verb::get, "/api/v1/ping", "", token_header());
  BOOST_TEST(ok.status == 200u);
  BOOST_TEST(std::string(ok.headers[http::field::content_type]) == "application/json");
  auto body = ok.json().as_object();
  BOOST_TEST(body.at("hello").as_string() == "Hello!");
  BOOST_TEST(body.at("apiversion").as_int64() == 1);
  std::string utc(body.at("utctime").as_string());
  BOOST_TEST(utc.size() >= 19u);
  BOOST_TEST(utc[10] == ' ');

  auto bearer = request(z.addr(), verb::get, "/api/v1/ping", "", {{"Authorization", "Bearer " + kToken}});
  BOOST_TEST(bearer.status == 200u);
}

BOOST_AUTO_TEST_CASE(routes_under_the_prefix_and_without_it) {
  Zpark z(Env{{"ZPARK_SERVER_URL", "https://bot.example.com/zpark/"}});
  BOOST_TEST(request(z.addr(), verb::get, "/zpark/api/v1/ping", "", token_header()).status == 200u);
  BOOST_TEST(request(z.addr(), verb::get, "/api/v1/ping", "", token_header()).status == 200u);
  BOOST_TEST(request(z.addr(), verb::get, "/zpark/healthz").status == 200u);
  BOOST_TEST(request(z.addr(), verb::get, "/zparkx/api/v1/ping", "", token_header()).status == 404u);
}

BOOST_AUTO_TEST_CASE(unknown_path_404_and_wrong_method_405_are_json) {
  Zpark z;
  auto nf = request(z.addr(), verb::get, "/api/v1/ping/", "", token_header());
  BOOST_TEST(nf.status == 404u);
  BOOST_TEST(nf.json().as_object().contains("message"));
  auto na = request(z.addr(), verb::post, "/api/v1/ping", "{}", token_header());
  BOOST_TEST(na.status == 405u);
  BOOST_TEST(std::string(na.headers[http::field::allow]).find("GET") != std::string::npos);
  BOOST_TEST(na.json().as_object().contains("message"));
  auto head = request(z.addr(), verb::head, "/healthz");
  BOOST_TEST(head.status == 200u);
  // A HEAD answer has no body, refusals included: the connection stays usable.
  Connection c(z.addr());
  BOOST_TEST(c.request(verb::head, "/api/v1/nowhere").status == 404u);
  BOOST_TEST(c.request(verb::get, "/healthz").status == 200u);
}

BOOST_AUTO_TEST_CASE(health_ready_and_metrics) {
  Zpark z;
  BOOST_TEST(request(z.addr(), verb::get, "/healthz").status == 200u);
  auto ready = request(z.addr(), verb::get, "/readyz");
  BOOST_TEST(ready.status == 200u);
  request(z.addr(), verb::get, "/api/v1/ping", "", token_header());
  request(z.addr(), verb::get, "/api/v1/ping");
  auto m = request(z.addr(), verb::get, "/metrics");
  BOOST_TEST(m.status == 200u);
  BOOST_TEST(std::string(m.headers[http::field::content_type]).starts_with("text/plain"));
  BOOST_TEST(m.body.find("zpark_http_requests_total{route=\"ping\",status=\"200\"} 1") != std::string::npos);
  BOOST_TEST(m.body.find("zpark_http_requests_total{route=\"ping\",status=\"401\"} 1") != std::string::npos);
  BOOST_TEST(m.body.find("zpark_http_request_duration_seconds_bucket{route=\"ping\",le=\"+Inf\"} 2") !=
             std::string::npos);
  BOOST_TEST(m.body.find("zpark_http_connections_open 1") != std::string::npos);
  BOOST_TEST(m.body.find("zpark_build_info{version=") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(request_log_line_has_no_secrets) {
  Zpark z;
  request(z.addr(), verb::get, "/api/v1/ping", "", token_header());
  BOOST_REQUIRE(z.proc->wait_log("route=ping status=200", 2s));
  auto log = z.proc->log();
  BOOST_TEST(log.find("method=GET path=/api/v1/ping") != std::string::npos);
  BOOST_TEST(log.find(kToken) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(oversize_body_gets_413) {
  Zpark z;
  const std::size_t limit = 1048576;  // ZPARK_ALERT_MAX_BYTES
  auto r = request(z.addr(), verb::post, "/api/v1/alert", std::string(limit + 1, 'x'), token_header());
  BOOST_TEST(r.status == 413u);
  // Both the original webhook's body ("error") and ours ("message").
  BOOST_TEST(r.json().at("error").as_string() == "Too big");
  BOOST_TEST(r.json().at("message").as_string() == "Request body is larger than 1048576 bytes");
  // Chunked bodies have no Content-Length: the limit must still hold.
  Connection c(z.addr());
  std::string chunk(limit / 2 + 1, 'y');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  const std::string part = std::string(size) + "\r\n" + chunk + "\r\n";
  c.send_raw("POST /api/v1/alert HTTP/1.1\r\nHost: x\r\nToken: " + kToken +
             "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + part + part +
             "0\r\n\r\n");
  auto chunked = c.read_reply();
  BOOST_TEST(chunked.status == 413u);
  BOOST_TEST(chunked.json().at("error").as_string() == "Too big");
}

BOOST_AUTO_TEST_CASE(malformed_request_gets_400_and_huge_header_431) {
  Zpark z;
  Connection c(z.addr());
  c.send_raw("THIS IS NOT HTTP\r\n\r\n");
  auto r = c.read_reply();
  BOOST_TEST(r.status == 400u);
  BOOST_TEST(r.json().as_object().contains("message"));

  Connection big(z.addr());
  big.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  BOOST_TEST(big.read_reply().status == 431u);
}

BOOST_AUTO_TEST_CASE(half_a_request_is_dropped_after_the_read_timeout) {
  Zpark z(Env{{"ZPARK_READ_TIMEOUT", "1"}, {"ZPARK_IDLE_TIMEOUT", "30"}});
  Connection c(z.addr());
  c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finished
  auto t0 = std::chrono::steady_clock::now();
  BOOST_TEST(c.closed_by_peer(5s));
  auto waited = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(waited >= 900ms);  // not before the timeout...
  // ...and a healthy client on another connection is still served.
  BOOST_TEST(request(z.addr(), verb::get, "/healthz").status == 200u);
}

BOOST_AUTO_TEST_CASE(idle_keep_alive_connection_is_closed_after_the_idle_timeout) {
  Zpark z(Env{{"ZPARK_IDLE_TIMEOUT", "1"}});
  Connection c(z.addr());
  BOOST_TEST(c.request(verb::get, "/healthz").status == 200u);
  BOOST_TEST(!c.closed_by_peer(300ms));
  BOOST_TEST(c.closed_by_peer(3s));
}

BOOST_AUTO_TEST_CASE(sigterm_lets_a_request_in_flight_finish) {
  Zpark z;
  Connection busy(z.addr());
  Connection idle(z.addr());
  BOOST_TEST(idle.request(verb::get, "/healthz").status == 200u);
  const std::string body = R"({"to":"a@example.com","subject":"in flight"})";
  busy.send_raw("POST /api/v1/alert HTTP/1.1\r\nHost: x\r\nToken: " + kToken +
                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n{");
  std::this_thread::sleep_for(200ms);
  z.proc->signal(SIGTERM);
  BOOST_TEST(idle.closed_by_peer(2s));  // idle connections are closed at once
  std::this_thread::sleep_for(200ms);
  busy.send_raw(body.substr(1));
  auto r = busy.read_reply();
  BOOST_TEST(r.status == 200u);  // the request was answered (alert accepted), not cut
  BOOST_TEST(!r.keep_alive);
  BOOST_TEST(z.proc->wait_exit(5s) == 0);
  BOOST_CHECK_THROW(Connection{z.addr()}, std::exception);  // no longer accepting
}

BOOST_AUTO_TEST_CASE(two_hundred_concurrent_keep_alive_connections) {
  Zpark z;
  std::vector<std::unique_ptr<Connection>> conns;
  for (int i = 0; i < 200; ++i) conns.push_back(std::make_unique<Connection>(z.addr()));
  int ok = 0;
  for (int round = 0; round < 3; ++round)
    for (auto& c : conns)
      if (c->request(verb::get, "/api/v1/ping", "", token_header()).status == 200u) ++ok;
  BOOST_TEST(ok == 600);
  auto m = request(z.addr(), verb::get, "/metrics");
  BOOST_TEST(m.body.find("zpark_http_connections_open 201") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(at_the_connection_limit_healthz_is_still_answered_and_refusals_are_counted) {
  Zpark z(Env{{"ZPARK_MAX_CONNECTIONS", "2"}});
  Connection a(z.addr()), b(z.addr());
  BOOST_TEST(a.request(verb::get, "/healthz").status == 200u);
  BOOST_TEST(b.request(verb::get, "/healthz").status == 200u);
  // Full: a liveness probe is still answered (then closed), so a busy instance is not restarted...
  Connection c(z.addr());
  auto health = c.request(verb::get, "/healthz");
  BOOST_TEST(health.status == 200u);
  BOOST_TEST(!health.keep_alive);
  // ...everything else gets 503.
  for (int i = 0; i < 2; ++i) {
    Connection d(z.addr());
    auto r = d.request(verb::get, "/api/v1/ping", "", token_header());
    BOOST_TEST(r.status == 503u);
    BOOST_TEST(r.json().as_object().contains("message"));
    BOOST_TEST(!r.keep_alive);
  }
  auto m = a.request(verb::get, "/metrics");
  BOOST_TEST(m.body.find("zpark_http_refused_total 2\n") != std::string::npos);
  // One log line for a burst of refusals, not one per connection.
  BOOST_REQUIRE(z.proc->wait_log("connection limit reached", 2s));
  auto log = z.proc->log();
  std::size_t lines = 0;
  for (auto at = log.find("connection limit reached"); at != std::string::npos;
       at = log.find("connection limit reached", at + 1))
    ++lines;
  BOOST_TEST(lines == 1u);
}

BOOST_AUTO_TEST_CASE(a_new_connection_that_stays_silent_is_closed_after_the_read_timeout) {
  // Silent connections must not hold a slot for the whole idle timeout.
  Zpark z(Env{{"ZPARK_READ_TIMEOUT", "1"}, {"ZPARK_IDLE_TIMEOUT", "30"}});
  Connection c(z.addr());
  BOOST_TEST(c.closed_by_peer(5s));
}

namespace {
// A request with a framing we must not guess at, followed by a second request hidden in its
// "body": served as two requests, the second would bypass whatever inspects the first.
const std::vector<std::string> kBadFraming{
    "Transfer-Encoding: xchunked\r\n",
    "Transfer-Encoding: gzip\r\n",
    "Transfer-Encoding: identity\r\n",
    "Transfer-Encoding: chunked, identity\r\n",
    "Transfer-Encoding: gzip, chunked\r\n",
    "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
    "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n",
    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
};
}  // namespace

BOOST_DATA_TEST_CASE(transfer_encoding_other_than_chunked_is_refused_and_the_connection_closed,
                     data::make(kBadFraming), framing) {
  Zpark z;
  Connection c(z.addr());
  c.send_raw("POST /healthz HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n0\r\n\r\n" +
             "GET /api/v1/ping HTTP/1.1\r\nHost: x\r\nToken: " + kToken + "\r\n\r\n");
  auto r = c.read_reply();
  BOOST_TEST(r.status == 400u);
  BOOST_TEST(r.json().as_object().contains("message"));
  BOOST_TEST(!r.keep_alive);
  BOOST_TEST(c.closed_by_peer(2s));  // and the smuggled ping is never answered
}

BOOST_AUTO_TEST_CASE(a_chunked_body_is_still_accepted) {
  Zpark z;
  Connection c(z.addr());
  const std::string alert = R"({"to":"a@example.com","subject":"chunked"})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", alert.size());
  c.send_raw("POST /api/v1/alert HTTP/1.1\r\nHost: x\r\nToken: " + kToken +
             "\r\nContent-Type: application/json\r\nTransfer-Encoding: Chunked\r\n\r\n" + size + "\r\n" +
             alert + "\r\n0\r\n\r\n");
  auto r = c.read_reply();
  BOOST_TEST(r.status == 200u);
  BOOST_TEST(r.keep_alive);
  BOOST_TEST(c.request(verb::get, "/healthz").status == 200u);
}

// An unauthenticated or misdirected upload is answered from its header: no 100 Continue
// invites the body, nothing of it is buffered, the connection is closed.
BOOST_DATA_TEST_CASE(a_body_is_refused_from_its_header_before_it_is_read,
                     data::make(std::vector<std::string>{"POST /api/v1/alert", "POST /api/v1/alert",
                                                         "POST /api/v1/nowhere", "PUT /api/v1/alert"}) ^
                         data::make(std::vector<std::string>{"", "Token: wrong\r\n", "Token: " + kToken + "\r\n",
                                                         "Token: " + kToken + "\r\n"}) ^
                         data::make(std::vector<unsigned>{401u, 401u, 404u, 405u}),
                     request_line, token, status) {
  Zpark z;
  const std::string header = request_line + " HTTP/1.1\r\nHost: x\r\n" + token +
                             "Content-Type: application/json\r\nContent-Length: 1048576\r\n";
  Connection asks(z.addr());
  asks.send_raw(header + "Expect: 100-continue\r\n\r\n");
  auto r = asks.read_reply();
  BOOST_TEST(r.status == status);  // not "100 Continue"
  BOOST_TEST(r.json().as_object().contains("message"));
  BOOST_TEST(!r.keep_alive);
  BOOST_TEST(asks.closed_by_peer(2s));
  // A client that sends the body at once gets the same answer, not a reset.
  Connection eager(z.addr());
  eager.send_raw(header + "\r\n" + std::string(65536, ' '));
  BOOST_TEST(eager.read_reply().status == status);
}

BOOST_AUTO_TEST_CASE(bodies_in_flight_share_a_server_wide_budget) {
  Zpark z;
  // The default budget is 64 MiB: 64 alerts of 1 MiB (the alert limit) fit, the 65th does not.
  const std::string header = "POST /api/v1/alert HTTP/1.1\r\nHost: x\r\nToken: " + kToken +
                             "\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n"
                             "Expect: 100-continue\r\n\r\n";
  std::vector<std::unique_ptr<Connection>> uploads;
  for (int i = 0; i < 64; ++i) {
    auto& c = uploads.emplace_back(std::make_unique<Connection>(z.addr()));
    c->send_raw(header);
    BOOST_REQUIRE(c->read_reply().status == 100u);
  }
  Connection over(z.addr());
  over.send_raw(header);
  auto r = over.read_reply();
  BOOST_TEST(r.status == 503u);
  BOOST_TEST(r.json().as_object().contains("message"));
  BOOST_TEST(!std::string(r.headers[http::field::retry_after]).empty());
  BOOST_TEST(!r.keep_alive);
  // A finished upload gives its share back.
  std::string alert = R"({"to":"a@example.com","subject":"budget"})";
  alert.resize(1048576, ' ');
  uploads.front()->send_raw(alert);
  BOOST_TEST(uploads.front()->read_reply().status == 200u);
  Connection next(z.addr());
  next.send_raw(header);
  BOOST_TEST(next.read_reply().status == 100u);
}

BOOST_AUTO_TEST_CASE(unix_socket_with_mode_and_stale_socket_removed) {
  TempDir sockdir;
  const std::string path = sockdir.path() + "/zpark.sock";
  {
    // A stale socket file left by a crashed process.
    Zpark first(Env{{"ZPARK_LISTEN", "unix:" + path}});
    first.proc->signal(SIGKILL);
    first.proc->wait_exit(5s);
  }
  BOOST_REQUIRE(std::filesystem::exists(path));
  Zpark z(Env{{"ZPARK_LISTEN", "unix:" + path + ",127.0.0.1:0"}, {"ZPARK_SOCKET_MODE", "0600"}}, 2);
  struct stat st{};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  auto r = request("unix:" + path, verb::get, "/api/v1/ping", "", token_header());
  BOOST_TEST(r.status == 200u);
  // A second instance must not steal a live socket.
  Zpark second(Env{{"ZPARK_LISTEN", "unix:" + path}}, 0);
  BOOST_TEST(second.proc->wait_exit(5s) != 0);
  BOOST_TEST(second.proc->log().find("another process") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ipv6_loopback) {
  Zpark z(Env{{"ZPARK_LISTEN", "[::1]:0"}});
  BOOST_TEST(z.addr().starts_with("[::1]:"));
  BOOST_TEST(request(z.addr(), verb::get, "/api/v1/ping", "", token_header()).status == 200u);
}

BOOST_AUTO_TEST_CASE(missing_token_stops_start_up_with_one_clear_line) {
  TempDir dir;
  Process p({env_or_fail("ZPARK_BIN"), "serve"}, {{"ZPARK_LISTEN", "127.0.0.1:0"}}, dir.path() + "/log");
  BOOST_TEST(p.wait_exit(5s) != 0);
  auto log = p.log();
  BOOST_TEST(log.find("ZPARK_API_TOKEN") != std::string::npos);
  BOOST_TEST(std::count(log.begin(), log.end(), '\n') == 1);
}

BOOST_AUTO_TEST_CASE(port_in_use_is_a_clear_error) {
  Zpark a;
  Zpark b(Env{{"ZPARK_LISTEN", a.addr()}}, 0);
  BOOST_TEST(b.proc->wait_exit(5s) != 0);
  BOOST_TEST(b.proc->log().find("cannot listen on " + a.addr()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_version_and_help) {
  // The Webex API is unreachable here: check says so and fails, still hiding the secrets.
  Zpark check(Env{{"SPARK_ACCESS_TOKEN", "very-secret-spark"}, {"WEBEX_API_URL", "https://127.0.0.1:1/v1"}}, 0,
              {"check"});
  BOOST_TEST(check.proc->wait_exit(10s) == 1);
  BOOST_TEST(check.proc->log().find("Webex: FAILED") != std::string::npos);
  Zpark dry(Env{}, 0, {"check"});
  BOOST_TEST(dry.proc->wait_exit(10s) == 0);
  auto out = check.proc->log();
  BOOST_TEST(out.find("ZPARK_API_TOKEN") != std::string::npos);
  BOOST_TEST(out.find(kToken) == std::string::npos);
  BOOST_TEST(out.find("very-secret-spark") == std::string::npos);
  Zpark version(Env{}, 0, {"version"});
  BOOST_TEST(version.proc->wait_exit(5s) == 0);
  BOOST_TEST(version.proc->log().starts_with("zpark "));
  Zpark help(Env{}, 0, {"--help"});
  BOOST_TEST(help.proc->wait_exit(5s) == 0);
  BOOST_TEST(help.proc->log().find("Usage: zpark") != std::string::npos);
  Zpark bad(Env{}, 0, {"frobnicate"});
  BOOST_TEST(bad.proc->wait_exit(5s) == 2);
}

BOOST_AUTO_TEST_CASE(serves_https_with_its_own_certificate) {
  const auto certs = env_or_fail("ZPARK_TEST_CERTS");
  Zpark z(Env{{"ZPARK_TLS_CERT", certs + "/server.pem"}, {"ZPARK_TLS_KEY", certs + "/server.key"}});
  auto out = run_command("curl -sS --max-time 5 --cacert " + certs + "/ca.pem -H 'Token: " + kToken +
                         "' https://" + z.addr() + "/api/v1/ping");
  BOOST_TEST(out.find("\"hello\":\"Hello!\"") != std::string::npos);
  // Plain HTTP to the TLS port is not answered as HTTP.
  BOOST_CHECK_THROW(request(z.addr(), verb::get, "/healthz"), std::exception);
}

BOOST_AUTO_TEST_CASE(bad_tls_files_stop_start_up_with_the_file_named) {
  Zpark z(Env{{"ZPARK_TLS_CERT", "/nonexistent/cert.pem"}, {"ZPARK_TLS_KEY", "/nonexistent/key.pem"}}, 0);
  BOOST_TEST(z.proc->wait_exit(5s) != 0);
  BOOST_TEST(z.proc->log().find("/nonexistent/cert.pem") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(port_only_listens_on_ipv4_and_ipv6) {
  Zpark z(Env{{"ZPARK_LISTEN", ":0"}});
  const auto port = std::to_string(port_of(z.addr()));
  BOOST_TEST(request("127.0.0.1:" + port, verb::get, "/healthz").status == 200u);
  BOOST_TEST(request("[::1]:" + port, verb::get, "/healthz").status == 200u);
}
