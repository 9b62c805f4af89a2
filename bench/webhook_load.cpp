// bench-webhook-load: load generator and meter for bench/webhook.sh (bot commands).
//
// 1. Seeds --count messages in the webex-emulator (POST /_emu/messages, deliver:false, text
//    --text, default "help"), each written by its own person wh-TAG-i@--domain in that person's
//    direct room with the bot, as many Webex users would. Seeding runs before the timed part,
//    over --seed-connections TLS connections; the webhook envelopes (the fields Webex and the
//    emulator send) and their X-Spark-Signature (lowercase hex HMAC-SHA1 of the body, keyed
//    with --secret) are built then too, so the timed part only sends.
// 2. POSTs the envelopes to Zpark's /api/v1/webhook, until --duration seconds have passed or
//    the seeded messages run out, in one of three ways:
//    --in-flight U: U users, each on its own keep-alive connection, each sending a webhook and
//      waiting until the emulator has received its reply before the next one (a closed loop
//      over whole commands; replies are seen by reading the emulator's request log, pausing
//      --poll-ms between reads). This is what webhook.sh measures.
//    default: a closed loop on the answers over --connections connections (each sends its next
//      webhook as soon as the previous one is answered; replies pile up inside Zpark);
//    --rate R: an open loop (webhook i is due at t0 + i/R; if every connection is busy it waits
//      and its latency counts from when it was due).
//    An answer counts as accepted when it is 200 with a taskid.
// 3. Waits (up to --wait-replies s) until Zpark has delivered one reply per accepted webhook
//    (zpark_alerts_delivered_total on its /metrics: replies go through the alert outbox and
//    lanes), then reads the emulator's request log and matches, per message, Zpark's
//    GET /v1/messages/{id} (by id) and its POST /v1/messages (by the roomId it posts to: one
//    room per message). The emulator's log times are put on our clock with the calibration in
//    emu_clock.hpp (100 requests before and 100 after), so each arrival is +-~0.55 ms.
//
// Reports: webhooks answered/s and answer latency (sent -> 200); webhook -> fetch and
// webhook -> reply latency (sent -> the emulator got the GET / the reply POST); replies/s
// end to end (first webhook sent -> last reply arrived); how many replies were still owed when
// the load stopped; and with --zpark-pid / --emu-pid, CPU (utime+stime from /proc/PID/stat)
// per accepted webhook over the timed part plus the wait for the replies.
//
// Prints human-readable lines and one machine-readable "result key=value ..." line.
#include "emu_clock.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/resource.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string_view>
#include <unordered_map>

using namespace bench;
namespace json = boost::json;

