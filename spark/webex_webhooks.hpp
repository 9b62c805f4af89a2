#pragma once
// The Webex webhook registrations of the bot (GET/POST/PUT/DELETE /webhooks), for the
// `zpark webhook` verbs. Webex lists secrets in clear: WebhookInfo keeps only whether one is set.
#include "spark/webex_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace zpark::spark {

struct WebhookInfo {
  std::string id, name, target_url, resource, event, filter, status, created;
  bool has_secret = false;
  bool secret_matches = false;  // equal to the secret given to list_webhooks (compared, not kept)
};

struct WebhookSpec {
  std::string name = "Zpark incoming webhook";
  std::string target_url;
  std::string resource = "messages";
  std::string event = "created";
  std::string secret;
};

// Every page of GET /webhooks; `secret` (optional) sets secret_matches.
boost::asio::awaitable<SendResult> list_webhooks(WebexClient& webex, std::vector<WebhookInfo>& out,
                                                 std::string secret = {});
boost::asio::awaitable<SendResult> create_webhook(WebexClient& webex, WebhookSpec spec, WebhookInfo& out);
// PUT /webhooks/{id}: name, target and secret as given, status active (re-enables it).
boost::asio::awaitable<SendResult> update_webhook(WebexClient& webex, std::string id, WebhookSpec spec,
                                                  WebhookInfo& out);
boost::asio::awaitable<SendResult> delete_webhook(WebexClient& webex, std::string id);

}  // namespace zpark::spark
