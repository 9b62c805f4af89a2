#pragma once
// One alert for one recipient, as accepted from Zabbix (plain or with event fields).
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace zpark::spark {

// `reply`: a bot command's answer, already markdown (in `message`), posted to a room (`to`)
// under `parent_id` when asked in a thread. It travels the alerts' delivery path.
enum class AlertKind { plain, problem, update, recovery, reply };
const char* to_string(AlertKind kind);

struct Alert {
  std::string to;                 // one recipient: email (contains '@') or room id
  std::string subject;
  std::string message;
  bool has_message = false;       // original contract: text is subject alone without it
  std::string event_id;           // empty: plain alert (no threading, no dedup)
  AlertKind kind = AlertKind::plain;
  std::string severity, nseverity, host, trigger_id, recovery_id;
  std::string update_action, update_message, update_user;
  std::vector<std::pair<std::string, std::string>> tags;
  std::string parent_id;          // reply only: the thread to answer in
  std::string card;               // reply only: an adaptive card (JSON text) attached; the
                                  // message is then its fallback text (spark/cards.hpp)

  bool to_person() const { return to.find('@') != std::string::npos; }
  // The original's answer text: subject, blank line, message.
  std::string plain_text() const { return has_message ? subject + "\n\n" + message : subject; }
};

boost::json::object to_json(const Alert& a);
Alert alert_from_json(const boost::json::value& v);  // from to_json's form

}  // namespace zpark::spark
