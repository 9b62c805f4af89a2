#!/usr/bin/env bash
# Bot commands under load: signed Webex webhook calls (POST /api/v1/webhook, a trusted user
# writing `help` in a direct room) against Zpark, the Webex emulator answering Zpark's message
# fetches and receiving its replies, in alternating rounds with wrk on GET /api/v1/ping of the
# same Zpark. Each webhook costs Zpark one GET /v1/messages/{id} and one POST /v1/messages over
# TLS (pooled), and the reply goes through the durable outbox.
#
# Per round, ping then the webhook runs (the order flips every round):
#   ping          wrk -t1 -cCONNECTIONS -dSECONDS, keep-alive;
#   webhook-F     CONNECTIONS users for SECONDS, each sending a webhook and waiting until the
#                 emulator has its reply before sending the next (a closed loop over whole
#                 commands, as wrk's is over requests), on a Zpark with ZPARK_FSYNC=F; F is
#                 false (SQLite synchronous=NORMAL) and, with FSYNC=both, true (FULL).
# Then once per Zpark, a burst: BURST webhooks as fast as Zpark answers them (closed loop on
# the 200s only), to show how fast it takes calls and how long the replies then take.
# Prints per round and medians (with min-max over the rounds): req/s, latency p50/p99,
# webhook -> reply latency, Zpark's CPU per request (utime+stime from /proc/PID/stat), ratios
# of medians webhook / ping, and Zpark's RSS after the runs.
#
#   bench/webhook.sh [ROUNDS=4] [SECONDS=3] [CONNECTIONS=50]   (or the same names in the environment)
# Environment: FSYNC=both|false|true (default both), BURST=2000 (0 skips it), POOL=4
#   (WEBEX_POOL_SIZE), ZPARK_LOG_LEVEL=info (to a file, as to journald), PIN=0 turns off core
#   pinning (default: Zpark on the last core; wrk, generator and emulator on core 0),
#   ZPARK_BENCH_BUILD (build dir, default build-bench), KEEP_TMP=1 keeps the temp dir.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-${ROUNDS:-4}}
# SECONDS is bash's own clock: take the value the environment gave, not the shell variable.
SECS=${2:-$(printenv SECONDS || echo 3)}
CONNS=${3:-${CONNECTIONS:-50}}
FSYNC=${FSYNC:-both}
BURST=${BURST:-2000}
LEVEL=${ZPARK_LOG_LEVEL:-info}
POOL=${POOL:-4}
SECRET=bench-webhook-secret
DOMAIN=bench.example.org
case $FSYNC in
  both) FSYNCS="false true" ;;
  false | true) FSYNCS=$FSYNC ;;
  *) echo "FSYNC must be both, false or true" >&2; exit 2 ;;
esac
SERVER_PIN=()
CLIENT_PIN=()
if [ "${PIN:-1}" != 0 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c $(($(nproc) - 1)))
  CLIENT_PIN=(taskset -c 0)
fi

bench_build zpark webex-emulator bench-webhook-load
ensure_wrk
bench_tmp
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
source_note
LOAD=$BUILD/bench/bench-webhook-load
machine_note
disk_note "$BENCH_TMP"
echo "$ROUNDS rounds of ${SECS}s runs, $CONNS connections; ZPARK_FSYNC: $FSYNCS; WEBEX_POOL_SIZE=$POOL; log level $LEVEL" \
  "${SERVER_PIN[*]:+; zpark on core ${SERVER_PIN[2]}, wrk, generator and emulator on core 0}"

bash "$BENCH_ROOT/test/support/make_certs.sh" "$BENCH_TMP/certs" >/dev/null
CA=$BENCH_TMP/certs/ca.pem
bg_start "$BENCH_TMP/emu.out" "$BENCH_TMP/emu.err" "${CLIENT_PIN[@]}" "$BUILD/test/emulator/webex-emulator" \
  --cert "$BENCH_TMP/certs/server.pem" --key "$BENCH_TMP/certs/server.key" --port 0 --token test-token
EMU_PID=$BG_PID
EMU=$(wait_for_line "$BENCH_TMP/emu.out" 'listening [0-9.]+:[0-9]+' 10 "$EMU_PID" | sed 's/listening //')
echo "webex-emulator pid $EMU_PID at https://$EMU"