namespace {

struct Options {
  std::string zpark;     // host:port
  std::string emulator;  // host:port
  std::string ca;
  std::string emu_token = "test-token";
  std::string secret;
  std::string domain = "bench.example.org";
  std::string text = "help";
  std::string tag;
  std::size_t connections = 50;
  std::size_t seed_connections = 4;
  std::size_t count = 0;  // messages to seed = most webhooks sent
  double duration = 0;    // seconds; 0 = until the seeded messages are used up
  double rate = 0;        // webhooks/s; 0 = closed loop
  std::size_t in_flight = 0;  // >0: closed loop over whole commands, this many users
  double poll_ms = 2;         // users mode: pause between polls of the emulator's log
  double wait_replies = 60;
  int zpark_pid = 0, emu_pid = 0;
};

// utime+stime of a process in seconds, from /proc/PID/stat; -1 when unknown.
double cpu_seconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int k = 3; k <= 15 && rest >> field; ++k) {  // field 3 is the state
    if (k == 14) utime = std::stoull(field);
    if (k == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// Our own CPU (user + sys) in seconds.
double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string hmac_sha1_hex(const std::string& key, const std::string& body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), md, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// ---------------------------------------------------------------- Zpark side

struct Plain {
  explicit Plain(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool open = false;
  void reset() {
    stream.close();
    buffer.clear();
    open = false;
  }
};

awaitable<error_code> connect(Plain* c, tcp::endpoint ep) {
  c->stream.expires_after(std::chrono::seconds(5));
  auto [ec] = co_await c->stream.async_connect(ep, tuple);
  if (!ec) {
    c->stream.socket().set_option(tcp::no_delay(true), ec);
    c->open = true;
  }
  co_return ec;
}

awaitable<std::map<std::string, double>> zpark_metrics(Plain* c, tcp::endpoint ep) {
  Request req{http::verb::get, "/metrics", 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(true);
  Response res;
  for (int attempt = 0;; ++attempt) {
    if (!c->open) {
      if (auto ec = co_await connect(c, ep)) throw std::runtime_error("cannot connect to zpark: " + ec.message());
    }
    auto ec = co_await exchange(c->stream, c->buffer, req, res);
    if (!ec) break;
    c->reset();
    if (attempt == 1) throw std::runtime_error("GET /metrics failed: " + ec.message());
  }
  std::map<std::string, double> m;
  std::string_view body = res.body();
  while (!body.empty()) {
    auto nl = body.find('\n');
    auto line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    auto sp = line.rfind(' ');
    if (sp == std::string_view::npos) continue;
    m[std::string(line.substr(0, sp))] = std::strtod(std::string(line.substr(sp + 1)).c_str(), nullptr);
  }
  co_return m;
}

double metric(const std::map<std::string, double>& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? 0 : it->second;
}

struct Msg {
  std::string id, room;
  Request req;  // the signed webhook call
  std::int64_t due = 0, sent = 0, answered = 0;
  unsigned status = 0;
  bool accepted = false;  // 200 with a taskid (an untrusted sender gets 200 with an error)
  std::int64_t fetch_ms = -1, reply_ms = -1;  // emulator time_ms of Zpark's GET and POST
  std::int64_t reply_seen = 0;                // users mode: when our poll saw the reply
  asio::steady_timer* waiter = nullptr;       // users mode: the user waiting for this reply
};

struct Load {
  Options opt;
  tcp::endpoint ep;
  std::vector<Msg> msgs;
  std::size_t next = 0;  // next message to send
  std::size_t limit = 0;
  std::int64_t deadline = INT64_MAX;
  std::vector<Plain*> idle;
  std::deque<std::size_t> backlog;
  std::size_t active = 0;
  std::size_t errors = 0;
  std::string first_error;
  // users mode
  std::unordered_map<std::string, std::size_t> by_room;
  std::uint64_t log_seq = 0;  // the poller has read the emulator's log up to here
  bool polling = false, poller_done = true;
  std::size_t reply_timeouts = 0;
};

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::cerr << "bench-webhook-load: " << x.what() << '\n';
    std::exit(1);
  }
}

// ---------------------------------------------------------------- seeding

const char* const kOrg = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9iZW5jaA";
const char* const kApp = "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL2JlbmNo";
const char* const kHook = "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svYmVuY2gtd2ViaG9vaw";

// The envelope as Webex (and the emulator's deliverer) sends it for messages/created.
std::string envelope(const json::object& m, const std::string& bot_id, const std::string& target) {
  json::object data{{"id", str(m, "id")},
                    {"roomId", str(m, "roomId")},
                    {"roomType", str(m, "roomType")},
                    {"personId", str(m, "personId")},
                    {"personEmail", str(m, "personEmail")},
                    {"created", str(m, "created")}};
  json::object o{{"id", kHook},          {"name", "Zpark incoming webhook"}, {"targetUrl", target},
                 {"resource", "messages"}, {"event", "created"},           {"orgId", kOrg},
                 {"createdBy", bot_id},  {"appId", kApp},                    {"ownedBy", "creator"},
                 {"status", "active"},   {"actorId", str(m, "personId")},   {"created", "2026-01-01T00:00:00.000Z"},
                 {"data", std::move(data)}};
  return json::serialize(o);
}

awaitable<void> seed_worker(Load* l, asio::io_context* io, std::size_t* next_seed, std::string bot_id) {
  Emu e(*io, endpoint_of(l->opt.emulator), l->opt.ca, l->opt.emu_token);
  const std::string target = "http://" + l->opt.zpark + "/api/v1/webhook";
  while (*next_seed < l->msgs.size()) {
    const std::size_t i = (*next_seed)++;
    json::object seed{{"personEmail", fmt::format("wh-{}-{}@{}", l->opt.tag, i, l->opt.domain)},
                      {"text", l->opt.text},
                      {"deliver", false}};
    auto res = co_await emu_call(&e, http::verb::post, "/_emu/messages", nullptr, nullptr, json::serialize(seed));
    if (res.result_int() != 200) throw std::runtime_error(fmt::format("seeding: HTTP {}: {}", res.result_int(), res.body()));
    const json::object m = json::parse(res.body()).as_object();
    Msg& msg = l->msgs[i];
    msg.id = str(m, "id");
    msg.room = str(m, "roomId");
    if (msg.id.empty() || msg.room.empty()) throw std::runtime_error("seeding: no id or roomId in " + res.body());
    msg.req = Request{http::verb::post, "/api/v1/webhook", 11};
    msg.req.set(http::field::host, l->opt.zpark);
    msg.req.set(http::field::content_type, "application/json");
    msg.req.set(http::field::user_agent, "Webex-Webhook-Service");
    msg.req.keep_alive(true);
    msg.req.body() = envelope(m, bot_id, target);
    msg.req.set("X-Spark-Signature", hmac_sha1_hex(l->opt.secret, msg.req.body()));
    msg.req.prepare_payload();
  }
}

// ---------------------------------------------------------------- sending

awaitable<void> send_webhook(Load* l, Plain* c, std::size_t i) {
  Msg& m = l->msgs[i];
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!c->open) {
      if (auto ec = co_await connect(c, l->ep)) {
        if (l->first_error.empty()) l->first_error = "connect: " + ec.message();
        continue;
      }
    }
    Response res;
    m.sent = mono_ns();
    auto ec = co_await exchange(c->stream, c->buffer, m.req, res);
    m.answered = mono_ns();
    if (!ec) {
      m.status = res.result_int();
      m.accepted = m.status == 200 && res.body().find("\"taskid\"") != std::string::npos;
      if (!m.accepted && l->first_error.empty()) l->first_error = fmt::format("HTTP {}: {}", m.status, res.body());
      if (!res.keep_alive()) c->reset();
      co_return;
    }
    if (l->first_error.empty()) l->first_error = "exchange: " + ec.message();
    c->reset();
  }
  ++l->errors;
}

