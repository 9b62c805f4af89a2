#!/usr/bin/env bash
# Zpark's HTTP overhead: wrk against GET /api/v1/ping, with Zpark at log level info (the
# default: one access-log line per request) and at warn (no access log), and against
# bench-hello-server (a bare Beast coroutine server doing ping's work), in alternating rounds;
# prints req/s per round, medians, the zpark/hello ratios (goal >= 0.8 at both levels), each
# server's CPU time per request (utime+stime from /proc/PID/stat / requests) and its write(2)
# calls per request (syscw from /proc/PID/io: the log's writes; the socket's are sendmsg).
#
#   bench/ping.sh [ROUNDS=9] [SECONDS=3] [CONNECTIONS=50]
# Servers are pinned to the last core and wrk to the first (taskset) when there are 2+ cores,
# so that they do not migrate; set PIN=0 to let the scheduler place them.
# Environment: ZPARK_BENCH_BUILD (build dir, default build-bench), KEEP_TMP=1 keeps the temp dir,
#   ZPARK_BIN=path    measure this zpark binary instead of building one;
#   ZPARK_OLD_BIN=path  also measure another zpark (e.g. built before a change) at both levels
#                     in the same rounds, and print new vs old;
#   CALLGRIND=1       afterwards, run each server once under valgrind --tool=callgrind and
#                     print instructions per request (repeatable where req/s and CPU time are
#                     not; CALLGRIND_SECS=5 of wrk per server, after a 2 s warm-up).
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

if [ -n "${ZPARK_BIN:-}" ]; then
  bench_build bench-hello-server
  ZPARK=$ZPARK_BIN
else
  bench_build zpark bench-hello-server
  ZPARK=$BUILD/app/zpark
fi
OLD=${ZPARK_OLD_BIN:-}
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

start_zpark() { # LABEL LEVEL BINARY -> ZPARK_PID, ZPARK_PORT
  # stderr to /dev/null: the cheapest sink for the info-level request lines (a file or
  # journald costs more); the port is read from the socket table instead of the log.
  bg_start /dev/null /dev/null "${SERVER_PIN[@]}" env -i PATH="$PATH" ZPARK_API_TOKEN=x ZPARK_LISTEN=127.0.0.1:0 \
    ZPARK_DATA_DIR="$BENCH_TMP/data-$1" ZPARK_LOG_LEVEL="$2" "$3" serve
  ZPARK_PID=$BG_PID
  ZPARK_PORT=$(listen_port "$ZPARK_PID" 10)
}

NAMES=(hello)
declare -A PID=([hello]=$HELLO_PID) URL=([hello]="http://127.0.0.1:$HELLO_PORT/api/v1/ping")
add_zpark() { # LABEL LEVEL BINARY
  start_zpark "$@"
  NAMES+=("$1")
  PID[$1]=$ZPARK_PID
  URL[$1]="http://127.0.0.1:$ZPARK_PORT/api/v1/ping"
}
add_zpark zpark-info info "$ZPARK"
add_zpark zpark-warn warn "$ZPARK"
if [ -n "$OLD" ]; then
  add_zpark old-info info "$OLD"
  add_zpark old-warn warn "$OLD"
  echo "zpark: $ZPARK; old: $OLD"
fi
ZPARKS=("${NAMES[@]:1}")

for n in "${NAMES[@]}"; do
  code=$(curl -s -o "$BENCH_TMP/check.json" -w '%{http_code}' -H 'Token: x' "${URL[$n]}")
  [ "$code" = 200 ] || { echo "$n: GET /api/v1/ping answered $code: $(cat "$BENCH_TMP/check.json")" >&2; exit 1; }
  echo "$n pid ${PID[$n]}: ${URL[$n]} -> $(cat "$BENCH_TMP/check.json")"
done

syscw() { awk '$1 == "syscw:" {print $2}' "/proc/$1/io"; }

