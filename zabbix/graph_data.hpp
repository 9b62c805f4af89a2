#pragma once
// Plain data of graphs: which items a graph shows. zabbix/graphs.hpp fills these;
// spark/replies.hpp words them. No I/O.
#include <cstdint>
#include <string>
#include <vector>

namespace zpark::zabbix {

struct GraphItem {
  std::string itemid;
  std::string name;  // the item's name as the frontend shows it
  std::string key;   // key_
  std::string host;  // visible host name
  int value_type = 0;  // 0 float, 3 unsigned: the numeric ones chart.php draws
};

// Items Zabbix draws: numeric (value_type 0 float, 3 unsigned).
inline bool is_numeric_value_type(int value_type) { return value_type == 0 || value_type == 3; }

// At most this many items in one graph: more lines are unreadable.
inline constexpr std::size_t kMaxGraphItems = 8;

// `graph HOST ITEM`: what was found.
struct GraphLookup {
  enum class Outcome { found, no_host, no_item, not_numeric } outcome = Outcome::no_host;
  std::string host;               // the host's visible name, when found
  std::vector<GraphItem> items;   // found: numeric items (at most kMaxGraphItems)
  std::vector<std::string> other; // no_item / not_numeric: a few item keys of that host
};

}  // namespace zpark::zabbix
