#include "tasks/pg/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace zpark::tasks::pg {

namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;

Pool::Pool(asio::any_io_executor ex, ConnectOptions opts, std::size_t size, std::string session)
    : ex_(std::move(ex)), opts_(std::move(opts)), size_(std::max<std::size_t>(1, size)), session_(std::move(session)) {}

Pool::~Pool() { close(); }

void Pool::close() {
  closed_ = true;
  idle_.clear();
  for (auto* t : waiting_) t->cancel();
  waiting_.clear();
}

awaitable<std::unique_ptr<Connection>> Pool::open() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_try_)
    throw Error(fmt::format("{} (next try in {:.1f} s)", last_error_,
                            std::chrono::duration<double>(next_try_ - now).count()),
                true);
  auto c = std::make_unique<Connection>(ex_, opts_);
  try {
    co_await c->connect();
    if (!session_.empty()) co_await c->exec(session_);
  } catch (const Error& e) {
    backoff_ = std::clamp(backoff_ * 2, std::chrono::milliseconds(500), std::chrono::milliseconds(10'000));
    next_try_ = std::chrono::steady_clock::now() + backoff_;
    last_error_ = e.what();
    throw;
  }
  backoff_ = 0ms;
  next_try_ = {};
  co_return c;
}

awaitable<std::unique_ptr<Connection>> Pool::dedicated() { co_return co_await open(); }

awaitable<std::unique_ptr<Connection>> Pool::acquire() {
  for (;;) {
    if (closed_) throw Error("the PostgreSQL pool is closed", true);
    while (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      if (c->connected()) co_return c;
      --open_;
    }
    if (open_ < size_) {
      ++open_;
      try {
        co_return co_await open();
      } catch (...) {
        --open_;
        throw;
      }
    }
    asio::steady_timer turn(ex_, asio::steady_timer::time_point::max());
    waiting_.push_back(&turn);
    co_await turn.async_wait(asio::as_tuple(asio::use_awaitable));
    std::erase(waiting_, &turn);
  }
}

void Pool::release(std::unique_ptr<Connection> c) {
  if (c && c->connected() && !closed_)
    idle_.push_back(std::move(c));
  else
    --open_;
  if (!waiting_.empty()) {
    waiting_.front()->cancel();
    waiting_.pop_front();
  }
}

awaitable<Result> Pool::query(std::string sql, Params params) {
  // Given back however the statement ends (a broken connection is dropped by release()).
  struct Lease {
    Pool* pool;
    std::unique_ptr<Connection> c;
    ~Lease() { pool->release(std::move(c)); }
  };
  auto c = co_await acquire();  // not inside the braces: GCC 12 and aggregates around co_await
  Lease lease{this, std::move(c)};
  co_return co_await lease.c->query(std::move(sql), std::move(params));
}

}  // namespace zpark::tasks::pg
