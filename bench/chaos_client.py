#!/usr/bin/env python3
"""Storm and judge for bench/chaos.sh (standard library only).

storm: CLIENTS threads, each with its own keep-alive connection, post alerts to Zpark in a
  closed loop (at most RATE per second each) to RECIPIENTS recipients, until STOP_FILE
  exists. Survives Zpark being killed: a failed request is recorded and the client reconnects.
  One line per alert in OUT: "<status> <client> <n> <recipient> <sent_ns> <answered_ns> <text>"
  where status is the HTTP status or "ERR" (no answer: that alert's fate is unknown), and text
  the task id (200) or the answer's body / the error.
judge: reads those lines and the emulator's GET /_emu/messages, prints one "key=value" line:
  accepted (answered 200), delivered (of them, in a Webex message), lost, repeats (extra copies
  of any alert of this run, accepted or not), refused_sent (answered non-200 but delivered),
  order (pairs of one recipient delivered against the order Zpark answered them in), and the
  first 503 body seen (--first-503: only that body).
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time


def storm(a):
    lock = threading.Lock()
    out = open(a.out, "a", buffering=1)
    host, port = a.zpark.rsplit(":", 1)
    period = 1.0 / a.rate if a.rate > 0 else 0.0

    def client(c):
        conn = None
        n = 0
        while not os.path.exists(a.stop_file):
            n += 1
            to = f"r{(c + n) % a.recipients}@example.com"
            subject = f"chaos {a.tag} c{c} n{n}"
            body = json.dumps({"to": to, "subject": subject, "message": f"details of {subject}"})
            t0 = time.monotonic_ns()
            status, text = "ERR", ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=5)
                conn.request("POST", "/api/v1/alert", body,
                             {"Token": a.token, "Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read().decode("utf-8", "replace")
                status = str(r.status)
                if r.status == 200:
                    text = json.loads(data)["taskid"]
                else:
                    text = data.replace("\n", " ")
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # killed server, reset, refused: the outcome is unknown
                text = type(e).__name__
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
            t1 = time.monotonic_ns()
            with lock:
                out.write(f"{status} {c} {n} {to} {t0} {t1} {text}\n")
            if period:
                left = period - (t1 - t0) / 1e9
                if left > 0:
                    time.sleep(left)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def load_runs(paths):
    runs = []
    for p in paths:
        with open(p) as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 6)
                if len(parts) < 6:
                    continue
                status, c, n, to, t0, t1 = parts[:6]
                text = parts[6] if len(parts) > 6 else ""
                runs.append({"status": status, "subject": f"chaos {{tag}} c{c} n{n}", "c": c, "n": int(n),
                             "to": to, "sent": int(t0), "answered": int(t1), "text": text})
    return runs


def order_violations(delivered, first_pos):
    """Order per recipient: an alert answered 200 before another was even sent must be
    delivered first. In delivery order (first_pos: subject -> index of its first message), no
    earlier delivery may have been sent after this one's answer. Also used by test/ha/."""
    order = 0
    by_to = {}
    for r in delivered:
        by_to.setdefault(r["to"], []).append(r)
    for rs in by_to.values():
        rs.sort(key=lambda r: first_pos[r["subject"]])
        latest_sent = -1
        for r in rs:
            if latest_sent > r["answered"]:
                order += 1
            latest_sent = max(latest_sent, r["sent"])
    return order


def judge(a):
    runs = load_runs(a.runs)
    for r in runs:
        r["subject"] = r["subject"].replace("{tag}", a.tag)
    with open(a.messages) as f:
        messages = json.load(f)["messages"]
    prefix = f"**chaos {a.tag} "
    first_pos = {}   # subject -> index of its first message
    copies = {}      # subject -> number of messages
    for i, m in enumerate(messages):
        md = m.get("markdown", "")
        if not md.startswith(prefix):
            continue
        subject = md[2:md.index("**", 2)]
        copies[subject] = copies.get(subject, 0) + 1
        first_pos.setdefault(subject, i)
    accepted = [r for r in runs if r["status"] == "200"]
    refused = [r for r in runs if r["status"] not in ("200", "ERR")]
    delivered = [r for r in accepted if r["subject"] in first_pos]
    lost = [r for r in accepted if r["subject"] not in first_pos]
    repeats = sum(n - 1 for n in copies.values())
    refused_sent = sum(1 for r in refused if r["subject"] in first_pos)
    order = order_violations(delivered, first_pos)
    status_503 = [r for r in runs if r["status"] == "503"]
    if a.first_503:
        print(status_503[0]["text"] if status_503 else "(none)")
        return
    print(f"accepted={len(accepted)} delivered={len(delivered)} lost={len(lost)} repeats={repeats} "
          f"refused={len(refused)} refused_sent={refused_sent} unknown={sum(1 for r in runs if r['status'] == 'ERR')} "
          f"order={order} n503={len(status_503)}")
    if lost and a.verbose:
        for r in lost[:10]:
            print(f"lost: {r['subject']} to {r['to']} task {r['text']}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("storm")
    s.add_argument("--zpark", required=True)
    s.add_argument("--token", required=True)
    s.add_argument("--clients", type=int, default=4)
    s.add_argument("--recipients", type=int, default=6)
    s.add_argument("--rate", type=float, default=100, help="alerts/s per client at most (0: no limit)")
    s.add_argument("--tag", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--stop-file", required=True)
    j = sub.add_parser("judge")
    j.add_argument("--tag", required=True)
    j.add_argument("--messages", required=True)
    j.add_argument("--verbose", action="store_true")
    j.add_argument("--first-503", action="store_true", help="print only the body of the first 503 answer")
    j.add_argument("runs", nargs="+")
    a = p.parse_args()
    storm(a) if a.cmd == "storm" else judge(a)


if __name__ == "__main__":
    main()
