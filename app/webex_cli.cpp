#include "app/webex_cli.hpp"

#include "app/relay_wiring.hpp"
#include "spark/webex_webhooks.hpp"
#include "spark/webhook_repair.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <functional>

namespace zpark::app {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = boost::beast::http;
using spark::WebhookInfo;

namespace {

void print(const WebhookInfo& w) {
  std::printf("%s  %s  %s  %s/%s  %s  secret %s\n", w.id.c_str(), w.status.c_str(), w.target_url.c_str(),
              w.resource.c_str(), w.event.c_str(), w.name.c_str(), w.has_secret ? "set" : "NOT set");
}

json::object to_json(const WebhookInfo& w) {
  return {{"id", w.id},       {"name", w.name},     {"targetUrl", w.target_url}, {"resource", w.resource},
          {"event", w.event}, {"status", w.status}, {"created", w.created},      {"secretSet", w.has_secret}};
}

int failed(const char* what, const spark::SendResult& r) {
  std::string tracking = r.tracking_id.empty() ? "" : " (TrackingID " + r.tracking_id + ")";
  std::fprintf(stderr, "zpark: %s failed: %s%s\n", what, r.error.c_str(), tracking.c_str());
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

// `create` and `repair` alike: the plan makes exactly one active webhook of ours, with the
// current target and secret, so running either twice changes nothing the second time.
asio::awaitable<int> repair(spark::WebexClient& webex, const conf::Settings& s, bool creating) {
  std::vector<WebhookInfo> hooks;
  auto r = co_await spark::list_webhooks(webex, hooks, s.webhook_secret);
  if (!r.ok()) co_return failed("listing webhooks", r);
  const auto specs = webhook_specs(s);  // its own statement: GCC bug 107288
  for (const auto& want : specs) {
    auto steps = spark::plan_repair(hooks, want);
    if (steps.empty()) std::printf("The %s webhook is in order; nothing to do.\n", want.resource.c_str());
    for (auto& step : steps) {
      WebhookInfo done;
      switch (step.kind) {
        case spark::RepairStep::Kind::create: {
          auto c = co_await spark::create_webhook(webex, want, done);
          if (!c.ok()) co_return failed("creating the webhook", c);
          std::printf("Webhook created:\n");
          print(done);
          break;
        }
        case spark::RepairStep::Kind::update: {
          auto u = co_await spark::update_webhook(webex, step.id, want, done);
          if (!u.ok()) co_return failed("updating the webhook", u);
          std::printf("Webhook %s %s (%s):\n", step.id.c_str(), creating ? "already registered, refreshed" : "repaired",
                      step.reason.c_str());
          print(done);
          break;
        }
        case spark::RepairStep::Kind::remove: {
          auto d = co_await spark::delete_webhook(webex, step.id);
          if (!d.ok()) co_return failed("deleting a duplicate webhook", d);
          std::printf("Webhook %s deleted (%s).\n", step.id.c_str(), step.reason.c_str());
          break;
        }
      }
    }
  }
  co_return 0;
}

asio::awaitable<int> remove(spark::WebexClient& webex, const conf::Settings& s, std::string id) {
  std::vector<std::string> ids{id};
  if (id == "--all-mine") {
    ids.clear();
    std::vector<WebhookInfo> hooks;
    auto r = co_await spark::list_webhooks(webex, hooks);
    if (!r.ok()) co_return failed("listing webhooks", r);
    auto cards = webhook_spec(s);  // the card webhook too, even with the cards off now
    cards.name = "Zpark card actions webhook";
    for (auto& h : hooks)
      for (const auto& want : {webhook_spec(s), cards})
        if (h.name == want.name || h.target_url == want.target_url) {
          ids.push_back(h.id);
          break;
        }
    if (ids.empty()) std::printf("No webhook of ours to delete.\n");
  }
  for (auto& one : ids) {
    auto r = co_await spark::delete_webhook(webex, one);
    if (!r.ok()) co_return failed("deleting the webhook", r);
    std::printf("Webhook %s deleted.\n", one.c_str());
  }
  co_return 0;
}

asio::awaitable<int> rooms(spark::WebexClient& webex, bool as_json) {
  json::array all;
  std::string target = "/rooms?max=100";
  for (int page = 0; page < 1000 && !target.empty(); ++page) {
    json::value body;
    net::RequestSpec spec{http::verb::get, target};
    auto r = co_await webex.call(std::move(spec), &body);
    if (!r.ok()) co_return failed("listing rooms", r);
    if (auto* items = body.is_object() ? body.get_object().if_contains("items") : nullptr; items && items->is_array())
      for (auto& item : items->get_array()) all.push_back(item);
    target = r.next_page;
  }
  auto str = [](const json::value& v, const char* key) {
    auto* p = v.is_object() ? v.get_object().if_contains(key) : nullptr;
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  if (as_json) {
    json::array out;
    for (auto& room : all)
      out.push_back(json::object{{"id", str(room, "id")}, {"type", str(room, "type")}, {"title", str(room, "title")}});
    std::printf("%s\n", json::serialize(out).c_str());
    co_return 0;
  }
  if (all.empty()) std::printf("The bot is in no room yet: add it to a space in Webex first.\n");
  for (auto& room : all)
    std::printf("%-7s %s  \"%s\"\n", str(room, "type").c_str(), str(room, "id").c_str(), str(room, "title").c_str());
  co_return 0;
}

asio::awaitable<int> send(spark::WebexClient& webex, std::string to, std::string text) {
  spark::OutMessage m{to, text, ""};
  auto r = co_await webex.send(std::move(m));
  if (!r.ok()) co_return failed("sending the message", r);
  std::printf("Sent to %s (message id %s).\n", to.c_str(), r.message_id.c_str());
  co_return 0;
}

constexpr const char* kUsage =
    "usage: zpark webhook create            register (or refresh) the messages webhook at ZPARK_SERVER_URL\n"
    "       zpark webhook list [--json]     the bot's webhooks (secrets are never shown)\n"
    "       zpark webhook delete ID|--all-mine\n"
    "       zpark webhook repair            re-activate, fix target or secret, remove duplicates\n"
    "       zpark rooms [--json]            rooms the bot is in (ids for a Zabbix user's media)\n"
    "       zpark send --to EMAIL|ROOMID TEXT   one message, to test a setup\n";

bool usage_ok(const std::string& verb, const std::vector<std::string>& a) {
  auto json_flag = [&](std::size_t i) { return a.size() == i || (a.size() == i + 1 && a[i] == "--json"); };
  if (verb == "rooms") return json_flag(0);
  if (verb == "send") return a.size() == 3 && a[0] == "--to" && !a[1].empty() && !a[2].empty();
  if (a.empty()) return false;
  if (a[0] == "create" || a[0] == "repair") return a.size() == 1;
  if (a[0] == "list") return json_flag(1);
  if (a[0] == "delete") return a.size() == 2;
  return false;
}

// The setting a verb cannot do without, or empty.
std::string missing_setting(const conf::Settings& s, const std::string& verb, const std::vector<std::string>& a) {
  if (s.dry_run()) return "SPARK_ACCESS_TOKEN is not set; these commands need the bot's token";
  const bool registers = verb == "webhook" && (a[0] == "create" || a[0] == "repair");
  if (registers && s.server_url.empty())
    return "ZPARK_SERVER_URL is not set; set it to Zpark's public URL, e.g. https://zpark.example.com or "
           "https://example.com/zpark";
  if (registers && s.webhook_secret.empty())
    return "SPARK_WEBHOOK_SECRET is not set; set it to a long random string (e.g. `openssl rand -hex 32`) so "
           "Zpark can verify that calls come from Webex";
  return {};
}

}  // namespace

spark::WebhookSpec webhook_spec(const conf::Settings& s) {
  spark::WebhookSpec spec;
  std::string url = s.server_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  spec.target_url = url + "/api/v1/webhook";
  spec.secret = s.webhook_secret;
  return spec;
}

std::vector<spark::WebhookSpec> webhook_specs(const conf::Settings& s) {
  std::vector<spark::WebhookSpec> specs{webhook_spec(s)};
  if (s.cards_on()) {
    auto cards = specs.front();
    cards.name = "Zpark card actions webhook";
    cards.resource = "attachmentActions";
    specs.push_back(std::move(cards));
  }
  return specs;
}

int run_webex_cli(const conf::Settings& s, const std::string& verb, const std::vector<std::string>& args) {
  if (!usage_ok(verb, args)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (auto missing = missing_setting(s, verb, args); !missing.empty()) {
    std::fprintf(stderr, "zpark %s: %s\n", verb.c_str(), missing.c_str());
    return 78;
  }
  asio::io_context io;
  auto opts = webex_client_options(s);
  opts.pool_size = 1;
  opts.request_timeout = std::chrono::seconds(15);
  spark::WebexClient webex(io.get_executor(), s.spark_token, opts);
  const bool as_json = !args.empty() && args.back() == "--json";
  std::function<asio::awaitable<int>()> task = [&]() -> asio::awaitable<int> {
    if (verb == "rooms") co_return co_await rooms(webex, as_json);
    if (verb == "send") co_return co_await send(webex, args[1], args[2]);
    if (args[0] == "list") co_return co_await list(webex, as_json);
    if (args[0] == "delete") co_return co_await remove(webex, s, args[1]);
    co_return co_await repair(webex, s, args[0] == "create");
  };
  int code = 1;
  asio::co_spawn(io, task(), [&](std::exception_ptr e, int rc) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "zpark %s: %s\n", verb.c_str(), x.what());
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
