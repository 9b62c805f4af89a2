#!/usr/bin/env python3
"""High availability end to end (issue 15): two Zpark instances on one PostgreSQL outbox.

    python3 test/ha/ha_test.py --zpark build/app/zpark --emulator build/test/emulator/webex-emulator

Starts a throw-away PostgreSQL (test/support/pg_cluster.py), the Webex emulator and two
`zpark serve` (A and B) sharing the database, then runs the cases below; each prints one
PASS/FAIL line with its figures. Exit 1 when any case fails, 77 when PostgreSQL is missing.

1. storm + kill -9 A mid-storm: no loss, order per recipient, repeats <= pool size, takeover
   time of A's lanes by B <= 5 s; A restarted on the same database becomes ready.
1b. kill -9 of the instance delivering a lane with a backlog and no new traffic (the
   survivor's scan must find it): takeover <= 5 s, no loss, in order.
2. the same Zabbix retry to A then B: one task id, one Webex message.
3. an update accepted by B threads under the problem A sent (parentId).
4. a 429 seen by one instance holds back the other (emulator: no rate-limit violation, and
   nothing delivered sooner than 2.8 s after the 429).
5. PostgreSQL stopped: 503 naming the database, /readyz 503; started again: 200, nothing lost.
6. `zpark check` with an instance's settings: exit 0 and "Outbox: PostgreSQL at ... schema
   version 1"; a URL with a port nobody listens on: exit non-zero, the line says FAILED and
   names ZPARK_DATABASE_URL; a password in the URL (user:PASSWORD@, password=) never shown.

7. bot commands on A and B (SPARK_WEBHOOK_SECRET): the same signed webhook call for one
   Webex message to A then B: both 200 with one task id, and one reply (the handled message
   ids are in the database); another message to B only: one reply.
8. the webhook self-heal (ZPARK_WEBHOOK_CHECK_INTERVAL=1) on both: one webhook of each kind
   (messages, attachmentActions), not two; deleted in Webex, made again once, and
   zpark_webhook_repairs_total summed over A and B goes up by the number made again.
   Both cases restart A and B with those settings, and with the first ones after.

Options: --only CASE (storm, quiet, retry, thread, 429, outage, check, webhook_once,
repair_leader; repeatable), --keep.
Lane ownership is read from pg_locks (advisory locks in space LANES_SPACE, key FNV-1a of the
lane) and mapped to an instance through its sockets (/proc) and pg_stat_activity.client_port.
Standard library only. Every wait is bounded; every process started is killed by PID on exit.
Logs of each process stay in the work directory when a case fails (--keep keeps them always).
"""
import argparse
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import secrets
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from pg_cluster import PgCluster, PgError  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from chaos_client import order_violations  # noqa: E402  (the chaos bench's judge of order)

TOKEN = "x"
POOL = 4
LANES_SPACE = 0x7a706b01  # tasks/pg/store.cpp: advisory lock space of the lanes

# -- processes -----------------------------------------------------------------------------

PROCS = []  # every Popen started, killed by PID at exit


def kill(p):
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def kill_all():
    for p in PROCS:
        kill(p)


def wait_until(what, fn, timeout, step=0.05):
    """Calls fn until it returns something true; returns it, or None after timeout s."""
    until = time.monotonic() + timeout
    while True:
        try:
            v = fn()
        except Exception:
            v = None
        if v:
            return v
        if time.monotonic() > until:
            return None
        time.sleep(step)


def wait_for_line(path, pattern, proc, timeout):
    """Waits until the file holds a line matching pattern; returns the match (or raises)."""
    rx = re.compile(pattern)

    def look():
        with open(path, errors="replace") as f:
            m = rx.search(f.read())
        if not m and proc.poll() is not None:
            raise RuntimeError(f"{path}: process exited ({proc.returncode}) before '{pattern}'")
        return m

    until = time.monotonic() + timeout
    while True:
        m = look()
        if m:
            return m
        if time.monotonic() > until:
            raise RuntimeError(f"{path}: no line matching '{pattern}' within {timeout} s")
        time.sleep(0.05)


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# -- the Webex emulator --------------------------------------------------------------------

