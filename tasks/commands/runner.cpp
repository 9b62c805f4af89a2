#include "tasks/commands/runner.hpp"

#include "conf/log.hpp"
#include "spark/replies.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <random>

namespace zpark::tasks {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using spark::Command;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double jitter() {
  static std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng);
}

}  // namespace

CommandRunner::CommandRunner(asio::any_io_executor ex, spark::WebexClient& webex, zabbix::Client& zabbix,
                             Relay& relay, CommandOptions options)
    : ex_(std::move(ex)), webex_(webex), zabbix_(zabbix), relay_(relay), opts_(std::move(options)) {}

void CommandRunner::start(spark::Envelope envelope, std::string taskid) {
  seen_.remember(envelope.data_id, taskid);
  asio::co_spawn(ex_, run(std::move(envelope), taskid), [taskid](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error("command task failed", {{"taskid", taskid}, {"error", x.what()}});
    }
  });
}

awaitable<void> CommandRunner::sleep(std::chrono::milliseconds d) {
  if (stopping_) co_return;
  asio::steady_timer timer(ex_, d);
  sleeping_.insert(&timer);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  sleeping_.erase(&timer);
}

void CommandRunner::stop() {
  stopping_ = true;
  for (auto* t : sleeping_) t->cancel();
}

awaitable<bool> CommandRunner::ensure_bot() {
  if (!bot_.id.empty()) co_return true;
  spark::Identity me;
  auto r = co_await webex_.who_am_i(me);
  if (!r.ok()) {
    log::error("cannot learn the bot's own id (GET /people/me)", {{"error", r.error}, {"tracking_id", r.tracking_id}});
    co_return false;
  }
  bot_ = std::move(me);
  co_return true;
}

// GET /messages/{id}: 5xx, network errors and 429 are retried (a 429 pauses every sender of the
// token); 404 and other refusals end the task quietly: nothing is posted to that room.
awaitable<std::optional<spark::ChatMessage>> CommandRunner::fetch_message(std::string id, std::string taskid) {
  for (unsigned attempt = 1; !stopping_; ++attempt) {
    if (auto now = std::chrono::steady_clock::now(); now < relay_.paused_until()) {
      co_await sleep(std::chrono::duration_cast<std::chrono::milliseconds>(relay_.paused_until() - now));
      continue;
    }
    json::value body;
    net::RequestSpec spec{boost::beast::http::verb::get, "/messages/" + id};
    auto r = co_await webex_.call(std::move(spec), &body);
    if (r.ok()) co_return spark::chat_message_from_json(body);
    auto d = decide(r, static_cast<int>(attempt), opts_.fetch_retry, jitter());
    if (d.verdict == Verdict::pause_all) {
      relay_.pause_all(d.delay);
      log::warn("Webex rate limit on a message fetch: pausing all sending",
                {{"seconds", d.delay.count() / 1000.0}, {"tracking_id", r.tracking_id}});
      continue;
    }
    if (d.verdict == Verdict::failed || attempt >= opts_.fetch_attempts) {
      log::warn("cannot fetch the command message; not answering",
                {{"taskid", taskid}, {"message", id}, {"error", r.error}, {"tracking_id", r.tracking_id}});
      co_return std::nullopt;
    }
    log::info("message fetch failed, will retry",
              {{"taskid", taskid}, {"attempt", attempt}, {"error", r.error}, {"retry_in_ms", d.delay.count()}});
    co_await sleep(d.delay);
  }
  co_return std::nullopt;
}

