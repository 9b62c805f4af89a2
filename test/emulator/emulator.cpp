#include "emulator.hpp"

#include <boost/json/object.hpp>

#include "control_api.hpp"
#include "deliveries.hpp"
#include "request.hpp"
#include "webex_api.hpp"

namespace emu {
namespace {

std::string_view reason(unsigned status) {
  switch (status) {
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Injected failure";
  }
}

Outcome canned(const Request& r, const CannedAnswer& a) {
  Outcome out = fail(r, a.status, std::string(reason(a.status)) + " (emulator fault)");
  if (a.retry_after) out.headers.emplace_back("Retry-After", std::to_string(*a.retry_after));
  return out;
}

// Authorisation first (a 401 never consumes a fault), then faults, then the API itself.
Outcome v1(World& w, Request& r, const HttpIn& in) {
  LoggedRequest entry;
  entry.time_ms = r.now.steady_ms;
  entry.method = r.method;
  entry.path = r.target;
  entry.tracking_id = r.tracking_id;
  entry.authorization_ok = in.authorization.size() == w.config.token.size() + 7 &&
                           in.authorization.starts_with("Bearer ") &&
                           in.authorization.ends_with(w.config.token);
  entry.outcome = "answered";
  // On arrival: a request that was waiting in a client when the 429 went out is judged by
  // when it came, not by what it is answered.
  w.rate_limits.arrived(r.now.steady_ms, r.method + " " + r.target,
                        w.faults.settings().violation_grace_ms);
  Outcome out;
  if (!entry.authorization_ok) {
    out = fail(r, 401,
               "The request requires a valid access token set in the Authorization request "
               "header.");
  } else {
    FaultDecision d = w.faults.decide(r.method, r.segments);
    if (d.kind == FaultDecision::reset) {
      out.disposition = Disposition::reset;
      entry.outcome = "reset";
    } else if (d.kind == FaultDecision::canned) {
      out = canned(r, d.answer);
      if (d.answer.status == 429 && d.answer.retry_after)
        w.rate_limits.answered_429(r.now.steady_ms, *d.answer.retry_after);
    } else {
      out = handle_v1(w, r);
      if (d.reset_after_processing) {
        out.disposition = Disposition::reset;
        entry.outcome = "accepted_then_reset";
      }
    }
    out.delay = std::chrono::milliseconds(w.faults.settings().delay_ms);
    // Webex delivers the bot's own new messages to its webhooks too (from_bot in the log).
    if (!out.message_id.empty())
      if (const Message* m = w.store.message(out.message_id))
        out.deliveries = deliver_message(w, *m, r.now);
  }
  entry.status = out.disposition == Disposition::reset && entry.outcome == "reset" ? 0 : out.status;
  entry.message_id = out.message_id;
  entry.body = std::move(r.body);  // handlers are done with it
  // A file upload: its size, not its bytes (the file itself shows in GET /_emu/files).
  if (!r.raw_body.empty())
    entry.body = boost::json::object{{"multipart", true}, {"bytes", r.raw_body.size()}};
  w.log.add(std::move(entry));
  return out;
}

}  // namespace

void Emulator::delivery_finished(std::uint64_t seq, const DeliveryResult& r, const Now& now) {
  finish_delivery(world_, seq, r, now);
}

Outcome Emulator::handle(const HttpIn& in, const Now& now) {
  std::string tracking = world_.store.ids().tracking_id();
  auto req = decode_request(in, now, tracking);
  Outcome out;
  if (!req) {
    out = error_answer(req.error(), tracking);
  } else if (req->seg(0) == "v1") {
    out = v1(world_, *req, in);
  } else if (req->seg(0) == "_emu") {
    out = handle_control(world_, *req);
  } else {
    out = not_found(*req);
  }
  out.headers.emplace_back("TrackingID", std::move(tracking));
  return out;
}

}  // namespace emu
