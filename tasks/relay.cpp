#include "tasks/relay.hpp"

#include "conf/log.hpp"
#include "spark/message_format.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <functional>

namespace zpark::tasks {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using spark::AlertKind;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lane_key(const std::string& recipient) {
  if (recipient.find('@') == std::string::npos) return recipient;
  std::string k = recipient;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  return k;
}

std::string dedup_key(const spark::Alert& a) {
  if (a.event_id.empty()) return {};
  // Content is part of the key: two acknowledgements of one event are two updates, while a
  // Zabbix retry repeats the same text.
  auto h = std::hash<std::string>{}(a.subject + '\x1f' + a.message + '\x1f' + a.update_message + '\x1f' +
                                    a.update_action + '\x1f' + a.update_user);
  return a.event_id + '|' + spark::to_string(a.kind) + '|' + lane_key(a.to) + '|' + std::to_string(h);
}

struct Relay::PendingAccept {
  std::vector<NewTask> rows;
  std::vector<Accepted> result;
  std::exception_ptr error;
  asio::steady_timer* done = nullptr;
  bool finished = false;
};

Relay::Relay(asio::any_io_executor ex, Outbox& outbox, spark::MessageSink& sink, RelayOptions options, Clock clock)
    : ex_(std::move(ex)),
      outbox_(outbox),
      sink_(sink),
      opts_(std::move(options)),
      clock_(std::move(clock)),
      housekeeping_timer_(ex_) {
  asio::co_spawn(ex_, housekeeping(), [](std::exception_ptr e) {
    if (e) log::error("housekeeping stopped");
  });
}

awaitable<std::vector<Accepted>> Relay::accept(std::vector<spark::Alert> alerts) {
  PendingAccept p;
  for (auto& a : alerts)
    p.rows.push_back(NewTask{a.to, dedup_key(a), json::serialize(spark::to_json(a))});
  asio::steady_timer done(ex_, asio::steady_timer::time_point::max());
  p.done = &done;
  batch_.push_back(&p);
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    flush_seen_ = 0;
    flush_rounds_ = 0;
    // Runs after every handler that is ready now: their alerts share one commit.
    asio::post(ex_, [this] { flush(); });
  }
  while (!p.finished) co_await done.async_wait(tuple);
  if (p.error) std::rethrow_exception(p.error);
  co_return std::move(p.result);
}

void Relay::flush() {
  // While more alerts keep joining (other connections' reads completing in this turn of the
  // loop), wait one more turn: one fsync then covers them all. Bounded, so a steady stream
  // cannot hold a commit back.
  if (batch_.size() > flush_seen_ && flush_rounds_ < 4) {
    flush_seen_ = batch_.size();
    ++flush_rounds_;
    asio::post(ex_, [this] { flush(); });
    return;
  }
  flush_scheduled_ = false;
  auto batch = std::move(batch_);
  batch_.clear();
  std::vector<NewTask> rows;
  for (auto* p : batch) rows.insert(rows.end(), p->rows.begin(), p->rows.end());
  const auto now = clock_();
  try {
    auto accepted = outbox_.accept(rows, now);
    ++stats_.commits;
    std::size_t i = 0;
    for (auto* p : batch)
      for (auto& row : p->rows) {
        auto& acc = accepted[i++];
        p->result.push_back(acc);
        if (acc.duplicate) {
          ++stats_.duplicates;
          continue;
        }
        ++stats_.accepted;
        enqueue(row.recipient, Queued{acc.taskid, row.payload, now, 0});
      }
  } catch (const std::exception& e) {
    log::error("outbox write failed: alerts refused", {{"count", rows.size()}, {"error", e.what()}});
    for (auto* p : batch) p->error = std::current_exception();
  }
  for (auto* p : batch) {
    p->finished = true;
    p->done->cancel();
  }
}

void Relay::resume() {
  std::size_t n = 0;
  for (auto& t : outbox_.pending()) {
    enqueue(t.recipient, Queued{t.taskid, t.payload, t.accepted_at_ms, t.attempts});
    ++n;
  }
  if (n) log::info("resuming pending alerts", {{"count", n}});
}

