#pragma once
// Structured logging: one logfmt line per event on stderr (journald and docker pick it up).
// Fields are key/value pairs; values are quoted when needed. Never pass secrets here.
#include <fmt/format.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace zpark::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

// Parses "debug", "info", "warn"/"warning", "error"; false when unknown.
bool parse_level(std::string_view text, Level& out);
void set_level(Level level);
bool enabled(Level level);

struct Field {
  std::string_view key;
  std::string value;
  template <class T>
  Field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
};

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) { if (enabled(Level::debug)) write(Level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<Field> f = {}) { write(Level::error, m, f); }

// Formats one line without writing it (tested on its own).
std::string format_line(Level level, std::string_view msg, std::initializer_list<Field> fields);

}  // namespace zpark::log
