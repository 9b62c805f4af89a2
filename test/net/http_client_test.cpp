// HttpClient against tiny in-test Beast servers (plain and TLS) on loopback port 0.
// Everything runs on one io_context; each test is bounded by run_test()'s time limit.
// Note (GCC bug 107288): RequestSpec is an aggregate, so it is always built in its own
// statement and moved into request(), never written as a temporary inside co_await.
#define BOOST_TEST_MODULE http_client_test
#include <boost/test/unit_test.hpp>

#include "net/http_client.hpp"
#include "net/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace zpark::net {
// For Boost.Test's messages.
std::ostream& operator<<(std::ostream& os, ErrorKind kind) { return os << to_string(kind); }
}  // namespace zpark::net

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;
using zpark::net::ClientOptions;
using zpark::net::ConfigError;
using zpark::net::ErrorKind;
using zpark::net::HttpClient;
using zpark::net::RequestSpec;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// ---- certificates -------------------------------------------------------------------------

std::string certs_dir() {
  static const std::string dir = [] {
    if (const char* env = std::getenv("ZPARK_TEST_CERTS")) {
      if (std::filesystem::exists(std::string(env) + "/server.pem")) return std::string(env);
    }
    throw std::runtime_error(
        "ZPARK_TEST_CERTS must name a directory made by test/support/make_certs.sh (ctest sets it)");
  }();
  return dir;
}

std::string cert(const std::string& name) { return certs_dir() + "/" + name; }

// A certificate signed by the test CA for "other.example" only: the host-name check must
// reject it when we connect to "localhost". Made once per run in a private temp dir.
std::string other_name_cert_dir() {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("zpark-http-client-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    const std::string s = d.string();
    const std::string cmd =
        "cd '" + s + "' && openssl req -newkey rsa:2048 -nodes -subj /CN=other.example "
        "-keyout other.key -out other.csr 2>/dev/null && "
        "printf 'subjectAltName=DNS:other.example\\n' > other.ext && "
        "openssl x509 -req -in other.csr -CA '" + cert("ca.pem") + "' -CAkey '" + cert("ca.key") +
        "' -CAcreateserial -CAserial other.srl -days 2 -extfile other.ext -out other.pem 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed: " + cmd);
    return s;
  }();
  return dir;
}

// ---- test server --------------------------------------------------------------------------

enum class Mode {
  answer,             // keep-alive answers
  drop_after_answer,  // answer with keep-alive, then close the socket silently (idle close)
  hang,               // read the request, never answer
};

// Knobs and what the server saw. Targets: "/status/N" answers N, "/close" answers with
// Connection: close, "/http10" answers HTTP/1.0, "/big" sends 9 MiB.
struct ServerState {
  Mode mode = Mode::answer;
  std::chrono::milliseconds delay{0};
  int connections = 0;
  int open = 0;
  int max_open = 0;
  std::vector<std::string> targets;  // arrival order
  std::vector<std::string> sni;      // per TLS connection, "" when the client sent none
  std::string last_host;
};

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_tuple);
}

std::string echo_body(const http::request<http::string_body>& req) {
  return std::string(req.method_string()) + " " + std::string(req.target()) +
         "\nhost=" + std::string(req[http::field::host]) +
         "\nua=" + std::string(req[http::field::user_agent]) +
         "\nct=" + std::string(req[http::field::content_type]) +
         "\nx=" + std::string(req["X-Test"]) + "\n" + req.body();
}

template <class Stream>
asio::awaitable<void> serve(std::shared_ptr<ServerState> s, Stream& stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (ec) co_return;
    s->targets.emplace_back(req.target());
    s->last_host = std::string(req[http::field::host]);
    if (s->mode == Mode::hang) {
      co_await sleep_for(1h);
      co_return;
    }
    if (s->delay.count() > 0) co_await sleep_for(s->delay);

    const std::string target(req.target());
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = echo_body(req);
    bool close = s->mode == Mode::drop_after_answer;
    if (auto at = target.rfind("/status/"); at != std::string::npos) {
      res.result(std::stoi(target.substr(at + 8)));
    }
    if (target == "/big") res.body() = std::string(9 * 1024 * 1024, 'b');
    if (target == "/http10") res.version(10);
    res.keep_alive(target != "/close" && target != "/http10");
    if (!res.keep_alive()) close = true;
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    if (wec || close) co_return;
  }
}

