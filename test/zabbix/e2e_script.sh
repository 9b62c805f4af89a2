#!/usr/bin/env bash
# End to end through the script media type: Zabbix (lab.sh) -> zpark_alert.sh -> Zpark -> Webex
# emulator. Copies zabbix/zpark_alert.sh into the server's AlertScriptsPath with a
# zpark_alert.conf beside it, creates a script media type "Zpark script" with the parameters
# {ALERT.SENDTO} {ALERT.SUBJECT} {ALERT.MESSAGE}, raises, acknowledges and resolves a problem, and
# checks the emulator got problem, update and recovery for E2E_TO in that order (no event id
# reaches Zpark this way, so no threading is expected).
#
# Environment:
#   ZABBIX_URL, SERVER_PORT, ZABBIX_SERVER_CONF, ALERT_SCRIPTS_PATH   or LAB_STATE=STATE_DIR
#   ZPARK_URL, ZPARK_API_TOKEN   Zpark as the Zabbix server reaches it; ZPARK_CA_FILE optional
#   EMU_URL, EMU_CA              Webex emulator (GET /_emu/messages), its CA file
#   E2E_TO (default alice@example.com), E2E_KEEP=1 keeps the Zabbix objects
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

load_lab_env
need_env ZABBIX_URL ZPARK_URL ZPARK_API_TOKEN EMU_URL SERVER_PORT ALERT_SCRIPTS_PATH
[[ -d $ALERT_SCRIPTS_PATH ]] || fail "AlertScriptsPath $ALERT_SCRIPTS_PATH is not a directory"
install -m 755 "$here/../../zabbix/zpark_alert.sh" "$ALERT_SCRIPTS_PATH/zpark_alert.sh"
{
    printf '# written by test/zabbix/e2e_script.sh\n'
    printf 'ZPARK_URL=%s\n' "$ZPARK_URL"
    printf 'ZPARK_API_TOKEN=%s\n' "$ZPARK_API_TOKEN"
    [[ -z ${ZPARK_CA_FILE:-} ]] || printf 'ZPARK_CA_FILE=%s\n' "$ZPARK_CA_FILE"
} >"$ALERT_SCRIPTS_PATH/zpark_alert.conf"
chmod 600 "$ALERT_SCRIPTS_PATH/zpark_alert.conf"
say "zpark_alert.sh and zpark_alert.conf installed in $ALERT_SCRIPTS_PATH"

zbx_login

# 6.0 takes the script's arguments as exec_params (one per line); 6.4+ as parameters.
mediatype=$(python3 -c '
import json, sys
version = tuple(int(x) for x in sys.argv[1].split(".")[:2])
args = ["{ALERT.SENDTO}", "{ALERT.SUBJECT}", "{ALERT.MESSAGE}"]
m = {"name": "Zpark script", "type": 1, "exec_path": "zpark_alert.sh", "status": 0,
     "maxattempts": 3, "attempt_interval": "10s",
     "message_templates": [
        {"eventsource": 0, "recovery": 0, "subject": "Problem: {EVENT.NAME}",
         "message": "Problem started at {EVENT.TIME} on {EVENT.DATE}\nProblem name: {EVENT.NAME}\nHost: {HOST.NAME}\nSeverity: {EVENT.SEVERITY}"},
        {"eventsource": 0, "recovery": 1, "subject": "Resolved in {EVENT.DURATION}: {EVENT.NAME}",
         "message": "Problem has been resolved at {EVENT.RECOVERY.TIME} on {EVENT.RECOVERY.DATE}\nProblem name: {EVENT.NAME}\nHost: {HOST.NAME}"},
        {"eventsource": 0, "recovery": 2, "subject": "Updated problem: {EVENT.NAME}",
         "message": "{USER.FULLNAME} {EVENT.UPDATE.ACTION} problem at {EVENT.UPDATE.DATE} {EVENT.UPDATE.TIME}.\n{EVENT.UPDATE.MESSAGE}\nHost: {HOST.NAME}"}]}
if version >= (6, 4):
    m["parameters"] = [{"sortorder": i, "value": v} for i, v in enumerate(args)]
else:
    m["exec_params"] = "".join(a + "\n" for a in args)
print(json.dumps(m))' "$ZBX_VERSION")
existing=$(zbx_call mediatype.get '{"output":["mediatypeid"],"filter":{"name":"Zpark script"}}' | jpy 'r[0]["mediatypeid"] if r else ""')
if [[ -n $existing ]]; then
    mtid=$(zbx_call mediatype.update "$(printf '%s' "$mediatype" | jpy "dict(r, mediatypeid='$existing')")" | jpy 'r["mediatypeids"][0]')
else
    mtid=$(zbx_call mediatype.create "$mediatype" | jpy 'r["mediatypeids"][0]')
fi
say "script media type Zpark script ($mtid) ready"

e2e_flow "$mtid" 0
