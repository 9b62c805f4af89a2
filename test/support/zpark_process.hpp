#pragma once
// The real zpark binary ($ZPARK_BIN) serving for end-to-end tests, with the environment that
// points it at our Webex emulator.
#include "test/support/emulator.hpp"
#include "test/support/process.hpp"

#include <map>
#include <memory>
#include <string>

namespace zpark::test {

using Env = std::map<std::string, std::string>;

// ZPARK_API_TOKEN=`api_token`, listening on 127.0.0.1:0, data under `dir`/data without fsync,
// the bot token and CA of `emu`.
Env webex_env(const std::string& dir, const Emulator& emu, const std::string& api_token);

// `extra` over `env`; an empty value removes the variable.
void override_env(Env& env, const Env& extra);

// `zpark serve` with exactly `env`, logging to `log_file`; wait_listening() gives its address.
std::unique_ptr<Process> start_zpark(const Env& env, const std::string& log_file);

}  // namespace zpark::test
