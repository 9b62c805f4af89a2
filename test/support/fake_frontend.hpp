#pragma once
// A Zabbix 6.0 frontend faked on loopback for the graph tests: the web form login (index.php,
// zbx_session cookie), chart.php (a PNG for a valid session, the login page otherwise) and the
// few JSON-RPC calls graphs make (item.get by trigger or host, event.get, host.get). Its own
// threads; safe to use from the test's thread.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace zpark::test {

class LoopbackHttpServer;

class FakeFrontend {
 public:
  // Host db01 (hostid 10501); items 23001 "CPU load" system.cpu.load[all,avg1] (float),
  // 23002 "Load average (5m)" system.cpu.load[all,avg5] (float), 23003 "Agent version"
  // agent.version (text). Trigger 13001 uses 23001; trigger 13002 uses 23003. Event 555 is a
  // problem of trigger 13001. Login Admin / zabbix.
  FakeFrontend();
  ~FakeFrontend();
  FakeFrontend(const FakeFrontend&) = delete;
  FakeFrontend& operator=(const FakeFrontend&) = delete;

  std::string url() const;  // http://127.0.0.1:PORT/zabbix
  // Forgets every session: the next chart.php answers the login page, as after a timeout.
  void expire_sessions();
  // chart.php answers the login page even with a valid session (no permission to the items).
  void always_html(bool on);
  std::size_t logins() const;         // successful form logins
  std::size_t refused_logins() const;
  std::vector<std::string> charts() const;  // chart.php targets that got a PNG
  static std::string png();                 // the PNG it serves (about 20 KB)

  struct State;

 private:
  std::shared_ptr<State> st_;
  std::unique_ptr<LoopbackHttpServer> server_;  // declared last: stops first
};

}  // namespace zpark::test