awaitable<void> closed_worker(Load* l, Plain* c) {
  while (l->next < l->limit && mono_ns() < l->deadline) {
    const std::size_t i = l->next++;
    l->msgs[i].due = mono_ns();
    co_await send_webhook(l, c, i);
  }
  --l->active;
}

// Users mode: each user (its own connection) sends a webhook and, once it is accepted, waits
// until the emulator has received the reply (seen by poll_replies) before the next one, as a
// person waits for the bot's answer. At most --in-flight commands are in progress.
awaitable<void> user(Load* l, Plain* c) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (l->next < l->limit && mono_ns() < l->deadline) {
    const std::size_t i = l->next++;
    Msg& m = l->msgs[i];
    m.due = mono_ns();
    co_await send_webhook(l, c, i);
    if (!m.accepted || m.reply_seen) continue;
    m.waiter = &timer;
    timer.expires_after(std::chrono::seconds(30));
    co_await timer.async_wait(tuple);
    m.waiter = nullptr;
    if (!m.reply_seen) ++l->reply_timeouts;
  }
  --l->active;
}

// Users mode: reads the emulator's request log as it grows and wakes the user whose reply
// (POST /v1/messages to its room) arrived.
awaitable<void> poll_replies(Load* l, Emu* e) {
  while (l->polling) {
    auto res = co_await emu_call(e, http::verb::get, fmt::format("/_emu/requests?since={}", l->log_seq));
    const json::value doc = json::parse(res.body());
    const auto& arr = doc.at("requests").as_array();
    for (auto& v : arr) {
      auto& o = v.as_object();
      l->log_seq = std::max(l->log_seq, o.at("seq").to_number<std::uint64_t>());
      if (o.at("method").as_string() != "POST" || o.at("path").as_string() != "/v1/messages") continue;
      auto* body = o.at("body").if_object();
      auto it = body ? l->by_room.find(str(*body, "roomId")) : l->by_room.end();
      if (it == l->by_room.end()) continue;
      Msg& m = l->msgs[it->second];
      if (m.reply_seen) continue;
      m.reply_seen = mono_ns();
      if (m.waiter) m.waiter->cancel();
    }
    co_await sleep_ms(l->opt.poll_ms);
  }
  l->poller_done = true;
}

