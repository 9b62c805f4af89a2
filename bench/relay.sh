#!/usr/bin/env bash
# The alert relay against the Webex emulator (loopback, TLS):
#  (a) accepts/s and accept latency, durable outbox with ZPARK_FSYNC=true and =false,
#      closed loop, CONNS keep-alive connections, RECIPIENTS recipients, alternating rounds;
#  (b) relay overhead (200 answered -> emulator got POST /messages) at a steady RATE alerts/s;
#  (c) TLS handshakes per 1,000 messages (emulator's /_emu/stats and zpark's metric);
#  (d) zpark RSS idle and peak during a STORM-alert storm (VmRSS / VmHWM).
# Prints a summary table, goal vs measured. Runs in about 1.5 minutes.
#
#   bench/relay.sh
# Environment (defaults): ROUNDS=3 ACCEPT_SECS=5 CONNS=50 RECIPIENTS=100 RATE=200 RATE_SECS=10
#   STORM=10000 POOL=4 ZPARK_LOG_LEVEL=info ZPARK_BENCH_BUILD=build-bench KEEP_TMP=1 (keep logs)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
ACCEPT_SECS=${ACCEPT_SECS:-5}
CONNS=${CONNS:-50}
RECIPIENTS=${RECIPIENTS:-100}
RATE=${RATE:-200}
RATE_SECS=${RATE_SECS:-10}
STORM=${STORM:-10000}
POOL=${POOL:-4}
LEVEL=${ZPARK_LOG_LEVEL:-info}

bench_build zpark webex-emulator bench-alert-load
bench_tmp
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
LOAD=$BUILD/bench/bench-alert-load
machine_note

bash "$BENCH_ROOT/test/support/make_certs.sh" "$BENCH_TMP/certs" >/dev/null
CA=$BENCH_TMP/certs/ca.pem
bg_start "$BENCH_TMP/emu.out" "$BENCH_TMP/emu.err" "$BUILD/test/emulator/webex-emulator" \
  --cert "$BENCH_TMP/certs/server.pem" --key "$BENCH_TMP/certs/server.key" --port 0 --token test-token
EMU_PID=$BG_PID
EMU=$(wait_for_line "$BENCH_TMP/emu.out" 'listening [0-9.]+:[0-9]+' 10 "$EMU_PID" | sed 's/listening //')
echo "webex-emulator pid $EMU_PID at https://$EMU"
emu_reset() { curl -sf --cacert "$CA" -X POST "https://$EMU/_emu/reset" >/dev/null; }

