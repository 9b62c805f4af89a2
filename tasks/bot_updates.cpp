#include "tasks/bot_updates.hpp"

#include <string_view>

namespace zpark::tasks {

namespace {

// Zabbix keeps the message as given; a media type template may add a line end around it.
std::string_view trimmed(std::string_view s) {
  constexpr std::string_view space = " \t\r\n";
  const auto b = s.find_first_not_of(space);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(space) - b + 1);
}

}  // namespace

void BotUpdates::forget_old(std::int64_t now_ms) {
  while (!writes_.empty() && now_ms - writes_.front().at_ms >= window_ms_) writes_.pop_front();
}

void BotUpdates::expect(std::string event_id, std::string room_id, std::string message, std::int64_t now_ms) {
  forget_old(now_ms);
  if (event_id.empty() || room_id.empty() || trimmed(message).empty()) return;
  writes_.push_back({std::move(event_id), std::move(room_id), std::move(message), now_ms});
}

bool BotUpdates::is_echo(const std::string& event_id, const std::string& room_id, const std::string& update_message,
                         std::int64_t now_ms) {
  forget_old(now_ms);
  const auto said = trimmed(update_message);
  if (event_id.empty() || room_id.empty() || said.empty()) return false;
  for (const auto& w : writes_)
    if (w.event_id == event_id && w.room_id == room_id && trimmed(w.message) == said) return true;
  return false;
}

}  // namespace zpark::tasks
