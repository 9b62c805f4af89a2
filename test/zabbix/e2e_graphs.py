#!/usr/bin/env python3
"""Graphs end to end against the real Zabbix 6.0 (lab.sh), our Webex emulator and the real zpark.

A host with a numeric trapper item and a trigger on it; the trigger fires; a problem alert with
the real event (and trigger) id is posted to Zpark as the media type does. Checks:
  1. the graph (chart.php of the real frontend, after a form login) reaches the emulator as a
     multipart/form-data upload in the alert's thread: PNG signature, a plausible size;
  2. the same when the alert carries no trigger id (Zabbix left {TRIGGER.ID} unexpanded): the
     event says which trigger;
  3. `graph HOST ITEM 30m` from Webex uploads into the asker's room;
  4. with the frontend down (a TCP proxy in front of it, closed), the alert still arrives on
     time, and the failed graph is counted in /metrics;
  5. `zpark check` says graphs work (password) or are off (API token only).

Usage: e2e_graphs.py ZPARK_BIN EMULATOR_BIN CERT_DIR LAB_STATE
Standard library only. Loopback only. Every wait is bounded.
"""
import hashlib
import hmac
import json
import random
import time
import urllib.request

import e2e_lib as e2e
from e2e_lib import check, say, wait_for

e2e.init("zpark-graph-e2e-")
PNG = "89504e470d0a1a0a"


