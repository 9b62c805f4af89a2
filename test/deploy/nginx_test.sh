#!/usr/bin/env bash
# Zpark behind Debian's nginx with deploy/nginx-zpark.conf, for real, on loopback.
#
#   nginx_test.sh ZPARK_BIN EMULATOR_BIN CERT_DIR SOURCE_DIR
#
# nginx runs the shipped file (nginx_conf.py replaces only its port, socket and certificate
# paths) over HTTPS on 127.0.0.1, plus the same server with the prefix-stripping proxy_pass the
# file documents, on a second port. Zpark listens on a unix socket with mode 0660, with
# ZPARK_SERVER_URL=https://127.0.0.1:PORT/zpark, and talks to our Webex emulator (so the
# webhook route is on). As root, Zpark runs as nobody:nogroup and nginx's workers as
# www-data:nogroup, so the socket is reached the way docs/install.md sets it up: through its
# group. First a stand-in on the socket records what nginx sends (paths, X-Forwarded-For);
# then, through nginx: ping (both prefix forms), an alert and its task, the webhook (403
# unsigned, 200 signed: the body arrives byte for byte), /healthz, 413s on both sides of the
# limits, /metrics allowed and denied. Stops everything it started, by PID; about 3 s.
set -euo pipefail
zpark_bin=$(realpath "$1") emu_bin=$(realpath "$2") certs=$(realpath "$3") src=$(realpath "$4")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

packages=(curl python3 openssl)
command -v nginx >/dev/null || packages+=(nginx)
ensure_packages "${packages[@]}" || fail "${packages[*]} are needed"

