#pragma once
// A blocking HTTP/1.1 server on 127.0.0.1 (port 0) for the fakes in tests: one thread accepts,
// one thread per connection, keep-alive honoured. The fakes only say what to answer.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <memory>

namespace zpark::test {

class LoopbackHttpServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  // Called from the connection threads; keep-alive and Content-Length are set afterwards.
  using Handler = std::function<Response(const Request&)>;

  explicit LoopbackHttpServer(Handler handle);
  // Stops accepting; open connections end when their client closes them.
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  unsigned short port() const;

  struct State;

 private:
  std::shared_ptr<State> st_;
};

}  // namespace zpark::test
