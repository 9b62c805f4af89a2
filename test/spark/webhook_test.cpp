#define BOOST_TEST_MODULE webhook
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "spark/webhook.hpp"

#include <cctype>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace zpark::spark;
namespace data = boost::unit_test::data;

namespace {

const std::string kSecret = "s3cret";
const std::string kBody =
    R"({"id":"wh1","name":"zpark","resource":"messages","event":"created","actorId":"p1",)"
    R"("data":{"id":"m1","roomId":"r1","roomType":"group","personId":"p1",)"
    R"("personEmail":"ann@example.com","created":"2024-01-01T00:00:00.000Z"}})";

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct EnvelopeCase {
  const char* what;
  std::string body;
  EnvelopeError error;
};
std::ostream& operator<<(std::ostream& os, const EnvelopeCase& c) { return os << c.what; }

struct TrustCase {
  const char* email;
  std::vector<std::string> list;
  bool trusted;
};
std::ostream& operator<<(std::ostream& os, const TrustCase& c) {
  os << c.email << " in [";
  for (auto& e : c.list) os << e << ' ';
  return os << "] -> " << c.trusted;
}

}  // namespace

// ---- signature --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(hmac_sha1_matches_rfc_2202) {
  BOOST_TEST(hmac_sha1_hex("Jefe", "what do ya want for nothing?") == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  BOOST_TEST(hmac_sha1_hex(std::string(20, '\x0b'), "Hi There") == "b617318655057264e28bc0b6fb378c8ef146be00");
}

BOOST_AUTO_TEST_CASE(hmac_sha1_of_an_empty_body_is_defined) {
  BOOST_TEST(hmac_sha1_hex("key", "") == "f42bb0eeb018ebbd4597ae7213711ec60760843f");
}

BOOST_AUTO_TEST_CASE(the_lowercase_hex_signature_of_the_raw_body_is_valid) {
  BOOST_TEST(signature_valid(kSecret, kBody, hmac_sha1_hex(kSecret, kBody)));
}

BOOST_DATA_TEST_CASE(other_signatures_are_refused,
                     data::make(std::vector<std::string>{
                         "upper-case hex", "another body's", "another secret's", "empty", "truncated",
                         "one character more", "trailing newline", "sha1 of the body, no key"}),
                     what) {
  const std::string good = hmac_sha1_hex(kSecret, kBody);
  std::string sig;
  if (what == "upper-case hex") sig = upper(good);
  if (what == "another body's") sig = hmac_sha1_hex(kSecret, kBody + " ");
  if (what == "another secret's") sig = hmac_sha1_hex("S3cret", kBody);
  if (what == "empty") sig = "";
  if (what == "truncated") sig = good.substr(0, 39);
  if (what == "one character more") sig = good + "0";
  if (what == "trailing newline") sig = good + "\n";
  if (what == "sha1 of the body, no key") sig = hmac_sha1_hex("", kBody);
  BOOST_TEST(!signature_valid(kSecret, kBody, sig));
}

BOOST_AUTO_TEST_CASE(an_empty_secret_validates_nothing) {
  BOOST_TEST(!signature_valid("", kBody, hmac_sha1_hex("", kBody)));
}

// ---- envelope -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_message_envelope_gives_every_field) {
  auto e = parse_envelope(kBody);
  BOOST_REQUIRE(e.has_value());
  BOOST_TEST(e->id == "wh1");
  BOOST_TEST(e->name == "zpark");
  BOOST_TEST(e->resource == "messages");
  BOOST_TEST(e->event == "created");
  BOOST_TEST(e->actor_id == "p1");
  BOOST_TEST(e->data_id == "m1");
  BOOST_TEST(e->room_id == "r1");
  BOOST_TEST(e->room_type == "group");
  BOOST_TEST(e->person_id == "p1");
  BOOST_TEST(e->person_email == "ann@example.com");
  BOOST_TEST(e->parent_id == "");
}

BOOST_AUTO_TEST_CASE(missing_or_odd_optional_fields_are_tolerated) {
  auto e = parse_envelope(
      R"({"resource":"messages","event":"created","id":5,"name":null,)"
      R"("data":{"personEmail":"ann@example.com","roomId":["r"],"parentId":"m0","extra":{"x":1}}})");
  BOOST_REQUIRE(e.has_value());
  BOOST_TEST(e->id == "");
  BOOST_TEST(e->name == "");
  BOOST_TEST(e->data_id == "");
  BOOST_TEST(e->room_id == "");
  BOOST_TEST(e->parent_id == "m0");
  BOOST_TEST(e->person_email == "ann@example.com");
}

// Webex's attachmentActions events carry the person's id but no email.
BOOST_AUTO_TEST_CASE(a_card_action_envelope_needs_the_person_id_not_the_email) {
  auto e = parse_envelope(
      R"({"resource":"attachmentActions","event":"created","data":{"id":"a1","type":"submit",)"
      R"("messageId":"m9","personId":"p2","roomId":"r1"}})");
  BOOST_REQUIRE(e.has_value());
  BOOST_TEST(e->resource == "attachmentActions");
  BOOST_TEST(e->data_id == "a1");
  BOOST_TEST(e->message_id == "m9");
  BOOST_TEST(e->person_id == "p2");
  BOOST_TEST(e->person_email == "");
  auto bad = parse_envelope(R"({"resource":"attachmentActions","event":"created","data":{"id":"a1"}})");
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST((bad.error() == EnvelopeError::malformed));
}

