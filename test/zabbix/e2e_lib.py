"""The harness the Python lab scripts share (e2e_commands.py, e2e_graphs.py, e2e_bot_updates.py).

Arguments and the lab's env file, bounded waits and the failure report, the Zabbix API and
trapper, a TCP proxy to take the frontend down, our Webex emulator, zpark's settings and
processes, and the run itself (processes stopped, Zabbix objects deleted, whatever happens).

A script calls init() first, then run(main):

    import e2e_lib as e2e
    e2e.init("zpark-cmd-e2e-")   # reads ZPARK_BIN EMULATOR_BIN CERT_DIR LAB_STATE from argv
    ...
    e2e.run(main)

Standard library only. Loopback only. Every wait is bounded.
"""
import hashlib
import json
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

# Our calls go to loopback: never through a proxy.
for _k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_k, None)

T0 = time.time()
ZPARK_BIN = EMU_BIN = CERTS = LAB_STATE = None
LAB = {}            # the lab's STATE_DIR/env (lab.sh)
ZABBIX_URL = None
TRAPPER_PORT = None
WORK = None         # logs and zpark's data; deleted after a run that passed
EMU_CTX = None
PROCS = []          # every process started, stopped by run()
CLEANUP = []        # (Zabbix API method, params), called by run() last first
API_TOKEN = "api-token"   # zpark's ZPARK_API_TOKEN in these runs
WEBEX_TOKEN = "test-token"  # the emulator's bot token


def init(prefix):
    """Reads `ZPARK_BIN EMULATOR_BIN CERT_DIR LAB_STATE` from the command line."""
    global ZPARK_BIN, EMU_BIN, CERTS, LAB_STATE, LAB, ZABBIX_URL, TRAPPER_PORT, WORK, EMU_CTX
    if len(sys.argv) < 5:
        sys.exit("usage: %s ZPARK_BIN EMULATOR_BIN CERT_DIR LAB_STATE" % os.path.basename(sys.argv[0]))
    ZPARK_BIN, EMU_BIN, CERTS, LAB_STATE = sys.argv[1:5]
    LAB = dict(line.strip().split("=", 1) for line in open(os.path.join(LAB_STATE, "env")) if "=" in line)
    ZABBIX_URL = LAB["ZABBIX_URL"]
    TRAPPER_PORT = int(LAB["SERVER_PORT"])
    WORK = tempfile.mkdtemp(prefix=prefix)
    EMU_CTX = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))


# ---- reporting and waiting ------------------------------------------------------------------
def say(*a):
    print("[%5.1fs]" % (time.time() - T0), *a, file=sys.stderr, flush=True)


def fail(msg):
    say("FAIL:", msg)
    for name in ("zpark.log", "emu.log"):
        p = os.path.join(WORK, name)
        if os.path.exists(p):
            say("--- last lines of", name)
            sys.stderr.write("".join(open(p).readlines()[-40:]))
    raise SystemExit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def wait_for(pred, seconds, what):
    """PRED's first true value within SECONDS, or a failure naming WHAT (a text, or a function
    giving it at that moment: a report of the state that was waited for)."""
    end = time.time() + seconds
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    v = pred()
    if not v:
        fail("timed out after %ss waiting for %s" % (seconds, what() if callable(what) else what))
    return v


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---- Zabbix: JSON-RPC, the trapper, the configuration cache ---------------------------------
class Zabbix:
    def __init__(self, url=None, username="Admin", password="zabbix"):
        self.url = (url or ZABBIX_URL).rstrip("/") + "/api_jsonrpc.php"
        self.auth = None
        self.auth = self.call("user.login", {"username": username, "password": password})

    def call(self, method, params):
        req = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
        if self.auth and method not in ("apiinfo.version", "user.login"):
            req["auth"] = self.auth
        r = urllib.request.Request(self.url, json.dumps(req).encode(), {"Content-Type": "application/json-rpc"})
        answer = json.load(urllib.request.urlopen(r, timeout=30))
        if "error" in answer:
            fail("Zabbix %s failed: %s" % (method, answer["error"]))
        return answer["result"]

    def create(self, method, params, ids, delete):
        """METHOD (e.g. host.create), the new id; DELETE (e.g. host.delete) is called at the end."""
        new = self.call(method, params)[ids][0]
        CLEANUP.append((delete, [new]))
        return new