# start_zpark FSYNC -> ZP_PID[FSYNC], ZP[FSYNC] (host:port); waits until /readyz.
declare -A ZP_PID ZP
start_zpark() {
  local f=$1 addr
  bg_start /dev/null "$BENCH_TMP/zpark-fsync-$f.log" "${SERVER_PIN[@]}" env -i PATH="$PATH" ZPARK_API_TOKEN=x \
    SPARK_ACCESS_TOKEN=test-token WEBEX_API_URL="https://$EMU/v1" WEBEX_CA_FILE="$CA" WEBEX_POOL_SIZE="$POOL" \
    SPARK_WEBHOOK_SECRET="$SECRET" SPARK_TRUSTED_USERS="@$DOMAIN" ZPARK_DATA_DIR="$BENCH_TMP/data-$f" \
    ZPARK_FSYNC="$f" ZPARK_LISTEN=127.0.0.1:0 ZPARK_LOG_LEVEL="$LEVEL" "$BUILD/app/zpark" serve
  ZP_PID[$f]=$BG_PID
  addr=127.0.0.1:$(listen_port "$BG_PID" 10)
  for _ in $(seq 100); do
    if curl -sf "http://$addr/readyz" >/dev/null; then
      ZP[$f]=$addr
      echo "zpark ZPARK_FSYNC=$f pid $BG_PID at http://$addr"
      return 0
    fi
    sleep 0.1
  done
  echo "zpark (ZPARK_FSYNC=$f) is not ready after 10 s:" >&2
  tail -5 "$BENCH_TMP/zpark-fsync-$f.log" >&2
  exit 1
}
for f in $FSYNCS; do start_zpark "$f"; done
PING_F=${FSYNCS%% *}  # ping runs on the first Zpark (it never touches the outbox)

# wrk prints 812.00us, 1.23ms or 1.02s: to ms.
to_ms() { awk -v v="$1" 'BEGIN {n = v + 0; if (v ~ /us$/) n /= 1000; else if (v !~ /ms$/ && v ~ /s$/) n *= 1000; printf "%.3f", n}'; }
# run_ping SECONDS -> "rps cpu_us_per_req p50_ms p99_ms errors"
run_ping() {
  local s=$1 pid=${ZP_PID[$PING_F]} c0 c1 out reqs rps errs p50 p99
  c0=$(cpu_ticks "$pid")
  out=$(timeout $((s + 10)) "${CLIENT_PIN[@]}" wrk -t1 -c"$CONNS" -d"${s}s" --latency -H 'Token: x' \
    "http://${ZP[$PING_F]}/api/v1/ping")
  c1=$(cpu_ticks "$pid")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {for (i = 4; i <= NF; i += 2) n += $i} END {print n + 0}' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  awk -v r="$rps" -v d=$((c1 - c0)) -v q="$reqs" -v t="$CLK_TCK" -v a="$p50" -v b="$p99" -v e="$errs" \
    'BEGIN {printf "%.0f %.2f %s %s %d\n", r, d * 1e6 / t / q, a, b, e}'
}

# run_webhooks FSYNC TAG COUNT ARGS... -> RES (the generator's "result" line). The generator's
# full report goes to $BENCH_TMP/webhook-runs.txt; problems are printed.
run_webhooks() {
  local f=$1 tag=$2 count=$3 out
  shift 3
  # The emulator keeps every message and request: start each run empty (ids keep counting).
  curl -sf --cacert "$CA" -X POST "https://$EMU/_emu/reset" >/dev/null
  out=$(timeout $((SECS + 200)) "${CLIENT_PIN[@]}" "$LOAD" --zpark "${ZP[$f]}" --emulator "$EMU" --ca "$CA" \
    --secret "$SECRET" --domain "$DOMAIN" --tag "$tag" --count "$count" --connections "$CONNS" \
    --wait-replies 120 --zpark-pid "${ZP_PID[$f]}" --emu-pid "$EMU_PID" "$@") || {
    echo "$out"
    echo "bench-webhook-load failed" >&2
    exit 1
  }
  RES=$(grep '^result' <<<"$out")
  { echo "== $tag (ZPARK_FSYNC=$f)"; echo "$out"; } >>"$BENCH_TMP/webhook-runs.txt"
  grep -E '^(first error|note|users gave up|clock calibration FAILED)' <<<"$out" | sed 's/^/   !! /' || true
  [ "$(kv errors "$RES")" = 0 ] || echo "   !! $(kv errors "$RES") webhooks were not accepted"
  [ "$(kv missing "$RES")" = 0 ] || echo "   !! $(kv missing "$RES") accepted webhooks got no reply"
  [ "$(kv duplicates "$RES")" = 0 ] || echo "   !! $(kv duplicates "$RES") rooms got a second reply"
}

: >"$BENCH_TMP/webhook-runs.txt"
echo "warm-up ..."
run_ping 1 >/dev/null
for f in $FSYNCS; do run_webhooks "$f" "warm-$f-$$" 300 --in-flight "$CONNS" --duration 1 >/dev/null; done

