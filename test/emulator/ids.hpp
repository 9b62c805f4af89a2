// Webex-looking opaque ids. Real ids are base64 of "ciscospark://us/KIND/<uuid>"; clients must
// treat them as opaque, so ours look the same and are never reused within one process.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace emu {

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

class IdMaker {
 public:
  // The salt makes two emulator processes hand out different ids.
  explicit IdMaker(std::uint64_t salt) : salt_(salt) {}

  std::string next(std::string_view kind);  // e.g. next("MESSAGE")
  // Same kind and key give the same id (direct rooms and people derived from an email).
  std::string derived(std::string_view kind, std::string_view key) const;
  std::string tracking_id();  // "EMU_<uuid>"

 private:
  std::uint64_t salt_;
  std::uint64_t counter_ = 0;  // survives /_emu/reset on purpose: ids stay unique
};

}  // namespace emu
