// webex-emulator: a fake Webex REST API over HTTPS for Zpark's tests and benchmarks.
// Parses the command line, loads the certificate, listens, prints "listening HOST:PORT".
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <charconv>
#include <csignal>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "messages.hpp"
#include "server.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view usage =
    "usage: webex-emulator --cert FILE --key FILE [--listen 127.0.0.1] [--port 0]\n"
    "                      [--token test-token] [--bot-email zpark@webex.bot]\n"
    "                      [--idle-timeout 60] [--webhook-ca FILE] [--verbose]\n"
    "--webhook-ca: CA (PEM) trusted for https webhook targets, besides the system CAs.\n"
    "Make test certificates with: bash test/support/make_certs.sh DIR\n";

struct Args {
  std::string cert, key, listen = "127.0.0.1";
  unsigned short port = 0;
  emu::Config config;
  emu::ServerOptions server;
  emu::DelivererOptions delivery;
};

// Whole decimal number within [0, max]; throws on anything else ("80x", "-1", "70000").
unsigned long number(const std::string& text, unsigned long max) {
  unsigned long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n > max)
    throw std::invalid_argument(text);
  return n;
}

// Returns false (after printing why) when the command line is unusable.
bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string_view opt = argv[i];
    if (opt == "--help" || opt == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    if (opt == "--verbose") {
      a.server.verbose = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "webex-emulator: " << opt << " needs a value\n" << usage;
      return false;
    }
    std::string value = argv[++i];
    try {
      if (opt == "--cert")
        a.cert = value;
      else if (opt == "--key")
        a.key = value;
      else if (opt == "--listen")
        a.listen = value;
      else if (opt == "--port")
        a.port = static_cast<unsigned short>(number(value, 65535));
      else if (opt == "--token")
        a.config.token = value;
      else if (opt == "--bot-email")
        a.config.bot_email = emu::to_lower(value);
      else if (opt == "--webhook-ca")
        a.delivery.ca_file = value;
      else if (opt == "--idle-timeout")
        a.server.idle_timeout = std::chrono::seconds(number(value, 86400));
      else {
        std::cerr << "webex-emulator: unknown option " << opt << '\n' << usage;
        return false;
      }
    } catch (const std::exception&) {
      std::cerr << "webex-emulator: " << opt << " needs a whole number in range, got '" << value
                << "'\n";
      return false;
    }
  }
  if (a.cert.empty() || a.key.empty()) {
    std::cerr << "webex-emulator: --cert and --key are required\n" << usage;
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) return 2;

  asio::ssl::context tls(asio::ssl::context::tls_server);
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  try {
    tls.use_certificate_chain_file(args.cert);
    tls.use_private_key_file(args.key, asio::ssl::context::pem);
  } catch (const std::exception& e) {
    std::cerr << "webex-emulator: cannot load --cert " << args.cert << " / --key " << args.key
              << " (" << e.what() << "); make them with test/support/make_certs.sh DIR\n";
    return 2;
  }

  asio::io_context ioc(1);  // one thread: the emulator's state needs no locks
  tcp::acceptor acceptor(ioc);
  try {
    tcp::endpoint ep(asio::ip::make_address(args.listen), args.port);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    std::cerr << "webex-emulator: cannot listen on " << args.listen << ':' << args.port << " ("
              << e.what() << "); choose another --listen address or --port (0 picks a free one)\n";
    return 2;
  }

  args.config.id_salt = std::random_device{}();  // ids differ between emulator runs
  emu::Emulator emulator(args.config);
  emu::Deliverer deliverer(ioc.get_executor(), emulator, args.delivery);
  emu::start_server(acceptor, tls, emulator, deliverer, args.server);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });

  auto local = acceptor.local_endpoint();
  std::string host = local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                             : local.address().to_string();
  std::cout << "listening " << host << ':' << local.port() << std::endl;  // tests parse this
  ioc.run();
  return 0;
}
