#pragma once
// The Zabbix API queries behind graphs: the numeric items of a problem's trigger, and the
// items a `graph HOST ITEM` command names. The image itself comes from zabbix/frontend.hpp.
#include "zabbix/client.hpp"
#include "zabbix/graph_data.hpp"

#include <boost/json/value.hpp>

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace zpark::zabbix {

// Pure: the numeric items of an item.get answer (with selectHosts), at most kMaxGraphItems,
// in the answer's order.
std::vector<GraphItem> numeric_items(const boost::json::value& item_get_answer);

// The numeric items of the problem's trigger (empty: nothing to draw). `trigger_id` may be
// empty or not a number (a macro Zabbix left unexpanded): it is then looked up from the event.
boost::asio::awaitable<Result<std::vector<GraphItem>>> trigger_items(Client& client, std::string trigger_id,
                                                                    std::string event_id);

// `graph HOST ITEM`: the host by technical or visible name (case-insensitive); the item by exact
// key, exact name, then key prefix ("system.cpu.load" finds system.cpu.load[all,avg1] ...), then
// name part; numeric ones only.
boost::asio::awaitable<Result<GraphLookup>> find_graph_items(Client& client, std::string host,
                                                             std::string item);

}  // namespace zpark::zabbix