awaitable<void> open_sender(Load* l, Plain* c, std::size_t i) {
  for (;;) {
    co_await send_webhook(l, c, i);
    if (l->backlog.empty()) break;
    i = l->backlog.front();
    l->backlog.pop_front();
  }
  l->idle.push_back(c);
  --l->active;
}

awaitable<void> open_scheduler(Load* l) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const std::int64_t t0 = mono_ns();
  const double period_ns = 1e9 / l->opt.rate;
  for (std::size_t i = 0; i < l->limit; ++i) {
    const std::int64_t due = t0 + std::llround(double(i) * period_ns);
    if (due >= l->deadline) break;
    timer.expires_at(at_ns(due));
    co_await timer.async_wait(tuple);
    l->next = i + 1;
    l->msgs[i].due = due;
    if (l->idle.empty()) {
      l->backlog.push_back(i);
      continue;
    }
    Plain* c = l->idle.back();
    l->idle.pop_back();
    ++l->active;
    asio::co_spawn(ex, open_sender(l, c, i), log_exception);
  }
}

// ---------------------------------------------------------------- main run

struct Summary {
  std::string line;
  void add(const std::string& k, double v, int prec = 3) { line += fmt::format(" {}={:.{}f}", k, v, prec); }
  void add(const std::string& k, const std::string& v) { line += fmt::format(" {}={}", k, v); }
};

std::string quantiles(const std::vector<double>& v) {
  return fmt::format("p50 {:.2f}  p90 {:.2f}  p99 {:.2f}  max {:.2f}", pct(v, .5), pct(v, .9), pct(v, .99), pct(v, 1));
}

