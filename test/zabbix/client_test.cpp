// The Zabbix API client in three layers:
//   - pure functions (versions, dialects, request bodies, answers, session expiry), no I/O;
//   - a fake JSON-RPC server on loopback that speaks the 5.2, 6.0, 6.4 and 7.2 dialects and
//     refuses the wrong one, plus TLS, timeouts and HTTP errors;
//   - the real Zabbix 6.0 of test/zabbix/lab.sh, found through its env file (ctest fixture
//     zabbix_lab). Without it those cases are skipped with a message.
// Everything runs on one io_context per test case, bounded by run()'s time limit.
// Note (GCC bug 107288): json values and option structs are built in their own statements,
// never as temporaries inside a co_await expression.
#define BOOST_TEST_MODULE zabbix_client_test
#include <boost/test/unit_test.hpp>

#include "app/check_zabbix.hpp"
#include "net/tls.hpp"
#include "test/support/zabbix_lab.hpp"
#include "zabbix/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace zpark::zabbix {
// For Boost.Test's messages.
std::ostream& operator<<(std::ostream& os, Error::Kind kind) { return os << to_string(kind); }
}  // namespace zpark::zabbix

#ifndef ZABBIX_LAB_ENV
#define ZABBIX_LAB_ENV ""
#endif

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
namespace utf = boost::unit_test;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using zpark::zabbix::Client;
using zpark::zabbix::Error;
using zpark::zabbix::Options;
using zpark::zabbix::Result;
using Kind = zpark::zabbix::Error::Kind;

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

// ---- pure functions --------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(pure)

BOOST_AUTO_TEST_CASE(versions) {
  auto v = zpark::zabbix::parse_version("6.0.14");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->major == 6);
  BOOST_TEST(v->minor == 0);
  BOOST_TEST(v->text == "6.0.14");
  v = zpark::zabbix::parse_version("7.0.0rc1");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->major == 7);
  v = zpark::zabbix::parse_version("5.4");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->minor == 4);
  BOOST_TEST(!zpark::zabbix::parse_version(""));
  BOOST_TEST(!zpark::zabbix::parse_version("6"));
  BOOST_TEST(!zpark::zabbix::parse_version("v6.0"));
  BOOST_TEST(!zpark::zabbix::parse_version("6.x"));
}

BOOST_AUTO_TEST_CASE(dialects) {
  using zpark::zabbix::dialect_for;
  auto d = [](int major, int minor) { return dialect_for(zpark::zabbix::Version{major, minor, ""}); };
  BOOST_TEST(d(5, 2).login_user_key == "user");
  BOOST_TEST(!d(5, 2).bearer);
  BOOST_TEST(d(5, 4).login_user_key == "username");
  BOOST_TEST(d(6, 0).login_user_key == "username");
  BOOST_TEST(!d(6, 0).bearer);
  BOOST_TEST(!d(6, 2).bearer);
  BOOST_TEST(d(6, 4).bearer);
  BOOST_TEST(d(7, 0).bearer);
  BOOST_TEST(d(7, 2).bearer);
  BOOST_TEST(d(8, 0).bearer);
}

BOOST_AUTO_TEST_CASE(methods_without_auth) {
  BOOST_TEST(!zpark::zabbix::needs_auth("apiinfo.version"));
  BOOST_TEST(!zpark::zabbix::needs_auth("user.login"));
  BOOST_TEST(!zpark::zabbix::needs_auth("user.checkAuthentication"));
  BOOST_TEST(zpark::zabbix::needs_auth("user.logout"));
  BOOST_TEST(zpark::zabbix::needs_auth("host.get"));
}

BOOST_AUTO_TEST_CASE(request_bodies) {
  json::value params = {{"countOutput", true}};
  auto body = json::parse(zpark::zabbix::request_body("host.get", params, 7, "sess")).as_object();
  BOOST_TEST(body.at("jsonrpc").as_string() == "2.0");
  BOOST_TEST(body.at("method").as_string() == "host.get");
  BOOST_TEST(body.at("params") == params);
  BOOST_TEST(body.at("id").to_number<int>() == 7);
  BOOST_TEST(body.at("auth").as_string() == "sess");

  json::value none = json::array();
  body = json::parse(zpark::zabbix::request_body("apiinfo.version", none, 1)).as_object();
  BOOST_TEST(!body.contains("auth"));
  BOOST_TEST(body.at("params").as_array().empty());
}

