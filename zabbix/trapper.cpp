#include "zabbix/trapper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <utility>

namespace zpark::zabbix::trapper {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view magic = "ZBXD";
constexpr unsigned char flag_protocol = 0x01;
constexpr unsigned char flag_compressed = 0x02;
constexpr unsigned char flag_large = 0x04;

Error make_error(Error::Kind kind, std::string message) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

std::uint64_t read_le(std::string_view bytes, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i)
    v |= std::uint64_t(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 60)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '.';
  }
  return out;
}

}  // namespace

// ---- pure parts ----------------------------------------------------------------------------

Result<Address> parse_address(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const auto bad = [&](std::string_view why) {
    return make_error(Error::Kind::config,
                      fmt::format("ZABBIX_SERVER_ADDRESS='{}' is not usable: {}; give the Zabbix "
                                  "server's host and trapper port, e.g. zabbix.example.com:10051",
                                  text, why));
  };
  Address a;
  if (text.empty()) return bad("it is empty");
  if (text.back() == ':') return bad("no port after ':'");
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("no ']' after the IPv6 address");
    a.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("text after ']' that is not ':PORT'");
      a.port = std::string(rest.substr(1));
    }
  } else if (const auto colon = text.find(':'); colon == std::string_view::npos) {
    a.host = std::string(text);
  } else if (text.find(':', colon + 1) != std::string_view::npos) {
    a.host = std::string(text);  // a bare IPv6 address: several colons, no port
  } else {
    a.host = std::string(text.substr(0, colon));
    a.port = std::string(text.substr(colon + 1));
  }
  if (a.host.empty()) return bad("no host");
  if (a.port.empty()) a.port = std::string(default_port);
  unsigned port = 0;
  for (char c : a.port) {
    if (c < '0' || c > '9' || port > 65535) return bad("the port is not a number from 1 to 65535");
    port = port * 10 + unsigned(c - '0');
  }
  if (port == 0 || port > 65535) return bad("the port is not a number from 1 to 65535");
  return a;
}

std::string encode(std::string_view json_text) {
  std::string out(magic);
  out += char(flag_protocol);
  const std::uint64_t n = json_text.size();
  for (int i = 0; i < 4; ++i) out += char((n >> (8 * i)) & 0xff);
  out.append(4, '\0');  // reserved: the uncompressed size, only used with compression
  out += json_text;
  return out;
}

Result<std::optional<std::string>> decode(std::string_view bytes, std::size_t limit) {
  // Check what has arrived of the signature so a non-Zabbix peer fails at its first bytes.
  const std::size_t sig = std::min(bytes.size(), magic.size());
  if (bytes.substr(0, sig) != magic.substr(0, sig)) {
    return make_error(Error::Kind::parse,
                      fmt::format("the answer does not start with ZBXD but '{}': is it the Zabbix "
                                  "server's trapper port (ListenPort, 10051 by default)?",
                                  printable(bytes)));
  }
  if (bytes.size() < magic.size() + 1) return std::optional<std::string>();
  const auto flags = static_cast<unsigned char>(bytes[4]);
  if (!(flags & flag_protocol)) {
    return make_error(Error::Kind::parse,
                      fmt::format("the answer has an unknown ZBXD header (flags 0x{:02x})", flags));
  }
  if (flags & flag_compressed) {
    return make_error(Error::Kind::parse,
                      "the Zabbix server sent a compressed answer, which Zpark does not read");
  }
  const std::size_t width = (flags & flag_large) ? 8 : 4;
  const std::size_t header = magic.size() + 1 + 2 * width;
  if (bytes.size() < header) return std::optional<std::string>();
  const std::uint64_t length = read_le(bytes, magic.size() + 1, width);
  if (length > limit) {
    return make_error(Error::Kind::parse,
                      fmt::format("the Zabbix server's answer is {} bytes, more than the {} Zpark "
                                  "accepts",
                                  length, limit));
  }
  if (bytes.size() < header + length) return std::optional<std::string>();
  return std::optional<std::string>(std::string(bytes.substr(header, length)));
}

