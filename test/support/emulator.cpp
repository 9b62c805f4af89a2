#include "test/support/emulator.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace zpark::test {

std::string run_command(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buf;
  while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int rc = ::pclose(p);
  if (rc != 0) throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + command + "\n" + out);
  return out;
}

Emulator::Emulator(const std::string& workdir, const std::string& cert, unsigned short port) {
  const auto certs = env_or_fail("ZPARK_TEST_CERTS");
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{env_or_fail("WEBEX_EMULATOR_BIN"), "--cert", certs + "/" + cert + ".pem", "--key",
                               certs + "/" + cert + ".key", "--port", std::to_string(port), "--token", "test-token"},
      std::map<std::string, std::string>{}, workdir + "/emulator-" + std::to_string(port) + ".log");
  if (!proc_->wait_log("listening ", std::chrono::seconds(10)))
    throw std::runtime_error("emulator did not start:\n" + proc_->log());
  auto log = proc_->log();
  auto at = log.find("listening ") + 10;
  auto end = log.find_first_of("\r\n", at);
  url_ = "https://" + log.substr(at, end - at);
  // Control calls below use the test CA regardless of which certificate the API serves.
}

std::string Emulator::ca_file() const { return env_or_fail("ZPARK_TEST_CERTS") + "/ca.pem"; }

boost::json::value Emulator::get(const std::string& path) const {
  return boost::json::parse(run_command("curl -sSfk --max-time 10 '" + url_ + path + "'"));
}

void Emulator::post(const std::string& path, const std::string& json_body) const {
  run_command("curl -sSfk --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary '" + json_body +
              "' '" + url_ + path + "' >/dev/null");
}

boost::json::array Emulator::messages() const {
  auto v = get("/_emu/messages");
  if (v.is_array()) return v.get_array();
  return v.at("messages").as_array();
}

boost::json::array Emulator::requests() const { return get("/_emu/requests").at("requests").as_array(); }

}  // namespace zpark::test
