#!/usr/bin/env bash
# One command: installs what is missing, builds with warnings as errors, runs every test.
#
#   bash deploy/test.sh [--sanitize] [CTEST ARGS...]
#
# --sanitize runs the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (clang, -O0, frame pointers) in build-asan/: every test program, the zpark binary and the
# Webex emulator they start; the same build has the fuzz targets (test/fuzz), whose seeds run
# as tests too. Sanitizer reports go to build-asan/sanitizer/; any report fails the run, also
# one from a child process whose exit status no test looks at. CI runs both (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-test
deps=(--test)
config=(-DCMAKE_BUILD_TYPE=Release -DZPARK_WERROR=ON)
if [ "${1:-}" = --sanitize ]; then
  shift
  build=build-asan
  deps+=(--fuzz)
  config=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DZPARK_SANITIZE=ON -DZPARK_FUZZ=ON
    -DZPARK_SANITIZE_OPT=-O0)
fi
bash deploy/install-deps.sh "${deps[@]}"
# ccache: unchanged sources are not compiled again (CI re-runs, other build directories).
if command -v ccache >/dev/null; then config+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build" "${config[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
if [ "$build" = build-test ]; then
  exec ctest --output-on-failure --timeout 600 -j2 "$@"
fi
reports=$PWD/sanitizer
rm -rf "$reports" && mkdir -p "$reports"
# One file per process that reported (report.PID), whichever sanitizer found it.
export ASAN_OPTIONS="log_path=$reports/report:detect_leaks=1:strict_init_order=1:check_initialization_order=1"
export UBSAN_OPTIONS="log_path=$reports/report:print_stacktrace=1:halt_on_error=1"
status=0
# Not the container tests: their image holds the static release binary, which this is not.
ctest --output-on-failure --timeout 600 -j2 -LE container "$@" || status=$?
if compgen -G "$reports/*" >/dev/null; then
  for f in "$reports"/*; do echo "==== $f"; cat "$f"; done
  echo "sanitizer reports: $(ls "$reports" | wc -l), printed above and kept in $reports" >&2
  exit 1
fi
exit "$status"
