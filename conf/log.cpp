#include "conf/log.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>

#include <poll.h>
#include <unistd.h>

namespace zpark::log {
namespace {
Level current = Level::info;

std::string_view name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

// --- formatting: straight into a buffer the caller sized with max_line_size()

// The bytes that make a value quoted: space, '"', '=', '\\' and the control characters.
constexpr auto kQuoted = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t[' '] = t['"'] = t['='] = t['\\'] = true;
  return t;
}();

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (kQuoted[static_cast<unsigned char>(c)]) return true;
  return false;
}

// The most a value can take: quoted, every byte escaped as \xNN.
std::size_t max_value_size(std::string_view v) { return 4 * v.size() + 2; }

std::size_t max_line_size(std::string_view msg, std::initializer_list<Field> fields) {
  // "ts=2024-01-02T03:04:05.678Z level=error msg=" is 44 bytes and the newline one more; the
  // rest of 64 is for a year of more than four digits.
  std::size_t n = 64 + max_value_size(msg);
  for (const auto& f : fields) n += 2 + f.key.size() + max_value_size(f.value());
  return n;
}

char* put(char* out, std::string_view s) {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

char* put_value(char* out, std::string_view v) {
  if (!needs_quotes(v)) return put(out, v);
  *out++ = '"';
  for (char c : v) {
    switch (c) {
      case '"': out = put(out, "\\\""); break;
      case '\\': out = put(out, "\\\\"); break;
      case '\n': out = put(out, "\\n"); break;
      case '\r': out = put(out, "\\r"); break;
      case '\t': out = put(out, "\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr char hex[] = "0123456789abcdef";
          out = put(out, "\\x");
          *out++ = hex[(c >> 4) & 0xf];
          *out++ = hex[c & 0xf];
        } else {
          *out++ = c;
        }
    }
  }
  *out++ = '"';
  return out;
}

void two_digits(char* out, int v) {
  out[0] = static_cast<char>('0' + v / 10);
  out[1] = static_cast<char>('0' + v % 10);
}

// "2024-01-02T03:04:05.678Z" (24 bytes). The text of the second is kept: a busy loop logs many
// lines per second, and gmtime_r + strftime cost more than all the rest of a request line.
char* put_timestamp(char* out) {
  using namespace std::chrono;
  struct Cache {
    std::time_t second = -1;
    char text[32]{};  // 2024-01-02T03:04:05
    std::size_t size = 0;
  };
  thread_local Cache cache;
  const auto ms_total = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(ms_total / 1000);
  const auto ms = static_cast<int>(ms_total % 1000);
  if (secs != cache.second) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    cache.size = std::strftime(cache.text, sizeof cache.text, "%Y-%m-%dT%H:%M:%S", &tm);
    cache.second = secs;
  }
  out = put(out, {cache.text, cache.size});
  out[0] = '.';
  out[1] = static_cast<char>('0' + ms / 100);
  two_digits(out + 2, ms % 100);
  out[4] = 'Z';
  return out + 5;
}

char* put_line(char* out, Level level, std::string_view msg, std::initializer_list<Field> fields) {
  out = put(out, "ts=");
  out = put_timestamp(out);
  out = put(out, " level=");
  out = put(out, name(level));
  out = put(out, " msg=");
  out = put_value(out, msg);
  for (const auto& f : fields) {
    *out++ = ' ';
    out = put(out, f.key);
    *out++ = '=';
    out = put_value(out, f.value());
  }
  *out++ = '\n';
  return out;
}

// --- output

// write(2) until all of it is out. Async-signal-safe (the crash handler uses it). A stderr
// left non-blocking by whoever shares it is waited for, as a blocking one would be.
void write_all(const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{STDERR_FILENO, POLLOUT, 0};
      if (::poll(&pfd, 1, 1000) <= 0) return;  // stuck: drop rather than hang the service
    } else {
      return;  // closed or failing stderr: nothing better to do with a log line
    }
  }
}

// The batch: a fixed array, so that the crash handler reads memory that never moves, and the
// length of the whole lines in it. 64 KiB holds some 400 request lines: more than one turn of
// the loop makes at 50 connections, and one write(2) of it is still short.
constexpr std::size_t kBatchCapacity = 64 * 1024;
char batch[kBatchCapacity];
std::atomic<std::size_t> batch_used{0};
static_assert(std::atomic<std::size_t>::is_always_lock_free, "the crash handler reads batch_used");

Batching* active = nullptr;          // the live scope, if any
thread_local bool batching_here = false;  // this thread made it: its lines go to the batch
bool flush_posted = false;           // a flush is queued on the loop for this turn

void flush_turn() {
  flush_posted = false;
  flush();
}

// Lines that do not go to the batch: formatted in a per-thread scratch buffer that keeps its
// size, one write(2) each (whole lines even when threads log at once).
void write_through(Level level, std::string_view msg, std::initializer_list<Field> fields, std::size_t bound) {
  struct Scratch {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
  };
  thread_local Scratch scratch;
  if (scratch.size < bound) {
    scratch.size = std::max<std::size_t>(bound, 1024);
    scratch.data = std::make_unique_for_overwrite<char[]>(scratch.size);
  }
  char* end = put_line(scratch.data.get(), level, msg, fields);
  write_all(scratch.data.get(), static_cast<std::size_t>(end - scratch.data.get()));
}

