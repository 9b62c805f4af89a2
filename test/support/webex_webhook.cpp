#include "test/support/webex_webhook.hpp"

#include <boost/json.hpp>
#include <openssl/hmac.h>

namespace zpark::test {

namespace json = boost::json;

std::string json_str(const json::value& v, const char* key) {
  auto* p = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  return p && p->is_string() ? std::string(p->get_string()) : "";
}

std::string hmac_sha1_hex(const std::string& key, const std::string& body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string message_envelope(const json::value& m, const std::string& resource) {
  json::object data{{"id", json_str(m, "id")},
                    {"roomId", json_str(m, "roomId")},
                    {"roomType", json_str(m, "roomType")},
                    {"personId", json_str(m, "personId")},
                    {"personEmail", json_str(m, "personEmail")},
                    {"created", json_str(m, "created")}};
  json::object env{{"id", "WEBHOOK-1"}, {"name", "Zpark incoming webhook"}, {"resource", resource},
                   {"event", "created"}, {"actorId", json_str(m, "personId")}, {"data", data}};
  return json::serialize(env);
}

}  // namespace zpark::test
