// The whole emulator as one pure function of (request, time): routing, authorisation, fault
// injection and the request log. The server only does I/O around Emulator::handle.
#pragma once
#include "types.hpp"
#include "world.hpp"

namespace emu {

class Emulator {
 public:
  explicit Emulator(Config c) : world_(std::move(c)) {}
  Outcome handle(const HttpIn& in, const Now& now);
  // The I/O layer's report on one Outcome::deliveries entry.
  void delivery_finished(std::uint64_t seq, const DeliveryResult& r, const Now& now);
  World& world() { return world_; }

 private:
  World world_;
};

}  // namespace emu
