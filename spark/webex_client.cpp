#include "spark/webex_client.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>
#include <random>
#include <cstdio>

namespace zpark::spark {

namespace json = boost::json;
namespace http = boost::beast::http;
using boost::asio::awaitable;

namespace {

std::string webex_error_text(const net::Response& res, const json::value& body) {
  std::string text;
  if (body.is_object())
    if (auto* m = body.get_object().if_contains("message"); m && m->is_string()) text = m->get_string();
  if (text.empty()) text = std::string(res.reason());
  return fmt::format("Webex answered {} ({})", res.result_int(), text);
}

std::optional<long> retry_after(const net::Response& res) {
  auto it = res.find(http::field::retry_after);
  if (it == res.end()) return std::nullopt;
  long v = 0;
  auto s = it->value();
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::string next_page_target(std::string_view link, std::string_view base_path) {
  // Link: <https://webexapis.com/v1/webhooks?max=100&cursor=abc>; rel="next"
  for (std::size_t pos = 0; pos < link.size();) {
    auto end = link.find(',', pos);
    auto part = link.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? link.size() : end + 1;
    if (part.find("rel=\"next\"") == std::string_view::npos) continue;
    auto open = part.find('<'), close = part.find('>');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) continue;
    auto url = part.substr(open + 1, close - open - 1);
    auto scheme = url.find("://");
    if (scheme != std::string_view::npos) {
      auto path = url.find('/', scheme + 3);
      url = path == std::string_view::npos ? std::string_view("/") : url.substr(path);
    }
    if (!base_path.empty() && url.starts_with(base_path)) url.remove_prefix(base_path.size());
    return std::string(url);
  }
  return {};
}

WebexClient::WebexClient(boost::asio::any_io_executor ex, std::string token, net::ClientOptions options)
    : token_(std::move(token)), http_(ex, [&] {
        if (options.tls_hint.empty()) options.tls_hint = "set WEBEX_CA_FILE to the CA that signed it";
        return std::move(options);
      }()) {}

awaitable<SendResult> WebexClient::call(net::RequestSpec spec, json::value* body_out) {
  spec.headers.emplace_back("Authorization", "Bearer " + token_);
  auto r = co_await http_.request(std::move(spec));
  SendResult out;
  if (!r) {
    out.transport_error = true;
    out.error = http_.describe(r.error());
    co_return out;
  }
  const auto& res = *r;
  out.status = res.result_int();
  if (auto it = res.find("TrackingID"); it != res.end()) out.tracking_id = it->value();
  boost::system::error_code ec;
  auto body = res.body().empty() ? json::value() : json::parse(res.body(), ec);
  if (out.status == 429) out.retry_after_seconds = retry_after(res);
  if (auto it = res.find(http::field::link); it != res.end()) out.next_page = next_page_target(it->value(), http_.base_path());
  if (!out.ok()) {
    out.error = webex_error_text(res, body);
    if (out.status == 401) out.error += "; SPARK_ACCESS_TOKEN was refused: check the bot token";
    co_return out;
  }
  if (body.is_object()) {
    const auto& o = body.get_object();
    if (auto* id = o.if_contains("id"); id && id->is_string()) out.message_id = id->get_string();
    if (auto* room = o.if_contains("roomId"); room && room->is_string()) out.room_id = room->get_string();
  }
  if (body_out) *body_out = std::move(body);
  co_return out;
}

awaitable<SendResult> WebexClient::send(OutMessage m) {
  json::object body{{"markdown", m.markdown}};
  body[m.to.find('@') != std::string::npos ? "toPersonEmail" : "roomId"] = m.to;
  if (!m.parent_id.empty()) body["parentId"] = m.parent_id;
  if (!m.card.empty()) {
    boost::system::error_code ec;
    auto content = json::parse(m.card, ec);
    if (!ec && content.is_object())
      body["attachments"] = json::array{json::object{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                                     {"content", std::move(content)}}};
  }
  net::RequestSpec spec{http::verb::post, "/messages", json::serialize(body)};  // not inline: GCC bug 107288
  co_return co_await call(std::move(spec), nullptr);
}

awaitable<SendResult> WebexClient::upload(FileMessage m) {
  static std::mt19937_64 rng{std::random_device{}()};
  const auto fields = file_message_fields(m);
  std::string boundary = multipart_boundary(rng(), rng());
  net::RequestSpec spec{http::verb::post, "/messages", multipart_body(boundary, fields, m.file),
                        "multipart/form-data; boundary=" + boundary};
  co_return co_await call(std::move(spec), nullptr);
}

awaitable<SendResult> WebexClient::edit(std::string message_id, std::string room_id, std::string markdown) {
  json::object body{{"roomId", room_id}, {"markdown", markdown}};
  net::RequestSpec spec{http::verb::put, "/messages/" + message_id, json::serialize(body)};
  co_return co_await call(std::move(spec), nullptr);
}

awaitable<SendResult> WebexClient::who_am_i(Identity& me) {
  json::value body;
  net::RequestSpec spec{http::verb::get, "/people/me"};
  auto r = co_await call(std::move(spec), &body);
  if (r.ok() && body.is_object()) {
    const auto& o = body.get_object();
    if (auto* id = o.if_contains("id"); id && id->is_string()) me.id = id->get_string();
    if (auto* n = o.if_contains("displayName"); n && n->is_string()) me.display_name = n->get_string();
    if (auto* e = o.if_contains("emails"); e && e->is_array() && !e->get_array().empty() &&
                                          e->get_array()[0].is_string())
      me.email = e->get_array()[0].get_string();
  }
  co_return r;
}

awaitable<SendResult> DryRunSink::send(OutMessage m) {
  SendResult r;
  r.status = 200;
  r.message_id = fmt::format("dry-run-{}", next_++);
  r.room_id = "dry-run-room";
  std::string line = fmt::format("dry-run: would send to={} parent={} id={}{}\n{}\n---\n", m.to,
                                 m.parent_id.empty() ? "-" : m.parent_id, r.message_id,
                                 m.card.empty() ? "" : " with a card", m.markdown);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  co_return r;
}

awaitable<SendResult> DryRunSink::edit(std::string message_id, std::string, std::string markdown) {
  SendResult r;
  r.status = 200;
  r.message_id = message_id;
  std::string line = fmt::format("dry-run: would edit id={}\n{}\n---\n", message_id, markdown);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
  co_return r;
}

}  // namespace zpark::spark
