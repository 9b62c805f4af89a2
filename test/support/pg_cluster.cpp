#include "test/support/pg_cluster.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zpark::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace {

// Debian and CI keep the server programs off PATH, under /usr/lib/postgresql/N/bin.
std::string find_bin() {
  auto complete = [](const fs::path& d) {
    std::error_code ec;
    return fs::exists(d / "initdb", ec) && fs::exists(d / "pg_ctl", ec) && fs::exists(d / "psql", ec);
  };
  if (const char* dir = std::getenv("ZPARK_PG_BINDIR"); dir && *dir)
    return complete(dir) ? std::string(dir) : std::string();
  std::optional<std::pair<int, fs::path>> newest;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int version = std::stoi(name);
    if (complete(e.path() / "bin") && (!newest || version > newest->first))
      newest = {version, e.path() / "bin"};
  }
  if (newest) return newest->second.string();
  if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    for (std::string d; std::getline(dirs, d, ':');)
      if (!d.empty() && complete(d)) return d;
  }
  return {};
}

// The account the server runs as: PostgreSQL refuses to run as root, so root hands it to
// user postgres (created by the Debian package); anyone else runs it as themselves.
struct ServerUser {
  uid_t uid;
  gid_t gid;
  bool switch_to;  // the child must setuid before exec
};

ServerUser server_user() {
  if (::geteuid() != 0) return {::geteuid(), ::getegid(), false};
  const passwd* pw = ::getpwnam("postgres");
  if (!pw)
    throw std::runtime_error(
        "PgCluster runs PostgreSQL as user postgres when the tests run as root, and there is "
        "no such user; install the postgresql package (deploy/install-deps.sh --test)");
  return {pw->pw_uid, pw->pw_gid, true};
}

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot bind a loopback port for PostgreSQL");
  return ntohs(a.sin_port);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tail(const std::string& text, std::size_t lines) {
  std::size_t at = text.size();
  while (lines-- > 0 && at > 0) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) return text;
  }
  return text.substr(at);
}