// --- the flushes of last resort

constexpr int kFatalSignals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE};
struct sigaction previous_action[std::size(kFatalSignals)];
std::terminate_handler previous_terminate = nullptr;
// A stack for the handler: a stack overflow's SIGSEGV has none left to run on.
alignas(16) char signal_stack[64 * 1024];
bool signal_stack_ours = false;

// Async-signal-safe: write(2) of memory that does not move, an atomic load, sigaction, raise.
void on_fatal_signal(int sig, siginfo_t* info, void*) {
  const int saved_errno = errno;
  const std::size_t n = batch_used.exchange(0);
  if (n > 0) write_all(batch, n);
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i)
    if (kFatalSignals[i] == sig) sigaction(sig, &previous_action[i], nullptr);
  // Sent by a process (kill, abort(), raise): send it again; it is delivered, now to the
  // previous handler or the default action (a core dump), as soon as this handler returns. A
  // fault (a bad address, a division by zero) recurs by itself when the instruction is retried,
  // with its own siginfo for whoever handles it next.
  if (info == nullptr || info->si_code <= 0) raise(sig);
  errno = saved_errno;
}

[[noreturn]] void on_terminate() {
  flush();
  if (previous_terminate) previous_terminate();  // libstdc++'s prints the exception, then aborts
  std::abort();
}

void flush_at_exit() {
  // Lines logged by static destructors after this go out at once.
  active = nullptr;
  flush();
}

void install_last_resort_flushes() {
  static bool exit_registered = false;
  if (!exit_registered) {
    exit_registered = std::atexit(flush_at_exit) == 0;
  }
  previous_terminate = std::set_terminate(on_terminate);

  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
    stack_t ours{};
    ours.ss_sp = signal_stack;
    ours.ss_size = sizeof signal_stack;
    signal_stack_ours = sigaltstack(&ours, nullptr) == 0;
  }
  struct sigaction sa {};
  sa.sa_sigaction = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) sigaction(kFatalSignals[i], &sa, &previous_action[i]);
}

void remove_last_resort_flushes() {
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) sigaction(kFatalSignals[i], &previous_action[i], nullptr);
  if (signal_stack_ours) {
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    signal_stack_ours = false;
  }
  std::set_terminate(previous_terminate);
  previous_terminate = nullptr;
}

}  // namespace

bool parse_level(std::string_view t, Level& out) {
  if (t == "debug") out = Level::debug;
  else if (t == "info") out = Level::info;
  else if (t == "warn" || t == "warning") out = Level::warn;
  else if (t == "error") out = Level::error;
  else return false;
  return true;
}

void set_level(Level level) { current = level; }
bool enabled(Level level) { return level >= current; }

void Field::set_millis(long long ns) {
  // Rounded to the microsecond, half away from zero.
  const bool negative = ns < 0;
  unsigned long long us = (negative ? 0ULL - static_cast<unsigned long long>(ns) : static_cast<unsigned long long>(ns)) + 500;
  us /= 1000;
  fmt::format_int whole(us / 1000);
  char* out = small_;
  if (negative && us != 0) *out++ = '-';
  for (std::size_t i = 0; i < whole.size(); ++i) *out++ = whole.data()[i];
  const auto frac = static_cast<unsigned>(us % 1000);
  out[0] = '.';
  out[1] = static_cast<char>('0' + frac / 100);
  out[2] = static_cast<char>('0' + frac / 10 % 10);
  out[3] = static_cast<char>('0' + frac % 10);
  out += 4;
  small_size_ = static_cast<unsigned char>(out - small_);
  kind_ = Kind::small;
}

std::string format_line(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line(max_line_size(msg, fields), '\0');
  char* end = put_line(line.data(), level, msg, fields);
  line.resize(static_cast<std::size_t>(end - line.data()));
  return line;
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  const std::size_t bound = max_line_size(msg, fields);
  if (batching_here && active) {
    std::size_t used = batch_used.load(std::memory_order_relaxed);
    if (bound > kBatchCapacity - used) {
      flush();  // full: the lines so far go first, in order
      used = 0;
    }
    if (bound <= kBatchCapacity) {
      char* end = put_line(batch + used, level, msg, fields);
      // The crash handler sees the line only once it is whole.
      std::atomic_signal_fence(std::memory_order_release);
      batch_used.store(static_cast<std::size_t>(end - batch), std::memory_order_relaxed);
      if (!flush_posted) {
        try {
          active->post(&flush_turn);
          flush_posted = true;
        } catch (...) {
          flush();  // could not queue the flush (out of memory): write the line now
        }
      }
      return;
    }
  }
  write_through(level, msg, fields, bound);
}

void flush() {
  const std::size_t n = batch_used.load(std::memory_order_relaxed);
  if (n == 0) return;
  write_all(batch, n);
  batch_used.store(0, std::memory_order_relaxed);
}

Batching::Batching(std::function<void(void (*)())> p) : post(std::move(p)) {
  flush();
  active = this;
  batching_here = true;
  flush_posted = false;
  install_last_resort_flushes();
}

Batching::~Batching() {
  flush();
  if (active == this) active = nullptr;
  batching_here = false;
  flush_posted = false;  // a queued flush_turn that still runs finds nothing to write
  remove_last_resort_flushes();
}

}  // namespace zpark::log