BOOST_DATA_TEST_CASE(
    bad_envelopes_are_refused_with_the_right_error,
    data::make(std::vector<EnvelopeCase>{
        {"empty body", "", EnvelopeError::not_json},
        {"not json", "resource=messages", EnvelopeError::not_json},
        {"cut json", R"({"resource":"messages")", EnvelopeError::not_json},
        {"trailing garbage", R"({"resource":"messages"} x)", EnvelopeError::not_json},
        {"array", R"([{"resource":"messages"}])", EnvelopeError::not_json},
        {"string", R"("messages")", EnvelopeError::not_json},
        {"number", "42", EnvelopeError::not_json},
        {"null", "null", EnvelopeError::not_json},
        {"invalid utf-8", "{\"resource\":\"\xff\"}", EnvelopeError::not_json},
        {"deep nesting", std::string(100000, '['), EnvelopeError::not_json},
        {"no resource", R"({"event":"created","data":{"personEmail":"a@b.c"}})", EnvelopeError::malformed},
        {"no event", R"({"resource":"messages","data":{"personEmail":"a@b.c"}})", EnvelopeError::malformed},
        {"no data", R"({"resource":"messages","event":"created"})", EnvelopeError::malformed},
        {"no personEmail", R"({"resource":"messages","event":"created","data":{"id":"m"}})",
         EnvelopeError::malformed},
        {"data not an object", R"({"resource":"messages","event":"created","data":"x"})", EnvelopeError::malformed},
        {"resource a number", R"({"resource":1,"event":"created","data":{"personEmail":"a@b.c"}})",
         EnvelopeError::malformed},
        {"event null", R"({"resource":"messages","event":null,"data":{"personEmail":"a@b.c"}})",
         EnvelopeError::malformed},
        {"personEmail a number", R"({"resource":"messages","event":"created","data":{"personEmail":7}})",
         EnvelopeError::malformed},
        {"personEmail an array",
         R"({"resource":"messages","event":"created","data":{"personEmail":["a@b.c"]}})", EnvelopeError::malformed},
        {"messages deleted", R"({"resource":"messages","event":"deleted","data":{"personEmail":"a@b.c"}})",
         EnvelopeError::unsupported},
        {"rooms created", R"({"resource":"rooms","event":"created","data":{}})", EnvelopeError::unsupported},
        {"memberships", R"({"resource":"memberships","event":"created","data":{"personEmail":"a@b.c"}})",
         EnvelopeError::unsupported},
        {"resource case differs", R"({"resource":"Messages","event":"created","data":{"personEmail":"a@b.c"}})",
         EnvelopeError::unsupported},
        {"attachmentActions deleted", R"({"resource":"attachmentActions","event":"deleted","data":{}})",
         EnvelopeError::unsupported},
    }),
    c) {
  auto e = parse_envelope(c.body);
  BOOST_REQUIRE(!e.has_value());
  BOOST_TEST((e.error() == c.error));
}

BOOST_AUTO_TEST_CASE(errors_have_the_original_answer_texts) {
  BOOST_TEST(std::string(to_string(EnvelopeError::malformed)) == "The webhook envelope appears to be malformed");
  BOOST_TEST(std::string(to_string(EnvelopeError::unsupported)) == "No support for that type of resource and/or event");
  BOOST_TEST(std::string(to_string(EnvelopeError::not_json)) == "The webhook body is not a JSON object");
}

BOOST_AUTO_TEST_CASE(value_of_an_error_throws_its_text) {
  auto e = parse_envelope("nope");
  BOOST_CHECK_EXCEPTION(e.value(), std::runtime_error, [](const std::runtime_error& x) {
    return std::string(x.what()) == "The webhook body is not a JSON object";
  });
}

BOOST_AUTO_TEST_CASE(no_input_makes_parse_envelope_throw) {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int n = 0; n < 20000; ++n) {
    std::string body = kBody;
    // Mutate a valid envelope: flip, insert and delete bytes.
    const int edits = 1 + n % 8;
    for (int k = 0; k < edits && !body.empty(); ++k) {
      const std::size_t at = static_cast<std::size_t>(rng()) % body.size();
      switch (rng() % 3) {
        case 0: body[at] = static_cast<char>(byte(rng)); break;
        case 1: body.insert(at, 1, static_cast<char>(byte(rng))); break;
        default: body.erase(at, 1);
      }
    }
    BOOST_CHECK_NO_THROW((void)parse_envelope(body));
  }
}

// ---- trust --------------------------------------------------------------------------------------

BOOST_DATA_TEST_CASE(
    the_trusted_list_decides_who_is_answered,
    data::make(std::vector<TrustCase>{
        {"ann@example.com", {"ann@example.com"}, true},
        {"Ann@Example.COM", {"ann@example.com"}, true},
        {"ann@example.com", {"ANN@EXAMPLE.com"}, true},
        {"bob@example.com", {"ann@example.com"}, false},
        {"ann@example.com", {"@example.com"}, true},
        {"ann@EXAMPLE.com", {"@Example.Com"}, true},
        {"x@sub.example.com", {"@example.com"}, false},
        {"x@badexample.com", {"@example.com"}, false},
        {"x@example.com.evil.org", {"@example.com"}, false},
        {"x@example.co", {"@example.com"}, false},
        {"ann@example.com", {}, false},
        {"ann@example.com", {"*"}, true},
        {"no-at-sign", {"*"}, true},
        {"no-at-sign", {"@example.com", "no-at-sign"}, false},
        {"", {"@example.com"}, false},
        {"", {""}, false},
        {"@example.com", {"@example.com"}, false},
        {"ann@", {"@"}, false},
        {"a@b@example.com", {"@example.com"}, false},
        {"ann@example.com", {" ann@example.com "}, true},
        {"ann@example.com", {"bob@example.com", "@other.org", "ann@example.com"}, true},
        {"ann@example.com", {"example.com"}, false},
        {"ann@example.com", {"ann"}, false},
    }),
    c) {
  BOOST_TEST(is_trusted(c.email, c.list) == c.trusted);
}
