// Every /v1 request in arrival order, for GET /_emu/requests.
#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <string>

namespace emu {

struct LoggedRequest {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  std::string method, path;
  bool authorization_ok = false;
  boost::json::value body;  // parsed JSON or null
  unsigned status = 0;      // 0 when the connection was reset without an answer
  std::string outcome;      // "answered", "reset", "accepted_then_reset"
  std::string message_id;
  std::string tracking_id;
};

class RequestLog {
 public:
  // Oldest entries are dropped past capacity so long benchmarks cannot exhaust memory.
  explicit RequestLog(std::size_t capacity) : capacity_(capacity) {}
  LoggedRequest& add(LoggedRequest r);
  void clear();
  // {"requests":[...]} with seq > since.
  boost::json::object to_json(std::uint64_t since) const;

 private:
  std::size_t capacity_;
  std::deque<LoggedRequest> entries_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace emu
