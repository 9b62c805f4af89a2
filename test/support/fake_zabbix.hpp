#pragma once
// A Zabbix 6.0 frontend's JSON-RPC API, faked on loopback for tests that start the real zpark
// binary: password login, and the problem events the bot's write commands touch (event.get
// with select_acknowledges, event.acknowledge applying its action bits). Every call is
// recorded. Runs its own threads; safe to use from the test's thread.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace zpark::test {

class LoopbackHttpServer;

class FakeZabbix {
 public:
  struct Event {
    std::string eventid;
    std::string name = "Disk full on db01";
    std::string host = "db01";
    std::string triggerid = "13001";
    int severity = 4;
    bool acknowledged = false;
    bool resolved = false;
    bool manual_close = true;
    std::int64_t clock = 0;        // 0: now
    boost::json::array acknowledges;  // as event.get shows them, oldest first
  };
  struct Call {
    std::string method;
    boost::json::value params;
  };

  FakeZabbix();  // listens on 127.0.0.1, port 0
  ~FakeZabbix();
  FakeZabbix(const FakeZabbix&) = delete;
  FakeZabbix& operator=(const FakeZabbix&) = delete;

  std::string url() const;  // http://127.0.0.1:PORT (for ZABBIX_SERVER_URL)
  void add_event(Event e);
  void resolve(const std::string& eventid);
  Event event(const std::string& eventid) const;  // throws when unknown
  std::vector<Call> calls(const std::string& method = "") const;

  struct State;

 private:
  std::shared_ptr<State> st_;
  std::unique_ptr<LoopbackHttpServer> server_;  // declared last: stops first
};

}  // namespace zpark::test