work=$(mktemp -d /tmp/zpark-nginx-XXXXXX)
chmod 711 "$work"
pids=()
nginx_pid=
cleanup() {
    local rc=$?
    trap - EXIT TERM
    stop_pid "$nginx_pid" 5
    local p
    for p in "${pids[@]}"; do stop_pid "$p" 5; done
    kill "${DT_WATCHDOG:-}" 2>/dev/null || true
    if ((rc)); then
        say "--- zpark log (tail)"
        tail -n 30 "$work/zpark.log" >&2 2>/dev/null || true
        say "--- nginx error log (tail)"
        tail -n 20 "$work/nginx/error.log" >&2 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
watchdog 90

# Who runs what: as root, unprivileged users that share only the socket's group.
if [[ $(id -u) == 0 ]]; then
    if ! getent passwd www-data >/dev/null || ! getent group nogroup >/dev/null; then
        fail "the users www-data and nobody/nogroup are needed"
    fi
    as_zpark=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    worker_user="www-data nogroup"
    owner=nobody:nogroup
else
    as_zpark=()
    worker_user=-
    owner=
fi

mkdir -p "$work/run" "$work/data" "$work/rec" "$work/nginx/tmp"
# Copies the unprivileged users can read wherever the build and source trees are.
install -m 755 "$zpark_bin" "$work/zpark"
install -m 644 "$certs/ca.pem" "$work/ca.pem"
install -m 644 "$here/record_upstream.py" "$work/record_upstream.py"
chmod 750 "$work/run"
chmod 700 "$work/data"
[[ -z $owner ]] || chown "$owner" "$work/run" "$work/data" "$work/rec"
sock=$work/run/zpark.sock

port=$(free_port)
strip_port=$(free_port)
[[ $port != "$strip_port" ]] || strip_port=$(free_port)
py "$here/nginx_conf.py" "$src/deploy/nginx-zpark.conf" "$work/nginx" "$port" "$strip_port" \
    "$sock" "$certs/server.pem" "$certs/server.key" "$worker_user"
nginx -t -q -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" || fail "nginx -t refused the configuration"
nginx -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!

base=https://127.0.0.1:$port/zpark
strip_base=https://127.0.0.1:$strip_port/zpark
# curl_status OUT URL [curl args...]: the status code; the body goes to OUT.
curl_status() {
    local out=$1 url=$2
    shift 2
    curl -sS --max-time 10 --cacert "$certs/ca.pem" -o "$out" -w '%{http_code}' "$@" "$url"
}
wait_for 10 "nginx on 127.0.0.1:$port" curl -s --max-time 1 --cacert "$certs/ca.pem" -o /dev/null "$base/"

# 1. What Zpark receives: a stand-in on the socket records two requests.
"${as_zpark[@]}" /usr/bin/python3 "$work/record_upstream.py" "$sock" "$work/rec/request" 2 &
recorder=$!
pids+=("$recorder")
wait_for 5 "the recording stand-in on $sock" test -S "$sock"
expect "recorded answer" 200 "$(curl_status /dev/null "$base/api/v1/ping" -H 'X-Forwarded-For: 203.0.113.7')"
expect "recorded answer (strip)" 200 "$(curl_status /dev/null "$strip_base/api/v1/ping")"
wait "$recorder" || fail "the recording stand-in failed"
head1=$(tr -d '\r' <"$work/rec/request.1")
head2=$(tr -d '\r' <"$work/rec/request.2")
expect "request line, prefix passed through" "GET /zpark/api/v1/ping HTTP/1.1" "$(head -n1 <<<"$head1")"
expect "request line, prefix stripped" "GET /api/v1/ping HTTP/1.1" "$(head -n1 <<<"$head2")"
expect_has "X-Forwarded-For appended to the client's" $'\nX-Forwarded-For: 203.0.113.7, 127.0.0.1' "$head1"
expect_has "X-Forwarded-For set" $'\nX-Forwarded-For: 127.0.0.1' "$head2"
expect_has "Host" $'\nHost: 127.0.0.1' "$head1"
[[ $head1 != *$'\nConnection: close'* ]] || fail "nginx asks to close upstream connections: $head1"
say "nginx sends: $(head -n1 <<<"$head1"), X-Forwarded-For: 203.0.113.7, 127.0.0.1 ($(elapsed) s)"

# 2. Zpark itself on the socket, with the Webex emulator (so the webhook route is on).
"$emu_bin" --cert "$certs/server.pem" --key "$certs/server.key" --port 0 --token test-token \
    >"$work/emu.log" 2>&1 &
pids+=($!)
wait_for 10 "the Webex emulator" grep -q '^listening ' "$work/emu.log"
emu_addr=$(sed -n 's/^listening \(.*\)$/\1/p' "$work/emu.log" | head -n1)
token=$(openssl rand -hex 16)
secret=$(openssl rand -hex 16)
env -i PATH=/usr/bin:/bin ZPARK_API_TOKEN="$token" SPARK_ACCESS_TOKEN=test-token \
    WEBEX_API_URL="https://$emu_addr/v1" WEBEX_CA_FILE="$work/ca.pem" \
    SPARK_WEBHOOK_SECRET="$secret" SPARK_TRUSTED_USERS=alice@example.com \
    ZPARK_SERVER_URL="$base" ZPARK_LISTEN="unix:$sock" ZPARK_SOCKET_MODE=0660 \
    ZPARK_DATA_DIR="$work/data" ZPARK_FSYNC=false \
    "${as_zpark[@]}" "$work/zpark" serve >"$work/zpark.log" 2>&1 &
pids+=($!)
wait_for 10 "zpark on $sock" grep -q 'msg=listening' "$work/zpark.log"
mode=$(stat -c %a "$sock")
expect "socket mode" 660 "$mode"

# Ping with the token, both prefix forms; the token check passes through.
code=$(curl_status "$work/out" "$base/api/v1/ping" -H "Token: $token")
expect "ping (prefix passed through)" 200 "$code"
expect "ping answer" "Hello!" "$(jget hello <"$work/out")"
expect "ping (prefix stripped)" 200 "$(curl_status "$work/out" "$strip_base/api/v1/ping" -H "Token: $token")"
expect "ping (stripped) answer" "Hello!" "$(jget hello <"$work/out")"
expect "ping without the token" 401 "$(curl_status "$work/out" "$base/api/v1/ping")"
expect "/healthz" 200 "$(curl_status /dev/null "$base/healthz")"
expect "/healthz (stripped)" 200 "$(curl_status /dev/null "$strip_base/healthz")"

# An alert: 200 with a taskid, then its task delivered to the emulator.
alert='{"to":"alice@example.com","subject":"Disk full","message":"on db01 (through nginx)"}'
code=$(curl_status "$work/out" "$base/api/v1/alert" -H "Token: $token" -H 'Content-Type: application/json' \
    --data-binary "$alert")
expect "alert" 200 "$code"
taskid=$(jget taskid <"$work/out")
[[ -n $taskid ]] || fail "alert answer has no taskid: $(cat "$work/out")"
task_delivered() {
    [[ $(curl_status "$work/task" "$base/api/v1/tasks/$taskid" -H "Token: $token") == 200 ]] &&
        { DT_LAST=$(cat "$work/task"); [[ $(jget state <"$work/task") == delivered ]]; }
}
wait_for 10 "task $taskid delivered" task_delivered
say "alert $taskid delivered, its state read through nginx ($(elapsed) s)"

# The webhook: unsigned → 403 from Zpark; signed → the signature over the raw body matched.
envelope='{"id":"wh1","name":"zpark","resource":"messages","event":"created","data":{"id":"msg1","roomId":"room1","personId":"p1","personEmail":"mallory@example.org"}}'
code=$(curl_status "$work/out" "$base/api/v1/webhook" -H 'Content-Type: application/json' --data-binary "$envelope")
expect "unsigned webhook" 403 "$code"
expect "unsigned webhook answer" Unauthorized "$(jget error <"$work/out")"
signature=$(printf '%s' "$envelope" | py -c '
import hashlib, hmac, sys
print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha1).hexdigest())' "$secret")
for b in "$base" "$strip_base"; do
    code=$(curl_status "$work/out" "$b/api/v1/webhook" -H 'Content-Type: application/json' \
        -H "X-Spark-Signature: $signature" --data-binary "$envelope")
    expect "signed webhook from an untrusted sender ($b)" 200 "$code"
    expect "signed webhook answer" "User not authorized" "$(jget error <"$work/out")"
