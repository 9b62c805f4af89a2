#include "test/support/emulator.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace zpark::test {

std::string run_command(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buf;
  while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int rc = ::pclose(p);
  if (rc != 0) throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + command + "\n" + out);
  return out;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  return out + "'";
}

namespace {

// curl's answer with "\n<status>" appended by -w.
std::pair<unsigned, std::string> split_status(std::string out) {
  auto nl = out.rfind('\n');
  if (nl == std::string::npos) throw std::runtime_error("no HTTP status from curl: " + out);
  unsigned status = static_cast<unsigned>(std::stoul(out.substr(nl + 1)));
  out.resize(nl);
  return {status, std::move(out)};
}

}  // namespace

Emulator::Emulator(const std::string& workdir, const std::string& cert, unsigned short port) {
  const auto certs = env_or_fail("ZPARK_TEST_CERTS");
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{env_or_fail("WEBEX_EMULATOR_BIN"), "--cert", certs + "/" + cert + ".pem", "--key",
                               certs + "/" + cert + ".key", "--port", std::to_string(port), "--token", token,
                               "--webhook-ca", certs + "/ca.pem"},
      std::map<std::string, std::string>{}, workdir + "/emulator-" + std::to_string(port) + ".log");
  if (!proc_->wait_log("listening ", std::chrono::seconds(10)))
    throw std::runtime_error("emulator did not start:\n" + proc_->log());
  auto log = proc_->log();
  auto at = log.find("listening ") + 10;
  auto end = log.find_first_of("\r\n", at);
  url_ = "https://" + log.substr(at, end - at);
  // Control calls below use the test CA regardless of which certificate the API serves.
}

std::string Emulator::ca_file() const { return env_or_fail("ZPARK_TEST_CERTS") + "/ca.pem"; }

boost::json::value Emulator::get(const std::string& path) const {
  return boost::json::parse(run_command("curl -sSfk --max-time 10 " + shell_quote(url_ + path)));
}

void Emulator::post(const std::string& path, const std::string& json_body) const { post_json(path, json_body); }

boost::json::value Emulator::post_json(const std::string& path, const std::string& json_body) const {
  auto [status, body] = split_status(
      run_command("curl -sSk --max-time 10 -X POST -H 'Content-Type: application/json' --data-binary " +
                  shell_quote(json_body) + " -w '\\n%{http_code}' " + shell_quote(url_ + path)));
  if (status < 200 || status > 299)
    throw std::runtime_error("POST " + path + " answered " + std::to_string(status) + ": " + body);
  return body.empty() ? boost::json::value{} : boost::json::parse(body);
}

boost::json::array Emulator::messages() const {
  auto v = get("/_emu/messages");
  if (v.is_array()) return v.get_array();
  return v.at("messages").as_array();
}

boost::json::array Emulator::requests() const { return get("/_emu/requests").at("requests").as_array(); }

boost::json::object Emulator::seed_message(const std::string& json_body) const {
  return post_json("/_emu/messages", json_body).as_object();
}

boost::json::object Emulator::seed_attachment_action(const std::string& json_body) const {
  return post_json("/_emu/attachment_actions", json_body).as_object();
}

void Emulator::faults(const std::string& json_body) const { post_json("/_emu/faults", json_body); }

boost::json::array Emulator::deliveries(std::uint64_t since) const {
  return get("/_emu/deliveries?since=" + std::to_string(since)).at("deliveries").as_array();
}

boost::json::array Emulator::redeliver(const std::string& message_id, const std::string& webhook_id) const {
  boost::json::object body{{"messageId", message_id}};
  if (!webhook_id.empty()) body["webhookId"] = webhook_id;
  return post_json("/_emu/redeliver", boost::json::serialize(body)).at("deliveries").as_array();
}

boost::json::array Emulator::wait_deliveries(std::size_t count, std::chrono::milliseconds timeout,
                                             std::uint64_t since) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto all = deliveries(since);
    if (all.size() >= count) {
      boost::json::array first(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count));
      bool finished = std::all_of(first.begin(), first.end(),
                                  [](const auto& d) { return d.at("state").as_string() != "pending"; });
      if (finished) return first;
    }
    if (std::chrono::steady_clock::now() >= until)
      throw std::runtime_error("expected " + std::to_string(count) + " finished webhook deliveries after seq " +
                               std::to_string(since) + " within " + std::to_string(timeout.count()) +
                               " ms; the delivery log: " + boost::json::serialize(all));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

boost::json::array Emulator::webhooks() const { return get("/_emu/webhooks").at("webhooks").as_array(); }

void Emulator::reset() const { post_json("/_emu/reset", ""); }

Emulator::ApiReply Emulator::api(const std::string& method, const std::string& path_under_v1,
                                 const std::string& json_body) const {
  std::string cmd = "curl -sSk --max-time 10 -X " + shell_quote(method) + " -H " +
                    shell_quote(std::string("Authorization: Bearer ") + token);
  if (!json_body.empty())
    cmd += " -H 'Content-Type: application/json' --data-binary " + shell_quote(json_body);
  cmd += " -w '\\n%{http_code}' " + shell_quote(api_url() + path_under_v1);
  auto [status, body] = split_status(run_command(cmd));
  return ApiReply{status, body.empty() ? boost::json::value{} : boost::json::parse(body)};
}

std::string Emulator::create_webhook(const std::string& json_body) const {
  auto reply = api("POST", "/webhooks", json_body);
  if (reply.status != 200)
    throw std::runtime_error("POST /v1/webhooks answered " + std::to_string(reply.status) + ": " +
                             boost::json::serialize(reply.body));
  return std::string(reply.body.at("id").as_string());
}

}  // namespace zpark::test
