#include "app/graph_path.hpp"

#include "app/check_zabbix.hpp"
#include "app/metrics.hpp"
#include "conf/log.hpp"
#include "spark/replies.hpp"
#include "zabbix/graphs.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace zpark::app {

namespace asio = boost::asio;

namespace {

// Graphs being made at once; more problems arriving meanwhile (an alert storm) get none, so a
// storm does not queue hundreds of chart.php calls behind each other.
constexpr std::size_t kMaxInFlight = 16;
constexpr int kUploadAttempts = 3;

}  // namespace

GraphPath::GraphPath(asio::io_context& io, const conf::Settings& s, Api& api, AlertPath& alerts)
    : io_(io), settings_(s), off_reason_(s.graphs_off_reason()), webex_(alerts.webex()), relay_(alerts.relay()) {
  if (!webex_ && off_reason_.empty()) off_reason_ = "no Webex client";
  if (!off_reason_.empty()) {
    log::info("graphs are off", {{"why", off_reason_}});
  } else {
    zabbix_ = std::make_unique<zabbix::Client>(io.get_executor(), zabbix_options(s));
    frontend_ = std::make_unique<zabbix::Frontend>(io.get_executor(), frontend_options(s));
    relay_.on_problem_delivered([this](const spark::Alert& a, const std::string& message_id, const std::string& room_id) {
      problem_delivered(a, message_id, room_id);
    });
  }
  api.add_metrics_source([this](std::string& out) {
    render_metric(out, "zpark_graphs_enabled", "gauge", "1 when graphs are posted with problem alerts.",
                  frontend_ ? 1 : 0);
    render_metric(out, "zpark_graphs_posted_total", "counter", "Graph images posted in problem alerts' threads.",
                  double(posted_));
    render_metric(out, "zpark_graphs_failed_total", "counter",
                  "Problem alerts whose graph could not be made or posted (the alert itself was delivered).",
                  double(failed_));
    render_metric(out, "zpark_graphs_skipped_total", "counter",
                  "Problem alerts without numeric items to draw.", double(skipped_));
  });
}

void GraphPath::start() {
  if (!frontend_) return;
  asio::co_spawn(io_, frontend_->login(), [](std::exception_ptr e, zabbix::Result<void> r) {
    if (e) return;
    if (r)
      log::info("graphs are on: Zabbix frontend login works");
    else
      log::warn("graphs: Zabbix frontend login failed; problem alerts go out without graphs until it works",
                {{"error", r.error().message}});
  });
}

void GraphPath::stop() {
  stopping_ = true;
  for (auto* t : sleeping_) t->cancel();
  if (frontend_) frontend_->close();
  if (zabbix_) zabbix_->close();
}

void GraphPath::failed(const std::string& event_id, const std::string& why) {
  ++failed_;
  log::warn("graph not posted (the alert was delivered)", {{"event", event_id}, {"error", why}});
}

void GraphPath::problem_delivered(const spark::Alert& alert, const std::string& message_id, const std::string& room_id) {
  if (stopping_) return;
  if (in_flight_ >= kMaxInFlight) {
    failed(alert.event_id, "too many graphs in progress");
    return;
  }
  ++in_flight_;
  asio::co_spawn(io_, post_graph(alert, message_id, room_id), [this, event = alert.event_id](std::exception_ptr e) {
    --in_flight_;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      failed(event, x.what());
    }
  });
}

asio::awaitable<void> GraphPath::sleep(std::chrono::milliseconds d) {
  if (stopping_) co_return;
  asio::steady_timer timer(io_, d);
  sleeping_.insert(&timer);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  sleeping_.erase(&timer);
}

asio::awaitable<void> GraphPath::post_graph(spark::Alert alert, std::string message_id, std::string room_id) {
  auto items = co_await zabbix::trigger_items(*zabbix_, alert.trigger_id, alert.event_id);
  if (!items) {
    failed(alert.event_id, items.error().message);
    co_return;
  }
  if (items->empty()) {
    ++skipped_;
    log::debug("no numeric items to draw", {{"event", alert.event_id}, {"trigger", alert.trigger_id}});
    co_return;
  }
  const std::int64_t period = settings_.graph_period.count();
  zabbix::ChartRequest chart;
  for (const auto& item : *items) chart.itemids.push_back(item.itemid);
  chart.period_seconds = period;
  auto png = co_await frontend_->chart(std::move(chart));
  if (!png) {
    failed(alert.event_id, png.error().message);
    co_return;
  }
  spark::FileMessage file;
  file.to = room_id.empty() ? alert.to : room_id;
  file.parent_id = message_id;
  file.markdown = spark::graph_caption(*items, period);
  file.file.name = spark::safe_file_name(items->front().host + "-event-" + alert.event_id, ".png");
  file.file.content_type = "image/png";
  file.file.bytes = std::move(*png);
  const std::size_t bytes = file.file.bytes.size();
  if (co_await upload(std::move(file), alert.event_id)) {
    ++posted_;
    log::info("graph posted", {{"event", alert.event_id}, {"items", items->size()}, {"bytes", bytes}});
  }
}

// Webex's 429 pause is the relay's (one per token); 5xx and network errors get two more tries.
asio::awaitable<bool> GraphPath::upload(spark::FileMessage file, std::string event_id) {
  for (int attempt = 1;; ++attempt) {
    if (auto now = std::chrono::steady_clock::now(); now < relay_.paused_until())
      co_await sleep(std::chrono::duration_cast<std::chrono::milliseconds>(relay_.paused_until() - now));
    if (stopping_) {
      failed(event_id, "stopping");
      co_return false;
    }
    spark::FileMessage copy = file;
    auto r = co_await webex_->upload(std::move(copy));
    if (r.ok()) co_return true;
    const bool again = r.transport_error || r.status == 429 || r.status >= 500;
    if (r.status == 429) relay_.pause_all(std::chrono::seconds(r.retry_after_seconds.value_or(15)));
    if (!again || attempt >= kUploadAttempts) {
      failed(event_id, r.error + (r.tracking_id.empty() ? "" : " (TrackingID " + r.tracking_id + ")"));
      co_return false;
    }
    if (r.status != 429) co_await sleep(std::chrono::milliseconds(2000 * attempt));
  }
}

}  // namespace zpark::app
