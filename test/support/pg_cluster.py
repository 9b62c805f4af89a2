#!/usr/bin/env python3
"""A throw-away PostgreSQL server for test and bench scripts (standard library only); the
same as test/support/pg_cluster.hpp for C++.

    with PgCluster() as pg:          # initdb, start, CREATE DATABASE zpark: about 2 s
        pg.psql("select 1")          # -> "1"
        run_zpark(database_url=pg.url)
        pg.stop(); pg.start()        # same data directory, same port
        pg.reset_database()          # database zpark dropped (sessions ended) and recreated

Its own directory under /tmp, its own loopback port, trust authentication, fsync and
full_page_writes off. As root the server runs as user postgres (PostgreSQL refuses root);
otherwise as the calling user. Every wait is bounded; failures raise PgError with the
server's log. The binaries come from ZPARK_PG_BINDIR, else the newest
/usr/lib/postgresql/N/bin, else PATH (PgCluster.available() says whether they were found).

python3 test/support/pg_cluster.py --selftest   start, select 1, stop, start, stop
"""
import argparse
import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PROGRAMS = ("initdb", "pg_ctl", "psql")


class PgError(RuntimeError):
    pass


def find_bin():
    def complete(d):
        return all(os.access(os.path.join(d, p), os.X_OK) for p in PROGRAMS)

    env = os.environ.get("ZPARK_PG_BINDIR")
    if env:
        return env if complete(env) else None
    versions = []
    try:
        for name in os.listdir("/usr/lib/postgresql"):
            d = os.path.join("/usr/lib/postgresql", name, "bin")
            if name.isdigit() and complete(d):
                versions.append((int(name), d))
    except OSError:
        pass
    if versions:
        return max(versions)[1]
    for d in os.environ.get("PATH", "").split(":"):
        if d and complete(d):
            return d
    return None


MISSING = ("PostgreSQL's programs (initdb, pg_ctl, psql) were not found under "
           "/usr/lib/postgresql/N/bin, ZPARK_PG_BINDIR or PATH; install them with "
           "deploy/install-deps.sh --test (Debian package postgresql), or point "
           "ZPARK_PG_BINDIR at their directory")


def _alive(pid):
    """Alive and not a zombie (a killed postmaster that init has not reaped yet is gone)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return True


def _wait_gone(pid, timeout):
    until = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > until:
            return False
        time.sleep(0.01)
    return True


def _children_of(parent):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            if int(stat[stat.rindex(")") + 2:].split()[1]) == parent:
                out.append(int(name))
        except (OSError, ValueError, IndexError):
            pass
    return out


def _free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """initdb + start + CREATE DATABASE zpark on construction (start=False: initdb only)."""

    def __init__(self, start=True):
        self._bin = find_bin()
        if not self._bin:
            raise PgError(MISSING)
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PgError("PgCluster runs PostgreSQL as user postgres when run as root, and "
                              "there is no such user; install the postgresql package "
                              "(deploy/install-deps.sh --test)") from None
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
        # Under /tmp as root even when TMPDIR points elsewhere: user postgres must reach it.
        self.root = tempfile.mkdtemp(prefix="zpark-pg-",
                                     dir="/tmp" if self._as_postgres else None)
        self.data_dir = os.path.join(self.root, "data")
        self.log_file = os.path.join(self.root, "server.log")
        self.port = 0
        self._closed = False
        atexit.register(self.close)
        try:
            os.chmod(self.root, 0o755)
            os.mkdir(self.data_dir, 0o700)
            open(self.log_file, "w").close()
            if self._as_postgres:
                os.chown(self.data_dir, self._uid, self._gid)
                os.chown(self.log_file, self._uid, self._gid)
            self.port = _free_loopback_port()
            # --no-sync: the directory dies with the test, waiting for the disk buys nothing.
            r = self._run(["initdb", "-D", self.data_dir, "-U", "postgres", "--auth=trust",
                           "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
                          server=True, timeout=60)
            if r.returncode != 0:
                raise PgError(f"initdb failed (exit {r.returncode}):\n{r.stdout}{r.stderr}")
            # fsync and full_page_writes off: a crash loses a test's data, never a user's.
            with open(os.path.join(self.data_dir, "postgresql.conf"), "a") as conf:
                conf.write(f"""
