#pragma once
// What Webex sends the bot when someone writes to it: the webhook envelope of a message and the
// X-Spark-Signature over it, for end-to-end tests that play Webex's part.
#include <boost/json/value.hpp>

#include <string>

namespace zpark::test {

// The string member `key` of `v`; "" when `v` is not an object or the member not a string.
std::string json_str(const boost::json::value& v, const char* key);

// HMAC-SHA1 of `body` under `key`, in lower-case hex (Webex's X-Spark-Signature).
std::string hmac_sha1_hex(const std::string& key, const std::string& body);

// The "created" webhook envelope for the message `m` (as the emulator stores it).
std::string message_envelope(const boost::json::value& m, const std::string& resource = "messages");

}  // namespace zpark::test
