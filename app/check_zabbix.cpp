#include "app/check_zabbix.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <exception>
#include <optional>

namespace zpark::app {

namespace asio = boost::asio;

zabbix::Options zabbix_options(const conf::Settings& s) {
  zabbix::Options o;
  o.url = s.zabbix_url;
  o.username = s.zabbix_username;
  o.password = s.zabbix_password;
  o.api_token = s.zabbix_api_token;
  o.verify_tls = s.zabbix_tls_verify;
  o.ca_file = s.zabbix_ca_file;
  return o;
}

zabbix::FrontendOptions frontend_options(const conf::Settings& s) {
  zabbix::FrontendOptions o;
  o.url = s.zabbix_url;
  o.username = s.zabbix_username;
  o.password = s.zabbix_password;
  o.verify_tls = s.zabbix_tls_verify;
  o.ca_file = s.zabbix_ca_file;
  return o;
}

namespace {

// The graphs line of `zpark check`.
asio::awaitable<std::string> check_graphs(conf::Settings settings) {
  if (!settings.graphs) co_return "Graphs: off (ZPARK_GRAPHS=false)";
  if (settings.zabbix_username.empty())
    co_return "Graphs: off (ZABBIX_API_TOKEN cannot open a Zabbix frontend session for chart.php; set "
              "ZABBIX_USERNAME/ZABBIX_PASSWORD for graphs)";
  zabbix::Frontend frontend(co_await asio::this_coro::executor, frontend_options(settings));
  auto login = co_await frontend.login();
  if (!login) co_return "Graphs: will fail: " + login.error().message;
  co_return fmt::format("Graphs: on (frontend login OK as {}, last {} s)", settings.zabbix_username,
                        settings.graph_period.count());
}

}  // namespace

asio::awaitable<ZabbixCheck> check_zabbix(conf::Settings settings) {
  ZabbixCheck out;
  if (settings.zabbix_username.empty() && settings.zabbix_api_token.empty()) {
    out.report = "Zabbix not configured (ZABBIX_USERNAME/ZABBIX_PASSWORD or ZABBIX_API_TOKEN)";
    co_return out;
  }
  zabbix::Client client(co_await asio::this_coro::executor, zabbix_options(settings));
  auto version = co_await client.version();
  if (!version) {
    out.ok = false;
    out.report = version.error().message;
    co_return out;
  }
  auto login = co_await client.login();
  if (!login) {
    out.ok = false;
    out.report = login.error().message;
    co_return out;
  }
  out.graphs = co_await check_graphs(settings);
  if (client.uses_token()) {
    out.report = fmt::format("Zabbix {} at {}: API token OK (user {})", *version, client.url(),
                             client.user().empty() ? "unknown" : client.user());
  } else {
    out.report = fmt::format("Zabbix {} at {}: login OK as {}", *version, client.url(), client.user());
    co_await client.logout();  // no stray session; a failure here changes nothing
  }
  co_return out;
}

ZabbixCheck check_zabbix_blocking(const conf::Settings& settings) {
  asio::io_context io;
  std::optional<ZabbixCheck> result;
  std::exception_ptr error;
  asio::co_spawn(io, check_zabbix(settings), [&](std::exception_ptr e, ZabbixCheck r) {
    error = e;
    result = std::move(r);
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return result.value_or(ZabbixCheck{false, "Zabbix check did not finish"});
}

}  // namespace zpark::app
