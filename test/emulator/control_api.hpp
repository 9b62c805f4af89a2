// The test-only control API under /_emu/: inspect what Zpark sent, seed data, set faults,
// and drive webhooks the way Webex would. No token needed. Bodies are strict: unknown keys
// are 400, so a typo fails the test that made it.
//
// Inspect
//   GET  /_emu/messages             {"messages":[...]} every message, with edits/deleted/seq
//   GET  /_emu/requests?since=N     {"requests":[...]} every /v1 call (method, path, body, status)
//   GET  /_emu/webhooks             {"webhooks":[...]} as registered through /v1/webhooks
//   GET  /_emu/deliveries?since=N   {"deliveries":[{seq, webhook_id, webhook_name, target_url,
//                                     resource, event, data_id, actor_id, from_bot, redelivery,
//                                     state: pending|delivered|failed, status, error?, response?,
//                                     queued_ms, done_ms?, body, signature|null}]}
//   GET  /_emu/stats                {connections_accepted, tls_handshakes, requests,
//                                    rate_limit_windows, rate_limit_violations,
//                                    violations: [{request, ms_after_429}] (last 100)}:
//                                   /v1 calls made inside a 429's Retry-After, past
//                                   violation_grace_ms (see RateLimitWatch, faults.hpp)
// Seed
//   POST /_emu/rooms                {id, title?, type?} or an array
//   POST /_emu/messages             {personEmail, displayName?, roomId?, text?, markdown?, html?,
//                                    mentionedPeople?, mentionBot?, parentId?, deliver?}
//                                   -> the message; then messages/created webhooks fire
//   POST /_emu/attachment_actions   {id?, type?, messageId?, inputs?, personId?|personEmail?,
//                                    roomId?, created?, deliver?} or an array -> the action(s)
// Webhooks
//   POST /_emu/redeliver            {messageId | attachmentActionId, webhookId?}
//                                   -> {"deliveries":[...planned]}
//   POST /_emu/disable_webhook      {id} -> the webhook, status "inactive"
// Faults and reset
//   POST /_emu/faults               see parse_faults (faults.hpp); replaces all settings
//   POST /_emu/reset                forget everything (delivery seq numbers keep counting)
#pragma once
#include "request.hpp"
#include "types.hpp"
#include "world.hpp"

namespace emu {

Outcome handle_control(World& w, const Request& r);

}  // namespace emu