# start_zpark NAME FSYNC -> ZPARK_PID, ZPARK (host:port). Fresh data dir; stderr (the log, at
# $LEVEL) goes to a file, as it would to journald; waits until /readyz (token checked).
start_zpark() {
  local name=$1 fsync=$2 i
  rm -rf "$BENCH_TMP/data-$name"
  bg_start /dev/null "$BENCH_TMP/zpark-$name.log" env -i PATH="$PATH" ZPARK_API_TOKEN=x \
    SPARK_ACCESS_TOKEN=test-token WEBEX_API_URL="https://$EMU/v1" WEBEX_CA_FILE="$CA" \
    WEBEX_POOL_SIZE="$POOL" ZPARK_DATA_DIR="$BENCH_TMP/data-$name" ZPARK_FSYNC="$fsync" \
    ZPARK_LISTEN=127.0.0.1:0 ZPARK_LOG_LEVEL="$LEVEL" "$BUILD/app/zpark" serve
  ZPARK_PID=$BG_PID
  if [ "$LEVEL" = info ] || [ "$LEVEL" = debug ]; then
    ZPARK=$(wait_for_line "$BENCH_TMP/zpark-$name.log" 'address=127\.0\.0\.1:[0-9]+' 10 "$ZPARK_PID" | sed 's/address=//')
  else
    ZPARK=127.0.0.1:$(listen_port "$ZPARK_PID" 10)
  fi
  for i in $(seq 100); do
    curl -sf "http://$ZPARK/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "zpark $name is not ready after 10 s:" >&2
  tail -5 "$BENCH_TMP/zpark-$name.log" >&2
  exit 1
}
stop_zpark() { bg_stop "$ZPARK_PID"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# ------------------------------------------------------------------ (a) accepts
echo
echo "== (a) accepts: closed loop, $CONNS connections, $RECIPIENTS recipients, ${ACCEPT_SECS}s per run, $ROUNDS rounds"
echo "   (zpark also delivers to the emulator meanwhile; generator, emulator and zpark share the cores)"
printf '%-6s %-6s %10s %9s %9s %9s %8s %14s\n' round fsync accepts/s p50_ms p99_ms max_ms commits "zpark CPU us/alert"
declare -A APS P50 P99
for r in $(seq "$ROUNDS"); do
  for fsync in true false; do
    emu_reset
    start_zpark "a-$fsync-$r" "$fsync"
    c0=$(cpu_ticks "$ZPARK_PID")
    out=$(timeout $((ACCEPT_SECS + 60)) "$LOAD" --zpark "$ZPARK" --token x --connections "$CONNS" \
      --recipients "$RECIPIENTS" --duration "$ACCEPT_SECS" --wait-delivery 0)
    c1=$(cpu_ticks "$ZPARK_PID")
    res=$(grep '^result' <<<"$out")
    commits=$(curl -s "http://$ZPARK/metrics" | awk '$1 == "zpark_outbox_commits_total" {print $2}')
    stop_zpark
    grep -q '^first error' <<<"$out" && grep '^first error' <<<"$out"
    ok=$(kv ok "$res")
    cpu=$(awk -v d=$((c1 - c0)) -v t="$CLK_TCK" -v n="$ok" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
    APS[$fsync]+="$(kv accepts_per_s "$res") "
    P50[$fsync]+="$(kv accept_p50_ms "$res") "
    P99[$fsync]+="$(kv accept_p99_ms "$res") "
    printf '%-6s %-6s %10s %9s %9s %9s %8s %14s\n' "$r" "$fsync" "$(kv accepts_per_s "$res")" \
      "$(kv accept_p50_ms "$res")" "$(kv accept_p99_ms "$res")" "$(kv accept_max_ms "$res")" "$commits" "$cpu"
    [ "$(kv errors "$res")" = 0 ] || echo "   !! $(kv errors "$res") alerts were not answered 200"
  done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
for fsync in true false; do
  printf 'median fsync=%-5s: %.0f accepts/s, p50 %.3f ms, p99 %.3f ms\n' "$fsync" "$(med "${APS[$fsync]}")" \
    "$(med "${P50[$fsync]}")" "$(med "${P99[$fsync]}")"
done

# ------------------------------------------------------------------ (b)+(c) overhead at a steady rate
echo
echo "== (b) relay overhead at $RATE alerts/s for ${RATE_SECS}s (open loop, $CONNS connections, $RECIPIENTS recipients, fsync on)"
emu_reset
start_zpark b true
sleep 1
IDLE_B=$(status_kib "$ZPARK_PID" VmRSS)
echo "zpark idle after start: VmRSS $(mib "$IDLE_B") MiB"
out_b=$(timeout $((RATE_SECS + 90)) "$LOAD" --zpark "$ZPARK" --token x --connections "$CONNS" \
  --recipients "$RECIPIENTS" --rate "$RATE" --duration "$RATE_SECS" --wait-delivery 30 \
  --emulator "$EMU" --ca "$CA" --emu-token test-token --overhead 1)
echo "$out_b" | grep -v '^result'
RES_B=$(grep '^result' <<<"$out_b")
stop_zpark

# ------------------------------------------------------------------ (d)+(c) storm
echo
echo "== (d) storm: $STORM alerts as fast as possible ($CONNS connections, $RECIPIENTS recipients, fsync on), until delivered"
emu_reset
start_zpark d true
sleep 1
IDLE_D=$(status_kib "$ZPARK_PID" VmRSS)
echo "zpark idle after start: VmRSS $(mib "$IDLE_D") MiB"
# Sample VmRSS every 50 ms (VmHWM gives the true peak; the samples show the shape).
(
  while kill -0 "$ZPARK_PID" 2>/dev/null; do
    status_kib "$ZPARK_PID" VmRSS 2>/dev/null || true
    sleep 0.05
  done
) >"$BENCH_TMP/rss.samples" &
SAMPLER=$!
BENCH_PIDS+=("$SAMPLER")
c0=$(cpu_ticks "$ZPARK_PID")
e0=$(cpu_ticks "$EMU_PID")
out_d=$(timeout 150 "$LOAD" --zpark "$ZPARK" --token x --connections "$CONNS" --recipients "$RECIPIENTS" \
  --count "$STORM" --wait-delivery 120 --emulator "$EMU" --ca "$CA" --emu-token test-token --overhead 0)
c1=$(cpu_ticks "$ZPARK_PID")
e1=$(cpu_ticks "$EMU_PID")
echo "$out_d" | grep -v '^result'
RES_D=$(grep '^result' <<<"$out_d")
HWM_D=$(status_kib "$ZPARK_PID" VmHWM)
sleep 1
AFTER_D=$(status_kib "$ZPARK_PID" VmRSS)
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLE_MAX=$(sort -n "$BENCH_TMP/rss.samples" | tail -1)
CPU_ALERT=$(awk -v d=$((c1 - c0)) -v t="$CLK_TCK" -v n="$(kv ok "$RES_D")" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
CPU_EMU=$(awk -v d=$((e1 - e0)) -v t="$CLK_TCK" -v n="$(kv ok "$RES_D")" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
echo "zpark RSS: idle $(mib "$IDLE_D") MiB, peak VmHWM $(mib "$HWM_D") MiB (largest 50 ms sample $(mib "$SAMPLE_MAX") MiB), 1 s after the storm $(mib "$AFTER_D") MiB"
echo "zpark CPU per alert, accept + delivery: $CPU_ALERT us (emulator: $CPU_EMU us per message)"
stop_zpark

# ------------------------------------------------------------------ summary
verdict() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN {if (v == "" || v == "nan") print "n/a"; else if ((op == ">=" && v + 0 >= g + 0) || (op == "<=" && v + 0 <= g + 0)) print "met"; else print "MISSED"}'; }
A_ON=$(med "${APS[true]}")
A_OFF=$(med "${APS[false]}")
OV99=$(kv overhead_p99_ms "$RES_B")
HS_B=$(kv handshakes_per_1000 "$RES_B")
HS_D=$(kv handshakes_per_1000 "$RES_D")
IDLE=$(mib "$IDLE_D")
PEAK=$(mib "$HWM_D")
echo
echo "== summary ($(nproc) shared cores; figures swing with other load, see bench/README.md)"
printf '%-52s %-12s %-16s %s\n' figure goal measured verdict
row() { printf '%-52s %-12s %-16s %s\n' "$1" "$2" "$3" "$4"; }
row "accepts/s, durable (fsync on), median of $ROUNDS" ">= 5000" "$(printf '%.0f' "$A_ON")" "$(verdict "$A_ON" 5000 '>=')"
row "accepts/s, fsync off, median of $ROUNDS" "-" "$(printf '%.0f' "$A_OFF")" ""
row "accept latency p50 / p99 ms (fsync on, $CONNS conns)" "-" "$(printf '%.2f / %.2f' "$(med "${P50[true]}")" "$(med "${P99[true]}")")" ""
row "accept latency p50 / p99 ms (fsync off)" "-" "$(printf '%.2f / %.2f' "$(med "${P50[false]}")" "$(med "${P99[false]}")")" ""
row "relay overhead p50 ms at $RATE/s (+-$(kv overhead_err_ms "$RES_B"))" "-" "$(kv overhead_p50_ms "$RES_B")" ""
row "relay overhead p99 ms at $RATE/s" "<= 5" "$OV99" "$(verdict "$OV99" 5 '<=')"
row "TLS handshakes per 1,000 msgs, steady $RATE/s" "<= $POOL" "$HS_B" "$(verdict "$HS_B" "$POOL" '<=')"
row "TLS handshakes per 1,000 msgs, $STORM storm" "<= $POOL" "$HS_D" "$(verdict "$HS_D" "$POOL" '<=')"
row "RSS idle MiB (VmRSS 1 s after start)" "<= 10" "$IDLE" "$(verdict "$IDLE" 10 '<=')"
row "RSS peak MiB during $STORM storm (VmHWM)" "<= 64" "$PEAK" "$(verdict "$PEAK" 64 '<=')"
row "storm: delivered / accepted" "all" "$(kv delivered "$RES_D")/$(kv ok "$RES_D")" ""
row "storm: accept + delivery time s" "-" "$(kv delivery_s "$RES_D")" ""
row "zpark CPU us per alert (accept + delivery)" "-" "$CPU_ALERT" ""
machine_note
