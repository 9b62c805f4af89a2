#!/usr/bin/env python3
"""Failover time of the PostgreSQL outbox over KILLS kill -9s (issue 15): two Zpark instances,
A and B, on one throw-away PostgreSQL, Webex emulator answering after DELAY_MS so that lanes
have backlogs. Each kill:

  1. RECIPIENTS new recipients get PER alerts each, posted to A and B in turn (one client);
  2. once every lane has delivered its first alert, the owner of a lane that still has a
     backlog is found (pg_locks -> backend pid -> the instance whose socket it serves) and
     killed with SIGKILL;
  3. lock taken: pg_locks polled every POLL_MS until a backend of the survivor holds each of
     the victim's lanes with a backlog;
     first delivery: the emulator's "created" time (wall clock, ms) of the survivor's first
     message in that lane (a copy the victim had in flight and the survivor sent again does
     not count, see test/ha/ha_test.py first_new_deliveries);
  4. everything delivered: lost (must be 0), repeats (bound WEBEX_POOL_SIZE per kill), order
     per recipient; the victim restarted on the same database, ready, then SETTLE s of quiet.

Prints one line per kill and min/median/max of both times against the design's bound (a
survivor scans for ownerless lanes with work once a second: takeover ~1 s after a kill -9).

    python3 bench/failover.py [--zpark build-bench/app/zpark] [--emulator .../webex-emulator]
Environment (defaults): KILLS=10 RECIPIENTS=4 PER=25 DELAY_MS=100 POOL=4 POLL_MS=5 SETTLE=1
  BOUND_S=1.0, ZPARK_BENCH_BUILD (binaries' build directory, default build-bench), KEEP_TMP=1.
  POLL_MS is the pause between pg_locks polls, made on one psql session kept open.
Exit 0 when nothing was lost, order held and repeats stayed within the pool (the times are
figures, not a verdict); 1 otherwise; 77 when PostgreSQL is missing. Standard library only;
reuses test/ha/ha_test.py's helpers and test/support/pg_cluster.py (PostgreSQL with the test
settings: fsync off, which does not change lock or delivery timing).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "ha"))
import ha_test as ha  # noqa: E402
from ha_test import (Emulator, Zpark, backends_of, first_new_deliveries, kill_all,  # noqa: E402
                     lane_holders, pending_by_recipient, subject_of, wait_until)
from pg_cluster import PgCluster, find_bin  # noqa: E402  (test/support, on sys.path by ha_test)


class PsqlSession:
    """One psql kept open on a pipe: a query answers in ~0.2 ms where a psql run per query
    (PgCluster.psql) takes ~10 ms, which would blur the lock-taken time. .psql(sql) gives what
    PgCluster.psql gives, so ha_test's lane_holders takes either."""

    def __init__(self, pg):
        self.proc = subprocess.Popen(
            [os.path.join(find_bin(), "psql"), "-X", "-A", "-t", "-q", "-h", "127.0.0.1", "-p",
             str(pg.port), "-U", "postgres", "-d", "zpark"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env={"PATH": "/usr/bin:/bin", "PGOPTIONS": "-c client_min_messages=warning"})
        ha.PROCS.append(self.proc)

    def psql(self, sql):
        self.proc.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo __end__\n")
        self.proc.stdin.flush()
        out = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("psql session ended")
            if line.rstrip("\n") == "__end__":
                return "".join(out).rstrip("\n")
            out.append(line)

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:
            ha.kill(self.proc)


def env_int(name, default):
    return int(os.environ.get(name, default))


def machine_note():
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return (f"machine: {os.cpu_count()} cores, load average {load} "
            f"(other work on the box skews every figure)")


def source_note():
    try:
        head = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h %ad",
                               "--date=format:%Y-%m-%d %H:%M"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no",
                                "--", ".", ":!bench"], capture_output=True, text=True,
                               timeout=10).stdout.count("\n")
        return f"zpark: commit {head}, plus uncommitted changes in {dirty} files outside bench/"
    except Exception:
        return "zpark: commit unknown"


def fmt(v):
    return "-" if v is None else f"{v:.3f}"