ROW='%-6s %-14s %9s %9s %9s %10s %10s %11s %8s %8s\n'
echo
echo "req/s: ping requests, or webhooks answered 200 with a taskid (each also replied to within the run);"
echo "p50/p99: request sent -> answer; reply p50/p99: webhook sent -> the emulator got the reply (+-0.55 ms);"
echo "CPU: zpark's utime+stime per request, for webhooks including the fetch and the reply"
echo "emu us: the emulator's CPU per webhook; disk ms: one O_DSYNC 4 KiB write right after a ZPARK_FSYNC=true run"
printf "$ROW" round run req/s p50_ms p99_ms reply_p50 reply_p99 "CPU us/req" "emu us" "disk ms"
declare -A V
add() { V[$1]+="$2 "; }
# Messages seeded per webhook run: SECONDS x 6000 in the first round, then 2.5 x the most any
# run of the last round used (plus 1000): rates here can double from one round to the next.
COUNT=$((SECS * 6000))
for r in $(seq "$ROUNDS"); do
  # Flip the order each round so that drift in the machine's load hits ping and webhooks alike.
  order="ping $FSYNCS"
  [ $((r % 2)) = 0 ] && order="$FSYNCS ping"
  MOST=0
  for run in $order; do
    if [ "$run" = ping ]; then
      read -r rps cpu p50 p99 errs < <(run_ping "$SECS")
      printf "$ROW" "$r" ping "$rps" "$p50" "$p99" - - "$cpu" - -
      [ "$errs" = 0 ] || echo "   !! wrk counted $errs errors"
      add ping-rps "$rps"
      add ping-cpu "$cpu"
      add ping-p50 "$p50"
      add ping-p99 "$p99"
    else
      run_webhooks "$run" "r$r-$run-$$" "$COUNT" --in-flight "$CONNS" --duration "$SECS"
      disk=-
      if [ "$run" = true ]; then
        disk=$(disk_ms "$BENCH_TMP" 30)
        add disk "$disk"
      fi
      printf "$ROW" "$r" "webhook-$run" "$(printf %.0f "$(kv webhooks_per_s "$RES")")" "$(kv answer_p50_ms "$RES")" \
        "$(kv answer_p99_ms "$RES")" "$(kv reply_p50_ms "$RES")" "$(kv reply_p99_ms "$RES")" \
        "$(kv cpu_us_per_webhook "$RES")" "$(kv emu_cpu_us_per_webhook "$RES")" "$disk"
      for k in webhooks_per_s answer_p50_ms answer_p99_ms reply_p50_ms reply_p99_ms fetch_p50_ms fetch_p99_ms \
        cpu_us_per_webhook emu_cpu_us_per_webhook gen_cpu_us_per_webhook; do
        add "$run-$k" "$(kv "$k" "$RES")"
      done
      add "$run-per_commit" "$(awk -v d="$(kv delivered "$RES")" -v c="$(kv commits "$RES")" 'BEGIN {printf "%.1f", c ? d / c : 0}')"
      MOST=$(( $(kv sent "$RES") > MOST ? $(kv sent "$RES") : MOST ))
    fi
  done
  COUNT=$((MOST * 5 / 2 + 1000))
done

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
rss_note() { # PID -> "VmRSS x MiB (RssAnon y), peak VmHWM z MiB"
  echo "VmRSS $(mib "$(status_kib "$1" VmRSS)") MiB (RssAnon $(mib "$(status_kib "$1" RssAnon)")), peak VmHWM $(mib "$(status_kib "$1" VmHWM)") MiB"
}
declare -A RSS_ROUNDS
for f in $FSYNCS; do RSS_ROUNDS[$f]=$(rss_note "${ZP_PID[$f]}"); done
declare -A BURST_RES
if [ "$BURST" != 0 ]; then
  for f in $FSYNCS; do
    run_webhooks "$f" "burst-$f-$$" "$BURST"
    BURST_RES[$f]=$RES
  done
fi

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
mf() { printf "${2:-%.3g}" "$(med "${V[$1]}")"; }  # mf KEY [FORMAT]: the median
# mr KEY [FORMAT]: "median [min-max]" of the values collected under KEY
mr() {
  local f=${2:-%.3g}
  tr ' ' '\n' <<<"${V[$1]}" | grep . | sort -g |
    awk -v f="$f" '{a[NR] = $1} END {m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
      printf f " [" f "-" f "]", m, a[1], a[NR]}'
}
echo
echo "== medians of $ROUNDS rounds [min-max]"
echo "ping, zpark ZPARK_FSYNC=$PING_F:  $(mr ping-rps %.0f) req/s; p50 $(mr ping-p50) ms, p99 $(mr ping-p99) ms;" \
  "CPU $(mr ping-cpu %.1f) us/req"