asio::awaitable<void> session(std::shared_ptr<ServerState> s, tcp::socket socket,
                              ssl::context* tls) {
  ++s->connections;
  s->max_open = std::max(s->max_open, ++s->open);
  if (tls) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (!ec) {
      const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      s->sni.emplace_back(name ? name : "");
      co_await serve(s, stream);
    }
  } else {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(s, stream);
  }
  --s->open;
}

asio::awaitable<void> accept_loop(std::shared_ptr<ServerState> s,
                                  std::shared_ptr<tcp::acceptor> acceptor,
                                  std::shared_ptr<ssl::context> tls) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), session(s, std::move(socket), tls.get()),
                   [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  }
}

struct TestServer {
  // cert_prefix: "" for plain HTTP, else a path prefix for <prefix>.pem/<prefix>.key.
  TestServer(asio::any_io_executor ex, const std::string& cert_prefix = "",
             const std::string& address = "127.0.0.1")
      : state(std::make_shared<ServerState>()),
        acceptor(std::make_shared<tcp::acceptor>(
            ex, tcp::endpoint(asio::ip::make_address(address), 0))) {
    std::shared_ptr<ssl::context> tls;
    if (!cert_prefix.empty()) {
      tls = std::make_shared<ssl::context>(zpark::net::make_server_tls_context(
          cert_prefix + ".pem", cert_prefix + ".key"));
    }
    asio::co_spawn(ex, accept_loop(state, acceptor, tls),
                   [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    scheme = tls ? "https" : "http";
  }
  ~TestServer() { acceptor->close(); }

  unsigned short port() const { return acceptor->local_endpoint().port(); }
  std::string url(const std::string& host = "127.0.0.1", const std::string& path = "") const {
    return scheme + "://" + host + ":" + std::to_string(port()) + path;
  }

  std::shared_ptr<ServerState> state;
  std::shared_ptr<tcp::acceptor> acceptor;
  std::string scheme;
};

// ---- harness ------------------------------------------------------------------------------

// Runs one test coroutine on a fresh io_context, bounded in time; rethrows its failure.
void run_test(std::function<asio::awaitable<void>(asio::any_io_executor)> body) {
  asio::io_context ioc;
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(ioc, body(ioc.get_executor()), [&](std::exception_ptr e) {
    done = true;
    failure = e;
    ioc.stop();  // test servers and clients' background work end with the io_context
  });
  ioc.run_for(30s);
  BOOST_REQUIRE_MESSAGE(done, "test did not finish within 30 s");
  if (failure) std::rethrow_exception(failure);
}

ClientOptions options(const std::string& url) {
  ClientOptions o;
  o.base_url = url;
  o.ca_file = cert("ca.pem");
  o.connect_timeout = 3s;
  o.request_timeout = 5s;
  return o;
}

RequestSpec get(const std::string& target) {
  RequestSpec spec;
  spec.method = http::verb::get;
  spec.target = target;
  return spec;
}

asio::awaitable<boost::system::result<zpark::net::Response>> fetch(HttpClient& client,
                                                                   std::string target) {
  auto spec = get(target);
  co_return co_await client.request(std::move(spec));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// GET and POST against a server, checking what it saw. Shared by the http and https tests.
asio::awaitable<void> check_get_and_post(HttpClient& client, TestServer& server,
                                         const std::string& host_header) {
  auto r = co_await fetch(client, "/api_jsonrpc.php?x=1");
  BOOST_REQUIRE_MESSAGE(r, client.describe(r.error()));
  BOOST_TEST(r->result_int() == 200);
  BOOST_TEST(r->body().starts_with("GET /zabbix/api_jsonrpc.php?x=1\n"));
  BOOST_TEST(contains(r->body(), "\nhost=" + host_header + "\n"));
  BOOST_TEST(contains(r->body(), "\nua=zpark\n"));

  RequestSpec post;
  post.method = http::verb::post;
  post.target = "/api_jsonrpc.php";
  post.body = R"({"jsonrpc":"2.0","method":"apiinfo.version","id":1})";
  post.headers.emplace_back("X-Test", "yes");
  auto p = co_await client.request(std::move(post));
  BOOST_REQUIRE_MESSAGE(p, client.describe(p.error()));
  BOOST_TEST(p->body().starts_with("POST /zabbix/api_jsonrpc.php\n"));
  BOOST_TEST(contains(p->body(), "\nct=application/json\n"));
  BOOST_TEST(contains(p->body(), "\nx=yes\n"));
  BOOST_TEST(contains(p->body(), R"({"jsonrpc":"2.0","method":"apiinfo.version","id":1})"));

  // HTTP error statuses are plain responses.
  auto nf = co_await fetch(client, "/status/404");
  BOOST_REQUIRE(nf);
  BOOST_TEST(nf->result_int() == 404);
  BOOST_TEST(server.state->targets.back() == "/zabbix/status/404");
}

}  // namespace

BOOST_AUTO_TEST_CASE(get_and_post_over_http_keep_base_path) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex);
    HttpClient client(ex, options(server.url("127.0.0.1", "/zabbix/")));
    co_await check_get_and_post(client, server, "127.0.0.1:" + std::to_string(server.port()));
    BOOST_TEST(client.stats().connects == 1u);
    BOOST_TEST(client.stats().tls_handshakes == 0u);
    BOOST_TEST(client.origin() == "127.0.0.1:" + std::to_string(server.port()));
  });
}

