#pragma once
// The HTTP client settings of both ways to Zabbix (JSON-RPC API and frontend), so that the TLS
// check and its hint read the same whichever one fails.
#include "net/http_client.hpp"

#include <chrono>
#include <cstddef>
#include <string>

namespace zpark::zabbix {

// `url` with ZABBIX_CA_FILE / ZABBIX_TLS_CERT_VERIFY applied, `timeout` for connect and for each
// request, at most `pool_size` connections.
net::ClientOptions http_options(std::string url, std::string ca_file, bool verify_tls,
                                std::chrono::milliseconds timeout, std::size_t pool_size);

}  // namespace zpark::zabbix
