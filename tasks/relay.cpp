#include "tasks/relay.hpp"

#include "conf/log.hpp"
#include "spark/replies.hpp"
#include "tasks/sqlite.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace zpark::tasks {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using spark::AlertKind;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

struct Relay::PendingAccept {
  std::vector<NewTask> rows;
  std::vector<Accepted> result;
  std::exception_ptr error;
  asio::steady_timer* done = nullptr;
  bool finished = false;
};

Relay::Relay(asio::any_io_executor ex, Store& store, spark::MessageSink& sink, RelayOptions options, Clock& clock)
    : ex_(std::move(ex)),
      store_(store),
      sink_(sink),
      opts_(std::move(options)),
      rules_{opts_.retry, std::chrono::duration_cast<std::chrono::milliseconds>(opts_.max_age)},
      clock_(clock),
      housekeeping_timer_(ex_) {
  asio::co_spawn(ex_, housekeeping(), [](std::exception_ptr e) {
    if (e) log::error("housekeeping stopped");
  });
  if (store_.shared())
    store_.set_events({.lane_has_work = [this](const std::string& lane) { kick(lane); },
                       .paused_until = [this](std::int64_t until_ms) { shared_pause_seen(until_ms); },
                       .lanes_lost = [this] { lanes_lost(); }});
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
  // One commit at a time; what arrives meanwhile joins the next one. With PostgreSQL a commit
  // is a network round trip and a log flush: batches then grow instead of queueing up.
  if (committing_) {
    flush_waiting_ = true;  // flush_scheduled_ stays set: accept() only adds to batch_
    return;
  }
  flush_scheduled_ = false;
  committing_ = true;
  auto batch = std::move(batch_);
  batch_.clear();
  asio::co_spawn(ex_, commit(std::move(batch)), [this](std::exception_ptr e) {
    if (e) log::error("outbox commit failed unexpectedly");
    committing_ = false;
    if (!flush_waiting_) return;
    flush_waiting_ = false;
    flush_seen_ = 0;
    flush_rounds_ = 0;
    flush();
  });
}

awaitable<void> Relay::commit(std::vector<PendingAccept*> batch) {
  std::vector<NewTask> rows;
  for (auto* p : batch) rows.insert(rows.end(), p->rows.begin(), p->rows.end());
  const auto now = clock_.now_ms();
  try {
    auto accepted = co_await store_.accept(rows, now);
    wrote();
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
        // A shared store's lanes read their tasks from it: the owner (maybe this instance) is told.
        if (store_.shared())
          kick(lane_key(row.recipient));
        else
          enqueue(row.recipient, Queued{.taskid = acc.taskid, .payload = row.payload, .delivery = {.accepted_at_ms = now}});
      }
  } catch (const std::exception& e) {
    auto why = write_failed(e);
    if (refused_ == 0) log::error("outbox write failed: alerts refused", {{"count", rows.size()}, {"error", why}});
    refused_ += rows.size();
    for (auto* p : batch) p->error = std::current_exception();
  }
  for (auto* p : batch) {
    p->finished = true;
    p->done->cancel();
  }
}

void Relay::resume() {
  if (store_.shared()) {
    asio::co_spawn(ex_, scan_shared(), [](std::exception_ptr e) {
      if (e) log::error("the scan for unowned lanes stopped");
    });
    return;
  }
  // A single instance's store answers without waiting: the lanes are filled before anything
  // else runs, so an alert accepted now queues behind the older ones.
  asio::co_spawn(ex_, [this]() -> awaitable<void> {
    std::size_t n = 0;
    for (auto& t : co_await store_.pending()) {
      auto recipient = t.recipient;
      enqueue(recipient, queued_from(std::move(t)));
      ++n;
    }
    if (n) log::info("resuming pending alerts", {{"count", n}});
  }, [](std::exception_ptr e) {
    if (e) log::error("cannot read the pending alerts of the outbox");
  });
}

Relay::Queued Relay::queued_from(Task t) {
  return {.taskid = std::move(t.taskid),
          .payload = std::move(t.payload),
          .delivery = {.accepted_at_ms = t.accepted_at_ms, .attempts = t.attempts}};
}

void Relay::enqueue(const std::string& recipient, Queued task) {
  auto key = lane_key(recipient);
  auto [it, created] = lanes_.try_emplace(key);
  it->second.queue.push_back(std::move(task));
  ++stats_.queued;
  if (created) start_lane(key);
}

