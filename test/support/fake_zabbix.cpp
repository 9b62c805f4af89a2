#include "test/support/fake_zabbix.hpp"

#include "test/support/loopback_http.hpp"

#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>

namespace zpark::test {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

}  // namespace

struct FakeZabbix::State {
  mutable std::mutex mu;
  std::map<std::string, Event> events;
  std::vector<Call> calls;
  int next_ack = 1;

  json::value event_json(const Event& e) const {
    json::object o{{"eventid", e.eventid},        {"source", "0"},
                   {"object", "0"},               {"objectid", e.triggerid},
                   {"value", "1"},                {"acknowledged", e.acknowledged ? "1" : "0"},
                   {"r_eventid", e.resolved ? "9" + e.eventid : "0"},
                   {"name", e.name},              {"severity", std::to_string(e.severity)},
                   {"clock", std::to_string(e.clock ? e.clock : unix_now())}};
    o["acknowledges"] = e.acknowledges;
    o["hosts"] = json::array{json::object{{"hostid", "10500"}, {"host", e.host}, {"name", e.host}}};
    o["relatedObject"] = json::object{{"triggerid", e.triggerid}, {"manual_close", e.manual_close ? "1" : "0"}};
    return o;
  }

  // The JSON-RPC answer (result or error) of one request.
  json::value answer(const json::object& in) {
    const std::string method = in.contains("method") ? text(in.at("method")) : "";
    const json::value id = in.contains("id") ? in.at("id") : json::value(1);
    const json::value params = in.contains("params") ? in.at("params") : json::value();
    std::lock_guard lock(mu);
    calls.push_back({method, params});
    auto ok = [&](json::value r) { return json::value{{"jsonrpc", "2.0"}, {"result", std::move(r)}, {"id", id}}; };
    auto fail = [&](int code, std::string_view m, std::string_view data) {
      return json::value{{"jsonrpc", "2.0"}, {"error", {{"code", code}, {"message", m}, {"data", data}}}, {"id", id}};
    };
    if (method == "apiinfo.version") return ok("6.0.14");
    if (method == "user.login") return ok("fake-session-1");
    if (method == "user.logout") return ok(true);
    if (method != "user.login" && (!in.contains("auth") || text(in.at("auth")) != "fake-session-1"))
      return fail(-32602, "Invalid params.", "Session terminated, re-login, please.");
    const json::object p = params.is_object() ? params.get_object() : json::object();
    std::vector<std::string> ids;
    if (const auto* e = p.if_contains("eventids"); e && e->is_array())
      for (const auto& v : e->get_array()) ids.push_back(text(v));
    if (method == "event.get") {
      json::array out;
      for (const auto& eid : ids)
        if (auto it = events.find(eid); it != events.end()) out.push_back(event_json(it->second));
      return ok(std::move(out));
    }
    if (method == "event.acknowledge") {
      const int action = p.contains("action") ? static_cast<int>(p.at("action").to_number<std::int64_t>()) : 0;
      for (const auto& eid : ids) {
        auto it = events.find(eid);
        if (it == events.end()) return fail(-32500, "Application error.", "No permissions to referred object or it does not exist!");
        auto& e = it->second;
        if ((action & 1) && !e.manual_close)
          return fail(-32500, "Application error.", "Cannot close problem: trigger does not allow manual closing.");
        if (action & 2) e.acknowledged = true;
        if (action & 16) e.acknowledged = false;
        if (action & 1) e.resolved = true;
        e.acknowledges.push_back(json::object{{"acknowledgeid", std::to_string(next_ack++)},
                                              {"clock", std::to_string(unix_now())},
                                              {"action", std::to_string(action)},
                                              {"message", (action & 4) && p.contains("message") ? text(p.at("message")) : ""},
                                              {"username", "Admin"},
                                              {"name", "Zabbix"},
                                              {"surname", "Administrator"}});
      }
      json::array out;
      for (const auto& eid : ids) out.push_back(json::value(std::stoll(eid)));
      return ok(json::object{{"eventids", std::move(out)}});
    }
    return fail(-32601, "Method not found.", "Incorrect API \"" + method + "\".");
  }
};

namespace {

LoopbackHttpServer::Response respond(FakeZabbix::State& st, const LoopbackHttpServer::Request& req) {
  LoopbackHttpServer::Response res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  boost::system::error_code ec;
  json::value in = json::parse(req.body(), ec);
  if (ec || !in.is_object()) {
    res.result(http::status::bad_request);
    res.body() = "not JSON";
  } else {
    res.body() = json::serialize(st.answer(in.get_object()));
  }
  return res;
}

}  // namespace

FakeZabbix::FakeZabbix()
    : st_(std::make_shared<State>()),
      server_(std::make_unique<LoopbackHttpServer>([st = st_](const auto& req) { return respond(*st, req); })) {}

FakeZabbix::~FakeZabbix() = default;

std::string FakeZabbix::url() const {
  return "http://127.0.0.1:" + std::to_string(server_->port());
}

void FakeZabbix::add_event(Event e) {
  std::lock_guard lock(st_->mu);
  auto id = e.eventid;
  st_->events[id] = std::move(e);
}

void FakeZabbix::resolve(const std::string& eventid) {
  std::lock_guard lock(st_->mu);
  st_->events.at(eventid).resolved = true;
}

FakeZabbix::Event FakeZabbix::event(const std::string& eventid) const {
  std::lock_guard lock(st_->mu);
  return st_->events.at(eventid);
}

std::vector<FakeZabbix::Call> FakeZabbix::calls(const std::string& method) const {
  std::lock_guard lock(st_->mu);
  std::vector<Call> out;
  for (const auto& c : st_->calls)
    if (method.empty() || c.method == method) out.push_back(c);
  return out;
}

}  // namespace zpark::test
