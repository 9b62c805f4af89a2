#pragma once
#include "conf/settings.hpp"

namespace zpark::app {

// Runs the service in the foreground until SIGTERM/SIGINT; returns the exit code.
int serve(const conf::Settings& settings);

}  // namespace zpark::app
