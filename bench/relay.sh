#!/usr/bin/env bash
# The alert relay against the Webex emulator (loopback, TLS):
#  (a) accepts/s and accept latency, durable outbox with ZPARK_FSYNC=true and =false, and the
#      PostgreSQL outbox (ZPARK_DATABASE_URL; a throw-away server from bench/pg_server.py with
#      fsync=on, synchronous_commit=on, full_page_writes=on; database emptied before each run),
#      closed loop, CONNS keep-alive connections, RECIPIENTS recipients, alternating rounds;
#  (b) relay overhead (200 answered -> emulator got POST /messages) at a steady RATE alerts/s,
#      SQLite with fsync on and off, and PostgreSQL;
#  (c) TLS handshakes per 1,000 messages (emulator's /_emu/stats and zpark's metric);
#  (d) zpark RSS idle and peak during a STORM-alert storm (VmRSS / VmHWM);
#  and (a) and (b) once more on a simulated slow disk: fsync/fdatasync made SLOW_FSYNC_MS
#      longer by an LD_PRELOAD shim (bench/slow_fsync.cpp), since the outbox's fsyncs run
#      on Zpark's event-loop thread and this machine's disk varies from 0.1 to 4 ms.
# Prints a summary table, goal vs measured, and PostgreSQL next to SQLite (fsync on) with the
# ratio PG/SQLite. Runs in about 2 minutes (plus a first build).
#
#   bench/relay.sh
# Environment (defaults): ROUNDS=3 ACCEPT_SECS=5 CONNS=50 RECIPIENTS=100 RATE=200 RATE_SECS=10
#   STORM=10000 POOL=4 SLOW_FSYNC_MS=4 (0 skips the slow-disk runs) ZPARK_LOG_LEVEL=info
#   PG=1 (0 skips the PostgreSQL runs; they are skipped too, with a note, when PostgreSQL's
#   programs are missing: deploy/install-deps.sh --test)
#   ZPARK_BENCH_BUILD=build-bench, KEEP_TMP=1 keeps the temp dir (zpark logs, data dirs).
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
SLOW_FSYNC_MS=${SLOW_FSYNC_MS:-4}
PG=${PG:-1}
PRELOAD=  # set to the shim for the slow-disk runs

bench_build zpark webex-emulator bench-alert-load bench-slow-fsync
SHIM=$BUILD/bench/libbench-slow-fsync.so
bench_tmp
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
source_note
LOAD=$BUILD/bench/bench-alert-load
machine_note

disk_note "$BENCH_TMP"
bash "$BENCH_ROOT/test/support/make_certs.sh" "$BENCH_TMP/certs" >/dev/null
CA=$BENCH_TMP/certs/ca.pem
bg_start "$BENCH_TMP/emu.out" "$BENCH_TMP/emu.err" "$BUILD/test/emulator/webex-emulator" \
  --cert "$BENCH_TMP/certs/server.pem" --key "$BENCH_TMP/certs/server.key" --port 0 --token test-token
EMU_PID=$BG_PID
EMU=$(wait_for_line "$BENCH_TMP/emu.out" 'listening [0-9.]+:[0-9]+' 10 "$EMU_PID" | sed 's/listening //')
echo "webex-emulator pid $EMU_PID at https://$EMU"
emu_reset() { curl -sf --cacert "$CA" -X POST "https://$EMU/_emu/reset" >/dev/null; }

# A throw-away PostgreSQL (bench/pg_server.py: test/support/pg_cluster.py with fsync back on),
# stopped by its PID with the rest. Its data directory is under /tmp, on the same disk as
# $BENCH_TMP here. PG_URL, PG_PSQL (psql), PG_POSTMASTER (PID, for the server's CPU).
BACKENDS="true false"
if [ "$PG" != 0 ]; then
  bg_start "$BENCH_TMP/pg.out" "$BENCH_TMP/pg.err" python3 "$BENCH_ROOT/bench/pg_server.py" --durable
  PG_SERVER_PID=$BG_PID
  if wait_for_line "$BENCH_TMP/pg.out" '^ready' 60 "$PG_SERVER_PID" >/dev/null 2>"$BENCH_TMP/pg.wait"; then
    pg_field() { awk -v k="$1" '$1 == k {sub(/^[^ ]+ /, ""); print; exit}' "$BENCH_TMP/pg.out"; }
    PG_URL=$(pg_field url)
    PG_PSQL=$(pg_field psql)
    PG_PORT=$(pg_field port)
    PG_POSTMASTER=$(pg_field postmaster)
    PG_SETTINGS=$(pg_field settings)
    BACKENDS="true false pg"
    echo "PostgreSQL $(pg_field version), pid $PG_POSTMASTER at $PG_URL: $PG_SETTINGS"
  else
    echo "PostgreSQL runs skipped: the server did not start ($(cat "$BENCH_TMP/pg.err" "$BENCH_TMP/pg.wait" | tail -3))"
    PG=0
  fi
