#!/usr/bin/env bash
# Builds the fuzz targets (clang, ZPARK_FUZZ=ON, build-fuzz/ at -O1) and runs each for SECONDS,
# starting from its seeds in test/fuzz/corpus/<target>/. Prints executions and exec/s per
# target; exits 1 when a target found something (the input is kept in <build>/findings/).
#
#   bash test/fuzz/run.sh SECONDS [TARGET...]        (all targets when none is named)
#
# New inputs a run finds go to <build>/corpus/<target>/ (kept between runs; the seeds stay as
# they are). Logs: <build>/fuzz-logs/<target>.log.
# Environment: ZPARK_FUZZ_BUILD (build dir, default build-fuzz; CI uses build-asan, which has
# the targets too), FUZZ_JOBS (targets run at once, default 1: exec/s of one core each),
# FUZZ_SEED (libFuzzer's -seed; CI fixes it so that its short run is the one checked before
# the commit, while long runs explore with a new seed each time).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
secs=${1:?usage: test/fuzz/run.sh SECONDS [TARGET...]}
shift
build=${ZPARK_FUZZ_BUILD:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-1}
all=(fuzz_http_request fuzz_alert_request fuzz_webhook fuzz_command fuzz_zabbix_answer fuzz_trapper fuzz_message)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

bash deploy/install-deps.sh --fuzz
config=(-DCMAKE_BUILD_TYPE=Debug -DZPARK_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++)
if command -v ccache >/dev/null; then config+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build" "${config[@]}" >/dev/null
echo "building ${targets[*]} in $build ..." >&2
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 || {
  tail -40 "$build/fuzz-build.log" >&2
  echo "fuzz build failed (full log: $build/fuzz-build.log)" >&2
  exit 1
}

mkdir -p "$build/findings" "$build/fuzz-logs"
export ASAN_OPTIONS="detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# run_one TARGET: runs it, then writes its result line to fuzz-logs/TARGET.result.
run_one() {
  local t=$1 corpus=$build/corpus/$1 log=$build/fuzz-logs/$1.log status=0 execs rate size result
  mkdir -p "$corpus"
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: memory blow-up is a finding too.
  "$build/test/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
    -artifact_prefix="$build/findings/$t-" "$corpus" "$root/test/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  result=ok
  [ "$status" -eq 0 ] || result="FINDING (exit $status; log $log)"
  printf '%-20s %8s %12s %8s %9s %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" "$size" "$result" \
    >"$build/fuzz-logs/$t.result"
  return "$status"
}

printf '%-20s %8s %12s %8s %9s %s\n' target seconds executions exec/s corpus result
pids=()
for t in "${targets[@]}"; do
  rm -f "$build/fuzz-logs/$t.result"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done
  run_one "$t" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
found=0
for t in "${targets[@]}"; do
  cat "$build/fuzz-logs/$t.result"
  if ! grep -q ' ok$' "$build/fuzz-logs/$t.result"; then
    found=1
    grep -E 'ERROR|runtime error|INVARIANT|SUMMARY|Test unit written|#[0-9]+ 0x' "$build/fuzz-logs/$t.log" | head -40 >&2
  fi
done
exit "$found"
