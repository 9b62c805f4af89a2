// The logger: what a line looks like, lines in order whether written through or batched per
// turn of the loop, and the last lines before an exit or a crash still reaching stderr (checked
// in forked children that die the way the service could).
#define BOOST_TEST_MODULE log
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "conf/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace zpark;

namespace {

// fd 2 goes to a temporary file while alive (the logger writes to fd 2 with write(2)).
class StderrCapture {
 public:
  StderrCapture() {
    char name[] = "/tmp/zpark-log-test.XXXXXX";
    fd_ = ::mkstemp(name);
    BOOST_REQUIRE(fd_ >= 0);
    path_ = name;
    saved_ = ::dup(2);
    ::dup2(fd_, 2);
  }
  ~StderrCapture() {
    ::dup2(saved_, 2);
    ::close(saved_);
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  std::string text() const {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The msg= of every line, in order.
std::vector<std::string> messages(const std::string& text) {
  std::vector<std::string> out;
  for (auto& l : lines_of(text)) {
    auto p = l.find(" msg=");
    if (p == std::string::npos) continue;  // not ours (a sanitizer's report, ...)
    auto e = l.find(' ', p + 5);
    out.push_back(l.substr(p + 5, e == std::string::npos ? std::string::npos : e - p - 5));
  }
  return out;
}

// A loop that is not one: what a line posts is kept, and run when the test says so.
struct FakeLoop {
  std::vector<void (*)()> posted;
  std::function<void(void (*)())> post() {
    return [this](void (*f)()) { posted.push_back(f); };
  }
  void run_posted() {
    auto fns = std::move(posted);
    posted.clear();
    for (auto f : fns) f();
  }
};

struct ChildResult {
  std::string stderr_text;
  int status = 0;
};

// Runs `body` in a forked child whose stderr is a pipe; returns what it wrote and how it ended.
// The child starts from the default action for the fatal signals (not Boost.Test's handlers,
// which would carry it back into the test runner) and dumps no core.
ChildResult run_child(const std::function<void()>& body) {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  std::fflush(stdout);  // or the child's exit() prints what the runner had buffered once more
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], 2);
    ::close(fds[1]);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE}) std::signal(sig, SIG_DFL);
    std::set_terminate(nullptr);  // the library's own, which prints the exception and aborts
    body();
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.stderr_text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  return r;
}

bool killed_by(const ChildResult& r, int sig) { return WIFSIGNALED(r.status) && WTERMSIG(r.status) == sig; }

// A child's last lines: batched, with a loop that never gets to flush them.
void log_last_words(FakeLoop& loop) {
  log::info("first-words", {{"n", 1}});
  log::warn("last-words", {{"n", 2}});
  BOOST_TEST_REQUIRE(loop.posted.size() == 1u);  // buffered: only a turn's end would write them
}

const std::vector<std::string> kLastWords = {"first-words", "last-words"};

// A real SIGSEGV (SEGV_ACCERR): a write to a page mapped without access. Not a null pointer,
// which the compiler or UBSan would turn into a trap or a report of their own.
void touch_forbidden_page() {
  void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  BOOST_TEST_REQUIRE(page != MAP_FAILED);
  *static_cast<volatile int*>(page) = 1;
}

struct Formatted {
  int width;
};

}  // namespace

template <>
struct fmt::formatter<Formatted> : fmt::formatter<std::string_view> {
  auto format(const Formatted& f, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}", std::string(static_cast<std::size_t>(f.width), 'x'));
  }
};

// --- the line

BOOST_AUTO_TEST_CASE(a_line_is_timestamp_level_message_then_fields) {
  auto line = log::format_line(log::Level::info, "request",
                               {{"method", "GET"}, {"path", "/api/v1/ping"}, {"status", 200u}, {"ms", "0.125"}});
  std::regex shape(R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info msg=request method=GET path=/api/v1/ping status=200 ms=0\.125\n)");
  BOOST_TEST(std::regex_match(line, shape), line);
}

BOOST_AUTO_TEST_CASE(values_read_as_fmt_writes_them) {
  const std::string s = "a string";
  const std::string_view sv = "view";
  const char* cs = "c-string";
  auto line = log::format_line(log::Level::error, "m",
                               {{"i", -42},
                                {"u", 4294967295u},
                                {"ll", -9223372036854775807LL - 1},
                                {"d", 0.1},
                                {"half", 1.5},
                                {"big_d", 1e300},
                                {"neg_d", -1.2345678901234567e-308},
                                {"b", true},
                                {"c", 'z'},
                                {"s", s},
                                {"sv", sv},
                                {"cs", cs},
                                {"lit", "on"},
                                {"long", Formatted{40}}});
  auto want = fmt::format(
      " level=error msg=m i=-42 u=4294967295 ll=-9223372036854775808 d={} half={} big_d={} neg_d={} b=true c=z "
      "s=\"a string\" sv=view cs=c-string lit=on long={}\n",
      0.1, 1.5, 1e300, -1.2345678901234567e-308, std::string(40, 'x'));
  BOOST_TEST(line.substr(line.find(' ')) == want);
}

