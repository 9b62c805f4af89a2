# shellcheck shell=bash
# Helpers for the Zabbix test scripts (sourced, not run). Needs bash, curl and python3 (standard
# library only).
#
# Settings come from the environment; a lab's STATE_DIR/env fills what is not set when
# LAB_STATE=STATE_DIR is given (see lab.sh):
#   ZABBIX_URL            frontend base, e.g. http://127.0.0.1:PORT (API at /api_jsonrpc.php)
#   ZABBIX_USER / ZABBIX_PASSWORD   API account (default Admin / zabbix)
#   SERVER_PORT           zabbix_server trapper port (for zabbix_sender)
#   ZABBIX_SERVER_CONF    zabbix_server.conf (for `zabbix_server -R config_cache_reload`)
#   ALERT_SCRIPTS_PATH    the server's AlertScriptsPath

# Our calls go to loopback: never through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

ZT_NAME=${ZT_NAME:-$(basename "$0" .sh)}
ZT_T0=$(date +%s)
# Every wait stops at this deadline (default 170 s after start), so a run stays under 3 minutes.
ZT_DEADLINE=$((SECONDS + ${E2E_BUDGET:-170}))
ZBX_AUTH=

say() { printf '%s: %s\n' "$ZT_NAME" "$*" >&2; }
fail() {
    printf '%s: FAIL: %s\n' "$ZT_NAME" "$*" >&2
    exit 1
}
elapsed() { echo $(($(date +%s) - ZT_T0)); }

# Reads KEY=value lines from a lab's env file; variables already set win.
load_lab_env() {
    local file=${LAB_STATE:+$LAB_STATE/env} k v
    [[ -n $file ]] || return 0
    [[ -f $file ]] || fail "LAB_STATE=$LAB_STATE has no env file (run test/zabbix/lab.sh start)"
    while IFS='=' read -r k v; do
        case $k in
            ZABBIX_URL | SERVER_PORT | ZABBIX_SERVER_CONF | ALERT_SCRIPTS_PATH)
                [[ -n ${!k:-} ]] || printf -v "$k" '%s' "$v"
                ;;
        esac
    done <"$file"
}

need_env() {
    local k
    for k in "$@"; do [[ -n ${!k:-} ]] || fail "environment variable $k is not set"; done
}

# jpy EXPR: read JSON from stdin as r, print EXPR (strings bare, everything else as JSON).
jpy() {
    python3 -c '
import json, sys
r = json.load(sys.stdin)
v = eval(sys.argv[1], {"json": json}, {"r": r})
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# zbx_call METHOD PARAMS_JSON: print the result as JSON; fail with Zabbix's error.
zbx_call() {
    local method=$1 params=$2 answer
    answer=$(python3 -c '
import json, sys
method, params, auth = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
req = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
if auth and method not in ("apiinfo.version", "user.login"):
    req["auth"] = auth
sys.stdout.write(json.dumps(req))' "$method" "$params" "$ZBX_AUTH" |
        curl -sS --max-time 60 -H 'Content-Type: application/json-rpc' --data-binary @- \
            "${ZABBIX_URL%/}/api_jsonrpc.php") || fail "$method: no answer from $ZABBIX_URL"
    printf '%s' "$answer" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)
except ValueError:
    sys.exit("not JSON")
if "error" in r:
    e = r["error"]
    sys.exit("%s %s" % (e.get("message", ""), e.get("data", "")))
print(json.dumps(r["result"]))' || fail "Zabbix API $method failed (params $params)"
}

zbx_login() {
    need_env ZABBIX_URL
    ZBX_VERSION=$(zbx_call apiinfo.version '{}' | jpy r)
    ZBX_AUTH=$(zbx_call user.login "$(python3 -c 'import json, sys
print(json.dumps({"username": sys.argv[1], "password": sys.argv[2]}))' \
        "${ZABBIX_USER:-Admin}" "${ZABBIX_PASSWORD:-zabbix}")" | jpy r)
    say "logged in to Zabbix $ZBX_VERSION at $ZABBIX_URL"
}

# version_ge A B: true when dotted version A >= B.
version_ge() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]; }