# run_wrk NAME SECONDS -> "rps cpu_us_per_req p50 p99 errors writes_per_req"
run_wrk() {
  local n=$1 s=$2 c0 c1 w0 w1 out reqs rps errs
  c0=$(cpu_ticks "${PID[$n]}")
  w0=$(syscw "${PID[$n]}")
  out=$(timeout $((s + 10)) "${WRK_PIN[@]}" wrk -t1 -c"$CONNS" -d"${s}s" --latency -H 'Token: x' "${URL[$n]}")
  c1=$(cpu_ticks "${PID[$n]}")
  w1=$(syscw "${PID[$n]}")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {for (i = 4; i <= NF; i += 2) n += $i} END {print n + 0}' <<<"$out")
  local p50 p99
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  awk -v r="$rps" -v d=$((c1 - c0)) -v q="$reqs" -v t="$CLK_TCK" -v a="$p50" -v b="$p99" -v e="$errs" -v w=$((w1 - w0)) \
    'BEGIN {printf "%.0f %.2f %s %s %d %.3f\n", r, d * 1e6 / t / q, a, b, e, w / q}'
}

echo "warm-up (1 s each) ..."
for n in "${NAMES[@]}"; do run_wrk "$n" 1 >/dev/null; done

printf '\n%-6s %-11s %10s %12s %9s %9s %7s %11s\n' round server req/s "CPU us/req" p50 p99 errors "writes/req"
declare -A RPS CPU WPR
N=${#NAMES[@]}
for r in $(seq "$ROUNDS"); do
  # Rotate the order each round so that drift in the machine's load hits every server alike.
  for k in $(seq 0 $((N - 1))); do
    n=${NAMES[$(((k + r - 1) % N))]}
    read -r rps cpu p50 p99 errs wpr < <(run_wrk "$n" "$SECS")
    RPS[$n]+="$rps "
    CPU[$n]+="$cpu "
    WPR[$n]+="$wpr "
    printf '%-6s %-11s %10s %12s %9s %9s %7s %11s\n' "$r" "$n" "$rps" "$cpu" "$p50" "$p99" "$errs" "$wpr"
  done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
# spread: "min-max" of the numbers
spread() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s-%s", lo, hi}'; }
echo
printf '%-11s %14s %16s %18s %16s %11s\n' server "median req/s" "req/s range" "median CPU us/req" "CPU us range" "writes/req"
declare -A MR MC
for n in "${NAMES[@]}"; do
  MR[$n]=$(med "${RPS[$n]}")
  MC[$n]=$(med "${CPU[$n]}")
  printf '%-11s %14.0f %16s %18.2f %16s %11.3f\n' "$n" "${MR[$n]}" "$(spread "${RPS[$n]}")" "${MC[$n]}" "$(spread "${CPU[$n]}")" "$(med "${WPR[$n]}")"
done

# Per-round ratios too: a round's servers ran back to back, so their ratio is less exposed
# to slow drift than the ratio of medians.
ratio_rounds() { # A B -> median over rounds of req/s(A) / req/s(B)
  paste -d' ' <(tr ' ' '\n' <<<"${RPS[$1]}" | grep .) <(tr ' ' '\n' <<<"${RPS[$2]}" | grep .) |
    awk '{print $1 / $2}' | median
}
echo
# Two estimates of the same ratio: req/s (what wrk saw; swings with the machine's load) and
# CPU per request (hello's us / zpark's us: the throughput ratio when the server is the
# bottleneck; steadier). The goal is judged on both.
for n in "${ZPARKS[@]}"; do
  awk -v z="${MR[$n]}" -v h="${MR[hello]}" -v zc="${MC[$n]}" -v hc="${MC[hello]}" -v rr="$(ratio_rounds "$n" hello)" -v n="$n" \
    'BEGIN {v = z / h; c = hc / zc
      printf "%s / hello: req/s ratio of medians %.2f (median of per-round ratios %.2f); CPU-based ratio %.2f (%.2f us vs %.2f us per request); goal >= 0.80: %s\n",
        n, v, rr, c, zc, hc, (v >= 0.8 && c >= 0.8 ? "met" : (v >= 0.8 || c >= 0.8 ? "borderline (one estimate below)" : "MISSED"))}'
