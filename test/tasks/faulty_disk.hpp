#pragma once
// A disk that fills up on command, for tests of what the outbox and the relay do then.
// Installs a SQLite VFS (the default from then on, for every connection opened later in this
// process) that passes everything to the "unix" VFS, except that while armed each write or
// truncate fails with the chosen SQLite code: SQLITE_FULL is what SQLite reports for ENOSPC,
// SQLITE_IOERR_WRITE for EROFS or EIO. SQLite takes the same error paths as on a real disk.
#include <cstddef>

namespace zpark::test {

class FaultyDisk {
 public:
  FaultyDisk();   // installs the VFS (once per process), disarmed
  ~FaultyDisk();  // disarms

  void fail_writes(int sqlite_code);  // from now on, until heal()
  void heal();
  bool failing() const;
  std::size_t failed_writes() const;  // since construction
};

}  // namespace zpark::test