BOOST_AUTO_TEST_CASE(answers) {
  using zpark::zabbix::parse_answer;
  const std::string url = "http://zbx.example/zabbix";

  auto ok = parse_answer("apiinfo.version", 200, R"({"jsonrpc":"2.0","result":"6.0.14","id":1})", url);
  BOOST_REQUIRE(ok);
  BOOST_TEST(ok->as_string() == "6.0.14");

  auto rpc = parse_answer("user.login", 200,
                          R"({"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params.",)"
                          R"("data":"Incorrect user name or password or account is temporarily blocked."},"id":1})",
                          url);
  BOOST_REQUIRE(!rpc);
  BOOST_TEST(rpc.error().kind == Kind::rpc);
  BOOST_TEST(rpc.error().rpc_code == -32602);
  BOOST_TEST(rpc.error().zabbix_text == "Incorrect user name or password or account is temporarily blocked.");
  BOOST_TEST(rpc.error().message ==
             "Zabbix API user.login failed: Incorrect user name or password or account is "
             "temporarily blocked. (Invalid params. code -32602)");

  auto message_only = parse_answer("x.y", 200, R"({"error":{"code":-32601,"message":"Method not found."}})", url);
  BOOST_REQUIRE(!message_only);
  BOOST_TEST(message_only.error().message == "Zabbix API x.y failed: Method not found.");

  // An error object wins over a non-200 status.
  auto status_rpc = parse_answer(
      "host.get", 412, R"({"error":{"code":-32700,"message":"Parse error.","data":"bad"}})", url);
  BOOST_REQUIRE(!status_rpc);
  BOOST_TEST(status_rpc.error().kind == Kind::rpc);

  auto not_found = parse_answer("apiinfo.version", 404, "<html><body>Not Found</body></html>", url);
  BOOST_REQUIRE(!not_found);
  BOOST_TEST(not_found.error().kind == Kind::http);
  BOOST_TEST(has(not_found.error().message, "HTTP 404"));
  BOOST_TEST(has(not_found.error().message, "http://zbx.example/zabbix/api_jsonrpc.php"));
  BOOST_TEST(has(not_found.error().message, "ZABBIX_SERVER_URL"));

  auto html = parse_answer("apiinfo.version", 200, "<!DOCTYPE html>\n<html>login page</html>", url);
  BOOST_REQUIRE(!html);
  BOOST_TEST(html.error().kind == Kind::parse);
  BOOST_TEST(has(html.error().message, "'<!DOCTYPE html> <html>login page</html>'"));
  BOOST_TEST(has(html.error().message, "ZABBIX_SERVER_URL"));

  auto empty = parse_answer("apiinfo.version", 200, "", url);
  BOOST_REQUIRE(!empty);
  BOOST_TEST(has(empty.error().message, "an empty body"));

  auto neither = parse_answer("host.get", 200, R"({"jsonrpc":"2.0","id":1})", url);
  BOOST_REQUIRE(!neither);
  BOOST_TEST(neither.error().kind == Kind::parse);

  auto null_result = parse_answer("host.get", 200, R"({"jsonrpc":"2.0","result":null,"id":1})", url);
  BOOST_REQUIRE(null_result);
  BOOST_TEST(null_result->is_null());
}

Error rpc_error(int code, std::string text) {
  Error e;
  e.kind = Kind::rpc;
  e.rpc_code = code;
  e.zabbix_text = std::move(text);
  return e;
}

BOOST_AUTO_TEST_CASE(session_expiry) {
  using zpark::zabbix::is_session_expired;
  BOOST_TEST(is_session_expired(rpc_error(-32602, "Session terminated, re-login, please.")));
  BOOST_TEST(is_session_expired(rpc_error(-32500, "Session terminated, re-login, please.")));
  BOOST_TEST(is_session_expired(rpc_error(-32602, "Not authorized.")));
  BOOST_TEST(is_session_expired(rpc_error(-32602, "Not authorised.")));
  BOOST_TEST(!is_session_expired(rpc_error(-32500, "Not authorized.")));
  BOOST_TEST(!is_session_expired(
      rpc_error(-32602, "Incorrect user name or password or account is temporarily blocked.")));
  BOOST_TEST(!is_session_expired(rpc_error(-32500, "No permissions to referred object or it does not exist!")));
  Error transport = rpc_error(0, "Session terminated, re-login, please.");
  transport.kind = Kind::transport;
  BOOST_TEST(!is_session_expired(transport));
}

BOOST_AUTO_TEST_CASE(frontend_urls) {
  using zpark::zabbix::frontend_url;
  BOOST_TEST(frontend_url("http://h/zabbix") == "http://h/zabbix");
  BOOST_TEST(frontend_url("http://h/zabbix/") == "http://h/zabbix");
  BOOST_TEST(frontend_url("http://h/zabbix/api_jsonrpc.php") == "http://h/zabbix");
  BOOST_TEST(frontend_url("https://h/api_jsonrpc.php") == "https://h");
  BOOST_TEST(frontend_url("https://h:8443/") == "https://h:8443");
}

BOOST_AUTO_TEST_CASE(result_value_throws_the_message) {
  Error e = rpc_error(-32602, "x");
  e.message = "Zabbix API x failed";
  Result<std::string> r = e;
  BOOST_CHECK_EXCEPTION(r.value(), std::runtime_error,
                        [](const std::runtime_error& e) { return std::string(e.what()) == "Zabbix API x failed"; });
}

BOOST_AUTO_TEST_CASE(not_configured) {
  zpark::conf::Settings s;  // no ZABBIX_USERNAME, no ZABBIX_API_TOKEN
  auto check = zpark::app::check_zabbix_blocking(s);
  BOOST_TEST(check.ok);
  BOOST_TEST(check.report == "Zabbix not configured (ZABBIX_USERNAME/ZABBIX_PASSWORD or ZABBIX_API_TOKEN)");
}

