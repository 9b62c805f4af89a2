#pragma once
// libpq (Debian's libpq5), loaded at run time the first time the PostgreSQL outbox is used.
// Linking it would give every instance, SQLite ones included, libpq's own OpenSSL, Kerberos
// and LDAP libraries (about 20 shared objects and ~5 MiB of idle RSS) and would put a second
// OpenSSL beside the one linked into zpark. Types and prototypes come from libpq-fe.h; calls
// go through this table: `pg::lib().PQexec(...)`.
#include <libpq-fe.h>

namespace zpark::tasks::pg {

#define ZPARK_LIBPQ_FUNCTIONS(X)                                                                                  \
  X(PQconnectStartParams) X(PQconnectPoll) X(PQsendQuery) X(PQstatus) X(PQsocket) X(PQsetnonblocking) X(PQfinish)                \
  X(PQerrorMessage) X(PQsendQueryParams) X(PQflush) X(PQconsumeInput) X(PQisBusy) X(PQgetResult) X(PQclear)       \
  X(PQresultStatus) X(PQresultErrorMessage) X(PQresultErrorField) X(PQntuples) X(PQnfields) X(PQgetvalue)         \
  X(PQgetisnull) X(PQgetlength) X(PQcmdTuples) X(PQnotifies) X(PQfreemem) X(PQconninfoParse) X(PQconninfoFree)    \
  X(PQlibVersion) X(PQserverVersion) X(PQdb) X(PQhost) X(PQport) X(PQuser)

struct LibPq {
#define ZPARK_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  ZPARK_LIBPQ_FUNCTIONS(ZPARK_LIBPQ_MEMBER)
#undef ZPARK_LIBPQ_MEMBER
};

// Loads libpq.so.5 once. Throws std::runtime_error saying to install libpq5 when it cannot.
const LibPq& lib();

}  // namespace zpark::tasks::pg
