// Rules of POST and PUT /v1/messages, as pure functions over the Store.
#pragma once
#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "faults.hpp"
#include "json_util.hpp"
#include "store.hpp"

namespace emu {

inline constexpr std::size_t max_text_bytes = 7439;  // Webex limit for text and markdown
inline constexpr unsigned max_edits = 10;

struct NewMessage {
  enum Target { room, person_email, person_id } target = room;
  std::string target_value;  // room id, lower-cased email, or person id
  std::optional<std::string> text, markdown;
  boost::json::value attachments;  // null when none
  std::string parent_id;
  std::optional<StoredFile> file;  // multipart uploads
};

struct MessageEdit {
  std::string room_id;
  std::optional<std::string> text, markdown;
};

// Shape checks only (no store lookups): target count, text sizes, attachments.
// `with_file`: a multipart upload, where text and markdown may both be absent.
Result<NewMessage> parse_new_message(const boost::json::value& body, bool with_file = false);
Result<MessageEdit> parse_message_edit(const boost::json::value& body);

// Resolves target and parent, then stores the message as sent by the bot.
Result<Message*> create_message(Store& store, const Faults& faults, NewMessage m,
                                const std::string& now);
Result<Message*> edit_message(Store& store, const std::string& id, MessageEdit e,
                              const std::string& now);

// A reply's parent must exist, be a thread root (not itself a reply) and sit in `room_id`.
std::optional<ApiError> check_parent(Store& store, const std::string& parent_id,
                                     const std::string& room_id);

std::string to_lower(std::string s);

}  // namespace emu
