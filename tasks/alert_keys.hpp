#pragma once
// Keys derived from an alert: the delivery lane it goes through and the key under which a
// Zabbix retry of it is recognised. Pure functions.
#include "spark/alert.hpp"

#include <string>
#include <string_view>

namespace zpark::tasks {

// Lane key: emails compare case-insensitively, room ids exactly.
std::string lane_key(const std::string& recipient);

// Key under which a Zabbix retry of the same alert is recognised; empty for plain alerts.
// "eventid|kind|lane key|SHA-256 of the text in hex": stored in the outbox, so it must be the
// same in every build (std::hash is not).
std::string dedup_key(const spark::Alert& alert);

// The same for an alert stored as JSON (spark::to_json's form); empty when it is unreadable.
std::string dedup_key_of_payload(std::string_view payload);

}  // namespace zpark::tasks
