#include "zabbix/http_options.hpp"

#include <utility>

namespace zpark::zabbix {

net::ClientOptions http_options(std::string url, std::string ca_file, bool verify_tls,
                                std::chrono::milliseconds timeout, std::size_t pool_size) {
  net::ClientOptions h;
  h.base_url = std::move(url);
  h.pool_size = pool_size;
  h.ca_file = std::move(ca_file);
  h.verify_peer = verify_tls;
  h.connect_timeout = timeout;
  h.request_timeout = timeout;
  h.tls_hint =
      "set ZABBIX_CA_FILE to the CA that signed it, or ZABBIX_TLS_CERT_VERIFY=false to skip the check";
  return h;
}

}  // namespace zpark::zabbix