fi
# pg_reset: database zpark dropped (its sessions ended) and created again: every PG run starts
# from an empty outbox, as every SQLite run starts from a fresh data directory.
pg_reset() {
  "$PG_PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -c 'DROP DATABASE IF EXISTS zpark WITH (FORCE)' -c 'CREATE DATABASE zpark' >/dev/null
}
# pg_ticks: CPU (clock ticks) of the PostgreSQL server's processes (postmaster's children; a
# backend that exits during a run takes its ticks with it, none does here: Zpark's pool
# connections live as long as Zpark).
pg_ticks() {
  local p v t=0
  for p in $(ps -o pid= --ppid "$PG_POSTMASTER") "$PG_POSTMASTER"; do
    v=$(cpu_ticks "$p" 2>/dev/null || true)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# label BACKEND: how a run is named in the tables.
label() { case $1 in true) echo sqlite-on ;; false) echo sqlite-off ;; pg) echo pg ;; *) echo "$1" ;; esac; }

# start_zpark NAME FSYNC -> ZPARK_PID, ZPARK (host:port). Fresh data dir; stderr (the log, at
# $LEVEL) goes to a file, as it would to journald; waits until /readyz (token checked).
# FSYNC pg: the PostgreSQL outbox (ZPARK_DATABASE_URL), on a database emptied just before.
start_zpark() {
  local name=$1 fsync=$2 i
  local db=()
  if [ "$fsync" = pg ]; then
    pg_reset
    db=("ZPARK_DATABASE_URL=$PG_URL")
    fsync=true
  fi
  rm -rf "$BENCH_TMP/data-$name"
  bg_start /dev/null "$BENCH_TMP/zpark-$name.log" env -i PATH="$PATH" ZPARK_API_TOKEN=x \
    ${PRELOAD:+"LD_PRELOAD=$PRELOAD" "SLOW_FSYNC_US=$((SLOW_FSYNC_MS * 1000))"} "${db[@]}" \
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
# run_accepts NAME FSYNC: a fresh zpark, ACCEPT_SECS of closed-loop accepts. Sets RES_A (the
# generator's result line), COMMITS_A, DELIVERED_A (during the run) and CPU_A (zpark CPU us
# per accepted alert, including the deliveries it made meanwhile); PGCPU_A the PostgreSQL
# server's CPU us per accepted alert (PG runs; "-" otherwise).
run_accepts() {
  emu_reset
  start_zpark "$1" "$2"
  local c0 c1 p0=0 p1=0 out m
  [ "$2" = pg ] && p0=$(pg_ticks)
  c0=$(cpu_ticks "$ZPARK_PID")
  out=$(timeout $((ACCEPT_SECS + 60)) "$LOAD" --zpark "$ZPARK" --token x --connections "$CONNS" \
    --recipients "$RECIPIENTS" --duration "$ACCEPT_SECS" --wait-delivery 0)
  c1=$(cpu_ticks "$ZPARK_PID")
  [ "$2" = pg ] && p1=$(pg_ticks)
  m=$(curl -s "http://$ZPARK/metrics")
  stop_zpark
  RES_A=$(grep '^result' <<<"$out")
  COMMITS_A=$(awk '$1 == "zpark_outbox_commits_total" {print $2}' <<<"$m")
  DELIVERED_A=$(awk '$1 == "zpark_alerts_delivered_total" {print $2}' <<<"$m")
  CPU_A=$(awk -v d=$((c1 - c0)) -v t="$CLK_TCK" -v n="$(kv ok "$RES_A")" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
  PGCPU_A=-
  [ "$2" = pg ] && PGCPU_A=$(awk -v d=$((p1 - p0)) -v t="$CLK_TCK" -v n="$(kv ok "$RES_A")" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
  DISK_A=$(disk_ms "$BENCH_TMP" 30)
  grep '^first error' <<<"$out" || true
  [ "$(kv errors "$RES_A")" = 0 ] || echo "   !! $(kv errors "$RES_A") alerts were not answered 200"
}
A_FMT='%-6s %-10s %10s %8s %8s %8s %8s %11s %10s %9s %8s %8s\n'
a_row() { # ROUND LABEL
  printf "$A_FMT" "$1" "$2" "$(kv accepts_per_s "$RES_A")" "$(kv accept_p50_ms "$RES_A")" "$(kv accept_p99_ms "$RES_A")" \
    "$(kv accept_max_ms "$RES_A")" "$COMMITS_A" "$(awk -v a="$(kv ok "$RES_A")" -v c="$COMMITS_A" 'BEGIN {printf "%.1f", a / c}')" \
    "$DELIVERED_A" "$CPU_A" "$PGCPU_A" "$DISK_A"
}
echo
echo "== (a) accepts: closed loop, $CONNS connections, $RECIPIENTS recipients, ${ACCEPT_SECS}s per run, $ROUNDS rounds"
echo "   (zpark also delivers to the emulator meanwhile; generator, emulator, zpark and PostgreSQL share the cores)"
[ "$PG" != 0 ] && echo "   (outbox pg: PostgreSQL with $PG_SETTINGS; database emptied before each run)"
printf "$A_FMT" round outbox accepts/s p50_ms p99_ms max_ms commits alerts/commit delivered "CPU us/al" "pg us/al" "disk ms"
echo "   (disk ms: one O_DSYNC 4 KiB write measured right after the run; CPU us/al: zpark CPU per accepted alert;"
echo "    pg us/al: the PostgreSQL server's CPU per accepted alert; sqlite-on/off: ZPARK_FSYNC=true/false)"
declare -A APS P50 P99
for r in $(seq "$ROUNDS"); do
  for fsync in $BACKENDS; do
    run_accepts "a-$fsync-$r" "$fsync"
    a_row "$r" "$(label "$fsync")"
    APS[$fsync]+="$(kv accepts_per_s "$RES_A") "
    P50[$fsync]+="$(kv accept_p50_ms "$RES_A") "
    P99[$fsync]+="$(kv accept_p99_ms "$RES_A") "
  done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
for fsync in $BACKENDS; do
  printf 'median %-10s: %.0f accepts/s, p50 %.3f ms, p99 %.3f ms\n' "$(label "$fsync")" "$(med "${APS[$fsync]}")" \
    "$(med "${P50[$fsync]}")" "$(med "${P99[$fsync]}")"
done
if [ "$SLOW_FSYNC_MS" != 0 ]; then
  echo "-- the same on a slower disk: every fsync/fdatasync ${SLOW_FSYNC_MS} ms longer (LD_PRELOAD shim), fsync on, 1 run"
  PRELOAD=$SHIM
  run_accepts a-slow true
  PRELOAD=
  RES_A_SLOW=$RES_A
  a_row 1 "on+${SLOW_FSYNC_MS}ms"
fi

# ------------------------------------------------------------------ (b)+(c) overhead at a steady rate
declare -A RES_B IDLE_B
B_RUNS="true false"
[ "$PG" != 0 ] && B_RUNS="$B_RUNS pg"
[ "$SLOW_FSYNC_MS" != 0 ] && B_RUNS="$B_RUNS slow"
for fsync in $B_RUNS; do
  echo
  if [ "$fsync" = slow ]; then
    echo "== (b, slow disk) relay overhead at $RATE alerts/s for ${RATE_SECS}s, fsync on, every fsync ${SLOW_FSYNC_MS} ms slower"
    PRELOAD=$SHIM
  elif [ "$fsync" = pg ]; then
    echo "== (b) relay overhead at $RATE alerts/s for ${RATE_SECS}s (open loop, $CONNS connections, $RECIPIENTS recipients, PostgreSQL outbox: $PG_SETTINGS)"
  else
    echo "== (b) relay overhead at $RATE alerts/s for ${RATE_SECS}s (open loop, $CONNS connections, $RECIPIENTS recipients, fsync $fsync)"
  fi
  disk_note "$BENCH_TMP"
  emu_reset
  start_zpark "b-$fsync" "$([ "$fsync" = slow ] && echo true || echo "$fsync")"
  PRELOAD=
  sleep 1
  IDLE_B[$fsync]=$(status_kib "$ZPARK_PID" VmRSS)
  out_b=$(timeout $((RATE_SECS + 90)) "$LOAD" --zpark "$ZPARK" --token x --connections "$CONNS" \
    --recipients "$RECIPIENTS" --rate "$RATE" --duration "$RATE_SECS" --wait-delivery 45 \
    --emulator "$EMU" --ca "$CA" --emu-token test-token --overhead 1)
  echo "$out_b" | grep -v '^result'
  RES_B[$fsync]=$(grep '^result' <<<"$out_b")
  stop_zpark
  disk_note "$BENCH_TMP"
done

# ------------------------------------------------------------------ (d)+(c) storm
echo
echo "== (d) storm: $STORM alerts as fast as possible ($CONNS connections, $RECIPIENTS recipients, fsync on), until delivered"
emu_reset
start_zpark d true
sleep 1
IDLE_D=$(status_kib "$ZPARK_PID" VmRSS)
IDLE_ANON=$(status_kib "$ZPARK_PID" RssAnon)
IDLE_PSS=$(awk '$1 == "Pss:" {print $2}' "/proc/$ZPARK_PID/smaps_rollup" 2>/dev/null || echo 0)
echo "zpark idle 1 s after start: VmRSS $(mib "$IDLE_D") MiB = RssAnon $(mib "$IDLE_ANON") (heap, stacks) + RssFile $(mib "$(status_kib "$ZPARK_PID" RssFile)") (mapped code of zpark and its shared libraries); Pss $(mib "$IDLE_PSS") MiB"
# Sample VmRSS every 50 ms (VmHWM gives the true peak; the samples show the shape).
(
  while kill -0 "$ZPARK_PID" 2>/dev/null; do
    awk '$1 == "VmRSS:" {r = $2} $1 == "RssAnon:" {a = $2} END {if (r) print r, a}' "/proc/$ZPARK_PID/status" 2>/dev/null || true
    sleep 0.05
  done
) >"$BENCH_TMP/rss.samples" &
SAMPLER=$!
BENCH_PIDS+=("$SAMPLER")
read -r u0 s0 < <(cpu_user_sys "$ZPARK_PID")
e0=$(cpu_ticks "$EMU_PID")
out_d=$(timeout 150 "$LOAD" --zpark "$ZPARK" --token x --connections "$CONNS" --recipients "$RECIPIENTS" \
  --count "$STORM" --wait-delivery 120 --emulator "$EMU" --ca "$CA" --emu-token test-token --overhead 0)
read -r u1 s1 < <(cpu_user_sys "$ZPARK_PID")
e1=$(cpu_ticks "$EMU_PID")
echo "$out_d" | grep -v '^result'
RES_D=$(grep '^result' <<<"$out_d")
HWM_D=$(status_kib "$ZPARK_PID" VmHWM)
sleep 1
AFTER_D=$(status_kib "$ZPARK_PID" VmRSS)
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLE_MAX=$(awk '$1 > m {m = $1} END {print m + 0}' "$BENCH_TMP/rss.samples")
ANON_MAX=$(awk '$2 > m {m = $2} END {print m + 0}' "$BENCH_TMP/rss.samples")
N_D=$(kv ok "$RES_D")
CPU_ALERT=$(awk -v d=$((u1 - u0 + s1 - s0)) -v t="$CLK_TCK" -v n="$N_D" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
CPU_USER=$(awk -v d=$((u1 - u0)) -v t="$CLK_TCK" -v n="$N_D" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
CPU_SYS=$(awk -v d=$((s1 - s0)) -v t="$CLK_TCK" -v n="$N_D" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
CPU_EMU=$(awk -v d=$((e1 - e0)) -v t="$CLK_TCK" -v n="$(kv ok "$RES_D")" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
echo "zpark RSS: idle $(mib "$IDLE_D") MiB, peak VmHWM $(mib "$HWM_D") MiB (largest 50 ms sample: VmRSS $(mib "$SAMPLE_MAX"), RssAnon $(mib "$ANON_MAX") MiB), 1 s after the storm $(mib "$AFTER_D") MiB"
echo "zpark CPU per alert, accept + delivery: $CPU_ALERT us = user $CPU_USER + sys $CPU_SYS (emulator: $CPU_EMU us per message)"
stop_zpark

# ------------------------------------------------------------------ summary
verdict() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN {if (v == "" || v == "nan") print "n/a"; else if ((op == ">=" && v + 0 >= g + 0) || (op == "<=" && v + 0 <= g + 0)) print "met"; else print "MISSED"}'; }
# Handshakes: met when the rate per 1,000 messages is within the pool size, or when the whole
# run needed no more handshakes than the pool has connections (a short run's per-1,000 figure
# is dominated by the pool's first connections).
hs_verdict() {
  local per=$(kv handshakes_per_1000 "$1") n=$(kv handshakes "$1")
  if [ "$(verdict "$per" "$POOL" '<=')" = met ]; then echo met
  elif [ "$(verdict "$n" "$POOL" '<=')" = met ]; then echo "met ($n <= pool for the whole run)"
  else echo MISSED; fi
}
A_ON=$(med "${APS[true]}")
A_OFF=$(med "${APS[false]}")
HS_D=$(kv handshakes_per_1000 "$RES_D")
IDLE=$(mib "$IDLE_D")
PEAK=$(mib "$HWM_D")
echo
echo "== summary ($(nproc) shared cores; figures swing with other load and with the disk's fsync latency, see bench/README.md)"
disk_note "$BENCH_TMP"
printf '%-62s %-9s %-18s %s\n' figure goal measured verdict
row() { printf '%-62s %-9s %-18s %s\n' "$1" "$2" "$3" "$4"; }
row "accepts/s, durable (fsync on), median of $ROUNDS" ">= 5000" "$(printf '%.0f' "$A_ON")" "$(verdict "$A_ON" 5000 '>=')"
row "accepts/s, fsync off, median of $ROUNDS" "-" "$(printf '%.0f' "$A_OFF")" ""
if [ "$SLOW_FSYNC_MS" != 0 ]; then
  A_SLOW=$(kv accepts_per_s "$RES_A_SLOW")
  row "accepts/s, fsync on, disk ${SLOW_FSYNC_MS} ms slower (1 run)" ">= 5000" "$(printf '%.0f' "$A_SLOW")" "$(verdict "$A_SLOW" 5000 '>=')"
fi
row "accept latency p50 / p99 ms, fsync on, $CONNS conns" "-" "$(printf '%.2f / %.2f' "$(med "${P50[true]}")" "$(med "${P99[true]}")")" ""
row "accept latency p50 / p99 ms, fsync off" "-" "$(printf '%.2f / %.2f' "$(med "${P50[false]}")" "$(med "${P99[false]}")")" ""
if [ "$PG" != 0 ]; then
  A_PG=$(med "${APS[pg]}")
  row "accepts/s, durable PostgreSQL (fsync on), median of $ROUNDS" ">= 5000" "$(printf '%.0f' "$A_PG")" "$(verdict "$A_PG" 5000 '>=')"
  row "accept latency p50 / p99 ms, PostgreSQL, $CONNS conns" "-" "$(printf '%.2f / %.2f' "$(med "${P50[pg]}")" "$(med "${P99[pg]}")")" ""
fi
for fsync in $B_RUNS; do
  r=${RES_B[$fsync]}
  case $fsync in true) fsync="fsync on" ;; false) fsync="fsync off" ;; slow) fsync="fsync on, disk +${SLOW_FSYNC_MS}ms" ;; pg) fsync="PostgreSQL" ;; esac
  row "relay overhead p50 ms at $RATE/s, $fsync (+-$(kv overhead_err_ms "$r"))" "-" "$(kv overhead_p50_ms "$r")" ""
  row "relay overhead p99 ms at $RATE/s, $fsync" "<= 5" "$(kv overhead_p99_ms "$r")" "$(verdict "$(kv overhead_p99_ms "$r")" 5 '<=')"
  row "  same run: accept p99 ms; all delivered after s" "-" "$(kv accept_p99_ms "$r"); $(kv delivery_s "$r") s" ""
  row "TLS handshakes at $RATE/s, $fsync (per 1,000 msgs)" "<= $POOL" "$(kv handshakes "$r") ($(kv handshakes_per_1000 "$r"))" "$(hs_verdict "$r")"
done
row "TLS handshakes in the $STORM storm (per 1,000 msgs)" "<= $POOL" "$(kv handshakes "$RES_D") ($HS_D)" "$(hs_verdict "$RES_D")"
row "RSS idle MiB (VmRSS 1 s after start)" "<= 10" "$IDLE" "$(verdict "$IDLE" 10 '<=')"
row "  of which anonymous (RssAnon) MiB" "-" "$(mib "$IDLE_ANON")" ""
row "RSS peak MiB during the $STORM storm (VmHWM)" "<= 64" "$PEAK" "$(verdict "$PEAK" 64 '<=')"
row "storm: delivered / accepted" "all" "$(kv delivered "$RES_D")/$N_D" ""
row "storm: first accept -> all delivered, s" "-" "$(kv delivery_s "$RES_D")" ""
row "storm: zpark CPU us per alert (accept + delivery)" "-" "$CPU_ALERT" ""
if [ "$PG" != 0 ]; then
  echo
  echo "== PostgreSQL vs SQLite, both durable (SQLite: ZPARK_FSYNC=true; PostgreSQL: $PG_SETTINGS)"
  echo "   (accept figures: medians of $ROUNDS alternating rounds; overhead: one run each at $RATE/s;"
  echo "    PG/SQLite only where both figures are > 0: an overhead near 0 or below makes a ratio meaningless)"
  P_FMT='%-44s %12s %12s %10s %10s\n'
  printf "$P_FMT" figure SQLite PostgreSQL PG/SQLite PG-SQLite
  prow() { printf "$P_FMT" "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN {if (a == "" || b == "" || a == "-" || b == "-" || a + 0 <= 0 || b + 0 <= 0) print "-"; else printf "%.2f", b / a}')" \
    "$(awk -v a="$2" -v b="$3" 'BEGIN {if (a == "" || b == "" || a == "-" || b == "-") print "-"; else printf((b - a >= 100 || a - b >= 100) ? "%.0f" : "%.2f", b - a)}')"; }
  pfmt() { awk -v v="$1" -v f="$2" 'BEGIN {if (v == "" || v == "nan") print "-"; else printf f, v}'; }
  prow "accepts/s (closed loop, $CONNS conns)" "$(pfmt "$A_ON" %.0f)" "$(pfmt "$A_PG" %.0f)"
  prow "accept latency p50 ms" "$(pfmt "$(med "${P50[true]}")" %.3f)" "$(pfmt "$(med "${P50[pg]}")" %.3f)"
  prow "accept latency p99 ms" "$(pfmt "$(med "${P99[true]}")" %.3f)" "$(pfmt "$(med "${P99[pg]}")" %.3f)"
  prow "relay overhead p50 ms at $RATE/s (+-$(kv overhead_err_ms "${RES_B[pg]}"))" "$(kv overhead_p50_ms "${RES_B[true]}")" "$(kv overhead_p50_ms "${RES_B[pg]}")"
  prow "relay overhead p99 ms at $RATE/s" "$(kv overhead_p99_ms "${RES_B[true]}")" "$(kv overhead_p99_ms "${RES_B[pg]}")"
  prow "accept p99 ms at $RATE/s" "$(kv accept_p99_ms "${RES_B[true]}")" "$(kv accept_p99_ms "${RES_B[pg]}")"
  prow "all delivered after s (at $RATE/s)" "$(kv delivery_s "${RES_B[true]}")" "$(kv delivery_s "${RES_B[pg]}")"
  echo "   (relay overhead p99 goal <= 5 ms: PostgreSQL $(verdict "$(kv overhead_p99_ms "${RES_B[pg]}")" 5 '<='))"
fi
machine_note
