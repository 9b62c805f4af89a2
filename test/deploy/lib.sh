# shellcheck shell=bash
# Helpers for the deploy tests (sourced): logging, packages, ports, waiting, stopping by PID.
# Every network call goes to loopback, never through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

DT_NAME=${DT_NAME:-$(basename "$0" .sh)}
DT_T0=$(date +%s.%N)

say() { printf '%s: %s\n' "$DT_NAME" "$*" >&2; }
fail() {
    printf '%s: FAIL: %s\n' "$DT_NAME" "$*" >&2
    exit 1
}
# ctest reports exit code 77 as "skipped" (SKIP_RETURN_CODE in CMakeLists.txt).
skip() {
    printf 'SKIPPED: %s\n' "$*"
    exit 77
}
elapsed() { awk -v a="$DT_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Debian's python3 (the package ensure_packages installs). A python3 found first in PATH (a
# pyenv shim, say) may start slowly or be closed to the unprivileged users the tests use.
py() {
    if [[ -x /usr/bin/python3 ]]; then /usr/bin/python3 "$@"; else python3 "$@"; fi
}

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }

# ensure_packages PKG...: apt-get installs the missing ones (root only; returns 1 when it
# cannot). No daemon may start on its own during the install (Debian's nginx would).
ensure_packages() {
    local missing=() p
    for p in "$@"; do installed "$p" || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    if [[ $(id -u) != 0 ]]; then
        say "missing packages ${missing[*]}, and not root to install them"
        return 1
    fi
    say "installing ${missing[*]}"
    local own_policy=0 rc=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    apt_install "${missing[@]}" || rc=$?
    if ((rc)); then
        say "install failed; apt-get update and retry"
        rc=0
        { apt-get update -qq && apt_install "${missing[@]}"; } || rc=$?
    fi
    ((own_policy)) && rm -f /usr/sbin/policy-rc.d
    return "$rc"
}

apt_install() {
    # Another test (test/zabbix/lab.sh) may be installing at the same time: wait for its lock.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold "$@" >/dev/null
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s. A COMMAND that is a
# function may leave what it saw last in DT_LAST, for the failure message.
wait_for() {
    local secs=$1 what=$2 i
    shift 2
    DT_LAST=
    for ((i = 0; i < secs * 10; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    fail "$what: not within $secs s${DT_LAST:+ (last seen: $DT_LAST)}"
}

# stop_pid PID [SECONDS]: TERM, wait, then KILL. Only the PID we started.
stop_pid() {
    local pid=$1 secs=${2:-10} i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    say "PID $pid ignored TERM for $secs s; KILL"
    kill -KILL "$pid" 2>/dev/null || true
}

# watchdog SECONDS: TERM this script after SECONDS, so that its cleanup trap stops what it
# started even when something hangs (ctest's own timeout kills only the script).
# Its stdio goes to /dev/null: ctest waits until every holder of the output pipe is gone.
watchdog() {
    local self=$$
    (sleep "$1" && kill -TERM "$self") >/dev/null 2>&1 &
    # shellcheck disable=SC2034  # the scripts' cleanup kills it
    DT_WATCHDOG=$!
    trap 'fail "time is up ($1 s)"' TERM
}

# jget FIELD: a top-level field of the JSON object on stdin ('' when absent).
jget() {
    py -c '
import json, sys
try:
    v = json.load(sys.stdin).get(sys.argv[1], "")
except (ValueError, AttributeError):
    v = ""
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# expect WHAT WANT GOT
expect() {
    [[ $3 == "$2" ]] || fail "$1: expected '$2', got '$3'"
}

# expect_has WHAT NEEDLE HAYSTACK
expect_has() {
    [[ $3 == *"$2"* ]] || fail "$1: expected it to contain '$2'; it is: $3"
}