def reload_config():
    """New items, actions and media types apply at once, not at the next cache update."""
    subprocess.run(["zabbix_server", "-c", LAB["ZABBIX_SERVER_CONF"], "-R", "config_cache_reload"],
                   capture_output=True)


def send_value(host, key, value):
    """zabbix_sender to the lab's trapper, retried until processed (a new item is known only
    once the configuration cache has loaded it)."""
    def once():
        r = subprocess.run(["zabbix_sender", "-z", "127.0.0.1", "-p", str(TRAPPER_PORT), "-s", host, "-k", key,
                            "-o", str(value)], capture_output=True, text=True)
        return "processed: 1" in r.stdout
    wait_for(once, 30, "zabbix_sender %s %s=%s" % (host, key, value))


# ---- a TCP proxy in front of the Zabbix frontend, to take it down mid-test ------------------
class Proxy:
    """`down` refuses new connections and cuts the open ones."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.down = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            c, _ = self.sock.accept()
            if self.down:
                c.close()
                continue
            threading.Thread(target=self.pipe, args=(c,), daemon=True).start()

    def pipe(self, c):
        try:
            u = socket.create_connection(self.target, timeout=10)
        except OSError:
            c.close()
            return
        socks = [c, u]
        try:
            while not self.down:
                r, _, _ = select.select(socks, [], [], 0.1)
                for s in r:
                    d = s.recv(65536)
                    if not d:
                        return
                    (u if s is c else c).sendall(d)
        except OSError:
            pass
        finally:
            c.close()
            u.close()


# ---- processes, the emulator and zpark ------------------------------------------------------
def start(argv, env, log):
    p = subprocess.Popen(argv, env=env, stdout=open(os.path.join(WORK, log), "w"), stderr=subprocess.STDOUT)
    PROCS.append(p)
    return p


def log_text(name):
    return open(os.path.join(WORK, name)).read()


class Emulator:
    def __init__(self):
        start([EMU_BIN, "--cert", os.path.join(CERTS, "server.pem"), "--key", os.path.join(CERTS, "server.key"),
               "--port", "0", "--token", WEBEX_TOKEN], {"PATH": os.environ["PATH"]}, "emu.log")
        line = wait_for(lambda: re.search(r"listening (\S+)", log_text("emu.log")), 10, "the emulator")
        self.url = "https://" + line.group(1)

    def req(self, method, path, body=None, token=False):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + WEBEX_TOKEN
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.url + path, data, headers, method=method)
        return json.load(urllib.request.urlopen(r, context=EMU_CTX, timeout=10))

    def messages(self):
        return self.req("GET", "/_emu/messages")["messages"]

    def files(self):
        return self.req("GET", "/_emu/files")["files"]

    def bot(self):
        return self.req("GET", "/v1/people/me", token=True)


def zpark_env(emu, port, zabbix_url, **extra):
    """zpark's settings for a run on loopback: the emulator as Webex, ZABBIX_URL (or a proxy)
    as Zabbix; EXTRA adds or overrides settings."""
    env = {
        "PATH": os.environ["PATH"],
        "ZPARK_API_TOKEN": API_TOKEN,
        "ZPARK_LISTEN": "127.0.0.1:%d" % port,
        "ZPARK_DATA_DIR": os.path.join(WORK, "data"),
        "ZPARK_FSYNC": "false",
        "SPARK_ACCESS_TOKEN": WEBEX_TOKEN,
        "WEBEX_API_URL": emu.url + "/v1",
        "WEBEX_CA_FILE": os.path.join(CERTS, "ca.pem"),
        "SPARK_WEBHOOK_SECRET": "e2e-" + hashlib.sha1(os.urandom(16)).hexdigest(),
        "SPARK_TRUSTED_USERS": "alice@example.com",
        "ZABBIX_SERVER_URL": zabbix_url,
        "ZABBIX_USERNAME": "Admin",
        "ZABBIX_PASSWORD": "zabbix",
    }
    env.update(extra)
    return env


class Setup:
    """What every script starts with: an API session (Admin), the emulator and its bot, a port
    and settings for zpark (not started). THROUGH_PROXY: zpark reaches Zabbix through `proxy`
    (a Proxy, to take the frontend down); WEBHOOK: ZPARK_SERVER_URL set, for `zpark webhook
    create`; EXTRA: more settings (zpark_env)."""

    def __init__(self, through_proxy=False, webhook=False, **extra):
        self.zbx = Zabbix()
        self.emu = Emulator()
        self.bot = self.emu.bot()
        self.proxy = Proxy(int(LAB["ZABBIX_PORT"])) if through_proxy else None
        self.port = free_port()
        if webhook:
            extra.setdefault("ZPARK_SERVER_URL", "http://127.0.0.1:%d" % self.port)
        zabbix = "http://127.0.0.1:%d" % self.proxy.port if self.proxy else ZABBIX_URL
        self.env = zpark_env(self.emu, self.port, zabbix, **extra)


def zpark_cli(env, *args):
    r = subprocess.run([ZPARK_BIN, *args], env=env, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def start_zpark(env, ready="Webex token accepted", seconds=10):
    """`zpark serve`, waited for until it listens and READY is in its log (SECONDS at most)."""
    p = start([ZPARK_BIN, "serve"], env, "zpark.log")
    wait_for(lambda: "msg=listening" in log_text("zpark.log"), 10, "zpark to listen")
    wait_for(lambda: ready in log_text("zpark.log"), seconds, "%r in zpark's log" % ready)
    return p


def post_alert(port, alert):
    """POST /api/v1/alert as the media type does; zpark's answer (taskid...)."""
    r = urllib.request.Request("http://127.0.0.1:%d/api/v1/alert" % port, json.dumps(alert).encode(),
                               {"Content-Type": "application/json", "Token": API_TOKEN})
    return json.load(urllib.request.urlopen(r, timeout=10))


