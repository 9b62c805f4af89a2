#include "test/support/zpark_process.hpp"

namespace zpark::test {

Env webex_env(const std::string& dir, const Emulator& emu, const std::string& api_token) {
  return Env{{"ZPARK_API_TOKEN", api_token},
             {"ZPARK_LISTEN", "127.0.0.1:0"},
             {"ZPARK_DATA_DIR", dir + "/data"},
             {"ZPARK_FSYNC", "false"},
             {"SPARK_ACCESS_TOKEN", Emulator::token},
             {"WEBEX_API_URL", emu.api_url()},
             {"WEBEX_CA_FILE", emu.ca_file()}};
}

void override_env(Env& env, const Env& extra) {
  for (const auto& [k, v] : extra) {
    if (v.empty()) env.erase(k);
    else env[k] = v;
  }
}

std::unique_ptr<Process> start_zpark(const Env& env, const std::string& log_file) {
  return std::make_unique<Process>(std::vector<std::string>{env_or_fail("ZPARK_BIN"), "serve"}, env, log_file);
}

}  // namespace zpark::test
