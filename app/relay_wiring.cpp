#include "app/relay_wiring.hpp"

#include "app/alert_routes.hpp"
#include "app/metrics.hpp"
#include "conf/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace zpark::app {

namespace asio = boost::asio;

namespace {

// Two processes on one outbox would both resume its pending alerts and send them twice.
int lock_data_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // a failure is reported by the outbox
  const auto path = (std::filesystem::path(dir) / "zpark.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw std::runtime_error("another zpark is already using ZPARK_DATA_DIR=" + dir +
                             "; give each instance its own data directory");
  }
  return fd;
}

}  // namespace

net::ClientOptions webex_client_options(const conf::Settings& s) {
  net::ClientOptions opts;
  opts.base_url = s.webex_api_url;
  opts.pool_size = s.webex_pool_size;
  opts.ca_file = s.webex_ca_file;
  return opts;
}

AlertPath::AlertPath(asio::io_context& io, const conf::Settings& s, Api& api)
    : io_(io), settings_(s), lock_fd_(s.database_url.empty() ? lock_data_dir(s.data_dir) : -1) {
  if (s.database_url.empty()) {
    outbox_ = std::make_unique<tasks::Outbox>(tasks::OutboxOptions{s.data_dir, s.fsync, s.dedup_window});
    sqlite_store_ = std::make_unique<tasks::SqliteStore>(*outbox_);
    store_ = sqlite_store_.get();
  } else {
    tasks::pg::lib();  // fails start-up at once, saying to install libpq5, rather than at the first alert
    tasks::pg::StoreOptions po;
    po.connect.url = s.database_url;
    po.connect.password = s.database_password;
    po.pool_size = s.database_pool;
    po.dedup_window = s.dedup_window;
    pg_ = std::make_unique<tasks::pg::PgStore>(io.get_executor(), std::move(po));
    store_ = pg_.get();
    pg_problem_ = "the PostgreSQL outbox (ZPARK_DATABASE_URL) is not open yet";
  }
  spark::MessageSink* sink = nullptr;
  if (s.dry_run()) {
    dry_run_ = std::make_unique<spark::DryRunSink>();
    sink = dry_run_.get();
    token_ok_ = true;
    token_problem_.clear();
  } else {
    webex_ = std::make_unique<spark::WebexClient>(io.get_executor(), s.spark_token, webex_client_options(s));
    sink = webex_.get();
  }
  tasks::RelayOptions ro;
  ro.max_age = s.alert_max_age;
  ro.edit_on_recovery = s.edit_on_recovery;
  ro.admin_room = s.admin_room;
  ro.format.escape_message = s.escape_message;
  if (s.cards_on()) ro.cards = spark::CardOptions{s.zabbix_url};
  relay_ = std::make_unique<tasks::Relay>(io.get_executor(), *store_, *sink, ro);
  add_alert_routes(api, *relay_, s.alert_body_limit);

  api.add_metrics_source([this](std::string& out) {
    auto st = relay_->stats();
    render_metric(out, "zpark_alerts_accepted_total", "counter", "Alerts accepted into the outbox.", double(st.accepted));
    render_metric(out, "zpark_alerts_duplicate_total", "counter", "Zabbix retries recognised and not queued again.", double(st.duplicates));
    render_metric(out, "zpark_alerts_delivered_total", "counter", "Alerts Webex accepted.", double(st.delivered));
    render_metric(out, "zpark_alerts_failed_total", "counter", "Alerts given up (final Webex refusal or too old).", double(st.failed));
    render_metric(out, "zpark_alerts_bot_updates_skipped_total", "counter",
                  "Zabbix updates for the bot's own acts, not sent where its reply already told them.",
                  double(st.echoes_dropped));
    render_metric(out, "zpark_delivery_retries_total", "counter", "Send attempts that will be retried.", double(st.retries));
    render_metric(out, "zpark_webex_rate_limited_total", "counter", "429 answers from Webex.", double(st.rate_limited));
    render_metric(out, "zpark_webex_sends_total", "counter", "POST /messages calls made.", double(st.webex_sends));
    render_metric(out, "zpark_outbox_commits_total", "counter", "Outbox transactions for accepted alerts.", double(st.commits));
    render_metric(out, "zpark_alerts_queued", "gauge", "Alerts waiting in delivery lanes.", double(st.queued));
    render_metric(out, "zpark_delivery_lanes", "gauge", "Recipients with alerts in flight.", double(st.lanes));
    render_metric(out, "zpark_webex_paused", "gauge", "1 while a Webex 429 pauses all sending.", st.paused ? 1 : 0);
    if (webex_) {
      auto hs = webex_->http().stats();
      render_metric(out, "zpark_webex_tls_handshakes_total", "counter", "TLS handshakes with the Webex API.", double(hs.tls_handshakes));
      render_metric(out, "zpark_webex_connects_total", "counter", "TCP connections to the Webex API.", double(hs.connects));
    }
    render_metric(out, "zpark_dry_run", "gauge", "1 when no SPARK_ACCESS_TOKEN is set.", webex_ ? 0 : 1);
  });
}