def metric(port, name):
    """A counter or gauge of zpark's /metrics (0 when absent)."""
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
    hit = re.search(r"^%s (\S+)" % re.escape(name), body, re.M)
    return float(hit.group(1)) if hit else 0


class Chat:
    """Alice writes to the bot through the emulator (signed webhooks, as Webex delivers them);
    `seen` counts the emulator's messages already looked at."""

    def __init__(self, emu, bot):
        self.emu, self.bot = emu, bot
        self.seen = len(emu.messages())

    def from_bot(self, since=None, text_only=True):
        """The bot's messages after SINCE (default: `seen`); text only: no graph, no card."""
        return [x for x in self.emu.messages()[self.seen if since is None else since:]
                if x.get("personId") == self.bot["id"]
                and not (text_only and (x.get("files") or x.get("attachments")))]

    def ask(self, text, room=None, mention=None, parent=None, name=None, person="alice@example.com"):
        """Writes TEXT; the bot's first text reply after it (the message, not only its markdown)."""
        m = {"personEmail": person, "text": text}
        if room:
            m["roomId"] = room
        if mention:
            m["mentionBot"] = mention
        if parent:
            m["parentId"] = parent
        if name:
            m["displayName"] = name
        self.emu.req("POST", "/_emu/messages", m)
        r = wait_for(lambda: (self.from_bot() or [None])[0], 30, "a reply to %r" % text)
        self.seen = len(self.emu.messages())
        return r


# ---- the run --------------------------------------------------------------------------------
def run(main):
    """MAIN, then (pass or fail) every process stopped, the Zabbix objects of CLEANUP deleted
    (last made first; best effort), WORK deleted when it passed. Exits with the status."""
    status = 0
    try:
        main()
    except SystemExit as e:
        status = e.code or 0
    finally:
        for p in PROCS:
            p.terminate()
        for p in PROCS:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if CLEANUP:
            try:
                zbx = Zabbix()
                for method, params in reversed(CLEANUP):
                    zbx.call(method, params)
            except BaseException as e:  # cleanup is best effort
                say("cleanup failed:", e)
        if status == 0:
            shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(status)
