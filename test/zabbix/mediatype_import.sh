#!/usr/bin/env bash
# Imports zabbix/zpark_mediatype.yaml into a running Zabbix with configuration.import (twice:
# create, then update in place) and checks the stored media type: webhook, parameters, script,
# retries, timeout and the three trigger message templates.
#
#   ZABBIX_URL=http://127.0.0.1:PORT test/zabbix/mediatype_import.sh
#   LAB_STATE=STATE_DIR test/zabbix/mediatype_import.sh      (reads ZABBIX_URL from lab.sh's env)
# Optional: ZABBIX_USER / ZABBIX_PASSWORD (Admin / zabbix), MEDIATYPE_FILE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

file=${MEDIATYPE_FILE:-$here/../../zabbix/zpark_mediatype.yaml}
[[ -f $file ]] || fail "media type file $file not found"
load_lab_env
need_env ZABBIX_URL
zbx_login

for round in create update; do
    zbx_import_mediatype "$file"
    say "configuration.import ($round) answered true"
done

got=$(zbx_call mediatype.get '{"output":"extend","selectMessageTemplates":"extend","filter":{"name":"Zpark"}}')
printf '%s' "$got" | python3 -c '
import json, sys
found = json.load(sys.stdin)
problems = []
if len(found) != 1:
    sys.exit("expected one media type named Zpark, found %d" % len(found))
m = found[0]
def check(ok, what):
    if not ok:
        problems.append(what)
check(m["type"] == "4", "type is %s, want 4 (webhook)" % m["type"])
check(m["status"] == "0", "status is %s, want 0 (enabled)" % m["status"])
check(m.get("maxattempts") == "3", "maxattempts is %s, want 3" % m.get("maxattempts"))
check(m.get("attempt_interval") == "10s", "attempt_interval is %s" % m.get("attempt_interval"))
check(m.get("timeout") == "10s", "timeout is %s" % m.get("timeout"))
script = m.get("script", "")
check("/api/v1/alert" in script and "Token: " in script and "HttpRequest" in script,
      "script does not post to /api/v1/alert with a Token header")
params = {p["name"]: p["value"] for p in m.get("parameters", [])}
want = {
    "to": "{ALERT.SENDTO}", "subject": "{ALERT.SUBJECT}", "message": "{ALERT.MESSAGE}",
    "event_id": "{EVENT.ID}", "event_value": "{EVENT.VALUE}",
    "event_update_status": "{EVENT.UPDATE.STATUS}", "event_update_action": "{EVENT.UPDATE.ACTION}",
    "event_update_message": "{EVENT.UPDATE.MESSAGE}", "event_update_user": "{USER.FULLNAME}",
    "event_severity": "{EVENT.SEVERITY}", "event_nseverity": "{EVENT.NSEVERITY}",
    "event_tags": "{EVENT.TAGSJSON}", "event_recovery_id": "{EVENT.RECOVERY.ID}",
    "host_name": "{HOST.NAME}", "trigger_id": "{TRIGGER.ID}",
}
for k, v in want.items():
    check(params.get(k) == v, "parameter %s is %r, want %r" % (k, params.get(k), v))
for k in ("zpark_url", "zpark_token"):
    check(k in params, "parameter %s missing" % k)
# message templates: eventsource 0 (triggers), recovery 0 problem / 1 recovery / 2 update
modes = {}
for t in m.get("message_templates", []):
    if t["eventsource"] == "0":
        modes[t["recovery"]] = t
for mode, name in (("0", "PROBLEM"), ("1", "RECOVERY"), ("2", "UPDATE")):
    t = modes.get(mode)
    check(t is not None and t["subject"] and t["message"], "no %s message template" % name)
check("{EVENT.UPDATE.MESSAGE}" in modes.get("2", {}).get("message", ""),
      "UPDATE template lacks {EVENT.UPDATE.MESSAGE}")
if problems:
    sys.exit("; ".join(problems))
print("media type %s: %d parameters, %d message templates" % (m["mediatypeid"], len(params), len(m["message_templates"])))
' >&2 || fail "imported media type is not as shipped"

say "PASS ($(elapsed) s)"
