#include "spark/webhook.hpp"

#include <boost/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace zpark::spark {

namespace json = boost::json;

namespace {

constexpr std::size_t kSha1HexSize = 40;

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The string at `key`, or nullptr when it is missing or not a string.
const json::string* string_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

std::string optional_string(const json::object& o, std::string_view key) {
  auto* s = string_at(o, key);
  return s ? std::string(*s) : std::string();
}

}  // namespace

std::string hmac_sha1_hex(std::string_view secret, std::string_view body) {
  // OpenSSL 3 refuses a null key pointer even with length 0; an empty secret is still a key.
  static const unsigned char empty = 0;
  const void* key = secret.empty() ? static_cast<const void*>(&empty) : secret.data();
  const unsigned char* data =
      body.empty() ? &empty : reinterpret_cast<const unsigned char*>(body.data());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (!HMAC(EVP_sha1(), key, static_cast<int>(secret.size()), data, body.size(), md, &md_len))
    return {};  // never matches a 40-character signature
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(md_len * 2);
  for (unsigned int i = 0; i < md_len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 0x0F];
  }
  return hex;
}

bool signature_valid(std::string_view secret, std::string_view body, std::string_view signature) {
  if (secret.empty() || signature.size() != kSha1HexSize) return false;
  const std::string expected = hmac_sha1_hex(secret, body);
  if (expected.size() != kSha1HexSize) return false;
  // Constant time: a byte-by-byte compare would tell an attacker how much of a forged
  // signature is right. Upper-case hex is simply different bytes, as Webex never sends it.
  return CRYPTO_memcmp(expected.data(), signature.data(), kSha1HexSize) == 0;
}

const char* to_string(EnvelopeError e) {
  switch (e) {
    case EnvelopeError::not_json: return "The webhook body is not a JSON object";
    case EnvelopeError::malformed: return "The webhook envelope appears to be malformed";
    case EnvelopeError::unsupported: return "No support for that type of resource and/or event";
  }
  return "The webhook envelope appears to be malformed";
}

void throw_exception_from_error(EnvelopeError e, const boost::source_location&) {
  throw std::runtime_error(to_string(e));
}

boost::system::result<Envelope, EnvelopeError> parse_envelope(std::string_view body) {
  boost::system::error_code ec;
  json::value root;
  try {
    root = json::parse(body, ec);
  } catch (const std::exception&) {
    // Only allocation failures get here (parse errors come through ec): still an answer.
    return EnvelopeError::not_json;
  }
  if (ec || !root.is_object()) return EnvelopeError::not_json;
  const auto& o = root.get_object();

  auto* resource = string_at(o, "resource");
  auto* event = string_at(o, "event");
  auto* data_value = o.if_contains("data");
  if (!resource || !event || !data_value || !data_value->is_object()) return EnvelopeError::malformed;
  const auto& data = data_value->get_object();

  const bool message = *resource == "messages" && *event == "created";
  const bool card_action = *resource == "attachmentActions" && *event == "created";
  if (!message && !card_action) return EnvelopeError::unsupported;

  // Who acted, before anything is fetched: messages carry the sender's email (the trust
  // check needs it); Webex's attachmentActions events carry only the person's id.
  if (message && !string_at(data, "personEmail")) return EnvelopeError::malformed;
  if (card_action && !string_at(data, "personId")) return EnvelopeError::malformed;

  Envelope e;
  e.id = optional_string(o, "id");
  e.name = optional_string(o, "name");
  e.resource = std::string(*resource);
  e.event = std::string(*event);
  e.actor_id = optional_string(o, "actorId");
  e.data_id = optional_string(data, "id");
  e.room_id = optional_string(data, "roomId");
  e.room_type = optional_string(data, "roomType");
  e.person_id = optional_string(data, "personId");
  e.person_email = optional_string(data, "personEmail");
  e.parent_id = optional_string(data, "parentId");
  e.message_id = optional_string(data, "messageId");
  return e;
}

bool is_trusted(std::string_view email, const std::vector<std::string>& trusted) {
  for (const auto& entry : trusted)
    if (trim_spaces(entry) == "*") return true;
  // One '@' with something on both sides; "a@b@example.com" is not an address Webex sends,
  // and reading its domain either way would let one list entry vouch for another domain.
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos)
    return false;
  const std::string_view domain = email.substr(at + 1);
  for (const auto& raw : trusted) {
    const std::string_view entry = trim_spaces(raw);
    if (entry.size() > 1 && entry.front() == '@') {
      if (iequals(entry.substr(1), domain)) return true;  // exact domain: no subdomains
    } else if (!entry.empty() && iequals(entry, email)) {
      return true;
    }
  }
  return false;
}

}  // namespace zpark::spark
