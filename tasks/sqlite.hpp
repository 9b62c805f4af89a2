// A thin RAII layer over the SQLite C API: just what the outbox needs. Every failure throws
// sqlite::Error: SQLite's own message, the operating system's reason when there is one, and
// a hint saying what to do; callers add the file and the setting.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace zpark::tasks::sqlite {

// what() is "<context>: <problem>", e.g. "INSERT INTO tasks ...: database or disk is full
// (No space left on device); free space on the disk that holds ZPARK_DATA_DIR".
class Error : public std::runtime_error {
 public:
  Error(std::string context, int code, int sys_errno, const std::string& message);
  int code() const { return code_; }  // extended result code, e.g. SQLITE_IOERR_WRITE
  // What went wrong and what to do, without the statement: for logs and readiness.
  const std::string& problem() const { return problem_; }

 private:
  int code_;
  std::string problem_;
};

// SQLite's text for `code`, the errno text, then what an operator can do about it.
std::string describe(int code, int sys_errno, const std::string& message);

class Db {
public:
  // Opens (creating if needed) a database file for reading and writing. The connection is used
  // by one thread only, so SQLite's own mutexes are left out.
  explicit Db(const std::string& path);
  // Opens an existing database file only (no SQLITE_OPEN_CREATE).
  static Db open_existing(const std::string& path);
  ~Db();
  Db(Db&&) noexcept;
  Db& operator=(Db&&) noexcept;

  void exec(const char* sql);  // one or more statements, no results
  // A pragma or query whose single answer is one value, e.g. "PRAGMA journal_mode=WAL".
  std::string query_text(const char* sql);
  std::int64_t query_int(const char* sql);
  std::int64_t changes() const;
  bool in_transaction() const;
  [[noreturn]] void fail(std::string_view what, int rc) const;
  sqlite3* get() const { return db_; }

private:
  Db(const std::string& path, int flags);
  sqlite3* db_ = nullptr;
};

class Stmt;

// One execution of a prepared statement: binds on creation and resets the statement when it
// goes away, so a cached statement never keeps a read snapshot or old bindings after use.
class Cursor {
public:
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  bool next();  // true: a row is ready; false: done
  void run();   // steps a statement that returns no rows
  std::int64_t int64(int col) const;
  std::string text(int col) const;  // NULL reads as ""

private:
  friend class Stmt;
  explicit Cursor(const Stmt& s) : s_(s) {}
  const Stmt& s_;
};

class Stmt {
public:
  Stmt(Db& db, std::string_view sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binds the arguments to ?1, ?2, ... in order. std::nullopt binds NULL.
  template <typename... Args>
  [[nodiscard]] Cursor operator()(const Args&... args) const {
    clear();
    int i = 0;
    (bind(++i, args), ...);
    return Cursor(*this);
  }

private:
  friend class Cursor;
  void clear() const;
  void bind(int i, std::string_view v) const;
  void bind(int i, const std::string& v) const { bind(i, std::string_view(v)); }
  void bind(int i, const char* v) const { bind(i, std::string_view(v)); }
  void bind(int i, std::int64_t v) const;
  void bind(int i, int v) const { bind(i, std::int64_t{v}); }
  void bind(int i, std::nullopt_t) const;
  void bind(int i, const std::optional<std::string>& v) const;

  Db& db_;
  sqlite3_stmt* st_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back if destroyed before commit(). IMMEDIATE takes the
// write lock up front, so a second process cannot make us fail halfway with SQLITE_BUSY.
class Transaction {
public:
  struct Statements {
    explicit Statements(Db& db);
    Db& db;
    Stmt begin, commit, rollback;
  };
  explicit Transaction(const Statements& s);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

private:
  const Statements& s_;
  bool open_ = true;
};

}  // namespace zpark::tasks::sqlite
