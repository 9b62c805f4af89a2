// The test-only control API under /_emu/: inspect what Zpark sent, seed data, set faults.
#pragma once
#include "request.hpp"
#include "types.hpp"
#include "world.hpp"

namespace emu {

Outcome handle_control(World& w, const Request& r);

}  // namespace emu