AlertPath::~AlertPath() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

ReadinessCheck AlertPath::readiness() {
  return [this] {
    // The outbox first: while it refuses writes every alert gets 503, whatever Webex says.
    std::string problems = relay_->problem();
    auto add = [&](const std::string& p) {
      if (!p.empty()) problems += (problems.empty() ? "" : "; ") + p;
    };
    add(pg_problem_);
    if (pg_ && pg_problem_.empty() && !pg_->lock_problem().empty())
      add("alerts are not delivered by this instance: no PostgreSQL lock connection (" + pg_->lock_problem() + ")");
    if (!token_ok_) problems += (problems.empty() ? "" : "; ") + token_problem_;
    return problems;
  };
}

void AlertPath::start() {
  if (pg_)
    asio::co_spawn(io_, open_database(), [](std::exception_ptr e) {
      if (e) log::error("opening the PostgreSQL outbox stopped");
    });
  else
    relay_->resume();
  if (webex_)
    asio::co_spawn(io_, prove_token(), [](std::exception_ptr e) {
      if (e) log::error("Webex token check stopped");
    });
  else
    log::warn("SPARK_ACCESS_TOKEN is not set: dry-run mode, messages are printed instead of sent");
}

void AlertPath::stop() {
  stopping_ = true;
  relay_->stop();
  if (pg_) pg_->close();
  if (webex_) webex_->http().close();
}

// The service starts without its database (503 and /readyz say why) and opens it as soon as it
// can: a PostgreSQL restart or a boot order must not need a restart of Zpark.
asio::awaitable<void> AlertPath::open_database() {
  asio::steady_timer timer(io_);
  std::chrono::milliseconds wait{500};
  while (!stopping_) {
    std::string why;
    try {
      co_await pg_->open();
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (stopping_) co_return;
    if (why.empty()) {
      pg_problem_.clear();
      relay_->resume();
      co_return;
    }
    if (pg_problem_.find(why) == std::string::npos) log::error("cannot open the PostgreSQL outbox, retrying", {{"error", why}});
    pg_problem_ = "cannot open the PostgreSQL outbox: " + why;
    timer.expires_after(wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    wait = std::min(wait * 2, std::chrono::milliseconds(10'000));
  }
}

asio::awaitable<void> AlertPath::prove_token() {
  asio::steady_timer timer(io_);
  std::chrono::seconds wait{2};
  while (!stopping_) {
    spark::Identity me;
    auto r = co_await webex_->who_am_i(me);
    if (r.ok()) {
      token_ok_ = true;
      token_problem_.clear();
      log::info("Webex token accepted", {{"bot", me.email}, {"name", me.display_name}});
      if (on_identity_) on_identity_(me);
      co_return;
    }
    if (r.status == 401)
      token_problem_ = "SPARK_ACCESS_TOKEN was refused by Webex (401); create a bot at developer.webex.com and set its token";
    else
      token_problem_ = "cannot reach the Webex API: " + r.error;
    log::error("Webex token check failed", {{"problem", token_problem_}, {"tracking_id", r.tracking_id}});
    timer.expires_after(wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    wait = std::min(wait * 2, std::chrono::seconds(60));
  }
}

}  // namespace zpark::app
