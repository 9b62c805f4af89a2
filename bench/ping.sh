#!/usr/bin/env bash
# Zpark's HTTP overhead: wrk against GET /api/v1/ping (Zpark at log level info and at warn)
# and against bench-hello-server (a bare Beast coroutine server doing ping's work), in
# alternating rounds; prints req/s per round, medians, the zpark/hello ratio (goal >= 0.8)
# and each server's CPU time per request (utime+stime from /proc/PID/stat / requests).
#
#   bench/ping.sh [ROUNDS=9] [SECONDS=3] [CONNECTIONS=50]
# Servers are pinned to the last core and wrk to the first (taskset) when there are 2+ cores,
# so that they do not migrate; set PIN=0 to let the scheduler place them.
# Environment: ZPARK_BENCH_BUILD (build dir, default build-bench), KEEP_TMP=1 keeps the temp dir.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-9}
SECS=${2:-3}
CONNS=${3:-50}
SERVER_PIN=()
WRK_PIN=()
if [ "${PIN:-1}" != 0 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c $(($(nproc) - 1)))
  WRK_PIN=(taskset -c 0)
fi

bench_build zpark bench-hello-server
ensure_wrk
bench_tmp
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
source_note

machine_note
echo "wrk -t1 -c$CONNS -d${SECS}s, $ROUNDS rounds; ${SERVER_PIN[*]:+servers on core ${SERVER_PIN[2]}, wrk on core 0}"

# --- servers (all on loopback, port 0)
bg_start "$BENCH_TMP/hello.out" "$BENCH_TMP/hello.err" "${SERVER_PIN[@]}" "$BUILD/bench/bench-hello-server" --port 0
HELLO_PID=$BG_PID
HELLO_PORT=$(wait_for_line "$BENCH_TMP/hello.out" 'listening [0-9.]+:[0-9]+' 10 "$HELLO_PID" | sed 's/.*://')

start_zpark() { # LEVEL -> ZPARK_PID, ZPARK_PORT
  # stderr to /dev/null: the cheapest sink for the info-level request lines (a file or
  # journald costs more); the port is read from the socket table instead of the log.
  bg_start /dev/null /dev/null "${SERVER_PIN[@]}" env -i PATH="$PATH" ZPARK_API_TOKEN=x ZPARK_LISTEN=127.0.0.1:0 \
    ZPARK_DATA_DIR="$BENCH_TMP/data-$1" ZPARK_LOG_LEVEL="$1" "$BUILD/app/zpark" serve
  ZPARK_PID=$BG_PID
  ZPARK_PORT=$(listen_port "$ZPARK_PID" 10)
}
start_zpark info
INFO_PID=$ZPARK_PID
INFO_PORT=$ZPARK_PORT
start_zpark warn
WARN_PID=$ZPARK_PID
WARN_PORT=$ZPARK_PORT

NAMES=(hello zpark-info zpark-warn)
declare -A PID=([hello]=$HELLO_PID [zpark-info]=$INFO_PID [zpark-warn]=$WARN_PID)
declare -A URL=([hello]="http://127.0.0.1:$HELLO_PORT/api/v1/ping"
                [zpark-info]="http://127.0.0.1:$INFO_PORT/api/v1/ping"
                [zpark-warn]="http://127.0.0.1:$WARN_PORT/api/v1/ping")
for n in "${NAMES[@]}"; do
  code=$(curl -s -o "$BENCH_TMP/check.json" -w '%{http_code}' -H 'Token: x' "${URL[$n]}")
  [ "$code" = 200 ] || { echo "$n: GET /api/v1/ping answered $code: $(cat "$BENCH_TMP/check.json")" >&2; exit 1; }
  echo "$n pid ${PID[$n]}: ${URL[$n]} -> $(cat "$BENCH_TMP/check.json")"
done

# run_wrk NAME SECONDS -> "rps cpu_us_per_req p50 p99 errors"
run_wrk() {
  local n=$1 s=$2 c0 c1 out reqs rps errs
  c0=$(cpu_ticks "${PID[$n]}")
  out=$(timeout $((s + 10)) "${WRK_PIN[@]}" wrk -t1 -c"$CONNS" -d"${s}s" --latency -H 'Token: x' "${URL[$n]}")
  c1=$(cpu_ticks "${PID[$n]}")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {for (i = 4; i <= NF; i += 2) n += $i} END {print n + 0}' <<<"$out")
  local p50 p99
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  awk -v r="$rps" -v d=$((c1 - c0)) -v q="$reqs" -v t="$CLK_TCK" -v a="$p50" -v b="$p99" -v e="$errs" \
    'BEGIN {printf "%.0f %.2f %s %s %d\n", r, d * 1e6 / t / q, a, b, e}'
}

echo "warm-up (1 s each) ..."
for n in "${NAMES[@]}"; do run_wrk "$n" 1 >/dev/null; done

printf '\n%-6s %-11s %10s %12s %9s %9s %7s\n' round server req/s "CPU us/req" p50 p99 errors
declare -A RPS CPU
for r in $(seq "$ROUNDS"); do
  # Rotate the order each round so that drift in the machine's load hits every server alike.
  for k in 0 1 2; do
    n=${NAMES[$(((k + r - 1) % 3))]}
    read -r rps cpu p50 p99 errs < <(run_wrk "$n" "$SECS")
    RPS[$n]+="$rps "
    CPU[$n]+="$cpu "
    printf '%-6s %-11s %10s %12s %9s %9s %7s\n' "$r" "$n" "$rps" "$cpu" "$p50" "$p99" "$errs"
  done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
echo
printf '%-11s %14s %18s\n' server "median req/s" "median CPU us/req"
declare -A MR MC
for n in "${NAMES[@]}"; do
  MR[$n]=$(med "${RPS[$n]}")
  MC[$n]=$(med "${CPU[$n]}")
  printf '%-11s %14.0f %18.2f\n' "$n" "${MR[$n]}" "${MC[$n]}"
done

# Per-round ratios too: a round's servers ran back to back, so their ratio is less exposed
# to slow drift than the ratio of medians.
ratio_rounds() {
  paste -d' ' <(tr ' ' '\n' <<<"${RPS[$1]}" | grep .) <(tr ' ' '\n' <<<"${RPS[hello]}" | grep .) |
    awk '{print $1 / $2}' | median
}
echo
# Two estimates of the same ratio: req/s (what wrk saw; swings with the machine's load) and
# CPU per request (hello's us / zpark's us: the throughput ratio when the server is the
# bottleneck; steadier). The goal is judged on both.
for n in zpark-info zpark-warn; do
  awk -v z="${MR[$n]}" -v h="${MR[hello]}" -v zc="${MC[$n]}" -v hc="${MC[hello]}" -v rr="$(ratio_rounds "$n")" -v n="$n" \
    'BEGIN {v = z / h; c = hc / zc
      printf "%s / hello: req/s ratio of medians %.2f (median of per-round ratios %.2f); CPU-based ratio %.2f (%.2f us vs %.2f us per request); goal >= 0.80: %s\n",
        n, v, rr, c, zc, hc, (v >= 0.8 && c >= 0.8 ? "met" : (v >= 0.8 || c >= 0.8 ? "borderline (one estimate below)" : "MISSED"))}'
done
awk -v i="${MC[zpark-info]}" -v w="${MC[zpark-warn]}" \
  'BEGIN {printf "info-level request logging costs %.2f us of CPU per request (%.0f%% of a warn-level request)\n", i - w, (i - w) * 100 / w}'
machine_note