BOOST_AUTO_TEST_CASE(options_from_settings) {
  zpark::conf::Settings s;
  s.zabbix_url = "https://z/zabbix";
  s.zabbix_username = "u";
  s.zabbix_password = "p";
  s.zabbix_api_token = "t";
  s.zabbix_tls_verify = false;
  s.zabbix_ca_file = "/ca.pem";
  auto o = zpark::app::zabbix_options(s);
  BOOST_TEST(o.url == "https://z/zabbix");
  BOOST_TEST(o.username == "u");
  BOOST_TEST(o.password == "p");
  BOOST_TEST(o.api_token == "t");
  BOOST_TEST(!o.verify_tls);
  BOOST_TEST(o.ca_file == "/ca.pem");
  BOOST_TEST(o.timeout.count() == 15000);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- a fake Zabbix API -----------------------------------------------------------------------

// What the fake saw of one request.
struct Seen {
  std::string method;
  json::object request;       // the whole JSON-RPC request
  std::string authorization;  // the Authorization header
};

// Answers like a Zabbix frontend of version major.minor: apiinfo.version and user.login refuse
// "auth"; before 6.4 only the "auth" field counts, from 6.4 the Bearer header too, from 7.2
// only the header ("auth" is an unexpected parameter). Sessions are "s1", "s2", ...
struct FakeState {
  int major = 6, minor = 0;
  std::string password = "zabbix";
  std::string token = std::string(64, 'a');
  std::set<std::string> sessions;
  int logins = 0;  // user.login attempts
  int next_session = 1;
  bool hang = false;  // read requests, never answer
  std::vector<Seen> seen;

  bool at_least(int ma, int mi) const { return major > ma || (major == ma && minor >= mi); }

  json::value answer(const http::request<http::string_body>& req) {
    json::object in = json::parse(req.body()).as_object();
    const std::string method(in.at("method").as_string());
    const std::string authorization(req[http::field::authorization]);
    Seen s;
    s.method = method;
    s.request = in;
    s.authorization = authorization;
    seen.push_back(s);
    const json::value id = in.at("id");
    auto ok = [&](json::value result) {
      return json::value{{"jsonrpc", "2.0"}, {"result", result}, {"id", id}};
    };
    auto fail = [&](int code, std::string_view message, std::string_view data) {
      return json::value{{"jsonrpc", "2.0"},
                         {"error", {{"code", code}, {"message", message}, {"data", data}}},
                         {"id", id}};
    };
    const bool auth_field = in.contains("auth");
    const json::object params = in.at("params").is_object() ? in.at("params").as_object() : json::object();
    if (method == "apiinfo.version" || method == "user.login" || method == "user.checkAuthentication") {
      if (auth_field)
        return fail(-32602, "Invalid params.",
                    "The \"" + method + "\" method must be called without the \"auth\" parameter.");
    }
    if (method == "apiinfo.version")
      return ok(json::string(std::to_string(major) + "." + std::to_string(minor) + ".3"));
    if (at_least(7, 2) && auth_field)
      return fail(-32602, "Invalid params.", "Invalid parameter \"/\": unexpected parameter \"auth\".");
    if (method == "user.login") {
      ++logins;
      const char* key = at_least(5, 4) ? "username" : "user";
      const auto* user = params.if_contains(key);
      const auto* pass = params.if_contains("password");
      if (user && *user == "Admin" && pass && pass->is_string() && pass->as_string() == password) {
        const std::string session = "s" + std::to_string(next_session++);
        sessions.insert(session);
        return ok(json::string(session));
      }
      return fail(-32602, "Invalid params.", "Incorrect user name or password or account is temporarily blocked.");
    }
    if (method == "user.checkAuthentication") {
      if (const auto* t = params.if_contains("token"); t && t->is_string() && t->as_string() == token)
        return ok(json::value{{"userid", "1"}, {"username", "Admin"}});
      return fail(-32602, "Invalid params.", "Not authorized.");
    }
    std::string auth;
    if (at_least(6, 4) && authorization.starts_with("Bearer ")) auth = authorization.substr(7);
    else if (auth_field) auth = in.at("auth").as_string();
    if (auth.empty()) return fail(-32602, "Invalid params.", "Not authorized.");
    if (auth.size() == 64 && auth != token) return fail(-32602, "Invalid params.", "Not authorized.");
    if (auth != token && !sessions.contains(auth))
      return fail(-32602, "Invalid params.", "Session terminated, re-login, please.");
    if (method == "user.logout") {
      sessions.erase(auth);
      return ok(true);
    }
    if (method == "host.get") return ok(json::string("3"));
    return fail(-32601, "Method not found.", "Incorrect API \"" + method + "\".");
  }
};

template <class Stream>
asio::awaitable<void> serve(std::shared_ptr<FakeState> fake, Stream& stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (ec) co_return;
    if (fake->hang) {
      co_await sleep_for(1h);
      co_return;
    }
    http::response<http::string_body> res{http::status::ok, 11};
    if (req.target() != "/api_jsonrpc.php" || req.method() != http::verb::post) {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/html");
      res.body() = "<html><body>404 Not Found</body></html>";
    } else if (req[http::field::content_type] != "application/json-rpc") {
      res.result(http::status::precondition_failed);
      res.body() = "wrong content type";
    } else {
      res.set(http::field::content_type, "application/json");
      res.body() = json::serialize(fake->answer(req));
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    if (wec) co_return;
  }
}

asio::awaitable<void> session(std::shared_ptr<FakeState> fake, tcp::socket socket,
                              std::shared_ptr<ssl::context> tls) {
  if (tls) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (!ec) co_await serve(fake, stream);
  } else {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(fake, stream);
  }
}

asio::awaitable<void> accept_loop(std::shared_ptr<FakeState> fake,
                                  std::shared_ptr<tcp::acceptor> acceptor,
                                  std::shared_ptr<ssl::context> tls) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), session(fake, std::move(socket), tls),
                   [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  }
}

std::string certs_dir() {
  const char* dir = std::getenv("ZPARK_TEST_CERTS");
  return dir && std::filesystem::exists(std::string(dir) + "/server.pem") ? dir : "";
}

