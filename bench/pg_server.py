#!/usr/bin/env python3
"""A throw-away PostgreSQL for the bench scripts: test/support/pg_cluster.py's PgCluster,
started with the settings asked for, until SIGTERM/SIGINT (then stopped by its PID and its
directory removed).

    python3 bench/pg_server.py [--durable]

Prints, each on its own line, once the server answers:
    url postgresql://postgres@127.0.0.1:PORT/zpark
    port PORT
    psql /usr/lib/postgresql/N/bin/psql
    postmaster PID
    settings fsync=on synchronous_commit=on full_page_writes=on wal_sync_method=fdatasync
    version 15.18 (Debian 15.18-0+deb12u1)
    data /tmp/zpark-pg-XXXX/data
    ready
--durable turns fsync and full_page_writes back on (PgCluster turns them off for tests), so
that a commit waits for the disk as on a real server; synchronous_commit is on either way.
Exit 77 when PostgreSQL's programs are missing.
"""
import argparse
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "support"))
from pg_cluster import MISSING, PgCluster, find_bin  # noqa: E402

SHOWN = ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--durable", action="store_true",
                    help="fsync=on, full_page_writes=on, synchronous_commit=on")
    a = ap.parse_args()
    if not PgCluster.available():
        print(MISSING, file=sys.stderr)
        return 77
    # Blocked from the start and taken with sigwait: no window in which a TERM is missed.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    pg = PgCluster()
    try:
        if a.durable:
            # All three take effect on a reload (no restart): ALTER SYSTEM, then pg_reload_conf.
            pg.psql("ALTER SYSTEM SET fsync = on;\nALTER SYSTEM SET full_page_writes = on;\n"
                    "ALTER SYSTEM SET synchronous_commit = on;\nSELECT pg_reload_conf();")
        shown = " ".join(f"{k}={pg.psql(f'SHOW {k}')}" for k in SHOWN)
        if a.durable and "fsync=on" not in shown.split():
            print(f"fsync is still off after the reload: {shown}", file=sys.stderr)
            return 1
        print(f"url {pg.url}\nport {pg.port}\npsql {os.path.join(find_bin(), 'psql')}\n"
              f"postmaster {pg._postmaster_pid()}\nsettings {shown}\n"
              f"version {pg.psql('SHOW server_version')}\ndata {pg.data_dir}\nready",
              flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        pg.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
