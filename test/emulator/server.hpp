// HTTPS/1.1 front end: accepts TLS connections and serves each request through
// Emulator::handle. Carries out delays and abrupt resets, and hands the webhook deliveries an
// answer causes to the Deliverer once the answer is out; knows nothing of Webex.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>

#include "deliverer.hpp"
#include "emulator.hpp"

namespace emu {

struct ServerOptions {
  std::chrono::seconds idle_timeout{60};  // real servers drop idle keep-alive connections too
  std::size_t body_limit = 4 * 1024 * 1024;
  bool verbose = false;  // one stderr line per request
};

// Starts the accept loop on the acceptor's executor; acceptor, tls, emu and deliverer must
// outlive the io_context run. Times come from the deliverer's clock.
void start_server(boost::asio::ip::tcp::acceptor& acceptor, boost::asio::ssl::context& tls,
                  Emulator& emu, Deliverer& deliverer, ServerOptions options);

}  // namespace emu
