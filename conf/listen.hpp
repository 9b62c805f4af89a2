#pragma once
// Where the HTTP server listens: "HOST:PORT", "[V6]:PORT", ":PORT" (all addresses,
// IPv4 and IPv6) or "unix:/path/to.sock".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zpark::conf {

struct ListenAddress {
  enum class Kind { tcp, unix_socket } kind = Kind::tcp;
  std::string host;  // empty = every address (dual stack)
  std::uint16_t port = 0;
  std::string path;  // unix socket path

  std::string to_string() const;
};

// nullopt when the text is not one of the forms above.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace zpark::conf