awaitable<zabbix::Result<std::string>> CommandRunner::answer(Command cmd, spark::Caller caller, std::int64_t asked_at,
                                                             bool retry) {
  // A bad argument ("limit 99") is answered without asking Zabbix.
  if (!cmd.problem.empty()) co_return spark::unknown_reply(caller, cmd.problem);
  const zabbix::Author author{caller.email, caller.display_name};
  switch (cmd.kind) {
    case Command::Kind::show_issues: {
      zabbix::ProblemFilter f{cmd.min_severity, cmd.host, cmd.group, cmd.limit};
      auto r = co_await zabbix::problems(zabbix_, f);
      if (!r) co_return r.error();
      co_return spark::issues_reply(caller, *r, unix_now(), f);
    }
    case Command::Kind::show_status: {
      auto r = co_await zabbix::status(zabbix_, opts_.status_source);
      if (!r) co_return r.error();
      co_return spark::status_reply(caller, *r);
    }
    case Command::Kind::show_host: {
      auto r = co_await zabbix::host(zabbix_, cmd.name);
      if (!r) co_return r.error();
      co_return spark::host_reply(caller, *r, cmd.name, unix_now());
    }
    case Command::Kind::ack:
    case Command::Kind::unack:
    case Command::Kind::close:
    case Command::Kind::comment: {
      zabbix::EventRequest req;
      req.action = cmd.kind == Command::Kind::ack     ? zabbix::EventAction::acknowledge
                   : cmd.kind == Command::Kind::unack ? zabbix::EventAction::unacknowledge
                   : cmd.kind == Command::Kind::close ? zabbix::EventAction::close
                                                      : zabbix::EventAction::comment;
      req.eventid = cmd.id;
      req.message = cmd.message;
      req.author = author;
      req.asked_at = asked_at;
      req.retry = retry;
      auto r = co_await zabbix::act_on_event(zabbix_, req);
      if (!r) co_return r.error();
      // What was done in Zabbix on whose behalf: Zabbix itself only knows Zpark's account.
      log::info("zabbix event action", {{"event", cmd.id}, {"command", spark::to_string(cmd.kind)},
                                        {"outcome", zabbix::to_string(r->outcome)}, {"by", caller.email}});
      co_return spark::event_action_reply(caller, *r, unix_now());
    }
    case Command::Kind::maintenance_create: {
      zabbix::MaintenanceRequest req;
      req.group = !cmd.group.empty();
      req.target = req.group ? cmd.group : cmd.host;
      req.duration = cmd.duration;
      req.reason = cmd.message;
      req.author = author;
      req.now = asked_at;
      auto r = co_await zabbix::create_maintenance(zabbix_, req);
      if (!r) co_return r.error();
      log::info("zabbix maintenance create", {{"target", req.target}, {"id", r->maintenance.id},
                                              {"outcome", zabbix::to_string(r->outcome)}, {"by", caller.email}});
      co_return spark::maintenance_created_reply(caller, *r, req.group, req.target);
    }
    case Command::Kind::maintenance_list: {
      const std::int64_t now = unix_now();
      auto r = co_await zabbix::maintenances(zabbix_, now);
      if (!r) co_return r.error();
      co_return spark::maintenance_list_reply(caller, *r, now);
    }
    case Command::Kind::maintenance_end: {
      auto r = co_await zabbix::end_maintenance(zabbix_, cmd.id, unix_now(), retry);
      if (!r) co_return r.error();
      log::info("zabbix maintenance end",
                {{"id", cmd.id}, {"outcome", zabbix::to_string(r->outcome)}, {"by", caller.email}});
      co_return spark::maintenance_ended_reply(caller, *r, cmd.id);
    }
    case Command::Kind::help: co_return spark::help_reply(caller, opts_.contact_info);
    case Command::Kind::unknown: break;
  }
  co_return spark::unknown_reply(caller, cmd.problem);
}

// The caller's display name (GET /people/{id}) for the messages Zabbix records, which must
// name the Webex user: "looking into it — Jane Doe <jane@example.com> via Webex". The email
// alone would do, but people know each other by name in Zabbix's history. One call, no retry:
// on any failure, or while Webex asks us to pause, the email alone is used.
awaitable<std::string> CommandRunner::display_name(std::string person_id) {
  const bool plain_id = !person_id.empty() && std::all_of(person_id.begin(), person_id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=';
  });
  if (!plain_id || std::chrono::steady_clock::now() < relay_.paused_until()) co_return std::string();
  json::value body;
  net::RequestSpec spec{boost::beast::http::verb::get, "/people/" + person_id};
  auto r = co_await webex_.call(std::move(spec), &body);
  if (!r.ok()) {
    log::info("cannot read the caller's display name; naming them by email", {{"error", r.error}, {"tracking_id", r.tracking_id}});
    co_return std::string();
  }
  const auto* o = body.if_object();
  const auto* name = o ? o->if_contains("displayName") : nullptr;
  co_return name && name->is_string() ? std::string(name->get_string()) : std::string();
}

