// Shared by the bench load generators (alert_load.cpp, webhook_load.cpp): a keep-alive HTTPS
// client for the webex-emulator and the calibration of the emulator's request-log clock.
//
// The emulator logs every /v1 request with time_ms = floor((t - S) / 1 ms), where t is its
// std::chrono::steady_clock (clock_gettime(CLOCK_MONOTONIC) in libstdc++, the clock we stamp
// with here) and S its unknown start. calibrate() sends GET /v1/messages/<prefix>k requests
// straight to the emulator with random 0.05-1.5 ms gaps (so that they fall at different phases
// of the millisecond) and remembers when each left and when its answer came back. Each was
// received in between, so S is in (t_send - (time_ms+1) ms, t_recv - time_ms ms]; EmuClock
// intersects those intervals. A logged request then arrived at S + time_ms + 0.5 ms, within
// +-(0.5 ms + half the S interval). An empty intersection means the clocks are not comparable.
#pragma once
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using asio::awaitable;

inline constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

inline std::int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline std::chrono::steady_clock::time_point at_ns(std::int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

inline tcp::endpoint endpoint_of(const std::string& hp) {
  auto colon = hp.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected HOST:PORT, got " + hp);
  return {asio::ip::make_address(hp.substr(0, colon)),
          static_cast<unsigned short>(std::stoul(hp.substr(colon + 1)))};
}

inline double pct(std::vector<double> v, double q) {  // nearest rank; v by value: sorted copy
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * double(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

inline awaitable<void> sleep_ms(double ms) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(std::chrono::microseconds(std::llround(ms * 1000)));
  co_await t.async_wait(tuple);
}

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

template <class Stream>
awaitable<error_code> exchange(Stream& stream, beast::flat_buffer& buffer, const Request& req, Response& res) {
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
  auto [wec, w] = co_await http::async_write(stream, req, tuple);
  (void)w;
  if (wec) co_return wec;
  http::response_parser<http::string_body> parser;
  parser.body_limit(512 * 1024 * 1024);
  auto [rec, r] = co_await http::async_read(stream, buffer, parser, tuple);
  (void)r;
  if (rec) co_return rec;
  res = parser.release();
  co_return error_code{};
}

// One keep-alive HTTPS connection to the emulator (control API and calibration).
struct Emu {
  Emu(asio::io_context& io, tcp::endpoint e, const std::string& ca, std::string token)
      : ctx(ssl::context::tls_client), ep(e), auth("Bearer " + std::move(token)), io_(io) {
    ctx.load_verify_file(ca);
    ctx.set_verify_mode(ssl::verify_peer);
  }
  ssl::context ctx;
  tcp::endpoint ep;
  std::string auth;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;
  std::uint64_t handshakes = 0;  // ours, to subtract from the emulator's count
  asio::io_context& io_;
};

inline awaitable<error_code> emu_connect(Emu* e) {
  e->stream.emplace(e->io_, e->ctx);
  e->buffer.clear();
  auto& low = beast::get_lowest_layer(*e->stream);
  low.expires_after(std::chrono::seconds(5));
  auto [ec] = co_await low.async_connect(e->ep, tuple);
  if (ec) co_return ec;
  low.socket().set_option(tcp::no_delay(true), ec);
  auto [hec] = co_await e->stream->async_handshake(ssl::stream_base::client, tuple);
  if (!hec) ++e->handshakes;
  co_return hec;
}

// GET/POST on the emulator; reconnects once if the kept-alive connection was closed. A
// non-empty body is sent as application/json.
inline awaitable<Response> emu_call(Emu* e, http::verb method, std::string target, std::int64_t* t_send = nullptr,
                                    std::int64_t* t_recv = nullptr, std::string body = {}) {
  Request req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, e->auth);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  for (int attempt = 0;; ++attempt) {
    if (!e->stream) {
      if (auto ec = co_await emu_connect(e)) throw std::runtime_error("cannot connect to the emulator: " + ec.message());
    }
    Response res;
    if (t_send) *t_send = mono_ns();
    auto ec = co_await exchange(*e->stream, e->buffer, req, res);
    if (t_recv) *t_recv = mono_ns();
    if (!ec) co_return res;
    e->stream.reset();
    if (attempt == 1) throw std::runtime_error("emulator request " + target + " failed: " + ec.message());
  }
}

// ---------------------------------------------------------------- calibration

struct Calib {
  std::string prefix;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> sent;  // path -> (t_send, t_recv)
};

inline awaitable<void> calibrate(Emu* e, Calib* cal, int n, int first) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> gap(0.05, 1.5);  // ms: spread the samples over the tick phase
  for (int k = first; k < first + n; ++k) {
    std::string path = fmt::format("/v1/messages/{}{}", cal->prefix, k);
    std::int64_t ts = 0, tr = 0;
    co_await emu_call(e, http::verb::get, path, &ts, &tr);
    cal->sent[path] = {ts, tr};
    co_await sleep_ms(gap(rng));
  }
}

// The emulator's start S in our CLOCK_MONOTONIC ns, from the calibration requests found in its
// log: S is in (lo, hi].
struct EmuClock {
  std::int64_t lo = INT64_MIN, hi = INT64_MAX;
  std::size_t samples = 0;
  // A request of ours logged at time_ms: returns false if `path` is not a calibration request.
  bool add(const Calib& cal, const std::string& path, std::int64_t time_ms) {
    auto it = cal.sent.find(path);
    if (it == cal.sent.end()) return false;
    lo = std::max(lo, it->second.first - (time_ms + 1) * 1'000'000);
    hi = std::min(hi, it->second.second - time_ms * 1'000'000);
    ++samples;
    return true;
  }
  bool ok() const { return samples > 0 && lo < hi; }
  std::int64_t start() const { return lo + (hi - lo) / 2; }
  // When a request logged at time_ms arrived, in our ns (middle of its millisecond).
  std::int64_t arrival(std::int64_t time_ms) const { return start() + time_ms * 1'000'000 + 500'000; }
  double err_ms() const { return 0.5 + double(hi - lo) / 2e6; }
  double width_ms() const { return double(hi - lo) / 1e6; }
};

}  // namespace bench
