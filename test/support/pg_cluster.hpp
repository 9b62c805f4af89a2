#pragma once
// A throw-away PostgreSQL server for tests: its own data directory under /tmp, its own
// loopback port, trust authentication, durability settings relaxed for speed. Works as root
// (the server runs as user postgres, which PostgreSQL insists on) and as a normal user (it
// runs as that user). Every wait is bounded; failures throw with the server's log attached.
// pg_cluster.py is the same for Python scripts.
#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

namespace zpark::test {

class PgCluster {
 public:
  // initdb, start, CREATE DATABASE zpark: about 2 s. Throws when the binaries are missing
  // (see available()) or the server does not come up.
  PgCluster();
  ~PgCluster();  // stops the server by PID (immediate shutdown) and removes the directory
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Whether initdb, pg_ctl and psql were found: ZPARK_PG_BINDIR, else the newest
  // /usr/lib/postgresql/N/bin, else PATH. A test that needs PostgreSQL fails with
  // missing_binaries() when this is false rather than skipping: CI installs them.
  static bool available();
  static std::string missing_binaries();  // what to install, for the failure message

  // "postgresql://postgres@127.0.0.1:PORT/zpark"
  std::string url() const;
  int port() const { return port_; }
  const std::string& data_dir() const { return data_; }

  // Fast shutdown (SIGINT to the postmaster), waits until its PID is gone; SIGKILL after
  // 15 s. Does nothing when the server is not running.
  void stop();
  // Starts the server again on the same data directory and port; waits until it answers.
  void start();
  bool running() const;

  // Runs `sql` (one or more statements, as a psql script) against database zpark with
  // psql -X -A -t -q -v ON_ERROR_STOP=1; returns its standard output without the final
  // newline ("1" for "select 1"; rows on lines, columns separated by '|'). Throws with
  // psql's standard error when it fails.
  std::string psql(const std::string& sql);
  // Drops database zpark (ending the sessions connected to it) and creates it empty again.
  void reset_database();
  // The server's log so far, for failure messages.
  std::string log() const;

 private:
  pid_t postmaster_pid() const;  // from postmaster.pid; -1 when absent
  std::string run_psql(const std::string& database, const std::vector<std::string>& args);
  void wait_ready();
  void kill_server(int sig, std::chrono::milliseconds wait);

  std::string bin_;   // directory of initdb, pg_ctl, psql
  std::string root_;  // the temporary directory (mode 0755), removed by the destructor
  std::string data_;  // root_/data, owned by the user the server runs as
  int port_ = 0;
  unsigned run_seq_ = 0;  // names the output files of the programs run
};

}  // namespace zpark::test
