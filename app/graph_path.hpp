#pragma once
// Builds the graph path from settings: the Zabbix frontend session (chart.php), the API client
// that finds a trigger's items, and the relay hook that posts a PNG of the last hour
// (ZPARK_GRAPH_PERIOD) into each problem alert's thread once the alert is delivered. The alert
// never waits for its graph; a graph that fails is logged and counted in /metrics, nothing else.
#include "app/api.hpp"
#include "app/relay_wiring.hpp"
#include "conf/settings.hpp"
#include "zabbix/client.hpp"
#include "zabbix/frontend.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <set>
#include <string>

namespace zpark::app {

class GraphPath {
 public:
  GraphPath(boost::asio::io_context& io, const conf::Settings& settings, Api& api, AlertPath& alerts);
  void start();  // logs in to the frontend once, to say early whether graphs can work
  void stop();
  // For the `graph` command: null when graphs are off (off_reason() says why).
  zabbix::Frontend* frontend() { return frontend_.get(); }
  const std::string& off_reason() const { return off_reason_; }

 private:
  void problem_delivered(const spark::Alert& alert, const std::string& message_id, const std::string& room_id);
  boost::asio::awaitable<void> post_graph(spark::Alert alert, std::string message_id, std::string room_id);
  boost::asio::awaitable<bool> upload(spark::FileMessage file, std::string event_id);
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);
  void failed(const std::string& event_id, const std::string& why);

  boost::asio::io_context& io_;
  const conf::Settings& settings_;
  std::string off_reason_;
  spark::WebexClient* webex_ = nullptr;
  tasks::Relay& relay_;
  std::unique_ptr<zabbix::Client> zabbix_;
  std::unique_ptr<zabbix::Frontend> frontend_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::set<boost::asio::steady_timer*> sleeping_;
  std::uint64_t posted_ = 0, failed_ = 0, skipped_ = 0;
};

}  // namespace zpark::app
