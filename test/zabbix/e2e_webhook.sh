#!/usr/bin/env bash
# End to end through the webhook media type: Zabbix (lab.sh) -> zpark_mediatype.yaml -> Zpark ->
# Webex emulator. Imports the media type, points it at Zpark, raises, acknowledges and resolves a
# problem, and checks the emulator got problem, update and recovery for E2E_TO, in that order,
# with the update and the recovery threaded under the problem message (parentId).
#
# Environment:
#   ZABBIX_URL, SERVER_PORT, ZABBIX_SERVER_CONF   or LAB_STATE=STATE_DIR of lab.sh
#   ZPARK_URL        Zpark as the Zabbix server reaches it, e.g. http://127.0.0.1:PORT
#   ZPARK_API_TOKEN  Zpark's API token
#   EMU_URL          Webex emulator, e.g. https://127.0.0.1:PORT (GET /_emu/messages)
#   EMU_CA           CA file for the emulator's certificate (optional for http)
#   E2E_TO           recipient (default alice@example.com); E2E_KEEP=1 keeps the Zabbix objects
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

load_lab_env
need_env ZABBIX_URL ZPARK_URL ZPARK_API_TOKEN EMU_URL SERVER_PORT
zbx_login

zbx_import_mediatype "$here/../../zabbix/zpark_mediatype.yaml"
mediatype=$(zbx_call mediatype.get '{"output":"extend","filter":{"name":"Zpark"}}')
update=$(printf '%s' "$mediatype" | python3 -c '
import json, sys
m = json.load(sys.stdin)[0]
params = []
for p in m["parameters"]:
    v = p["value"]
    if p["name"] == "zpark_url":
        v = sys.argv[1]
    elif p["name"] == "zpark_token":
        v = sys.argv[2]
    params.append({"name": p["name"], "value": v})
print(json.dumps({"mediatypeid": m["mediatypeid"], "status": 0, "parameters": params}))' \
    "$ZPARK_URL" "$ZPARK_API_TOKEN")
mtid=$(zbx_call mediatype.update "$update" | jpy 'r["mediatypeids"][0]')
say "media type Zpark ($mtid) imported, zpark_url=$ZPARK_URL"

e2e_flow "$mtid" 1
