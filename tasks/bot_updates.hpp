#pragma once
// "No double news": when the bot acts on a problem for a Webex user (ack, close, comment...),
// Zabbix sends its own update notification for it back through the alert relay, to every
// recipient of the problem. In the room where the user asked, the bot's reply already said what
// was done, so that update would be the same news twice; everywhere else it is the only news.
//
// Chosen: remember each write the bot makes (event, room of the reply, the exact message Zabbix
// records, which names the Webex user), and drop the matching update alert for that room only,
// within a short window: it is recorded delivered without being sent. Matching on the message
// text, not only the event, keeps every other update (someone else's ack in the frontend, a
// second comment) flowing. Kept in memory on purpose: a restart in the seconds between an ack and
// its update costs one duplicate notice, never a lost one, and the outbox schema stays as is.
// Pure: time is passed in.
#include <cstdint>
#include <deque>
#include <string>

namespace zpark::tasks {

class BotUpdates {
 public:
  explicit BotUpdates(std::int64_t window_ms = 10 * 60 * 1000) : window_ms_(window_ms) {}

  // The bot is about to write `message` on `event_id` for a user answered in `room_id`.
  void expect(std::string event_id, std::string room_id, std::string message, std::int64_t now_ms);

  // True when an update alert for `event_id` carrying `update_message` ({EVENT.UPDATE.MESSAGE}),
  // bound for `room_id` (the room of the problem's thread for that recipient, or the recipient
  // when it is a room), is the echo of such a write made less than the window ago.
  bool is_echo(const std::string& event_id, const std::string& room_id, const std::string& update_message,
               std::int64_t now_ms);

  std::size_t size() const { return writes_.size(); }

 private:
  struct Write {
    std::string event_id, room_id, message;
    std::int64_t at_ms = 0;
  };
  void forget_old(std::int64_t now_ms);

  std::int64_t window_ms_;
  std::deque<Write> writes_;  // oldest first
};

}  // namespace zpark::tasks
