// bench-alert-load: load generator and meter for bench/relay.sh.
//
// Sends POST /api/v1/alert to Zpark over N keep-alive connections, either as fast as the
// answers come (closed loop, --rate 0) or at a steady rate (open loop, --rate R: alert i is
// due at t0 + i/R whatever happened before; if every connection is busy it waits in a FIFO and
// its latency counts from when it was due, so a stall is not hidden). Every alert has a unique
// subject "bench TAG-i" and goes to user(i % recipients)@example.com.
//
// With --emulator it also measures the Webex side, against the webex-emulator Zpark sends to:
//  * handshakes: tls_handshakes from GET /_emu/stats and zpark_webex_tls_handshakes_total from
//    Zpark's /metrics, before and after (our own connection to the emulator is subtracted);
//  * relay overhead (--overhead 1): for each alert, the time from its 200 answer here to the
//    emulator receiving its POST /v1/messages. Both are on one machine and both clocks are
//    CLOCK_MONOTONIC (std::chrono::steady_clock in libstdc++ is clock_gettime(CLOCK_MONOTONIC)),
//    but the emulator logs time_ms = floor((t - S) / 1 ms) with S its own unknown start. We
//    calibrate S: before and after the load we send ~100 GET /v1/messages/calib-TAG-k
//    requests straight to the emulator, each between t_send and t_recv here; since its
//    logged time lies in between, S is in (t_send - (time_ms+1) ms, t_recv - time_ms ms]. The
//    intersection over all samples bounds S (typically to well under 0.3 ms); an empty
//    intersection would mean the clocks are not comparable and is reported. An alert's
//    arrival is then S + time_ms + 0.5 ms, +- (0.5 ms + half the S interval). The emulator
//    client and the calibration requests are in emu_clock.hpp, shared with webhook_load.cpp.
//
// Prints human-readable lines and one machine-readable "result key=value ..." line.
#include "emu_clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using asio::awaitable;
using namespace bench;

namespace {

struct Options {
  std::string zpark;  // host:port
  std::string token = "x";
  std::size_t connections = 50;
  std::size_t recipients = 100;
  double duration = 0;  // seconds; 0 = until --count
  std::size_t count = 0;
  double rate = 0;  // alerts/s; 0 = closed loop
  std::size_t message_bytes = 200;
  std::string tag;
  double wait_delivery = 0;  // seconds to wait for Zpark to deliver everything; 0 = do not wait
  std::string emulator;      // host:port of webex-emulator
  std::string ca;
  std::string emu_token = "test-token";
  bool overhead = true;
};

// ---------------------------------------------------------------- connections

struct Plain {
  explicit Plain(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool open = false;
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

// ---------------------------------------------------------------- Zpark side

struct Metrics {
  std::map<std::string, double> values;
  double get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? 0 : it->second;
  }
};

awaitable<Metrics> zpark_metrics(Plain* c, tcp::endpoint ep) {
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
    c->stream.close();
    c->buffer.clear();
    c->open = false;
    if (attempt == 1) throw std::runtime_error("GET /metrics failed: " + ec.message());
  }
  Metrics m;
  std::string_view body = res.body();
  while (!body.empty()) {
    auto nl = body.find('\n');
    auto line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    auto sp = line.rfind(' ');
    if (sp == std::string_view::npos) continue;
    m.values[std::string(line.substr(0, sp))] = std::strtod(std::string(line.substr(sp + 1)).c_str(), nullptr);
  }
  co_return m;
}

struct Rec {
  std::int64_t due = 0, sent = 0, answered = 0;
  unsigned status = 0;
};

struct Load {
  Options opt;
  tcp::endpoint ep;
  std::deque<Rec> recs;  // references stay valid on push_back
  std::size_t limit = SIZE_MAX;
  std::int64_t deadline = INT64_MAX;
  std::vector<Plain*> idle;
  std::deque<std::size_t> backlog;
  std::size_t active = 0;
  std::size_t errors = 0;
  std::string filler;
  std::string first_error;
};

Request alert_request(const Load& l, std::size_t i) {
  json::object body{{"to", fmt::format("user{}@example.com", i % l.opt.recipients)},
                    {"subject", fmt::format("bench {}-{}", l.opt.tag, i)},
                    {"message", l.filler}};
  Request req{http::verb::post, "/api/v1/alert", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set("Token", l.opt.token);
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = json::serialize(body);
  req.prepare_payload();
  return req;
}

awaitable<void> send_alert(Load* l, Plain* c, std::size_t i) {
  const Request req = alert_request(*l, i);
  Rec& r = l->recs[i];
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!c->open) {
      if (auto ec = co_await connect(c, l->ep)) {
        if (l->first_error.empty()) l->first_error = "connect: " + ec.message();
        continue;
      }
    }
    Response res;
    r.sent = mono_ns();
    auto ec = co_await exchange(c->stream, c->buffer, req, res);
    r.answered = mono_ns();
    if (!ec) {
      r.status = res.result_int();
      if (r.status != 200 && l->first_error.empty())
        l->first_error = fmt::format("HTTP {}: {}", r.status, res.body());
      if (!res.keep_alive()) {
        c->stream.close();
        c->buffer.clear();
        c->open = false;
      }
      co_return;
    }
    if (l->first_error.empty()) l->first_error = "exchange: " + ec.message();
    c->stream.close();
    c->buffer.clear();
    c->open = false;
  }
  ++l->errors;
}