BOOST_AUTO_TEST_CASE(get_and_post_over_https) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex, cert("server"));
    HttpClient client(ex, options(server.url("127.0.0.1", "/zabbix")));
    co_await check_get_and_post(client, server, "127.0.0.1:" + std::to_string(server.port()));
    BOOST_TEST(client.stats().tls_handshakes == 1u);
    BOOST_REQUIRE(server.state->sni.size() == 1u);
    BOOST_TEST(server.state->sni[0] == "");  // no SNI for an IP address (RFC 6066)
  });
}

BOOST_AUTO_TEST_CASE(https_by_name_sends_sni_and_checks_name) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex, cert("server"));
    HttpClient client(ex, options(server.url("localhost")));
    auto r = co_await fetch(client, "/");
    BOOST_REQUIRE_MESSAGE(r, client.describe(r.error()));
    BOOST_REQUIRE(server.state->sni.size() == 1u);
    BOOST_TEST(server.state->sni[0] == "localhost");
    BOOST_TEST(server.state->last_host == "localhost:" + std::to_string(server.port()));
  });
}

BOOST_AUTO_TEST_CASE(keep_alive_reuses_one_connection) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex, cert("server"));
    HttpClient client(ex, options(server.url()));
    for (int i = 0; i < 20; ++i) {
      auto r = co_await fetch(client, "/n/" + std::to_string(i));
      BOOST_REQUIRE_MESSAGE(r, client.describe(r.error()));
    }
    const auto st = client.stats();
    BOOST_TEST(st.connects == 1u);
    BOOST_TEST(st.tls_handshakes == 1u);
    BOOST_TEST(st.requests == 20u);
    BOOST_TEST(st.reused == 19u);
    BOOST_TEST(server.state->connections == 1);
  });
}

