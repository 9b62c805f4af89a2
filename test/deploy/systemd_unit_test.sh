#!/usr/bin/env bash
# deploy/zpark.service without a running systemd: `systemd-analyze verify` must have nothing to
# say about it (a misspelt key or a bad value is only a warning there, so any output fails),
# `systemd-analyze security` must rate its sandbox at most 1.5 ("OK"), and check_unit.py
# matches its paths, user and timeouts with docs/install.md, the nginx file and README.
#
#   systemd_unit_test.sh ZPARK_BIN SOURCE_DIR
#
# Both analyses run against a scratch root holding the unit, the binary at ExecStart's path and
# a copy of this machine's system units. Installs systemd (for systemd-analyze) when missing,
# as root; without it only check_unit.py runs, and it says so. Under a second.
set -euo pipefail
zpark_bin=$(realpath "$1") src=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

py "$here/check_unit.py" "$src" || fail "the unit does not match the install guide"

if ! command -v systemd-analyze >/dev/null; then
    ensure_packages systemd || true
fi
if ! command -v systemd-analyze >/dev/null; then
    say "NOTE: no systemd-analyze (apt-get install systemd, as root): verify and security not run"
    say "PASS (check_unit.py only)"
    exit 0
fi

root=$(mktemp -d /tmp/zpark-unit-XXXXXX)
trap 'rm -rf "$root"' EXIT
units=/usr/lib/systemd/system
[[ -d $units ]] || units=/lib/systemd/system
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system" "$root/usr/local/bin"
cp -a "$units" "$root/usr/lib/systemd/"
install -m 644 "$src/deploy/zpark.service" "$root/etc/systemd/system/zpark.service"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$src/deploy/zpark.service")
install -D -m 755 "$zpark_bin" "$root$exec_start"

out=$(systemd-analyze verify --root="$root" zpark.service 2>&1) || fail "systemd-analyze verify failed: $out"
[[ -z $out ]] || fail "systemd-analyze verify has something to say: $out"
say "systemd-analyze verify: clean ($(systemd-analyze --version | head -n1))"

# --threshold is in tenths of the exposure level that `security` prints.
if ! out=$(systemd-analyze security --offline=true --root="$root" --threshold=15 zpark.service 2>&1); then
    printf '%s\n' "$out" | grep -E '✗|Overall' >&2
    fail "systemd-analyze security rates the unit above 1.5"
fi
say "systemd-analyze security: $(grep -o 'Overall exposure level.*' <<<"$out")"
say "PASS"