// Closed loop: each connection sends its next alert as soon as the previous one is answered.
awaitable<void> closed_worker(Load* l, Plain* c) {
  while (l->recs.size() < l->limit && mono_ns() < l->deadline) {
    const std::size_t i = l->recs.size();
    l->recs.emplace_back().due = mono_ns();
    co_await send_alert(l, c, i);
  }
  --l->active;
}

// Open loop: a connection sends alert i, then whatever waits in the backlog, then goes idle.
awaitable<void> open_sender(Load* l, Plain* c, std::size_t i) {
  for (;;) {
    co_await send_alert(l, c, i);
    if (l->backlog.empty()) break;
    i = l->backlog.front();
    l->backlog.pop_front();
  }
  l->idle.push_back(c);
  --l->active;
}

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::cerr << "bench-alert-load: " << x.what() << '\n';
    std::exit(1);
  }
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
    l->recs.emplace_back().due = due;
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

awaitable<void> run(asio::io_context* iop, Options opt) {
  auto ex = co_await asio::this_coro::executor;
  auto& io = *iop;
  Load l;
  l.opt = opt;
  l.ep = endpoint_of(opt.zpark);
  l.filler.reserve(opt.message_bytes);
  while (l.filler.size() < opt.message_bytes)
    l.filler += "Host: web-01\nTrigger: High CPU load on web-01\nSeverity: Average\nValue: 97 %\n";
  l.filler.resize(opt.message_bytes);
  Summary sum;

  Plain metrics_conn(io);
  std::optional<Emu> emu;
  Calib cal;
  cal.prefix = "calib-" + opt.tag + "-";
  std::uint64_t emu_hs_before = 0, own_hs_before = 0;
  std::uint64_t seq_before = 0;
  if (!opt.emulator.empty()) {
    emu.emplace(io, endpoint_of(opt.emulator), opt.ca, opt.emu_token);
    auto st = co_await emu_call(&*emu, http::verb::get, "/_emu/stats");
    // Our own handshake is already in this count.
    emu_hs_before = json::parse(st.body()).at("tls_handshakes").to_number<std::uint64_t>();
    own_hs_before = emu->handshakes;
    // Everything logged after this point is ours or Zpark's: remember where the log was.
    auto probe = co_await emu_call(&*emu, http::verb::get, "/_emu/requests?since=0");
    const json::value log = json::parse(probe.body());
    const auto& arr = log.at("requests").as_array();
    seq_before = arr.empty() ? 0 : arr.back().at("seq").to_number<std::uint64_t>();
    if (opt.overhead) co_await calibrate(&*emu, &cal, 100, 0);
  }
  const Metrics before = co_await zpark_metrics(&metrics_conn, l.ep);

  // Connect everything first, so that the timed part has no TCP handshakes.
  std::vector<std::unique_ptr<Plain>> conns;
  for (std::size_t i = 0; i < opt.connections; ++i) {
    conns.push_back(std::make_unique<Plain>(io));
    if (auto ec = co_await connect(conns.back().get(), l.ep))
      throw std::runtime_error("cannot connect to zpark at " + opt.zpark + ": " + ec.message());
  }
  l.limit = opt.count ? opt.count : SIZE_MAX;
  const std::int64_t t_start = mono_ns();
  if (opt.duration > 0) l.deadline = t_start + std::llround(opt.duration * 1e9);
  if (opt.rate > 0) {
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

  // ---- accepts
  std::vector<double> lat_ms, lat_due_ms;
  std::int64_t first_sent = INT64_MAX, last_answer = 0;
  std::size_t ok = 0;
  for (auto& r : l.recs) {
    if (r.status != 200) continue;
    ++ok;
    lat_ms.push_back(double(r.answered - r.sent) / 1e6);
    lat_due_ms.push_back(double(r.answered - r.due) / 1e6);
    first_sent = std::min(first_sent, r.sent);
    last_answer = std::max(last_answer, r.answered);
  }
  const double secs = ok ? double(last_answer - first_sent) / 1e9 : double(t_end - t_start) / 1e9;
  const double aps = ok / secs;
  std::cout << fmt::format(
      "accepts: {} ok, {} not 200, {} transport errors in {:.2f} s = {:.0f} accepts/s ({} connections, {} "
      "recipients, {})\n",
      ok, l.recs.size() - ok - l.errors, l.errors, secs, aps, opt.connections, opt.recipients,
      opt.rate > 0 ? fmt::format("open loop at {:.0f}/s", opt.rate) : std::string("closed loop"));
  std::cout << fmt::format("accept latency ms (request sent -> 200): p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  max {:.3f}\n",
                           pct(lat_ms, .5), pct(lat_ms, .9), pct(lat_ms, .99), pct(lat_ms, 1));
  if (opt.rate > 0)
    std::cout << fmt::format("accept latency ms (due -> 200, open loop): p50 {:.3f}  p99 {:.3f}  max {:.3f}\n",
                             pct(lat_due_ms, .5), pct(lat_due_ms, .99), pct(lat_due_ms, 1));
  if (!l.first_error.empty()) std::cout << "first error: " << l.first_error << '\n';
  sum.add("sent", double(l.recs.size()), 0);
  sum.add("ok", double(ok), 0);
  sum.add("errors", double(l.recs.size() - ok), 0);
  sum.add("accepts_per_s", aps, 1);
  sum.add("accept_p50_ms", pct(lat_ms, .5));
  sum.add("accept_p99_ms", pct(lat_ms, .99));
  sum.add("accept_max_ms", pct(lat_ms, 1));

  // ---- delivery
  Metrics after = before;
  if (opt.wait_delivery > 0) {
    const double target = before.get("zpark_alerts_delivered_total") + double(ok);
    const std::int64_t give_up = mono_ns() + std::llround(opt.wait_delivery * 1e9);
    for (;;) {
      after = co_await zpark_metrics(&metrics_conn, l.ep);
      if (after.get("zpark_alerts_delivered_total") >= target || mono_ns() > give_up) break;
      co_await sleep_ms(20);
    }
    const std::int64_t t_done = mono_ns();
    const double delivered = after.get("zpark_alerts_delivered_total") - before.get("zpark_alerts_delivered_total");
    std::cout << fmt::format(
        "delivered: {:.0f} of {} ({:.2f} s after the first accept; {:.0f} deliveries/s overall); still queued {:.0f}, "
        "failed {:.0f}, retries {:.0f}, outbox commits {:.0f}\n",
        delivered, ok, double(t_done - first_sent) / 1e9, delivered / (double(t_done - first_sent) / 1e9),
        after.get("zpark_alerts_queued"),
        after.get("zpark_alerts_failed_total") - before.get("zpark_alerts_failed_total"),
        after.get("zpark_delivery_retries_total") - before.get("zpark_delivery_retries_total"),
        after.get("zpark_outbox_commits_total") - before.get("zpark_outbox_commits_total"));
    sum.add("delivered", delivered, 0);
    sum.add("commits", after.get("zpark_outbox_commits_total") - before.get("zpark_outbox_commits_total"), 0);
    sum.add("delivery_s", double(t_done - first_sent) / 1e9);

    if (emu) {
      auto st = co_await emu_call(&*emu, http::verb::get, "/_emu/stats");
      const auto emu_hs = json::parse(st.body()).at("tls_handshakes").to_number<std::uint64_t>() - emu_hs_before -
                          (emu->handshakes - own_hs_before);
      const double zp_hs =
          after.get("zpark_webex_tls_handshakes_total") - before.get("zpark_webex_tls_handshakes_total");
      const double per_k = delivered > 0 ? 1000.0 * double(emu_hs) / delivered : NAN;
      std::cout << fmt::format(
          "TLS handshakes during the run: emulator saw {} (ours excluded), zpark counted {:.0f} (total since start "
          "{:.0f}) => {:.2f} per 1,000 messages\n",
          emu_hs, zp_hs, after.get("zpark_webex_tls_handshakes_total"), per_k);
      sum.add("handshakes", double(emu_hs), 0);
      sum.add("zpark_handshakes", zp_hs, 0);
      sum.add("handshakes_per_1000", per_k, 2);
    }
  }

  // ---- relay overhead
  if (emu && opt.overhead && opt.wait_delivery > 0) {
    co_await calibrate(&*emu, &cal, 100, 100);
    auto log = co_await emu_call(&*emu, http::verb::get, fmt::format("/_emu/requests?since={}", seq_before));
    auto doc = json::parse(log.body());
    const std::string marker = fmt::format("bench {}-", opt.tag);
    std::vector<std::int64_t> arrival_ms(l.recs.size(), -1);
    std::size_t dups = 0, posts = 0;
    // S (emulator start, in our CLOCK_MONOTONIC ns) lies in (lo, hi].
    std::int64_t lo = INT64_MIN, hi = INT64_MAX;
    std::size_t samples = 0;
    for (auto& v : doc.at("requests").as_array()) {
      auto& o = v.as_object();
      const std::string path(o.at("path").as_string());
      const auto t = o.at("time_ms").to_number<std::int64_t>();
      if (auto it = cal.sent.find(path); it != cal.sent.end()) {
        lo = std::max(lo, it->second.first - (t + 1) * 1'000'000);
        hi = std::min(hi, it->second.second - t * 1'000'000);
        ++samples;
        continue;
      }
      if (path != "/v1/messages" || o.at("method").as_string() != "POST") continue;
      ++posts;
      auto* body = o.at("body").if_object();
      auto* md = body ? body->if_contains("markdown") : nullptr;
      if (!md || !md->is_string()) continue;
      std::string_view text = md->as_string();
      auto p = text.find(marker);
      if (p == std::string_view::npos) continue;
      std::size_t i = 0;
      auto digits = text.substr(p + marker.size());
      std::from_chars(digits.data(), digits.data() + digits.size(), i);
      if (i >= arrival_ms.size()) continue;
      if (arrival_ms[i] >= 0) {
        ++dups;
        continue;
      }
      arrival_ms[i] = t;
    }
    if (samples == 0 || lo >= hi) {
      std::cout << fmt::format("clock calibration FAILED ({} samples, interval {} .. {} ns): clocks not comparable\n",
                               samples, lo, hi);
      sum.add("calibration", "failed");
    } else {
      const std::int64_t S = lo + (hi - lo) / 2;
      std::vector<double> overhead, e2e;
      std::int64_t first_arrival = INT64_MAX, last_arrival = INT64_MIN;
      std::size_t missing = 0;
      for (std::size_t i = 0; i < l.recs.size(); ++i) {
        if (l.recs[i].status != 200) continue;
        if (arrival_ms[i] < 0) {
          ++missing;
          continue;
        }
        const std::int64_t arr = S + arrival_ms[i] * 1'000'000 + 500'000;
        overhead.push_back(double(arr - l.recs[i].answered) / 1e6);
        e2e.push_back(double(arr - l.recs[i].sent) / 1e6);
        first_arrival = std::min(first_arrival, arr);
        last_arrival = std::max(last_arrival, arr);
      }
      const double err_ms = 0.5 + double(hi - lo) / 2e6;
      std::cout << fmt::format(
          "clock calibration: {} samples, emulator start known to {:.3f} ms; each arrival +-{:.2f} ms\n", samples,
          double(hi - lo) / 1e6, err_ms);
      std::cout << fmt::format(
          "relay overhead ms (200 answered -> emulator got POST /messages), {} alerts: min {:.2f}  p50 {:.2f}  p90 "
          "{:.2f}  p99 {:.2f}  max {:.2f}\n",
          overhead.size(), pct(overhead, 0), pct(overhead, .5), pct(overhead, .9), pct(overhead, .99),
          pct(overhead, 1));
      std::cout << fmt::format(
          "end to end ms (alert request sent -> emulator got POST /messages): p50 {:.2f}  p99 {:.2f}  max {:.2f}\n",
          pct(e2e, .5), pct(e2e, .99), pct(e2e, 1));
      std::cout << fmt::format("matched {} alerts; {} never reached the emulator; {} delivered twice; {} POST /messages seen\n",
                               overhead.size(), missing, dups, posts);
      if (overhead.size() > 1)
        std::cout << fmt::format("emulator received them over {:.2f} s ({:.0f}/s)\n",
                                 double(last_arrival - first_arrival) / 1e9,
                                 double(overhead.size()) / (double(last_arrival - first_arrival) / 1e9));
      sum.add("overhead_p50_ms", pct(overhead, .5), 2);
      sum.add("overhead_p99_ms", pct(overhead, .99), 2);
      sum.add("overhead_max_ms", pct(overhead, 1), 2);
      sum.add("overhead_min_ms", pct(overhead, 0), 2);
      sum.add("overhead_err_ms", err_ms, 2);
      sum.add("e2e_p50_ms", pct(e2e, .5), 2);
      sum.add("e2e_p99_ms", pct(e2e, .99), 2);
      sum.add("missing", double(missing), 0);
      sum.add("duplicates", double(dups), 0);
    }
  }
  std::cout << "result" << sum.line << std::endl;
}

const char* usage =
    "usage: bench-alert-load --zpark HOST:PORT [--token x] [--connections 50] [--recipients 100]\n"
    "         (--duration SECONDS | --count N) [--rate ALERTS_PER_S (0 = closed loop)]\n"
    "         [--message-bytes 200] [--tag TAG] [--wait-delivery SECONDS]\n"
    "         [--emulator HOST:PORT --ca ca.pem [--emu-token test-token] [--overhead 1|0]]\n";

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
      else if (k == "--token") o.token = v;
      else if (k == "--connections") o.connections = std::stoul(v);
      else if (k == "--recipients") o.recipients = std::stoul(v);
      else if (k == "--duration") o.duration = std::stod(v);
      else if (k == "--count") o.count = std::stoul(v);
      else if (k == "--rate") o.rate = std::stod(v);
      else if (k == "--message-bytes") o.message_bytes = std::stoul(v);
      else if (k == "--tag") o.tag = v;
      else if (k == "--wait-delivery") o.wait_delivery = std::stod(v);
      else if (k == "--emulator") o.emulator = v;
      else if (k == "--ca") o.ca = v;
      else if (k == "--emu-token") o.emu_token = v;
      else if (k == "--overhead") o.overhead = v != "0";
      else throw std::invalid_argument("unknown option " + std::string(k));
    }
    if (o.zpark.empty() || (o.duration <= 0 && o.count == 0) || o.connections == 0 || o.recipients == 0)
      throw std::invalid_argument("--zpark and --duration or --count are required");
    if (!o.emulator.empty() && o.ca.empty()) throw std::invalid_argument("--emulator needs --ca");
  } catch (const std::exception& e) {
    std::cerr << "bench-alert-load: " << e.what() << '\n' << usage;
    return 2;
  }
  if (o.tag.empty()) o.tag = fmt::format("{:x}", std::random_device{}());
  asio::io_context io(1);
  asio::co_spawn(io, run(&io, o), log_exception);
  io.run();
  return 0;
}
