#include "app/webhook_cli.hpp"

#include "app/relay_wiring.hpp"
#include "spark/webex_webhooks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdio>

namespace zpark::app {

namespace asio = boost::asio;
namespace json = boost::json;
using spark::WebhookInfo;

namespace {

std::string target_url(const conf::Settings& s) {
  std::string url = s.server_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/api/v1/webhook";
}

void print(const WebhookInfo& w) {
  std::printf("%s  %s  %s  %s/%s  %s  secret %s\n", w.id.c_str(), w.status.c_str(), w.target_url.c_str(),
              w.resource.c_str(), w.event.c_str(), w.name.c_str(), w.has_secret ? "set" : "NOT set");
}

json::object to_json(const WebhookInfo& w) {
  return {{"id", w.id},       {"name", w.name},     {"targetUrl", w.target_url}, {"resource", w.resource},
          {"event", w.event}, {"status", w.status}, {"created", w.created},      {"secretSet", w.has_secret}};
}

int failed(const char* what, const spark::SendResult& r) {
  std::fprintf(stderr, "zpark webhook: %s failed: %s%s\n", what, r.error.c_str(),
               r.tracking_id.empty() ? "" : (" (TrackingID " + r.tracking_id + ")").c_str());
  return 1;
}

asio::awaitable<int> list(spark::WebexClient& webex, bool as_json) {
  std::vector<WebhookInfo> hooks;
  auto r = co_await spark::list_webhooks(webex, hooks);
  if (!r.ok()) co_return failed("listing webhooks", r);
  if (as_json) {
    json::array a;
    for (auto& w : hooks) a.push_back(to_json(w));
    std::printf("%s\n", json::serialize(a).c_str());
  } else if (hooks.empty()) {
    std::printf("No webhooks registered for this bot.\n");
  } else {
    for (auto& w : hooks) print(w);
  }
  co_return 0;
}

// Idempotent: our webhook (same target, messages/created) is re-enabled and given the current
// secret instead of being created twice.
asio::awaitable<int> create(spark::WebexClient& webex, const conf::Settings& s) {
  spark::WebhookSpec spec;
  spec.target_url = target_url(s);
  spec.secret = s.webhook_secret;
  std::vector<WebhookInfo> hooks;
  auto r = co_await spark::list_webhooks(webex, hooks);
  if (!r.ok()) co_return failed("listing webhooks", r);
  for (auto& w : hooks) {
    if (w.target_url != spec.target_url || w.resource != spec.resource || w.event != spec.event) continue;
    WebhookInfo updated;
    auto u = co_await spark::update_webhook(webex, w.id, spec, updated);
    if (!u.ok()) co_return failed("updating the webhook", u);
    std::printf("Webhook already registered; secret refreshed%s:\n", w.status == "active" ? "" : " and re-activated");
    print(updated.id.empty() ? w : updated);
    co_return 0;
  }
  WebhookInfo made;
  auto c = co_await spark::create_webhook(webex, spec, made);
  if (!c.ok()) co_return failed("creating the webhook", c);
  std::printf("Webhook created:\n");
  print(made);
  co_return 0;
}

asio::awaitable<int> remove(spark::WebexClient& webex, std::string id) {
  auto r = co_await spark::delete_webhook(webex, id);
  if (!r.ok()) co_return failed("deleting the webhook", r);
  std::printf("Webhook %s deleted.\n", id.c_str());
  co_return 0;
}

constexpr const char* kUsage =
    "usage: zpark webhook create          register (or refresh) the messages webhook at ZPARK_SERVER_URL\n"
    "       zpark webhook list [--json]   the bot's webhooks (secrets are never shown)\n"
    "       zpark webhook delete ID       remove one\n";

}  // namespace

int run_webhook_cli(const conf::Settings& s, const std::vector<std::string>& args) {
  const std::string verb = args.empty() ? "" : args[0];
  const bool as_json = args.size() == 2 && args[1] == "--json";
  const bool usage_ok = (verb == "create" && args.size() == 1) || (verb == "list" && (args.size() == 1 || as_json)) ||
                        (verb == "delete" && args.size() == 2);
  if (!usage_ok) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (s.dry_run()) {
    std::fprintf(stderr, "zpark webhook: SPARK_ACCESS_TOKEN is not set; it needs the bot's token\n");
    return 78;
  }
  if (verb == "create" && s.server_url.empty()) {
    std::fprintf(stderr, "zpark webhook: ZPARK_SERVER_URL is not set; set it to Zpark's public URL, "
                         "e.g. https://zpark.example.com or https://example.com/zpark\n");
    return 78;
  }
  if (verb == "create" && s.webhook_secret.empty()) {
    std::fprintf(stderr, "zpark webhook: SPARK_WEBHOOK_SECRET is not set; set it to a long random string "
                         "(e.g. `openssl rand -hex 32`) so Zpark can verify that calls come from Webex\n");
    return 78;
  }
  asio::io_context io;
  auto opts = webex_client_options(s);
  opts.pool_size = 1;
  opts.request_timeout = std::chrono::seconds(15);
  spark::WebexClient webex(io.get_executor(), s.spark_token, opts);
  int code = 1;
  auto task = [&]() -> asio::awaitable<int> {
    if (verb == "list") co_return co_await list(webex, as_json);
    if (verb == "create") co_return co_await create(webex, s);
    co_return co_await remove(webex, args[1]);
  };
  asio::co_spawn(io, task(), [&](std::exception_ptr e, int rc) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "zpark webhook: %s\n", x.what());
      }
      rc = 1;
    }
    code = rc;
    webex.http().close();  // pooled keep-alive connections would hold io.run() for their idle timeout
  });
  io.run();
  return code;
}

}  // namespace zpark::app
