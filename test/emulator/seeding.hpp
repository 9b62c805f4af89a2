// What people do in Webex, seeded by tests through the control API: write a message
// (POST /_emu/messages) or press a card button (POST /_emu/attachment_actions). Pure
// functions over the Store; the control API adds the webhook deliveries.
#pragma once
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "json_util.hpp"
#include "store.hpp"

namespace emu {

// A group message that @mentions the bot, as Webex renders it: text "SHOWN REST" and html
// <p><spark-mention data-object-type="person" data-object-id="BOT">SHOWN</spark-mention>
// REST</p>, both escaped for HTML. SHOWN is what the writer's client displayed (often only
// the first name), so a client must strip the mention by the html or mentionedPeople.
struct RenderedMention {
  std::string text, html;
};
RenderedMention render_bot_mention(std::string_view bot_id, std::string_view shown,
                                   std::string_view rest);

// POST /_emu/messages: {personEmail, displayName?, roomId?, text?, markdown?, html?,
// mentionedPeople?, mentionBot?, parentId?, deliver?}. Without roomId the message is in the
// author's direct room with the bot. mentionBot: "SHOWN" renders text/html/mentionedPeople
// with render_bot_mention (text being REST); an html or mentionedPeople given too is kept.
// Unknown keys are errors, so a typo fails the test that made it.
struct SeededMessage {
  const Message* message = nullptr;
  bool deliver = true;  // "deliver": false stores without webhook deliveries
};
Result<SeededMessage> seed_message(Store& store, const boost::json::object& body,
                                   const std::string& now);

// POST /_emu/attachment_actions: {id?, type?, messageId?, inputs?, personId? | personEmail?,
// displayName? (with personEmail: the presser's name in GET /v1/people/{id}), roomId?,
// created?, deliver?}. Stored as GET /v1/attachment/actions/{id} answers it: id
// made up when absent, type "submit", personEmail turned into personId, roomId taken from
// the card's message, created now. deliver: true (needs messageId and a person) fires the
// attachmentActions/created webhooks.
struct SeededAction {
  const boost::json::object* action = nullptr;
  bool deliver = false;
};
Result<SeededAction> seed_action(Store& store, const boost::json::object& body,
                                 const std::string& now);

}  // namespace emu
