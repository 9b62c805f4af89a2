#pragma once
// `zpark check`'s Zabbix part: proves that Zpark can reach the Zabbix API and log in with the
// configured credentials.
#include "conf/settings.hpp"
#include "zabbix/client.hpp"
#include "zabbix/frontend.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace zpark::app {

// The Zabbix client options from the settings (ZABBIX_SERVER_URL, ZABBIX_USERNAME, ...).
zabbix::Options zabbix_options(const conf::Settings& s);
// The frontend session options (same URL and TLS settings, ZABBIX_USERNAME/ZABBIX_PASSWORD).
zabbix::FrontendOptions frontend_options(const conf::Settings& s);

struct ZabbixCheck {
  bool ok = true;
  // One line: "Zabbix 6.0.14 at http://host/zabbix: login OK as Admin", "Zabbix not
  // configured (...)" (ok stays true), or the error saying what to fix.
  std::string report;
  // Whether graphs can work, once the API login worked: "Graphs: on (...)", "Graphs: off (...)"
  // or "Graphs: will fail: ..." (a refused frontend login). Does not change `ok`.
  std::string graphs;
};

// Asks apiinfo.version, logs in (user.login or the API token) and logs out again; then tries
// the frontend login that graphs need (an API token alone cannot open a frontend session).
boost::asio::awaitable<ZabbixCheck> check_zabbix(conf::Settings settings);

// The same on its own io_context, for the synchronous `zpark check`.
ZabbixCheck check_zabbix_blocking(const conf::Settings& settings);

}  // namespace zpark::app