awaitable<void> run(asio::io_context* iop, Options opt) {
  auto ex = co_await asio::this_coro::executor;
  auto& io = *iop;
  Load l;
  l.opt = opt;
  l.ep = endpoint_of(opt.zpark);
  l.msgs.resize(opt.count);
  Summary sum;
  Emu emu(io, endpoint_of(opt.emulator), opt.ca, opt.emu_token);
  Calib cal;
  cal.prefix = "calib-" + opt.tag + "-";

  // ---- seed (before anything is timed)
  const std::string bot_id = str(json::parse((co_await emu_call(&emu, http::verb::get, "/v1/people/me")).body()).as_object(), "id");
  const std::int64_t t_seed = mono_ns();
  std::size_t next_seed = 0;
  std::size_t seeders = std::min(opt.seed_connections, opt.count);
  for (std::size_t k = 0; k < seeders; ++k)
    asio::co_spawn(ex, seed_worker(&l, &io, &next_seed, bot_id), [&seeders](std::exception_ptr e) {
      log_exception(e);
      --seeders;
    });
  while (seeders > 0) co_await sleep_ms(5);
  const double seed_s = double(mono_ns() - t_seed) / 1e9;
  std::cout << fmt::format("seeded {} messages in {:.2f} s ({:.0f}/s), each from its own person in a direct room\n",
                           opt.count, seed_s, double(opt.count) / seed_s);

  // Everything the emulator logs after this point is ours or Zpark's.
  std::uint64_t seq_before = 0;
  {
    auto probe = co_await emu_call(&emu, http::verb::get, "/_emu/requests?since=0");
    const json::value log = json::parse(probe.body());
    const auto& arr = log.at("requests").as_array();
    seq_before = arr.empty() ? 0 : arr.back().at("seq").to_number<std::uint64_t>();
  }
  co_await calibrate(&emu, &cal, 100, 0);

  Plain metrics_conn(io);
  const auto before = co_await zpark_metrics(&metrics_conn, l.ep);
  std::vector<std::unique_ptr<Plain>> conns;
  for (std::size_t i = 0; i < opt.connections; ++i) {
    conns.push_back(std::make_unique<Plain>(io));
    if (auto ec = co_await connect(conns.back().get(), l.ep))
      throw std::runtime_error("cannot connect to zpark at " + opt.zpark + ": " + ec.message());
  }

  // ---- timed part
  l.limit = opt.count;
  const double cpu0 = cpu_seconds(opt.zpark_pid), ecpu0 = cpu_seconds(opt.emu_pid), gcpu0 = own_cpu_seconds();
  std::optional<Emu> poll_emu;
  if (opt.in_flight > 0) {
    for (std::size_t i = 0; i < l.msgs.size(); ++i) l.by_room.emplace(l.msgs[i].room, i);
    l.log_seq = seq_before;
    l.polling = true;
    l.poller_done = false;
    poll_emu.emplace(io, endpoint_of(opt.emulator), opt.ca, opt.emu_token);
    co_await emu_call(&*poll_emu, http::verb::get, "/_emu/stats");  // connect before the timed part
    asio::co_spawn(ex, poll_replies(&l, &*poll_emu), log_exception);
  }
  const std::int64_t t_start = mono_ns();
  if (opt.duration > 0) l.deadline = t_start + std::llround(opt.duration * 1e9);
  if (opt.in_flight > 0) {
    for (auto& c : conns) {
      ++l.active;
      asio::co_spawn(ex, user(&l, c.get()), log_exception);
    }
  } else if (opt.rate > 0) {
    for (auto& c : conns) l.idle.push_back(c.get());
    co_await open_scheduler(&l);
  } else {
    for (auto& c : conns) {
      ++l.active;
      asio::co_spawn(ex, closed_worker(&l, c.get()), log_exception);
    }
  }
  while (l.active > 0 || !l.backlog.empty()) co_await sleep_ms(1);
  const std::int64_t t_end = mono_ns();
  const auto at_end = co_await zpark_metrics(&metrics_conn, l.ep);

  std::vector<double> answer_ms, answer_due_ms;
  std::int64_t first_sent = INT64_MAX, last_answer = 0;
  std::size_t ok = 0;
  for (std::size_t i = 0; i < l.next; ++i) {
    const Msg& m = l.msgs[i];
    if (!m.accepted) continue;
    ++ok;
    answer_ms.push_back(double(m.answered - m.sent) / 1e6);
    answer_due_ms.push_back(double(m.answered - m.due) / 1e6);
    first_sent = std::min(first_sent, m.sent);
    last_answer = std::max(last_answer, m.answered);
  }
  const std::size_t sent = l.next;
  const double secs = ok ? double(last_answer - first_sent) / 1e9 : double(t_end - t_start) / 1e9;
  const double wps = double(ok) / secs;
  const std::string delivered_key = "zpark_alerts_delivered_total";
  const double owed_at_end = double(ok) - (metric(at_end, delivered_key) - metric(before, delivered_key));
  std::cout << fmt::format(
      "webhooks: {} accepted (200 with a taskid), {} other answers, {} transport errors in {:.2f} s = {:.0f} "
      "webhooks/s ({} connections, {})\n",
      ok, sent - ok - l.errors, l.errors, secs, wps, opt.connections,
      opt.in_flight > 0 ? fmt::format("{} users, each waiting for its reply", opt.in_flight)
      : opt.rate > 0    ? fmt::format("open loop at {:.0f}/s", opt.rate)
                        : std::string("closed loop on the answers"));
  if (opt.rate <= 0 && sent == opt.count && opt.duration > 0 && double(t_end - t_start) / 1e9 < opt.duration * 0.99)
    std::cout << fmt::format("note: the {} seeded messages ran out after {:.2f} s of {:.0f} s: seed more (--count)\n",
                             opt.count, double(t_end - t_start) / 1e9, opt.duration);
  std::cout << fmt::format("answer latency ms (webhook sent -> 200): {}\n", quantiles(answer_ms));
  if (opt.rate > 0) std::cout << fmt::format("answer latency ms (due -> 200, open loop): {}\n", quantiles(answer_due_ms));
  std::cout << fmt::format("replies still owed when the load stopped: {:.0f} of {}\n", owed_at_end, ok);
  if (!l.first_error.empty()) std::cout << "first error: " << l.first_error << '\n';
  sum.add("sent", double(sent), 0);
  sum.add("ok", double(ok), 0);
  sum.add("errors", double(sent - ok), 0);
  sum.add("webhooks_per_s", wps, 1);
  sum.add("answer_p50_ms", pct(answer_ms, .5));
  sum.add("answer_p99_ms", pct(answer_ms, .99));
  sum.add("answer_max_ms", pct(answer_ms, 1));
  sum.add("owed_at_end", owed_at_end, 0);

  // ---- wait for the replies
  auto after = at_end;
  const double target = metric(before, delivered_key) + double(ok);
  const std::int64_t give_up = mono_ns() + std::llround(opt.wait_replies * 1e9);
  while (metric(after, delivered_key) < target && mono_ns() < give_up) {
    co_await sleep_ms(20);
    after = co_await zpark_metrics(&metrics_conn, l.ep);
  }
  const std::int64_t t_done = mono_ns();
  l.polling = false;
  while (!l.poller_done) co_await sleep_ms(1);
  if (l.reply_timeouts) std::cout << fmt::format("users gave up waiting for {} replies (30 s each)\n", l.reply_timeouts);
  const double cpu1 = cpu_seconds(opt.zpark_pid), ecpu1 = cpu_seconds(opt.emu_pid), gcpu1 = own_cpu_seconds();
  const double delivered = metric(after, delivered_key) - metric(before, delivered_key);
  const std::string help_key = "zpark_commands_total{command=\"" + opt.text + "\",outcome=\"answered\"}";
  std::cout << fmt::format(
      "replies delivered by zpark: {:.0f} of {} ({:.2f} s after the first webhook); commands answered {:.0f}; "
      "reply retries {:.0f}, failed {:.0f}\n",
      delivered, ok, double(t_done - first_sent) / 1e9, metric(after, help_key) - metric(before, help_key),
      metric(after, "zpark_delivery_retries_total") - metric(before, "zpark_delivery_retries_total"),
      metric(after, "zpark_alerts_failed_total") - metric(before, "zpark_alerts_failed_total"));
  const double commits = metric(after, "zpark_outbox_commits_total") - metric(before, "zpark_outbox_commits_total");
  std::cout << fmt::format("outbox accept commits for the replies: {:.0f} ({:.1f} replies per commit)\n", commits,
                           commits > 0 ? delivered / commits : NAN);
  sum.add("delivered", delivered, 0);
  sum.add("commits", commits, 0);
  sum.add("drain_s", double(t_done - t_end) / 1e9);
  if (cpu0 >= 0 && ok) {
    const double us = (cpu1 - cpu0) * 1e6 / double(ok);
    std::cout << fmt::format("zpark CPU per accepted webhook (answer + fetch + reply, until the last reply): {:.1f} us\n", us);
    sum.add("cpu_us_per_webhook", us, 1);
  }
  if (ecpu0 >= 0 && ok) {
    const double us = (ecpu1 - ecpu0) * 1e6 / double(ok);
    std::cout << fmt::format("emulator CPU per accepted webhook (GET + POST /v1/messages, TLS{}): {:.1f} us\n",
                             opt.in_flight > 0 ? ", and our polls of its log" : "", us);
    sum.add("emu_cpu_us_per_webhook", us, 1);
  }
  if (ok) {
    const double us = (gcpu1 - gcpu0) * 1e6 / double(ok);
    std::cout << fmt::format("this generator's CPU per accepted webhook: {:.1f} us\n", us);
    sum.add("gen_cpu_us_per_webhook", us, 1);
  }

  // ---- match the emulator's log
  co_await calibrate(&emu, &cal, 100, 100);
  auto log = co_await emu_call(&emu, http::verb::get, fmt::format("/_emu/requests?since={}", seq_before));
  auto doc = json::parse(log.body());
  std::unordered_map<std::string, std::size_t> by_id, by_room;
  for (std::size_t i = 0; i < sent; ++i) {
    by_id.emplace(l.msgs[i].id, i);
    by_room.emplace(l.msgs[i].room, i);
  }
  EmuClock clock;
  std::size_t dups = 0, posts = 0, gets = 0, unmatched = 0;
  const std::string msg_prefix = "/v1/messages/";
  for (auto& v : doc.at("requests").as_array()) {
    auto& o = v.as_object();
    const std::string path(o.at("path").as_string());
    const auto t = o.at("time_ms").to_number<std::int64_t>();
    if (clock.add(cal, path, t)) continue;
    const std::string_view method = o.at("method").as_string();
    if (method == "GET" && path.starts_with(msg_prefix)) {
      ++gets;
      auto it = by_id.find(path.substr(msg_prefix.size()));
      if (it == by_id.end()) {
        ++unmatched;
        continue;
      }
      auto& m = l.msgs[it->second];
      if (m.fetch_ms < 0) m.fetch_ms = t;
    } else if (method == "POST" && path == "/v1/messages") {
      ++posts;
      auto* body = o.at("body").if_object();
      auto it = body ? by_room.find(str(*body, "roomId")) : by_room.end();
      if (it == by_room.end()) {
        ++unmatched;
        continue;
      }
      auto& m = l.msgs[it->second];
      if (m.reply_ms >= 0) ++dups;
      else m.reply_ms = t;
    }
  }
  if (!clock.ok()) {
    std::cout << fmt::format("clock calibration FAILED ({} samples, interval {} .. {} ns): clocks not comparable\n",
                             clock.samples, clock.lo, clock.hi);
    sum.add("calibration", "failed");
  } else {
    std::vector<double> to_fetch, to_reply, fetch_to_reply, to_reply_due;
    std::int64_t last_reply = INT64_MIN;
    std::size_t missing = 0;
    for (std::size_t i = 0; i < sent; ++i) {
      const Msg& m = l.msgs[i];
      if (!m.accepted) continue;
      if (m.reply_ms < 0) {
        ++missing;
        continue;
      }
      const std::int64_t reply = clock.arrival(m.reply_ms);
      to_reply.push_back(double(reply - m.sent) / 1e6);
      to_reply_due.push_back(double(reply - m.due) / 1e6);
      last_reply = std::max(last_reply, reply);
      if (m.fetch_ms >= 0) {
        to_fetch.push_back(double(clock.arrival(m.fetch_ms) - m.sent) / 1e6);
        fetch_to_reply.push_back(double(m.reply_ms - m.fetch_ms));
      }
    }
    const double rps = to_reply.empty() ? 0 : double(to_reply.size()) / (double(last_reply - first_sent) / 1e9);
    std::cout << fmt::format("clock calibration: {} samples, emulator start known to {:.3f} ms; each arrival +-{:.2f} ms\n",
                             clock.samples, clock.width_ms(), clock.err_ms());
    std::cout << fmt::format("webhook -> fetch ms (sent -> emulator got GET /v1/messages/{{id}}): {}\n", quantiles(to_fetch));
    std::cout << fmt::format("webhook -> reply ms (sent -> emulator got the reply POST /v1/messages): {}\n",
                             quantiles(to_reply));
    if (opt.rate > 0)
      std::cout << fmt::format("webhook -> reply ms from the due time (open loop): {}\n", quantiles(to_reply_due));
    std::cout << fmt::format("fetch -> reply ms (both emulator times, whole ms): {}\n", quantiles(fetch_to_reply));
    std::cout << fmt::format(
        "replies end to end: {} in {:.2f} s from the first webhook sent to the last reply = {:.0f} replies/s\n",
        to_reply.size(), double(last_reply - first_sent) / 1e9, rps);
    std::cout << fmt::format(
        "matched {} replies; {} accepted webhooks got none; {} rooms got a second reply; {} GET /messages/{{id}}, {} "
        "POST /messages seen, {} not ours\n",
        to_reply.size(), missing, dups, gets, posts, unmatched);
    sum.add("replies_per_s", rps, 1);
    sum.add("fetch_p50_ms", pct(to_fetch, .5), 2);
    sum.add("fetch_p99_ms", pct(to_fetch, .99), 2);
    sum.add("reply_p50_ms", pct(to_reply, .5), 2);
    sum.add("reply_p99_ms", pct(to_reply, .99), 2);
    sum.add("reply_max_ms", pct(to_reply, 1), 2);
    sum.add("reply_err_ms", clock.err_ms(), 2);
    sum.add("missing", double(missing), 0);
    sum.add("duplicates", double(dups), 0);
  }
  std::cout << "result" << sum.line << std::endl;
}

