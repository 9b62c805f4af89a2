#!/usr/bin/env python3
"""No double news, through the real Zabbix update path.

Real Zabbix 6.0 (lab.sh) with our shipped webhook media type (zabbix/zpark_mediatype.yaml, pointed
at the zpark under test), the Webex emulator, the real zpark binary. A user whose media sends to
alice@example.com through Zpark, and an action with problem AND update operations for one trigger.

  1. The problem fires: Zabbix's PROBLEM message reaches Alice's room (with its card in the thread).
  2. Alice answers in the alert's thread `ack EVENTID <words>`: the bot's reply arrives, in the thread.
  3. Zabbix runs the update operation for that ack and really calls Zpark (alert.get: the update
     alert sent, i.e. Zpark answered 2xx; zpark_alerts_bot_updates_skipped_total 0 -> 1; zpark's
     log), and Alice's room gets nothing more: the bot's reply was the news.
  4. Another Zabbix user (not Zpark's account) acknowledges the same problem through the API with
     a message: that update DOES arrive, in the alert's thread, and nothing is counted as skipped.

Usage: e2e_bot_updates.py ZPARK_BIN EMULATOR_BIN CERT_DIR LAB_STATE
Standard library only. Loopback only. Every wait is bounded (the escalator runs every few seconds:
60 s per step at most); the whole run takes about 30 s.
"""
import os
import random
import time

import e2e_lib as e2e
from e2e_lib import check, say, wait_for

e2e.init("zpark-updates-e2e-")
MEDIATYPE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "zabbix", "zpark_mediatype.yaml")
SKIPPED = "zpark_alerts_bot_updates_skipped_total"


