#!/usr/bin/env bash
# Chaos for the alert path: Zpark's promise is that an alert answered 200 is delivered, in
# order per recipient, and not sent over and over. This tries to break it:
#  (rounds) ROUNDS rounds of ROUND_SECS: CLIENTS clients storm RECIPIENTS recipients while the
#      Webex emulator answers with 5xx, connection resets and a burst of 429s, and Zpark is
#      killed (kill -9) at a random moment, then started again on the same data directory;
#      then every accepted alert must arrive (within DRAIN_SECS).
#  (full disk) the data directory's disk fills up during a storm (a small tmpfs when this
#      user may mount one, else an LD_PRELOAD shim failing writes with ENOSPC), stays full
#      for HOLD_SECS and gets room again;
#  (read-only) the data directory turns read-only (the shim, EROFS) and writable again.
# In the disk phases the alerts must be refused with 503, /readyz must say why, and when the
# disk takes writes again Zpark must be ready again, lose nothing and send nothing twice.
#
# Per round it prints accepted, delivered, lost, repeats (extra copies in Webex), order
# violations and unknown (no answer: killed mid-request). The bar: lost 0, order 0, refused
# alerts never sent, repeats <= POOL per kill (one in flight per pooled Webex connection), 0
# without a kill. The last line is "chaos: PASS" or "chaos: FAIL (...)"; exit status 1 on FAIL.
#
#   bench/chaos.sh                 # 20 rounds, the disk phases: about 4 minutes
#   ROUNDS=3 bench/chaos.sh        # the short variant for CI, about a minute
# Environment (defaults): ROUNDS=20 ROUND_SECS=4 CLIENTS=4 RECIPIENTS=6 RATE=100 (alerts/s
#   per client at most) POOL=4 DELAY_MS=10 (the emulator's answer delay: a wider window for
#   a kill to catch sends in flight) DRAIN_SECS=90 HOLD_SECS=5 DISK=1 (0 skips the disk phases)
#   TMPFS=1 (0: the shim for the full disk too) SEED (random), ZPARK_BENCH_BUILD=build-bench,
#   KEEP_TMP=1 keeps the temp dir (zpark logs, data dirs, each alert's outcome).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-20}
ROUND_SECS=${ROUND_SECS:-4}
CLIENTS=${CLIENTS:-4}
RECIPIENTS=${RECIPIENTS:-6}
RATE=${RATE:-100}
POOL=${POOL:-4}
DRAIN_SECS=${DRAIN_SECS:-90}
DELAY_MS=${DELAY_MS:-10}
HOLD_SECS=${HOLD_SECS:-5}
DISK=${DISK:-1}
TMPFS=${TMPFS:-1}
SEED=${SEED:-$RANDOM}
RANDOM=$SEED
TOKEN=chaos-token
FAILS=()
fail() { FAILS+=("$1"); echo "   !! $1"; }