for f in $FSYNCS; do
  echo "webhook, ZPARK_FSYNC=$f:  $(mr "$f-webhooks_per_s" %.0f) req/s (= replies/s); answer p50 $(mr "$f-answer_p50_ms") ms," \
    "p99 $(mr "$f-answer_p99_ms") ms"
  echo "    webhook -> reply at the emulator: p50 $(mr "$f-reply_p50_ms") ms, p99 $(mr "$f-reply_p99_ms") ms" \
    "(webhook -> fetch: p50 $(mf "$f-fetch_p50_ms"), p99 $(mf "$f-fetch_p99_ms") ms)"
  echo "    zpark CPU $(mr "$f-cpu_us_per_webhook" %.0f) us per webhook (answer + fetch + reply);" \
    "replies per outbox commit $(mf "$f-per_commit" %.1f)"
  echo "    emulator CPU $(mf "$f-emu_cpu_us_per_webhook" %.0f) us per webhook, generator $(mf "$f-gen_cpu_us_per_webhook" %.0f) us" \
    "(both on core 0; both include the generator's polls of the emulator's log)"
  [ "$f" = false ] || echo "    disk: $(mr disk %.1f) ms per O_DSYNC 4 KiB write (about one fdatasync), measured after each run"
done
echo
echo "== ratios of medians, webhook / ping"
for f in $FSYNCS; do
  awk -v f="$f" -v w="$(med "${V[$f-webhooks_per_s]}")" -v p="$(med "${V[ping-rps]}")" \
    -v wc="$(med "${V[$f-cpu_us_per_webhook]}")" -v pc="$(med "${V[ping-cpu]}")" \
    -v a50="$(med "${V[$f-answer_p50_ms]}")" -v a99="$(med "${V[$f-answer_p99_ms]}")" \
    -v r50="$(med "${V[$f-reply_p50_ms]}")" -v r99="$(med "${V[$f-reply_p99_ms]}")" \
    -v p50="$(med "${V[ping-p50]}")" -v p99="$(med "${V[ping-p99]}")" \
    'BEGIN {printf "ZPARK_FSYNC=%-5s req/s %.4f (1/%.0f); CPU per request x%.1f (%.1f vs %.2f us)\n", f, w / p, p / w, wc / pc, wc, pc
            printf "                  answer latency p50 x%.1f, p99 x%.1f; webhook -> reply p50 x%.0f, p99 x%.0f (vs ping p50, p99)\n",
              a50 / p50, a99 / p99, r50 / p50, r99 / p99}'
done
if [ "$BURST" != 0 ]; then
  echo
  echo "== burst: $BURST webhooks as fast as Zpark answers them ($CONNS connections, closed loop on the 200s only)"
  for f in $FSYNCS; do
    r=${BURST_RES[$f]}
    awk -v f="$f" -v w="$(kv webhooks_per_s "$r")" -v n="$(kv ok "$r")" -v a99="$(kv answer_p99_ms "$r")" \
      -v owed="$(kv owed_at_end "$r")" -v rps="$(kv replies_per_s "$r")" -v r50="$(kv reply_p50_ms "$r")" \
      -v rmax="$(kv reply_max_ms "$r")" -v f50="$(kv fetch_p50_ms "$r")" -v cpu="$(kv cpu_us_per_webhook "$r")" \
      'BEGIN {printf "ZPARK_FSYNC=%-5s %d answered at %.0f/s (p99 %.1f ms), %d replies still owed then;\n", f, n, w, a99, owed
              printf "                  replies at %.0f/s: webhook -> fetch p50 %.0f ms, -> reply p50 %.0f ms, last %.0f ms; CPU %.1f us per webhook\n",
                rps, f50, r50, rmax, cpu}'
  done
fi
echo
for f in $FSYNCS; do
  echo "zpark ZPARK_FSYNC=$f RSS after the rounds: ${RSS_ROUNDS[$f]}"
  [ "$BURST" = 0 ] || echo "                  after the burst too: $(rss_note "${ZP_PID[$f]}")"
done
echo "(the emulator, emptied before each webhook run: VmRSS $(mib "$(status_kib "$EMU_PID" VmRSS)") MiB)"
machine_note
disk_note "$BENCH_TMP"
echo "the generator's full report of every webhook run: $BENCH_TMP/webhook-runs.txt${KEEP_TMP:+ (kept)}"
