// The emulator's in-memory Webex: people, rooms, messages, webhooks, attachment actions.
// Plain containers and lookups; validation lives in messages.cpp / webex_api.cpp.
#pragma once
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ids.hpp"

namespace emu {

struct Person {
  std::string id, email, display_name;
  std::string type = "person";
};

struct Room {
  std::string id, title, type;  // type: "group" or "direct"
  std::string created, last_activity;
};

// A file uploaded with a message (multipart/form-data): what tests check, not the bytes.
struct StoredFile {
  std::string name, content_type;
  std::size_t size = 0;
  std::string head;  // hex of the first 16 bytes ("89504e470d0a1a0a..." for a PNG)
};

struct Message {
  std::uint64_t seq = 0;  // creation order, also the "before" cursor for listings
  std::string id, room_id, room_type;
  std::string to_person_email, to_person_id, parent_id;  // "" when absent
  std::optional<std::string> text, markdown, html;       // as sent
  boost::json::value attachments;                        // null when none
  boost::json::array mentioned_people;
  std::string person_id, person_email;  // author
  std::string created, updated;         // updated "" until edited
  unsigned edit_count = 0;
  std::optional<StoredFile> file;  // uploaded with the message
  bool deleted = false;
};

struct Webhook {
  std::string id, name, target_url, resource, event, status, created;
  std::optional<std::string> filter, secret;
};

class Store {
 public:
  Store(std::uint64_t id_salt, std::string bot_email);
  void clear();  // everything but the bot (its display name reset) and the id counter

  IdMaker& ids() { return ids_; }
  const Person& bot() const { return bot_; }

  const Person& person_for_email(const std::string& lower_email);  // created on first use
  void set_display_name(const std::string& lower_email, std::string name);
  const Person* person_by_id(const std::string& id) const;

  Room* room(const std::string& id);
  Room& direct_room(const Person& p, const std::string& now);       // one per person, lazily
  Room& group_room(const std::string& id, const std::string& now);  // lazily for unseeded ids
  void seed_room(Room r);  // replaces a room with the same id
  const std::vector<Room>& rooms() const { return rooms_; }

  Message& add_message(Message m);          // assigns seq; m.id must be set
  Message* message(const std::string& id);  // nullptr when unknown or deleted
  const std::deque<Message>& messages() const { return messages_; }
  // Indexes into messages(), oldest first.
  const std::vector<std::size_t>& room_messages(const std::string& room_id) const;

  Webhook& add_webhook(Webhook w);
  Webhook* webhook(const std::string& id);
  bool remove_webhook(const std::string& id);
  const std::vector<Webhook>& webhooks() const { return webhooks_; }

  void seed_attachment_action(boost::json::object a);  // needs a string "id"
  const boost::json::object* attachment_action(const std::string& id) const;

 private:
  IdMaker ids_;
  Person bot_;
  std::unordered_map<std::string, Person> people_by_email_;
  std::unordered_map<std::string, std::string> email_by_person_id_;
  std::vector<Room> rooms_;
  std::unordered_map<std::string, std::size_t> room_index_;
  std::deque<Message> messages_;  // deque: references stay valid as it grows
  std::unordered_map<std::string, std::size_t> message_index_;
  std::unordered_map<std::string, std::vector<std::size_t>> messages_by_room_;
  std::vector<Webhook> webhooks_;
  std::unordered_map<std::string, boost::json::object> attachment_actions_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace emu
