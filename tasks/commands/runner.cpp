#include "tasks/commands/runner.hpp"

#include "conf/log.hpp"
#include "spark/cards.hpp"
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

zabbix::EventAction event_action_of(Command::Kind kind) {
  return kind == Command::Kind::ack     ? zabbix::EventAction::acknowledge
         : kind == Command::Kind::unack ? zabbix::EventAction::unacknowledge
         : kind == Command::Kind::close ? zabbix::EventAction::close
                                        : zabbix::EventAction::comment;
}

double jitter() {
  static std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng);
}

}  // namespace

CommandRunner::CommandRunner(asio::any_io_executor ex, spark::WebexClient& webex, zabbix::Client& zabbix,
                             Relay& relay, CommandOptions options)
    : ex_(std::move(ex)), webex_(webex), zabbix_(zabbix), relay_(relay), opts_(std::move(options)) {}

awaitable<std::optional<std::string>> CommandRunner::claim(std::string message_id, std::string taskid) {
  if (auto first = seen_.find(message_id)) co_return first;
  auto& store = relay_.store();
  if (store.shared()) {
    std::optional<std::string> first;
    try {
      first = co_await store.claim_message(message_id, taskid, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                   std::chrono::system_clock::now().time_since_epoch())
                                                                   .count());
    } catch (const std::exception& e) {
      // Answering a repeat twice beats not answering at all.
      log::warn("cannot ask the shared outbox whether a message was answered", {{"message", message_id}, {"error", e.what()}});
    }
    if (first) {
      seen_.remember(message_id, *first);
      co_return first;
    }
  }
  seen_.remember(message_id, taskid);
  co_return std::nullopt;
}

void CommandRunner::start(spark::Envelope envelope, std::string taskid) {
  seen_.remember(envelope.data_id, taskid);
  start_task(run(std::move(envelope), taskid), taskid);
}

void CommandRunner::start_card(spark::Envelope envelope, std::string taskid) {
  seen_.remember(envelope.data_id, taskid);
  start_task(run_card(std::move(envelope), taskid), taskid);
}

