#include "test/support/fake_frontend.hpp"

#include "test/support/loopback_http.hpp"

#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <mutex>

namespace zpark::test {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

const char* const kLoginPage =
    "<!DOCTYPE html>\n<html><head><title>Zabbix</title></head><body><form action=\"index.php\">"
    "<input name=\"name\"><input name=\"password\"></form></body></html>";

struct Item {
  const char *itemid, *name, *key, *value_type, *triggerid;
};
const Item kItems[] = {{"23001", "CPU load", "system.cpu.load[all,avg1]", "0", "13001"},
                       {"23002", "Load average (5m)", "system.cpu.load[all,avg5]", "0", ""},
                       {"23003", "Agent version", "agent.version", "4", "13002"}};

std::string text(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

bool contains_ci(std::string hay, std::string needle) {
  for (auto* s : {&hay, &needle})
    for (auto& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hay.find(needle) != std::string::npos;
}

}  // namespace

struct FakeFrontend::State {
  mutable std::mutex mu;
  int session = 0;  // current valid session number; 0: none
  bool always_html = false;
  std::size_t logins = 0, refused = 0;
  std::vector<std::string> charts;

  json::value rpc(const json::object& in) {
    const std::string method = in.contains("method") ? text(in.at("method")) : "";
    const json::value id = in.contains("id") ? in.at("id") : json::value(1);
    const json::object p = in.contains("params") && in.at("params").is_object() ? in.at("params").get_object() : json::object();
    auto ok = [&](json::value r) { return json::value{{"jsonrpc", "2.0"}, {"result", std::move(r)}, {"id", id}}; };
    if (method == "apiinfo.version") return ok("6.0.14");
    if (method == "user.login") return ok("api-session");
    if (method == "user.logout") return ok(true);
    if (method == "event.get") {
      json::array out;
      if (json::serialize(p).find("\"555\"") != std::string::npos)
        out.push_back(json::object{{"eventid", "555"}, {"source", "0"}, {"object", "0"}, {"objectid", "13001"}});
      return ok(std::move(out));
    }
    if (method == "host.get") {
      json::array out;
      const std::string wanted = p.contains("search") ? text(p.at("search").at("host")) : "";
      if (contains_ci("db01", wanted) && !wanted.empty())
        out.push_back(json::object{{"hostid", "10501"}, {"host", "db01"}, {"name", "db01"}});
      return ok(std::move(out));
    }
    if (method == "item.get") {
      json::array out;
      std::string trigger;
      if (const auto* t = p.if_contains("triggerids"); t && t->is_array() && !t->get_array().empty())
        trigger = text(t->get_array()[0]);
      for (const auto& item : kItems) {
        if (!trigger.empty() && trigger != item.triggerid) continue;
        if (trigger.empty()) {
          if (const auto* f = p.if_contains("filter"); f && f->is_object()) {
            const auto& fo = f->get_object();
            if (fo.contains("key_") && text(fo.at("key_")) != item.key) continue;
            if (fo.contains("name") && text(fo.at("name")) != item.name) continue;
            if (fo.contains("value_type") && std::string(item.value_type) == "4") continue;
          }
          if (const auto* s = p.if_contains("search"); s && s->is_object()) {
            const auto& so = s->get_object();
            if (so.contains("key_") && (p.contains("startSearch") ? !std::string(item.key).starts_with(text(so.at("key_")))
                                                                  : !contains_ci(item.key, text(so.at("key_")))))
              continue;
            if (so.contains("name") && !contains_ci(item.name, text(so.at("name")))) continue;
          }
        }
        out.push_back(json::object{{"itemid", item.itemid},
                                   {"name", item.name},
                                   {"key_", item.key},
                                   {"value_type", item.value_type},
                                   {"hosts", json::array{json::object{{"hostid", "10501"}, {"name", "db01"}}}}});
      }
      return ok(std::move(out));
    }
    return json::value{{"jsonrpc", "2.0"},
                       {"error", {{"code", -32601}, {"message", "Method not found."}, {"data", method}}},
                       {"id", id}};
  }

  LoopbackHttpServer::Response answer(const LoopbackHttpServer::Request& req) {
    LoopbackHttpServer::Response res{http::status::ok, 11};
    const std::string target(req.target());
    std::lock_guard lock(mu);
    if (target.starts_with("/zabbix/api_jsonrpc.php")) {
      boost::system::error_code ec;
      auto in = json::parse(req.body(), ec);
      res.set(http::field::content_type, "application/json");
      res.body() = ec || !in.is_object() ? "{}" : json::serialize(rpc(in.get_object()));
    } else if (target.starts_with("/zabbix/index.php") && req.method() == http::verb::post) {
      if (req.body().find("name=Admin&password=zabbix&") == 0 && req.body().find("enter=Sign") != std::string::npos) {
        ++logins;
        session = static_cast<int>(logins) + 100;
        res.result(http::status::found);
        res.set(http::field::location, "zabbix.php?action=dashboard.view");
        res.insert(http::field::set_cookie, "PHPSESSID=x; path=/");
        res.insert(http::field::set_cookie, "zbx_session=sess" + std::to_string(session) + "; path=/zabbix/; HttpOnly");
      } else {
        ++refused;
        res.set(http::field::content_type, "text/html");
        res.body() = kLoginPage;
      }
    } else if (target.starts_with("/zabbix/chart.php")) {
      const std::string cookie(req[http::field::cookie]);
      const bool valid = session != 0 && cookie.find("zbx_session=sess" + std::to_string(session)) != std::string::npos;
      if (valid && !always_html) {
        charts.push_back(target);
        res.set(http::field::content_type, "image/png");
        res.body() = png();
      } else {
        res.set(http::field::content_type, "text/html");
        res.body() = kLoginPage;
      }
    } else {
      res.result(http::status::not_found);
      res.body() = "not found";
    }
    return res;
  }
};

FakeFrontend::FakeFrontend()
    : st_(std::make_shared<State>()),
      server_(std::make_unique<LoopbackHttpServer>([st = st_](const auto& req) { return st->answer(req); })) {}

FakeFrontend::~FakeFrontend() = default;

std::string FakeFrontend::url() const {
  return "http://127.0.0.1:" + std::to_string(server_->port()) + "/zabbix";
}

void FakeFrontend::expire_sessions() {
  std::lock_guard lock(st_->mu);
  st_->session = 0;
}

void FakeFrontend::always_html(bool on) {
  std::lock_guard lock(st_->mu);
  st_->always_html = on;
}

std::size_t FakeFrontend::logins() const {
  std::lock_guard lock(st_->mu);
  return st_->logins;
}

std::size_t FakeFrontend::refused_logins() const {
  std::lock_guard lock(st_->mu);
  return st_->refused;
}

std::vector<std::string> FakeFrontend::charts() const {
  std::lock_guard lock(st_->mu);
  return st_->charts;
}

std::string FakeFrontend::png() {
  std::string p("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  p += std::string(20000, 'x');
  return p;
}

}  // namespace zpark::test
