#!/usr/bin/env bash
# Loads the webhook (release build) over TLS on 127.0.0.1 with wrk, posting the AdmissionReview of
# examples/inference-p95-latency.yaml, beside a floor measured in the same run
# (webhook/benches/floor_server.rs): the same TLS and HTTP stack doing what no webhook can avoid,
# reading the whole body, parsing it as an AdmissionReview and answering allowed with its uid.
# Prints requests/s, p50/p99/max latency, errors, each server's CPU per review (user+system time
# from /proc/PID/stat over the measured run, divided by the requests: steadier than throughput on a
# shared machine), the webhook/floor ratios of throughput, p99 and CPU per review, the webhook's RSS
# (VmRSS at start, VmHWM at end) and the load average before and after; then the CPU time of the
# review path alone (webhook/benches/review_path.rs: decoding, linting, answering).
# Builds the release binaries first; cargo reads CARGO_PROFILE_RELEASE_* from the environment, so
# run with the same values as the last build (e.g. symbols kept for perf) to avoid a rebuild.
# Bounded: DURATION seconds per server after a 2 s warm-up; loopback only.
# Usage: scripts/bench-webhook.sh [DURATION_S=15] [CONNECTIONS=16]
# Needs wrk (apt-get install -y wrk). Env: WRK_THREADS (2), RUST_LOG (info, as deployed),
# WEBHOOK_PORT (18443), METRICS_PORT (18080), FLOOR_PORT (18444).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
connections=${2:-16}
threads=${WRK_THREADS:-2}
port=${WEBHOOK_PORT:-18443}
metrics_port=${METRICS_PORT:-18080}
floor_port=${FLOOR_PORT:-18444}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p kedalint-webhook --bin kedalint-webhook --example floor_server --example review_body \
  --example review_path
bin=$target/release/kedalint-webhook

. scripts/lib/webhook-load.sh

"$bin" certs --out-dir "$work/certs" >/dev/null
"$target/release/examples/review_body" examples/inference-p95-latency.yaml >"$work/review.json"
write_post_lua

wait_port() { # port: wait until something accepts on 127.0.0.1:port (at most 10 s)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listening on 127.0.0.1:$1" >&2
  exit 1
}

# Runs wrk against a port; prints one line: label, rps, p50, p99, max, errors, the server's CPU per
# review in microseconds.
load() { # label port server-pid
  REVIEW="$work/review.json" wrk -t"$threads" -c"$connections" -d2s -s "$work/post.lua" \
    "https://127.0.0.1:$2/validate" >/dev/null
  local out ticks_before ticks_after
  ticks_before=$(cpu_ticks "$3")
  out=$(REVIEW="$work/review.json" wrk -t"$threads" -c"$connections" -d"${duration}s" --latency \
    -s "$work/post.lua" "https://127.0.0.1:$2/validate" | grep '^RESULT')
  ticks_after=$(cpu_ticks "$3")
  read -r _ requests duration_us socket_errors status_errors p50 p99 max <<<"$out"
  local cpu_us=$(((ticks_after - ticks_before) * 1000000 / $(getconf CLK_TCK)))
  awk -v l="$1" -v n="$requests" -v d="$duration_us" -v se="$socket_errors" -v st="$status_errors" \
    -v p50="$p50" -v p99="$p99" -v max="$max" -v cpu="$cpu_us" 'BEGIN {
      printf "%-9s %10.0f req/s   p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms   errors %d (socket %d, non-2xx %d)   CPU %5.1f us/review\n",
        l, n / (d / 1e6), p50 / 1e3, p99 / 1e3, max / 1e3, se + st, se, st, cpu / n }'
  echo "$1 $requests $duration_us $socket_errors $status_errors $p50 $p99 $max $cpu_us" >>"$work/results"
}

echo "webhook benchmark: $connections connections, $threads wrk threads, ${duration}s each, $(nproc) cores, RUST_LOG=${RUST_LOG:-info}"
echo "load average before: $(cat /proc/loadavg)"
"$target/release/examples/floor_server" "127.0.0.1:$floor_port" "$work/certs" 2>/dev/null &
pids+=($!)
wait_port "$floor_port"
load floor "$floor_port" "${pids[0]}"
kill "${pids[0]}"

RUST_LOG=${RUST_LOG:-info} "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics_port" \
  --cert-dir "$work/certs" 2>"$work/webhook.log" &
webhook=$!
pids+=("$webhook")
wait_ready "$metrics_port"
rss_start=$(kib "$webhook" VmRSS)
load webhook "$port" "$webhook"
hwm=$(kib "$webhook" VmHWM)
rss_end=$(kib "$webhook" VmRSS)
awk '{ r[$1] = $2 / ($3 / 1e6); p99[$1] = $7; cpu[$1] = $9 / $2 } END {
  printf "webhook/floor: throughput %.2f, p99 %.2fx, CPU per review %.1fx\n",
    r["webhook"] / r["floor"], p99["webhook"] / p99["floor"], cpu["webhook"] / cpu["floor"] }' "$work/results"
echo "webhook RSS: ${rss_start} KiB at start, ${rss_end} KiB at end, peak (VmHWM) ${hwm} KiB"
answers=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" | grep '^kedalint_webhook_requests_total' | tr '\n' ' ')
echo "webhook answers: $answers"
echo "load average after: $(cat /proc/loadavg)"
echo "the review path alone (one thread, no TLS, HTTP or logs; best of twenty rounds):"
"$target/release/examples/review_path" "$work/review.json" | sed 's/^/  /'
