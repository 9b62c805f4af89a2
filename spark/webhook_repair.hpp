#pragma once
// What to do so that exactly one active Webex webhook of ours points at Zpark with the right
// secret: a pure plan from the bot's webhook list, carried out by `zpark webhook repair` and
// by the self-heal check while serving.
#include "spark/webex_webhooks.hpp"

#include <string>
#include <vector>

namespace zpark::spark {

struct RepairStep {
  enum class Kind { create, update, remove } kind = Kind::create;
  std::string id;      // the webhook updated or removed
  std::string reason;  // for the log and the CLI: "was disabled by Webex", ...
};

// Ours: resource/event as `want` and either our target URL or our name (a changed
// ZPARK_SERVER_URL leaves the old target behind). Keeps one (active and exact first), fixes
// its target, secret or status with one update, removes the other ones of ours, and creates
// one when none is left. Webhooks of other resources or names are never touched.
std::vector<RepairStep> plan_repair(const std::vector<WebhookInfo>& hooks, const WebhookSpec& want);

}  // namespace zpark::spark
