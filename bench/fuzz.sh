#!/usr/bin/env bash
# Long fuzzing runs: every libFuzzer target in test/fuzz for SECONDS each (default 300), one
# after the other; prints executions and exec/s per target, and exits 1 on a finding (the
# input that caused it is in build-fuzz/findings/). See test/fuzz/README.md.
#
#   SECONDS=600 bash bench/fuzz.sh [TARGET...]
#
# The corpus each run grows is kept in build-fuzz/corpus/<target>/ for the next run.
# SECONDS is read from the environment only (bash counts its own SECONDS from 0 otherwise).
set -euo pipefail
per_target=$(printenv SECONDS || echo 300)
exec bash "$(dirname "$0")/../test/fuzz/run.sh" "$per_target" "$@"