struct FakeZabbix {
  // require_client_cert: the TLS server asks for a client certificate and refuses the
  // connection without one (a frontend behind mutual TLS).
  FakeZabbix(asio::io_context& io, int major, int minor, bool tls = false, bool require_client_cert = false)
      : state(std::make_shared<FakeState>()),
        acceptor(std::make_shared<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0))) {
    state->major = major;
    state->minor = minor;
    std::shared_ptr<ssl::context> ctx;
    if (tls) {
      ctx = std::make_shared<ssl::context>(
          zpark::net::make_server_tls_context(certs_dir() + "/server.pem", certs_dir() + "/server.key"));
      if (require_client_cert) {
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
        ctx->load_verify_file(certs_dir() + "/ca.pem");
      }
    }
    asio::co_spawn(io, accept_loop(state, acceptor, ctx),
                   [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    url = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(acceptor->local_endpoint().port());
  }
  Options admin(std::string password = "zabbix") const {
    Options o;
    o.url = url;
    o.username = "Admin";
    o.password = std::move(password);
    return o;
  }
  Options with_token(std::string token) const {
    Options o;
    o.url = url;
    o.api_token = std::move(token);
    return o;
  }
  const Seen& last(const std::string& method) const {
    for (auto it = state->seen.rbegin(); it != state->seen.rend(); ++it)
      if (it->method == method) return *it;
    throw std::runtime_error("the fake saw no " + method);
  }

  std::shared_ptr<FakeState> state;
  std::shared_ptr<tcp::acceptor> acceptor;
  std::string url;
};

json::value count_hosts() { return json::value{{"countOutput", true}}; }

// ---- against the fake --------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(fake)

asio::awaitable<void> dialect_6_0(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->admin());
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  BOOST_TEST(r->as_string() == "3");
  BOOST_TEST(fz->state->logins == 1);
  const auto& version = fz->last("apiinfo.version");
  BOOST_TEST(!version.request.contains("auth"));
  BOOST_TEST(version.authorization.empty());
  BOOST_TEST(fz->last("user.login").request.at("params").as_object().contains("username"));
  const auto& get = fz->last("host.get");
  BOOST_TEST(get.request.at("auth").as_string() == "s1");
  BOOST_TEST(get.authorization.empty());
  BOOST_TEST(c.auth() == "s1");
  BOOST_TEST(c.user() == "Admin");

  // A second call reuses the session and the version.
  r = co_await c.call("host.get", params);
  BOOST_REQUIRE(r);
  BOOST_TEST(fz->state->logins == 1);
  BOOST_TEST(fz->state->seen.size() == 4u);

  auto out = co_await c.logout();
  BOOST_TEST(out.has_value());
  BOOST_TEST(fz->state->sessions.empty());
  BOOST_TEST(c.auth().empty());
}

BOOST_AUTO_TEST_CASE(zabbix_6_0_session_in_auth_field) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, dialect_6_0(&fz));
}

asio::awaitable<void> dialect_bearer(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->admin());
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  BOOST_TEST(!fz->last("user.login").request.contains("auth"));
  BOOST_TEST(fz->last("user.login").authorization.empty());
  const auto& get = fz->last("host.get");
  BOOST_TEST(!get.request.contains("auth"));
  BOOST_TEST(get.authorization == "Bearer s1");
  auto out = co_await c.logout();
  BOOST_TEST(out.has_value());
  BOOST_TEST(fz->last("user.logout").authorization == "Bearer s1");
  BOOST_TEST(fz->state->sessions.empty());
}

BOOST_AUTO_TEST_CASE(zabbix_6_4_session_as_bearer) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 4);
  run(io, dialect_bearer(&fz));
}

BOOST_AUTO_TEST_CASE(zabbix_7_2_session_as_bearer_only) {
  asio::io_context io;
  FakeZabbix fz(io, 7, 2);
  run(io, dialect_bearer(&fz));
}

asio::awaitable<void> dialect_5_2(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->admin());
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  const auto& login = fz->last("user.login").request.at("params").as_object();
  BOOST_TEST(login.at("user").as_string() == "Admin");
  BOOST_TEST(!login.contains("username"));
  BOOST_TEST(fz->last("host.get").request.at("auth").as_string() == "s1");
}

BOOST_AUTO_TEST_CASE(zabbix_5_2_login_with_user) {
  asio::io_context io;
  FakeZabbix fz(io, 5, 2);
  run(io, dialect_5_2(&fz));
}

asio::awaitable<void> token_dialect(FakeZabbix* fz) {
  const std::string token = fz->state->token;
  Client c(co_await asio::this_coro::executor, fz->with_token(token));
  BOOST_TEST(c.uses_token());
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  BOOST_TEST(fz->state->logins == 0);
  const auto& get = fz->last("host.get");
  if (fz->state->at_least(6, 4)) {
    BOOST_TEST(get.authorization == "Bearer " + token);
    BOOST_TEST(!get.request.contains("auth"));
  } else {
    BOOST_TEST(get.request.at("auth").as_string() == token);
    BOOST_TEST(get.authorization.empty());
  }
  // login() proves the token and learns its user.
  auto in = co_await c.login();
  BOOST_REQUIRE_MESSAGE(in, in.error().message);
  BOOST_TEST(c.user() == "Admin");
  BOOST_TEST(fz->last("user.checkAuthentication").request.at("params").at("token").as_string() == token);
  BOOST_TEST(!fz->last("user.checkAuthentication").request.contains("auth"));
  auto out = co_await c.logout();  // nothing to do for a token
  BOOST_TEST(out.has_value());
  BOOST_TEST(c.auth() == token);
  BOOST_TEST(fz->state->logins == 0);
}

BOOST_AUTO_TEST_CASE(api_token_in_auth_field_before_6_4) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, token_dialect(&fz));
}