// Alive and not a zombie: a killed postmaster whose parent (init in a container) has not
// reaped it yet counts as gone.
bool alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (alive(pid)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The postmaster's children (backends, checkpointer, ...), so that a SIGKILL leaves none
// holding the shared memory that would stop the next start.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_file(e.path().string() + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state = 0;
    long ppid = 0;
    if (fields >> state >> ppid && ppid == parent) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

struct Ran {
  int code = -1;
  std::string out, err;
};

std::string describe(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Runs a program with exactly `env`, standard output and error to files in `dir` (no pipes
// to drain, so no deadlock), in `dir` as working directory (the server user must be able to
// enter it). Kills it and throws after `timeout`.
Ran run(const std::string& dir, unsigned seq, const std::vector<std::string>& argv,
        const std::map<std::string, std::string>& env, const ServerUser* as,
        std::chrono::seconds timeout) {
  // Everything the child needs is prepared before fork: after it, only system calls.
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string out_path = dir + "/run-" + std::to_string(seq) + ".out";
  const std::string err_path = dir + "/run-" + std::to_string(seq) + ".err";
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || err < 0 || in < 0) throw std::runtime_error("cannot create files in " + dir);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::close_range(3, ~0U, 0);  // the test's sockets must not live on in the postmaster
    if (as && as->switch_to &&
        (::setgroups(1, &as->gid) != 0 || ::setgid(as->gid) != 0 || ::setuid(as->uid) != 0))
      ::_exit(126);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(err);
  ::close(in);
  if (pid < 0) throw std::runtime_error("fork failed");
  Ran r;
  const auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  bool timed_out = false;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::error_code ec;
  fs::remove(out_path, ec);
  fs::remove(err_path, ec);
  if (timed_out)
    throw std::runtime_error(describe(argv) + " did not finish within " +
                             std::to_string(timeout.count()) + " s; its output:\n" + r.out + r.err);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (r.code == 126) r.err += "(could not switch to the server's user or enter " + dir + ")";
  if (r.code == 127) r.err += "(could not execute " + argv[0] + ")";
  return r;
}

}  // namespace

bool PgCluster::available() { return !find_bin().empty(); }

std::string PgCluster::missing_binaries() {
  return "PostgreSQL's programs (initdb, pg_ctl, psql) were not found under "
         "/usr/lib/postgresql/N/bin, ZPARK_PG_BINDIR or PATH; install them with "
         "deploy/install-deps.sh --test (Debian package postgresql), or point ZPARK_PG_BINDIR "
         "at their directory";
}

PgCluster::PgCluster() {
  bin_ = find_bin();
  if (bin_.empty()) throw std::runtime_error(missing_binaries());
  const ServerUser user = server_user();
  // Under /tmp even when TMPDIR points elsewhere as root: user postgres must reach it.
  const fs::path parent = user.switch_to ? fs::path("/tmp") : fs::temp_directory_path();
  std::string tmpl = (parent / "zpark-pg-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed under " + parent.string());
  root_ = tmpl;
  try {
    ::chmod(root_.c_str(), 0755);
    data_ = root_ + "/data";
    if (::mkdir(data_.c_str(), 0700) != 0) throw std::runtime_error("cannot create " + data_);
    const std::string log_file = root_ + "/server.log";
    std::ofstream(log_file).flush();
    if (user.switch_to && (::chown(data_.c_str(), user.uid, user.gid) != 0 ||
                           ::chown(log_file.c_str(), user.uid, user.gid) != 0))
      throw std::runtime_error("cannot hand " + root_ + " to user postgres");
    port_ = free_loopback_port();
    // --no-sync: the directory dies with the test, so waiting for the disk buys nothing.
    const Ran init = run(root_, ++run_seq_,
                         {bin_ + "/initdb", "-D", data_, "-U", "postgres", "--auth=trust",
                          "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"},
                         {{"PATH", bin_ + ":/usr/bin:/bin"}, {"HOME", root_}}, &user, 60s);
    if (init.code != 0)
      throw std::runtime_error("initdb failed (exit " + std::to_string(init.code) + "):\n" +
                               init.out + init.err);
    // fsync and full_page_writes off: a crash loses a test's data, never a user's.
    // synchronous_commit stays on so commit latency looks like a real server's path.
    std::ofstream conf(data_ + "/postgresql.conf", std::ios::app);
    conf << "\n# zpark::test::PgCluster\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "port = " << port_ << "\n"
         << "unix_socket_directories = '" << data_ << "'\n"
         << "fsync = off\n"
         << "synchronous_commit = on\n"
         << "full_page_writes = off\n"
         << "max_connections = 100\n"
         << "logging_collector = off\n"
         << "log_min_messages = warning\n"
         << "log_line_prefix = '%m [%p] %d '\n";
    conf.close();
    if (!conf) throw std::runtime_error("cannot write " + data_ + "/postgresql.conf");
    start();
    run_psql("postgres", {"-c", "CREATE DATABASE zpark"});
  } catch (...) {
    try {
      kill_server(SIGKILL, 5s);
    } catch (...) {
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
    throw;
  }
}

PgCluster::~PgCluster() {
  try {
    kill_server(SIGQUIT, 5s);  // immediate shutdown: the data is thrown away anyway
  } catch (...) {
  }
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string PgCluster::url() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/zpark";
}

std::string PgCluster::log() const { return read_file(root_ + "/server.log"); }

pid_t PgCluster::postmaster_pid() const {
  std::ifstream in(data_ + "/postmaster.pid");
  long pid = -1;
  if (!(in >> pid)) return -1;
  return static_cast<pid_t>(pid);
}

bool PgCluster::running() const { return alive(postmaster_pid()); }

void PgCluster::start() {
  if (running()) return;
  const ServerUser user = server_user();
  // -w: pg_ctl returns once the server accepts connections (or after -t seconds).
  const Ran r = run(root_, ++run_seq_,
                    {bin_ + "/pg_ctl", "-D", data_, "-l", root_ + "/server.log", "-w", "-t", "30",
                     "-s", "start"},
                    {{"PATH", bin_ + ":/usr/bin:/bin"}, {"HOME", root_}}, &user, 40s);
  if (r.code != 0)
    throw std::runtime_error("PostgreSQL did not start (pg_ctl exit " + std::to_string(r.code) +
                             "): " + r.out + r.err + "\nend of its log:" + tail(log(), 20));
  wait_ready();
}

// pg_ctl -w already waited for "ready"; one query over TCP proves what tests rely on.
void PgCluster::wait_ready() {
  const auto until = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    try {
      run_psql("postgres", {"-c", "select 1"});
      return;
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() > until)
        throw std::runtime_error(std::string("PostgreSQL started but does not answer: ") +
                                 e.what() + "\nend of its log:" + tail(log(), 20));
    }
    std::this_thread::sleep_for(50ms);
  }
}

