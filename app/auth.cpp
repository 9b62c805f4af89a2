#include "app/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace zpark::app {

std::string_view presented_token(const net::Request& req) {
  if (auto it = req.find("Token"); it != req.end()) return it->value();
  if (auto it = req.find(boost::beast::http::field::authorization); it != req.end()) {
    std::string_view v = it->value();
    constexpr std::string_view bearer = "Bearer ";
    if (v.size() > bearer.size() && boost::beast::iequals(v.substr(0, bearer.size()), bearer))
      return v.substr(bearer.size());
  }
  return {};
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Hashing first makes the comparison time independent of where, and of whether the
  // lengths, differ.
  unsigned char ha[SHA256_DIGEST_LENGTH], hb[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), ha);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), hb);
  return CRYPTO_memcmp(ha, hb, sizeof ha) == 0;
}

bool authorized(const net::Request& req, std::string_view expected) {
  auto token = presented_token(req);
  return !token.empty() && !expected.empty() && constant_time_equal(token, expected);
}

}  // namespace zpark::app
