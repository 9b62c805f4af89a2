# Helpers shared by bench/ping.sh and bench/relay.sh (sourced, not run).
# Every process started with bg_start is remembered by PID and stopped by bench_cleanup
# (TERM, then KILL after 3 s); nothing is stopped by name.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${ZPARK_BENCH_BUILD:-$BENCH_ROOT/build-bench}
BENCH_PIDS=()
BENCH_TMP=

# bench_build TARGET...: configure (once) and build Release.
bench_build() {
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$BENCH_ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  echo "building $* in $BUILD ..." >&2
  cmake --build "$BUILD" -j2 --target "$@" >"$BUILD/bench-build.log" 2>&1 || {
    tail -30 "$BUILD/bench-build.log" >&2
    echo "build failed (full log: $BUILD/bench-build.log)" >&2
    exit 1
  }
}

ensure_wrk() {
  command -v wrk >/dev/null && return
  echo "wrk is missing: installing it (apt-get install -y wrk)" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  command -v wrk >/dev/null || { echo "could not install wrk" >&2; exit 1; }
}

bench_tmp() {
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/zpark-bench.XXXXXX")
}

# bg_start OUTFILE ERRFILE CMD...: starts CMD in the background; its PID is in BG_PID.
bg_start() {
  local out=$1 err=$2
  shift 2
  "$@" >"$out" 2>"$err" &
  BG_PID=$!
  BENCH_PIDS+=("$BG_PID")
}

# bg_stop PID: TERM, wait up to 3 s, then KILL. Only for PIDs we started.
bg_stop() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do bg_stop "$pid"; done
  if [ -n "$BENCH_TMP" ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$BENCH_TMP"; fi
}

# wait_for_line FILE REGEX TIMEOUT_S PID: prints the first match (grep -o) or fails.
wait_for_line() {
  local file=$1 re=$2 timeout=$3 pid=$4 i m
  for i in $(seq $((timeout * 20))); do
    m=$(grep -m1 -oE "$re" "$file" 2>/dev/null || true)
    if [ -n "$m" ]; then echo "$m"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited; its output:" >&2; cat "$file" >&2; return 1; }
    sleep 0.05
  done
  echo "timed out waiting for /$re/ in $file" >&2
  return 1
}

# listen_port PID TIMEOUT_S: the TCP port the process listens on (for a server started on
# port 0 whose own "listening" line is not printed, e.g. zpark at ZPARK_LOG_LEVEL=warn).
listen_port() {
  local pid=$1 timeout=$2 i p
  for i in $(seq $((timeout * 20))); do
    p=$(ss -Hltnp 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | sed 's/.*://' | head -1)
    if [ -n "$p" ]; then echo "$p"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited" >&2; return 1; }
    sleep 0.05
  done
  echo "process $pid is not listening after ${timeout}s" >&2
  return 1
}

# cpu_ticks PID: utime+stime in clock ticks (getconf CLK_TCK per second).
cpu_ticks() {
  sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
# cpu_user_sys PID: "utime stime" in clock ticks.
cpu_user_sys() {
  sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{print $12, $13}'
}
CLK_TCK=$(getconf CLK_TCK)

# status_kib PID FIELD: VmRSS, VmHWM ... from /proc/PID/status, in KiB.
status_kib() {
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

# median: of the numbers on stdin (mean of the middle two for an even count).
median() {
  sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# kv KEY TEXT: the value of KEY=value in a "result k=v ..." line.
kv() {
  grep -oE "(^| )$1=[^ ]*" <<<"$2" | tail -1 | sed 's/.*=//'
}

# disk_ms DIR [N]: milliseconds one synchronous 4 KiB write (O_DSYNC, about one fdatasync)
# takes in DIR, averaged over N (default 100) appends. The disk's latency drifts with other
# work on the machine: sample it next to each measurement.
disk_ms() {
  local f=$1/dsync-probe n=${2:-100} t0 t1
  t0=$(date +%s%N)
  dd if=/dev/zero of="$f" bs=4k count="$n" oflag=dsync 2>/dev/null
  t1=$(date +%s%N)
  rm -f "$f"
  awk -v ns=$((t1 - t0)) -v n="$n" 'BEGIN {printf "%.2f", ns / 1e6 / n}'
}
disk_note() {
  echo "disk: one O_DSYNC 4 KiB write (~ one fdatasync) takes $(disk_ms "$1") ms in $1 now"
}

# source_note: which Zpark was measured (the scripts rebuild from the working tree).
source_note() {
  local head dirty
  head=$(git -C "$BENCH_ROOT" log -1 --format='%h %ad' --date=format:'%Y-%m-%d %H:%M' 2>/dev/null || echo unknown)
  dirty=$(git -C "$BENCH_ROOT" status --porcelain --untracked-files=no -- . ':!bench' 2>/dev/null | wc -l)
  echo "zpark: commit $head, plus uncommitted changes in $dirty files outside bench/"
}

machine_note() {
  echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the box skews every figure)"
}
