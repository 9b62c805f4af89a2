#pragma once
// Starts our Webex emulator (test/emulator) over TLS on port 0 and talks to its control
// API with curl. It delivers webhooks to loopback targets and trusts the test CA for https
// ones, so a Zpark started with the test certificates can receive them.
#include "test/support/process.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace zpark::test {

// Runs a shell command, returns its stdout; throws when it exits non-zero.
std::string run_command(const std::string& command);

// `text` as one single-quoted shell word (quotes inside are escaped).
std::string shell_quote(const std::string& text);

class Emulator {
 public:
  static constexpr const char* token = "test-token";  // the bot token it accepts

  // `cert` is "server" (signed by the test CA) or "wrong-server" (signed by another CA).
  // `port` 0 picks a free one; a given port restarts an emulator where an earlier one was.
  explicit Emulator(const std::string& workdir, const std::string& cert = "server", unsigned short port = 0);
  std::string api_url() const { return url_ + "/v1"; }
  std::string ca_file() const;
  boost::json::value get(const std::string& path) const;
  void post(const std::string& path, const std::string& json_body) const;
  // POST to the control API; the answer parsed. Throws on a non-2xx answer (with its body).
  boost::json::value post_json(const std::string& path, const std::string& json_body) const;
  boost::json::array messages() const;  // GET /_emu/messages
  boost::json::array requests() const;  // GET /_emu/requests

  // --- bot commands: people writing to the bot, and the webhooks that carry it to Zpark ---

  // POST /_emu/messages: a person's message, e.g.
  //   {"personEmail":"ann@example.com","roomId":"g1","mentionBot":"Zpark","text":"help"}
  // Returns the message as GET /v1/messages/{id} shows it; its webhooks go out right after.
  boost::json::object seed_message(const std::string& json_body) const;
  // POST /_emu/attachment_actions, e.g. {"messageId":M,"personEmail":E,"inputs":{},
  // "deliver":true}; returns the stored action.
  boost::json::object seed_attachment_action(const std::string& json_body) const;
  // POST /_emu/faults: replaces every fault setting, e.g.
  //   {"fail_next_by_route":{"GET /v1/messages/{id}":[{"status":503}]}}
  void faults(const std::string& json_body) const;
  // GET /_emu/deliveries?since=N: every webhook POST (pending, delivered or failed).
  boost::json::array deliveries(std::uint64_t since = 0) const;
  // POST /_emu/redeliver: the message's envelope again (to `webhook_id` only, if given);
  // returns the deliveries planned.
  boost::json::array redeliver(const std::string& message_id, const std::string& webhook_id = "") const;
  // Polls until `count` deliveries after `since` have finished (delivered or failed) and
  // returns those; throws with the delivery log after `timeout`.
  boost::json::array wait_deliveries(std::size_t count,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                     std::uint64_t since = 0) const;
  boost::json::array webhooks() const;  // GET /_emu/webhooks
  void reset() const;                   // POST /_emu/reset

  // The Webex API as the bot would call it (Authorization: Bearer test-token), e.g.
  // api("POST", "/webhooks", body). Any status is returned, not thrown.
  struct ApiReply {
    unsigned status = 0;
    boost::json::value body;  // null when empty
  };
  ApiReply api(const std::string& method, const std::string& path_under_v1, const std::string& json_body = "") const;
  // POST /v1/webhooks with `json_body` ({name, targetUrl, resource, event, filter?, secret?});
  // returns the webhook's id, throws unless 200.
  std::string create_webhook(const std::string& json_body) const;

  const std::string& url() const { return url_; }
  Process& process() { return *proc_; }

 private:
  std::unique_ptr<Process> proc_;
  std::string url_;
};

}  // namespace zpark::test