BOOST_AUTO_TEST_CASE(pool_size_limits_connections_in_fifo_order) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex);
    server.state->delay = 30ms;
    auto opts = options(server.url());
    opts.pool_size = 2;
    HttpClient client(ex, opts);

    constexpr int n = 10;
    std::vector<int> status(n, 0);
    int finished = 0;
    asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
    for (int i = 0; i < n; ++i) {
      // The spawned coroutines use this frame's locals: it waits for all of them below.
      auto one = [&client, &status, &finished, &all_done, i]() -> asio::awaitable<void> {
        auto r = co_await fetch(client, "/r/" + std::to_string(i));
        status[i] = r ? r->result_int() : -1;
        if (++finished == n) all_done.cancel();
      };
      asio::co_spawn(ex, one, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    }
    co_await all_done.async_wait(use_tuple);

    BOOST_TEST(finished == n);
    BOOST_TEST(std::count(status.begin(), status.end(), 200) == n);
    BOOST_TEST(server.state->max_open <= 2);
    BOOST_TEST(client.stats().connects == 2u);
    // FIFO: with two connections, request i reaches the server at most one place off.
    const auto& seen = server.state->targets;
    BOOST_REQUIRE(seen.size() == std::size_t(n));
    for (int pos = 0; pos < n; ++pos) {
      const int i = std::stoi(seen[pos].substr(3));
      BOOST_TEST(std::abs(i - pos) <= 1, "request " << i << " arrived at position " << pos);
    }
  });
}

BOOST_AUTO_TEST_CASE(server_closing_idle_connection_is_transparent) {
  for (bool tls : {false, true}) {
    BOOST_TEST_CONTEXT("tls=" << tls) {
      run_test([tls](asio::any_io_executor ex) -> asio::awaitable<void> {
        TestServer server(ex, tls ? cert("server") : "");
        server.state->mode = Mode::drop_after_answer;
        HttpClient client(ex, options(server.url()));
        for (int i = 0; i < 3; ++i) {
          auto r = co_await fetch(client, "/x");
          BOOST_REQUIRE_MESSAGE(r, client.describe(r.error()));
          co_await sleep_for(20ms);  // let the server's close arrive (either order must work)
        }
        BOOST_TEST(client.stats().connects == 3u);
        BOOST_TEST(client.stats().retries == 2u);
        BOOST_TEST(server.state->targets.size() == 3u);  // each request reached it once
      });
    }
  }
}

BOOST_AUTO_TEST_CASE(connection_close_and_http10_are_not_reused) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex, cert("server"));
    HttpClient client(ex, options(server.url()));
    for (const char* target : {"/close", "/http10", "/x"}) {
      auto r = co_await fetch(client, target);
      BOOST_REQUIRE_MESSAGE(r, client.describe(r.error()));
    }
    BOOST_TEST(client.stats().connects == 3u);
    BOOST_TEST(client.stats().reused == 0u);
    BOOST_TEST(client.stats().retries == 0u);
  });
}

BOOST_AUTO_TEST_CASE(wrong_ca_is_rejected_with_clear_text) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex, cert("wrong-server"));
    auto opts = options(server.url());
    opts.tls_hint = "set WEBEX_CA_FILE";
    HttpClient client(ex, opts);
    auto r = co_await fetch(client, "/");
    BOOST_REQUIRE(!r);
    BOOST_TEST((r.error().category() == asio::error::get_ssl_category()));
    BOOST_TEST(client.kind(r.error()) == ErrorKind::certificate_untrusted);
    const auto text = client.describe(r.error());
    BOOST_TEST_MESSAGE(text);
    BOOST_TEST(contains(text, "certificate verify failed"));
    BOOST_TEST(contains(text, "127.0.0.1:" + std::to_string(server.port())));
    BOOST_TEST(contains(text, "set WEBEX_CA_FILE"));
    BOOST_TEST(server.state->targets.empty());
  });
}

BOOST_AUTO_TEST_CASE(verify_peer_false_accepts_unknown_ca) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex, cert("wrong-server"));
    auto opts = options(server.url("localhost"));
    opts.ca_file.clear();
    opts.verify_peer = false;
    HttpClient client(ex, opts);
    auto r = co_await fetch(client, "/");
    BOOST_REQUIRE_MESSAGE(r, client.describe(r.error()));
    BOOST_TEST(r->result_int() == 200);
  });
}