# pg_cluster.py
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.data_dir}'
fsync = off
synchronous_commit = on
full_page_writes = off
max_connections = 100
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %d '
""")
            if start:
                self.start()
                self._psql("postgres", ["-c", "CREATE DATABASE zpark"])
        except BaseException:
            self.close(kill=True)
            raise

    # -- what scripts use -------------------------------------------------------------------

    @staticmethod
    def available():
        return find_bin() is not None

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/zpark"

    def running(self):
        return _alive(self._postmaster_pid())

    def start(self):
        """Starts the server (same data directory and port) and waits until it answers."""
        if self.running():
            return
        # -w: pg_ctl returns once the server accepts connections (or after -t seconds).
        r = self._run(["pg_ctl", "-D", self.data_dir, "-l", self.log_file, "-w", "-t", "30",
                       "-s", "start"], server=True, timeout=40)
        if r.returncode != 0:
            raise PgError(f"PostgreSQL did not start (pg_ctl exit {r.returncode}): "
                          f"{r.stdout}{r.stderr}\nend of its log:\n{self.log(20)}")
        until = time.monotonic() + 10
        while True:
            try:
                self._psql("postgres", ["-c", "select 1"])
                return
            except PgError as e:
                if time.monotonic() > until:
                    raise PgError(f"PostgreSQL started but does not answer: {e}\n"
                                  f"end of its log:\n{self.log(20)}") from None
            time.sleep(0.05)

    def stop(self):
        """Fast shutdown (SIGINT), waits until the postmaster is gone; SIGKILL after 15 s."""
        if self.running():
            self._kill_server(signal.SIGINT, 15)

    def psql(self, sql):
        """Runs sql (a script: statements one by one) in database zpark; returns standard
        output without the final newline ("1" for "select 1"; columns separated by "|").
        Raises PgError with psql's standard error when it fails."""
        return self._psql("zpark", ["-f", "-"], sql)

    def reset_database(self):
        """Drops database zpark (ending the sessions connected to it) and creates it again."""
        self._psql("postgres", ["-c", "DROP DATABASE IF EXISTS zpark WITH (FORCE)",
                                "-c", "CREATE DATABASE zpark"])

    def log(self, lines=None):
        try:
            with open(self.log_file, errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:]) if lines else text

    def close(self, kill=False):
        """Stops the server by PID (immediate shutdown) and removes the directory."""
        if self._closed:
            return
        self._closed = True
        try:
            self._kill_server(signal.SIGKILL if kill else signal.SIGQUIT, 5)
        except PgError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the rest ---------------------------------------------------------------------------

    def _postmaster_pid(self):
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def _kill_server(self, sig, wait):
        pid = self._postmaster_pid()
        if not _alive(pid):
            return
        os.kill(pid, sig)
        if _wait_gone(pid, wait):
            return
        # Its children too: one left holding the shared memory would stop the next start.
        children = _children_of(pid)
        for p in [pid] + children:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        if not _wait_gone(pid, 5):
            raise PgError(f"the PostgreSQL postmaster {pid} survived SIGKILL")
        for p in children:
            _wait_gone(p, 2)
        # A killed postmaster leaves its lock files, and while the dead one is an unreaped
        # zombie (no init reaping in a container) the next postmaster takes it for alive.
        sock = os.path.join(self.data_dir, f".s.PGSQL.{self.port}")
        for f in (os.path.join(self.data_dir, "postmaster.pid"), sock + ".lock", sock):
            try:
                os.unlink(f)
            except OSError:
                pass

    def _run(self, argv, server=False, timeout=60, input=None, extra_env=None):
        """Runs one of the PostgreSQL programs with a clean environment, in self.root (the
        server's user must be able to enter the working directory), killed after timeout."""
        env = {"PATH": f"{self._bin}:/usr/bin:/bin", "HOME": self.root}
        env.update(extra_env or {})
        who = {}
        if server and self._as_postgres:
            who = {"user": self._uid, "group": self._gid, "extra_groups": []}
        # Files, not pipes, for the output: pg_ctl's postmaster must not hold our pipe open.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                r = subprocess.run([os.path.join(self._bin, argv[0])] + argv[1:], cwd=self.root,
                                   env=env, input=input.encode() if input is not None else None,
                                   stdin=None if input is not None else subprocess.DEVNULL,
                                   stdout=out, stderr=err, timeout=timeout, **who)
            except subprocess.TimeoutExpired:
                out.seek(0), err.seek(0)
                raise PgError(f"{' '.join(argv)} did not finish within {timeout} s; its output:\n"
                              f"{out.read().decode(errors='replace')}"
                              f"{err.read().decode(errors='replace')}") from None
            out.seek(0), err.seek(0)
            r.stdout = out.read().decode(errors="replace")
            r.stderr = err.read().decode(errors="replace")
        return r

    def _psql(self, database, args, input=None):
        r = self._run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                       "-p", str(self.port), "-U", "postgres", "-d", database] + args,
                      timeout=60, input=input,
                      extra_env={"PGCONNECT_TIMEOUT": "5",
                                 "PGOPTIONS": "-c client_min_messages=warning"})
        if r.returncode != 0:
            raise PgError(f"psql failed (exit {r.returncode}): {r.stderr}")
        return r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout


def selftest():
    t0 = time.monotonic()
    with PgCluster() as pg:
        started = time.monotonic() - t0
        assert pg.psql("select 1") == "1"
        pg.psql("create table t (n int); insert into t values (1), (2);")
        pg.stop()
        assert not pg.running()
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", pg.port)) != 0, "port still open after stop()"
        pg.start()
        assert pg.psql("select sum(n) from t") == "3"
        pg.reset_database()
        assert pg.psql("select count(*) from pg_tables where tablename = 't'") == "0"
        try:
            pg.psql("select * from no_such_table")
            raise AssertionError("a failing statement did not raise")
        except PgError as e:
            assert "no_such_table" in str(e), e
        pg.stop()
        root = pg.root
    assert not os.path.exists(root)
    print(f"pg_cluster selftest ok: {pg.url} (first start {started:.1f} s, "
          f"total {time.monotonic() - t0:.1f} s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--selftest", action="store_true",
                    help="start, select 1, stop, start, stop; exit 0 when all went right")
    a = ap.parse_args()
    if not a.selftest:
        ap.print_help()
        return 2
    if not PgCluster.available():
        print(MISSING, file=sys.stderr)
        return 1
    selftest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
