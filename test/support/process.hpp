#pragma once
// Starts the real zpark binary (or another program) for integration tests: environment,
// stderr captured to a file, waits for its "listening" lines, stops it by signal.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace zpark::test {

class Process {
 public:
  // Starts `argv` with exactly `env` as environment (plus PATH); stdout and stderr go to
  // `log_file`.
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string log_file);
  ~Process();  // SIGKILL if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Waits until the log has `count` lines containing "msg=listening" and returns their
  // address= values; throws after `timeout` (with the log in the message).
  std::vector<std::string> wait_listening(std::size_t count = 1,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until the log contains `text`; false on timeout.
  bool wait_log(const std::string& text, std::chrono::milliseconds timeout);
  void signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed), or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout);
  std::string log() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string log_file_;
  int status_ = -1;
  bool exited_ = false;
};

// A fresh empty directory under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Environment variable or fail the test with a clear message.
std::string env_or_fail(const char* name);

// TCP port from an address such as "127.0.0.1:4321" or "[::1]:4321".
unsigned short port_of(const std::string& address);

}  // namespace zpark::test
