// POST /api/v1/alert in process: the real Api, routes, relay and outbox (SQLite in a temp dir)
// on a disk that fails on command (test/tasks/faulty_disk), a sink that answers 200. What an
// admin reads in Zabbix's media log when the outbox cannot be written.
#define BOOST_TEST_MODULE alert_routes
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "app/alert_routes.hpp"
#include "app/api.hpp"
#include "tasks/outbox.hpp"
#include "tasks/relay.hpp"
#include "tasks/sqlite_store.hpp"
#include "test/support/process.hpp"
#include "test/tasks/faulty_disk.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <sqlite3.h>

#include <optional>

using namespace zpark;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace data = boost::unit_test::data;

namespace {

const std::string kToken = "alert-routes-secret-token";

class OkSink : public spark::MessageSink {
 public:
  asio::awaitable<spark::SendResult> send(spark::OutMessage) override {
    spark::SendResult r;
    r.status = 200;
    r.message_id = "m" + std::to_string(++sent);
    co_return r;
  }
  asio::awaitable<spark::SendResult> edit(std::string, std::string, std::string) override {
    spark::SendResult r;
    r.status = 200;
    co_return r;
  }
  int sent = 0;
};

struct Fixture {
  test::FaultyDisk disk;  // before the outbox opens its file
  test::TempDir dir;
  asio::io_context io;
  tasks::Outbox outbox{tasks::OutboxOptions{dir.path(), false, 60s}};
  tasks::SqliteStore store{outbox};
  OkSink sink;
  tasks::Relay relay{io.get_executor(), store, sink, tasks::RelayOptions{}};
  app::Api api{kToken, ""};

  Fixture() { app::add_alert_routes(api, relay, 64 * 1024); }
  ~Fixture() {
    relay.stop();  // as at shutdown: let the lanes and the outbox probe unwind
    io.poll();
  }

  net::Response post_alert(const std::string& body) {
    net::Request req{http::verb::post, "/api/v1/alert", 11};
    req.set("Token", kToken);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    std::optional<net::Response> out;
    std::exception_ptr error;
    asio::co_spawn(io, api.handle(std::move(req)), [&](std::exception_ptr e, net::Response r) {
      if (e) error = e;
      else out = std::move(r);
    });
    while (!out && !error) io.run_one();
    if (error) std::rethrow_exception(error);
    return std::move(*out);
  }
};

std::string text(const json::value& v, const char* key) {
  const auto* p = v.as_object().if_contains(key);
  return p && p->is_string() ? std::string(p->get_string()) : "(no " + std::string(key) + ")";
}

}  // namespace

// Disk full (ENOSPC) and a read-only or failing disk (EROFS, EIO) as SQLite reports them.
BOOST_DATA_TEST_CASE(an_outbox_that_cannot_be_written_answers_503_saying_why,
                     data::make(std::vector<int>{SQLITE_FULL, SQLITE_IOERR_WRITE}) ^
                         data::make(std::vector<std::string>{"free space on the disk that holds ZPARK_DATA_DIR",
                                                             "check that the file system is not read-only or full"}),
                     code, advice) {
  Fixture f;
  f.disk.fail_writes(code);
  auto r = f.post_alert(R"({"to":"a@example.com","subject":"Disk full on db01"})");
  BOOST_TEST(r.result_int() == 503u);
  BOOST_TEST(r[http::field::content_type] == "application/json");
  const auto body = json::parse(r.body());
  const auto message = text(body, "message");
  BOOST_TEST_MESSAGE("503 body: " << r.body());
  BOOST_TEST(message.starts_with("Unable to store the alert: cannot write the outbox " + f.outbox.path().string() + ": "),
             message);
  BOOST_TEST(message.find(advice) != std::string::npos, message);
  BOOST_TEST(message == "Unable to store the alert: " + f.relay.problem());
  BOOST_TEST(text(body, "error") == "Unable to store the alert; try again");  // as before, for scripts
  BOOST_TEST(r.body().find(kToken) == std::string::npos);

  // Space returns: the next alert is taken (the relay's problem is cleared by that write).
  f.disk.heal();
  auto ok = f.post_alert(R"({"to":"a@example.com","subject":"Disk full on db01"})");
  BOOST_TEST(ok.result_int() == 200u);
  BOOST_TEST(f.relay.problem().empty());
}