void CommandRunner::start_task(awaitable<void> task, const std::string& taskid) {
  asio::co_spawn(ex_, std::move(task), [taskid](std::exception_ptr e) {
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
awaitable<std::optional<json::value>> CommandRunner::fetch_json(std::string target, std::string what, std::string taskid) {
  for (unsigned attempt = 1; !stopping_; ++attempt) {
    if (auto now = std::chrono::steady_clock::now(); now < relay_.paused_until()) {
      co_await sleep(std::chrono::duration_cast<std::chrono::milliseconds>(relay_.paused_until() - now));
      continue;
    }
    json::value body;
    net::RequestSpec spec{boost::beast::http::verb::get, target};
    auto r = co_await webex_.call(std::move(spec), &body);
    if (r.ok()) co_return std::move(body);
    auto d = decide(r, static_cast<int>(attempt), opts_.fetch_retry, jitter());
    if (d.verdict == Verdict::pause_all) {
      relay_.pause_all(d.delay);
      log::warn("Webex rate limit on a message fetch: pausing all sending",
                {{"seconds", d.delay.count() / 1000.0}, {"tracking_id", r.tracking_id}});
      continue;
    }
    if (d.verdict == Verdict::failed || attempt >= opts_.fetch_attempts) {
      log::warn("cannot fetch " + what + "; not answering",
                {{"taskid", taskid}, {"target", target}, {"error", r.error}, {"tracking_id", r.tracking_id}});
      co_return std::nullopt;
    }
    log::info("message fetch failed, will retry",
              {{"taskid", taskid}, {"attempt", attempt}, {"error", r.error}, {"retry_in_ms", d.delay.count()}});
    co_await sleep(d.delay);
  }
  co_return std::nullopt;
}

awaitable<std::optional<spark::ChatMessage>> CommandRunner::fetch_message(std::string id, std::string taskid) {
  auto body = co_await fetch_json("/messages/" + id, "the command message", taskid);
  if (!body) co_return std::nullopt;
  co_return spark::chat_message_from_json(*body);
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
      req.action = event_action_of(cmd.kind);
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
    case Command::Kind::graph: break;  // answered by graph() with an image
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

namespace {

// What to tell the user when Zabbix failed a graph: not the URL and account details of the log.
std::string graph_trouble(const zabbix::Error& e) {
  switch (e.kind) {
    case zabbix::Error::Kind::auth: return "Zpark cannot log in to the Zabbix frontend (see its log)";
    case zabbix::Error::Kind::parse: return "the Zabbix frontend answered a page instead of an image";
    default: return "Zabbix did not answer; try again in a moment";
  }
}

}  // namespace

awaitable<void> CommandRunner::graph(spark::ChatMessage asked, Command cmd, spark::Caller caller) {
  const std::string name = spark::to_string(cmd.kind);
  if (!opts_.frontend) {
    co_await reply(asked, spark::graph_failed_reply(caller, "graphs are off (" + opts_.graphs_off + ")"));
    count(name, "graphs_off");
    co_return;
  }
  auto lookup = co_await zabbix::find_graph_items(zabbix_, cmd.host, cmd.name);
  if (!lookup) {
    log::warn("graph: Zabbix lookup failed", {{"host", cmd.host}, {"item", cmd.name}, {"error", lookup.error().message}});
    co_await reply(asked, spark::graph_failed_reply(caller, graph_trouble(lookup.error())));
    count(name, "zabbix_failed");
    co_return;
  }
  if (lookup->outcome != zabbix::GraphLookup::Outcome::found) {
    co_await reply(asked, spark::graph_lookup_reply(caller, *lookup, cmd.host, cmd.name));
    count(name, "not_found");
    co_return;
  }
  const std::int64_t period = cmd.duration > 0 ? cmd.duration : opts_.graph_period.count();
  zabbix::ChartRequest chart;
  for (const auto& item : lookup->items) chart.itemids.push_back(item.itemid);
  chart.period_seconds = period;
  auto png = co_await opts_.frontend->chart(std::move(chart));
  if (!png) {
    log::warn("graph: chart.php failed", {{"host", cmd.host}, {"item", cmd.name}, {"error", png.error().message}});
    co_await reply(asked, spark::graph_failed_reply(caller, graph_trouble(png.error())));
    count(name, "chart_failed");
    co_return;
  }
  if (auto now = std::chrono::steady_clock::now(); now < relay_.paused_until())
    co_await sleep(std::chrono::duration_cast<std::chrono::milliseconds>(relay_.paused_until() - now));
  spark::FileMessage file;
  file.to = asked.room_id;
  file.parent_id = asked.parent_id;
  file.markdown = spark::graph_caption(lookup->items, period);
  file.file = {spark::safe_file_name(lookup->host + "-" + cmd.name, ".png"), "image/png", std::move(*png)};
  const std::size_t bytes = file.file.bytes.size();
  auto sent = co_await webex_.upload(std::move(file));
  if (!sent.ok()) {
    if (sent.status == 429 && sent.retry_after_seconds) relay_.pause_all(std::chrono::seconds(*sent.retry_after_seconds));
    log::warn("graph: Webex refused the image", {{"room", asked.room_id}, {"error", sent.error}, {"tracking_id", sent.tracking_id}});
    co_await reply(asked, spark::graph_failed_reply(caller, "Webex did not take the image; try again in a moment"));
    count(name, "upload_failed");
    co_return;
  }
  log::info("graph sent", {{"room", asked.room_id}, {"host", lookup->host}, {"items", lookup->items.size()}, {"bytes", bytes}});
  count(name, "answered");
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
      if (auto id = co_await opts_.event_for_thread(message->parent_id)) cmd.id = *id;
    }
    if (cmd.id.empty()) {
      co_await reply(*message, spark::no_event_id_reply(caller, name, in_thread));
      count(name, "no_event_id");
      co_return;
    }
  }
  if (cmd.kind == Command::Kind::graph && cmd.problem.empty()) {
    co_await graph(*message, std::move(cmd), std::move(caller));
    co_return;
  }
  const bool writes = spark::is_event_command(cmd.kind) || cmd.kind == Command::Kind::maintenance_create ||
                      cmd.kind == Command::Kind::maintenance_end;
  if (writes && cmd.problem.empty()) caller.display_name = co_await display_name(message->person_id);
  // Zabbix will notify this problem's recipients of what the bot writes; in this room the
  // reply says it already (tasks/bot_updates.hpp). Before the call: the update may come fast.
  if (spark::is_event_command(cmd.kind) && cmd.problem.empty())
    relay_.expect_bot_update(cmd.id, message->room_id,
                             zabbix::attributed_message(event_action_of(cmd.kind), cmd.message,
                                                        zabbix::Author{caller.email, caller.display_name}));
  co_await execute(std::move(cmd), std::move(caller), std::move(*message), taskid);
}

awaitable<void> CommandRunner::execute(Command cmd, spark::Caller caller, spark::ChatMessage asked, std::string taskid) {
  const std::string name = spark::to_string(cmd.kind);
  const std::int64_t asked_at = unix_now();
  bool told_trouble = false;
  for (unsigned attempt = 0;; ++attempt) {
    auto text = co_await answer(cmd, caller, asked_at, attempt > 0);
    if (text) {
      co_await reply(asked, std::move(*text));
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
      co_await reply(asked, spark::zabbix_trouble_reply(caller, opts_.contact_info));
    }
    co_await sleep(opts_.zabbix_retry_delay * (1u << std::min(attempt, 6u)));
  }
}

// A card button: the action (inputs), who pressed it (trust by email), the card it belongs to
// (one the bot posted, in the problem's thread), then the same path as `ack ID` / `close ID`.
awaitable<void> CommandRunner::run_card(spark::Envelope env, std::string taskid) {
  if (!co_await ensure_bot()) {
    count("-", "no_bot_identity");
    co_return;
  }
  auto action = co_await fetch_json("/attachment/actions/" + env.data_id, "the card action", taskid);
  if (!action || !action->is_object()) {
    count("button", "fetch_failed");
    co_return;
  }
  const auto& a = action->get_object();
  auto text_of = [&a](const char* key) {
    const auto* v = a.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  const std::string person_id = text_of("personId").empty() ? env.person_id : text_of("personId");
  const std::string card_id = text_of("messageId").empty() ? env.message_id : text_of("messageId");
  auto person = co_await fetch_json("/people/" + person_id, "the person who pressed a button", taskid);
  std::string email, shown;
  if (person && person->is_object()) {
    const auto& p = person->get_object();
    if (const auto* e = p.if_contains("emails"); e && e->is_array() && !e->get_array().empty() && e->get_array()[0].is_string())
      email = e->get_array()[0].get_string();
    if (const auto* n = p.if_contains("displayName"); n && n->is_string()) shown = n->get_string();
  }
  if (email.empty() || !spark::is_trusted(email, opts_.trusted)) {
    log::info("card button from an untrusted user ignored", {{"taskid", taskid}, {"from", email.empty() ? person_id : email}});
    count("button", "untrusted");
    co_return;
  }
  std::optional<spark::ChatMessage> card;
  if (!card_id.empty()) card = co_await fetch_message(card_id, taskid);
  if (!card || card->person_id != bot_.id) {
    log::info("card button ignored: not on a card of ours", {{"taskid", taskid}, {"message", card_id}});
    count("button", "not_our_card");
    co_return;
  }
  const auto press = spark::read_card_press(a.contains("inputs") ? a.at("inputs") : json::value());
  if (!press) {
    log::info("card button ignored: not one of our buttons", {{"taskid", taskid}, {"message", card_id}});
    count("button", "ignored");
    co_return;
  }
  Command cmd;
  cmd.kind = press->kind;
  cmd.id = press->event_id;
  cmd.message = press->comment;
  const std::string name = spark::to_string(cmd.kind);
  // Pressed twice (a double click, or two people at once): the first press acts, the second
  // is dropped while the first is fresh; later, Zabbix's state answers ("already acknowledged").
  const std::int64_t now = unix_now();
  for (auto it = presses_.begin(); it != presses_.end();)
    it = now - it->second >= opts_.press_window.count() ? presses_.erase(it) : std::next(it);
  const std::string key = cmd.id + "|" + name + "|" + cmd.message;
  if (!presses_.try_emplace(key, now).second) {
    log::info("card button pressed again: already handled", {{"taskid", taskid}, {"event", cmd.id}, {"button", name}});
    count("button " + name, "duplicate");
    co_return;
  }
  // Answered in the problem's thread (the card is a reply in it; a reply needs the root).
  spark::ChatMessage asked = *card;
  if (!text_of("roomId").empty()) asked.room_id = text_of("roomId");
  asked.parent_id = card->parent_id.empty() ? card->id : card->parent_id;
  asked.person_id = person_id;
  asked.person_email = email;
  spark::Caller caller{email, shown, card->room_type == "group"};
  log::info("card button", {{"taskid", taskid}, {"from", email}, {"button", name}, {"event", cmd.id}});
  relay_.expect_bot_update(cmd.id, asked.room_id,
                           zabbix::attributed_message(event_action_of(cmd.kind), cmd.message,
                                                      zabbix::Author{caller.email, caller.display_name}));
  co_await execute(std::move(cmd), std::move(caller), std::move(asked), taskid);
}

}  // namespace zpark::tasks