Result<json::value> parse_response(std::string_view request, std::string_view text) {
  boost::system::error_code ec;
  json::value answer = json::parse(text, ec);
  const json::object* o = !ec ? answer.if_object() : nullptr;
  const json::string* response = nullptr;
  if (o) {
    if (auto* r = o->if_contains("response")) response = r->if_string();
  }
  if (!response) {
    return make_error(Error::Kind::parse,
                      fmt::format("the Zabbix server answered {} with '{}', not a trapper answer",
                                  request, printable(text)));
  }
  if (*response == "success") {
    if (auto* data = o->if_contains("data")) return *data;
    return json::value(true);
  }
  Error e;
  e.kind = Error::Kind::rpc;
  if (auto* info = o->if_contains("info"); info && info->is_string())
    e.zabbix_text = std::string(info->get_string());
  e.message = fmt::format("the Zabbix server refused {}: {}", request,
                          e.zabbix_text.empty() ? std::string(*response) : e.zabbix_text);
  return e;
}

json::value status_request(std::string_view sid) {
  return json::object{{"request", "status.get"}, {"type", "full"}, {"sid", sid}};
}

// ---- I/O -----------------------------------------------------------------------------------

namespace {

// One timer bounds the whole exchange: when it fires it cancels the resolver and closes the
// socket, so whichever step is under way ends with an error and `timed_out` tells why.
struct Exchange {
  explicit Exchange(const asio::any_io_executor& ex) : resolver(ex), socket(ex), timer(ex) {}
  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;
  bool timed_out = false;
};

std::string describe(boost::system::error_code ec) {
  if (ec == asio::error::connection_refused)
    return "connection refused (is zabbix_server running and listening there? check ListenIP and "
           "ListenPort in zabbix_server.conf)";
  if (ec == asio::error::eof || ec == asio::error::connection_reset)
    return "the server closed the connection without an answer (is Zpark's address allowed?)";
  return ec.message();
}

}  // namespace

awaitable<Result<json::value>> request(std::string address, json::value req,
                                       std::chrono::milliseconds timeout) {
  auto where = parse_address(address);
  if (!where) co_return where.error();
  std::string name = "request";
  if (auto* o = req.if_object()) {
    if (auto* r = o->if_contains("request"); r && r->is_string()) name = std::string(r->get_string());
  }
  const auto fail = [&](boost::system::error_code ec, bool timed_out) {
    if (timed_out) {
      return make_error(Error::Kind::transport,
                        fmt::format("the Zabbix server at ZABBIX_SERVER_ADDRESS={} did not answer {} "
                                    "within {} ms",
                                    address, name, timeout.count()));
    }
    return make_error(Error::Kind::transport,
                      fmt::format("cannot reach the Zabbix server at ZABBIX_SERVER_ADDRESS={}: {}",
                                  address, describe(ec)));
  };

  auto ex = co_await asio::this_coro::executor;
  auto x = std::make_shared<Exchange>(ex);
  x->timer.expires_after(timeout);
  std::weak_ptr<Exchange> weak = x;
  x->timer.async_wait([weak](boost::system::error_code ec) {
    auto live = weak.lock();
    if (ec || !live) return;
    live->timed_out = true;
    live->resolver.cancel();
    boost::system::error_code ignored;
    live->socket.close(ignored);
  });
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

  auto [rec, endpoints] = co_await x->resolver.async_resolve(where->host, where->port, use_tuple);
  if (rec || x->timed_out) co_return fail(rec, x->timed_out);
  auto [cec, peer] = co_await asio::async_connect(x->socket, endpoints, use_tuple);
  if (cec || x->timed_out) co_return fail(cec, x->timed_out);

  const std::string out = encode(json::serialize(req));
  auto [wec, written] = co_await asio::async_write(x->socket, asio::buffer(out), use_tuple);
  if (wec || x->timed_out) co_return fail(wec, x->timed_out);

  std::string in;
  std::array<char, 8192> chunk;
  for (;;) {
    auto [rec2, n] = co_await x->socket.async_read_some(asio::buffer(chunk), use_tuple);
    if (x->timed_out) co_return fail(rec2, true);
    in.append(chunk.data(), n);
    auto frame = decode(in);
    if (!frame) {
      Error e = frame.error();
      e.message = fmt::format("ZABBIX_SERVER_ADDRESS={}: {}", address, e.message);
      co_return e;
    }
    if (*frame) {
      x->timer.cancel();
      boost::system::error_code ignored;
      x->socket.shutdown(tcp::socket::shutdown_both, ignored);
      x->socket.close(ignored);
      co_return parse_response(name, **frame);
    }
    if (rec2) co_return fail(rec2, false);
  }
}

}  // namespace zpark::zabbix::trapper
