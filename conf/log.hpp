#pragma once
// Structured logging: one logfmt line per event on stderr (journald and docker pick it up).
// Fields are key/value pairs; values are quoted when needed. Never pass secrets here.
//
// Lines are written through, one write(2) each, unless a `Batching` scope is alive on the
// calling thread: the service's event loop then collects the lines of one turn in a buffer and
// writes them with one write(2) when the turn ends, when the buffer is full, when the scope
// ends, at exit() and before a crash report (std::terminate, SIGSEGV/SIGABRT/SIGBUS/SIGFPE).
// Only a SIGKILL or _exit() in the middle of a turn loses lines.
#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace zpark::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

// Parses "debug", "info", "warn"/"warning", "error"; false when unknown.
bool parse_level(std::string_view text, Level& out);
void set_level(Level level);
bool enabled(Level level);

// A duration written as milliseconds with three decimals ("12.345"), what fmt "{:.3f}" makes
// of it, by integer arithmetic (a tenth of the cost of formatting a double).
struct Millis {
  std::chrono::nanoseconds value;
};

// One key=value of a line. A string-like value is only referred to (it lives until the end of
// the full expression that logs it), a number is formatted in place: no allocation per field.
// Values are what fmt "{}" makes of them.
class Field {
 public:
  template <class T>
  Field(std::string_view k, const T& v) : key(k) {
    if constexpr (std::is_pointer_v<T> && std::is_convertible_v<T, const char*>) {
      view_ = v ? std::string_view(v) : std::string_view();
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      view_ = std::string_view(v);
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>) {
      fmt::format_int text(v);
      set_small(text.data(), text.size());
    } else if constexpr (std::is_same_v<T, Millis>) {
      set_millis(v.value.count());
    } else {
      auto r = fmt::format_to_n(small_, sizeof small_, "{}", v);
      if (r.size <= sizeof small_) {
        kind_ = Kind::small;
        small_size_ = static_cast<unsigned char>(r.size);
      } else {
        big_ = fmt::format("{}", v);
        kind_ = Kind::big;
      }
    }
  }

  std::string_view key;
  std::string_view value() const {
    switch (kind_) {
      case Kind::view: return view_;
      case Kind::small: return {small_, small_size_};
      case Kind::big: return big_;
    }
    return view_;
  }

 private:
  enum class Kind : unsigned char { view, small, big };
  void set_small(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) small_[i] = p[i];
    small_size_ = static_cast<unsigned char>(n);
    kind_ = Kind::small;
  }

  void set_millis(long long ns);

  Kind kind_ = Kind::view;
  unsigned char small_size_ = 0;
  char small_[30];  // any integer, most doubles
  std::string_view view_;
  std::string big_;  // a value whose text does not fit in small_
};

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { if (enabled(Level::debug)) write(Level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::error, m, f); }

// Formats one line without writing it (tested on its own).
std::string format_line(Level level, std::string_view msg, std::initializer_list<Field> fields);

// Writes out the lines collected so far (nothing to do without a Batching scope).
void flush();

// While alive, lines logged on the thread that made it are collected and written once per turn
// of its event loop. `post(f)` must arrange for f() to run on that thread after the work already
// queued, e.g. [&io](void (*f)()) { boost::asio::post(io, f); }; it is called by the first line
// of a turn. Also installs the exit, terminate and fatal-signal flushes. One at a time; made
// after the io_context and destroyed before it, so that its destructor flushes what the last
// turn and the teardown logged.
class Batching {
 public:
  explicit Batching(std::function<void(void (*)())> post);
  ~Batching();
  Batching(const Batching&) = delete;
  Batching& operator=(const Batching&) = delete;

  std::function<void(void (*)())> post;
};

}  // namespace zpark::log
