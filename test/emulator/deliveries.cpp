#include "deliveries.hpp"

#include <algorithm>

#include "webhook_events.hpp"
#include "world.hpp"

namespace emu {
namespace json = boost::json;
namespace {

constexpr std::string_view state_name(Delivery::State s) {
  switch (s) {
    case Delivery::State::pending:
      return "pending";
    case Delivery::State::delivered:
      return "delivered";
    case Delivery::State::failed:
      return "failed";
  }
  return "?";
}

std::vector<Outbound> deliver(World& w, const EventFacts& e, const json::object& data,
                              const Now& now, const DeliveryRequest& how) {
  if (w.store.webhooks().empty()) return {};  // the common case in benchmarks
  const Person& bot = w.store.bot();
  const Owner owner{w.store.ids().derived("ORGANIZATION", bot.email),
                    w.store.ids().derived("APPLICATION", bot.email), bot.id};
  std::vector<Outbound> out;
  for (const Webhook& h : w.store.webhooks()) {
    if (!how.only_webhook.empty() && h.id != how.only_webhook) continue;
    if (!webhook_wants(h, e, bot.id)) continue;
    Delivery d;
    d.webhook_id = h.id;
    d.webhook_name = h.name;
    d.target_url = h.target_url;
    d.resource = e.resource;
    d.event = e.event;
    d.data_id = e.data_id;
    d.actor_id = e.person_id;
    d.from_bot = e.person_id == bot.id;
    d.redelivery = how.redelivery;
    d.body = envelope_body(h, owner, e, data);
    if (h.secret && !h.secret->empty()) d.signature = hmac_sha1_hex(*h.secret, d.body);
    d.queued_ms = now.steady_ms;
    auto target = loopback_target(h.target_url);
    if (!target) {
      d.state = Delivery::State::failed;
      d.result.error = target.error().message;
      d.done_ms = now.steady_ms;
    }
    const Delivery& logged = w.deliveries.add(std::move(d));
    if (target)
      out.push_back(Outbound{logged.seq, std::move(target->origin), std::move(target->target),
                             logged.body, logged.signature});
  }
  return out;
}

}  // namespace

Delivery& DeliveryLog::add(Delivery d) {
  d.seq = next_seq_++;
  if (entries_.size() >= capacity_) entries_.pop_front();
  return entries_.emplace_back(std::move(d));
}

Delivery* DeliveryLog::find(std::uint64_t seq) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), seq,
                             [](const Delivery& d, std::uint64_t s) { return d.seq < s; });
  return it != entries_.end() && it->seq == seq ? &*it : nullptr;
}

void DeliveryLog::clear() {
  entries_.clear();
  failures_.clear();
}

json::object DeliveryLog::to_json(std::uint64_t since) const {
  json::array out;
  auto first = std::upper_bound(entries_.begin(), entries_.end(), since,
                                [](std::uint64_t s, const Delivery& d) { return s < d.seq; });
  for (auto it = first; it != entries_.end(); ++it) out.push_back(emu::to_json(*it));
  return json::object{{"deliveries", std::move(out)}};
}

std::size_t DeliveryLog::failed(const std::string& webhook_id, std::int64_t now_ms,
                                std::int64_t window_ms) {
  auto& times = failures_[webhook_id];
  times.push_back(now_ms);
  while (!times.empty() && times.front() <= now_ms - window_ms) times.pop_front();
  return times.size();
}

json::object to_json(const Delivery& d) {
  json::object o{{"seq", d.seq},
                 {"webhook_id", d.webhook_id},
                 {"webhook_name", d.webhook_name},
                 {"target_url", d.target_url},
                 {"resource", d.resource},
                 {"event", d.event},
                 {"data_id", d.data_id},
                 {"actor_id", d.actor_id},
                 {"from_bot", d.from_bot},
                 {"redelivery", d.redelivery},
                 {"state", state_name(d.state)},
                 {"status", d.result.status},
                 {"queued_ms", d.queued_ms}};
  if (d.state != Delivery::State::pending) o["done_ms"] = d.done_ms;
  if (!d.result.error.empty()) o["error"] = d.result.error;
  if (!d.result.response.empty()) o["response"] = d.result.response;
  o["body"] = d.body;
  o["signature"] = d.signature.empty() ? json::value(nullptr) : json::value(d.signature);
  return o;
}

std::vector<Outbound> deliver_message(World& w, const Message& m, const Now& now,
                                      const DeliveryRequest& how) {
  return deliver(w, message_facts(m), message_event_data(m), now, how);
}

std::vector<Outbound> deliver_action(World& w, const json::object& action, const Now& now,
                                     const DeliveryRequest& how) {
  std::string email;
  if (const auto* id = action.if_contains("personId"); id && id->is_string())
    if (const Person* p = w.store.person_by_id(std::string(id->get_string()))) email = p->email;
  return deliver(w, action_facts(action, std::move(email)), action_event_data(action), now, how);
}

void finish_delivery(World& w, std::uint64_t seq, const DeliveryResult& r, const Now& now) {
  Delivery* d = w.deliveries.find(seq);
  if (!d) return;  // dropped by a reset or by the log's capacity
  d->result = r;
  d->done_ms = now.steady_ms;
  const bool ok = r.error.empty() && r.status >= 200 && r.status < 300;
  d->state = ok ? Delivery::State::delivered : Delivery::State::failed;
  if (ok) return;
  unsigned limit = w.faults.settings().disable_webhook_after_failures;
  std::size_t recent = w.deliveries.failed(d->webhook_id, now.steady_ms, webex_failure_window_ms);
  if (limit == 0 || recent < limit) return;
  if (Webhook* h = w.store.webhook(d->webhook_id)) h->status = "inactive";
  w.deliveries.forget_failures(d->webhook_id);  // re-activated, it starts afresh
}

}  // namespace emu
