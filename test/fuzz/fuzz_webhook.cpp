// The Webex webhook's pure parts (spark/webhook.hpp): X-Spark-Signature check, envelope, trust.
//
// Input: "SECRET\n--\nSIGNATURE\n--\nEMAIL\n--\nTRUSTED,LIST\n--\nBODY" (missing fields are
// empty; the whole input is also tried as a body alone).
//
// Checks: the HMAC is 40 lowercase hex digits; the right signature validates exactly when the
// secret is not empty; any other signature never does (no forgery by length, case or prefix);
// parse_envelope never throws, says not_json exactly for bodies that are not a JSON object,
// and an envelope it returns is a supported resource/event with its actor; is_trusted is
// case-insensitive, grows with the list, and trusts only "*", the exact address or its exact
// "@domain" (one '@', text on both sides).
#include "spark/webhook.hpp"
#include "test/fuzz/check.hpp"

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace {

using namespace zpark::spark;
namespace json = boost::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void check_signature(std::string_view secret, std::string_view body, std::string_view signature) {
  const std::string hex = hmac_sha1_hex(secret, body);
  FUZZ_CHECK(hex.size() == 40);
  FUZZ_CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  FUZZ_CHECK(signature_valid(secret, body, hex) == !secret.empty());
  if (signature_valid(secret, body, signature)) FUZZ_CHECK(signature == hex && !secret.empty());
  if (hex.find_first_of("abcdef") != std::string::npos) FUZZ_CHECK(!signature_valid(secret, body, upper(hex)));
  FUZZ_CHECK(!signature_valid(secret, body, hex.substr(0, 39)));
  FUZZ_CHECK(!signature_valid(secret, body, hex + "0"));
  FUZZ_CHECK(!signature_valid("", body, hmac_sha1_hex("", body)));
}

void check_envelope(std::string_view body) {
  auto r = parse_envelope(body);
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  const bool object = !ec && v.is_object();
  if (!r) {
    FUZZ_CHECK((r.error() == EnvelopeError::not_json) == !object);
    FUZZ_CHECK(to_string(r.error())[0] != '\0');
    return;
  }
  FUZZ_CHECK(object);
  const Envelope& e = *r;
  const bool message = e.resource == "messages" && e.event == "created";
  const bool card = e.resource == "attachmentActions" && e.event == "created";
  FUZZ_CHECK(message || card);
  const auto& data = v.get_object().at("data").get_object();
  if (message) FUZZ_CHECK(data.at("personEmail").is_string() && data.at("personEmail").get_string() == e.person_email);
  if (card) FUZZ_CHECK(data.at("personId").is_string() && data.at("personId").get_string() == e.person_id);
  for (const std::string* s : {&e.id, &e.name, &e.actor_id, &e.data_id, &e.room_id, &e.room_type, &e.person_id,
                               &e.person_email, &e.parent_id, &e.message_id})
    FUZZ_CHECK(zpark::fuzz::valid_utf8(*s));
}

void check_trust(std::string_view email, std::vector<std::string> list) {
  const bool trusted = is_trusted(email, list);
  bool star = false;
  for (const auto& entry : list) star = star || trim(entry) == "*";
  if (star) {
    FUZZ_CHECK(trusted);
    return;
  }
  FUZZ_CHECK(is_trusted(upper(email), list) == trusted);
  FUZZ_CHECK(is_trusted(lower(email), list) == trusted);
  if (!trusted) {
    list.pop_back();  // a shorter list trusts no one more
    FUZZ_CHECK(list.empty() || !is_trusted(email, list));
    return;
  }
  const auto at = email.find('@');
  FUZZ_CHECK(at != std::string_view::npos && at > 0 && at + 1 < email.size());
  FUZZ_CHECK(email.find('@', at + 1) == std::string_view::npos);
  bool vouched = false;
  for (const auto& raw : list) {
    const auto entry = trim(raw);
    vouched = vouched || lower(entry) == lower(email) || lower(entry) == lower(email.substr(at));
  }
  FUZZ_CHECK(vouched);
  list.emplace_back("nobody@example.invalid");
  FUZZ_CHECK(is_trusted(email, list));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz_bytes(data, size);
  check_envelope(in);

  zpark::fuzz::Fields f{in};
  const auto secret = f.next();
  const auto signature = f.next();
  const auto email = f.next();
  const auto trusted = f.next();
  const auto body = f.rest;
  check_signature(secret, body, signature);
  check_envelope(body);

  std::vector<std::string> list;
  for (std::size_t start = 0; start <= trusted.size();) {
    const auto comma = trusted.find(',', start);
    list.emplace_back(trusted.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  check_trust(email, list);
  return 0;
}
