#pragma once
// The adaptive card posted in a problem alert's thread, and what a pressed button means. Pure:
// no I/O. The card is a message of its own, a reply under the problem message, because Webex
// cannot edit a message that carries a card: the problem message stays plain markdown, so
// ZPARK_EDIT_ON_RECOVERY can still mark it resolved.
#include "spark/alert.hpp"
#include "spark/command.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace zpark::spark {

inline constexpr std::string_view kCardContentType = "application/vnd.microsoft.card.adaptive";

struct CardOptions {
  std::string zabbix_url;  // ZABBIX_SERVER_URL (the frontend), for "Open in Zabbix"; empty: no link
};

// The event's page in the Zabbix frontend (6.0 and 7.0): tr_events.php with the trigger and
// event when the trigger is known, else the problem view.
std::string zabbix_event_url(std::string_view zabbix_url, std::string_view trigger_id, std::string_view event_id);

// The card for a problem alert (version 1.3): the problem in a line, a comment field, and the
// buttons Acknowledge, Acknowledge with comment, Close (shown always: the alert does not say
// whether the trigger allows it, and Zabbix's refusal is answered clearly) and Open in Zabbix.
// Each Submit button carries {"zpark": "ack" | "ack_comment" | "close", "event": ID}.
boost::json::object problem_card(const Alert& problem, const CardOptions& options);

// The card's message text for clients without cards (markdown, short).
std::string problem_card_fallback(const Alert& problem);

// The reply task that posts the card under the problem's Webex message `root_id`.
Alert problem_card_reply(const Alert& problem, const std::string& root_id, const CardOptions& options);

// A pressed button, read from GET /attachment/actions/{id}'s "inputs" (Webex merges the
// button's data with the card's input values): ack, or close, with the comment typed in the
// field ("ack_comment" without a comment is a plain ack). nullopt: not one of our cards.
struct CardPress {
  Command::Kind kind = Command::Kind::ack;
  std::string event_id;
  std::string comment;  // trimmed, at most kMaxCommentBytes
};
inline constexpr std::size_t kMaxCommentBytes = 1000;
std::optional<CardPress> read_card_press(const boost::json::value& inputs);

}  // namespace zpark::spark