void Relay::kick(const std::string& key) {
  // A running lane reads the store again once its queue is empty; a lane in the middle of
  // giving itself up looks once more after releasing it.
  if (stopping_) return;
  if (lanes_.try_emplace(key).second) start_lane(key);
}

void Relay::start_lane(const std::string& key) {
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
  asio::steady_timer timer(ex_);
  lanes_.at(key).timer = &timer;
  bool owned = true;
  if (store_.shared()) owned = co_await store_.own_lane(key);
  while (owned && !stopping_ && !lanes_.at(key).lost) {
    if (lanes_.at(key).queue.empty()) {
      if (!store_.shared()) break;
      const bool refilled = co_await refill(key);  // not in the if: see PgStore::own_lane()
      if (refilled) continue;
      // Nothing left: give the lane up, then look once more, for a task another instance
      // committed while this one still owned the lane (its notice was taken as ours).
      co_await store_.release_lane(key);
      owned = false;
      if (stopping_ || lanes_.at(key).lost) break;
      const bool more = co_await refill(key, /*peek*/ true);
      if (more) owned = co_await store_.own_lane(key);
      continue;
    }
    bool broken = false;
    try {
      co_await deliver(key);
    } catch (const std::exception& e) {
      // Not an outbox or Webex error (deliver handles those): keep the task and its progress,
      // try again later, rather than leave the recipient without a lane.
      log::error("delivery lane error, retrying", {{"recipient", key}, {"error", e.what()}});
      broken = true;
    }
    if (broken) {
      co_await clock_.wait_until(timer, clock_.now_ms() + 5000);
      continue;
    }
    if (stopping_ || lanes_.at(key).lost) break;
    lanes_.at(key).queue.pop_front();
    --stats_.queued;
  }
  auto& lane = lanes_.at(key);
  if (stopping_ && !store_.shared()) {
    lane.timer = nullptr;
    co_return;
  }
  // A shared store keeps what is left for whoever owns the lane next.
  stats_.queued -= lane.queue.size();
  if (owned && lane.lost) log::warn("lane given up: another instance may own it now", {{"recipient", key}});
  lanes_.erase(key);
}

awaitable<bool> Relay::refill(std::string key, bool peek) {
  std::vector<Task> tasks;
  std::optional<std::string> failed;  // why, when the read failed (waiting is not allowed in a catch)
  try {
    tasks = co_await store_.pending_in_lane(key, peek ? 1 : 200);
  } catch (const std::exception& e) {
    failed = e.what();
  }
  auto& lane = lanes_.at(key);
  if (failed) {
    log::warn("cannot read the lane's tasks from the outbox, retrying", {{"recipient", key}, {"error", *failed}});
    if (lane.timer) co_await clock_.wait_until(*lane.timer, clock_.now_ms() + 1000);
    co_return !stopping_ && !lane.lost;  // look again (the caller's loop checks the state)
  }
  if (peek) co_return !tasks.empty();
  for (auto& t : tasks) {
    lane.queue.push_back(queued_from(std::move(t)));
    ++stats_.queued;
  }
  co_return !tasks.empty();
}

awaitable<void> Relay::prepare(std::string key) {
  auto& t = lanes_.at(key).queue.front();
  if (t.prepared) co_return;
  t.prepared = true;
  boost::system::error_code ec;
  auto parsed = json::parse(t.payload, ec);
  if (ec || !parsed.is_object()) {
    t.delivery.phase = Delivery::Phase::recording_failed;
    t.delivery.reason = "stored alert is unreadable";
    co_return;
  }
  t.alert = spark::alert_from_json(parsed);
  t.parts = spark::split_message(spark::format_markdown(t.alert, opts_.format));
  t.delivery.parts = t.parts.size();
  if (t.alert.kind == AlertKind::update || t.alert.kind == AlertKind::recovery) {
    try {
      t.root = co_await store_.thread(t.alert.event_id, lane_key(t.alert.to));
    } catch (const std::exception& e) {
      log::warn("cannot read the problem's thread: sending outside it", {{"taskid", t.taskid}, {"error", e.what()}});
    }
  }
  if (t.delivery.parts_sent == 0)
    t.delivery.parent_id = t.alert.kind == AlertKind::reply ? t.alert.parent_id : t.root ? t.root->message_id : "";
  // Zabbix's notice of an ack (close, comment) the bot just made for a user: in the room where
  // the bot's reply told it, it is recorded delivered without being sent.
  if (t.alert.kind == AlertKind::update && t.delivery.parts_sent == 0) {
    const std::string room = t.root ? t.root->room_id : t.alert.to_person() ? "" : t.alert.to;
    if (bot_updates_.is_echo(t.alert.event_id, room, t.alert.update_message, clock_.now_ms())) {
      t.echo = true;
      t.delivery.parts_sent = t.delivery.parts;
      t.delivery.phase = Delivery::Phase::recording_delivered;
    }
  }
}