awaitable<void> CommandRunner::reply(const spark::ChatMessage& asked, std::string markdown) {
  spark::Alert a;
  a.kind = spark::AlertKind::reply;
  a.to = asked.room_id;
  a.subject = "reply";
  a.has_message = true;
  a.message = std::move(markdown);
  a.parent_id = asked.parent_id;
  std::vector<spark::Alert> alerts;  // its own statement: GCC bug 107288
  alerts.push_back(std::move(a));
  auto accepted = co_await relay_.accept(std::move(alerts));
  log::debug("reply queued", {{"room", asked.room_id}, {"taskid", accepted.front().taskid}});
}

awaitable<void> CommandRunner::run(spark::Envelope env, std::string taskid) {
  if (!co_await ensure_bot()) {
    count("-", "no_bot_identity");
    co_return;
  }
  auto message = co_await fetch_message(env.data_id, taskid);
  if (!message) {
    count("-", "fetch_failed");
    co_return;
  }
  if (message->person_id == bot_.id) {
    count("-", "own_message");
    co_return;
  }
  auto extracted = spark::extract_command(*message, bot_.id, bot_.display_name);
  if (!extracted.ignored.empty()) {
    log::info("message ignored", {{"taskid", taskid}, {"from", message->person_email}, {"why", extracted.ignored}});
    count("-", "ignored");
    co_return;
  }
  Command cmd = spark::parse_command(extracted.text, extracted.original);
  const std::string name = spark::to_string(cmd.kind);
  spark::Caller caller{message->person_email, "", message->room_type == "group"};
  log::info("command", {{"taskid", taskid}, {"from", message->person_email}, {"command", extracted.text}});

  // ack / close ... without an event id: the alert whose thread this is says which event.
  if (spark::is_event_command(cmd.kind) && cmd.problem.empty() && cmd.id.empty()) {
    const bool in_thread = !message->parent_id.empty();
    if (in_thread && opts_.event_for_thread) {
      if (auto id = opts_.event_for_thread(message->parent_id)) cmd.id = *id;
    }
    if (cmd.id.empty()) {
      co_await reply(*message, spark::no_event_id_reply(caller, name, in_thread));
      count(name, "no_event_id");
      co_return;
    }
  }
  const bool writes = spark::is_event_command(cmd.kind) || cmd.kind == Command::Kind::maintenance_create ||
                      cmd.kind == Command::Kind::maintenance_end;
  if (writes && cmd.problem.empty()) caller.display_name = co_await display_name(message->person_id);
  const std::int64_t asked_at = unix_now();

  bool told_trouble = false;
  for (unsigned attempt = 0;; ++attempt) {
    auto text = co_await answer(cmd, caller, asked_at, attempt > 0);
    if (text) {
      co_await reply(*message, std::move(*text));
      count(name, attempt == 0 ? "answered" : "answered_after_retry");
      co_return;
    }
    const auto& e = text.error();
    log::warn("Zabbix query failed", {{"taskid", taskid}, {"command", name}, {"attempt", attempt + 1}, {"error", e.message}});
    if (stopping_ || attempt >= opts_.zabbix_retries) {
      // The first failure already told the user; a second error reply would only be noise.
      log::error("command not answered: Zabbix kept failing",
                 {{"taskid", taskid}, {"command", name}, {"attempts", attempt + 1}, {"error", e.message}});
      count(name, "zabbix_failed");
      co_return;
    }
    if (!told_trouble) {
      told_trouble = true;
      co_await reply(*message, spark::zabbix_trouble_reply(caller, opts_.contact_info));
    }
    co_await sleep(opts_.zabbix_retry_delay * (1u << std::min(attempt, 6u)));
  }
}

}  // namespace zpark::tasks
