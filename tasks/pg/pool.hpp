#pragma once
// A few PostgreSQL connections shared by the coroutines of one process: a statement takes an
// idle connection (or opens one, up to `size`), and gives it back when done. A connection that
// broke is dropped; opening new ones after a failure backs off (0.5 s doubling to 10 s), and
// in between a statement fails at once with the last reason instead of waiting for a timeout.
#include "tasks/pg/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace zpark::tasks::pg {

class Pool {
 public:
  // `session`: statements run on each new connection (e.g. "SET synchronous_commit = off").
  Pool(boost::asio::any_io_executor ex, ConnectOptions opts, std::size_t size = 4, std::string session = {});
  ~Pool();

  // One statement on any connection. Throws Error.
  boost::asio::awaitable<Result> query(std::string sql, Params params = {});
  // A connection of its own, for a caller that keeps one (LISTEN, session locks): the same
  // options and back-off; not counted in `size`.
  boost::asio::awaitable<std::unique_ptr<Connection>> dedicated();
  void close();
  const ConnectOptions& options() const { return opts_; }

 private:
  boost::asio::awaitable<std::unique_ptr<Connection>> open();
  boost::asio::awaitable<std::unique_ptr<Connection>> acquire();
  void release(std::unique_ptr<Connection> c);

  boost::asio::any_io_executor ex_;
  ConnectOptions opts_;
  std::size_t size_;
  std::string session_;
  std::size_t open_ = 0;  // connections out of the pool or idle in it
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<boost::asio::steady_timer*> waiting_;
  std::chrono::steady_clock::time_point next_try_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
  bool closed_ = false;
};

}  // namespace zpark::tasks::pg