BOOST_AUTO_TEST_CASE(api_token_as_bearer_from_6_4) {
  asio::io_context io;
  FakeZabbix fz(io, 7, 2);
  run(io, token_dialect(&fz));
}

asio::awaitable<void> wrong_token(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->with_token(std::string(64, 'b')));
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::auth);
  BOOST_TEST(has(r.error().message, "Zabbix refused ZABBIX_API_TOKEN: Not authorized."));
  auto in = co_await c.login();
  BOOST_REQUIRE(!in);
  BOOST_TEST(in.error().kind == Kind::auth);
  BOOST_TEST(has(in.error().message, "ZABBIX_API_TOKEN"));
  BOOST_TEST(fz->state->logins == 0);  // no user.login with a token
}

BOOST_AUTO_TEST_CASE(wrong_api_token) {
  asio::io_context io;
  FakeZabbix fz(io, 7, 0);
  run(io, wrong_token(&fz));
}

// Runs `n` calls of host.get at once; returns how many succeeded, and the errors.
asio::awaitable<std::vector<Result<json::value>>> concurrent_calls(Client* c, int n) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer all_done(ex, 30s);
  std::vector<Result<json::value>> results(n);
  int done = 0;
  for (int i = 0; i < n; ++i) {
    auto call = c->call("host.get", count_hosts());
    asio::co_spawn(ex, std::move(call), [&, i](std::exception_ptr e, Result<json::value> r) {
      if (e) std::rethrow_exception(e);
      results[i] = std::move(r);
      if (++done == n) all_done.cancel();
    });
  }
  co_await all_done.async_wait(use_tuple);
  BOOST_REQUIRE_EQUAL(done, n);
  co_return results;
}

asio::awaitable<void> expiry(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->admin());
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE(r);
  BOOST_TEST(c.auth() == "s1");

  // The server forgets the session: the next call logs in again and is sent again, once.
  fz->state->sessions.clear();
  r = co_await c.call("host.get", params);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  BOOST_TEST(c.auth() == "s2");
  BOOST_TEST(fz->state->logins == 2);

  // Five calls see the expiry together: one login serves them all.
  fz->state->sessions.clear();
  auto results = co_await concurrent_calls(&c, 5);
  for (auto& one : results) BOOST_TEST(one.has_value());
  BOOST_TEST(fz->state->logins == 3);
  BOOST_TEST(c.auth() == "s3");
}

BOOST_AUTO_TEST_CASE(expired_session_is_renewed_once) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, expiry(&fz));
}

asio::awaitable<void> wrong_password(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->admin("nope"));
  auto results = co_await concurrent_calls(&c, 4);
  for (auto& one : results) {
    BOOST_REQUIRE(!one);
    BOOST_TEST(one.error().kind == Kind::auth);
    BOOST_TEST(one.error().message ==
               "Zabbix login failed: Incorrect user name or password or account is temporarily "
               "blocked. (check ZABBIX_USERNAME/ZABBIX_PASSWORD)");
  }
  // One attempt, not one per call: Zabbix blocks the account after a few.
  BOOST_TEST(fz->state->logins == 1);
}

BOOST_AUTO_TEST_CASE(wrong_password_is_tried_once) {
  asio::io_context io;
  FakeZabbix fz(io, 7, 2);
  run(io, wrong_password(&fz));
}

asio::awaitable<void> no_renewal_loop(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->admin());
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE(r);
  // Every session dies at once: one renewal, one resend, then the error comes back.
  fz->state->password = "changed";
  fz->state->sessions.clear();
  r = co_await c.call("host.get", params);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::auth);
  BOOST_TEST(fz->state->logins == 2);
}

BOOST_AUTO_TEST_CASE(renewal_failure_is_reported) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, no_renewal_loop(&fz));
}

asio::awaitable<void> rpc_errors(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->admin());
  json::value params = json::object();
  auto r = co_await c.call("nosuch.get", params);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::rpc);
  BOOST_TEST(r.error().message ==
             "Zabbix API nosuch.get failed: Incorrect API \"nosuch.get\". (Method not found. code "
             "-32601)");
}

BOOST_AUTO_TEST_CASE(api_errors_carry_zabbix_text) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, rpc_errors(&fz));
}

asio::awaitable<void> urls(FakeZabbix* fz) {
  auto ex = co_await asio::this_coro::executor;
  Options pasted = fz->admin();
  pasted.url = fz->url + "/api_jsonrpc.php";
  Client a(ex, pasted);
  BOOST_TEST(a.url() == fz->url);
  auto v = co_await a.version();
  BOOST_REQUIRE_MESSAGE(v, v.error().message);
  BOOST_TEST(*v == "6.0.3");

  Options wrong = fz->admin();
  wrong.url = fz->url + "/zabbix";
  Client b(ex, wrong);
  v = co_await b.version();
  BOOST_REQUIRE(!v);
  BOOST_TEST(v.error().kind == Kind::http);
  BOOST_TEST(has(v.error().message, "HTTP 404"));
  BOOST_TEST(has(v.error().message, fz->url + "/zabbix/api_jsonrpc.php"));
  BOOST_TEST(has(v.error().message, "ZABBIX_SERVER_URL"));
}

BOOST_AUTO_TEST_CASE(url_with_api_path_and_wrong_url) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, urls(&fz));
}

asio::awaitable<void> timeout(FakeZabbix* fz) {
  Options o = fz->admin();
  o.timeout = 300ms;
  Client c(co_await asio::this_coro::executor, o);
  fz->state->hang = true;
  const auto t0 = std::chrono::steady_clock::now();
  auto v = co_await c.version();
  BOOST_REQUIRE(!v);
  BOOST_TEST(v.error().kind == Kind::transport);
  BOOST_TEST(has(v.error().message, "timed out"));
  BOOST_TEST(has(v.error().message, "ZABBIX_SERVER_URL=" + fz->url));
  BOOST_CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

BOOST_AUTO_TEST_CASE(calls_time_out) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, timeout(&fz));
}

