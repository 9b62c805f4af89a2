// Request bytes -> responses through the real server: net::HttpServer's session (framing,
// header and body limits, 100-continue, keep-alive, pipelining, the body budget) and
// app::Api (routes under the path prefix, token check before the body, 404/405/OPTIONS/HEAD,
// body limit per route), with the real ping/healthz/readyz/metrics routes and an alert route
// that reads its body as the real one does (content type, JSON, parse_alert_request) but
// stores nothing.
//
// Each input is written by a client on a unix socket to a server on the same io_context (one
// thread, no timers involved: the client half-closes after writing and reads to the end).
//
// Checks: the server answers only with well-formed HTTP responses, one per request and in
// order (an interim 100 only when the request asked for it), stops after a response that says
// close, and answers every complete request before it ends; statuses are 200, 400, 401, 404,
// 405, 413, 415 or 431, never 500 (a handler threw) or 503 (one connection at a time cannot
// reach a limit: a 503 means the body budget leaked); a JSON body is valid JSON; a route's
// handler runs only for a request with the right token and a body within the route's limit,
// and a 200 from a route that needs the token went to a request that had it (OPTIONS aside);
// the connection is gone from the server once the client has closed.
#include "app/alert_request.hpp"
#include "app/api.hpp"
#include "app/auth.hpp"
#include "app/basic_routes.hpp"
#include "app/json_response.hpp"
#include "conf/log.hpp"
#include "net/http_server.hpp"
#include "test/fuzz/check.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace net = zpark::net;
namespace app = zpark::app;
using local = asio::local::stream_protocol;
using asio::awaitable;

constexpr std::string_view kToken = "fuzz-token";
constexpr std::string_view kPrefix = "/zpark";
constexpr std::size_t kAlertLimit = 2048;
constexpr std::size_t kHeaderLimit = 8192;

// What every handler checks first: the server and the Api let through only requests with the
// right token and a body within the route's limit.
void handler_checks(const net::Request& req, std::size_t limit) {
  FUZZ_CHECK(app::authorized(req, kToken));
  FUZZ_CHECK(req.body().size() <= limit);
}

// The alert route's reading of a body (app/alert_routes.cpp), minus the outbox.
awaitable<net::Response> post_alert(net::Request req) {
  handler_checks(req, kAlertLimit);
  std::string type(req[http::field::content_type]);
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!type.starts_with("application/json"))
    co_return app::json_message(http::status::unsupported_media_type, "Send the alert as JSON");
  boost::system::error_code ec;
  auto body = json::parse(req.body(), ec);
  if (ec) co_return app::json_message(http::status::bad_request, "The request body is not valid JSON");
  auto parsed = app::parse_alert_request(body);
  if (auto* err = std::get_if<app::AlertRequestError>(&parsed))
    co_return app::json_response(http::status::bad_request, json::object{{"message", json::object{{err->field, err->why}}}});
  const auto& ar = std::get<app::AlertRequest>(parsed);
  co_return app::json_response(http::status::ok, json::object{{"to", ar.to_as_given},
                                                               {"message", ar.alerts.front().plain_text()},
                                                               {"taskid", "fuzz"}});
}

awaitable<net::Response> get_task(net::Request req, std::string tail) {
  handler_checks(req, 8192);
  FUZZ_CHECK(!tail.empty());
  // As app/alert_routes.cpp answers an unknown id: percent-encoded.
  co_return app::json_message(http::status::not_found, "No task with id " + boost::urls::encode(tail, boost::urls::pchars));
}

struct World {
  asio::io_context io{1};
  app::Api api{std::string(kToken), std::string(kPrefix)};
  std::filesystem::path dir;
  std::string socket_path;
  std::unique_ptr<net::HttpServer> server;