bench_build zpark webex-emulator
bench_tmp
MOUNTED=
cleanup() {
  bench_cleanup_keep_tmp
  if [ -n "$MOUNTED" ]; then umount "$MOUNTED" 2>/dev/null || umount -l "$MOUNTED" 2>/dev/null || true; fi
  if [ -n "$BENCH_TMP" ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$BENCH_TMP"; fi
}
# bench_cleanup would remove the temp dir, which must wait for the tmpfs to be unmounted.
bench_cleanup_keep_tmp() { KEEP_TMP=1 bench_cleanup; }
trap cleanup EXIT
trap 'exit 130' INT TERM
source_note
machine_note
echo "seed $SEED (SEED=$SEED repeats the kill moments and the emulator's faults)"

CLIENT="python3 $BENCH_ROOT/bench/chaos_client.py"
SHIM=$BENCH_TMP/libchaos-disk.so
g++ -std=c++20 -O2 -shared -fPIC -o "$SHIM" "$BENCH_ROOT/bench/chaos_disk.cpp" -ldl
DISK_FLAG=$BENCH_TMP/disk-flag

bash "$BENCH_ROOT/test/support/make_certs.sh" "$BENCH_TMP/certs" >/dev/null
CA=$BENCH_TMP/certs/ca.pem
bg_start "$BENCH_TMP/emu.out" "$BENCH_TMP/emu.err" "$BUILD/test/emulator/webex-emulator" \
  --cert "$BENCH_TMP/certs/server.pem" --key "$BENCH_TMP/certs/server.key" --port 0 --token test-token
EMU_PID=$BG_PID
EMU=$(wait_for_line "$BENCH_TMP/emu.out" 'listening [0-9.]+:[0-9]+' 10 "$EMU_PID" | sed 's/listening //')
emu() { curl -sf --cacert "$CA" "$@"; }
emu_reset() { emu -X POST "https://$EMU/_emu/reset" >/dev/null; }
emu_faults() { emu -X POST -H 'Content-Type: application/json' -d "$1" "https://$EMU/_emu/faults" >/dev/null; }
# One fixed port, so the clients find Zpark again after a restart.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ZPARK=127.0.0.1:$PORT

# start_zpark DATA_DIR LOG [SHIM_DIR]: serves on $ZPARK; with SHIM_DIR, the disk shim watches
# that directory (armed by $DISK_FLAG). Waits until it answers /healthz.
start_zpark() {
  local data=$1 log=$2 shim_dir=${3:-} i
  bg_start /dev/null "$log" env -i PATH="$PATH" ZPARK_API_TOKEN=$TOKEN \
    ${shim_dir:+"LD_PRELOAD=$SHIM" "CHAOS_DISK_DIR=$shim_dir" "CHAOS_DISK_FLAG=$DISK_FLAG"} \
    SPARK_ACCESS_TOKEN=test-token WEBEX_API_URL="https://$EMU/v1" WEBEX_CA_FILE="$CA" \
    WEBEX_POOL_SIZE="$POOL" ZPARK_DATA_DIR="$data" ZPARK_LISTEN="$ZPARK" ZPARK_LOG_LEVEL=info \
    "$BUILD/app/zpark" serve
  ZPARK_PID=$BG_PID
  for i in $(seq 200); do
    curl -sf "http://$ZPARK/healthz" >/dev/null && return 0
    kill -0 "$ZPARK_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "zpark did not start; its log:" >&2
  tail -5 "$log" >&2
  exit 1
}
# storm TAG: clients in the background until $BENCH_TMP/stop-TAG exists; outcomes in TAG.runs.
storm() {
  rm -f "$BENCH_TMP/stop-$1"
  bg_start /dev/null "$BENCH_TMP/$1.storm.err" $CLIENT storm --zpark "$ZPARK" --token $TOKEN \
    --clients "$CLIENTS" --recipients "$RECIPIENTS" --rate "$RATE" --tag "$1" --out "$BENCH_TMP/$1.runs" \
    --stop-file "$BENCH_TMP/stop-$1"
  STORM_PID=$BG_PID
}
storm_stop() { touch "$BENCH_TMP/stop-$1"; wait "$STORM_PID" 2>/dev/null || true; }
# judge TAG: waits until every accepted alert of TAG reached the emulator (or DRAIN_SECS), then
# sets RES ("accepted=... delivered=... lost=... repeats=... order=...") and DRAIN_S.
judge() {
  local t0 i
  t0=$(date +%s.%N)
  for i in $(seq $((DRAIN_SECS * 2))); do
    emu "https://$EMU/_emu/messages" >"$BENCH_TMP/$1.messages.json"
    RES=$($CLIENT judge --tag "$1" --messages "$BENCH_TMP/$1.messages.json" "$BENCH_TMP/$1.runs")
    [ "$(kv lost "$RES")" = 0 ] && break
    sleep 0.5
  done
  DRAIN_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  # A straggler sent twice after this point would still count: look once more, a second later.
  sleep 1
  emu "https://$EMU/_emu/messages" >"$BENCH_TMP/$1.messages.json"
  RES=$($CLIENT judge --tag "$1" --messages "$BENCH_TMP/$1.messages.json" "$BENCH_TMP/$1.runs")
}
# check_bar LABEL MAX_REPEATS: the promise, on $RES.
check_bar() {
  local label=$1 max=$2
  [ "$(kv accepted "$RES")" -gt 0 ] || fail "$label: no alert was accepted"
  [ "$(kv lost "$RES")" = 0 ] || fail "$label: $(kv lost "$RES") accepted alerts never delivered"
  [ "$(kv order "$RES")" = 0 ] || fail "$label: $(kv order "$RES") alerts delivered out of order"
  [ "$(kv refused_sent "$RES")" = 0 ] || fail "$label: $(kv refused_sent "$RES") refused alerts were sent"
  [ "$(kv repeats "$RES")" -le "$max" ] || fail "$label: $(kv repeats "$RES") repeats (at most $max)"
}
readyz() { curl -s -o "$BENCH_TMP/readyz.body" -w '%{http_code}' "http://$ZPARK/readyz" || echo 000; }

# ------------------------------------------------------------------ rounds: faults + kill -9
echo
echo "== $ROUNDS rounds of ${ROUND_SECS}s: $CLIENTS clients -> $RECIPIENTS recipients (<= $RATE alerts/s each),"
echo "   emulator: 10% 5xx, 5% resets, a burst of 3 429s (Retry-After 1 s), answers ${DELAY_MS} ms after storing;"
echo "   kill -9 at a random moment (the sends in flight then are in Webex but not recorded: repeats)"
R_FMT='%-6s %8s %9s %9s %5s %8s %6s %8s %6s %8s\n'
printf "$R_FMT" round kill_at_s accepted delivered lost repeats order unknown max drain_s
TOTAL_ACC=0 TOTAL_REP=0 TOTAL_LOST=0
for r in $(seq "$ROUNDS"); do
  tag=r$r
  emu_reset
  emu_faults "{\"error_5xx_ratio\":0.1,\"reset_ratio\":0.05,\"burst_429\":{\"count\":3,\"retry_after\":1},\"delay_ms\":$DELAY_MS,\"seed\":$((SEED + r))}"
  data=$BENCH_TMP/data-$tag
  start_zpark "$data" "$BENCH_TMP/zpark-$tag-1.log"
  kill_ms=$((300 + RANDOM % (ROUND_SECS * 1000 - 800)))
  storm "$tag"
  sleep "$(awk -v m=$kill_ms 'BEGIN {printf "%.3f", m / 1000}')"
  kill -KILL "$ZPARK_PID"
  wait "$ZPARK_PID" 2>/dev/null || true
  sleep 0.2
  start_zpark "$data" "$BENCH_TMP/zpark-$tag-2.log"
  sleep "$(awk -v m=$kill_ms -v s="$ROUND_SECS" 'BEGIN {d = s - m / 1000 - 0.2; printf "%.3f", (d > 0.5 ? d : 0.5)}')"
  storm_stop "$tag"
  judge "$tag"
  bg_stop "$ZPARK_PID"
  printf "$R_FMT" "$r" "$(awk -v m=$kill_ms 'BEGIN {printf "%.2f", m / 1000}')" "$(kv accepted "$RES")" \
    "$(kv delivered "$RES")" "$(kv lost "$RES")" "$(kv repeats "$RES")" "$(kv order "$RES")" \
    "$(kv unknown "$RES")" "$POOL" "$DRAIN_S"
  check_bar "round $r" "$POOL"
  TOTAL_ACC=$((TOTAL_ACC + $(kv accepted "$RES")))
  TOTAL_REP=$((TOTAL_REP + $(kv repeats "$RES")))
  TOTAL_LOST=$((TOTAL_LOST + $(kv lost "$RES")))
done
echo "rounds: $TOTAL_ACC alerts accepted, $TOTAL_LOST lost, $TOTAL_REP repeats after $ROUNDS kills (at most $((ROUNDS * POOL)))"

# ------------------------------------------------------------------ disk phases
# disk_phase TAG HOW DATA SHIM_DIR: storm, break the disk (HOW: tmpfs-full, shim-ENOSPC or
# shim-EROFS), hold, repair, then judge. No kill: nothing may be sent twice.
disk_phase() {
  local tag=$1 how=$2 data=$3 shim_dir=$4 i code saw_503=0 ready_body= t_fix t_ready
  emu_reset
  # Answers that take a while keep sends in flight when the disk breaks: their records fail.
  emu_faults "{\"delay_ms\":$DELAY_MS}"
  rm -f "$DISK_FLAG"
  start_zpark "$data" "$BENCH_TMP/zpark-$tag.log" "$shim_dir"
  storm "$tag"
  sleep 1.5
  case $how in
    tmpfs-full) dd if=/dev/zero of="$MOUNTED/filler" bs=1M 2>/dev/null || true ;;
    shim-ENOSPC) echo ENOSPC >"$DISK_FLAG" ;;
    shim-EROFS) echo EROFS >"$DISK_FLAG" ;;
  esac
  # The outbox refuses once it needs a block it does not have (SQLite reuses its WAL's space).
  for i in $(seq 200); do
    code=$(readyz)
    if [ "$code" = 503 ] && awk '$1 == 503 {found = 1} END {exit !found}' "$BENCH_TMP/$tag.runs"; then
      saw_503=1
      ready_body=$(cat "$BENCH_TMP/readyz.body")
      break
    fi
    sleep 0.1
  done
  sleep "$HOLD_SECS"
  [ "$(readyz)" = 503 ] || fail "$tag: /readyz did not stay 503 while the disk was broken"
  case $how in
    tmpfs-full) rm -f "$MOUNTED/filler" ;;
    *) rm -f "$DISK_FLAG" ;;
  esac
  t_fix=$(date +%s.%N)
  t_ready=
  for i in $(seq 300); do
    if [ "$(readyz)" = 200 ]; then t_ready=$(date +%s.%N); break; fi
    sleep 0.05
  done
  sleep 2  # alerts accepted again after the repair
  storm_stop "$tag"
  judge "$tag"
  bg_stop "$ZPARK_PID"
  echo "   $RES"
  echo "   deliveries Webex took while the outbox could not record them (kept in memory, recorded later): $(grep -c 'outbox cannot record it' "$BENCH_TMP/zpark-$tag.log" || true)"
  echo "   first 503 answer to an alert: $($CLIENT judge --first-503 --tag "$tag" --messages "$BENCH_TMP/$tag.messages.json" "$BENCH_TMP/$tag.runs")"
  echo "   /readyz while broken: ${ready_body:-(never 503)}"
  if [ -n "$t_ready" ]; then
    echo "   ready again $(awk -v a="$t_fix" -v b="$t_ready" 'BEGIN {printf "%.2f", b - a}') s after the repair; all accepted alerts delivered $DRAIN_S s after the storm"
  else
    fail "$tag: /readyz not 200 within 15 s of the repair"
  fi
  [ "$saw_503" = 1 ] || fail "$tag: no alert was refused with 503 and /readyz was not 503"
  [ "$(kv n503 "$RES")" -gt 0 ] || fail "$tag: no alert was answered 503"
  case $how in
    *EROFS) grep -qi 'read-only' <<<"$ready_body" || fail "$tag: /readyz does not say read-only" ;;
    *) grep -qi 'full' <<<"$ready_body" || fail "$tag: /readyz does not say the disk is full" ;;
  esac
  check_bar "$tag" 0
}

