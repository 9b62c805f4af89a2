#pragma once
// TLS contexts for the HTTP client and server. Errors name the file and say what to do.
#include <boost/asio/ssl/context.hpp>

#include <string>

namespace zpark::net {

namespace ssl = boost::asio::ssl;

// Client context: TLS 1.2+, the system's default CA paths plus `ca_file` (PEM, may be
// empty). With verify_peer=false certificates are not checked at all (self-signed Zabbix
// frontends). Host-name checks are per connection (see HttpClient). Throws
// std::runtime_error naming `ca_file` when it cannot be read or holds no certificate.
ssl::context make_client_tls_context(const std::string& ca_file, bool verify_peer);

// Server context: TLS 1.2+, certificate chain and private key from PEM files. Throws
// std::runtime_error naming the file that could not be loaded, or both when they do not match.
ssl::context make_server_tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace zpark::net