BOOST_AUTO_TEST_CASE(host_name_mismatch_is_rejected) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    // DNS name: a CA-signed certificate for other.example, reached as localhost.
    TestServer named(ex, other_name_cert_dir() + "/other");
    HttpClient by_name(ex, options(named.url("localhost")));
    auto r = co_await fetch(by_name, "/");
    BOOST_REQUIRE(!r);
    BOOST_TEST_MESSAGE(by_name.describe(r.error()));
    BOOST_TEST(contains(by_name.describe(r.error()), "certificate verify failed: hostname mismatch"));
    BOOST_TEST(by_name.kind(r.error()) == ErrorKind::certificate_name_mismatch);

    // IP address: the certificate lists 127.0.0.1, the server listens on 127.0.0.2.
    TestServer other_ip(ex, cert("server"), "127.0.0.2");
    HttpClient by_ip(ex, options(other_ip.url("127.0.0.2")));
    auto r2 = co_await fetch(by_ip, "/");
    BOOST_REQUIRE(!r2);
    BOOST_TEST_MESSAGE(by_ip.describe(r2.error()));
    BOOST_TEST(contains(by_ip.describe(r2.error()), "certificate verify failed: IP address mismatch"));
    BOOST_TEST(by_ip.kind(r2.error()) == ErrorKind::certificate_name_mismatch);
  });
}

BOOST_AUTO_TEST_CASE(request_timeout_against_silent_server) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex, cert("server"));
    server.state->mode = Mode::hang;
    auto opts = options(server.url());
    opts.request_timeout = 300ms;
    HttpClient client(ex, opts);
    auto r = co_await fetch(client, "/");
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == error_code(asio::error::timed_out));
    BOOST_TEST(contains(client.describe(r.error()), "timed out"));
    BOOST_TEST(client.kind(r.error()) == ErrorKind::timeout);
    BOOST_TEST(client.stats().retries == 0u);
  });
}

BOOST_AUTO_TEST_CASE(connect_refused_is_an_error) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    unsigned short port = 0;
    {
      tcp::acceptor probe(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      port = probe.local_endpoint().port();
    }  // closed: nothing listens there now
    HttpClient client(ex, options("http://127.0.0.1:" + std::to_string(port)));
    auto r = co_await fetch(client, "/");
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == error_code(asio::error::connection_refused));
    BOOST_TEST(contains(client.describe(r.error()), "connection refused"));
    BOOST_TEST(client.kind(r.error()) == ErrorKind::connect);
    BOOST_TEST(client.stats().retries == 0u);
  });
}

// What a typical plain HTTP server does with a TLS ClientHello: answers 400 in clear text.
asio::awaitable<void> answer_400_in_clear(std::shared_ptr<tcp::acceptor> acceptor) {
  auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
  if (ec) co_return;
  const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  co_await asio::async_write(socket, asio::buffer(reply), use_tuple);
  co_await sleep_for(200ms);  // the client reads the reply before the close
}

BOOST_AUTO_TEST_CASE(https_to_plain_server_is_a_tls_error) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto acceptor = std::make_shared<tcp::acceptor>(
        ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(ex, answer_400_in_clear(acceptor),
                   [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    const auto port = acceptor->local_endpoint().port();
    HttpClient client(ex, options("https://127.0.0.1:" + std::to_string(port)));
    auto r = co_await fetch(client, "/");
    BOOST_REQUIRE(!r);
    BOOST_TEST_MESSAGE(client.describe(r.error()));
    BOOST_TEST(contains(client.describe(r.error()), "is it an https server?"));
    BOOST_TEST(client.kind(r.error()) == ErrorKind::tls);
  });
}

BOOST_AUTO_TEST_CASE(ipv6_literal_hosts) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    for (bool tls : {false, true}) {
      TestServer server(ex, tls ? cert("server") : "", "::1");
      HttpClient client(ex, options(server.url("[::1]", "/v1")));
      auto r = co_await fetch(client, "/rooms");
      BOOST_REQUIRE_MESSAGE(r, client.describe(r.error()));
      BOOST_TEST(r->body().starts_with("GET /v1/rooms\n"));
      BOOST_TEST(server.state->last_host == "[::1]:" + std::to_string(server.port()));
      BOOST_TEST(client.origin() == "[::1]:" + std::to_string(server.port()));
    }
  });
}

