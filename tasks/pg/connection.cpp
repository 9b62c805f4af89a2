#include "tasks/pg/connection.hpp"

#include "conf/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <cstdlib>

namespace zpark::tasks::pg {

namespace asio = boost::asio;
using asio::awaitable;
using Wait = asio::posix::descriptor_base::wait_type;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// libpq's message on one line: its continuation lines ("\n\tIs the server running...") joined.
std::string trimmed(const char* s) {
  std::string out;
  for (const char* p = s ? s : ""; *p; ++p) {
    if (*p == '\n' || *p == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += *p;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

Result::Result(std::shared_ptr<PGresult> r) : r_(std::move(r)) {}
int Result::rows() const { return lib().PQntuples(r_.get()); }
bool Result::null(int row, int col) const { return lib().PQgetisnull(r_.get(), row, col) != 0; }
std::string Result::text(int row, int col) const {
  return std::string(lib().PQgetvalue(r_.get(), row, col), lib().PQgetlength(r_.get(), row, col));
}
std::int64_t Result::int64(int row, int col) const {
  return null(row, col) ? 0 : std::strtoll(lib().PQgetvalue(r_.get(), row, col), nullptr, 10);
}
std::int64_t Result::affected() const { return std::strtoll(lib().PQcmdTuples(r_.get()), nullptr, 10); }

std::string describe(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = lib().PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    if (err) lib().PQfreemem(err);
    return "(unreadable ZPARK_DATABASE_URL)";
  }
  std::string host = "localhost", port = "5432", db;
  for (auto* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    std::string k = o->keyword;
    if (k == "host" || (k == "hostaddr" && host == "localhost")) host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
  }
  lib().PQconninfoFree(opts);
  return fmt::format("{}:{}/{}", host, port, db);
}

struct Connection::Running {
  std::shared_ptr<PGresult> result;
  std::optional<Error> error;
  bool finished = false;
  asio::steady_timer* done = nullptr;
};

Connection::Connection(asio::any_io_executor ex, ConnectOptions opts) : ex_(std::move(ex)), opts_(std::move(opts)) {}

Connection::~Connection() {
  on_lost = nullptr;
  close();
}

// Waits until the socket is ready for `w` or the deadline passed; false on the deadline or
// an error. The guard's handler may run after this frame is gone: it holds what it touches.
static awaitable<bool> wait_ready(std::shared_ptr<asio::posix::stream_descriptor> socket, Wait w,
                                  asio::steady_timer::time_point deadline) {
  asio::steady_timer guard(socket->get_executor(), deadline);
  auto expired = std::make_shared<bool>(false);
  std::weak_ptr<asio::posix::stream_descriptor> weak = socket;
  guard.async_wait([expired, weak](boost::system::error_code ec) {
    if (ec) return;
    *expired = true;
    if (auto s = weak.lock()) s->cancel();
  });
  auto [ec] = co_await socket->async_wait(w, tuple);
  guard.cancel();
  co_return !ec && !*expired;
}

awaitable<void> Connection::connect() {
  close();
  const auto& pq = lib();
  const std::string timeout_s = std::to_string(std::max<long>(2, opts_.connect_timeout.count() / 1000));
  // Defaults first: the URL (dbname, expanded in place) may override them; the password file
  // comes last and wins. Keepalives and tcp_user_timeout make a dead peer visible in seconds.
  std::vector<const char*> keys{"application_name", "connect_timeout", "keepalives", "keepalives_idle",
                                "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname"};
  std::vector<const char*> values{"zpark", timeout_s.c_str(), "1", "5", "2", "3", "10000", opts_.url.c_str()};
  if (!opts_.password.empty()) {
    keys.push_back("password");
    values.push_back(opts_.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = pq.PQconnectStartParams(keys.data(), values.data(), 1);
  if (!conn_) throw Error("cannot start a PostgreSQL connection (out of memory)", true);
  const auto deadline = asio::steady_timer::clock_type::now() + opts_.connect_timeout;
  auto fail = [&](std::string why) {
    close();
    return Error(fmt::format("cannot connect to PostgreSQL at {}: {}", describe(opts_.url), why), true);
  };
  if (pq.PQstatus(conn_) == CONNECTION_BAD) throw fail(trimmed(pq.PQerrorMessage(conn_)));
  auto st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) throw fail(trimmed(pq.PQerrorMessage(conn_)));
    follow_socket();  // libpq may open another socket between polls (the next host, SSL refused)
    auto socket = socket_;
    bool ready = co_await wait_ready(socket, st == PGRES_POLLING_READING ? Wait::wait_read : Wait::wait_write, deadline);
    if (!conn_) throw fail("closed while connecting");
    if (!ready) throw fail(fmt::format("no answer within {} ms", opts_.connect_timeout.count()));
    st = pq.PQconnectPoll(conn_);
  }
  if (pq.PQsetnonblocking(conn_, 1) != 0) throw fail(trimmed(pq.PQerrorMessage(conn_)));
  follow_socket();
  alive_ = std::make_shared<bool>(true);
  asio::co_spawn(ex_, read_loop(alive_), [](std::exception_ptr e) {
    if (e) log::error("PostgreSQL connection reader stopped");
  });
}

void Connection::follow_socket() {
  const int fd = lib().PQsocket(conn_);
  if (socket_ && socket_->native_handle() == fd) return;
  if (socket_) socket_->release();  // libpq's, not ours to close
  socket_ = std::make_shared<asio::posix::stream_descriptor>(ex_, fd);
}

awaitable<void> Connection::read_loop(std::shared_ptr<bool> alive) {
  auto socket = socket_;
  const auto& pq = lib();
  while (*alive) {
    auto [ec] = co_await socket->async_wait(Wait::wait_read, tuple);
    if (!*alive) co_return;
    if (ec) {
      lost("waiting for the server: " + ec.message());
      co_return;
    }
    if (!pq.PQconsumeInput(conn_)) {
      lost(trimmed(pq.PQerrorMessage(conn_)));
      co_return;
    }
    while (PGnotify* n = pq.PQnotifies(conn_)) {
      std::string channel = n->relname ? n->relname : "", payload = n->extra ? n->extra : "";
      pq.PQfreemem(n);
      if (on_notify) on_notify(channel, payload);
      if (!*alive) co_return;
    }
    while (running_ && !pq.PQisBusy(conn_)) {
      PGresult* res = pq.PQgetResult(conn_);
      if (!res) {
        finish_running(std::nullopt);
        break;
      }
      auto status = pq.PQresultStatus(res);
      if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR) {
        const char* code = pq.PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (!running_->error)
          running_->error.emplace(trimmed(pq.PQresultErrorMessage(res)), false, code ? code : "");
        pq.PQclear(res);
      } else {
        running_->result.reset(res, [](PGresult* p) { lib().PQclear(p); });
      }
    }
  }
}

awaitable<Result> Connection::query(std::string sql, Params params) { co_return co_await run(std::move(sql), std::move(params), false); }

awaitable<void> Connection::exec(std::string script) {
  Params none;  // its own statement: no brace temporary in a co_await (GCC bug 107288)
  co_await run(std::move(script), std::move(none), true);
}

awaitable<Result> Connection::run(std::string sql, Params params, bool script) {
  if (busy_) {
    Waiter w{asio::steady_timer(ex_, asio::steady_timer::time_point::max())};
    waiting_.push_back(&w);
    co_await w.turn.async_wait(tuple);  // next_turn() or close_with() cancels it
    if (w.aborted) throw Error(fmt::format("PostgreSQL at {}: connection closed", describe(opts_.url)), true);
  }
  busy_ = true;
  // The turn passes on when this query ends, unless the connection was closed meanwhile
  // (close_with() ended every turn of that session).
  struct TurnGuard {
    Connection* c;
    std::shared_ptr<bool> session;
    ~TurnGuard() {
      if (session == c->alive_) c->next_turn();
    }
  } guard{this, alive_};
  if (!conn_) throw Error(fmt::format("not connected to PostgreSQL at {}", describe(opts_.url)), true);
  const auto& pq = lib();
  std::vector<const char*> values;
  for (auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  const int sent = script ? pq.PQsendQuery(conn_, sql.c_str())
                          : pq.PQsendQueryParams(conn_, sql.c_str(), int(values.size()), nullptr, values.data(),
                                                 nullptr, nullptr, 0);
  if (!sent) {
    auto why = trimmed(pq.PQerrorMessage(conn_));
    lost(why);
    throw Error(why, true);
  }
  Running r;
  asio::steady_timer done(ex_, asio::steady_timer::clock_type::now() + opts_.query_timeout);
  r.done = &done;
  running_ = &r;
  auto socket = socket_;
  for (;;) {
    int f = pq.PQflush(conn_);
    if (f == 0) break;
    if (f < 0) {
      lost(trimmed(pq.PQerrorMessage(conn_)));
      break;
    }
    bool ready = co_await wait_ready(socket, Wait::wait_write, done.expiry());
    if (!conn_ || r.finished) break;
    if (!ready) {
      lost(fmt::format("could not send a statement within {} ms", opts_.query_timeout.count()));
      break;
    }
  }
  if (!r.finished) co_await done.async_wait(tuple);
  if (!r.finished) lost(fmt::format("no answer within {} ms", opts_.query_timeout.count()));
  if (r.error) throw *r.error;
  if (!r.result) throw Error("PostgreSQL gave no result", false);
  co_return Result(std::move(r.result));
}

void Connection::finish_running(std::optional<Error> error) {
  if (!running_) return;
  if (error && !running_->error) running_->error = std::move(error);
  running_->finished = true;
  running_->done->cancel();
  running_ = nullptr;
}

void Connection::next_turn() {
  if (waiting_.empty()) {
    busy_ = false;
    return;
  }
  auto* w = waiting_.front();
  waiting_.pop_front();
  w->turn.cancel();
}

void Connection::lost(const std::string& why) {
  if (!conn_) return;
  auto notify = on_lost;
  close_with(why);
  if (notify) asio::post(ex_, [notify, why] { notify(why); });
}

void Connection::close() { close_with("connection closed"); }

void Connection::close_with(const std::string& why) {
  if (alive_) *alive_ = false;
  if (socket_) {
    socket_->release();  // libpq owns the descriptor; release() also ends the waits on it
    socket_.reset();
  }
  if (conn_) {
    lib().PQfinish(conn_);
    conn_ = nullptr;
  }
  finish_running(Error(fmt::format("PostgreSQL at {}: {}", describe(opts_.url), why), true));
  // Queries waiting for their turn end with an error; the next session starts free.
  for (auto* w : waiting_) {
    w->aborted = true;
    w->turn.cancel();
  }
  waiting_.clear();
  busy_ = false;
}

}  // namespace zpark::tasks::pg
