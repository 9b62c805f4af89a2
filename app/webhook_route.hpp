#pragma once
// POST /api/v1/webhook: Webex calls it when someone writes to the bot or presses a button of
// its cards. Checks, in order: body length, X-Spark-Signature on the raw bytes, envelope, the
// bot's own messages, trust (for a button: in the task, by the presser's email), repeats; then
// answers 200 {"taskid"} at once and leaves the work to the command task.
#include "app/api.hpp"
#include "tasks/commands/runner.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace zpark::app {

struct WebhookSettings {
  std::string secret;                 // SPARK_WEBHOOK_SECRET
  std::vector<std::string> trusted;   // SPARK_TRUSTED_USERS
  std::size_t body_limit = 32768;     // MAX_CONTENT_LENGTH
  std::string off_reason;             // non-empty: commands are off, the route answers 503
};

class WebhookRoute {
 public:
  // `runner` may be null when commands are off.
  WebhookRoute(WebhookSettings settings, tasks::CommandRunner* runner);
  void add_to(Api& api);
  // Webhook calls by outcome, for /metrics.
  void render_metrics(std::string& out) const;

 private:
  boost::asio::awaitable<net::Response> handle(net::Request req);
  net::Response outcome(const char* name, net::Response res);

  WebhookSettings s_;
  tasks::CommandRunner* runner_;
  std::map<std::string, std::uint64_t> outcomes_;
};

}  // namespace zpark::app
