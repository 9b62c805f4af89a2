#include "net/tls.hpp"

#include <filesystem>

#include <cstdlib>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <stdexcept>

namespace zpark::net {
namespace {

// An ifstream check first: OpenSSL's "no such file" text does not say which file.
void require_readable(const std::string& file, const char* what) {
  if (!std::ifstream(file)) {
    throw std::runtime_error(std::string("cannot read ") + what + " '" + file +
                             "': missing or not readable");
  }
}

void min_tls12(ssl::context& ctx) {
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
}

// The system's CAs. Where a hashed certificate directory exists (Debian: /etc/ssl/certs), it
// is read lazily, one issuer at a time; loading the whole bundle file up front costs ~3 MiB
// of memory for the life of the process. SSL_CERT_FILE / SSL_CERT_DIR are honoured.
void load_system_cas(ssl::context& ctx, boost::system::error_code& ec) {
  const char* dir = std::getenv(X509_get_default_cert_dir_env());
  if (!dir) dir = X509_get_default_cert_dir();
  std::error_code fec;
  const bool hashed_dir = !std::getenv(X509_get_default_cert_file_env()) && std::filesystem::is_directory(dir, fec) &&
                          !std::filesystem::is_empty(dir, fec);
  if (hashed_dir && SSL_CTX_load_verify_dir(ctx.native_handle(), dir) == 1) return;
  ctx.set_default_verify_paths(ec);
}

}  // namespace

ssl::context make_client_tls_context(const std::string& ca_file, bool verify_peer) {
  ssl::context ctx(ssl::context::tls_client);
  min_tls12(ctx);
  // verify_none is for self-signed frontends; a bad ca_file is still a setting to fix.
  ctx.set_verify_mode(verify_peer ? ssl::verify_peer : ssl::verify_none);
  boost::system::error_code ec;
  // A container without system CA certificates still works with ca_file alone.
  load_system_cas(ctx, ec);
  if (!ca_file.empty()) {
    require_readable(ca_file, "CA file");
    ctx.load_verify_file(ca_file, ec);
    if (ec) {
      throw std::runtime_error("cannot load CA file '" + ca_file + "': " + ec.message() +
                               "; it must hold PEM certificates (-----BEGIN CERTIFICATE-----)");
    }
  }
  return ctx;
}

ssl::context make_server_tls_context(const std::string& cert_file, const std::string& key_file) {
  ssl::context ctx(ssl::context::tls_server);
  min_tls12(ctx);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::single_dh_use);
  require_readable(cert_file, "TLS certificate file");
  require_readable(key_file, "TLS key file");
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(cert_file, ec);
  if (ec) {
    throw std::runtime_error("cannot load TLS certificate chain '" + cert_file +
                             "': " + ec.message() + "; it must be a PEM certificate file");
  }
  ctx.use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    throw std::runtime_error("TLS private key '" + key_file + "' does not match certificate '" +
                             cert_file + "'");
  }
  if (ec) {
    throw std::runtime_error("cannot load TLS private key '" + key_file + "': " + ec.message() +
                             "; it must be an unencrypted PEM key");
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ERR_clear_error();  // leave no stale entry for the next OpenSSL call to report
    throw std::runtime_error("TLS private key '" + key_file + "' does not match certificate '" +
                             cert_file + "'");
  }
  return ctx;
}

}  // namespace zpark::net
