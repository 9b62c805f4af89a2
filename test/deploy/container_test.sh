#!/usr/bin/env bash
# The container image, for real: deploy/container-build.sh builds it from the zpark binary with
# podman, then it runs on loopback with the runc runtime and explicit limits (crun, podman's
# default, fails on our machines' cgroups and cannot raise the limits).
#
#   container_test.sh ZPARK_BIN EMULATOR_BIN CERT_DIR SOURCE_DIR
#
# 0. The image's files; `zpark check` with docs/install.md's environment file, as section 9
#    runs it.
# 1. Dry-run, published on 127.0.0.1:PORT, a named volume on /data: ping, an alert accepted and
#    delivered (printed), /readyz; runs as uid 10001, the outbox is in the volume; `podman stop`
#    ends it cleanly (exit 0).
# 2. Against our Webex emulator over TLS, with the host's network: the image finds "localhost"
#    (nsswitch.conf, /etc/hosts) and trusts the emulator's CA through its own certificate
#    directory (SSL_CERT_DIR; the test CA is added to it as one more hashed file): /readyz
#    (the token proven) and an alert delivered.
# Installs podman and runc when missing (root); exits 77 (ctest: skipped) only when it cannot.
# Its own image store under /tmp, removed at the end. About 10 s, plus ~35 s for the first
# install of podman.
set -euo pipefail
zpark_bin=$(realpath "$1") emu_bin=$(realpath "$2") certs=$(realpath "$3") src=$(realpath "$4")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Rootful podman: published ports and the volume's owner as the test checks them.
[[ $(id -u) == 0 ]] || skip "podman not available (this test runs podman as root)"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    ensure_packages podman runc || skip "podman not available (apt-get install podman runc failed)"
fi
ensure_packages curl python3 openssl || fail "curl, python3 and openssl are needed"