awaitable<void> Relay::deliver(std::string key) {
  co_await prepare(key);
  Answer answer;
  for (;;) {
    // References into lanes_ and a lane's deque survive its growth (only this loop removes).
    auto& lane = lanes_.at(key);
    auto& task = lane.queue.front();
    const auto now = clock_.now_ms();
    auto step = next_step(std::move(task.delivery), answer, now, shared_, rules_,
                          std::uniform_real_distribution<double>(0, 1)(rng_));
    task.delivery = std::move(step.state);
    answer = {};
    if (step.pause_all_until) {
      pause_all(step.delay);
      log::warn("Webex rate limit: pausing all sending",
                {{"seconds", step.delay.count() / 1000.0}, {"error", step.error}, {"taskid", task.taskid}});
    }
    if (step.retry) {
      ++stats_.retries;
      log::warn("delivery failed, will retry",
                {{"taskid", task.taskid}, {"to", task.alert.to}, {"attempt", task.delivery.attempts},
                 {"retry_in_ms", step.delay.count()}, {"error", task.delivery.last_error}});
      co_await record_attempt(task.taskid, task.delivery.attempts);
    }
    // At stop, the answer of the last send is still taken in and recorded (a delivery Webex
    // accepted must not be sent again after the restart); nothing new is started.
    // The same when a shared store's lane may have another owner now, except that a delivery
    // Webex took is still recorded: leaving it would make the next owner send it again.
    const bool recording = task.delivery.phase == Delivery::Phase::recording_delivered;
    if ((stopping_ || (lane.lost && !recording)) && (step.action == Step::Action::send || step.action == Step::Action::wait)) {
      if (task.delivery.phase == Delivery::Phase::recording_delivered)
        log::warn("stopping before the outbox recorded a delivery: the alert will be sent again",
                  {{"taskid", task.taskid}, {"to", task.alert.to}});
      co_return;
    }
    switch (step.action) {
      case Step::Action::send: {
        ++stats_.webex_sends;
        // Built in its own statement: GCC 12 destroys brace-built temporaries in a co_await
        // expression twice (GCC bug 107288).
        spark::OutMessage message{task.alert.to, task.parts[task.delivery.parts_sent], task.delivery.parent_id};
        if (task.delivery.parts_sent == 0) message.card = task.alert.card;
        auto r = co_await sink_.send(std::move(message));
        answer = Answer::sent(std::move(r));
        break;
      }
      case Step::Action::wait:
        co_await clock_.wait_until(*lane.timer, step.until_ms);
        break;
      case Step::Action::record_delivered:
        answer = co_await record_delivered(key);
        break;
      case Step::Action::record_failed:
        answer = co_await record_failed(key);
        break;
      case Step::Action::done:
        co_return;
    }
  }
}

awaitable<void> Relay::record_attempt(std::string taskid, int attempts) {
  // Only for GET /api/v1/tasks: a refused write here changes nothing for the delivery.
  try {
    co_await store_.mark_attempt(taskid, attempts);
    wrote();
  } catch (const std::exception& e) {
    write_failed(e);
  }
}