# zbx_import_mediatype FILE: configuration.import with the media-type rules.
zbx_import_mediatype() {
    local params
    params=$(python3 -c '
import json, sys
print(json.dumps({"format": "yaml", "source": open(sys.argv[1], encoding="utf-8").read(),
    "rules": {"mediaTypes": {"createMissing": True, "updateExisting": True}}}))' "$1")
    [[ $(zbx_call configuration.import "$params" | jpy r) == true ]] ||
        fail "configuration.import of $1 did not answer true"
}

# wait_until SECONDS COMMAND...: poll about every second; false after SECONDS (or at the
# script's deadline, whichever comes first).
wait_until() {
    local end=$((SECONDS + $1))
    ((end <= ZT_DEADLINE)) || end=$ZT_DEADLINE
    shift
    while ((SECONDS < end)); do
        if "$@"; then return 0; fi
        sleep 1
    done
    "$@"
}

# zbx_send HOST KEY VALUE: zabbix_sender to the lab's trapper; retried until processed (a new
# item is only known after the configuration cache has loaded it).
zbx_send() {
    need_env SERVER_PORT
    ZT_SENDER_OUT=
    wait_until 30 zbx_send_once "$@" ||
        fail "zabbix_sender $1 $2=$3 to 127.0.0.1:$SERVER_PORT was not processed within 30 s: $ZT_SENDER_OUT"
}

zbx_send_once() {
    ZT_SENDER_OUT=$(zabbix_sender -z 127.0.0.1 -p "$SERVER_PORT" -s "$1" -k "$2" -o "$3" 2>&1) || true
    grep -q 'processed: 1' <<<"$ZT_SENDER_OUT"
}

zbx_reload_config() {
    if [[ -n ${ZABBIX_SERVER_CONF:-} ]]; then
        zabbix_server -c "$ZABBIX_SERVER_CONF" -R config_cache_reload >/dev/null 2>&1 ||
            say "config_cache_reload failed (continuing; CacheUpdateFrequency applies)"
    fi
}

# Emulator: GET EMU_URL/_emu/messages ({"messages": [...]}); prints a JSON list of the messages
# not deleted, in the order they were stored (seq).
emu_messages() {
    local ca=()
    [[ -n ${EMU_CA:-} ]] && ca=(--cacert "$EMU_CA")
    curl -sS --max-time 10 "${ca[@]}" "${EMU_URL%/}/_emu/messages" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if isinstance(r, dict):
    r = r.get("messages", r.get("items", []))
r = [m for m in r if not m.get("deleted")]
if all("seq" in m for m in r):
    r.sort(key=lambda m: m["seq"])
print(json.dumps(r))'
}

# Prints alert.get for an action (status and error of each alert), for failure reports.
zbx_alerts_report() {
    local actionid=$1
    zbx_call alert.get "{\"actionids\":[\"$actionid\"],\"output\":[\"alertid\",\"eventid\",\"p_eventid\",\"status\",\"retries\",\"error\",\"subject\",\"sendto\"],\"sortfield\":\"alertid\"}" |
        python3 -c '
import json, sys
for a in json.load(sys.stdin):
    print("  alert %(alertid)s event %(eventid)s (problem %(p_eventid)s) to %(sendto)s status %(status)s retries %(retries)s: %(subject)s %(error)s" % a)' >&2 || true
}

# ---------------------------------------------------------------------------------------------
# End-to-end flow shared by e2e_webhook.sh and e2e_script.sh.
#
# e2e_flow MEDIATYPEID THREADED
#   Creates a host group, a host with a trapper item, a trigger, a user group with read rights,
#   a user with the media (sendto $E2E_TO) and an action with problem, update and recovery
#   operations through MEDIATYPEID; raises the problem, acknowledges it with a message, resolves
#   it, and checks the emulator got problem, update, recovery for $E2E_TO in that order.
#   THREADED=1: the update and the recovery must be replies (parentId) to the problem message.
# The media type's message templates must contain "Problem started at" (problem), "Problem has
# been resolved" (recovery) and {EVENT.UPDATE.MESSAGE} (update), as zpark_mediatype.yaml's do.
# Every object made is deleted at the end unless E2E_KEEP=1.

E2E_TO=${E2E_TO:-alice@example.com}
E2E_RID=$(date +%s)$((RANDOM % 1000))
E2E_HOST=zpark-e2e-$E2E_RID
E2E_ACK="zpark e2e acknowledged $E2E_RID"
E2E_CLEANUP=()

e2e_cleanup() {
    local i
    [[ ${E2E_KEEP:-0} == 1 ]] && { say "E2E_KEEP=1: objects of run $E2E_RID kept"; return 0; }
    for ((i = ${#E2E_CLEANUP[@]} - 1; i >= 0; i--)); do
        # shellcheck disable=SC2086
        (zbx_call ${E2E_CLEANUP[i]} >/dev/null 2>&1) || true
    done
}

# e2e_create METHOD PARAMS ID_FIELD: create, remember for cleanup, print the new id.
e2e_create() {
    local id
    id=$(zbx_call "$1" "$2" | jpy "r[\"$3\"][0]") || exit 1
    printf '%s\n' "$id"
}

# e2e_messages_check THREADED FINAL: classify the emulator's messages of this run; print a
# summary; with FINAL=1 apply every assertion. Exit status 0 when the check holds.
e2e_messages_check() {
    emu_messages | python3 -c '
import json, sys
threaded, final, rid, to, ack, want = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
msgs = json.load(sys.stdin)
seen = []
for i, m in enumerate(msgs):
    body = "%s\n%s" % (m.get("text") or "", m.get("markdown") or "")
    if rid not in body:
        continue
    if ack in body:
        kind = "update"
    elif "Problem started at" in body:
        kind = "problem"
    elif "Problem has been resolved" in body:
        kind = "recovery"
    else:
        kind = "other"
    seen.append((i, kind, m))
kinds = [k for _, k, _ in seen]
if not final:
    sys.exit(0 if want in kinds else 1)
problems = []
if kinds != ["problem", "update", "recovery"]:
    problems.append("messages of this run, in order: %s; want problem, update, recovery" % (kinds or "none"))
for _, kind, m in seen:
    if m.get("toPersonEmail") != to:
        problems.append("%s message went to toPersonEmail=%r roomId=%r, want %s" % (kind, m.get("toPersonEmail"), m.get("roomId"), to))
byk = {k: m for _, k, m in seen}
if threaded and "problem" in byk:
    pid = byk["problem"].get("id")
    if byk["problem"].get("parentId"):
        problems.append("the problem message has a parentId")
    for k in ("update", "recovery"):
        if k in byk and byk[k].get("parentId") != pid:
            problems.append("%s parentId=%r, want the problem message id %r" % (k, byk[k].get("parentId"), pid))
for _, kind, m in seen:
    print("  %-8s id=%s parentId=%s to=%s text=%r" % (kind, m.get("id"), m.get("parentId"), m.get("toPersonEmail") or m.get("roomId"), (m.get("text") or "")[:90]), file=sys.stderr)
if problems:
    print("\n".join(problems))
    sys.exit(1)
' "$1" "$2" "$E2E_RID" "$E2E_TO" "$E2E_ACK" "${3:-}"
}

e2e_has_message() { e2e_messages_check 0 0 "$1" 2>/dev/null; }

e2e_wait_message() {
    local kind=$1 secs=$2 t0=$SECONDS
    if wait_until "$secs" e2e_has_message "$kind"; then
        say "$kind message arrived after $((SECONDS - t0)) s"
        return 0
    fi
    say "no $kind message for $E2E_TO after $((SECONDS - t0)) s; alerts of the action:"
    zbx_alerts_report "$E2E_ACTION"
    e2e_messages_check "$E2E_THREADED" 1 >&2 || true
    fail "$kind message did not reach the emulator"
}

e2e_flow() {
    local mtid=$1 rights_key=rights media_key=medias
    E2E_THREADED=$2
    need_env EMU_URL SERVER_PORT
    version_ge "$ZBX_VERSION" 6.2 && rights_key=hostgroup_rights
    trap e2e_cleanup EXIT

    local group host item trigger ugroup user
    group=$(e2e_create hostgroup.create "{\"name\":\"$E2E_HOST\"}" groupids)
    E2E_CLEANUP+=("hostgroup.delete [\"$group\"]")
    host=$(e2e_create host.create "{\"host\":\"$E2E_HOST\",\"groups\":[{\"groupid\":\"$group\"}]}" hostids)
    E2E_CLEANUP+=("host.delete [\"$host\"]")
    item=$(e2e_create item.create "{\"hostid\":\"$host\",\"name\":\"Zpark e2e value\",\"key_\":\"zpark.e2e\",\"type\":2,\"value_type\":3}" itemids)
    trigger=$(e2e_create trigger.create "{\"description\":\"Zpark e2e problem $E2E_RID\",\"expression\":\"last(/$E2E_HOST/zpark.e2e)>0\",\"priority\":4,\"tags\":[{\"tag\":\"zpark\",\"value\":\"e2e\"},{\"tag\":\"run\",\"value\":\"$E2E_RID\"}]}" triggerids)
    ugroup=$(e2e_create usergroup.create "{\"name\":\"$E2E_HOST\",\"$rights_key\":[{\"id\":\"$group\",\"permission\":2}]}" usrgrpids)
    E2E_CLEANUP+=("usergroup.delete [\"$ugroup\"]")
    user=$(e2e_create user.create "{\"username\":\"$E2E_HOST\",\"passwd\":\"Zp-e2e-$E2E_RID-pw\",\"roleid\":\"1\",\"usrgrps\":[{\"usrgrpid\":\"$ugroup\"}],\"$media_key\":[{\"mediatypeid\":\"$mtid\",\"sendto\":\"$E2E_TO\",\"active\":0,\"severity\":63,\"period\":\"1-7,00:00-24:00\"}]}" userids)
    E2E_CLEANUP+=("user.delete [\"$user\"]")
    local op="{\"operationtype\":0,\"opmessage\":{\"default_msg\":1,\"mediatypeid\":\"$mtid\"},\"opmessage_usr\":[{\"userid\":\"$user\"}]}"
    E2E_ACTION=$(e2e_create action.create "{\"name\":\"$E2E_HOST\",\"eventsource\":0,\"status\":0,\"esc_period\":\"1h\",\"filter\":{\"evaltype\":0,\"conditions\":[{\"conditiontype\":2,\"operator\":0,\"value\":\"$trigger\"}]},\"operations\":[$op],\"recovery_operations\":[$op],\"update_operations\":[$op]}" actionids)
    E2E_CLEANUP+=("action.delete [\"$E2E_ACTION\"]")
    say "run $E2E_RID: host $E2E_HOST (item $item, trigger $trigger), user $user -> $E2E_TO, action $E2E_ACTION"

    # The trapper knows the item once a configuration sync has loaded it; a value 0 (no problem)
    # proves that. A sync is not atomic: the action may land a moment after the item, and an
    # event raised in between is never escalated. So wait a little more before raising it.
    zbx_reload_config
    zbx_send "$E2E_HOST" zpark.e2e 0
    sleep "${E2E_SYNC_WAIT:-4}"
    zbx_send "$E2E_HOST" zpark.e2e 1
    say "problem raised ($(elapsed) s)"
    e2e_wait_message problem 60

    local event
    event=$(zbx_call problem.get "{\"objectids\":[\"$trigger\"],\"output\":[\"eventid\"]}" | jpy 'r[0]["eventid"]')
    zbx_call event.acknowledge "{\"eventids\":[\"$event\"],\"action\":6,\"message\":\"$E2E_ACK\"}" >/dev/null
    say "event $event acknowledged with a message ($(elapsed) s)"
    e2e_wait_message update 45

    zbx_send "$E2E_HOST" zpark.e2e 0
    say "problem resolved ($(elapsed) s)"
    e2e_wait_message recovery 45

    local report
    report=$(e2e_messages_check "$E2E_THREADED" 1) || fail "$report"
    say "PASS: problem, update, recovery delivered to $E2E_TO$( ((E2E_THREADED)) && echo ', update and recovery threaded under the problem') ($(elapsed) s)"
}
