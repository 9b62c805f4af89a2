// Plain data shared by the emulator's logic and its thin I/O layer.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace emu {

// One HTTP request as the logic sees it: no Beast types, so tests build it by hand.
struct HttpIn {
  std::string method;         // "GET", "POST", ...
  std::string target;         // path with query, as received
  std::string authorization;  // raw Authorization header, "" if absent
  std::string content_type;
  std::string host;  // Host header, used to build absolute Link URLs
  std::string body;
};

// What the I/O layer must do with a request.
enum class Disposition {
  answer,  // write status/headers/body
  reset,   // close the TCP connection abruptly (RST), write nothing
};

// One webhook POST the I/O layer must make after answering (see deliveries.hpp). The logic
// decided everything: the bytes, the signature, and that the target is on loopback.
struct Outbound {
  std::uint64_t seq = 0;  // the delivery's entry in GET /_emu/deliveries
  std::string origin;     // "http://127.0.0.1:8080"
  std::string target;     // "/api/v1/webhook?x=1"
  std::string body;       // exact bytes, signed as they are
  std::string signature;  // X-Spark-Signature; "" means no header (webhook without secret)
};

// How one Outbound ended, reported back by the I/O layer.
struct DeliveryResult {
  unsigned status = 0;   // HTTP status; 0 when no answer came
  std::string error;     // transport failure in words; "" when an answer came
  std::string response;  // start of the answer's body, for debugging a failing receiver
};

struct Outcome {
  unsigned status = 200;
  std::string body;  // empty with 204
  std::vector<std::pair<std::string, std::string>> headers;
  Disposition disposition = Disposition::answer;
  std::chrono::milliseconds delay{0};  // wait this long (timer) before acting
  std::string message_id;              // set when a POST /v1/messages stored a message
  std::vector<Outbound> deliveries;    // webhook POSTs to start once the answer is out
};

// Injected time, so tests need no sleeping and get stable timestamps.
struct Now {
  std::int64_t steady_ms = 0;  // since emulator start
  std::chrono::system_clock::time_point wall{};
};

// A Webex-style failure answer decided by pure logic.
// Has constructors on purpose: as a C++20 aggregate it would be "constructible" from a lone
// number, which makes boost::system::result<unsigned, ApiError> ambiguous.
struct ApiError {
  ApiError() = default;
  ApiError(unsigned s, std::string m) : status(s), message(std::move(m)) {}
  unsigned status = 400;
  std::string message;
};

// Counters the I/O layer bumps; exposed by GET /_emu/stats.
struct Stats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t tls_handshakes = 0;
  std::uint64_t requests = 0;
};

}  // namespace emu
