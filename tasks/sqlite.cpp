#include "tasks/sqlite.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>
#include <utility>

namespace zpark::tasks::sqlite {

namespace {

// What an operator can do, by SQLite's primary result code. The callers name the file and
// ZPARK_DATA_DIR; this says what kind of trouble it is.
const char* hint(int code) {
  switch (code & 0xff) {
    case SQLITE_FULL:
      return "free space on the disk that holds ZPARK_DATA_DIR";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return "make ZPARK_DATA_DIR and the files in it writable by zpark's user";
    case SQLITE_CANTOPEN:
      return "check that ZPARK_DATA_DIR exists, is a directory and is writable by zpark's user";
    case SQLITE_IOERR:
      return "the disk refused a read or write: check that the file system is not read-only or full "
             "and look for disk errors (dmesg)";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "the file is damaged or not an outbox: move it and its -wal and -shm files aside, then "
             "restore them from a backup, or start with an empty ZPARK_DATA_DIR (what was pending in "
             "it is then lost)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "another process holds the outbox locked (an open sqlite3 shell?); close it";
    case SQLITE_NOMEM:
      return "the machine is out of memory";
    case SQLITE_NOLFS:
    case SQLITE_TOOBIG:
      return "the outbox has grown too large; look for alerts that are never delivered";
    default:
      return nullptr;
  }
}

}  // namespace

std::string describe(int code, int sys_errno, const std::string& message) {
  std::string out = message;
  if (sys_errno != 0) out += fmt::format(" ({})", std::strerror(sys_errno));
  if (const char* h = hint(code)) out += fmt::format("; {}", h);
  return out;
}

Error::Error(std::string context, int code, int sys_errno, const std::string& message)
    : std::runtime_error(context.empty() ? describe(code, sys_errno, message)
                                         : fmt::format("{}: {}", context, describe(code, sys_errno, message))),
      code_(code),
      problem_(describe(code, sys_errno, message)) {}

Db::Db(const std::string& path) : Db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {}

Db Db::open_existing(const std::string& path) { return Db(path, SQLITE_OPEN_READWRITE); }

Db::Db(const std::string& path, int flags) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 hands back a handle even on failure; it carries the message.
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    int sys = db_ ? sqlite3_system_errno(db_) : 0;
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error({}, rc, sys, msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  // close_v2 defers the close until the last statement is finalized, so member order
  // in the owner does not matter.
  sqlite3_close_v2(db_);
}

Db::Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}

Db& Db::operator=(Db&& o) noexcept {
  std::swap(db_, o.db_);
  return *this;
}

void Db::fail(std::string_view what, int rc) const {
  // The connection's message and errno are only about rc when it is the latest error.
  const bool latest = sqlite3_extended_errcode(db_) == rc;
  throw Error(std::string(what), rc, latest ? sqlite3_system_errno(db_) : 0,
              latest ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
}

void Db::exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(sql, rc);
}

std::string Db::query_text(const char* sql) {
  Stmt s(*this, sql);
  auto c = s();
  return c.next() ? c.text(0) : std::string();
}

std::int64_t Db::query_int(const char* sql) {
  Stmt s(*this, sql);
  auto c = s();
  return c.next() ? c.int64(0) : 0;
}

std::int64_t Db::changes() const { return sqlite3_changes64(db_); }

bool Db::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Stmt::Stmt(Db& db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &st_, nullptr);
  if (rc != SQLITE_OK) db.fail(fmt::format("prepare \"{}\"", sql), rc);
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

void Stmt::clear() const {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

void Stmt::bind(int i, std::string_view v) const {
  // TRANSIENT copies: a temporary argument dies before the Cursor steps the statement.
  int rc = sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail("bind", rc);
}

void Stmt::bind(int i, std::int64_t v) const {
  int rc = sqlite3_bind_int64(st_, i, v);
  if (rc != SQLITE_OK) db_.fail("bind", rc);
}

void Stmt::bind(int i, std::nullopt_t) const {
  int rc = sqlite3_bind_null(st_, i);
  if (rc != SQLITE_OK) db_.fail("bind", rc);
}

void Stmt::bind(int i, const std::optional<std::string>& v) const {
  if (v)
    bind(i, std::string_view(*v));
  else
    bind(i, std::nullopt);
}

Cursor::~Cursor() {
  sqlite3_reset(s_.st_);
  sqlite3_clear_bindings(s_.st_);  // free the copies of large payloads now
}

bool Cursor::next() {
  int rc = sqlite3_step(s_.st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  s_.db_.fail(sqlite3_sql(s_.st_), rc);
}

void Cursor::run() {
  while (next()) {
  }
}

std::int64_t Cursor::int64(int col) const { return sqlite3_column_int64(s_.st_, col); }

std::string Cursor::text(int col) const {
  auto p = sqlite3_column_text(s_.st_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(s_.st_, col)));
}

Transaction::Statements::Statements(Db& d)
    : db(d), begin(d, "BEGIN IMMEDIATE"), commit(d, "COMMIT"), rollback(d, "ROLLBACK") {}

Transaction::Transaction(const Statements& s) : s_(s) { s_.begin().run(); }

Transaction::~Transaction() {
  // A failed COMMIT (e.g. disk full) may already have rolled back; don't roll back twice.
  if (open_ && s_.db.in_transaction()) {
    try {
      s_.rollback().run();
    } catch (...) {
      // Nothing more to do: the connection closes the transaction on its next use or close.
    }
  }
}

void Transaction::commit() {
  s_.commit().run();
  open_ = false;
}

}  // namespace zpark::tasks::sqlite
