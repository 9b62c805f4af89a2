#pragma once
// `zpark check`'s Zabbix part: proves that Zpark can reach the Zabbix API and log in with the
// configured credentials.
#include "conf/settings.hpp"
#include "zabbix/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace zpark::app {

// The Zabbix client options from the settings (ZABBIX_SERVER_URL, ZABBIX_USERNAME, ...).
zabbix::Options zabbix_options(const conf::Settings& s);

struct ZabbixCheck {
  bool ok = true;
  // One line: "Zabbix 6.0.14 at http://host/zabbix: login OK as Admin", "Zabbix not
  // configured (...)" (ok stays true), or the error saying what to fix.
  std::string report;
};

// Asks apiinfo.version, logs in (user.login or the API token) and logs out again.
boost::asio::awaitable<ZabbixCheck> check_zabbix(conf::Settings settings);

// The same on its own io_context, for the synchronous `zpark check`.
ZabbixCheck check_zabbix_blocking(const conf::Settings& settings);

}  // namespace zpark::app
