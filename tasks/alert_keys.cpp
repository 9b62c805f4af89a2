#include "tasks/alert_keys.hpp"

#include <boost/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace zpark::tasks {

namespace {

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is not available from OpenSSL");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string lane_key(const std::string& recipient) {
  if (recipient.find('@') == std::string::npos) return recipient;
  std::string k = recipient;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  return k;
}

std::string dedup_key(const spark::Alert& a) {
  if (a.event_id.empty()) return {};
  // Content is part of the key: two acknowledgements of one event are two updates, while a
  // Zabbix retry repeats the same text.
  const auto text = a.subject + '\x1f' + a.message + '\x1f' + a.update_message + '\x1f' + a.update_action + '\x1f' +
                    a.update_user;
  return a.event_id + '|' + spark::to_string(a.kind) + '|' + lane_key(a.to) + '|' + sha256_hex(text);
}

std::string dedup_key_of_payload(std::string_view payload) {
  boost::system::error_code ec;
  auto v = boost::json::parse(payload, ec);
  if (ec || !v.is_object()) return {};
  return dedup_key(spark::alert_from_json(v));
}

}  // namespace zpark::tasks