class Emulator:
    def __init__(self, binary, certs, work):
        self.log = os.path.join(work, "emulator.log")
        out = open(self.log, "w")
        self.proc = subprocess.Popen(
            [binary, "--cert", f"{certs}/server.pem", "--key", f"{certs}/server.key",
             "--port", "0", "--token", "test-token"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        self.port = int(wait_for_line(self.log, r"listening [^\s:]+:(\d+)", self.proc, 30).group(1))
        self.ctx = ssl.create_default_context(cafile=f"{certs}/ca.pem")

    def call(self, method, path, body=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        try:
            c.request(method, path, json.dumps(body) if body is not None else None,
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            if r.status != 200:
                raise RuntimeError(f"emulator {method} {path}: {r.status} {data[:300]!r}")
            return json.loads(data)
        finally:
            c.close()

    def messages(self):
        return self.call("GET", "/_emu/messages")["messages"]

    def requests(self):
        return self.call("GET", "/_emu/requests")["requests"]

    def stats(self):
        return self.call("GET", "/_emu/stats")

    def faults(self, f):
        self.call("POST", "/_emu/faults", f)

    def reset(self):
        self.call("POST", "/_emu/reset", {})

    def api(self, method, path, body=None):
        """A Webex route (/v1/...) with the bot's token: (status, parsed body or None)."""
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        try:
            headers = {"Authorization": "Bearer test-token"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            c.request(method, path, json.dumps(body) if body is not None else None, headers)
            r = c.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data else None)
        finally:
            c.close()

    def webhooks(self):
        """The bot's webhooks as GET /v1/webhooks lists them."""
        status, body = self.api("GET", "/v1/webhooks?max=1000")
        if status != 200:
            raise RuntimeError(f"emulator GET /v1/webhooks: {status} {body}")
        return body["items"]


def subject_of(m):
    """The alert subject of a message: Zpark writes it in bold at the start of the markdown."""
    md = m.get("markdown", "")
    i = md.find("**")
    j = md.find("**", i + 2) if i >= 0 else -1
    return md[i + 2:j] if j > i else ""


def created_s(m):
    """The message's "created" (ISO 8601 UTC, ms) as seconds since the epoch."""
    try:
        return datetime.datetime.strptime(m["created"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (KeyError, ValueError):
        return None


def with_subject(messages, subject):
    return [m for m in messages if subject in m.get("markdown", "")]


# -- Zpark ---------------------------------------------------------------------------------

class Zpark:
    def __init__(self, name, binary, work, emu, certs, db_url):
        self.name, self.binary = name, binary
        self.data = os.path.join(work, f"data-{name}")
        os.makedirs(self.data, exist_ok=True)
        self.env = dict(os.environ, ZPARK_API_TOKEN=TOKEN, SPARK_ACCESS_TOKEN="test-token",
                        WEBEX_API_URL=f"https://127.0.0.1:{emu.port}/v1",
                        WEBEX_CA_FILE=f"{certs}/ca.pem", ZPARK_DATA_DIR=self.data,
                        ZPARK_LISTEN="127.0.0.1:0", ZPARK_DATABASE_URL=db_url,
                        WEBEX_POOL_SIZE=str(POOL), ZPARK_LOG_LEVEL="info")
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        self.starts = 0
        self.proc = None
        self.start()

    def start(self):
        self.starts += 1
        self.log = os.path.join(os.path.dirname(self.data), f"zpark-{self.name}-{self.starts}.log")
        out = open(self.log, "w")
        self.proc = subprocess.Popen([self.binary, "serve"], env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        self.port = int(wait_for_line(self.log, r"msg=listening address=127\.0\.0\.1:(\d+)",
                                      self.proc, 60).group(1))

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def get(self, path, timeout=5):
        return http_call(self.port, "GET", path, None, timeout)

    def ready(self):
        return self.get("/readyz")[0] == 200

    def post(self, body, timeout=10):
        return http_call(self.port, "POST", "/api/v1/alert", body, timeout)

    def stop(self):
        """SIGTERM, then SIGKILL when it is still running after 10 s."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill(self.proc)

    def webhook(self, body, signature):
        """POST /api/v1/webhook with the raw body and X-Spark-Signature: (status, text)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("POST", "/api/v1/webhook", body.encode(),
                      {"Content-Type": "application/json", "X-Spark-Signature": signature})
            r = c.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        except Exception as e:
            return "ERR", f"{type(e).__name__}: {e}"
        finally:
            c.close()

    def metric(self, name):
        """The value of an unlabelled metric in GET /metrics, or None."""
        status, text = self.get("/metrics")
        m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M) if status == 200 else None
        return float(m.group(1)) if m else None


def http_call(port, method, path, body=None, timeout=5, conn=None):
    """(status, text); status "ERR" and the exception's name when there was no answer."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Token": TOKEN}
        if body is not None:
            headers["Content-Type"] = "application/json"
        c.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    except Exception as e:
        return "ERR", f"{type(e).__name__}: {e}"
    finally:
        if conn is None:
            c.close()


def taskid(text):
    try:
        return json.loads(text)["taskid"]
    except Exception:
        return None


# -- PostgreSQL views ----------------------------------------------------------------------

def fnv1a(s):
    h = 2166136261
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def lane_holders(pg):
    """{lane text: backend pid holding its advisory lock} for the lanes named in zpark_tasks."""
    rows = pg.psql(f"select l.objid, l.pid from pg_locks l where l.locktype = 'advisory' "
                   f"and l.classid = {LANES_SPACE} and l.granted;\n"
                   f"select '#';\nselect distinct lane from zpark_tasks;")
    locks, lanes = rows.split("#")
    by_key = {int(k): int(p) for k, p in (r.split("|") for r in locks.split() if "|" in r)}
    return {lane: by_key[fnv1a(lane)] for lane in lanes.split() if fnv1a(lane) in by_key}


def backends_of(pg, pid):
    """PostgreSQL backend pids serving the connections of process pid (its sockets' local
    ports, from /proc, matched against pg_stat_activity.client_port)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    if cols[9] in inodes:
                        ports.add(int(cols[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    out = pg.psql("select pid, client_port from pg_stat_activity where client_port is not null")
    return {int(b) for b, port in (r.split("|") for r in out.split() if "|" in r) if int(port) in ports}


def first_new_deliveries(messages, since_wall):
    """{recipient: seconds from since_wall to its first message created after it that is the
    last copy of its alert}. A copy followed by another is one the dead instance had in flight
    (the survivor sent it again), so it does not count as the survivor's."""
    last = {}
    for i, m in enumerate(messages):
        last[subject_of(m)] = i
    out = {}
    for i, m in enumerate(messages):
        at = created_s(m)
        if at is not None and at > since_wall and last[subject_of(m)] == i:
            out.setdefault(m.get("toPersonEmail", "").lower(), at - since_wall)
    return out


def pending_by_recipient(pg):
    out = pg.psql("select recipient, count(*) from zpark_tasks where state = 'pending' group by 1")
    return {r.split("|")[0]: int(r.split("|")[1]) for r in out.split() if "|" in r}


# -- results -------------------------------------------------------------------------------

RESULTS = []


def report(name, ok, figures):
    RESULTS.append((name, ok))
    print(f"{'PASS' if ok else 'FAIL'} {name}: {figures}", flush=True)


# -- case 1: storm, kill -9 A, takeover ------------------------------------------------------

def judge(runs, messages, prefix):
    """bench/chaos_client.py's judge: lost, repeats, order per recipient."""
    first_pos, copies = {}, {}
    for i, m in enumerate(messages):
        s = subject_of(m)
        if not s.startswith(prefix):
            continue
        copies[s] = copies.get(s, 0) + 1
        first_pos.setdefault(s, i)
    accepted = [r for r in runs if r["status"] == 200]
    lost = [r for r in accepted if r["subject"] not in first_pos]
    delivered = [r for r in accepted if r["subject"] in first_pos]
    repeats = sum(n - 1 for n in copies.values())
    # An alert answered 200 before another was even sent must be delivered first.
    return accepted, lost, repeats, order_violations(delivered, first_pos)


def case_storm(ctx):
    emu, pg, a, b = ctx["emu"], ctx["pg"], ctx["a"], ctx["b"]
    recipients = [f"r{i}@example.com" for i in range(6)]
    # A little Webex latency so that lanes have a backlog when A dies.
    emu.faults({"delay_ms": 40})
    runs, lock = [], threading.Lock()
    stop, a_dead = threading.Event(), threading.Event()
    prefix = "storm "

    def client(c):
        conns = {}
        n = 0
        while not stop.is_set():
            n += 1
            z = a if (n + c) % 2 == 0 and not a_dead.is_set() else b
            to = recipients[(c + n) % len(recipients)]
            subject = f"{prefix}c{c} n{n}"
            conn = conns.get(z.name) or http.client.HTTPConnection("127.0.0.1", z.port, timeout=5)
            conns[z.name] = conn
            sent = time.monotonic()
            status, text = http_call(z.port, "POST", "/api/v1/alert",
                                     {"to": to, "subject": subject, "message": f"details {subject}"},
                                     conn=conn)
            answered = time.monotonic()
            if status != 200:
                conn.close()
                conns.pop(z.name, None)
            with lock:
                runs.append({"status": status, "to": to, "subject": subject, "sent": sent,
                             "answered": answered, "text": text, "via": z.name})
            if status != 200:
                time.sleep(0.05)
            time.sleep(0.02)  # about 40 alerts/s per client at most

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(3.0)
    # Just before the kill: which lanes A holds (its backends' locks) and what is pending.
    a_backends = backends_of(pg, a.proc.pid)
    holders = lane_holders(pg)
    pending = pending_by_recipient(pg)
    a_lanes = {lane for lane, pid in holders.items() if pid in a_backends}
    kill_at, kill_wall = time.monotonic(), time.time()
    a.kill9()
    a_dead.set()
    killed_ms = time.monotonic() - kill_at
    # Lock takeover: poll until a backend other than A's holds each of A's lanes.
    lock_taken = {}

    def lanes_retaken():
        h = lane_holders(pg)
        now = time.monotonic() - kill_at
        for lane in a_lanes:
            if lane not in lock_taken and lane in h and h[lane] not in a_backends:
                lock_taken[lane] = now
        return len(lock_taken) == len(a_lanes)

    wait_until("lanes retaken", lanes_retaken, 10, 0.05)
    while time.monotonic() - t0 < 6.0:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    accepted_ids = {r["subject"] for r in runs if r["status"] == 200}

    def all_in():
        got = {subject_of(m) for m in emu.messages()}
        return accepted_ids <= got

    wait_until("storm delivered", all_in, 60, 0.25)
    msgs = emu.messages()
    accepted, lost, repeats, order = judge(runs, msgs, prefix)
    errs = sum(1 for r in runs if r["status"] == "ERR")
    other = [r for r in runs if r["status"] not in (200, "ERR")]
    # Takeover by delivery: from the kill to the survivor's first message (the emulator's
    # "created", wall clock, ms) of each lane A held with a backlog at the kill.
    first_after = first_new_deliveries(msgs, kill_wall)
    # A lane is named by the recipient (lane_key): match case-insensitively.
    backlog_a = [r for r in recipients if r in a_lanes and pending.get(r, 0) > 0]
    takeover = {r: first_after.get(r) for r in backlog_a}
    worst = max((v for v in takeover.values() if v is not None), default=None)
    missing = [r for r, v in takeover.items() if v is None]
    worst_lock = max(lock_taken.values(), default=None)
    problems = []
    if lost:
        problems.append(f"lost {len(lost)} e.g. {[(r['subject'], r['to'], r['via'], r['text']) for r in lost[:5]]}")
    if order:
        problems.append(f"order violations {order}")
    if repeats > POOL:
        problems.append(f"repeats {repeats} > {POOL}")
    errs_b = [r for r in runs if r["status"] == "ERR" and r["via"] == "b"]
    if errs_b:
        problems.append(f"{len(errs_b)} posts to the survivor B got no answer, e.g. {errs_b[0]['text']}")
    if other:
        problems.append(f"{len(other)} answers neither 200 nor ERR, e.g. {other[0]['status']} {other[0]['text'][:200]}")
    if not a_lanes:
        problems.append(f"A held no lane at the kill (holders {holders}, A's backends {sorted(a_backends)})")
    elif not backlog_a:
        problems.append(f"no lane of A had a backlog at the kill (A lanes {sorted(a_lanes)}, pending {pending})")
    if missing:
        problems.append(f"no delivery after the kill for A's lanes {missing}")
    if worst is None or worst > 5.0:
        problems.append(f"takeover {worst} s > 5 s")
    if len(lock_taken) != len(a_lanes):
        problems.append(f"lanes of A not locked again within 10 s: {sorted(set(a_lanes) - set(lock_taken))}")
    # A again, on the same database.
    restart_ok = None
    try:
        t = time.monotonic()
        a.start()
        if wait_until("A ready", a.ready, 30, 0.1):
            restart_ok = time.monotonic() - t
        else:
            problems.append(f"restarted A not ready within 30 s: {a.get('/readyz')}")
    except Exception as e:
        problems.append(f"restart of A failed: {e}")
    pend_after = pg.psql("select count(*) from zpark_tasks where state = 'pending'")
    fmt = lambda v: "-" if v is None else f"{v:.2f}"
    report("storm_kill9", not problems,
           f"posted={len(runs)} accepted={len(accepted)} (A {sum(1 for r in accepted if r['via'] == 'a')}, "
           f"B {sum(1 for r in accepted if r['via'] == 'b')}) err={errs} lost={len(lost)} order={order} "
           f"repeats={repeats} kill9_wait={killed_ms * 1000:.0f}ms A_lanes={sorted(a_lanes)} "
           f"pending_at_kill={pending} takeover_by_delivery="
           f"{ {r: fmt(v) for r, v in takeover.items()} } worst={fmt(worst)}s "
           f"lock_retaken_worst={fmt(worst_lock)}s A_restart_ready={fmt(restart_ok)}s "
           f"pending_now={pend_after}" + ("" if not problems else " PROBLEMS: " + "; ".join(problems)))
    emu.faults({})


# -- case 1b: takeover with no new traffic (the survivor's scan, not an accept, finds the lane)

def case_quiet_takeover(ctx):
    emu, pg, a, b = ctx["emu"], ctx["pg"], ctx["a"], ctx["b"]
    emu.faults({"delay_ms": 150})
    to, n = "k1@example.com", 8
    subjects = [f"quiet n{i}" for i in range(n)]
    answers = [a.post({"to": to, "subject": s, "message": "m"}) for s in subjects]
    problems = []
    if any(st != 200 for st, _ in answers):
        problems.append(f"accepts {[(st, t[:80]) for st, t in answers if st != 200]}")
    wait_until("first delivered", lambda: with_subject(emu.messages(), subjects[0]), 10, 0.02)
    # Kill whichever instance delivers the lane (A accepted, so normally A).
    holders = lane_holders(pg)
    pending = pending_by_recipient(pg).get(to, 0)
    victim = next((z for z in (a, b) if holders.get(to) in backends_of(pg, z.proc.pid)), None)
    if victim is None:
        report("quiet_takeover", False, f"no instance holds lane {to} (holders {holders})")
        emu.faults({})
        return
    kill_wall = time.time()
    victim.kill9()
    wait_until("all delivered", lambda: all(with_subject(emu.messages(), s) for s in subjects), 30, 0.1)
    msgs = emu.messages()
    lost = [s for s in subjects if not with_subject(msgs, s)]
    repeats = sum(max(0, len(with_subject(msgs, s)) - 1) for s in subjects)
    firsts = []
    for m in msgs:
        if subject_of(m) in subjects and subject_of(m) not in firsts:
            firsts.append(subject_of(m))
    takeover = first_new_deliveries(msgs, kill_wall).get(to)
    if pending == 0:
        problems.append("nothing pending in the lane at the kill: takeover not measured")
    if lost:
        problems.append(f"lost {lost}")
    if firsts != [s for s in subjects if s in firsts]:
        problems.append(f"out of order: {firsts}")
    if repeats > POOL:
        problems.append(f"repeats {repeats} > {POOL}")
    if takeover is None or takeover > 5.0:
        problems.append(f"takeover {takeover} s (bound 5 s)")
    victim.start()
    if not wait_until("restarted ready", victim.ready, 30, 0.1):
        problems.append(f"restarted {victim.name} not ready: {victim.get('/readyz')}")
    report("quiet_takeover", not problems,
           f"killed={victim.name} pending_at_kill={pending} takeover="
           f"{'-' if takeover is None else f'{takeover:.2f}'}s lost={len(lost)} repeats={repeats}"
           + ("" if not problems else " PROBLEMS: " + "; ".join(problems)))
    emu.faults({})


# -- case 2: the same Zabbix retry to A then B ---------------------------------------------

def case_retry(ctx):
    emu, a, b = ctx["emu"], ctx["a"], ctx["b"]
    body = {"to": "z1@example.com", "subject": "retry problem 2001", "message": "disk full",
            "event_id": "2001", "event_value": "1"}
    sa, ta = a.post(body)
    sb, tb = b.post(body)
    problems = []
    if sa != 200 or sb != 200:
        problems.append(f"answers A {sa} {ta[:200]} / B {sb} {tb[:200]}")
    elif taskid(ta) != taskid(tb):
        problems.append(f"task ids differ: A {taskid(ta)} B {taskid(tb)}")
    wait_until("delivered", lambda: with_subject(emu.messages(), "retry problem 2001"), 15)
    time.sleep(1.5)  # room for a second copy to show up
    n = len(with_subject(emu.messages(), "retry problem 2001"))
    if n != 1:
        problems.append(f"{n} Webex messages (want 1)")
    report("retry_a_then_b", not problems,
           f"A {sa} taskid={taskid(ta)} B {sb} taskid={taskid(tb)} messages={n}"
           + ("" if not problems else " PROBLEMS: " + "; ".join(problems)))


# -- case 3: an update accepted by B threads under A's problem -------------------------------

def case_thread(ctx):
    emu, pg, a, b = ctx["emu"], ctx["pg"], ctx["a"], ctx["b"]
    problems, figures = [], []
    # Several recipients: whichever instance owns the lane, the thread must hold.
    for i, to in enumerate(["t1@example.com", "t2@example.com", "t3@example.com"]):
        event = str(3001 + i)
        sp, tp = a.post({"to": to, "subject": f"thread problem {event}", "message": "cpu high",
                         "event_id": event, "event_value": "1"})
        root = wait_until("problem delivered",
                          lambda: with_subject(emu.messages(), f"thread problem {event}"), 15)
        if sp != 200 or not root:
            problems.append(f"{to}: problem to A answered {sp} {tp[:200]}, delivered={bool(root)}")
            continue
        root_id = root[0]["id"]
        su, tu = b.post({"to": to, "subject": f"thread update {event}", "message": "acknowledged",
                         "event_id": event, "event_value": "1", "update_status": "1"})
        upd = wait_until("update delivered",
                         lambda: with_subject(emu.messages(), f"thread update {event}"), 15)
        if su != 200 or not upd:
            problems.append(f"{to}: update to B answered {su} {tu[:200]}, delivered={bool(upd)}")
            continue
        parent = upd[0].get("parentId")
        figures.append(f"{to}: parent={'ok' if parent == root_id else parent}")
        if parent != root_id:
            problems.append(f"{to}: update parentId {parent!r}, problem message id {root_id!r}")
    report("thread_across_instances", not problems,
           " ".join(figures) + ("" if not problems else " PROBLEMS: " + "; ".join(problems)))


# -- case 4: a 429 seen by one instance holds back the other -------------------------------

def case_429(ctx):
    emu, pg, a, b = ctx["emu"], ctx["pg"], ctx["a"], ctx["b"]
    # p1 to A: its deliverer gets the 429; then three more recipients spread over A and B.
    # Lanes go to whichever instance locks them first: try again (new recipients) until both
    # instances delivered lanes during the window, else the sharing was not put to the test.
    for attempt in range(1, 4):
        emu.reset()
        emu.faults({"burst_429": {"count": 1, "retry_after": 3}})
        rcpt = [f"p{attempt}x{i}@example.com" for i in range(1, 5)]
        answers = [a.post({"to": rcpt[0], "subject": f"pause {rcpt[0]}", "message": "m"})]
        # Once the 429 is out, and past the emulator's 200 ms grace: any request from here on
        # inside the window is a violation, whoever sends it.
        saw_429 = wait_until("429 answered", lambda: any(
            q["status"] == 429 for q in emu.requests()), 5, 0.02)
        time.sleep(0.25)
        for i, to in enumerate(rcpt[1:]):
            z = b if i % 2 == 0 else a  # spread over both instances
            answers.append(z.post({"to": to, "subject": f"pause {to}", "message": "m"}))
        try:
            holders = lane_holders(pg)
            pids = {z.name: backends_of(pg, z.proc.pid) for z in (a, b)}
        except (PgError, OSError):
            holders, pids = {}, {}
        owners = {to: next((n for n, ps in pids.items() if holders.get(to) in ps), "-") for to in rcpt}
        got = wait_until("all delivered", lambda: sum(
            1 for m in emu.messages() if subject_of(m).startswith("pause ")) >= 4, 15, 0.1)
        time.sleep(1.0)  # room for anything late
        st = emu.stats()
        reqs = emu.requests()
        if {"a", "b"} <= set(owners.values()) or attempt == 3:
            break
    t429 = [q["time_ms"] for q in reqs if q["status"] == 429]
    sent_ok = [q for q in reqs if q["method"] == "POST" and q["path"] == "/v1/messages"
               and q["status"] == 200]
    gaps = [(q["time_ms"] - t429[0]) / 1000 for q in sent_ok] if t429 else []
    problems = []
    if not saw_429:
        problems.append("no 429 answered within 5 s of the first alert")
    if "rate_limit_violations" not in st:
        problems.append(f"the emulator's /_emu/stats has no rate_limit_violations (an older "
                        f"build?): {st}")
    if any(s != 200 for s, _ in answers):
        problems.append(f"answers {[(s, t[:100]) for s, t in answers]}")
    if not got or len(sent_ok) < 4:
        problems.append(f"delivered {len(sent_ok)} of 4")
    if st.get("rate_limit_violations", 0) != 0:
        problems.append(f"violations {st.get('violations')}")
    if st.get("rate_limit_windows", 0) < 1:
        problems.append("no rate-limit window opened (no 429 answered)")
    if gaps and min(gaps) < 2.8:
        problems.append(f"a message arrived {min(gaps):.2f} s after the 429 (< 2.8)")
    if not {"a", "b"} <= set(owners.values()):
        problems.append("not both instances held lanes during the window in 3 attempts: "
                        "the sharing was not tested")
    report("shared_429", not problems,
           f"attempts={attempt} windows={st.get('rate_limit_windows')} "
           f"violations={st.get('rate_limit_violations')} requests={st.get('requests')} "
           f"delivered={len(sent_ok)} first_after_429={f'{min(gaps):.3f}' if gaps else '-'}s "
           f"lane_owners={ {k.split('@')[0]: v for k, v in owners.items()} }"
           + ("" if not problems else " PROBLEMS: " + "; ".join(problems)))
    emu.faults({})


# -- case 5: PostgreSQL outage -------------------------------------------------------------

def case_outage(ctx):
    emu, pg, a, b = ctx["emu"], ctx["pg"], ctx["a"], ctx["b"]
    emu.reset()
    emu.faults({"delay_ms": 300})
    problems = []
    before = []
    for i in range(5):
        s, t = a.post({"to": "q1@example.com", "subject": f"outage before {i}", "message": "m"})
        before.append((s, t))
    pending_at_stop = None
    try:
        pending_at_stop = pg.psql("select count(*) from zpark_tasks where state = 'pending' "
                                  "and recipient = 'q1@example.com'")
    except PgError:
        pass
    t_stop = time.monotonic()
    pg.stop()
    stopped_in = time.monotonic() - t_stop
    if any(s != 200 for s, _ in before):
        problems.append(f"accepts before the stop: {[(s, t[:80]) for s, t in before]}")
    down_post = a.post({"to": "q2@example.com", "subject": "outage during", "message": "m"}, timeout=15)
    if down_post[0] != 503 or not re.search(r"postgres|database", down_post[1], re.I):
        problems.append(f"post while down answered {down_post[0]} {down_post[1][:300]!r} "
                        f"(want 503 naming PostgreSQL/the database)")
    t = time.monotonic()
    ready = wait_until("readyz 503", lambda: (lambda r: r if r[0] == 503 else None)(a.get("/readyz")), 5, 0.1)
    readyz_503_in = time.monotonic() - t if ready else None
    if not ready:
        problems.append(f"/readyz not 503 within 5 s: {a.get('/readyz')}")
    time.sleep(1.0)
    pg.start()
    t_up = time.monotonic()
    after = wait_until("accepting again", lambda: (lambda r: r if r[0] == 200 else None)(
        a.post({"to": "q2@example.com", "subject": "outage after", "message": "m"})), 30, 0.25)
    accept_in = time.monotonic() - t_up if after else None
    if not after:
        problems.append(f"no 200 within 30 s after the start: {a.post({'to': 'q3@example.com', 'subject': 'outage probe', 'message': 'm'})}")
    ready_again = wait_until("readyz 200", a.ready, 30, 0.25)
    ready_in = time.monotonic() - t_up if ready_again else None
    if not ready_again:
        problems.append(f"/readyz not 200 within 30 s: {a.get('/readyz')}")
    want = [f"outage before {i}" for i in range(5)] + (["outage after"] if after else [])
    wait_until("outage delivered", lambda: all(with_subject(emu.messages(), w) for w in want), 30, 0.25)
    msgs = emu.messages()
    lost = [w for w in want if not with_subject(msgs, w)]
    repeats = sum(max(0, len(with_subject(msgs, w)) - 1) for w in want)
    if lost:
        problems.append(f"lost {lost}")
    if repeats > POOL:
        problems.append(f"repeats {repeats} > {POOL}")
    if with_subject(msgs, "outage during"):
        problems.append("the alert answered 503 was delivered")
    fmt = lambda v: "-" if v is None else f"{v:.2f}s"
    report("pg_outage", not problems,
           f"pending_at_stop={pending_at_stop} pg_stop={stopped_in:.2f}s down_answer={down_post[0]} "
           f"body={down_post[1][:160]!r} readyz_503_after={fmt(readyz_503_in)} "
           f"accept_200_after_start={fmt(accept_in)} readyz_200_after_start={fmt(ready_in)} "
           f"lost={len(lost)} repeats={repeats}"
           + ("" if not problems else " PROBLEMS: " + "; ".join(problems)))
    emu.faults({})


# -- case 6: zpark check proves the database ------------------------------------------------

def case_check(ctx):
    pg, a = ctx["pg"], ctx["a"]
    secret = "s3cret"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    runs = {
        "same": pg.url,
        "wrong_port": pg.url.replace(f":{pg.port}/", f":{closed_port}/"),
        # trust authentication: the server ignores the password, the check must hide it
        "password": pg.url.replace("postgres@", f"postgres:{secret}@"),
        "password_param": pg.url + f"?password={secret}&connect_timeout=5",
        "password_wrong_port": pg.url.replace("postgres@", f"postgres:{secret}@")
                                     .replace(f":{pg.port}/", f":{closed_port}/"),
    }
    problems, figures = [], []
    for name, url in runs.items():
        env = dict(a.env, ZPARK_DATABASE_URL=url)
        try:
            r = subprocess.run([a.binary, "check"], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            code, out = r.returncode, r.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            problems.append(f"{name}: zpark check still running after 60 s")
            continue
        line = next((l for l in out.splitlines() if l.startswith("Outbox:")), None)
        figures.append(f"{name}: exit {code}")
        want_ok = "wrong_port" not in name
        if line is None:
            problems.append(f"{name}: no line starting 'Outbox:' in {out[-600:]!r}")
        elif want_ok and not (code == 0 and line.startswith("Outbox: PostgreSQL at")
                              and "schema version 1" in line):
            problems.append(f"{name}: exit {code}, {line!r} (want 0 and 'Outbox: PostgreSQL at ... "
                            f"schema version 1')")
        elif not want_ok and (code == 0 or "FAILED" not in line or "ZPARK_DATABASE_URL" not in line):
            problems.append(f"{name}: exit {code}, {line!r} (want non-zero, FAILED, ZPARK_DATABASE_URL)")
        if secret in out:
            problems.append(f"{name}: the password is shown: "
                            f"{[l for l in out.splitlines() if secret in l]}")
    report("check", not problems,
           " ".join(figures) + ("" if not problems else " PROBLEMS: " + "; ".join(problems)))


# -- cases 7 and 8: bot commands on both instances ------------------------------------------

def restart_with(ctx, changes):
    """Stops A and B, starts them again (A first) with their first settings changed by
    changes[name] ({variable: value, or None to remove}); {} gives the first settings back.
    Waits until each is ready, or for bot commands until its Webex identity is known."""
    for z in (ctx["a"], ctx["b"]):
        z.stop()
    for z in (ctx["a"], ctx["b"]):
        if not hasattr(z, "first_env"):
            z.first_env = dict(z.env)
        z.env = dict(z.first_env)
        for k, v in changes.get(z.name, {}).items():
            if v is None:
                z.env.pop(k, None)
            else:
                z.env[k] = v
        z.start()
    for z in (ctx["a"], ctx["b"]):
        if z.env.get("SPARK_WEBHOOK_SECRET"):
            wait_for_line(z.log, r"Webex token accepted", z.proc, 20)
        elif not wait_until("ready", z.ready, 30, 0.1):
            raise RuntimeError(f"zpark {z.name} not ready: {z.get('/readyz')}\n{tail(z.log)}")


def commands_env(secret, interval, server_url=None):
    return {"SPARK_WEBHOOK_SECRET": secret, "SPARK_TRUSTED_USERS": "alice@example.com, bob@example.com",
            "ZPARK_WEBHOOK_CHECK_INTERVAL": str(interval), "ZPARK_SERVER_URL": server_url}


def envelope(m):
    """The webhook envelope Webex sends for message m (test/support/webex_webhook.cpp)."""
    data = {k: m.get(k, "") for k in ("id", "roomId", "roomType", "personId", "personEmail", "created")}
    return json.dumps({"id": "WEBHOOK-1", "name": "Zpark incoming webhook", "resource": "messages",
                       "event": "created", "actorId": m.get("personId", ""), "data": data},
                      separators=(",", ":"))


def signature(secret, body):
    return hmac.new(secret.encode(), body.encode(), hashlib.sha1).hexdigest()


def case_webhook_once(ctx):
    """The same Webex message delivered to A, then to B: one task id, one reply."""
    emu, a, b = ctx["emu"], ctx["a"], ctx["b"]
    secret = secrets.token_hex(16)
    problems = []
    try:
        env = commands_env(secret, 0)
        restart_with(ctx, {"a": env, "b": env})
        status, me = emu.api("GET", "/v1/people/me")
        bot_id = (me or {}).get("id")
        if status != 200 or not bot_id:
            raise RuntimeError(f"GET /v1/people/me: {status} {me}")
        # "deliver": false: the emulator must not send it itself (a webhook may be left over).
        m1 = emu.call("POST", "/_emu/messages",
                      {"personEmail": "alice@example.com", "text": "help", "deliver": False})
        m2 = emu.call("POST", "/_emu/messages",
                      {"personEmail": "bob@example.com", "text": "help", "deliver": False})
        body1 = envelope(m1)
        sa, ta = a.webhook(body1, signature(secret, body1))
        sb, tb = b.webhook(body1, signature(secret, body1))
        body2 = envelope(m2)
        s2, t2 = b.webhook(body2, signature(secret, body2))
        if sa != 200 or sb != 200 or s2 != 200:
            problems.append(f"answers: A {sa} {ta[:200]!r}, B {sb} {tb[:200]!r}, B (2nd message) "
                            f"{s2} {t2[:200]!r}")
        if not taskid(ta) or taskid(ta) != taskid(tb):
            problems.append(f"task ids: A {taskid(ta)} B {taskid(tb)} (want the same)")
        if taskid(t2) and taskid(t2) == taskid(ta):
            problems.append(f"the second message got the first one's task id {taskid(t2)}")

        def replies(m):
            # A reply in a direct room: a message of the bot in that room (no thread there).
            return [x for x in emu.messages()
                    if x.get("personId") == bot_id and x.get("roomId") == m["roomId"]]

        wait_until("replies", lambda: replies(m1) and replies(m2), 10, 0.1)
        time.sleep(1.5)  # room for a second reply to show up
        r1, r2 = replies(m1), replies(m2)
        fetches = [q for q in emu.requests() if q["method"] == "GET"
                   and q["path"] == f"/v1/messages/{m1['id']}"]
        if len(r1) != 1:
            problems.append(f"{len(r1)} replies to the message delivered to A and B (want 1): "
                            f"{[x.get('markdown', '')[:60] for x in r1]}")
        if len(r2) != 1:
            problems.append(f"{len(r2)} replies to the message delivered to B only (want 1)")
        if r1 and "show issues" not in r1[0].get("markdown", ""):
            problems.append(f"the reply is not help's: {r1[0].get('markdown', '')[:200]!r}")
        report("webhook_once", not problems,
               f"A {sa} taskid={taskid(ta)} B {sb} taskid={taskid(tb)} replies={len(r1)} "
               f"fetches_of_it={len(fetches)} B_only: {s2} taskid={taskid(t2)} replies={len(r2)}"
               + ("" if not problems else " PROBLEMS: " + "; ".join(problems)
                  + f"\n--- A ({a.log}):\n{tail(a.log, 15)}--- B ({b.log}):\n{tail(b.log, 15)}"))
    finally:
        restart_with(ctx, {})


def case_repair_leader(ctx):
    """The webhook self-heal on both instances: one of them repairs, once."""
    emu, a, b = ctx["emu"], ctx["a"], ctx["b"]
    secret = secrets.token_hex(16)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sk:  # A's port, known in advance
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    server_url = f"http://127.0.0.1:{port}"
    target = f"{server_url}/api/v1/webhook"
    want = {"messages": 1, "attachmentActions": 1}
    problems, figures = [], []

    def ours():
        return [h for h in emu.webhooks() if h.get("targetUrl") == target]

    def per_resource(hooks):
        out = {}
        for h in hooks:
            out[h.get("resource")] = out.get(h.get("resource"), 0) + 1
        return out

    def repairs():
        return {z.name: z.metric("zpark_webhook_repairs_total") for z in (a, b)}

    def fixed_lines(z):
        with open(z.log, errors="replace") as f:
            return [l.rstrip() for l in f if "Webex webhook fixed" in l]

    try:
        for h in emu.webhooks():  # start from none
            emu.api("DELETE", f"/v1/webhooks/{h['id']}")
        env = commands_env(secret, 1, server_url)
        restart_with(ctx, {"a": dict(env, ZPARK_LISTEN=f"127.0.0.1:{port}"), "b": env})
        t = time.monotonic()
        made = wait_until("webhooks made", lambda: per_resource(ours()) == want, 5, 0.1)
        made_in = time.monotonic() - t
        time.sleep(1.5)  # both instances check again at least once: still one of each
        first = ours()
        if not made or per_resource(first) != want:
            problems.append(f"after the start: {per_resource(first)} (want {want}); all webhooks "
                            f"{[(h.get('resource'), h.get('targetUrl')) for h in emu.webhooks()]}")
        r0 = repairs()
        lines0 = {z.name: len(fixed_lines(z)) for z in (a, b)}
        figures.append(f"start: {per_resource(first)} in {made_in:.2f}s repairs={r0}")
        if None in r0.values():
            problems.append(f"zpark_webhook_repairs_total missing from /metrics: {r0}")
        deleted = []
        for h in first:
            st, body = emu.api("DELETE", f"/v1/webhooks/{h['id']}")
            deleted.append(h["id"])
            if st != 204:
                problems.append(f"DELETE /v1/webhooks/{h['id']}: {st} {body}")
        t = time.monotonic()
        again = wait_until("webhooks again", lambda: per_resource(ours()) == want, 5, 0.1)
        again_in = time.monotonic() - t
        time.sleep(2.0)  # both instances check again at least once: still one of each
        second = ours()
        r1 = repairs()
        made_now = [h for h in second if h["id"] not in deleted]
        if not again or per_resource(second) != want:
            problems.append(f"after the delete: {per_resource(second)} (want {want}) "
                            f"{[(h['id'], h.get('resource')) for h in second]}")
        if any(h["id"] in deleted for h in second):
            problems.append("a deleted webhook is listed again")
        if None not in r0.values() and None not in r1.values():
            delta = {n: r1[n] - r0[n] for n in r0}
            if sum(delta.values()) != len(made_now):
                problems.append(f"repairs went up by {sum(delta.values()):g} over A and B "
                                f"({delta}), {len(made_now)} webhooks made again")
            if sum(1 for d in delta.values() if d) > 1:
                problems.append(f"both instances repaired: {delta}")
        else:
            delta = None
        new_lines = {z.name: fixed_lines(z)[lines0[z.name]:] for z in (a, b)}
        readyz = {z.name: z.get("/readyz") for z in (a, b)}
        figures.append(f"after delete: {per_resource(second)} in {again_in:.2f}s repairs={r1} "
                       f"delta={delta} fixed_log_lines={ {n: len(v) for n, v in new_lines.items()} }")
        figures.append(f"readyz A={readyz['a'][0]} B={readyz['b'][0]}")
        for n, (st, text) in readyz.items():
            if st != 200:
                problems.append(f"{n} /readyz {st} {text[:300]!r}")
        report("repair_leader", not problems, " ".join(figures)
               + ("" if not problems else " PROBLEMS: " + "; ".join(problems)
                  + "\n" + "\n".join(f"--- {n} fixed lines: {v}" for n, v in new_lines.items())))
    finally:
        for z in (a, b):
            z.stop()
        try:  # no webhook of ours left for the emulator to deliver to
            for h in emu.webhooks():
                emu.api("DELETE", f"/v1/webhooks/{h['id']}")
        finally:
            restart_with(ctx, {})


# -- main ----------------------------------------------------------------------------------

CASES = {"storm": case_storm, "quiet": case_quiet_takeover, "retry": case_retry, "thread": case_thread, "429": case_429,
         "outage": case_outage, "check": case_check, "webhook_once": case_webhook_once,
         "repair_leader": case_repair_leader}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zpark", required=True)
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--only", action="append", choices=sorted(CASES), help="run only these cases")
    args = ap.parse_args()
    if not PgCluster.available():
        print("SKIP: PostgreSQL's programs not found (deploy/install-deps.sh --test)")
        return 77
    work = tempfile.mkdtemp(prefix="zpark-ha-")
    started = time.monotonic()
    ok = False
    pg = None
    try:
        certs = os.path.join(work, "certs")
        subprocess.run(["bash", os.path.join(HERE, "..", "support", "make_certs.sh"), certs],
                       check=True, timeout=60)
        pg = PgCluster()
        emu = Emulator(args.emulator, certs, work)
        # One at a time: the schema is created by the first.
        a = Zpark("a", args.zpark, work, emu, certs, pg.url)
        b = Zpark("b", args.zpark, work, emu, certs, pg.url)
        for z in (a, b):
            if not wait_until("ready", z.ready, 30, 0.1):
                raise RuntimeError(f"zpark {z.name} not ready: {z.get('/readyz')}\n{tail(z.log)}")
        ctx = {"emu": emu, "pg": pg, "a": a, "b": b}
        for name, fn in CASES.items():
            if args.only and name not in args.only:
                continue
            try:
                fn(ctx)
            except Exception as e:
                import traceback
                traceback.print_exc()
                report(name, False, f"raised {type(e).__name__}: {e}")
            for z in (a, b):
                if z.proc.poll() is not None:
                    report(f"{name}: zpark {z.name} alive", False,
                           f"exited with {z.proc.returncode}; end of {z.log}:\n{tail(z.log)}")
                    z.start()
        # Sanitizer builds: a report in any instance's log is a failure of its own.
        kill_all()
        for log in sorted(f for f in os.listdir(work) if f.startswith("zpark-")):
            text = open(os.path.join(work, log), errors="replace").read()
            m = re.search(r"ERROR: \w+Sanitizer|runtime error:|LeakSanitizer", text)
            if m:
                i = m.start()
                report(f"sanitizer {log}", False, text[max(0, i - 200):i + 1500])
        ok = all(r for _, r in RESULTS)
    except Exception as e:
        import traceback
        traceback.print_exc()
        print(f"FAIL setup: {type(e).__name__}: {e}")
    finally:
        kill_all()
        if pg is not None:
            pg.close()
        print(f"{'PASS' if ok else 'FAIL'}: {sum(1 for _, r in RESULTS if r)}/{len(RESULTS)} cases "
              f"in {time.monotonic() - started:.1f} s; logs in {work}" if (not ok or args.keep)
              else f"PASS: {len(RESULTS)} cases in {time.monotonic() - started:.1f} s")
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