asio::awaitable<void> unreachable() {
  Options o;
  o.url = "http://127.0.0.1:1";
  o.username = "Admin";
  o.password = "zabbix";
  Client c(co_await asio::this_coro::executor, o);
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::transport);
  BOOST_TEST_MESSAGE("unreachable: " << r.error().message);
  BOOST_TEST(has(r.error().message, "ZABBIX_SERVER_URL=http://127.0.0.1:1"));
  BOOST_TEST(has(r.error().message, "connection refused"));
}

BOOST_AUTO_TEST_CASE(unreachable_url) {
  asio::io_context io;
  run(io, unreachable());
}

asio::awaitable<void> bad_settings() {
  auto ex = co_await asio::this_coro::executor;
  Options bad_url;
  bad_url.url = "ftp://zabbix.example";
  Client a(ex, bad_url);
  auto v = co_await a.version();
  BOOST_REQUIRE(!v);
  BOOST_TEST(v.error().kind == Kind::config);
  BOOST_TEST(has(v.error().message, "ZABBIX_SERVER_URL"));

  Options bad_ca;
  bad_ca.url = "https://127.0.0.1:1";
  bad_ca.ca_file = "/nonexistent/zabbix-ca.pem";
  Client b(ex, bad_ca);
  auto in = co_await b.login();
  BOOST_REQUIRE(!in);
  BOOST_TEST(in.error().kind == Kind::config);
  BOOST_TEST(has(in.error().message, "ZABBIX_CA_FILE"));
  BOOST_TEST(has(in.error().message, "/nonexistent/zabbix-ca.pem"));

  // Told apart by the HTTP client's error kind, not by words in its text: a CA file whose
  // path holds "URL" is still the CA file's problem.
  Options url_in_path;
  url_in_path.url = "https://127.0.0.1:1";
  url_in_path.ca_file = "/nonexistent/URL/zabbix-ca.pem";
  Client c(ex, url_in_path);
  auto again = co_await c.version();
  BOOST_REQUIRE(!again);
  BOOST_TEST(again.error().kind == Kind::config);
  BOOST_TEST(again.error().message.starts_with("ZABBIX_CA_FILE is not usable: "), again.error().message);
  BOOST_TEST(has(again.error().message, "/nonexistent/URL/zabbix-ca.pem"));
  // And a URL whose text does not say "URL" is still the URL's problem.
  Options no_host;
  no_host.url = "http:///zabbix";
  Client d(ex, no_host);
  auto v2 = co_await d.version();
  BOOST_REQUIRE(!v2);
  BOOST_TEST(v2.error().kind == Kind::config);
  BOOST_TEST(v2.error().message.starts_with("ZABBIX_SERVER_URL is not usable: "), v2.error().message);
}

BOOST_AUTO_TEST_CASE(bad_url_and_ca_file) {
  asio::io_context io;
  run(io, bad_settings());
}

asio::awaitable<void> closed_client(FakeZabbix* fz) {
  Client c(co_await asio::this_coro::executor, fz->admin());
  c.close();
  auto v = co_await c.version();
  BOOST_REQUIRE(!v);
  BOOST_TEST(v.error().kind == Kind::transport);
}

BOOST_AUTO_TEST_CASE(closed_client_fails_calls) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, closed_client(&fz));
}

asio::awaitable<void> checks(FakeZabbix* fz) {
  zpark::conf::Settings s;
  s.zabbix_url = fz->url;
  s.zabbix_username = "Admin";
  s.zabbix_password = "zabbix";
  auto check = co_await zpark::app::check_zabbix(s);
  BOOST_TEST(check.ok);
  BOOST_TEST(check.report == "Zabbix 7.2.3 at " + fz->url + ": login OK as Admin");
  BOOST_TEST(fz->state->sessions.empty());  // logged out again

  s.zabbix_password = "wrong";
  check = co_await zpark::app::check_zabbix(s);
  BOOST_TEST(!check.ok);
  BOOST_TEST(check.report ==
             "Zabbix login failed: Incorrect user name or password or account is temporarily "
             "blocked. (check ZABBIX_USERNAME/ZABBIX_PASSWORD)");

  s.zabbix_username.clear();
  s.zabbix_password.clear();
  s.zabbix_api_token = fz->state->token;
  check = co_await zpark::app::check_zabbix(s);
  BOOST_TEST(check.ok);
  BOOST_TEST(check.report == "Zabbix 7.2.3 at " + fz->url + ": API token OK (user Admin)");

  s.zabbix_api_token = std::string(64, 'c');
  check = co_await zpark::app::check_zabbix(s);
  BOOST_TEST(!check.ok);
  BOOST_TEST(has(check.report, "ZABBIX_API_TOKEN"));

  s.zabbix_url = "http://127.0.0.1:1/zabbix";
  check = co_await zpark::app::check_zabbix(s);
  BOOST_TEST(!check.ok);
  BOOST_TEST(has(check.report, "ZABBIX_SERVER_URL=http://127.0.0.1:1/zabbix"));
}

