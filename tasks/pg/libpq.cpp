#include "tasks/pg/libpq.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace zpark::tasks::pg {

namespace {

LibPq load() {
  void* handle = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw std::runtime_error(std::string("ZPARK_DATABASE_URL needs libpq, PostgreSQL's client library, "
                                         "which cannot be loaded (") +
                             ::dlerror() + "); install it: apt-get install libpq5");
  LibPq l;
  auto bind = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, name));
    if (!fn) throw std::runtime_error(std::string("libpq.so.5 lacks ") + name + "; install libpq5 version 12 or newer");
  };
#define ZPARK_LIBPQ_BIND(name) bind(l.name, #name);
  ZPARK_LIBPQ_FUNCTIONS(ZPARK_LIBPQ_BIND)
#undef ZPARK_LIBPQ_BIND
  return l;  // the handle stays open for the life of the process
}

}  // namespace

const LibPq& lib() {
  static const LibPq table = load();  // a throw leaves it unset: the next call tries again
  return table;
}

}  // namespace zpark::tasks::pg
