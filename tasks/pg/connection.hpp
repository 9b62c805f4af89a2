#pragma once
// One PostgreSQL connection driven by libpq's non-blocking API on the io_context: the socket
// is waited on with Asio, never blocked on. Queries run one at a time, in the order asked;
// a reader coroutine takes in whatever arrives (answers, NOTIFY) while the connection lives.
#include "tasks/pg/libpq.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace zpark::tasks::pg {

// A failure of the database or of the way to it. lost(): the connection is gone and must be
// made again (unreachable, killed, no answer in time); else the statement failed and
// sqlstate() says why (e.g. "55P03" lock not available).
class Error : public std::runtime_error {
 public:
  Error(const std::string& what, bool lost, std::string sqlstate = {})
      : std::runtime_error(what), lost_(lost), sqlstate_(std::move(sqlstate)) {}
  bool lost() const { return lost_; }
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  bool lost_;
  std::string sqlstate_;
};

// The rows of one statement (text format).
class Result {
 public:
  explicit Result(std::shared_ptr<PGresult> r);
  int rows() const;
  bool null(int row, int col) const;
  std::string text(int row, int col) const;
  std::int64_t int64(int row, int col) const;
  std::int64_t affected() const;  // rows inserted / updated / deleted

 private:
  std::shared_ptr<PGresult> r_;
};

using Params = std::vector<std::optional<std::string>>;  // nullopt is SQL NULL

struct ConnectOptions {
  std::string url;       // ZPARK_DATABASE_URL: postgresql://user@host:port/db?sslmode=...
  std::string password;  // ZPARK_DATABASE_PASSWORD_FILE's content; empty: the URL's or ~/.pgpass
  std::chrono::milliseconds connect_timeout{5000};
  // A statement without an answer in this time: the connection is taken for lost (a server or
  // network that hangs must not hold accepts or lanes for TCP's minutes).
  std::chrono::milliseconds query_timeout{10000};
};

// "host:port/db" of a URL, for messages: never its password.
std::string describe(const std::string& url);

class Connection {
 public:
  Connection(boost::asio::any_io_executor ex, ConnectOptions opts);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Throws Error (lost) with libpq's reason.
  boost::asio::awaitable<void> connect();
  bool connected() const { return conn_ != nullptr; }
  // One statement. Waits for the queries asked before it. Throws Error.
  boost::asio::awaitable<Result> query(std::string sql, Params params = {});
  // Several statements without parameters (a migration); the last one's rows are dropped.
  boost::asio::awaitable<void> exec(std::string script);
  // Closes now; queries waiting or running end with Error (lost). on_lost is not called.
  void close();

  // Notifications of channels this connection LISTENs to, as they arrive.
  std::function<void(const std::string& channel, const std::string& payload)> on_notify;
  // The connection broke (the server went away, an answer timed out): not called by close().
  std::function<void(const std::string& why)> on_lost;

 private:
  boost::asio::awaitable<Result> run(std::string sql, Params params, bool script);
  struct Running;
  struct Waiter {
    boost::asio::steady_timer turn;
    bool aborted = false;
  };
  boost::asio::awaitable<void> read_loop(std::shared_ptr<bool> alive);
  void follow_socket();  // socket_ waits on libpq's current descriptor
  void lost(const std::string& why);
  void close_with(const std::string& why);
  void finish_running(std::optional<Error> error);
  void next_turn();

  boost::asio::any_io_executor ex_;
  ConnectOptions opts_;
  PGconn* conn_ = nullptr;
  std::shared_ptr<boost::asio::posix::stream_descriptor> socket_;
  bool busy_ = false;                                // a query holds the connection
  std::deque<Waiter*> waiting_;                      // queries waiting for their turn
  Running* running_ = nullptr;                       // the query whose answer is awaited
  std::shared_ptr<bool> alive_;                      // false once this connection is closed
};

}  // namespace zpark::tasks::pg