void Relay::enqueue(const std::string& recipient, Queued task) {
  auto key = lane_key(recipient);
  auto [it, created] = lanes_.try_emplace(key);
  it->second.queue.push_back(std::move(task));
  ++stats_.queued;
  if (created)
    asio::co_spawn(ex_, run_lane(key), [key](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log::error("delivery lane failed", {{"recipient", key}, {"error", x.what()}});
      }
    });
}

awaitable<void> Relay::run_lane(std::string key) {
  // One consumer per recipient: order comes from this loop, not from locks.
  while (!stopping_) {
    auto& lane = lanes_.at(key);
    if (lane.queue.empty()) break;
    Queued task = lane.queue.front();
    bool broken = false;
    try {
      co_await deliver(key, task);
    } catch (const std::exception& e) {
      // E.g. the outbox could not record the result (disk full): keep the task, try later.
      log::error("delivery lane error, retrying", {{"recipient", key}, {"taskid", task.taskid}, {"error", e.what()}});
      broken = true;
    }
    if (broken) {
      if (!co_await sleep(key, std::chrono::seconds(5))) co_return;
      continue;
    }
    if (stopping_) co_return;
    lanes_.at(key).queue.pop_front();
    --stats_.queued;
  }
  if (!stopping_) lanes_.erase(key);
}

awaitable<bool> Relay::sleep(const std::string& key, std::chrono::milliseconds d) {
  asio::steady_timer timer(ex_, d);
  auto& lane = lanes_.at(key);
  lane.sleeping = &timer;
  co_await timer.async_wait(tuple);
  lanes_.at(key).sleeping = nullptr;
  co_return !stopping_;
}

awaitable<spark::SendResult> Relay::send_parts(const spark::Alert& alert, std::vector<std::string>& parts,
                                               std::size_t& next_part, std::string& first_id, std::string& parent) {
  spark::SendResult r;
  while (next_part < parts.size()) {
    ++stats_.webex_sends;
    // Built in its own statement: GCC 12 destroys brace-built temporaries in a co_await
    // expression twice (GCC bug 107288).
    spark::OutMessage message{alert.to, parts[next_part], parent};
    r = co_await sink_.send(std::move(message));
    if (!r.ok()) co_return r;
    if (next_part == 0) {
      first_id = r.message_id;
      // Later parts go in a thread: under the same parent, or under the first part.
      if (parent.empty() && parts.size() > 1) parent = r.message_id;
      if (alert.kind == AlertKind::problem)
        outbox_.remember_thread(alert.event_id, lane_key(alert.to), r.message_id, r.room_id, parts[0], clock_());
    }
    ++next_part;
  }
  co_return r;
}

