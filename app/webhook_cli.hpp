#pragma once
// `zpark webhook create|list|delete`: register the bot's Webex webhook at ZPARK_SERVER_URL.
#include "conf/settings.hpp"

#include <string>
#include <vector>

namespace zpark::app {

// `args` are the words after "webhook". Returns the exit code: 0 done, 1 Webex refused or
// unreachable, 2 bad usage, 78 a setting is missing.
int run_webhook_cli(const conf::Settings& settings, const std::vector<std::string>& args);

}  // namespace zpark::app
