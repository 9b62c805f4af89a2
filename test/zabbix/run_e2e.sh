#!/usr/bin/env bash
# Runs one Zabbix end-to-end script (e2e_webhook.sh or e2e_script.sh) against a real Zpark
# and our Webex emulator, both started here on loopback and stopped on exit.
# Usage: run_e2e.sh ZPARK_BIN EMULATOR_BIN CERT_DIR LAB_STATE SCRIPT
set -euo pipefail
zpark_bin=$1 emu_bin=$2 certs=$3 lab_state=$4 script=$5
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/zpark-e2e-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() {  # file pattern seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "FAIL: '$2' never appeared in $1:" >&2
  cat "$1" >&2
  return 1
}

"$emu_bin" --cert "$certs/server.pem" --key "$certs/server.key" --port 0 --token test-token \
  >"$work/emu.log" 2>&1 &
pids+=($!)
wait_for "$work/emu.log" "listening " 10
emu_addr=$(sed -n 's/^listening \(.*\)$/\1/p' "$work/emu.log" | head -1)

token=$(openssl rand -hex 16)
ZPARK_API_TOKEN=$token SPARK_ACCESS_TOKEN=test-token WEBEX_API_URL="https://$emu_addr/v1" \
  WEBEX_CA_FILE="$certs/ca.pem" ZPARK_LISTEN=127.0.0.1:0 ZPARK_DATA_DIR="$work/data" \
  "$zpark_bin" serve >"$work/zpark.log" 2>&1 &
pids+=($!)
wait_for "$work/zpark.log" "msg=listening" 10
zpark_addr=$(grep -o 'msg=listening address=[^ ]*' "$work/zpark.log" | head -1 | cut -d= -f3)

echo "zpark at $zpark_addr, emulator at $emu_addr"
status=0
LAB_STATE=$lab_state ZPARK_URL="http://$zpark_addr" ZPARK_API_TOKEN=$token \
  EMU_URL="https://$emu_addr" EMU_CA="$certs/ca.pem" bash "$here/$script" || status=$?
if [ $status -ne 0 ]; then
  echo "--- zpark log" >&2
  tail -n 50 "$work/zpark.log" >&2
fi
exit $status
