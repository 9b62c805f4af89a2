// Sends the webhook POSTs the emulator's logic decided (Outcome::deliveries) and reports each
// result back to it. I/O only: the bytes, signature and target were fixed by deliveries.cpp.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "emulator.hpp"

namespace zpark::net {
class HttpClient;
}

namespace emu {

struct DelivererOptions {
  std::string ca_file;  // trusted for https targets, besides the system CAs; "" = system only
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{10000};
};

// The emulator's clock for the I/O layer: steady time since the emulator started.
struct Clock {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  Now now() const;
};

class Deliverer {
 public:
  // `emu` must outlive the Deliverer; so must the Deliverer every delivery it started.
  Deliverer(boost::asio::any_io_executor ex, Emulator& emu, DelivererOptions opts,
            Clock clock = {});
  ~Deliverer();
  Deliverer(const Deliverer&) = delete;
  Deliverer& operator=(const Deliverer&) = delete;

  // Starts one POST and returns at once. One connection per target origin, so a receiver
  // gets its deliveries in the order they were decided (a redelivery after the original).
  void send(Outbound o);

  const Clock& clock() const { return clock_; }
  Emulator& emulator() { return emu_; }

 private:
  struct Sending;
  zpark::net::HttpClient* client_for(const std::string& origin, std::string& error);

  boost::asio::any_io_executor ex_;
  Emulator& emu_;
  DelivererOptions opts_;
  Clock clock_;
  std::map<std::string, std::unique_ptr<zpark::net::HttpClient>> clients_;
};

}  // namespace emu