  World() {
    std::signal(SIGPIPE, SIG_IGN);
    zpark::log::set_level(zpark::log::Level::error);
    app::add_basic_routes(api, {});
    api.add({.path = "/api/v1/alert", .methods = {http::verb::post}, .name = "alert", .needs_token = true,
             .body_limit = kAlertLimit,
             .fn = [](net::Request req, std::string) { return post_alert(std::move(req)); }});
    api.add({.path = "/api/v1/tasks/", .subtree = true, .methods = {http::verb::get}, .name = "tasks",
             .needs_token = true,
             .fn = [](net::Request req, std::string tail) { return get_task(std::move(req), std::move(tail)); }});
    net::ServerLimits limits;
    limits.header_limit = kHeaderLimit;
    limits.body_budget = 4 * kAlertLimit;  // a leak shows as a 503 within a few requests
    server = std::make_unique<net::HttpServer>(io, api, limits);
    char tmpl[] = "/tmp/zpark-fuzz-http-XXXXXX";
    FUZZ_CHECK(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    socket_path = (dir / "s").string();
    zpark::conf::ListenAddress address;
    address.kind = zpark::conf::ListenAddress::Kind::unix_socket;
    address.path = socket_path;
    server->listen(address, 0600);
    server->start();
  }
  ~World() {
    server.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// One request as the server's parser sees it (the same Beast parser with the same header
// limit), for pairing responses with requests.
struct Sent {
  http::verb method;
  std::string target;
  bool authorized;
  bool expects_continue;
};

// The complete requests in `in`, in order, and the header of a last one whose body is cut
// short or malformed (the server may refuse it from the header alone).
struct Model {
  std::vector<Sent> requests;
  std::optional<Sent> partial;
};

Sent sent(const http::request_header<>& h) {
  return {h.method(), std::string(h.target()), app::authorized(h, kToken),
          beast::iequals(h[http::field::expect], "100-continue")};
}

Model model_requests(std::string_view in) {
  Model m;
  while (!in.empty()) {
    // dynamic_body: the model needs only the headers, and string_body would reserve the whole
    // declared Content-Length up front (a huge one aborts the process).
    http::request_parser<http::dynamic_body> p;
    p.header_limit(kHeaderLimit);
    p.body_limit(boost::none);
    p.eager(true);
    beast::error_code ec;
    std::size_t used = 0;
    while (!p.is_done()) {
      const auto n = p.put(asio::const_buffer(in.data() + used, in.size() - used), ec);
      used += n;
      if (ec == http::error::need_more && used == in.size()) p.put_eof(ec);
      if (ec || (n == 0 && !p.is_done())) break;
    }
    if (ec || !p.is_done()) {
      if (p.is_header_done()) m.partial = sent(p.get());
      break;
    }
    m.requests.push_back(sent(p.get()));
    in.remove_prefix(used);
  }
  return m;
}

// Path inside the API (prefix and query gone), as Api::match sees it.
std::string_view api_path(std::string_view target) {
  auto path = app::path_of(target);
  if (path.starts_with(kPrefix)) {
    auto rest = path.substr(kPrefix.size());
    if (rest.empty()) return "/";
    if (rest.front() == '/') return rest;
  }
  return path;
}

bool needs_token(std::string_view path) {
  return path == "/api/v1/ping" || path == "/api/v1/alert" ||
         (path.starts_with("/api/v1/tasks/") && path.size() > 14);
}

void check_responses(std::string_view out, const Model& model) {
  std::size_t finals = 0;
  bool closed = false;
  bool interim_allowed = true;
  while (!out.empty()) {
    FUZZ_CHECK(!closed);  // nothing after "Connection: close"
    const bool last = finals >= model.requests.size();  // answers the cut or malformed one
    const Sent* req = !last ? &model.requests[finals] : model.partial ? &*model.partial : nullptr;
    http::response_parser<http::string_body> p;
    p.body_limit(boost::none);
    p.eager(true);
    p.skip(req && req->method == http::verb::head);
    beast::error_code ec;
    std::size_t used = 0;
    while (!p.is_done()) {
      const auto n = p.put(asio::const_buffer(out.data() + used, out.size() - used), ec);
      used += n;
      if (ec == http::error::need_more && used == out.size()) p.put_eof(ec);
      if (ec || (n == 0 && !p.is_done())) break;
    }
    FUZZ_CHECK(!ec && p.is_done());  // the server wrote a well-formed response
    out.remove_prefix(used);
    const auto& res = p.get();
    const unsigned status = res.result_int();
    if (status == 100) {
      FUZZ_CHECK(req && req->expects_continue && interim_allowed);
      interim_allowed = false;
      continue;
    }
    interim_allowed = true;
    ++finals;
    switch (status) {
      case 200: case 400: case 401: case 404: case 405: case 413: case 415: case 431: break;
      default: zpark::fuzz::fail(("unexpected status " + std::to_string(status)).c_str(), __FILE__, __LINE__);
    }
    if (last) FUZZ_CHECK(status != 200 && status != 415);  // decided from the header, or malformed
    if (req && status == 200 && req->method != http::verb::options && needs_token(api_path(req->target)))
      FUZZ_CHECK(req->authorized);
    const bool head = req && req->method == http::verb::head;
    if (!head && res[http::field::content_type] == "application/json") {
      boost::system::error_code jec;
      json::parse(res.body(), jec);  // strict: valid UTF-8 whatever bytes the target carried
      FUZZ_CHECK(!jec);
    }
    if (!res.keep_alive()) closed = true;
  }
  FUZZ_CHECK(finals <= model.requests.size() + 1);
  // Every complete request is answered unless the server said it would close.
  if (!closed) FUZZ_CHECK(finals >= model.requests.size());
}

World& world() {
  static World w;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  const std::string input(fuzz_bytes(data, size));

  local::socket client(w.io);
  client.connect(local::endpoint(w.socket_path));
  std::string received;
  bool read_done = false, write_done = false;
  asio::async_write(client, asio::buffer(input), [&](boost::system::error_code, std::size_t) {
    write_done = true;
    boost::system::error_code ignored;
    client.shutdown(asio::socket_base::shutdown_send, ignored);  // EOF for the server
  });
  asio::async_read(client, asio::dynamic_buffer(received), [&](boost::system::error_code, std::size_t) {
    read_done = true;  // eof, or a reset when the server closed with bytes unread
    boost::system::error_code ignored;
    client.close(ignored);
  });
  while (!read_done || !write_done || w.server->open_connections() > 0) {
    // No step of an exchange waits for a timer: nothing to run for seconds means a hang.
    if (w.io.run_one_for(std::chrono::seconds(5)) == 0)
      zpark::fuzz::fail("the session did not end", __FILE__, __LINE__);
  }
  check_responses(received, model_requests(input));
  return 0;
}