BOOST_AUTO_TEST_CASE(body_over_limit_is_an_error) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex);
    HttpClient client(ex, options(server.url()));
    auto r = co_await fetch(client, "/big");
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == error_code(http::error::body_limit));
    BOOST_TEST(contains(client.describe(r.error()), "larger than 8 MiB"));
    BOOST_TEST(client.kind(r.error()) == ErrorKind::too_big);
  });
}

BOOST_AUTO_TEST_CASE(idle_connections_expire) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex);
    auto opts = options(server.url());
    opts.idle_timeout = 1s;
    HttpClient client(ex, opts);
    auto r = co_await fetch(client, "/a");
    BOOST_REQUIRE(r);
    co_await sleep_for(1300ms);
    BOOST_TEST(server.state->open == 0);  // the client closed it, not just forgot it
    auto r2 = co_await fetch(client, "/b");
    BOOST_REQUIRE(r2);
    BOOST_TEST(client.stats().connects == 2u);
    BOOST_TEST(client.stats().reused == 0u);
  });
}

BOOST_AUTO_TEST_CASE(close_and_destroy_with_requests_in_flight) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    TestServer server(ex, cert("server"));
    server.state->mode = Mode::hang;
    auto opts = options(server.url());
    opts.pool_size = 1;
    opts.request_timeout = 300ms;
    auto client = std::make_unique<HttpClient>(ex, opts);

    std::vector<error_code> results;
    asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
    for (int i = 0; i < 2; ++i) {  // the first is sent, the second waits for the connection
      auto one = [c = client.get(), &results, &all_done]() -> asio::awaitable<void> {
        auto r = co_await fetch(*c, "/");  // `c` is only used before the first suspension
        results.push_back(r ? error_code() : r.error());
        if (results.size() == 2) all_done.cancel();
      };
      asio::co_spawn(ex, one, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    }
    co_await sleep_for(100ms);
    client->close();
    client.reset();  // destroyed while one request is in flight
    co_await all_done.async_wait(use_tuple);
    BOOST_REQUIRE(results.size() == 2u);
    BOOST_TEST(results[0] == error_code(asio::error::operation_aborted));  // the queued one, woken by close()
    BOOST_TEST(results[1] == error_code(asio::error::timed_out));          // the one in flight
    HttpClient other(ex, opts);
    BOOST_TEST(other.kind(results[0]) == ErrorKind::cancelled);
    BOOST_TEST(other.kind(results[1]) == ErrorKind::timeout);
    BOOST_TEST(other.kind(error_code()) == ErrorKind::none);

    HttpClient closed(ex, opts);
    closed.close();
    auto r = co_await fetch(closed, "/");
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error() == error_code(asio::error::operation_aborted));
  });
}

BOOST_AUTO_TEST_CASE(constructor_rejects_bad_settings) {
  asio::io_context ioc;
  ErrorKind kind = ErrorKind::none;
  auto message_of = [&](ClientOptions o) -> std::string {
    kind = ErrorKind::none;
    try {
      HttpClient c(ioc.get_executor(), o);
    } catch (const std::invalid_argument& e) {  // ConfigError is one, for callers that need no kind
      auto* typed = dynamic_cast<const ConfigError*>(&e);
      BOOST_TEST(typed);
      if (typed) kind = typed->kind();
      return e.what();
    }
    return "no exception";
  };
  ClientOptions o;
  o.base_url = "ftp://example.com/";
  BOOST_TEST(contains(message_of(o), "not an http(s) URL: 'ftp://example.com/'"));
  BOOST_TEST(kind == ErrorKind::bad_url);
  o.base_url = "webexapis.com/v1";
  BOOST_TEST(contains(message_of(o), "not an http(s) URL"));
  BOOST_TEST(kind == ErrorKind::bad_url);
  o.base_url = "http:///v1";
  BOOST_TEST(contains(message_of(o), "(no host)"));
  BOOST_TEST(kind == ErrorKind::bad_url);
  o.base_url = "https://webexapis.com/v1";
  o.ca_file = "/nonexistent/URL/ca.pem";  // the kind, not words in the text, says what is wrong
  BOOST_TEST(contains(message_of(o), "/nonexistent/URL/ca.pem"));
  BOOST_TEST(kind == ErrorKind::bad_ca_file);
  o.ca_file = cert("server.key");  // a key, not a certificate
  BOOST_TEST(contains(message_of(o), cert("server.key")));
  BOOST_TEST(kind == ErrorKind::bad_ca_file);
  o.base_url = "http://127.0.0.1:8080";  // checked for http URLs too
  BOOST_TEST(contains(message_of(o), cert("server.key")));
  BOOST_TEST(kind == ErrorKind::bad_ca_file);
  o.ca_file.clear();
  o.pool_size = 0;
  BOOST_TEST(contains(message_of(o), "pool_size"));
  BOOST_TEST(kind == ErrorKind::bad_option);
}