if [ "$DISK" = 1 ]; then
  echo
  mkdir -p "$BENCH_TMP/disk"
  if [ "$TMPFS" = 1 ] && mount -t tmpfs -o size=64m chaos-disk "$BENCH_TMP/disk" 2>/dev/null; then
    MOUNTED=$BENCH_TMP/disk
    echo "== full disk: a 64 MiB tmpfs filled up during a storm, for ${HOLD_SECS}s, then emptied"
    disk_phase full tmpfs-full "$MOUNTED/data" ""
  else
    echo "== full disk: (cannot mount a tmpfs here) every write under the data directory fails with ENOSPC (LD_PRELOAD shim) for ${HOLD_SECS}s"
    disk_phase full shim-ENOSPC "$BENCH_TMP/data-full" "$BENCH_TMP/data-full"
  fi
  echo
  echo "== read-only data directory: every write and write-open under it fails with EROFS (LD_PRELOAD shim) for ${HOLD_SECS}s"
  disk_phase readonly shim-EROFS "$BENCH_TMP/data-ro" "$BENCH_TMP/data-ro"
fi

echo
if [ ${#FAILS[@]} -eq 0 ]; then
  echo "chaos: PASS ($ROUNDS rounds, seed $SEED)"
else
  echo "chaos: FAIL (${#FAILS[@]}: ${FAILS[0]}$([ ${#FAILS[@]} -gt 1 ] && echo "; ..."))"
  exit 1
fi
