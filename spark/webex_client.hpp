#pragma once
// The Webex REST API calls Zpark makes, over the shared keep-alive HTTPS pool.
#include "net/http_client.hpp"
#include "spark/multipart.hpp"
#include "spark/sink.hpp"

#include <boost/json/value.hpp>

namespace zpark::spark {

struct Identity {
  std::string id;
  std::string email;
  std::string display_name;
};

class WebexClient final : public MessageSink {
 public:
  // `base_url` e.g. https://webexapis.com/v1; throws std::invalid_argument (bad URL or CA file).
  WebexClient(boost::asio::any_io_executor ex, std::string token, net::ClientOptions options);

  boost::asio::awaitable<SendResult> send(OutMessage message) override;
  boost::asio::awaitable<SendResult> edit(std::string message_id, std::string room_id,
                                          std::string markdown) override;
  // POST /messages as multipart/form-data with one file (a graph image). Errors as in send().
  boost::asio::awaitable<SendResult> upload(FileMessage message);
  // GET /people/me: proves the token. On failure `error` says what to do.
  boost::asio::awaitable<SendResult> who_am_i(Identity& out);

  // Any Webex API call with the bot's token; the answer's JSON body goes to `body_out` when
  // given. Errors as in send(): status, TrackingID, Retry-After and a readable text.
  boost::asio::awaitable<SendResult> call(net::RequestSpec spec, boost::json::value* body_out);

  net::HttpClient& http() { return http_; }

 private:
  std::string token_;
  net::HttpClient http_;
};

// The target (relative to the API base path, e.g. "/webhooks?cursor=x") of a Link header's
// rel="next" page; empty when there is none.
std::string next_page_target(std::string_view link, std::string_view base_path);

// Prints what would be sent (stdout) and answers with made-up ids.
class DryRunSink final : public MessageSink {
 public:
  boost::asio::awaitable<SendResult> send(OutMessage message) override;
  boost::asio::awaitable<SendResult> edit(std::string message_id, std::string room_id,
                                          std::string markdown) override;

 private:
  unsigned long next_ = 1;
};

}  // namespace zpark::spark
