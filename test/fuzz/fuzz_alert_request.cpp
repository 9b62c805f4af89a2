// POST /api/v1/alert bodies: JSON text -> parse_alert_request (app/alert_request.hpp), as the
// alert route reads them, and on to what the outbox stores and Webex gets.
//
// Checks: never throws; an error names a field and why; a request holds 1..50 alerts, one per
// distinct recipient (emails case-insensitively), each recipient non-empty and trimmed, all
// with the same text; text fields are valid UTF-8 without control characters other than
// newline and tab; the event id is at most 64 bytes and the kind is plain exactly without
// one; the outbox's JSON form (to_json, serialized, parsed, alert_from_json) gives back the
// same alert; the Webex markdown (format_markdown, split_message) is valid UTF-8, in parts of
// at most 7439 bytes.
#include "app/alert_request.hpp"
#include "spark/message_format.hpp"
#include "test/fuzz/check.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

namespace {

namespace json = boost::json;
using zpark::fuzz::valid_utf8;
using zpark::spark::Alert;

void check_text(std::string_view s) {
  FUZZ_CHECK(valid_utf8(s));
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    FUZZ_CHECK(c >= 0x20 || c == '\n' || c == '\t');
    FUZZ_CHECK(c != 0x7F);
    if (c == 0xC2 && i + 1 < s.size()) FUZZ_CHECK(static_cast<unsigned char>(s[i + 1]) > 0x9F);  // C1
  }
}

bool same(const Alert& a, const Alert& b) {
  return a.to == b.to && a.subject == b.subject && a.message == b.message &&
         a.has_message == b.has_message && a.event_id == b.event_id && a.kind == b.kind &&
         a.severity == b.severity && a.nseverity == b.nseverity && a.host == b.host &&
         a.trigger_id == b.trigger_id && a.recovery_id == b.recovery_id &&
         a.update_action == b.update_action && a.update_message == b.update_message &&
         a.update_user == b.update_user && a.tags == b.tags && a.parent_id == b.parent_id;
}

std::string lane(const std::string& to) {
  std::string key = to;
  if (key.find('@') != std::string::npos)
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  const json::value body = json::parse(fuzz_bytes(data, size), ec);
  if (ec) return 0;  // the route answers 400 before parse_alert_request
  auto parsed = zpark::app::parse_alert_request(body);

  if (auto* err = std::get_if<zpark::app::AlertRequestError>(&parsed)) {
    FUZZ_CHECK(!err->field.empty() && !err->why.empty());
    return 0;
  }
  const auto& req = std::get<zpark::app::AlertRequest>(parsed);
  FUZZ_CHECK(!req.alerts.empty() && req.alerts.size() <= 50);
  FUZZ_CHECK(valid_utf8(req.to_as_given));
  std::set<std::string> lanes;
  const Alert& first = req.alerts.front();
  for (const auto& a : req.alerts) {
    FUZZ_CHECK(!a.to.empty());
    for (char c : {a.to.front(), a.to.back()}) FUZZ_CHECK(c != ' ' && c != '\t' && c != '\n');
    FUZZ_CHECK(lanes.insert(lane(a.to)).second);
    check_text(a.to);
    for (const std::string* s : {&a.subject, &a.message, &a.event_id, &a.severity, &a.nseverity, &a.host,
                                 &a.trigger_id, &a.recovery_id, &a.update_action, &a.update_message,
                                 &a.update_user})
      check_text(*s);
    for (const auto& [tag, value] : a.tags) {
      check_text(tag);
      check_text(value);
    }
    FUZZ_CHECK(a.event_id.size() <= 64);
    FUZZ_CHECK((a.kind == zpark::spark::AlertKind::plain) == a.event_id.empty());
    FUZZ_CHECK(a.kind != zpark::spark::AlertKind::reply);
    // Same text for every recipient.
    Alert other = a;
    other.to = first.to;
    FUZZ_CHECK(same(other, first));

    // What the outbox stores and reads back.
    const std::string stored = json::serialize(zpark::spark::to_json(a));
    FUZZ_CHECK(same(zpark::spark::alert_from_json(json::parse(stored)), a));

    const std::string md = zpark::spark::format_markdown(a);
    FUZZ_CHECK(valid_utf8(md));
    for (const auto& part : zpark::spark::split_message(md)) {
      FUZZ_CHECK(part.size() <= zpark::spark::kMaxMessageBytes);
      FUZZ_CHECK(valid_utf8(part));
    }
  }
  return 0;
}