awaitable<Answer> Relay::record_delivered(std::string key) {
  auto& t = lanes_.at(key).queue.front();
  const auto& d = t.delivery;
  try {
    if (t.alert.kind == AlertKind::problem && !d.first_id.empty()) {
      Store::ThreadRoot root{d.first_id, d.room_id, t.parts.front()};
      co_await store_.remember_thread(t.alert.event_id, lane_key(t.alert.to), std::move(root), clock_.now_ms());
    }
    co_await store_.mark_delivered(t.taskid, d.first_id, clock_.now_ms());
    wrote();
  } catch (const std::exception& e) {
    // Webex has the message; Delivery remembers that, so only this write is tried again.
    auto why = write_failed(e);
    if (d.record_failures == 0)
      log::error("delivered, but the outbox cannot record it: will record it, not send it again",
                 {{"taskid", t.taskid}, {"to", t.alert.to}, {"error", why}});
    co_return Answer::record_failed(why);
  }
  ++stats_.delivered;
  if (t.echo) {
    ++stats_.echoes_dropped;
    log::debug("update not sent: the bot's reply already told it",
               {{"taskid", t.taskid}, {"to", t.alert.to}, {"event", t.alert.event_id}});
    co_return Answer::recorded();
  }
  log::debug("delivered", {{"taskid", t.taskid}, {"to", t.alert.to}, {"kind", spark::to_string(t.alert.kind)}});
  if (t.alert.kind == AlertKind::problem && opts_.cards && !t.alert.event_id.empty() && !d.first_id.empty()) {
    // The buttons come as a reply under the problem message, queued only now: the alert never
    // waits for its card, and a card that cannot be stored or sent costs nothing but itself.
    std::vector<spark::Alert> card;  // its own statement: GCC bug 107288
    card.push_back(spark::problem_card_reply(t.alert, d.first_id, *opts_.cards));
    asio::co_spawn(ex_, accept(std::move(card)), [event = t.alert.event_id](std::exception_ptr e, std::vector<Accepted>) {
      if (e) log::warn("cannot queue the card of a problem alert", {{"event", event}});
    });
  }
  if (t.alert.kind == AlertKind::problem && !d.first_id.empty() && on_problem_delivered_) {
    try {
      on_problem_delivered_(t.alert, d.first_id, d.room_id);
    } catch (const std::exception& e) {
      log::warn("problem-delivered hook failed", {{"taskid", t.taskid}, {"error", e.what()}});
    }
  }
  if (t.alert.kind == AlertKind::recovery && opts_.edit_on_recovery && t.root) {
    auto root = *t.root;  // the lane's deque may change while we wait
    auto event = t.alert.event_id;
    auto resolved = spark::resolved_markdown(root.markdown);
    auto e = co_await sink_.edit(root.message_id, root.room_id, std::move(resolved));
    if (!e.ok())
      log::warn("could not mark the problem message resolved",
                {{"event", event}, {"error", e.error}, {"tracking_id", e.tracking_id}});
  }
  co_return Answer::recorded();
}

awaitable<Answer> Relay::record_failed(std::string key) {
  auto& t = lanes_.at(key).queue.front();
  const auto& reason = t.delivery.reason;
  try {
    co_await store_.mark_failed(t.taskid, reason, clock_.now_ms());
    wrote();
  } catch (const std::exception& e) {
    co_return Answer::record_failed(write_failed(e));
  }
  ++stats_.failed;
  log::error("alert not delivered", {{"taskid", t.taskid}, {"to", t.alert.to}, {"reason", reason}});
  if (opts_.admin_room.empty() || lane_key(t.alert.to) == lane_key(opts_.admin_room)) co_return Answer::recorded();
  spark::Alert note;
  note.to = opts_.admin_room;
  note.subject = "Zpark could not deliver an alert";
  note.has_message = true;
  note.message = "To: " + spark::escape_markdown(t.alert.to) + "\nSubject: " + spark::escape_markdown(t.alert.subject) +
                 "\nTask: " + t.taskid + "\nReason: " + spark::escape_markdown(reason);
  std::vector<spark::Alert> notes{std::move(note)};
  asio::co_spawn(ex_, accept(std::move(notes)), [](std::exception_ptr, std::vector<Accepted>) {});
  co_return Answer::recorded();
}

void Relay::wrote() {
  shared_.outbox_ok_ms = clock_.now_ms();
  if (problem_.empty()) return;
  log::info("the outbox takes writes again", {{"outbox", store_.where()}, {"alerts_refused", refused_}});
  problem_.clear();
  refused_ = 0;
  // Deliveries waiting to be recorded need not wait out their backoff: wake them.
  for (auto& [key, lane] : lanes_)
    if (lane.timer && !lane.queue.empty() && lane.queue.front().delivery.phase != Delivery::Phase::sending)
      lane.timer->cancel();
}

std::string Relay::write_failed(const std::exception& e) {
  auto* db_error = dynamic_cast<const sqlite::Error*>(&e);
  std::string why = db_error ? db_error->problem() : e.what();
  const bool first = problem_.empty();
  problem_ = fmt::format("cannot write {}: {}; new alerts are refused (503) until it can be written",
                         store_.where(), why);
  if (first && !stopping_) {
    log::error("the outbox refuses writes", {{"outbox", store_.where()}, {"error", why}});
    asio::co_spawn(ex_, probe_outbox(), [](std::exception_ptr e) {
      if (e) log::error("outbox probe stopped");
    });
  }
  return why;
}

