#include "spark/webex_webhooks.hpp"

#include <boost/json.hpp>
#include <openssl/crypto.h>

namespace zpark::spark {

namespace json = boost::json;
namespace http = boost::beast::http;
using boost::asio::awaitable;

namespace {

WebhookInfo info_from_json(const json::value& v, const std::string& secret = {}) {
  WebhookInfo w;
  const auto* o = v.if_object();
  if (!o) return w;
  auto str = [&](const char* key) {
    auto* p = o->if_contains(key);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  w.id = str("id");
  w.name = str("name");
  w.target_url = str("targetUrl");
  w.resource = str("resource");
  w.event = str("event");
  w.filter = str("filter");
  w.status = str("status");
  w.created = str("created");
  const auto given = str("secret");
  w.has_secret = !given.empty();
  w.secret_matches = !secret.empty() && given.size() == secret.size() &&
                     CRYPTO_memcmp(given.data(), secret.data(), secret.size()) == 0;
  return w;
}

std::string spec_body(const WebhookSpec& s, bool with_resource) {
  json::object o{{"name", s.name}, {"targetUrl", s.target_url}};
  if (with_resource) {
    o["resource"] = s.resource;
    o["event"] = s.event;
  } else {
    o["status"] = "active";
  }
  if (!s.secret.empty()) o["secret"] = s.secret;
  return json::serialize(o);
}

}  // namespace

awaitable<SendResult> list_webhooks(WebexClient& webex, std::vector<WebhookInfo>& out, std::string secret) {
  std::string target = "/webhooks?max=100";
  for (int page = 0; page < 100; ++page) {
    json::value body;
    net::RequestSpec spec{http::verb::get, target};
    auto r = co_await webex.call(std::move(spec), &body);
    if (!r.ok()) co_return r;
    if (auto* items = body.is_object() ? body.get_object().if_contains("items") : nullptr; items && items->is_array())
      for (auto& item : items->get_array()) out.push_back(info_from_json(item, secret));
    if (r.next_page.empty()) co_return r;
    target = r.next_page;
  }
  co_return SendResult{.status = 200};
}

awaitable<SendResult> create_webhook(WebexClient& webex, WebhookSpec s, WebhookInfo& out) {
  json::value body;
  net::RequestSpec spec{http::verb::post, "/webhooks", spec_body(s, true)};
  auto r = co_await webex.call(std::move(spec), &body);
  if (r.ok()) out = info_from_json(body);
  co_return r;
}

awaitable<SendResult> update_webhook(WebexClient& webex, std::string id, WebhookSpec s, WebhookInfo& out) {
  json::value body;
  net::RequestSpec spec{http::verb::put, "/webhooks/" + id, spec_body(s, false)};
  auto r = co_await webex.call(std::move(spec), &body);
  if (r.ok()) out = info_from_json(body);
  co_return r;
}

awaitable<SendResult> delete_webhook(WebexClient& webex, std::string id) {
  net::RequestSpec spec{http::verb::delete_, "/webhooks/" + id};
  co_return co_await webex.call(std::move(spec), nullptr);
}

}  // namespace zpark::spark