// A server that answers `reply` to the first request (after reading its header) and closes.
asio::awaitable<void> answer_once(std::shared_ptr<tcp::acceptor> acceptor, std::string reply) {
  auto [ec, socket] = co_await acceptor->async_accept(use_tuple);
  if (ec) co_return;
  asio::streambuf request;
  co_await asio::async_read_until(socket, request, "\r\n\r\n", use_tuple);
  if (!reply.empty()) co_await asio::async_write(socket, asio::buffer(reply), use_tuple);
  socket.close();
}

// Errors a caller may act on differently come with their kind; the text stays describe()'s.
BOOST_AUTO_TEST_CASE(closed_partial_and_garbled_answers_have_their_kinds) {
  struct Case {
    std::string reply;
    ErrorKind kind;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"", ErrorKind::closed, "closed the connection before answering (end of stream)"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", ErrorKind::closed, "failed: partial message"},
      {"HELLO THERE\r\n\r\n", ErrorKind::protocol, "failed: bad version"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("reply: " << c.reply) {
      run_test([&c](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto acceptor = std::make_shared<tcp::acceptor>(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        asio::co_spawn(ex, answer_once(acceptor, c.reply), [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
        HttpClient client(ex, options("http://127.0.0.1:" + std::to_string(acceptor->local_endpoint().port())));
        auto r = co_await fetch(client, "/");
        BOOST_REQUIRE(!r);
        BOOST_TEST_MESSAGE(client.describe(r.error()));
        BOOST_TEST(client.kind(r.error()) == c.kind);
        BOOST_TEST(contains(client.describe(r.error()), c.text));
        BOOST_TEST(client.stats().retries == 0u);  // a fresh connection is never retried
      });
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_host_name_is_a_resolve_error) {
  run_test([](asio::any_io_executor ex) -> asio::awaitable<void> {
    HttpClient client(ex, options("http://zpark-test.invalid:8080"));  // RFC 2606: never resolves
    auto r = co_await fetch(client, "/");
    BOOST_REQUIRE(!r);
    BOOST_TEST_MESSAGE(client.describe(r.error()));
    BOOST_TEST(client.kind(r.error()) == ErrorKind::resolve);
    BOOST_TEST(contains(client.describe(r.error()), "cannot resolve the host of zpark-test.invalid:8080"));
  });
}

BOOST_AUTO_TEST_CASE(every_kind_has_a_name) {
  BOOST_TEST(to_string(ErrorKind::certificate_name_mismatch) == "certificate_name_mismatch");
  BOOST_TEST(to_string(ErrorKind::bad_ca_file) == "bad_ca_file");
  for (int k = int(ErrorKind::none); k <= int(ErrorKind::other); ++k)
    BOOST_TEST(to_string(ErrorKind(k)) != "unknown", k);
}

BOOST_AUTO_TEST_CASE(server_context_names_bad_files) {
  auto message_of = [](const std::string& c, const std::string& k) -> std::string {
    try {
      zpark::net::make_server_tls_context(c, k);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "no exception";
  };
  BOOST_TEST(contains(message_of("/nonexistent.pem", cert("server.key")), "/nonexistent.pem"));
  BOOST_TEST(contains(message_of(cert("server.pem"), "/nonexistent.key"), "/nonexistent.key"));
  BOOST_TEST(contains(message_of(cert("server.pem"), cert("wrong-server.key")), "does not match"));
  BOOST_TEST(message_of(cert("server.pem"), cert("server.key")) == "no exception");
}