const char* usage =
    "usage: bench-webhook-load --zpark HOST:PORT --emulator HOST:PORT --ca ca.pem --secret SECRET --count N\n"
    "         [--duration SECONDS] [--connections 50] [--rate WEBHOOKS_PER_S (0 = closed loop)]\n"
    "         [--in-flight USERS (closed loop over whole commands; sets --connections) [--poll-ms 2]]\n"
    "         [--domain bench.example.org] [--text help] [--tag TAG] [--emu-token test-token]\n"
    "         [--seed-connections 4] [--wait-replies 60] [--zpark-pid PID] [--emu-pid PID]\n"
    "Zpark must trust the senders, wh-TAG-i@DOMAIN: SPARK_TRUSTED_USERS=@DOMAIN.\n";

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string_view k = argv[i];
      if (k == "--help" || k == "-h") {
        std::cout << usage;
        return 0;
      }
      if (i + 1 >= argc) throw std::invalid_argument(std::string(k) + " needs a value");
      std::string v = argv[++i];
      if (k == "--zpark") o.zpark = v;
      else if (k == "--emulator") o.emulator = v;
      else if (k == "--ca") o.ca = v;
      else if (k == "--emu-token") o.emu_token = v;
      else if (k == "--secret") o.secret = v;
      else if (k == "--domain") o.domain = v;
      else if (k == "--text") o.text = v;
      else if (k == "--tag") o.tag = v;
      else if (k == "--connections") o.connections = std::stoul(v);
      else if (k == "--seed-connections") o.seed_connections = std::stoul(v);
      else if (k == "--count") o.count = std::stoul(v);
      else if (k == "--duration") o.duration = std::stod(v);
      else if (k == "--rate") o.rate = std::stod(v);
      else if (k == "--in-flight") o.in_flight = std::stoul(v);
      else if (k == "--poll-ms") o.poll_ms = std::stod(v);
      else if (k == "--wait-replies") o.wait_replies = std::stod(v);
      else if (k == "--zpark-pid") o.zpark_pid = std::stoi(v);
      else if (k == "--emu-pid") o.emu_pid = std::stoi(v);
      else throw std::invalid_argument("unknown option " + std::string(k));
    }
    if (o.zpark.empty() || o.emulator.empty() || o.ca.empty() || o.secret.empty() || o.count == 0 ||
        o.connections == 0 || o.seed_connections == 0)
      throw std::invalid_argument("--zpark, --emulator, --ca, --secret and --count are required");
  } catch (const std::exception& e) {
    std::cerr << "bench-webhook-load: " << e.what() << '\n' << usage;
    return 2;
  }
  if (o.in_flight > 0) o.connections = o.in_flight;
  if (o.tag.empty()) o.tag = fmt::format("{:x}", std::random_device{}());
  asio::io_context io(1);
  asio::co_spawn(io, run(&io, o), log_exception);
  io.run();
  return 0;
}