BOOST_AUTO_TEST_CASE(check_zabbix_reports) {
  asio::io_context io;
  FakeZabbix fz(io, 7, 2);
  run(io, checks(&fz));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- TLS (certificates from make_certs.sh, ctest fixture "certs") -----------------------------

boost::test_tools::assertion_result have_certs(utf::test_unit_id) {
  if (!certs_dir().empty()) return boost::test_tools::assertion_result(true);
  BOOST_TEST_MESSAGE("ZPARK_TEST_CERTS is not set (ctest sets it): TLS cases skipped");
  boost::test_tools::assertion_result r(false);
  r.message() << "ZPARK_TEST_CERTS is not set";
  return r;
}

BOOST_AUTO_TEST_SUITE(tls, *utf::precondition(have_certs))

asio::awaitable<void> tls_cases(FakeZabbix* fz) {
  auto ex = co_await asio::this_coro::executor;
  Options untrusted = fz->admin();
  Client a(ex, untrusted);
  auto v = co_await a.version();
  BOOST_REQUIRE(!v);
  BOOST_TEST(v.error().kind == Kind::transport);
  BOOST_TEST_MESSAGE("untrusted: " << v.error().message);
  BOOST_TEST(has(v.error().message, "ZABBIX_SERVER_URL=" + fz->url));
  BOOST_TEST(has(v.error().message, "ZABBIX_CA_FILE"));
  BOOST_TEST(has(v.error().message, "ZABBIX_TLS_CERT_VERIFY=false"));

  Options with_ca = fz->admin();
  with_ca.ca_file = certs_dir() + "/ca.pem";
  Client b(ex, with_ca);
  auto params = count_hosts();
  auto r = co_await b.call("host.get", params);
  BOOST_TEST(r.has_value());

  Options unchecked = fz->admin();
  unchecked.verify_tls = false;
  Client c(ex, unchecked);
  r = co_await c.call("host.get", params);
  BOOST_TEST(r.has_value());

  Options wrong_ca = fz->admin();
  wrong_ca.ca_file = certs_dir() + "/wrong-ca.pem";
  Client d(ex, wrong_ca);
  v = co_await d.version();
  BOOST_REQUIRE(!v);
  BOOST_TEST(has(v.error().message, "ZABBIX_TLS_CERT_VERIFY=false"));
}

BOOST_AUTO_TEST_CASE(certificate_checks) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0, true);
  run(io, tls_cases(&fz));
}

asio::awaitable<void> https_to_http(FakeZabbix* fz) {
  Options o = fz->admin();
  o.url = "https" + fz->url.substr(4);  // the fake speaks plain HTTP
  Client c(co_await asio::this_coro::executor, o);
  auto v = co_await c.version();
  BOOST_REQUIRE(!v);
  BOOST_TEST(v.error().kind == Kind::transport);
  BOOST_TEST_MESSAGE("https to http: " << v.error().message);
  BOOST_TEST(has(v.error().message, "ZABBIX_SERVER_URL=" + o.url));
}

// A server that wants a client certificate: turning certificate checks off would not help, so
// the error does not suggest ZABBIX_TLS_CERT_VERIFY=false (it only follows a failed check of
// the server's certificate, whatever words the TLS error holds).
asio::awaitable<void> client_cert_required(FakeZabbix* fz) {
  Options o = fz->admin();
  o.ca_file = certs_dir() + "/ca.pem";
  Client c(co_await asio::this_coro::executor, o);
  auto v = co_await c.version();
  BOOST_REQUIRE(!v);
  BOOST_TEST(v.error().kind == Kind::transport);
  BOOST_TEST_MESSAGE("client certificate required: " << v.error().message);
  BOOST_TEST(has(v.error().message, "ZABBIX_SERVER_URL=" + fz->url));
  BOOST_TEST(has(v.error().message, "certificate"));  // OpenSSL's alert text
  BOOST_TEST(!has(v.error().message, "ZABBIX_TLS_CERT_VERIFY"));
}

BOOST_AUTO_TEST_CASE(client_certificate_required_is_not_a_certificate_check_failure) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0, true, true);
  run(io, client_cert_required(&fz));
}

BOOST_AUTO_TEST_CASE(https_url_to_plain_server) {
  asio::io_context io;
  FakeZabbix fz(io, 6, 0);
  run(io, https_to_http(&fz));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the real Zabbix 6.0 lab --------------------------------------------------------------------

// ZABBIX_URL from the environment, else from the lab's env file: $ZPARK_ZABBIX_LAB_ENV or the
// one the ctest fixture writes (ZABBIX_LAB_ENV, compiled in).
std::string lab_url() {
  return zpark::test::lab_value(zpark::test::read_lab_env(ZABBIX_LAB_ENV, {"ZABBIX_URL"}), "ZABBIX_URL");
}

boost::test_tools::assertion_result have_lab(utf::test_unit_id) {
  if (!lab_url().empty()) return boost::test_tools::assertion_result(true);
  BOOST_TEST_MESSAGE("no Zabbix lab (" << ZABBIX_LAB_ENV
                                       << " absent; run test/zabbix/lab.sh start or set ZABBIX_URL): "
                                          "real-server cases skipped");
  boost::test_tools::assertion_result r(false);
  r.message() << "no Zabbix lab env file " << ZABBIX_LAB_ENV;
  return r;
}

Options lab_admin(std::string password = "zabbix") {
  Options o;
  o.url = lab_url();
  o.username = "Admin";
  o.password = std::move(password);
  return o;
}

BOOST_AUTO_TEST_SUITE(lab, *utf::precondition(have_lab))

// First, while no successful login has reset Admin's failed-attempt counter in this run.
asio::awaitable<void> lab_wrong_password() {
  Client c(co_await asio::this_coro::executor, lab_admin("not-the-password"));
  auto in = co_await c.login();
  BOOST_REQUIRE(!in);
  BOOST_TEST(in.error().kind == Kind::auth);
  BOOST_TEST(in.error().message ==
             "Zabbix login failed: Incorrect user name or password or account is temporarily "
             "blocked. (check ZABBIX_USERNAME/ZABBIX_PASSWORD)");
}

BOOST_AUTO_TEST_CASE(wrong_password) {
  asio::io_context io;
  run(io, lab_wrong_password());
}

asio::awaitable<void> lab_login() {
  Client c(co_await asio::this_coro::executor, lab_admin());
  auto v = co_await c.version();
  BOOST_REQUIRE_MESSAGE(v, v.error().message);
  BOOST_TEST_MESSAGE("lab Zabbix " << *v << " at " << c.url());
  BOOST_TEST(v->starts_with("6.0."));
  auto in = co_await c.login();
  BOOST_REQUIRE_MESSAGE(in, in.error().message);
  BOOST_TEST(c.auth().size() == 32u);
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  BOOST_TEST(r->is_string());  // countOutput answers a number as a string

  json::value bad = {{"nosuchparameter", 1}};
  r = co_await c.call("token.get", bad);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::rpc);
  BOOST_TEST_MESSAGE("bad parameter: " << r.error().message);
  BOOST_TEST(r.error().message ==
             "Zabbix API token.get failed: Invalid parameter \"/\": unexpected parameter "
             "\"nosuchparameter\". (Invalid params. code -32602)");

  auto out = co_await c.logout();
  BOOST_TEST(out.has_value());
}