def main():
    s = e2e.Setup(through_proxy=True, ZPARK_GRAPH_PERIOD="1800", ZPARK_LOG_LEVEL="debug")
    zbx, emu, bot, proxy, port, env = s.zbx, s.emu, s.bot, s.proxy, s.port, s.env
    secret = env["SPARK_WEBHOOK_SECRET"]

    # zpark check: graphs on with the password, off with an API token alone.
    _, out, _ = e2e.zpark_cli(dict(env, ZABBIX_SERVER_URL=e2e.ZABBIX_URL), "check")
    say("zpark check: " + " | ".join(l for l in out.splitlines() if l.startswith(("Zabbix", "Graphs"))))
    check("Graphs: on (frontend login OK as Admin" in out, "zpark check does not say graphs work:\n" + out)
    token = zbx.call("token.create", {"name": "zpark-graph-e2e-%d" % random.randrange(1 << 30), "userid": "1"})
    e2e.CLEANUP.append(("token.delete", token["tokenids"]))
    token_value = zbx.call("token.generate", token["tokenids"])[0]["token"]
    _, out, _ = e2e.zpark_cli(dict(env, ZABBIX_SERVER_URL=e2e.ZABBIX_URL, ZABBIX_USERNAME="", ZABBIX_PASSWORD="",
                                   ZABBIX_API_TOKEN=token_value), "check")
    say("zpark check with an API token: " + " | ".join(l for l in out.splitlines() if l.startswith(("Zabbix", "Graphs"))))
    check("Graphs: off (ZABBIX_API_TOKEN cannot open a Zabbix frontend session" in out,
          "zpark check does not say graphs are off with a token:\n" + out)

    e2e.start_zpark(env, ready="graphs are on", seconds=30)  # the frontend login at start

    # A host with a numeric trapper item, a text item, and a trigger on the numeric one.
    tag = "%04x" % random.randrange(0x10000)
    host = "zg%s-db01" % tag
    gid = zbx.create("hostgroup.create", {"name": "Zpark graph %s" % tag}, "groupids", "hostgroup.delete")
    hid = zbx.create("host.create", {"host": host, "groups": [{"groupid": gid}]}, "hostids", "host.delete")
    item = zbx.call("item.create", {"hostid": hid, "name": "CPU load", "key_": "zg.load", "type": 2,
                                    "value_type": 0})["itemids"][0]
    zbx.call("item.create", {"hostid": hid, "name": "Agent version", "key_": "zg.version", "type": 2, "value_type": 4})
    trigger = zbx.call("trigger.create", {"description": "Load high on {HOST.NAME}", "priority": 4,
                                          "expression": "last(/%s/zg.load)>5" % host})["triggerids"][0]
    e2e.reload_config()

    def send(value):
        e2e.send_value(host, "zg.load", value)

    send(1)
    time.sleep(4)  # a 6.0 configuration sync is not atomic (test/zabbix/README.md)
    send(2)
    send(9)
    event = wait_for(lambda: zbx.call("problem.get", {"objectids": [trigger], "output": ["eventid"]}), 60,
                     "the problem in Zabbix")[0]["eventid"]
    say("host %s item %s trigger %s event %s" % (host, item, trigger, event))

    seen = {"n": 0}

    def post_alert(subject, trigger_id):
        alert = {"to": "alice@example.com", "subject": subject, "message": "load 9", "event_id": event,
                 "event_value": "1", "update_status": "0", "severity": "High", "nseverity": "4", "host": host,
                 "trigger_id": trigger_id}
        t0 = time.time()
        e2e.post_alert(port, alert)
        root = wait_for(lambda: next((x for x in emu.messages() if x.get("personId") == bot["id"]
                                      and not x.get("parentId") and subject in (x.get("markdown") or "")), None),
                        30, "the alert in Webex")
        return root, time.time() - t0

    def graph_in(root):
        return wait_for(lambda: next((f for f in emu.files() if f["parentId"] == root["id"]), None), 60,
                        "the graph in the alert's thread")

    def check_png(f, what):
        check(f["contentType"] == "image/png", "%s: content type %s" % (what, f["contentType"]))
        check(f["head"].startswith(PNG), "%s: not a PNG: %s" % (what, f["head"]))
        # An empty chart of the real frontend is about 20 KB; HTML or an error would be smaller
        # or refused before the upload.
        check(f["size"] > 10000, "%s: only %d bytes" % (what, f["size"]))

    # 1. The alert, then its graph in its thread.
    root, took = post_alert("Problem: Load high on %s" % host, trigger)
    f = graph_in(root)
    check_png(f, "alert graph")
    check(f["roomId"] == root["roomId"], "graph in another room: %s" % f)
    check(f["markdown"] == "**%s**: CPU load (last 30m)" % host, "caption: %s" % f["markdown"])
    posts = [r for r in emu.req("GET", "/_emu/requests")["requests"]
             if r["method"] == "POST" and r["path"] == "/v1/messages"
             and (r.get("body") or {}).get("multipart")]
    check(posts, "no multipart POST /v1/messages in the emulator's request log")
    say("1. alert in %.2f s, graph %s (%d bytes) in its thread" % (took, f["name"], f["size"]))

    # 2. No trigger id: found through the event.
    root2, _ = post_alert("Problem again: Load high on %s" % host, "{TRIGGER.ID}")
    check_png(graph_in(root2), "graph found through event.get")
    say("2. graph of an alert without a trigger id")

    # 3. The graph command from Webex.
    m = emu.req("POST", "/_emu/messages", {"personEmail": "alice@example.com",
                                           "text": "graph %s zg.load 30m" % host, "deliver": False})
    envelope = json.dumps({"id": "WH", "name": "Zpark", "resource": "messages", "event": "created",
                           "actorId": m["personId"], "data": {"id": m["id"], "roomId": m["roomId"],
                                                               "roomType": m["roomType"],
                                                               "personId": m["personId"],
                                                               "personEmail": m["personEmail"]}}).encode()
    sig = hmac.new(secret.encode(), envelope, hashlib.sha1).hexdigest()
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/api/v1/webhook" % port, envelope,
                                                  {"Content-Type": "application/json",
                                                   "X-Spark-Signature": sig}), timeout=10)
    g = wait_for(lambda: next((x for x in emu.files() if x["roomId"] == m["roomId"] and not x["parentId"]
                               and "last 30m" in x.get("markdown", "")), None), 60, "the graph command's image")
    check_png(g, "graph command")
    say("3. graph command: %s" % g["markdown"])

    # 4. The frontend down: the alert on time, the graph counted as failed.
    def failed():
        return e2e.metric(port, "zpark_graphs_failed_total")
    before = failed()
    files_before = len(emu.files())
    proxy.down = True
    time.sleep(0.5)
    root3, took = post_alert("Problem while down: Load high on %s" % host, trigger)
    check(took < 3, "the alert took %.1f s with the frontend down" % took)
    wait_for(lambda: failed() > before, 60, "the failed graph in /metrics")
    check(len(emu.files()) == files_before, "a file was posted with the frontend down")
    check("graph not posted (the alert was delivered)" in e2e.log_text("zpark.log"), "no warning in the log")
    say("4. frontend down: alert in %.2f s, graph failure counted" % took)
    say("PASS")


e2e.run(main)
