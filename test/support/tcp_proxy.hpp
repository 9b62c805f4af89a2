#pragma once
// A loopback TCP forwarder on its own thread, to take a real server "down" and back "up" in
// the middle of a test (connections refused, then forwarded again) without touching it.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace zpark::test {

class TcpProxy {
 public:
  // Forwards 127.0.0.1:<port()> to target_host:target_port.
  TcpProxy(std::string target_host, unsigned short target_port);
  ~TcpProxy();
  unsigned short port() const { return port_; }
  // Down: new connections are closed at once and open ones are cut.
  void set_down(bool down);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
  std::thread thread_;
};

}  // namespace zpark::test
