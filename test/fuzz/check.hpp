#pragma once
// What the fuzz targets share: an invariant check that stops the run (a crash is a finding,
// and libFuzzer saves the input that caused it), and a UTF-8 validator.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace zpark::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "\nFUZZ INVARIANT BROKEN at %s:%d: %s\n", file, line, what);
  std::abort();
}

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
inline bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) n = 2, cp = b0 & 0x1F, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0) n = 3, cp = b0 & 0x0F, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0) n = 4, cp = b0 & 0x07, min = 0x10000;
    else return false;
    if (s.size() - i < n) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// Splits fuzz input into fields at a separator byte sequence (for targets with several
// parameters); the last field takes the rest.
struct Fields {
  std::string_view rest;
  std::string_view next(std::string_view sep = "\n--\n") {
    const auto at = rest.find(sep);
    std::string_view out = rest.substr(0, at);
    rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + sep.size());
    return out;
  }
};

}  // namespace zpark::fuzz

// Checked in every build type (assert() would vanish under NDEBUG).
#define FUZZ_CHECK(cond)                                              \
  do {                                                                \
    if (!(cond)) ::zpark::fuzz::fail(#cond, __FILE__, __LINE__);      \
  } while (0)

inline std::string_view fuzz_bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