awaitable<void> Relay::probe_outbox() {
  // Without it, an outbox that refused only accepts would stay "not ready" after the disk
  // has room again: /readyz keeps new alerts away, and nothing else would write.
  asio::steady_timer timer(ex_);
  probe_timer_ = &timer;
  std::int64_t wait_ms = 1000;
  while (!stopping_ && !problem_.empty()) {
    co_await clock_.wait_until(timer, clock_.now_ms() + wait_ms);
    if (stopping_ || problem_.empty()) break;
    try {
      co_await store_.check_writable(clock_.now_ms());
      wrote();
    } catch (const std::exception& e) {
      write_failed(e);
    }
    wait_ms = std::min<std::int64_t>(wait_ms * 2, opts_.retry.record_cap.count());
  }
  probe_timer_ = nullptr;
}

awaitable<std::optional<std::string>> Relay::thread_event(std::string root_message_id) {
  try {
    co_return co_await store_.thread_event(root_message_id);
  } catch (const std::exception& e) {
    log::warn("cannot read the outbox's thread roots", {{"message", root_message_id}, {"error", e.what()}});
  }
  co_return std::nullopt;
}

void Relay::pause_all(std::chrono::milliseconds d) {
  ++stats_.rate_limited;
  const auto until = clock_.now_ms() + d.count();
  shared_.paused_until_ms = std::max(shared_.paused_until_ms, until);
  // The pause is the token's: the other instances must hold back too.
  if (store_.shared())
    asio::co_spawn(ex_, store_.share_pause(until), [](std::exception_ptr e) {
      if (e) log::warn("cannot share the Webex rate-limit pause with the other instances");
    });
}

void Relay::shared_pause_seen(std::int64_t until_ms) {
  // The deadline is another instance's clock: a margin covers the difference between clocks
  // (NTP keeps machines within milliseconds) so no request lands at the very end of the window.
  if (until_ms <= 0) return;
  until_ms += 250;
  if (until_ms > shared_.paused_until_ms) shared_.paused_until_ms = until_ms;
}

void Relay::lanes_lost() {
  for (auto& [key, lane] : lanes_) {
    lane.lost = true;
    if (lane.timer) lane.timer->cancel();
  }
}

awaitable<void> Relay::scan_shared() {
  // Lanes with work and no owner: the instance that owned them died (its locks went with its
  // session), or their notice was missed. Also the pause, should a notice have been missed.
  asio::steady_timer timer(ex_);
  scan_timer_ = &timer;
  while (!stopping_) {
    try {
      for (auto& lane : co_await store_.pending_lanes()) kick(lane);
      shared_pause_seen(co_await store_.shared_pause());
    } catch (const std::exception& e) {
      log::debug("scan of the shared outbox failed", {{"error", e.what()}});
    }
    if (stopping_) break;
    co_await clock_.wait_until(timer, clock_.now_ms() + 1000);
  }
  scan_timer_ = nullptr;
}

std::chrono::steady_clock::time_point Relay::paused_until() const {
  const auto left = shared_.paused_until_ms - clock_.now_ms();
  if (left <= 0) return {};
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(left);
}

void Relay::stop() {
  stopping_ = true;
  for (auto& [key, lane] : lanes_)
    if (lane.timer) lane.timer->cancel();
  if (probe_timer_) probe_timer_->cancel();
  if (scan_timer_) scan_timer_->cancel();
  housekeeping_timer_.cancel();
}

RelayStats Relay::stats() const {
  auto s = stats_;
  s.lanes = lanes_.size();
  s.paused = clock_.now_ms() < shared_.paused_until_ms;
  return s;
}

awaitable<void> Relay::housekeeping() {
  while (!stopping_) {
    co_await clock_.wait_until(housekeeping_timer_, clock_.now_ms() + 3'600'000);
    if (stopping_) break;
    auto cutoff = clock_.now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(opts_.keep_history).count();
    try {
      if (auto n = co_await store_.prune(cutoff)) log::info("pruned old tasks", {{"count", n}});
      wrote();
    } catch (const std::exception& e) {
      write_failed(e);
    }
  }
}

}  // namespace zpark::tasks
