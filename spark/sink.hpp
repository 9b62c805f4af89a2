#pragma once
// Where messages go: the Webex API, or (without a token) a dry-run printer. The delivery
// lanes only see this interface.
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace zpark::spark {

struct OutMessage {
  std::string to;         // email (toPersonEmail) when it has '@', else roomId
  std::string markdown;
  std::string parent_id;  // thread root, optional
  std::string card;       // an adaptive card's JSON (optional); markdown is then its fallback
};

struct SendResult {
  bool transport_error = false;  // no HTTP answer (connect, TLS, timeout, reset)
  unsigned status = 0;           // HTTP status when answered
  std::string message_id;        // on success
  std::string room_id;           // on success
  std::optional<long> retry_after_seconds;  // from a 429
  std::string tracking_id;       // Webex TrackingID header, for support
  std::string error;             // human text for logs and task status
  std::string next_page;         // list calls: target of the Link rel="next" page, if any
  bool ok() const { return !transport_error && status >= 200 && status < 300; }
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual boost::asio::awaitable<SendResult> send(OutMessage message) = 0;
  virtual boost::asio::awaitable<SendResult> edit(std::string message_id, std::string room_id,
                                                  std::string markdown) = 0;
};

}  // namespace zpark::spark