awaitable<void> Relay::deliver(std::string key, Queued task) {
  boost::system::error_code ec;
  auto parsed = json::parse(task.payload, ec);
  if (ec || !parsed.is_object()) {
    outbox_.mark_failed(task.taskid, "stored alert is unreadable", clock_());
    co_return;
  }
  const spark::Alert alert = spark::alert_from_json(parsed);
  auto parts = spark::split_message(spark::format_markdown(alert));
  std::optional<Outbox::ThreadRoot> root;
  if (alert.kind == AlertKind::update || alert.kind == AlertKind::recovery)
    root = outbox_.thread(alert.event_id, lane_key(alert.to));
  std::string parent = alert.kind == AlertKind::reply ? alert.parent_id : root ? root->message_id : "";
  std::string first_id;
  std::size_t next_part = 0;
  std::string last_error;

  for (int attempt = task.attempts + 1; !stopping_; ++attempt) {
    if (clock_() - task.accepted_at_ms > std::chrono::duration_cast<std::chrono::milliseconds>(opts_.max_age).count()) {
      fail(task, alert, "not delivered within ZPARK_ALERT_MAX_AGE; last error: " + last_error);
      co_return;
    }
    // A 429 seen by any lane pauses them all.
    if (auto now = std::chrono::steady_clock::now(); now < paused_until_) {
      if (!co_await sleep(key, std::chrono::duration_cast<std::chrono::milliseconds>(paused_until_ - now))) co_return;
      continue;
    }
    auto r = co_await send_parts(alert, parts, next_part, first_id, parent);
    auto d = decide(r, attempt, opts_.retry, std::uniform_real_distribution<double>(0, 1)(rng_));
    switch (d.verdict) {
      case Verdict::delivered:
        outbox_.mark_delivered(task.taskid, first_id, clock_());
        ++stats_.delivered;
        log::debug("delivered", {{"taskid", task.taskid}, {"to", alert.to}, {"kind", spark::to_string(alert.kind)}});
        if (alert.kind == AlertKind::recovery && opts_.edit_on_recovery && root) {
          auto resolved = spark::resolved_markdown(root->markdown);
          auto e = co_await sink_.edit(root->message_id, root->room_id, std::move(resolved));
          if (!e.ok())
            log::warn("could not mark the problem message resolved",
                      {{"event", alert.event_id}, {"error", e.error}, {"tracking_id", e.tracking_id}});
        }
        co_return;
      case Verdict::failed:
        fail(task, alert, d.reason + (r.tracking_id.empty() ? "" : " (TrackingID " + r.tracking_id + ")"));
        co_return;
      case Verdict::pause_all:
        pause_all(d.delay);
        log::warn("Webex rate limit: pausing all sending",
                  {{"seconds", d.delay.count() / 1000.0}, {"tracking_id", r.tracking_id}});
        break;
      case Verdict::retry:
        ++stats_.retries;
        last_error = d.reason;
        outbox_.mark_attempt(task.taskid, attempt);
        log::warn("delivery failed, will retry", {{"taskid", task.taskid}, {"to", alert.to}, {"attempt", attempt},
                                                  {"retry_in_ms", d.delay.count()}, {"error", d.reason},
                                                  {"tracking_id", r.tracking_id}});
        if (!co_await sleep(key, d.delay)) co_return;
        break;
    }
  }
}

void Relay::fail(const Queued& task, const spark::Alert& alert, const std::string& reason) {
  outbox_.mark_failed(task.taskid, reason, clock_());
  ++stats_.failed;
  log::error("alert not delivered", {{"taskid", task.taskid}, {"to", alert.to}, {"reason", reason}});
  if (opts_.admin_room.empty() || lane_key(alert.to) == lane_key(opts_.admin_room)) return;
  spark::Alert note;
  note.to = opts_.admin_room;
  note.subject = "Zpark could not deliver an alert";
  note.has_message = true;
  note.message = "To: " + alert.to + "\nSubject: " + alert.subject + "\nTask: " + task.taskid + "\nReason: " + reason;
  asio::co_spawn(ex_, accept({note}), [](std::exception_ptr, std::vector<Accepted>) {});
}

void Relay::pause_all(std::chrono::milliseconds d) {
  ++stats_.rate_limited;
  paused_until_ = std::max(paused_until_, std::chrono::steady_clock::now() + d);
}

void Relay::stop() {
  stopping_ = true;
  for (auto& [key, lane] : lanes_)
    if (lane.sleeping) lane.sleeping->cancel();
  housekeeping_timer_.cancel();
}

RelayStats Relay::stats() const {
  auto s = stats_;
  s.lanes = lanes_.size();
  s.paused = std::chrono::steady_clock::now() < paused_until_;
  return s;
}

awaitable<void> Relay::housekeeping() {
  while (!stopping_) {
    housekeeping_timer_.expires_after(std::chrono::hours(1));
    co_await housekeeping_timer_.async_wait(tuple);
    if (stopping_) break;
    auto cutoff = clock_() - std::chrono::duration_cast<std::chrono::milliseconds>(opts_.keep_history).count();
    if (auto n = outbox_.prune(cutoff)) log::info("pruned old tasks", {{"count", n}});
  }
}

}  // namespace zpark::tasks
