// What Webex sends to a webhook, as pure functions: which webhooks an event reaches (status,
// resource/event, filter, the group-room rule for bots), the envelope's exact bytes and their
// X-Spark-Signature. deliveries.hpp turns these into logged, outgoing POSTs.
#pragma once
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "json_util.hpp"
#include "store.hpp"

namespace emu {

// The facts of one event a webhook filter can test.
struct EventFacts {
  std::string resource;  // "messages" or "attachmentActions"
  std::string event;     // "created"
  std::string data_id;   // message id or attachment action id
  std::string room_id, room_type, person_id, person_email;
  std::string message_id;              // attachmentActions: the card's message
  std::vector<std::string> mentioned;  // messages: mentionedPeople (person ids)
};

EventFacts message_facts(const Message& m);
// `person_email` is looked up by the caller (the action only names personId).
EventFacts action_facts(const boost::json::object& action, std::string person_email);

// A filter "roomId=X&personEmail=a%40b.c" as key/value terms, values percent-decoded.
struct FilterTerm {
  std::string key, value;
};
using Filter = std::vector<FilterTerm>;

// Strict: the keys Webex offers for `resource` that the emulator understands (messages:
// roomId, roomType, personId, personEmail, mentionedPeople; attachmentActions: roomId,
// personId, personEmail, messageId), no repeats; roomType must be group or direct.
// Resources the emulator never delivers accept any well-formed filter.
Result<Filter> parse_filter(std::string_view text, std::string_view resource);

// Every term must hold. mentionedPeople=me means the bot; personEmail ignores case.
bool filter_matches(const Filter& f, const EventFacts& e, std::string_view bot_id);

// A bot sees a group-room message only when it mentions the bot, or when the bot wrote it:
// Webex does deliver the bot's own messages to its webhooks, which Zpark must ignore.
bool bot_sees(const EventFacts& e, std::string_view bot_id);

// Active, resource and event equal (or "all"), filter matching, and visible to the bot.
bool webhook_wants(const Webhook& h, const EventFacts& e, std::string_view bot_id);

// data of messages/created: {id, roomId, roomType, personId, personEmail, mentionedPeople?,
// created, parentId?}; no text, as at Webex.
boost::json::object message_event_data(const Message& m);
// data of attachmentActions/created: {id, type, messageId, personId, roomId, created}.
boost::json::object action_event_data(const boost::json::object& action);

// Ids Webex puts in every envelope besides the webhook's own fields.
struct Owner {
  std::string org_id, app_id, bot_id;
};

// {id, name, targetUrl, resource, event, filter?, orgId, createdBy, appId, ownedBy, status,
// actorId, created, data} serialised once: these bytes are signed and sent unchanged.
// resource/event are the event's (also for a webhook on "all"); actorId is its person;
// `created` is the webhook's creation time, as at Webex, so a redelivery is byte-identical.
std::string envelope_body(const Webhook& h, const Owner& owner, const EventFacts& e,
                          const boost::json::object& data);

// Lowercase hex HMAC-SHA1 of `body` keyed with `key` (the X-Spark-Signature value).
std::string hmac_sha1_hex(std::string_view key, std::string_view body);

// A targetUrl split for the HTTP client; only loopback hosts (127.0.0.0/8, ::1, localhost)
// are accepted, so a test can never make the emulator POST to the internet.
struct Target {
  std::string origin;  // "https://127.0.0.1:8443"
  std::string target;  // "/api/v1/webhook?x=1", at least "/"
};
Result<Target> loopback_target(std::string_view url);

// <p>, &, <, >, " and ' escaped for HTML text and attribute values.
std::string html_escape(std::string_view s);

}  // namespace emu
