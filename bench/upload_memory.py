#!/usr/bin/env python3
"""Memory that clients can make Zpark hold with request bodies (issue 12, finding 2).

Starts `zpark serve` (dry-run) and measures its RSS: idle (the baseline), at the peak of
CONNS connections each sending a 1 MiB body to POST /api/v1/alert, and after they left.
Two runs: without a token (refused from the header: no body is read) and with the token
(bodies read up to the server-wide budget, the rest refused with 503).

    python3 bench/upload_memory.py ZPARK_BINARY [CONNS]      (default 1000; raises ulimit -n)

Prints one line per run: idle, peak and after (MiB), peak/idle and after/idle ratios, and the
answers the clients got.
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

BODY = b"x" * (1 << 20)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc):
    for _ in range(200):
        if proc.poll() is not None:
            sys.exit("zpark exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("zpark did not start listening")


def run(zpark, conns, with_token):
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {"PATH": os.environ.get("PATH", ""), "ZPARK_API_TOKEN": "bench-token",
               "ZPARK_DATA_DIR": data, "ZPARK_LISTEN": f"127.0.0.1:{port}", "ZPARK_LOG_LEVEL": "error"}
        proc = subprocess.Popen([zpark, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(port, proc)
            time.sleep(0.5)
            idle = rss_mib(proc.pid)
            token = b"Token: bench-token\r\n" if with_token else b""
            head = (b"POST /api/v1/alert HTTP/1.1\r\nHost: zpark\r\nContent-Type: application/json\r\n" + token +
                    b"Content-Length: %d\r\n\r\n" % len(BODY))
            socks, peak = [], idle
            for i in range(conns):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(head)
                s.setblocking(False)
                try:
                    s.send(BODY)  # as much as the socket takes; the server decides what it reads
                except OSError:
                    pass
                socks.append(s)
                if i % 50 == 49:
                    peak = max(peak, rss_mib(proc.pid))
            time.sleep(1)
            peak = max(peak, rss_mib(proc.pid))
            answers = {}
            for s in socks:
                s.setblocking(True)
                s.settimeout(5)
                try:
                    first = s.recv(64).split(b"\r\n")[0].decode() or "closed"
                except OSError as e:
                    first = type(e).__name__
                answers[first] = answers.get(first, 0) + 1
                s.close()
            time.sleep(1)
            after = rss_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
    label = "with the token   " if with_token else "without a token  "
    print(f"{label} idle {idle:6.1f} MiB  peak {peak:6.1f} MiB ({peak / idle:4.1f}x)  "
          f"after {after:6.1f} MiB ({after / idle:4.1f}x)  answers {answers}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    zpark = sys.argv[1]
    conns = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, conns + 256)), hard))
    print(f"{conns} connections, each sending a 1 MiB body to POST /api/v1/alert")
    run(zpark, conns, with_token=False)
    run(zpark, conns, with_token=True)


if __name__ == "__main__":
    main()