def one_kill(k, ctx, cfg):
    """Returns a dict of figures for kill number k (1-based)."""
    emu, pg, zs = ctx["emu"], ctx["pg"], ctx["zs"]
    emu.reset()
    emu.faults({"delay_ms": cfg.delay_ms})
    rcpt = [f"f{k}r{j}@example.com" for j in range(cfg.recipients)]
    posted = []  # (to, subject) in post order: one client, so accept order = post order
    bad = []
    for i in range(cfg.per):
        for j, to in enumerate(rcpt):
            z = zs[(i + j) % 2]
            subject = f"failover k{k} {to.split('@')[0]} n{i:03d}"
            st, text = z.post({"to": to, "subject": subject, "message": f"kill {k} alert {i}"})
            if st == 200:
                posted.append((to, subject))
            else:
                bad.append((z.name, st, text[:120]))
    # Every lane started (its first alert at Webex): its owner is settled and it has a backlog.
    firsts = {f"failover k{k} {to.split('@')[0]} n000" for to in rcpt}
    wait_until("lanes started", lambda: firsts <= {subject_of(m) for m in emu.messages()}, 10, 0.02)
    holders = lane_holders(pg)
    pending = pending_by_recipient(pg)
    backends = {z.name: backends_of(pg, z.proc.pid) for z in zs}
    owner = {to: next((z for z in zs if holders.get(to) in backends[z.name]), None) for to in rcpt}
    # The lane to measure: the one with the largest backlog that has an owner.
    candidates = sorted((to for to in rcpt if owner[to] and pending.get(to, 0) > 0),
                        key=lambda to: -pending.get(to, 0))
    if not candidates:
        return {"k": k, "error": f"no owned lane with a backlog (holders {holders}, pending {pending})"}
    lane = candidates[0]
    victim = owner[lane]
    survivor = next(z for z in zs if z is not victim)
    victim_backends = backends[victim.name]
    victim_lanes = [to for to in rcpt if owner[to] is victim and pending.get(to, 0) > 0]
    # kill -9, then pg_locks until a backend that is not the victim's holds each of its lanes
    # (a poll's time is the middle of its query, a fraction of a millisecond wide).
    kill_mono, kill_wall = time.monotonic(), time.time()
    victim.kill9()
    lock_taken = {}

    def retaken():
        before = time.monotonic()
        h = lane_holders(ctx["poll"])
        now = (before + time.monotonic()) / 2 - kill_mono
        for to in victim_lanes:
            if to not in lock_taken and to in h and h[to] not in victim_backends:
                lock_taken[to] = now
        return len(lock_taken) == len(victim_lanes)

    wait_until("lanes retaken", retaken, 15, cfg.poll_ms / 1000)
    want = {s for _, s in posted}
    wait_until("all delivered", lambda: want <= {subject_of(m) for m in emu.messages()}, 60, 0.1)
    msgs = emu.messages()
    got = [subject_of(m) for m in msgs]
    counts = {}
    for s in got:
        counts[s] = counts.get(s, 0) + 1
    lost = [s for s in want if s not in counts]
    repeats = sum(n - 1 for s, n in counts.items() if s in want)
    # Order per recipient: first copies in the order they reached Webex vs the accept order.
    order = 0
    for to in rcpt:
        sent = [s for t, s in posted if t == to]
        seen, firsts_seen = set(), []
        for s in got:
            if s in sent and s not in seen:
                seen.add(s)
                firsts_seen.append(s)
        order += sum(1 for a, b in zip(firsts_seen, [s for s in sent if s in seen]) if a != b)
    first_after = first_new_deliveries(msgs, kill_wall)
    delivered_after = {to: first_after.get(to) for to in victim_lanes}
    # Back to two instances: the victim again on the same database, then quiet.
    t = time.monotonic()
    victim.start()
    ready = wait_until("victim ready", victim.ready, 30, 0.05)
    restart_s = time.monotonic() - t if ready else None
    time.sleep(cfg.settle)
    return {"k": k, "victim": victim.name, "survivor": survivor.name, "lane": lane,
            "victim_lanes": victim_lanes, "pending": pending.get(lane, 0),
            "lock": lock_taken.get(lane), "lock_all": lock_taken,
            "first": delivered_after.get(lane), "first_all": delivered_after,
            "lost": len(lost), "repeats": repeats, "order": order, "accepted": len(posted),
            "not_accepted": bad, "restart": restart_s}


def stats_line(name, values, bound):
    vs = [v for v in values if v is not None]
    if not vs:
        return f"{name:<46} no figure"
    over = sum(1 for v in vs if v > bound)
    return (f"{name:<46} min {min(vs):6.3f}  median {statistics.median(vs):6.3f}  "
            f"max {max(vs):6.3f} s   bound ~{bound:g} s: {len(vs) - over}/{len(vs)} within"
            + ("" if len(vs) == len(values) else f" ({len(values) - len(vs)} not measured)"))


