#!/usr/bin/env python3
"""Bot commands end to end, as an admin sets them up and a user uses them.

Real Zabbix 6.0 (lab.sh), our Webex emulator, the real zpark binary. The test registers the
webhook with `zpark webhook create`, creates hosts, items, triggers and problems in Zabbix,
writes to the bot through the emulator (which signs and delivers the webhook like Webex) and
checks each reply against what Zabbix itself says: trigger.get for problems, the server's own
status.get (trapper port, as the dashboard's System information widget) for show status.
Zabbix is then taken down behind a TCP proxy mid-test: one trouble reply, then the report.
Last, acting from Webex: `ack` by command (Zabbix's history names the Webex user; a second ack
acknowledges nothing more), `ack` without an event id written in the thread of an alert Zpark
posted (see THREAD_REPLIES_WIRED), and the Acknowledge button of the alert's card pressed twice.

Usage: e2e_commands.py ZPARK_BIN EMULATOR_BIN CERT_DIR LAB_STATE
Standard library only. Loopback only. Stops by itself (every wait is bounded).
"""
import json
import os
import random
import re
import socket
import struct
import time

import e2e_lib as e2e
from e2e_lib import check, say, wait_for

e2e.init("zpark-cmd-e2e-")
# An `ack` without an event id in an alert's thread: the runner's event_for_thread, wired by
# app/command_path.cpp to the outbox's thread roots (ZPARK_E2E_THREAD_REPLIES=0 checks the old
# answer, asking for the event id).
THREAD_REPLIES_WIRED = os.environ.get("ZPARK_E2E_THREAD_REPLIES", "1") == "1"


# ---- Zabbix: the trapper's status.get -------------------------------------------------------
def trapper_status(sid):
    data = json.dumps({"request": "status.get", "type": "full", "sid": sid}).encode()
    with socket.create_connection(("127.0.0.1", e2e.TRAPPER_PORT), timeout=10) as s:
        s.sendall(b"ZBXD\x01" + struct.pack("<II", len(data), 0) + data)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    check(buf[:5] == b"ZBXD\x01", "trapper answer without the ZBXD header: %r" % buf[:20])
    (length,) = struct.unpack("<I", buf[5:9])
    answer = json.loads(buf[13:13 + length])
    check(answer.get("response") == "success", "status.get refused: %s" % answer)
    return answer["data"]


def dashboard_figures(data):
    """What the 6.0 frontend's System information widget shows, from status.get (proxy 0 only)."""
    def total(name, **attrs):
        n = 0
        for e in data.get(name, []):
            a = e.get("attributes", {})
            if int(a.get("proxyid", 0)) != 0:
                continue
            if all(str(a.get(k)) == str(v) for k, v in attrs.items()):
                n += int(e["count"])
        return n
    f = {
        "hosts_enabled": total("host stats", status=0),
        "hosts_disabled": total("host stats", status=1),
        "templates": sum(int(e["count"]) for e in data.get("template stats", [])),
        "items_enabled": total("item stats", status=0, state=0),
        "items_disabled": total("item stats", status=1),
        "items_not_supported": total("item stats", status=0, state=1),
        "triggers_enabled": total("trigger stats", status=0),
        "triggers_disabled": total("trigger stats", status=1),
        "triggers_problem": total("trigger stats", status=0, value=1),
        "triggers_ok": total("trigger stats", status=0, value=0),
        "users": sum(int(e["count"]) for e in data.get("user stats", [])),
    }
    return f


