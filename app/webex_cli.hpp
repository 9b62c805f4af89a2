#pragma once
// The CLI verbs that talk to Webex with the bot's token: `zpark webhook ...` (register, list,
// delete, repair the bot's webhook at ZPARK_SERVER_URL), `zpark rooms`, `zpark send`.
#include "conf/settings.hpp"
#include "spark/webex_webhooks.hpp"

#include <string>
#include <vector>

namespace zpark::app {

// `verb` is "webhook", "rooms" or "send"; `args` the words after it. Returns the exit code:
// 0 done, 1 Webex refused or unreachable, 2 bad usage, 78 a setting is missing.
// Our webhook as the settings want it: ZPARK_SERVER_URL + /api/v1/webhook, the secret.
spark::WebhookSpec webhook_spec(const conf::Settings& s);
// Every webhook of ours the settings want: the messages one, and with the alert cards on
// (ZPARK_ALERT_CARDS) an attachmentActions one at the same URL for their buttons.
std::vector<spark::WebhookSpec> webhook_specs(const conf::Settings& s);

int run_webex_cli(const conf::Settings& settings, const std::string& verb, const std::vector<std::string>& args);

}  // namespace zpark::app