def main():
    # Graphs off: only text and the card in the thread, so "nothing more" is exact.
    s = e2e.Setup(webhook=True, ZPARK_GRAPHS="false", ZPARK_LOG_LEVEL="debug")
    zbx, emu, bot, port, env = s.zbx, s.emu, s.bot, s.port, s.env
    rc, out, err = e2e.zpark_cli(env, "webhook", "create")
    check(rc == 0, "zpark webhook create failed (%d): %s %s" % (rc, out, err))
    e2e.start_zpark(env)

    # The shipped media type, imported and pointed at this zpark (as e2e_webhook.sh does).
    ok = zbx.call("configuration.import", {
        "format": "yaml", "source": open(MEDIATYPE, encoding="utf-8").read(),
        "rules": {"mediaTypes": {"createMissing": True, "updateExisting": True}}})
    check(ok is True, "configuration.import of %s answered %r" % (MEDIATYPE, ok))
    mt = zbx.call("mediatype.get", {"output": "extend", "filter": {"name": "Zpark"}})[0]
    params = [{"name": p["name"], "value": {"zpark_url": "http://127.0.0.1:%d" % port,
                                            "zpark_token": e2e.API_TOKEN}.get(p["name"], p["value"])}
              for p in mt["parameters"]]
    mtid = zbx.call("mediatype.update", {"mediatypeid": mt["mediatypeid"], "status": 0,
                                          "parameters": params})["mediatypeids"][0]

    # A host, a trapper item, a trigger; a user who gets its messages through Zpark, and Bob, who
    # may act on it (the "other user" of step 4); an action with problem and update operations.
    tag = "%04x" % random.randrange(0x10000)
    host = "zu%s-db01" % tag
    gid = zbx.create("hostgroup.create", {"name": "Zpark updates %s" % tag}, "groupids", "hostgroup.delete")
    hid = zbx.create("host.create", {"host": host, "groups": [{"groupid": gid}]}, "hostids", "host.delete")
    zbx.call("item.create", {"hostid": hid, "name": "queue", "key_": "zu.queue", "type": 2, "value_type": 3})
    trigger = zbx.call("trigger.create", {"description": "Queue stuck on {HOST.NAME} %s" % tag, "priority": 4,
                                          "expression": "last(/%s/zu.queue)>0" % host})["triggerids"][0]
    ugid = zbx.create("usergroup.create", {"name": "Zpark updates %s" % tag,
                                           "rights": [{"id": gid, "permission": 3}]}, "usrgrpids", "usergroup.delete")
    password = "Zu-%s-%d-pw" % (tag, random.randrange(1 << 30))
    uid = zbx.create("user.create", {
        "username": "zu%s-alice" % tag, "passwd": password, "roleid": "1", "usrgrps": [{"usrgrpid": ugid}],
        "medias": [{"mediatypeid": mtid, "sendto": "alice@example.com", "active": 0, "severity": 63,
                    "period": "1-7,00:00-24:00"}]}, "userids", "user.delete")
    bob = "zu%s-bob" % tag
    zbx.create("user.create", {"username": bob, "name": "Bob", "surname": "Frontend", "passwd": password,
                               "roleid": "1", "usrgrps": [{"usrgrpid": ugid}]}, "userids", "user.delete")
    op = {"operationtype": 0, "opmessage": {"default_msg": 1, "mediatypeid": mtid}, "opmessage_usr": [{"userid": uid}]}
    action = zbx.create("action.create", {
        "name": "Zpark updates %s" % tag, "eventsource": 0, "status": 0, "esc_period": "1h",
        "filter": {"evaltype": 0, "conditions": [{"conditiontype": 2, "operator": 0, "value": trigger}]},
        "operations": [op], "update_operations": [op]}, "actionids", "action.delete")

    def alerts():  # what Zabbix sent for the action: (subject, status: 1 sent, 2 failed; error)
        return zbx.call("alert.get", {"actionids": [action], "output": ["alertid", "subject", "status", "error",
                                                                         "message"], "sortfield": "alertid"})

    e2e.reload_config()
    e2e.send_value(host, "zu.queue", 0)
    time.sleep(4)  # a 6.0 configuration sync is not atomic (test/zabbix/README.md)
    e2e.send_value(host, "zu.queue", 1)
    event = wait_for(lambda: zbx.call("problem.get", {"objectids": [trigger], "output": ["eventid"]}), 60,
                     "the problem in Zabbix")[0]["eventid"]
    say("host %s trigger %s event %s, action %s, media type %s" % (host, trigger, event, action, mtid))

    # 1. Zabbix's PROBLEM message, then its card in the thread.
    def problem():
        return next((m for m in emu.messages() if m.get("personId") == bot["id"] and not m.get("parentId")
                     and "Queue stuck on %s" % host in (m.get("markdown") or m.get("text") or "")), None)
    root = wait_for(problem, 60, lambda: "Zabbix's PROBLEM message in Alice's room (alerts: %s)" % alerts())
    check(root.get("toPersonEmail") == "alice@example.com", "the problem went elsewhere: %s" % root)
    room = root["roomId"]
    wait_for(lambda: any(m.get("parentId") == root["id"] and m.get("attachments") for m in emu.messages()), 30,
             "the problem's card")
    check(e2e.metric(port, SKIPPED) == 0, "an update skipped before any ack")
    say("1. PROBLEM message %s in room %s" % (root["id"], room))

    def in_room(since):  # every bot message in Alice's room after SINCE (cards and files too)
        return [m for m in emu.messages()[since:] if m.get("personId") == bot["id"] and m.get("roomId") == room]

    # 2. Alice acks in the alert's thread, with words of her own.
    words = "on it from Webex %s" % tag
    chat = e2e.Chat(emu, bot)
    asked_at = chat.seen
    t0 = time.time()
    reply = chat.ask("ack %s %s" % (event, words), room=room, parent=root["id"], name="Alice Example")
    md = reply.get("markdown", "")
    say("2. reply after %.1f s:\n%s" % (time.time() - t0, md))
    check(md.startswith("Acknowledged **Queue stuck on %s" % host) and "(event %s), with your message." % event in md,
          "ack reply:\n" + md)
    check(reply.get("roomId") == room and reply.get("parentId") == root["id"], "the reply is not in the thread: %s" % reply)
    said = "%s \u2014 Alice Example <alice@example.com> via Webex" % words
    history = zbx.call("event.get", {"eventids": [event], "output": ["acknowledged"],
                                     "select_acknowledges": ["message", "userid"]})[0]
    check(history["acknowledged"] == "1" and [a["message"] for a in history["acknowledges"]] == [said],
          "Zabbix's history after the bot's ack: %s" % history)

    # 3. Zabbix's update for that ack reaches Zpark (sent = Zpark answered 2xx) and is skipped.
    def update_sent():
        a = alerts()
        return len(a) >= 2 and all(x["status"] == "1" for x in a) and a
    sent = wait_for(update_sent, 60, lambda: "Zabbix to send the update of the bot's ack to Zpark (alerts: %s)" % alerts())
    check(len(sent) == 2 and said in sent[1]["message"], "Zabbix's alerts: %s" % sent)
    wait_for(lambda: e2e.metric(port, SKIPPED) == 1, 10, lambda: "%s to count the echo (the room got: %s)" % (
        SKIPPED, [m.get("markdown") for m in in_room(asked_at) if m["id"] != reply["id"]]))
    check("update not sent: the bot's reply already told it" in e2e.log_text("zpark.log"), "no log line for the echo")
    time.sleep(2)  # anything sent would have come by now
    extra = [m for m in in_room(asked_at) if m["id"] != reply["id"]]
    check(not extra, "the room got the news twice: %s" % [(m.get("parentId"), m.get("markdown")) for m in extra])
    check(not [m for m in emu.messages() if words in (m.get("markdown") or m.get("text") or "")
               and m.get("personId") == bot["id"]], "the bot repeated Alice's words")
    say("3. Zabbix sent the update %.1f s after the ack; skipped, the room got nothing more" % (time.time() - t0))

    # 4. Bob, another Zabbix user, acks through the API: his update is news, in the thread.
    before = len(emu.messages())
    note = "frontend note %s" % tag
    e2e.Zabbix(username=bob, password=password).call("event.acknowledge", {"eventids": [event], "action": 6, "message": note})
    t1 = time.time()
    update = wait_for(lambda: next((m for m in in_room(before) if note in (m.get("markdown") or "")), None), 60,
                      lambda: "Bob's update in Alice's room (alerts: %s)" % alerts())
    say("4. Bob's update after %.1f s:\n%s" % (time.time() - t1, update.get("markdown")))
    check(update.get("parentId") == root["id"], "Bob's update is not in the problem's thread: %s" % update)
    check("UPDATE" in update.get("markdown", "") and "Bob Frontend" in update.get("markdown", ""),
          "not an update naming Bob: %s" % update.get("markdown"))
    check(e2e.metric(port, SKIPPED) == 1, "Bob's update counted as the bot's echo")
    time.sleep(1)
    check([m["id"] for m in in_room(before)] == [update["id"]], "more than Bob's update: %s" % in_room(before))
    say("PASS (%.1f s)" % (time.time() - e2e.T0))


e2e.run(main)
