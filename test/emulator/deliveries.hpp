// Webhook deliveries: which POSTs an event causes (planned here, sent by the I/O layer), and
// the log of every one of them for GET /_emu/deliveries. Webex's habit of disabling a webhook
// after many failed deliveries lives here too.
#pragma once
#include <boost/json/object.hpp>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "types.hpp"

namespace emu {

struct World;
struct Message;
struct EventFacts;

struct Delivery {
  enum class State { pending, delivered, failed };
  std::uint64_t seq = 0;
  std::string webhook_id, webhook_name, target_url;
  std::string resource, event, data_id, actor_id;
  bool from_bot = false;    // the bot's own message: Webex delivers it, Zpark must ignore it
  bool redelivery = false;  // sent again through POST /_emu/redeliver
  std::string body;         // the exact bytes POSTed
  std::string signature;    // X-Spark-Signature; "" when the webhook has no secret
  State state = State::pending;
  DeliveryResult result;
  std::int64_t queued_ms = 0, done_ms = 0;
};

class DeliveryLog {
 public:
  explicit DeliveryLog(std::size_t capacity) : capacity_(capacity) {}
  Delivery& add(Delivery d);  // assigns seq
  Delivery* find(std::uint64_t seq);
  std::uint64_t last_seq() const { return next_seq_ - 1; }
  // seq keeps counting: a result arriving after a reset never lands on a newer entry.
  void clear();
  // {"deliveries":[...]} with seq > since, oldest first.
  boost::json::object to_json(std::uint64_t since) const;

  // Records a failure of `webhook_id` at `now_ms`; returns the failures within the window.
  std::size_t failed(const std::string& webhook_id, std::int64_t now_ms, std::int64_t window_ms);
  void forget_failures(const std::string& webhook_id) { failures_.erase(webhook_id); }

 private:
  std::size_t capacity_;
  std::deque<Delivery> entries_;
  std::uint64_t next_seq_ = 1;
  std::unordered_map<std::string, std::deque<std::int64_t>> failures_;
};

boost::json::object to_json(const Delivery& d);

// Which webhooks get this event, and their POSTs. Every planned delivery is logged at once
// (state "pending"); a target off loopback is logged as failed and not sent.
// `only_webhook` non-empty limits the delivery to that webhook.
struct DeliveryRequest {
  bool redelivery = false;
  std::string only_webhook;
};
std::vector<Outbound> deliver_message(World& w, const Message& m, const Now& now,
                                      const DeliveryRequest& how = {});
std::vector<Outbound> deliver_action(World& w, const boost::json::object& action, const Now& now,
                                     const DeliveryRequest& how = {});

// The I/O layer's report. A failure (no answer, or not 2xx) counts towards disabling the
// webhook (status "inactive"), as Webex does.
void finish_delivery(World& w, std::uint64_t seq, const DeliveryResult& r, const Now& now);

}  // namespace emu