BOOST_AUTO_TEST_CASE(millis_read_as_fmt_writes_a_double_with_three_decimals) {
  using std::chrono::nanoseconds;
  for (long long ns : {0LL, 1LL, 499LL, 501LL, 999LL, 1000LL, 123456LL, 1234567LL, 999999999LL, 12345678901LL,
                       86400000000000LL}) {
    auto line = log::format_line(log::Level::info, "m", {{"ms", log::Millis{nanoseconds(ns)}}});
    auto want = fmt::format("{:.3f}", std::chrono::duration<double, std::milli>(nanoseconds(ns)).count());
    BOOST_TEST(line.substr(line.find(" ms=") + 4) == want + "\n", ns << " ns");
  }
}

BOOST_AUTO_TEST_CASE(values_that_need_it_are_quoted_and_escaped) {
  auto line = log::format_line(log::Level::warn, "two words",
                               {{"empty", ""}, {"eq", "a=b"}, {"q", "say \"hi\""}, {"ctl", std::string("a\nb\r\t\\\x01")}});
  BOOST_TEST(line.substr(line.find(" level=")) ==
             " level=warn msg=\"two words\" empty=\"\" eq=\"a=b\" q=\"say \\\"hi\\\"\" ctl=\"a\\nb\\r\\t\\\\\\x01\"\n");
}

// --- written through (the CLI, tests: no loop)

BOOST_AUTO_TEST_CASE(without_a_loop_each_line_is_written_at_once_in_order) {
  StderrCapture err;
  log::info("one");
  BOOST_TEST(messages(err.text()) == std::vector<std::string>{"one"});
  log::warn("two", {{"k", "v"}});
  log::debug("not at info");
  log::error("three");
  BOOST_TEST(messages(err.text()) == (std::vector<std::string>{"one", "two", "three"}));
}

// --- batched per turn of the loop

BOOST_AUTO_TEST_CASE(batched_lines_wait_for_the_end_of_the_turn_then_leave_in_order) {
  StderrCapture err;
  FakeLoop loop;
  log::Batching batching(loop.post());
  log::info("one");
  log::info("two");
  log::info("three");
  BOOST_TEST(err.text().empty());
  BOOST_TEST(loop.posted.size() == 1u);  // one flush per turn, asked for by its first line
  loop.run_posted();
  BOOST_TEST(messages(err.text()) == (std::vector<std::string>{"one", "two", "three"}));
  log::info("four");  // the next turn asks again
  BOOST_TEST(loop.posted.size() == 1u);
  loop.run_posted();
  BOOST_TEST(messages(err.text()) == (std::vector<std::string>{"one", "two", "three", "four"}));
}

BOOST_AUTO_TEST_CASE(an_io_context_writes_a_turns_lines_after_its_handlers) {
  StderrCapture err;
  boost::asio::io_context io;
  log::Batching batching([&io](void (*f)()) { boost::asio::post(io, f); });
  std::string seen_in_turn, seen_next_turn;
  boost::asio::post(io, [&] {
    log::info("one");
    boost::asio::post(io, [&] {  // queued after the flush the first line asked for
      seen_next_turn = err.text();
      log::info("three");
    });
    log::info("two");
    seen_in_turn = err.text();
  });
  io.run();
  BOOST_TEST(seen_in_turn.empty());
  BOOST_TEST(messages(seen_next_turn) == (std::vector<std::string>{"one", "two"}));
  BOOST_TEST(messages(err.text()) == (std::vector<std::string>{"one", "two", "three"}));
}

BOOST_AUTO_TEST_CASE(a_full_buffer_is_written_before_the_turn_ends) {
  StderrCapture err;
  FakeLoop loop;
  log::Batching batching(loop.post());
  const std::string value(1000, 'v');
  std::vector<std::string> want;
  for (int i = 0; i < 200; ++i) {  // some 200 KiB, more than the buffer holds
    want.push_back(fmt::format("line-{}", i));
    log::info(want.back(), {{"value", value}});
  }
  auto early = messages(err.text());
  BOOST_TEST(!early.empty());
  BOOST_TEST(early.size() < want.size());
  BOOST_TEST(early == std::vector<std::string>(want.begin(), want.begin() + static_cast<long>(early.size())));
  loop.run_posted();
  BOOST_TEST(messages(err.text()) == want);
  for (auto& l : lines_of(err.text())) BOOST_TEST(l.ends_with(value));  // whole lines only
}

BOOST_AUTO_TEST_CASE(a_line_larger_than_the_buffer_is_written_whole_after_the_lines_before_it) {
  StderrCapture err;
  FakeLoop loop;
  log::Batching batching(loop.post());
  log::info("before");
  log::info("huge", {{"value", std::string(200 * 1024, 'h')}});
  BOOST_TEST(messages(err.text()) == (std::vector<std::string>{"before", "huge"}));
  log::info("after");
  loop.run_posted();
  BOOST_TEST(messages(err.text()) == (std::vector<std::string>{"before", "huge", "after"}));
}