def main():
    build = os.environ.get("ZPARK_BENCH_BUILD", os.path.join(ROOT, "build-bench"))
    build = build if os.path.isabs(build) else os.path.join(ROOT, build)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zpark", default=os.path.join(build, "app", "zpark"))
    ap.add_argument("--emulator", default=os.path.join(build, "test", "emulator", "webex-emulator"))
    cfg = ap.parse_args()
    cfg.kills = env_int("KILLS", 10)
    cfg.recipients = env_int("RECIPIENTS", 4)
    cfg.per = env_int("PER", 25)
    cfg.delay_ms = env_int("DELAY_MS", 100)
    cfg.pool = env_int("POOL", 4)
    cfg.poll_ms = env_int("POLL_MS", 5)
    cfg.settle = float(os.environ.get("SETTLE", "1"))
    cfg.bound = float(os.environ.get("BOUND_S", "1.0"))
    if not PgCluster.available():
        print("SKIP: PostgreSQL's programs not found (deploy/install-deps.sh --test)")
        return 77
    for b in (cfg.zpark, cfg.emulator):
        if not os.access(b, os.X_OK):
            print(f"{b} is missing: build it (bench/relay.sh builds both into $ZPARK_BENCH_BUILD)")
            return 1
    ha.POOL = cfg.pool  # Zpark() passes ha_test.POOL as WEBEX_POOL_SIZE
    work = tempfile.mkdtemp(prefix="zpark-failover-")
    print(source_note())
    print(machine_note())
    print(f"{cfg.kills} kills; each: {cfg.recipients} new recipients x {cfg.per} alerts posted to A "
          f"and B in turn, Webex emulator delay {cfg.delay_ms} ms per message, WEBEX_POOL_SIZE="
          f"{cfg.pool}, pg_locks polled every {cfg.poll_ms} ms on one open psql session")
    results, pg = [], None
    t0 = time.monotonic()
    try:
        certs = os.path.join(work, "certs")
        subprocess.run(["bash", os.path.join(ROOT, "test", "support", "make_certs.sh"), certs],
                       check=True, timeout=60, stdout=subprocess.DEVNULL)
        pg = PgCluster()
        print(f"PostgreSQL {pg.psql('SHOW server_version')} at {pg.url}: fsync="
              f"{pg.psql('SHOW fsync')} synchronous_commit={pg.psql('SHOW synchronous_commit')} "
              f"(the tests' settings; durability does not enter a takeover)")
        emu = Emulator(cfg.emulator, certs, work)
        zs = [Zpark("a", cfg.zpark, work, emu, certs, pg.url)]
        if not wait_until("A ready", zs[0].ready, 30, 0.1):  # A creates the schema first
            raise RuntimeError(f"zpark a not ready: {zs[0].get('/readyz')}")
        zs.append(Zpark("b", cfg.zpark, work, emu, certs, pg.url))
        if not wait_until("B ready", zs[1].ready, 30, 0.1):
            raise RuntimeError(f"zpark b not ready: {zs[1].get('/readyz')}")
        ctx = {"emu": emu, "pg": pg, "zs": zs, "poll": PsqlSession(pg)}
        print()
        print(f"{'kill':<5} {'victim':<7} {'lane':<16} {'backlog':>7} {'lock_s':>7} {'first_s':>8} "
              f"{'lanes':>5} {'worst_lock':>10} {'worst_first':>11} {'lost':>4} {'rep':>4} "
              f"{'order':>5} {'restart_s':>9}")
        for k in range(1, cfg.kills + 1):
            r = one_kill(k, ctx, cfg)
            results.append(r)
            if "error" in r:
                print(f"{k:<5} ERROR {r['error']}", flush=True)
                continue
            wl = max((v for v in r["lock_all"].values()), default=None)
            wf = max((v for v in r["first_all"].values() if v is not None), default=None)
            print(f"{k:<5} {r['victim']:<7} {r['lane'].split('@')[0]:<16} {r['pending']:>7} "
                  f"{fmt(r['lock']):>7} {fmt(r['first']):>8} {len(r['victim_lanes']):>5} "
                  f"{fmt(wl):>10} {fmt(wf):>11} {r['lost']:>4} {r['repeats']:>4} {r['order']:>5} "
                  f"{fmt(r['restart']):>9}"
                  + (f"  not accepted: {r['not_accepted'][:2]}" if r["not_accepted"] else ""),
                  flush=True)
    finally:
        kill_all()
        if pg is not None:
            pg.close()
    ok_runs = [r for r in results if "error" not in r]
    lost = sum(r["lost"] for r in ok_runs)
    repeats = [r["repeats"] for r in ok_runs]
    order = sum(r["order"] for r in ok_runs)
    print()
    print(f"== failover over {len(ok_runs)} kills (of {cfg.kills}) in {time.monotonic() - t0:.0f} s; "
          f"times from the kill -9 (the measured lane: the victim's largest backlog)")
    print(stats_line("kill -9 -> survivor holds the lane's lock", [r["lock"] for r in ok_runs], cfg.bound))
    print(stats_line("kill -9 -> survivor's first delivery in it", [r["first"] for r in ok_runs], cfg.bound))
    print(stats_line("  worst of the victim's lanes: lock",
                     [max(r["lock_all"].values(), default=None) for r in ok_runs], cfg.bound))
    print(stats_line("  worst of the victim's lanes: first delivery",
                     [max((v for v in r["first_all"].values() if v is not None), default=None)
                      for r in ok_runs], cfg.bound))
    print(f"(first delivery includes the survivor's read of the lane and one Webex round trip; the "
          f"emulator's delay of {cfg.delay_ms} ms comes after it records the message)")
    print(f"accepted {sum(r['accepted'] for r in ok_runs)}, lost {lost} (must be 0), out of order "
          f"{order} (must be 0), repeats {sum(repeats)} in {len(ok_runs)} kills, at most "
          f"{max(repeats, default=0)} in one (bound WEBEX_POOL_SIZE = {cfg.pool})")
    print(machine_note())
    good = (len(ok_runs) == cfg.kills and lost == 0 and order == 0
            and max(repeats, default=0) <= cfg.pool)
    if good and not os.environ.get("KEEP_TMP"):
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"logs in {work}")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