# ---- the test -------------------------------------------------------------------------------
def main():
    s = e2e.Setup(through_proxy=True, webhook=True, SPARK_TRUSTED_USERS="alice@example.com,@ops.example.org",
                  ZPARK_CONTACT_INFO="the NOC (ext. 4242)", ZPARK_COMMAND_RETRY_DELAY="2",
                  ZPARK_COMMAND_RETRIES="5")
    zbx, emu, bot, proxy, port, env = s.zbx, s.emu, s.bot, s.proxy, s.port, s.env

    # 1. Connect the bot as README says: zpark webhook create (twice: no duplicate).
    for _ in range(2):
        rc, out, err = e2e.zpark_cli(env, "webhook", "create")
        check(rc == 0, "zpark webhook create failed (%d): %s %s" % (rc, out, err))
    rc, out, err = e2e.zpark_cli(env, "webhook", "list", "--json")
    hooks = json.loads(out)
    # Two: messages (commands) and attachmentActions (the buttons of the alert cards).
    check(len(hooks) == 2, "webhook create twice made %d webhooks" % len(hooks))
    check(sorted(h["resource"] for h in hooks) == ["attachmentActions", "messages"], hooks)
    check(all(h["targetUrl"] == "http://127.0.0.1:%d/api/v1/webhook" % port for h in hooks), hooks)
    check(env["SPARK_WEBHOOK_SECRET"] not in out + err, "webhook list printed the secret")

    zpark = e2e.start_zpark(env)

    # 2. Zabbix objects: one group, three hosts (one disabled), trapper items, triggers.
    tag = "%04x" % random.randrange(0x10000)
    group = "Zpark cmd %s" % tag
    gid = zbx.create("hostgroup.create", {"name": group}, "groupids", "hostgroup.delete")
    hosts = {}
    for name, status in (("zc%s-db01" % tag, 0), ("zc%s-db02" % tag, 0), ("zc%s-off" % tag, 1)):
        hosts[name] = zbx.create("host.create", {
            "host": name, "status": status, "groups": [{"groupid": gid}],
            "interfaces": [{"type": 1, "main": 1, "useip": 1, "ip": "127.0.0.1", "dns": "", "port": "10050"}],
        }, "hostids", "host.delete")
    db01, db02 = "zc%s-db01" % tag, "zc%s-db02" % tag
    for name in (db01, db02):
        zbx.call("item.create", {"hostid": hosts[name], "name": "load", "key_": "zc.load", "type": 2, "value_type": 3})
    triggers = [  # (host, description, priority, threshold)
        (db01, "Disk *full* on {HOST.NAME} <@all>", 4, 0),
        (db01, "Load high on {HOST.NAME}", 2, 1),
        (db02, "Database down on {HOST.NAME}", 5, 0),
    ]
    for host, desc, prio, thr in triggers:
        zbx.call("trigger.create", {"description": desc, "priority": prio,
                                    "expression": "last(/%s/zc.load)>%d" % (host, thr)})
    e2e.reload_config()

    def send(host, value):
        e2e.send_value(host, "zc.load", value)

    send(db01, 0)
    send(db02, 0)
    time.sleep(4)  # a 6.0 configuration sync is not atomic (test/zabbix/README.md)
    send(db01, 5)
    send(db02, 5)

    def our_problems():
        return zbx.call("trigger.get", {
            "groupids": [gid], "only_true": 1, "skipDependent": 1, "monitored": 1, "active": 1,
            "withLastEventUnacknowledged": 1, "expandDescription": 1, "filter": {"value": 1},
            "selectHosts": ["host"], "selectLastEvent": ["eventid"], "output": ["description", "priority"]})
    problems = wait_for(lambda: len(our_problems()) == 3 and our_problems(), 60, "three problems in Zabbix")
    say("problems raised:", [(p["hosts"][0]["host"], p["description"], p["lastEvent"]["eventid"]) for p in problems])

    chat = e2e.Chat(emu, bot)

    def ask(text, **kw):  # the markdown of the bot's reply (not an alert's graph or card)
        return chat.ask(text, **kw).get("markdown", "")

    # 3. show issues: every problem of our group, exact, with event ids; newest/most severe first.
    md = ask("show issues group \"%s\"" % group)
    say("show issues group:\n" + md)
    check("**3**" in md, "count of 3 missing")
    for p in problems:
        check(p["lastEvent"]["eventid"] in md, "event %s missing" % p["lastEvent"]["eventid"])
        check(p["hosts"][0]["host"] in md, "host missing")
    check("<@all>" not in md and "*full*" not in md, "Zabbix text not escaped:\n" + md)
    lines = [l for l in md.splitlines() if db01 in l or db02 in l]
    check(len(lines) == 3 and all(re.match(r"^[-*\s]*(%s|%s)" % (db01, db02), l) for l in lines),
          "one line per problem, starting with the host:\n" + md)
    md = ask("show issues severity>=high group \"%s\"" % group)
    check("**2**" in md and "Load high" not in md and "Database down" in md, "severity filter:\n" + md)
    md = ask("SHOW   issues host %s" % db02)
    check("**one**" in md and "Database down" in md and "Disk" not in md, "host filter:\n" + md)
    md = ask("show issues group \"%s\" limit 1" % group)
    check("2 more" in md and md.count("event") >= 1, "limit with 'and N more':\n" + md)

    # 4. show status in a group room, mention by first name only: every figure as the dashboard.
    sid = zbx.auth
    md = ask("show status", room="GROUP-E2E", mention="Zed")
    say("show status:\n" + md)
    fig = dashboard_figures(trapper_status(sid))
    check("<@personEmail:alice@example.com" in md, "no greeting in a group room")
    def nums(label):
        line = next((l for l in md.splitlines() if label in l.lower()), "")
        return [int(x) for x in re.findall(r"\d+", line)]
    h, i, t = nums("hosts"), nums("items"), nums("triggers")
    check(h[:3] == [fig["hosts_enabled"], fig["hosts_disabled"], fig["templates"]], "hosts %s vs %s" % (h, fig))
    check(i[:3] == [fig["items_enabled"], fig["items_disabled"], fig["items_not_supported"]], "items %s vs %s" % (i, fig))
    for k in ("triggers_enabled", "triggers_disabled", "triggers_problem", "triggers_ok"):
        check(fig[k] in t, "%s=%d not in %s" % (k, fig[k], t))
    check(fig["users"] in nums("users"), "users %d vs %s" % (fig["users"], nums("users")))

    # 5. show host: details, none, several.
    md = ask("show host %s" % db01)
    check(group in md and "127.0.0.1" in md and "Load high" in md, "show host:\n" + md)
    md = ask("show host no-such-host-%s" % tag)
    check("no-such-host-%s" % tag in md, "not found reply:\n" + md)
    md = ask("show host zc%s" % tag)
    check(db01 in md and db02 in md, "several hosts:\n" + md)

    # 6. Zabbix goes down mid-test: one trouble reply at once, then the report once it is back.
    proxy.down = True
    md = ask("show issues group \"%s\"" % group)
    check("Zabbix" in md and "ext. 4242" in md, "trouble reply:\n" + md)
    time.sleep(3)
    check(not chat.from_bot(text_only=False), "second error reply")
    proxy.down = False
    r = wait_for(lambda: (chat.from_bot(text_only=False) or [None])[0], 40, "the report after Zabbix is back")
    check("**3**" in r.get("markdown", ""), "report after retry:\n" + r.get("markdown", ""))
    chat.seen = len(emu.messages())
    time.sleep(1)
    check(len(chat.from_bot(text_only=False)) == 0, "extra replies")

    # 7. The server's own figures when ZABBIX_SERVER_ADDRESS is set (restart zpark with it).
    zpark.terminate()
    zpark.wait(timeout=15)
    env["ZABBIX_SERVER_ADDRESS"] = "127.0.0.1:%d" % e2e.TRAPPER_PORT
    e2e.start_zpark(env)
    md = ask("show status")
    fig = dashboard_figures(trapper_status(sid))
    h, i = nums("hosts"), nums("items")
    check(h[:3] == [fig["hosts_enabled"], fig["hosts_disabled"], fig["templates"]], "server hosts %s vs %s" % (h, fig))
    check(i[:3] == [fig["items_enabled"], fig["items_disabled"], fig["items_not_supported"]], "server items")

    # 8. Acting from Webex. ack by command: acknowledged, and Zabbix's history names the Webex
    # user (the API account is the author Zabbix records); a second ack acknowledges nothing more.
    def event_of(host, words):
        return next(p["lastEvent"]["eventid"] for p in problems if p["hosts"][0]["host"] == host and words in p["description"])

    def history(eventid):
        return zbx.call("event.get", {"eventids": [eventid], "output": ["acknowledged"],
                                      "select_acknowledges": ["action", "message"]})[0]

    down = event_of(db02, "Database down")
    md = ask("ack %s on it, restarting" % down, name="Alice Example")
    say("ack:\n" + md)
    check(md.startswith("Acknowledged **Database down on") and "(event %s), with your message." % down in md, "ack reply:\n" + md)
    h = history(down)
    check(h["acknowledged"] == "1", "not acknowledged in Zabbix: %s" % h)
    check([a["message"] for a in h["acknowledges"]] == ["on it, restarting \u2014 Alice Example <alice@example.com> via Webex"],
          "history does not name the Webex user: %s" % h)
    md = ask("ack %s" % down)
    check("was already acknowledged by Alice Example" in md and "nothing changed" in md, "second ack:\n" + md)
    check(len(history(down)["acknowledges"]) == 1, "a second ack changed the history: %s" % history(down))

    # ack without an event id, written in the thread of the alert Zpark posted for a problem.
    def post_alert(eventid, subject):
        alert = {"to": "alice@example.com", "subject": subject, "message": subject,
                 "event_id": eventid, "event_value": "1", "update_status": "0", "severity": "Warning",
                 "nseverity": "2", "host": db01}
        e2e.post_alert(port, alert)
        root = wait_for(lambda: next((x for x in emu.messages()[chat.seen:] if x.get("personId") == bot["id"]
                                      and subject in (x.get("markdown") or x.get("text") or "")), None),
                        30, "the alert in Webex")
        # The card with the buttons follows in the alert's thread; the root itself has none.
        card = wait_for(lambda: next((x for x in emu.messages() if x.get("personId") == bot["id"]
                                      and x.get("parentId") == root["id"] and x.get("attachments")), None),
                        30, "the alert's card")
        check(not root.get("attachments"), "the alert message carries a card: %s" % root)
        chat.seen = len(emu.messages())
        return root, card

    load = event_of(db01, "Load high")
    root, _ = post_alert(load, "Problem: Load high on %s" % db01)
    md = ask("ack looking into it", parent=root["id"])
    say("ack in the alert's thread:\n" + md)
    if THREAD_REPLIES_WIRED:
        check(md.startswith("Acknowledged **Load high on") and "(event %s)" % load in md, "thread ack:\n" + md)
        check(history(load)["acknowledged"] == "1", "thread ack did not acknowledge %s" % load)
    else:
        check("I can't tell which problem this thread is about" in md, "thread ack before wiring:\n" + md)
        check(history(load)["acknowledged"] == "0", "acknowledged without an event id")
    reply = next(x for x in reversed(emu.messages()) if x.get("personId") == bot["id"])
    check(reply.get("parentId") == root["id"], "the reply is not in the alert's thread: %s" % reply)

    # A card button, pressed twice (a double click: two attachment actions), through the
    # emulator's signed attachmentActions webhook: acknowledged once, the Webex user named.
    disk = event_of(db01, "Disk")
    root, card = post_alert(disk, "Problem: Disk full on %s" % db01)
    for _ in range(2):
        emu.req("POST", "/_emu/attachment_actions", {"messageId": card["id"], "personEmail": "alice@example.com",
                                                     "displayName": "Alice Example",
                                                     "inputs": {"zpark": "ack", "event": disk, "comment": ""},
                                                     "deliver": True})
    def acked():  # the bot's text replies (graphs of the alert, when on, come as files)
        new = [x for x in chat.from_bot() if "Acknowledged" in x.get("markdown", "")]
        return new if new else None
    new = wait_for(acked, 30, "the reply to the button")
    time.sleep(3)
    new = acked()
    say("button:\n" + new[0].get("markdown", ""))
    check(len(new) == 1, "two replies to a double press: %s" % [x.get("markdown") for x in new])
    check(new[0]["markdown"].startswith("Acknowledged **Disk") and "(event %s)" % disk in new[0]["markdown"],
          "button reply:\n" + new[0]["markdown"])
    check(new[0].get("parentId") == root["id"], "the button's reply is not in the alert's thread")
    h = history(disk)
    check(h["acknowledged"] == "1", "the button did not acknowledge %s: %s" % (disk, h))
    check([a["message"] for a in h["acknowledges"]] == ["Acknowledged by Alice Example <alice@example.com> via Webex"],
          "a double press must acknowledge once, naming the Webex user: %s" % h)
    say("PASS")  # e2e.run deletes what the test made in Zabbix


e2e.run(main)