BOOST_AUTO_TEST_CASE(the_end_of_the_scope_writes_what_is_left_then_lines_go_through_again) {
  StderrCapture err;
  {
    FakeLoop loop;
    log::Batching batching(loop.post());
    log::info("last-of-the-loop");
    BOOST_TEST(err.text().empty());
  }
  BOOST_TEST(messages(err.text()) == std::vector<std::string>{"last-of-the-loop"});
  log::info("after");
  BOOST_TEST(messages(err.text()) == (std::vector<std::string>{"last-of-the-loop", "after"}));
}

BOOST_AUTO_TEST_CASE(the_end_of_the_scope_gives_back_the_previous_signal_handlers) {
  struct sigaction before {}, during {}, after {};
  sigaction(SIGSEGV, nullptr, &before);
  {
    FakeLoop loop;
    log::Batching batching(loop.post());
    sigaction(SIGSEGV, nullptr, &during);
  }
  sigaction(SIGSEGV, nullptr, &after);
  BOOST_TEST(reinterpret_cast<void*>(during.sa_sigaction) != reinterpret_cast<void*>(before.sa_sigaction));
  BOOST_TEST(reinterpret_cast<void*>(after.sa_sigaction) == reinterpret_cast<void*>(before.sa_sigaction));
}

// --- the last lines before the process ends

BOOST_AUTO_TEST_CASE(exit_writes_the_last_lines) {
  auto r = run_child([] {
    FakeLoop loop;
    log::Batching batching(loop.post());
    log_last_words(loop);
    std::exit(3);
  });
  BOOST_TEST(messages(r.stderr_text) == kLastWords, r.stderr_text);
  BOOST_TEST((WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3));
}

BOOST_AUTO_TEST_CASE(abort_writes_the_last_lines_then_dies_of_sigabrt) {
  auto r = run_child([] {
    FakeLoop loop;
    log::Batching batching(loop.post());
    log_last_words(loop);
    std::abort();
  });
  BOOST_TEST(messages(r.stderr_text) == kLastWords, r.stderr_text);
  BOOST_TEST(killed_by(r, SIGABRT), "status " << r.status);
}

BOOST_AUTO_TEST_CASE(an_uncaught_exception_writes_the_last_lines_before_the_terminate_report) {
  auto r = run_child([] {
    FakeLoop loop;
    log::Batching batching(loop.post());
    log_last_words(loop);
    // Through a noexcept frame: Boost.Test's own try would catch it otherwise.
    static void (*const thrower)() = [] { throw std::runtime_error("broken invariant"); };
    []() noexcept { thrower(); }();
  });
  auto at_words = r.stderr_text.find("msg=last-words");
  auto at_report = r.stderr_text.find("broken invariant");  // libstdc++'s terminate handler still speaks
  BOOST_TEST(at_words != std::string::npos, r.stderr_text);
  BOOST_TEST(at_report != std::string::npos, r.stderr_text);
  BOOST_TEST(at_words < at_report);
  BOOST_TEST(killed_by(r, SIGABRT), "status " << r.status);
}

BOOST_AUTO_TEST_CASE(a_segfault_writes_the_last_lines_then_dies_of_sigsegv) {
  auto r = run_child([] {
    FakeLoop loop;
    log::Batching batching(loop.post());
    log_last_words(loop);
    touch_forbidden_page();
  });
  BOOST_TEST(messages(r.stderr_text) == kLastWords, r.stderr_text);
  BOOST_TEST(killed_by(r, SIGSEGV), "status " << r.status);
}

BOOST_DATA_TEST_CASE(a_fatal_signal_sent_writes_the_last_lines_then_kills,
                     boost::unit_test::data::make({SIGSEGV, SIGABRT, SIGBUS, SIGFPE}), sig) {
  auto r = run_child([sig = sig] {
    FakeLoop loop;
    log::Batching batching(loop.post());
    log_last_words(loop);
    ::kill(::getpid(), sig);
    ::pause();
  });
  BOOST_TEST(messages(r.stderr_text) == kLastWords, r.stderr_text);
  BOOST_TEST(killed_by(r, sig), "status " << r.status);
}

namespace {
void previous_segv_handler(int) {
  constexpr char text[] = "previous handler ran\n";
  (void)!::write(2, text, sizeof text - 1);
  ::_exit(42);
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_segfault_reaches_the_handler_installed_before_ours) {  // e.g. a sanitizer's
  auto r = run_child([] {
    std::signal(SIGSEGV, previous_segv_handler);
    FakeLoop loop;
    log::Batching batching(loop.post());
    log_last_words(loop);
    touch_forbidden_page();
  });
  auto at_words = r.stderr_text.find("msg=last-words");
  auto at_previous = r.stderr_text.find("previous handler ran");
  BOOST_TEST(at_words != std::string::npos, r.stderr_text);
  BOOST_TEST(at_previous != std::string::npos, r.stderr_text);
  BOOST_TEST(at_words < at_previous);
  BOOST_TEST((WIFEXITED(r.status) && WEXITSTATUS(r.status) == 42), "status " << r.status);
}
