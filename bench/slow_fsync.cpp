// libbench-slow-fsync.so: an LD_PRELOAD shim that makes fsync/fdatasync take SLOW_FSYNC_US
// microseconds longer (default 4000), to measure Zpark on a disk slower than this machine's:
// the calling thread sleeps, exactly as it would waiting for a slow device, and uses no CPU.
// Used by bench/relay.sh; real disks range from ~0.1 ms (local NVMe) to 5-10 ms (network or
// rotating disks), and this machine's own disk was seen at both ends on one afternoon.
#include <dlfcn.h>
#include <time.h>

#include <cstdlib>

namespace {

using SyncFn = int (*)(int);

long delay_us() {
  static const long d = [] {
    const char* s = std::getenv("SLOW_FSYNC_US");
    return s ? std::atol(s) : 4000L;
  }();
  return d;
}

void pause_after_sync() {
  const long us = delay_us();
  if (us <= 0) return;
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

SyncFn next(const char* name) { return reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, name)); }

}  // namespace

extern "C" int fsync(int fd) {
  static const SyncFn real = next("fsync");
  const int r = real(fd);
  pause_after_sync();
  return r;
}

extern "C" int fdatasync(int fd) {
  static const SyncFn real = next("fdatasync");
  const int r = real(fd);
  pause_after_sync();
  return r;
}
