// libchaos-disk.so: an LD_PRELOAD shim for bench/chaos.sh that makes a directory's disk full
// or read-only on command, without root: while the file CHAOS_DISK_FLAG exists, every write,
// truncate or allocation on a file under CHAOS_DISK_DIR fails with the errno named in the
// flag file ("ENOSPC", the default, or "EROFS"); with EROFS, opening a file there for writing
// fails too. Reads, sockets, stderr and files elsewhere are untouched. SQLite sees exactly
// what a full or read-only file system gives it (SQLITE_FULL, SQLITE_IOERR_WRITE).
// Built by chaos.sh itself (g++ -shared), so bench/CMakeLists.txt is not needed.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

const char* dir() {
  static const char* d = std::getenv("CHAOS_DISK_DIR");
  return d && *d ? d : nullptr;
}

// 0 when writes pass, else the errno to fail them with.
int armed() {
  static const char* flag = std::getenv("CHAOS_DISK_FLAG");
  if (!flag || !dir()) return 0;
  static int (*real_open)(const char*, int, ...) = reinterpret_cast<int (*)(const char*, int, ...)>(dlsym(RTLD_NEXT, "open"));
  static ssize_t (*real_read)(int, void*, size_t) = reinterpret_cast<ssize_t (*)(int, void*, size_t)>(dlsym(RTLD_NEXT, "read"));
  int fd = real_open(flag, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[16] = {};
  real_read(fd, text, sizeof text - 1);
  ::close(fd);
  return std::strncmp(text, "EROFS", 5) == 0 ? EROFS : ENOSPC;
}

bool under_dir(const char* path) {
  const char* d = dir();
  const std::size_t n = std::strlen(d);
  return std::strncmp(path, d, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

bool fd_under_dir(int fd) {
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  return under_dir(path);
}

// The errno to fail an operation on fd with, or 0.
int fails(int fd) {
  const int e = armed();
  return e && fd_under_dir(fd) ? e : 0;
}

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

#define CHAOS_FAIL_FD(fd, ret)       \
  if (const int e_ = fails(fd)) {    \
    errno = e_;                      \
    return ret;                      \
  }

extern "C" {

ssize_t write(int fd, const void* p, size_t n) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  if (fd > 2) CHAOS_FAIL_FD(fd, -1);
  return real(fd, p, n);
}

ssize_t pwrite(int fd, const void* p, size_t n, off_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  CHAOS_FAIL_FD(fd, -1);
  return real(fd, p, n, off);
}

ssize_t pwrite64(int fd, const void* p, size_t n, off64_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  CHAOS_FAIL_FD(fd, -1);
  return real(fd, p, n, off);
}

int ftruncate(int fd, off_t size) {
  static auto real = next<int (*)(int, off_t)>("ftruncate");
  CHAOS_FAIL_FD(fd, -1);
  return real(fd, size);
}

int ftruncate64(int fd, off64_t size) {
  static auto real = next<int (*)(int, off64_t)>("ftruncate64");
  CHAOS_FAIL_FD(fd, -1);
  return real(fd, size);
}

int fallocate(int fd, int mode, off_t off, off_t len) {
  static auto real = next<int (*)(int, int, off_t, off_t)>("fallocate");
  CHAOS_FAIL_FD(fd, -1);
  return real(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len) {
  static auto real = next<int (*)(int, int, off64_t, off64_t)>("fallocate64");
  CHAOS_FAIL_FD(fd, -1);
  return real(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len) {
  static auto real = next<int (*)(int, off_t, off_t)>("posix_fallocate");
  if (const int e = fails(fd)) return e;  // returns the error, errno untouched
  return real(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len) {
  static auto real = next<int (*)(int, off64_t, off64_t)>("posix_fallocate64");
  if (const int e = fails(fd)) return e;
  return real(fd, off, len);
}

// A read-only file system refuses to open its files for writing (SQLite then opens the
// database read-only and fails at the first write, as it would there).
static int open_impl(const char* name, const char* path, int flags, mode_t mode) {
  using Open = int (*)(const char*, int, ...);
  static auto real_open = next<Open>("open");
  static auto real_open64 = next<Open>("open64");
  if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) && path && dir() && under_dir(path) && armed() == EROFS) {
    errno = EROFS;
    return -1;
  }
  return (std::strcmp(name, "open64") == 0 ? real_open64 : real_open)(path, flags, mode);
}

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  return open_impl("open", path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  return open_impl("open64", path, flags, mode);
}

}  // extern "C"
