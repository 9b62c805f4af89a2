#include "ids.hpp"

#include <array>
#include <cstdio>

namespace emu {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser: spreads counters over 64 bits
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::string uuid(std::uint64_t a, std::uint64_t b) {
  std::array<char, 40> out{};
  std::snprintf(out.data(), out.size(), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xffff), static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return out.data();
}

std::string webex_id(std::string_view kind, std::uint64_t a, std::uint64_t b) {
  std::string raw = "ciscospark://us/";
  raw.append(kind).append("/").append(uuid(a, b));
  return base64url_encode(raw);
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
  return out;  // no padding: ids and cursors stay URL-safe
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    auto pos = alphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string IdMaker::next(std::string_view kind) {
  ++counter_;
  return webex_id(kind, mix(salt_ ^ counter_), mix(counter_ + (salt_ << 1)));
}

std::string IdMaker::derived(std::string_view kind, std::string_view key) const {
  std::uint64_t h = fnv1a(key, fnv1a(kind, 0xcbf29ce484222325ULL));
  return webex_id(kind, mix(h ^ salt_), mix(h + salt_));
}

std::string IdMaker::tracking_id() {
  ++counter_;
  return "EMU_" + uuid(mix(salt_ + counter_), mix(counter_ ^ 0x7a7061726bULL));
}

}  // namespace emu
