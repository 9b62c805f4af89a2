#include "test/support/loopback_http.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <thread>

#include <sys/socket.h>

namespace zpark::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct LoopbackHttpServer::State {
  explicit State(Handler h) : handle(std::move(h)) {}
  Handler handle;
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::thread accepting;
  std::atomic<bool> stopping = false;
};

namespace {

void serve(LoopbackHttpServer::State& st, tcp::socket& socket) {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    auto res = st.handle(req);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !req.keep_alive()) return;
  }
}

}  // namespace

LoopbackHttpServer::LoopbackHttpServer(Handler handle) : st_(std::make_shared<State>(std::move(handle))) {
  st_->accepting = std::thread([st = st_] {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s(st->io);
      st->acceptor.accept(s, ec);
      if (ec || st->stopping) return;
      // Each connection holds the state, as its thread may outlive the server object; the
      // socket is captured last so that it is closed before its io_context can go.
      std::thread([st, s = std::move(s)]() mutable { serve(*st, s); }).detach();
    }
  });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  st_->stopping = true;
  ::shutdown(st_->acceptor.native_handle(), SHUT_RDWR);  // wakes the blocking accept
  st_->accepting.join();
}

unsigned short LoopbackHttpServer::port() const { return st_->acceptor.local_endpoint().port(); }

}  // namespace zpark::test