work=$(mktemp -d /tmp/zpark-container-XXXXXX)
store=(--root "$work/storage" --runroot "$work/runroot")
pm() { podman "${store[@]}" --runtime runc "$@"; }
pids=()
cleanup() {
    local rc=$?
    trap - EXIT TERM
    if ((rc)) && [[ -n ${name:-} ]]; then
        say "--- container log (tail)"
        pm logs "$name" 2>&1 | tail -n 30 >&2 || true
    fi
    pm rm --force --all --time 5 >/dev/null 2>&1 || true
    pm volume rm --force --all >/dev/null 2>&1 || true
    pm rmi --force --all >/dev/null 2>&1 || true
    local p
    for p in "${pids[@]}"; do stop_pid "$p" 5; done
    kill "${DT_WATCHDOG:-}" 2>/dev/null || true
    # Nothing of the store may stay mounted before it is removed.
    findmnt -rn -o TARGET | grep -F "$work/" | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
watchdog 240

image=localhost/zpark:test
t0=$(date +%s.%N)
PODMAN="podman ${store[*]}" bash "$src/deploy/container-build.sh" "$zpark_bin" "$image" >&2
say "image built in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
[[ $(pm image inspect "$image" --format '{{.Config.User}}') == 10001:10001 ]] || fail "the image does not run as 10001"
pm create --name zpark-test-files "$image" >/dev/null
files=$(pm export zpark-test-files | tar -tf -)
pm rm zpark-test-files >/dev/null
cas=$(grep -c '^etc/ssl/certs/[0-9a-f]*\.[0-9]$' <<<"$files" || true)
((cas >= 100)) || fail "the image has $cas hashed CA certificates in /etc/ssl/certs"
for f in usr/local/bin/zpark etc/passwd etc/nsswitch.conf etc/ssl/certs/ca-certificates.crt data/; do
    grep -qx "$f" <<<"$files" || fail "the image has no /$f"
done

token=$(openssl rand -hex 16)
run_flags=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

# docs/install.md's environment file with the guide's `-e ZPARK_LISTEN=:8080`: the settings are
# valid, -e wins; only Webex cannot be reached (no network here): exit 1, not 78.
py "$here/guide.py" "$src/docs/install.md" "$work/guide"
rc=0
out=$(pm run --rm --network none "${run_flags[@]}" --env-file "$work/guide/zpark.env" \
    -e ZPARK_LISTEN=:8080 "$image" check 2>&1) || rc=$?
grep -q '^Settings are valid' <<<"$out" || fail "zpark check with the guide's env file: $out"
grep -q '^  ZPARK_LISTEN *:8080$' <<<"$out" || fail "-e ZPARK_LISTEN did not win over --env-file: $out"
expect "zpark check's exit code without network" 1 "$rc"
# curl_status OUT URL [curl args...]
curl_status() {
    local out=$1 url=$2
    shift 2
    curl -sS --max-time 10 -o "$out" -w '%{http_code}' "$@" "$url"
}
# alert_delivered BASE: posts an alert, waits for its task to be delivered.
alert_delivered() {
    local base=$1 code taskid
    code=$(curl_status "$work/out" "$base/api/v1/alert" -H "Token: $token" \
        -H 'Content-Type: application/json' \
        --data-binary '{"to":"alice@example.com","subject":"Disk full","message":"from the container"}')
    expect "alert" 200 "$code"
    taskid=$(jget taskid <"$work/out")
    [[ -n $taskid ]] || fail "the alert answer has no taskid: $(cat "$work/out")"
    task_delivered() {
        [[ $(curl_status "$work/task" "$base/api/v1/tasks/$taskid" -H "Token: $token") == 200 ]] &&
            { DT_LAST=$(cat "$work/task"); [[ $(jget state <"$work/task") == delivered ]]; }
    }
    wait_for 10 "task $taskid delivered" task_delivered
}

# 1. Dry-run, published port, named volume.
port=$(free_port)
name=zpark-test-$$
pm run -d --name "$name" "${run_flags[@]}" -p "127.0.0.1:$port:8080" -v zpark-test-data:/data \
    -e ZPARK_API_TOKEN="$token" "$image" >/dev/null
base=http://127.0.0.1:$port
wait_for 20 "the container answering /healthz on $base" curl -sf --max-time 1 "$base/healthz"
code=$(curl_status "$work/out" "$base/api/v1/ping" -H "Token: $token")
expect "ping" 200 "$code"
expect "ping answer" "Hello!" "$(jget hello <"$work/out")"
expect "ping without the token" 401 "$(curl_status /dev/null "$base/api/v1/ping")"
alert_delivered "$base"
grep -q 'from the container' <<<"$(pm logs "$name" 2>&1)" || fail "the dry-run did not print the alert"
expect "/readyz" 200 "$(curl_status "$work/out" "$base/readyz")"
pid=$(pm inspect "$name" --format '{{.State.Pid}}')
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
expect "the uid zpark runs as" 10001 "$uid"
volume=$(pm volume inspect zpark-test-data --format '{{.Mountpoint}}')
[[ -s $volume/outbox.sqlite3 ]] || fail "no outbox in the volume ($volume): $(ls -la "$volume")"
expect "owner of the volume's outbox" 10001 "$(stat -c %u "$volume/outbox.sqlite3")"
t0=$(date +%s.%N)
pm stop --time 20 "$name" >/dev/null
stop_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
expect "exit code after podman stop" 0 "$(pm inspect "$name" --format '{{.State.ExitCode}}')"
grep -q 'msg=stopped' <<<"$(pm logs "$name" 2>&1)" || fail "no clean stop in the log"
say "dry-run container: ping, alert, /readyz, uid 10001, outbox in the volume, stopped in $stop_s s ($(elapsed) s)"
pm rm "$name" >/dev/null

# 2. The emulator over TLS, with the host's network; its CA only in the image's directory.
"$emu_bin" --cert "$certs/server.pem" --key "$certs/server.key" --port 0 --token test-token \
    >"$work/emu.log" 2>&1 &
pids+=($!)
wait_for 10 "the Webex emulator" grep -q '^listening ' "$work/emu.log"
emu_port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$work/emu.log" | head -n1)
hash=$(openssl x509 -hash -noout -in "$certs/ca.pem")
install -m 644 "$certs/ca.pem" "$work/test-ca.pem"
port=$(free_port)
name=zpark-test-tls-$$
pm run -d --name "$name" "${run_flags[@]}" --network host \
    -v "$work/test-ca.pem:/etc/ssl/certs/$hash.0:ro" \
    -e ZPARK_API_TOKEN="$token" -e ZPARK_LISTEN="127.0.0.1:$port" \
    -e SPARK_ACCESS_TOKEN=test-token -e WEBEX_API_URL="https://localhost:$emu_port/v1" "$image" >/dev/null
base=http://127.0.0.1:$port
wait_for 20 "the container answering /healthz on $base" curl -sf --max-time 1 "$base/healthz"
ready() { [[ $(curl_status "$work/out" "$base/readyz") == 200 ]] || { DT_LAST=$(cat "$work/out"); false; }; }
wait_for 10 "/readyz with the token proven" ready
alert_delivered "$base"
pm stop --time 20 "$name" >/dev/null
expect "exit code after podman stop" 0 "$(pm inspect "$name" --format '{{.State.ExitCode}}')"
say "container with the emulator: TLS through the image's CA directory, alert delivered"

say "PASS ($(elapsed) s)"
