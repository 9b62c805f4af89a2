#include "test/support/tcp_proxy.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <list>

namespace zpark::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;

struct TcpProxy::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::endpoint target;
  bool down = false;
  std::list<std::shared_ptr<tcp::socket>> open;

  awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    std::array<char, 16384> buf;
    boost::system::error_code ec;
    for (;;) {
      auto n = co_await from->async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      co_await asio::async_write(*to, asio::buffer(buf.data(), n), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    from->close(ec);
    to->close(ec);
  }

  awaitable<void> serve(std::shared_ptr<tcp::socket> client) {
    auto upstream = std::make_shared<tcp::socket>(io);
    boost::system::error_code ec;
    co_await upstream->async_connect(target, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    open.push_back(client);
    open.push_back(upstream);
    asio::co_spawn(io, pump(client, upstream), asio::detached);
    asio::co_spawn(io, pump(upstream, client), asio::detached);
  }

  awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      auto s = std::make_shared<tcp::socket>(io);
      co_await acceptor.async_accept(*s, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      if (down) continue;  // the socket closes as it goes out of scope
      asio::co_spawn(io, serve(s), asio::detached);
    }
  }
};

TcpProxy::TcpProxy(std::string host, unsigned short port) : impl_(std::make_unique<Impl>()) {
  impl_->target = tcp::endpoint(asio::ip::make_address(host), port);
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  thread_ = std::thread([this] { impl_->io.run(); });
}

TcpProxy::~TcpProxy() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    for (auto& s : impl_->open) s->close(ec);
  });
  impl_->io.stop();
  thread_.join();
}

void TcpProxy::set_down(bool down) {
  asio::post(impl_->io, [this, down] {
    impl_->down = down;
    boost::system::error_code ec;
    if (down)
      for (auto& s : impl_->open) s->close(ec);
    impl_->open.clear();
  });
}

}  // namespace zpark::test
