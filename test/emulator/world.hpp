// Everything the emulator knows, owned by Emulator and handed to the route handlers.
#pragma once
#include <cstdint>
#include <string>

#include "deliveries.hpp"
#include "faults.hpp"
#include "request_log.hpp"
#include "store.hpp"
#include "types.hpp"

namespace emu {

struct Config {
  std::string token = "test-token";
  std::string bot_email = "zpark@webex.bot";
  std::uint64_t id_salt = 1;
  std::size_t request_log_capacity = 1'000'000;
  std::size_t delivery_log_capacity = 100'000;
};

struct World {
  explicit World(Config c)
      : config(std::move(c)),
        store(config.id_salt, config.bot_email),
        log(config.request_log_capacity),
        deliveries(config.delivery_log_capacity) {}
  Config config;
  Store store;
  Faults faults;
  RateLimitWatch rate_limits;  // kept when faults change; cleared by POST /_emu/reset
  RequestLog log;
  DeliveryLog deliveries;
  Stats stats;
};

}  // namespace emu
