#include "app/service.hpp"

#include "app/api.hpp"
#include "app/basic_routes.hpp"
#include "app/command_path.hpp"
#include "app/graph_path.hpp"
#include "app/relay_wiring.hpp"
#include "conf/log.hpp"
#include "conf/version.hpp"
#include "net/http_server.hpp"
#include "net/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

namespace zpark::app {

namespace asio = boost::asio;

namespace {

net::ServerLimits limits_from(const conf::Settings& s) {
  net::ServerLimits l;
  l.max_connections = s.max_connections;
  l.read_timeout = s.read_timeout;
  l.idle_timeout = s.idle_timeout;
  l.write_timeout = s.read_timeout;
  return l;
}

asio::awaitable<void> stop_gracefully(asio::io_context& io, net::HttpServer& server, AlertPath& alerts,
                                      CommandPath& commands, GraphPath& graphs, std::chrono::milliseconds deadline) {
  co_await server.shutdown(deadline);
  commands.stop();
  graphs.stop();
  alerts.stop();  // what is not delivered yet stays in the outbox for the next start
  // A short drain: woken lanes and command tasks unwind while their owners still exist, so
  // few coroutine frames are left for ~io_context to destroy.
  asio::steady_timer drain(io, std::chrono::milliseconds(100));
  co_await drain.async_wait(asio::as_tuple(asio::use_awaitable));
  io.stop();
}

}  // namespace

int serve(const conf::Settings& s) {
  log::Level level = log::Level::info;
  log::parse_level(s.log_level, level);
  log::set_level(level);

  asio::io_context io(1);
  // Log lines leave once per turn of the loop, in one write(2); also at exit and before a crash.
  log::Batching log_batching([&io](void (*flush)()) { asio::post(io, flush); });
  Api api(s.api_token, s.path_prefix);
  AlertPath alerts(io, s, api);
  GraphPath graphs(io, s, api, alerts);
  CommandPath commands(io, s, api, alerts, graphs.frontend());
  add_basic_routes(api, {alerts.readiness(), commands.readiness()});

  std::shared_ptr<asio::ssl::context> tls;
  if (!s.tls_cert.empty()) tls = std::make_shared<asio::ssl::context>(net::make_server_tls_context(s.tls_cert, s.tls_key));

  net::HttpServer server(io, api, limits_from(s), tls);
  for (auto& address : s.listen) server.listen(address, s.socket_mode);
  server.start();
  alerts.start();
  commands.start();
  graphs.start();
  for (auto& a : server.addresses())
    log::info("listening", {{"address", a}, {"tls", tls ? "on" : "off"}, {"prefix", s.path_prefix}});
  log::info("zpark started", {{"version", conf::kVersion}, {"mode", s.dry_run() ? "dry-run" : "webex"}});

  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool stopping = false;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec || stopping) return;
    stopping = true;
    log::info("stopping", {{"signal", sig}});
    asio::co_spawn(io, stop_gracefully(io, server, alerts, commands, graphs, s.shutdown_timeout), asio::detached);
  });
  io.run();
  log::info("stopped");
  return 0;
}

}  // namespace zpark::app
