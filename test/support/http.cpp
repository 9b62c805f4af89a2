#include "test/support/http.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include <stdexcept>

#include <poll.h>
#include <sys/socket.h>

namespace zpark::test {

namespace asio = boost::asio;
using generic = asio::generic::stream_protocol;

boost::json::value Reply::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) throw std::runtime_error("reply is not JSON: " + body);
  return v;
}

namespace {
void set_timeout(int fd, std::chrono::milliseconds t) {
  timeval tv{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>((t.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}
}  // namespace

Connection::Connection(const std::string& address, std::chrono::milliseconds timeout) : socket_(io_) {
  if (address.starts_with("unix:")) {
    asio::local::stream_protocol::endpoint ep(address.substr(5));
    socket_.connect(generic::endpoint(ep));
  } else {
    auto colon = address.rfind(':');
    std::string host = address.substr(0, colon);
    if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
    asio::ip::tcp::endpoint ep(asio::ip::make_address(host),
                               static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
    socket_.connect(generic::endpoint(ep));
  }
  set_timeout(socket_.native_handle(), timeout);
}

Reply Connection::request(http::verb method, const std::string& target, const std::string& body,
                          const Headers& headers, const std::string& content_type) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "localhost");
  if (!body.empty() || method == http::verb::post) req.set(http::field::content_type, content_type);
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(socket_, req);
  return read_reply(method == http::verb::head);
}

void Connection::send_raw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

Reply Connection::read_reply(bool head) {
  http::response_parser<http::string_body> parser;
  parser.skip(head);  // a HEAD answer announces a body it does not send
  http::read(socket_, buffer_, parser);
  auto res = parser.release();
  Reply r;
  r.status = res.result_int();
  r.body = res.body();
  r.keep_alive = res.keep_alive();
  r.headers = res.base();
  return r;
}

bool Connection::closed_by_peer(std::chrono::milliseconds within) {
  pollfd p{socket_.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(within.count())) <= 0) return false;
  char c;
  auto n = ::recv(socket_.native_handle(), &c, 1, MSG_PEEK);
  return n <= 0;
}

Reply request(const std::string& address, http::verb method, const std::string& target, const std::string& body,
              const Headers& headers) {
  Connection c(address);
  return c.request(method, target, body, headers);
}

}  // namespace zpark::test