BOOST_AUTO_TEST_CASE(login_and_call) {
  asio::io_context io;
  run(io, lab_login());
}

asio::awaitable<void> lab_expiry() {
  Client c(co_await asio::this_coro::executor, lab_admin());
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  const std::string first = c.auth();

  // End the session behind the client's back, as an expiry would.
  json::value none = json::array();
  auto bye = co_await c.raw_call("user.logout", none, first);
  BOOST_REQUIRE_MESSAGE(bye, bye.error().message);
  auto stale = co_await c.raw_call("host.get", params, first);
  BOOST_REQUIRE(!stale);
  BOOST_TEST_MESSAGE("stale session: " << stale.error().message);
  BOOST_TEST(zpark::zabbix::is_session_expired(stale.error()));

  r = co_await c.call("host.get", params);
  BOOST_REQUIRE_MESSAGE(r, r.error().message);
  BOOST_TEST(!c.auth().empty());
  BOOST_TEST(c.auth() != first);
  auto out = co_await c.logout();
  BOOST_TEST(out.has_value());
}

BOOST_AUTO_TEST_CASE(expired_session_is_renewed) {
  asio::io_context io;
  run(io, lab_expiry());
}

asio::awaitable<void> lab_token() {
  auto ex = co_await asio::this_coro::executor;
  Client admin(ex, lab_admin());
  json::value create = {{"name", "zpark-client-test-" + std::to_string(::getpid())}, {"userid", "1"}};
  auto created = co_await admin.call("token.create", create);
  BOOST_REQUIRE_MESSAGE(created, created.error().message);
  const json::value tokenids = created->at("tokenids");
  auto generated = co_await admin.call("token.generate", tokenids);
  BOOST_REQUIRE_MESSAGE(generated, generated.error().message);
  const std::string token(generated->at(0).at("token").as_string());
  BOOST_TEST(token.size() == 64u);

  Options o;
  o.url = lab_url();
  o.api_token = token;
  Client c(ex, o);
  auto params = count_hosts();
  auto r = co_await c.call("host.get", params);
  BOOST_CHECK_MESSAGE(r, (r ? "" : r.error().message));
  auto in = co_await c.login();
  BOOST_CHECK_MESSAGE(in, (in ? "" : in.error().message));
  BOOST_TEST(c.user() == "Admin");

  // check_zabbix with the token.
  zpark::conf::Settings s;
  s.zabbix_url = lab_url();
  s.zabbix_api_token = token;
  auto check = co_await zpark::app::check_zabbix(s);
  BOOST_TEST_MESSAGE("check: " << check.report);
  BOOST_TEST(check.ok);
  BOOST_TEST(has(check.report, ": API token OK (user Admin)"));

  auto deleted = co_await admin.call("token.delete", tokenids);
  BOOST_CHECK_MESSAGE(deleted, (deleted ? "" : deleted.error().message));

  // The deleted token is refused with a clear error, and never causes a user.login.
  r = co_await c.call("host.get", params);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().kind == Kind::auth);
  BOOST_TEST_MESSAGE("deleted token: " << r.error().message);
  BOOST_TEST(has(r.error().message, "Zabbix refused ZABBIX_API_TOKEN: Not authorized."));
  auto out = co_await admin.logout();
  BOOST_TEST(out.has_value());
}

BOOST_AUTO_TEST_CASE(api_token) {
  asio::io_context io;
  run(io, lab_token());
}

asio::awaitable<void> lab_check() {
  zpark::conf::Settings s;
  s.zabbix_url = lab_url();
  s.zabbix_username = "Admin";
  s.zabbix_password = "zabbix";
  auto check = co_await zpark::app::check_zabbix(s);
  BOOST_TEST_MESSAGE("check: " << check.report);
  BOOST_TEST(check.ok);
  BOOST_TEST(check.report.starts_with("Zabbix 6.0."));
  BOOST_TEST(has(check.report, " at " + lab_url() + ": login OK as Admin"));
}

BOOST_AUTO_TEST_CASE(check_zabbix_login) {
  asio::io_context io;
  run(io, lab_check());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
