#include "spark/webhook_repair.hpp"

#include <algorithm>

namespace zpark::spark {

std::vector<RepairStep> plan_repair(const std::vector<WebhookInfo>& hooks, const WebhookSpec& want) {
  std::vector<const WebhookInfo*> ours;
  for (auto& h : hooks)
    if (h.resource == want.resource && h.event == want.event &&
        (h.target_url == want.target_url || h.name == want.name))
      ours.push_back(&h);
  std::vector<RepairStep> steps;
  if (ours.empty()) {
    steps.push_back({RepairStep::Kind::create, "", "no webhook of ours"});
    return steps;
  }
  // The best one to keep: exact target, then active, then the oldest (list order).
  auto score = [&](const WebhookInfo* h) {
    return (h->target_url == want.target_url ? 2 : 0) + (h->status == "active" ? 1 : 0);
  };
  auto keep = *std::max_element(ours.begin(), ours.end(),
                                [&](const WebhookInfo* a, const WebhookInfo* b) { return score(a) < score(b); });
  std::string why;
  auto add = [&](const std::string& part) { why += (why.empty() ? "" : ", ") + part; };
  if (keep->target_url != want.target_url) add("target was " + keep->target_url);
  if (keep->status != "active") add("was " + (keep->status.empty() ? std::string("not active") : keep->status));
  if (!keep->secret_matches) add(keep->has_secret ? "secret differs" : "had no secret");
  if (!why.empty()) steps.push_back({RepairStep::Kind::update, keep->id, why});
  for (auto* h : ours)
    if (h != keep) steps.push_back({RepairStep::Kind::remove, h->id, "duplicate of " + keep->id});
  return steps;
}

}  // namespace zpark::spark
