#include "request_log.hpp"

#include <algorithm>

namespace emu {
namespace json = boost::json;

LoggedRequest& RequestLog::add(LoggedRequest r) {
  r.seq = next_seq_++;
  if (entries_.size() >= capacity_) entries_.pop_front();
  return entries_.emplace_back(std::move(r));
}

void RequestLog::clear() {
  entries_.clear();
  next_seq_ = 1;
}

json::object RequestLog::to_json(std::uint64_t since) const {
  json::array out;
  // seq is increasing, so skip straight to the first entry after `since`.
  auto first = std::upper_bound(entries_.begin(), entries_.end(), since,
                                [](std::uint64_t s, const LoggedRequest& e) { return s < e.seq; });
  for (auto it = first; it != entries_.end(); ++it) {
    json::object o{{"seq", it->seq},
                   {"time_ms", it->time_ms},
                   {"method", it->method},
                   {"path", it->path},
                   {"authorization_ok", it->authorization_ok},
                   {"body", it->body},
                   {"status", it->status},
                   {"outcome", it->outcome},
                   {"trackingId", it->tracking_id}};
    if (!it->message_id.empty()) o["message_id"] = it->message_id;
    out.push_back(std::move(o));
  }
  return json::object{{"requests", std::move(out)}};
}

}  // namespace emu