void PgCluster::stop() {
  if (!running()) return;
  kill_server(SIGINT, 15s);  // SIGINT is pg_ctl's "fast" mode: end sessions, checkpoint, exit
}

void PgCluster::kill_server(int sig, std::chrono::milliseconds wait) {
  const pid_t pid = postmaster_pid();
  if (!alive(pid)) return;
  ::kill(pid, sig);
  if (wait_gone(pid, wait)) return;
  std::vector<pid_t> children = children_of(pid);
  ::kill(pid, SIGKILL);
  for (pid_t c : children) ::kill(c, SIGKILL);
  if (!wait_gone(pid, 5s))
    throw std::runtime_error("the PostgreSQL postmaster " + std::to_string(pid) +
                             " survived SIGKILL");
  for (pid_t c : children) wait_gone(c, 2s);
  // A killed postmaster leaves its lock files, and while the dead one is an unreaped zombie
  // (no init reaping in a container) the next postmaster takes it for alive.
  const std::string socket = data_ + "/.s.PGSQL." + std::to_string(port_);
  std::error_code ec;
  for (const auto& f : {data_ + "/postmaster.pid", socket + ".lock", socket}) fs::remove(f, ec);
}

std::string PgCluster::run_psql(const std::string& database, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin_ + "/psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                                   "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres",
                                   "-d", database};
  argv.insert(argv.end(), args.begin(), args.end());
  const Ran r = run(root_, ++run_seq_, argv,
                    {{"PATH", bin_ + ":/usr/bin:/bin"},
                     {"HOME", root_},
                     {"PGCONNECT_TIMEOUT", "5"},
                     {"PGOPTIONS", "-c client_min_messages=warning"}},
                    nullptr, 60s);
  if (r.code != 0)
    throw std::runtime_error("psql failed (exit " + std::to_string(r.code) + "): " + r.err);
  std::string out = r.out;
  if (out.ends_with('\n')) out.pop_back();
  return out;
}

std::string PgCluster::psql(const std::string& sql) {
  // A file, not -c: several statements then run one by one as in a script, not as one
  // implicit transaction.
  const std::string script = root_ + "/script-" + std::to_string(++run_seq_) + ".sql";
  {
    std::ofstream f(script);
    f << sql << '\n';
    if (!f) throw std::runtime_error("cannot write " + script);
  }
  struct Remove {
    std::string path;
    ~Remove() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } remove{script};
  return run_psql("zpark", {"-f", script});
}

void PgCluster::reset_database() {
  // WITH (FORCE) ends the sessions still connected (a Zpark under test, a pool).
  run_psql("postgres", {"-c", "DROP DATABASE IF EXISTS zpark WITH (FORCE)", "-c",
                        "CREATE DATABASE zpark"});
}

}  // namespace zpark::test
