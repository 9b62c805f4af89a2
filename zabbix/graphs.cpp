#include "zabbix/graphs.hpp"

#include "zabbix/answer_fields.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace zpark::zabbix {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool same_text(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Error unexpected_shape(std::string_view method, const json::value& v) {
  Error e;
  e.kind = Error::Kind::parse;
  e.message = fmt::format("Zabbix answered {} with an unexpected shape: {}", method, json::serialize(v).substr(0, 120));
  return e;
}

json::object item_query() {
  json::object q;
  q["output"] = json::array{"itemid", "name", "key_", "value_type"};
  q["selectHosts"] = json::array{"name"};
  q["sortfield"] = "name";
  return q;
}

awaitable<Result<json::value>> item_get(Client& client, json::object q) {
  json::value params = std::move(q);
  auto answer = co_await client.call("item.get", std::move(params));
  if (!answer) co_return answer.error();
  if (!answer->is_array()) co_return unexpected_shape("item.get", *answer);
  co_return std::move(*answer);
}

std::vector<std::string> keys_of(const json::value& answer, std::size_t limit) {
  std::vector<std::string> out;
  for (const auto& v : answer.get_array()) {
    if (out.size() == limit) break;
    if (const auto* o = v.if_object()) out.push_back(str_member(*o, "key_"));
  }
  return out;
}

}  // namespace

std::vector<GraphItem> numeric_items(const json::value& answer) {
  std::vector<GraphItem> out;
  const auto* list = answer.if_array();
  if (!list) return out;
  for (const auto& v : *list) {
    const auto* o = v.if_object();
    if (!o) continue;
    GraphItem item;
    item.itemid = str_member(*o, "itemid");
    item.name = str_member(*o, "name");
    item.key = str_member(*o, "key_");
    item.value_type = static_cast<int>(int_member(*o, "value_type", -1));
    if (const auto* hosts = array_member(*o, "hosts"); hosts && !hosts->empty())
      if (const auto* h = (*hosts)[0].if_object()) item.host = str_member(*h, "name");
    if (item.itemid.empty() || !is_numeric_value_type(item.value_type)) continue;
    out.push_back(std::move(item));
    if (out.size() == kMaxGraphItems) break;
  }
  return out;
}

awaitable<Result<std::vector<GraphItem>>> trigger_items(Client& client, std::string trigger_id, std::string event_id) {
  if (!all_digits(trigger_id)) {
    if (!all_digits(event_id)) co_return std::vector<GraphItem>{};
    json::value q = json::object{{"eventids", json::array{json::value(event_id)}},
                                 {"output", json::array{"objectid", "object", "source"}}};
    auto answer = co_await client.call("event.get", std::move(q));
    if (!answer) co_return answer.error();
    const auto* list = answer->if_array();
    if (!list) co_return unexpected_shape("event.get", *answer);
    if (list->empty() || !(*list)[0].is_object()) co_return std::vector<GraphItem>{};
    const auto& e = (*list)[0].get_object();
    // Source 0 (triggers), object 0 (trigger): objectid is the trigger.
    if (int_member(e, "source", -1) != 0 || int_member(e, "object", -1) != 0) co_return std::vector<GraphItem>{};
    trigger_id = str_member(e, "objectid");
    if (!all_digits(trigger_id)) co_return std::vector<GraphItem>{};
  }
  json::object q = item_query();
  q["triggerids"] = json::array{json::value(trigger_id)};
  auto items = co_await item_get(client, std::move(q));
  if (!items) co_return items.error();
  co_return numeric_items(*items);
}

awaitable<Result<GraphLookup>> find_graph_items(Client& client, std::string host, std::string item) {
  GraphLookup out;
  // The host: technical or visible name, equal ignoring case ('*' stays a wildcard).
  json::object hq;
  hq["output"] = json::array{"hostid", "host", "name"};
  hq["search"] = json::object{{"host", host}, {"name", host}};
  hq["searchByAny"] = true;
  hq["searchWildcardsEnabled"] = true;
  hq["limit"] = 20;
  json::value hparams = std::move(hq);
  auto hosts = co_await client.call("host.get", std::move(hparams));
  if (!hosts) co_return hosts.error();
  if (!hosts->is_array()) co_return unexpected_shape("host.get", *hosts);
  std::string hostid;
  for (const auto& v : hosts->get_array()) {
    const auto* o = v.if_object();
    if (!o) continue;
    if (same_text(str_member(*o, "host"), host) || same_text(str_member(*o, "name"), host)) {
      hostid = str_member(*o, "hostid");
      out.host = str_member(*o, "name");
      if (same_text(str_member(*o, "host"), host)) break;  // the technical name wins
    }
  }
  if (hostid.empty()) {
    out.outcome = GraphLookup::Outcome::no_host;
    co_return out;
  }
  // The item: exact key, exact name, key prefix, name part; each step only when the one before
  // found nothing.
  struct Step {
    const char* field;
    bool exact;
    bool prefix;
  };
  static constexpr Step steps[] = {{"key_", true, false}, {"name", true, false}, {"key_", false, true},
                                   {"name", false, false}};
  json::value last = json::array();
  for (const auto& step : steps) {
    json::object q = item_query();
    q["hostids"] = json::array{json::value(hostid)};
    if (step.exact) {
      q["filter"] = json::object{{step.field, item}};
    } else {
      q["search"] = json::object{{step.field, item}};
      if (step.prefix) q["startSearch"] = true;
    }
    q["limit"] = 50;
    auto found = co_await item_get(client, std::move(q));
    if (!found) co_return found.error();
    if (found->get_array().empty()) continue;
    out.items = numeric_items(*found);
    if (!out.items.empty()) {
      out.outcome = GraphLookup::Outcome::found;
      co_return out;
    }
    last = std::move(*found);
    break;
  }
  if (!last.get_array().empty()) {
    out.outcome = GraphLookup::Outcome::not_numeric;
    out.other = keys_of(last, 5);
    co_return out;
  }
  out.outcome = GraphLookup::Outcome::no_item;
  json::object q;
  q["output"] = json::array{"key_"};
  q["hostids"] = json::array{json::value(hostid)};
  q["filter"] = json::object{{"value_type", json::array{0, 3}}};
  q["sortfield"] = "key_";
  q["limit"] = 5;
  auto some = co_await item_get(client, std::move(q));
  if (some) out.other = keys_of(*some, 5);
  co_return out;
}

}  // namespace zpark::zabbix
