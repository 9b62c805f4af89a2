#include "test/tasks/faulty_disk.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace zpark::test {

namespace {

struct State {
  int code = SQLITE_OK;  // SQLITE_OK: writes pass
  std::size_t failed = 0;
};
State state;

sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs faulty_vfs;

// Our file: the real VFS's file object lives right behind it (szOsFile covers both).
struct File {
  sqlite3_file base;
  sqlite3_file* real;
};

sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

int x_close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
int x_read(sqlite3_file* f, void* p, int n, sqlite3_int64 off) { return real(f)->pMethods->xRead(real(f), p, n, off); }
int x_write(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
  if (state.code != SQLITE_OK) {
    ++state.failed;
    return state.code;
  }
  return real(f)->pMethods->xWrite(real(f), p, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (state.code != SQLITE_OK) {
    ++state.failed;
    return state.code == SQLITE_FULL ? SQLITE_FULL : SQLITE_IOERR_TRUNCATE;
  }
  return real(f)->pMethods->xTruncate(real(f), size);
}
int x_sync(sqlite3_file* f, int flags) { return real(f)->pMethods->xSync(real(f), flags); }
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return real(f)->pMethods->xFileSize(real(f), size); }
int x_lock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
int x_unlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
int x_check_reserved(sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); }
int x_file_control(sqlite3_file* f, int op, void* arg) { return real(f)->pMethods->xFileControl(real(f), op, arg); }
int x_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int x_device(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** p) {
  return real(f)->pMethods->xShmMap(real(f), page, size, extend, p);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) { return real(f)->pMethods->xShmLock(real(f), offset, n, flags); }
void x_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) { return real(f)->pMethods->xFetch(real(f), off, n, p); }
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return real(f)->pMethods->xUnfetch(real(f), off, p); }

const sqlite3_io_methods methods = {
    3,          x_close,          x_read,         x_write,        x_truncate,   x_sync,        x_file_size,
    x_lock,     x_unlock,         x_check_reserved, x_file_control, x_sector_size, x_device,   x_shm_map,
    x_shm_lock, x_shm_barrier,    x_shm_unmap,    x_fetch,        x_unfetch,
};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  auto* file = reinterpret_cast<File*>(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  int rc = real_vfs->xOpen(real_vfs, name, file->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even after a failed open.
  file->base.pMethods = file->real->pMethods ? &methods : nullptr;
  return rc;
}

void install() {
  if (real_vfs) return;
  real_vfs = sqlite3_vfs_find("unix");
  if (!real_vfs) throw std::runtime_error("no unix VFS in this SQLite");
  faulty_vfs = *real_vfs;
  faulty_vfs.pNext = nullptr;
  faulty_vfs.zName = "zpark-faulty-disk";
  faulty_vfs.szOsFile = static_cast<int>(sizeof(File)) + real_vfs->szOsFile;
  faulty_vfs.xOpen = x_open;
  if (sqlite3_vfs_register(&faulty_vfs, 1) != SQLITE_OK) throw std::runtime_error("cannot register the faulty VFS");
}

}  // namespace

FaultyDisk::FaultyDisk() {
  install();
  state = {};
}
FaultyDisk::~FaultyDisk() { state.code = SQLITE_OK; }
void FaultyDisk::fail_writes(int sqlite_code) { state.code = sqlite_code; }
void FaultyDisk::heal() { state.code = SQLITE_OK; }
bool FaultyDisk::failing() const { return state.code != SQLITE_OK; }
std::size_t FaultyDisk::failed_writes() const { return state.failed; }

}  // namespace zpark::test