done
log_cost() { # INFO WARN
  awk -v i="${MC[$1]}" -v w="${MC[$2]}" -v n="$1" \
    'BEGIN {printf "%s: info-level request logging costs %.2f us of CPU per request (%.0f%% of a warn-level request)\n", n, i - w, (i - w) * 100 / w}'
}
log_cost zpark-info zpark-warn
if [ -n "$OLD" ]; then
  log_cost old-info old-warn
  for l in info warn; do
    awk -v nc="${MC[zpark-$l]}" -v oc="${MC[old-$l]}" -v rr="$(ratio_rounds "zpark-$l" "old-$l")" -v l="$l" \
      'BEGIN {printf "new vs old at %s: CPU per request %.2f us vs %.2f us (%+.1f%%); req/s, median of per-round ratios new/old %.2f\n",
        l, nc, oc, (nc - oc) * 100 / oc, rr}'
  done
fi
machine_note

[ "${CALLGRIND:-0}" = 1 ] || exit 0
command -v valgrind >/dev/null || { echo "CALLGRIND=1: valgrind is not installed" >&2; exit 1; }
# Instructions per request under callgrind: user-space work only (a syscall counts as the few
# instructions that make it), and the server runs ~50x slower, so more requests wait in each
# turn of the loop than natively. Repeatable to a fraction of a per cent, which is what req/s
# and CPU time on a shared machine are not.
CG_SECS=${CALLGRIND_SECS:-5}
echo
echo "callgrind: wrk -t1 -c$CONNS, 2 s warm-up, then ${CG_SECS}s counted per server"
for n in "${NAMES[@]}"; do bg_stop "${PID[$n]}"; done
cg_run() { # NAME CMD... -> "instructions requests"
  local n=$1 pid port out reqs
  shift
  bg_start "$BENCH_TMP/cg-$n.out" "$BENCH_TMP/cg-$n.err" "${SERVER_PIN[@]}" "$@"
  pid=$BG_PID
  port=$(listen_port "$pid" 60)
  local url="http://127.0.0.1:$port/api/v1/ping"
  timeout 20 "${WRK_PIN[@]}" wrk -t1 -c"$CONNS" -d2s -H 'Token: x' "$url" >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  out=$(timeout $((CG_SECS + 20)) "${WRK_PIN[@]}" wrk -t1 -c"$CONNS" -d"${CG_SECS}s" -H 'Token: x' "$url")
  callgrind_control -d "$pid" >/dev/null 2>&1
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  bg_stop "$pid"
  echo "$(awk '/^summary:/ {print $2}' "$BENCH_TMP/cg-$n.cg.1") $reqs"
}
cg_cmd() { # NAME -> the command that runs it under callgrind
  local n=$1 vg=(valgrind --tool=callgrind --callgrind-out-file="$BENCH_TMP/cg-$1.cg")
  case $n in
    hello) echo "${vg[@]}" "$BUILD/bench/bench-hello-server" --port 0 ;;
    *) local bin=$ZPARK level=${n#*-}
      [[ $n == old-* ]] && bin=$OLD
      echo env -i PATH="$PATH" ZPARK_API_TOKEN=x ZPARK_LISTEN=127.0.0.1:0 ZPARK_DATA_DIR="$BENCH_TMP/cg-data-$n" \
        ZPARK_LOG_LEVEL="$level" "${vg[@]}" "$bin" serve ;;
  esac
}
printf '%-11s %14s %10s %12s\n' server instructions requests "Ir/request"
declare -A IR
for n in "${NAMES[@]}"; do
  # shellcheck disable=SC2046 # the command's words, none with spaces
  read -r ir reqs < <(cg_run "$n" $(cg_cmd "$n"))
  IR[$n]=$(awk -v i="$ir" -v q="$reqs" 'BEGIN {printf "%.0f", i / q}')
  printf '%-11s %14s %10s %12s\n' "$n" "$ir" "$reqs" "${IR[$n]}"
done
for n in "${ZPARKS[@]}"; do
  awk -v z="${IR[$n]}" -v h="${IR[hello]}" -v n="$n" 'BEGIN {printf "%s / hello: instruction-based ratio %.2f\n", n, h / z}'
done
