#!/usr/bin/env bash
# docs/install.md under a real systemd: boots systemd (PID 1 of a podman container whose root
# is an overlay of this machine's own file system, so its systemd, nginx and tools; nothing is
# written to the host) and follows the guide there with systemd_boot_steps.sh: the zpark user,
# the guide's environment file, deploy/zpark.service as shipped, nginx with
# deploy/nginx-zpark.conf as shipped, zp check, the upgrade and backup commands; and checks the
# sandbox, a restart after kill -9, a clean stop and a bad setting.
#
#   systemd_boot_test.sh ZPARK_BIN CERT_DIR SOURCE_DIR
#
# The container is privileged (systemd sets up the service's namespaces and filters) with its
# own cgroup namespace and no network. Installs podman, runc, systemd, nginx and the other
# tools the guide uses when missing (root); exits 77 (ctest: skipped) only when podman cannot
# be had. About 15 s.
set -euo pipefail
zpark_bin=$(realpath "$1") certs=$(realpath "$2") src=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

[[ $(id -u) == 0 ]] || skip "podman not available (needs root to boot systemd in a container)"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    ensure_packages podman runc || skip "podman not available (apt-get install podman runc failed)"
fi
# What the guide runs, and systemd itself, from this machine's file system.
ensure_packages systemd nginx curl openssl sqlite3 passwd ca-certificates util-linux python3 ||
    fail "the packages the guide uses could not be installed"

work=$(mktemp -d /tmp/zpark-systemd-XXXXXX)
pm() { podman --root "$work/storage" --runroot "$work/runroot" --runtime runc "$@"; }
name=zpark-systemd-$$
cleanup() {
    local rc=$?
    trap - EXIT TERM
    if ((rc)); then
        say "--- journal of zpark and nginx in the container (tail)"
        pm exec "$name" journalctl -u zpark -u nginx --no-pager -n 40 >&2 2>/dev/null || true
    fi
    pm rm --force --all --time 5 >/dev/null 2>&1 || true
    kill "${DT_WATCHDOG:-}" 2>/dev/null || true
    findmnt -rn -o TARGET | grep -F "$work/" | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
watchdog 200

# What the container sees in /mnt/zpark-test: a tree like the source's (the built binary and
# deploy/), the guide's snippets, a certificate for zabbix.example.com signed by the test CA.
in=$work/in
mkdir -p "$in/repo/build/app" "$in/repo/deploy"
install -m 755 "$zpark_bin" "$in/repo/build/app/zpark"
cp "$src/deploy/zpark.service" "$src/deploy/nginx-zpark.conf" "$in/repo/deploy/"
cp "$here/lib.sh" "$here/systemd_boot_steps.sh" "$certs/ca.pem" "$in/"
py "$here/guide.py" "$src/docs/install.md" "$in/guide"
# The guide's environment file with a known API token; without the Webex and Zabbix tokens
# (the container has no network: dry-run, Zabbix not asked).
token=$(openssl rand -hex 16)
sed -e "s/^ZPARK_API_TOKEN=.*/ZPARK_API_TOKEN=$token/" -e '/^SPARK_ACCESS_TOKEN=/d' \
    -e '/^ZABBIX_API_TOKEN=/d' "$in/guide/zpark.env" >"$in/guide/zpark.env.test"
grep -q "^ZPARK_API_TOKEN=$token$" "$in/guide/zpark.env.test" || fail "the guide's env file has no ZPARK_API_TOKEN line"
openssl req -newkey rsa:2048 -nodes -subj /CN=zabbix.example.com -keyout "$in/site.key" \
    -out "$work/site.csr" 2>/dev/null
printf 'subjectAltName=DNS:zabbix.example.com\n' >"$work/site.ext"
openssl x509 -req -in "$work/site.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial \
    -CAserial "$work/ca.srl" -days 2 -extfile "$work/site.ext" -out "$in/site.pem" 2>/dev/null

# systemd as PID 1. --tmpfs without copy-up: /run and /tmp start empty, as at boot. Open files:
# room for the unit's LimitNOFILE=8192 (runc cannot go above this shell's hard limit).
nofile=$(ulimit -Hn)
[[ $nofile == unlimited || $nofile -gt 16384 ]] && nofile=16384
# basic.target: none of this machine's own enabled services start; the guide starts its own.
pm run -d --name "$name" --privileged --cgroupns=private --network none --systemd=false \
    -e container=podman --stop-signal SIGRTMIN+3 \
    --tmpfs /run:rw,notmpcopyup --tmpfs /run/lock:rw,notmpcopyup \
    --tmpfs /tmp:rw,notmpcopyup --tmpfs /var/tmp:rw,notmpcopyup \
    --ulimit "nofile=$nofile:$nofile" --ulimit nproc=1024:1024 \
    -v "$in:/mnt/zpark-test:ro" --rootfs /:O /lib/systemd/systemd --unit=basic.target >/dev/null
booted() {
    DT_LAST=$(pm exec "$name" systemctl is-system-running 2>/dev/null || true)
    [[ $DT_LAST == running || $DT_LAST == degraded ]]
}
wait_for 30 "systemd booted in the container" booted
say "systemd $(pm exec "$name" systemctl --version | head -n1 | cut -d' ' -f2) booted ($(elapsed) s)"

pm exec "$name" timeout 150 bash /mnt/zpark-test/systemd_boot_steps.sh || fail "the guide did not work under systemd"
pm stop --time 10 "$name" >/dev/null
say "PASS ($(elapsed) s)"
