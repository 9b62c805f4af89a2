#pragma once
// Routes that need nothing but the process itself: ping, health, readiness, metrics.
#include "app/api.hpp"

#include <functional>

namespace zpark::app {

// Ready when every check passes; each returns empty when fine or a short reason.
using ReadinessCheck = std::function<std::string()>;

void add_basic_routes(Api& api, std::vector<ReadinessCheck> checks);

// Python's str(datetime.utcnow()): "YYYY-MM-DD HH:MM:SS.ffffff", fraction omitted when zero.
std::string original_utctime(std::chrono::system_clock::time_point t);

}  // namespace zpark::app
