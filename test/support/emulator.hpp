#pragma once
// Starts our Webex emulator (test/emulator) over TLS on port 0 and talks to its control
// API with curl.
#include "test/support/process.hpp"

#include <boost/json/value.hpp>

#include <memory>
#include <string>

namespace zpark::test {

// Runs a shell command, returns its stdout; throws when it exits non-zero.
std::string run_command(const std::string& command);

class Emulator {
 public:
  // `cert` is "server" (signed by the test CA) or "wrong-server" (signed by another CA).
  // `port` 0 picks a free one; a given port restarts an emulator where an earlier one was.
  explicit Emulator(const std::string& workdir, const std::string& cert = "server", unsigned short port = 0);
  std::string api_url() const { return url_ + "/v1"; }
  std::string ca_file() const;
  boost::json::value get(const std::string& path) const;
  void post(const std::string& path, const std::string& json_body) const;
  boost::json::array messages() const;  // GET /_emu/messages
  boost::json::array requests() const;  // GET /_emu/requests
  const std::string& url() const { return url_; }
  Process& process() { return *proc_; }

 private:
  std::unique_ptr<Process> proc_;
  std::string url_;
};

}  // namespace zpark::test