done

# Body limits: nginx's client_max_body_size equals ZPARK_ALERT_MAX_BYTES (1 MiB).
py - "$work" <<'EOF'
import sys
work = sys.argv[1]
alert = b'{"to":"alice@example.com","subject":"Big","message":"padded with spaces to the limit"}'
exact = alert + b" " * (1048576 - len(alert))
open(work + "/alert-1m", "wb").write(exact)
open(work + "/alert-1m+1", "wb").write(exact + b" ")
open(work + "/webhook-32k+1", "wb").write(b"{" + b" " * 32767 + b"}")
EOF
code=$(curl_status "$work/out" "$base/api/v1/alert" -H "Token: $token" -H 'Content-Type: application/json' \
    --data-binary @"$work/alert-1m")
expect "an alert of exactly 1 MiB (both limits let it through)" 200 "$code"
code=$(curl_status "$work/out" "$base/api/v1/alert" -H "Token: $token" -H 'Content-Type: application/json' \
    --data-binary @"$work/alert-1m+1")
expect "an alert of 1 MiB + 1 byte (nginx)" 413 "$code"
code=$(curl_status "$work/out" "$base/api/v1/webhook" -H 'Content-Type: application/json' \
    -H "X-Spark-Signature: $signature" --data-binary @"$work/webhook-32k+1")
expect "a webhook of 32 KiB + 1 byte (Zpark's MAX_CONTENT_LENGTH)" 413 "$code"
expect "Zpark's 413 answer" "Too big" "$(jget error <"$work/out")"

# /metrics: served to the allowed address, refused to others (127.0.0.2 is loopback too).
code=$(curl_status "$work/out" "$base/metrics")
expect "/metrics from 127.0.0.1" 200 "$code"
grep -q '^zpark_http_requests_total{route="alert",status="200"} 2$' "$work/out" ||
    fail "/metrics does not count the two alerts: $(grep zpark_http_requests_total "$work/out")"
grep -q '^zpark_webhooks_total{outcome="untrusted"} 2$' "$work/out" ||
    fail "/metrics does not count the two signed webhooks: $(grep zpark_webhooks "$work/out")"
expect "/metrics from 127.0.0.2" 403 "$(curl_status /dev/null "$base/metrics" --interface 127.0.0.2)"
expect "/healthz from 127.0.0.2" 200 "$(curl_status /dev/null "$base/healthz" --interface 127.0.0.2)"

say "PASS ($(elapsed) s)"
