#include "store.hpp"

#include <algorithm>

namespace emu {

Store::Store(std::uint64_t id_salt, std::string bot_email) : ids_(id_salt) {
  bot_.id = ids_.derived("PEOPLE", bot_email);
  bot_.email = std::move(bot_email);
  bot_.type = "bot";
  clear();
}

void Store::clear() {
  bot_.display_name = "Zpark Emulator";
  people_by_email_.clear();
  email_by_person_id_.clear();
  rooms_.clear();
  room_index_.clear();
  messages_.clear();
  message_index_.clear();
  messages_by_room_.clear();
  webhooks_.clear();
  attachment_actions_.clear();
  next_seq_ = 1;
}

const Person& Store::person_for_email(const std::string& lower_email) {
  if (lower_email == bot_.email) return bot_;
  auto [it, fresh] = people_by_email_.try_emplace(lower_email);
  if (fresh) {
    Person& p = it->second;
    p.id = ids_.derived("PEOPLE", lower_email);
    p.email = lower_email;
    p.display_name = lower_email.substr(0, lower_email.find('@'));
    email_by_person_id_[p.id] = lower_email;
  }
  return it->second;
}

void Store::set_display_name(const std::string& lower_email, std::string name) {
  person_for_email(lower_email);
  Person& p = lower_email == bot_.email ? bot_ : people_by_email_.at(lower_email);
  p.display_name = std::move(name);
}

const Person* Store::person_by_id(const std::string& id) const {
  if (id == bot_.id) return &bot_;
  auto it = email_by_person_id_.find(id);
  return it == email_by_person_id_.end() ? nullptr : &people_by_email_.at(it->second);
}

Room* Store::room(const std::string& id) {
  auto it = room_index_.find(id);
  return it == room_index_.end() ? nullptr : &rooms_[it->second];
}

Room& Store::direct_room(const Person& p, const std::string& now) {
  std::string id = ids_.derived("ROOM", "direct:" + p.email);
  if (Room* r = room(id)) return *r;
  seed_room(Room{id, p.display_name, "direct", now, now});
  return *room(id);
}

Room& Store::group_room(const std::string& id, const std::string& now) {
  if (Room* r = room(id)) return *r;
  seed_room(Room{id, "Room " + std::to_string(rooms_.size() + 1), "group", now, now});
  return *room(id);
}

void Store::seed_room(Room r) {
  if (Room* old = room(r.id)) {
    *old = std::move(r);
    return;
  }
  room_index_[r.id] = rooms_.size();
  rooms_.push_back(std::move(r));
}

Message& Store::add_message(Message m) {
  m.seq = next_seq_++;
  message_index_[m.id] = messages_.size();
  messages_by_room_[m.room_id].push_back(messages_.size());
  return messages_.emplace_back(std::move(m));
}

Message* Store::message(const std::string& id) {
  auto it = message_index_.find(id);
  if (it == message_index_.end() || messages_[it->second].deleted) return nullptr;
  return &messages_[it->second];
}

const std::vector<std::size_t>& Store::room_messages(const std::string& room_id) const {
  static const std::vector<std::size_t> none;
  auto it = messages_by_room_.find(room_id);
  return it == messages_by_room_.end() ? none : it->second;
}

Webhook& Store::add_webhook(Webhook w) { return webhooks_.emplace_back(std::move(w)); }

Webhook* Store::webhook(const std::string& id) {
  auto it = std::find_if(webhooks_.begin(), webhooks_.end(),
                         [&](const Webhook& w) { return w.id == id; });
  return it == webhooks_.end() ? nullptr : &*it;
}

bool Store::remove_webhook(const std::string& id) {
  return std::erase_if(webhooks_, [&](const Webhook& w) { return w.id == id; }) > 0;
}

void Store::seed_attachment_action(boost::json::object a) {
  std::string id(a.at("id").as_string());
  attachment_actions_[id] = std::move(a);
}

const boost::json::object* Store::attachment_action(const std::string& id) const {
  auto it = attachment_actions_.find(id);
  return it == attachment_actions_.end() ? nullptr : &it->second;
}

}  // namespace emu
