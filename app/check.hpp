#pragma once
#include "conf/settings.hpp"

namespace zpark::app {

// `zpark check`: prints the settings (secrets hidden), then proves the Webex token
// (GET /people/me) and the Zabbix login without sending anything. Exit code 0 when all
// configured checks pass, 1 otherwise.
int run_check(const conf::Settings& settings);

}  // namespace zpark::app
