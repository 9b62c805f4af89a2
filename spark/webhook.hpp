#pragma once
// The Webex webhook's pure parts: the X-Spark-Signature check on the raw body, the envelope,
// and the trust list. No I/O; tested alone and fuzzed.
#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace zpark::spark {

// Lowercase hex HMAC-SHA1 of `body` keyed with `secret`.
std::string hmac_sha1_hex(std::string_view secret, std::string_view body);

// True when `signature` is exactly the lowercase hex HMAC-SHA1 of `body` (constant time in
// the signature's content; false for an empty or wrongly sized signature). An empty secret
// never validates: a webhook without a secret must be refused, not checked against "".
bool signature_valid(std::string_view secret, std::string_view body, std::string_view signature);

struct Envelope {
  std::string id, name;         // the webhook's own id and name (logs only)
  std::string resource, event;  // "messages"/"created", "attachmentActions"/"created"
  std::string actor_id;
  // data.*
  std::string data_id;          // message id (or attachment action id)
  std::string room_id, room_type, person_id, person_email, parent_id;
  std::string message_id;       // attachmentActions: the message that holds the card
};

enum class EnvelopeError {
  not_json,        // not JSON or not an object -> 400
  malformed,       // resource, event, data or data.personEmail missing -> 400
                   // (attachmentActions: Webex sends no personEmail there, data.personId
                   // is required instead; look the person up before the trust check)
  unsupported,     // another resource/event -> 200, ignored
};
// Short text for the HTTP answer ("The webhook envelope appears to be malformed").
const char* to_string(EnvelopeError e);
// Lets result<Envelope, EnvelopeError>::value() throw std::runtime_error(to_string(e)).
[[noreturn]] void throw_exception_from_error(EnvelopeError e, const boost::source_location& loc);

// Never throws: every input gives an Envelope or an EnvelopeError. Required fields that are
// not strings count as missing; optional ones (id, name, actorId, data.*) that are missing or
// not strings are left empty.
boost::system::result<Envelope, EnvelopeError> parse_envelope(std::string_view body);

// SPARK_TRUSTED_USERS: exact emails and "@domain" entries, case-insensitive; empty list =
// nobody; "*" = everyone. An address without '@' is never trusted (unless "*").
bool is_trusted(std::string_view email, const std::vector<std::string>& trusted);

}  // namespace zpark::spark
