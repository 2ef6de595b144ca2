#!/usr/bin/env bash
# Attacks the webhook (release build) on 127.0.0.1 the way issue 17 did, and its variants, while a
# well-behaved client posts real reviews on one keep-alive connection, as the API server does.
# Prints, per run, the real reviews' status codes and p50/p99/max latency, attacked against an
# unattacked run, then the connections the webhook shed by reason. Exits 1 unless every real
# review was answered 200 with its decision and every attacked p99 is within 10x the unattacked.
#
# Runs (SECONDS each): none; the issue's attack (65 slow bodies from one address); then HOSTILE
# connections (default 1,000), each renewed as soon as it ends, of slow headers, slow bodies, idle
# keep-alive, a handshake flood, and all four at once, spread over 50 source addresses (20 each:
# under the per-peer cap, over the total cap); and all four at once from one address (the per-peer
# cap). The attacker is webhook/examples/attack.rs, on one thread.
# Bounded: loopback only, SECONDS per run (8 runs), at most HOSTILE connections at once.
# Usage: scripts/attack-webhook.sh [SECONDS=10] [HOSTILE=1000]
# Env: WEBHOOK_PORT (18463), METRICS_PORT (18110), RUST_LOG (warn), EXTRA_FLAGS (more webhook flags).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
hostile=${2:-1000}
port=${WEBHOOK_PORT:-18463}
metrics_port=${METRICS_PORT:-18110}
command -v curl >/dev/null || { echo "needs curl" >&2; exit 2; }
[ "$(ulimit -n)" -ge $((hostile * 2 + 256)) ] || ulimit -n $((hostile * 2 + 256)) 2>/dev/null || {
  echo "needs at least $((hostile * 2 + 256)) open files (ulimit -n)" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p kedalint-webhook --bin kedalint-webhook --example attack --example review_body
bin=$target/release/kedalint-webhook

. scripts/lib/webhook-load.sh

"$bin" certs --out-dir "$work/certs" >/dev/null
"$target/release/examples/review_body" examples/inference-p95-latency.yaml >"$work/review.json"

# The webhook as deployed apart from the addresses: every bound at its default.
# shellcheck disable=SC2086
RUST_LOG=${RUST_LOG:-warn} "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics_port" \
  --cert-dir "$work/certs" ${EXTRA_FLAGS:-} 2>"$work/webhook.log" &
webhook=$!
pids+=("$webhook")
wait_ready "$metrics_port"

echo "attack: ${seconds}s per run, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before"
printf '%-26s %8s %8s %6s %6s %10s %10s %10s %9s %9s %7s\n' run reviews decided other errors \
  "p50 ms" "p99 ms" "max ms" opened refused load1
run() { # label mode hostile sources
  local line
  line=$("$target/release/examples/attack" "127.0.0.1:$port" "$work/certs/ca.crt" "$work/review.json" \
    "$2" "$3" "$4" "$seconds" 2>>"$work/attack.log" | grep '^RESULT')
  read -r _ _ reviews decided ok other errors p50 p99 max opened refused <<<"$line"
  printf '%-26s %8d %8d %6d %6d %10.2f %10.2f %10.2f %9d %9d %7s\n' "$1" "$reviews" "$decided" \
    "$((ok + other))" "$errors" "$p50" "$p99" "$max" "$opened" "$refused" "$(cut -d' ' -f1 /proc/loadavg)"
  echo "${1// /_} $reviews $decided $((ok + other + errors)) $p99" >>"$work/results"
}
run unattacked none 0 1
run "issue: 65 slow bodies" slow-body 65 1
run "slow headers x$hostile" slow-headers "$hostile" 50
run "slow bodies x$hostile" slow-body "$hostile" 50
run "idle keep-alive x$hostile" idle "$hostile" 50
run "handshake flood x$hostile" handshake "$hostile" 50
run "all at once x$hostile" all "$hostile" 50
run "all, one address x$hostile" all "$hostile" 1

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -s "$work/attack.log" ]; then
  echo "what the real client saw besides 200s (count, message):"
  sed -E 's/[0-9]+/N/g' "$work/attack.log" | sort | uniq -c | sort -rn | head -5
fi
echo "webhook peak RSS (VmHWM): $(kib "$webhook" VmHWM) KiB"
echo "shed by the webhook:"
curl -sf "http://127.0.0.1:$metrics_port/metrics" |
  awk '/^kedalint_webhook_connections_shed_total/ && $2 > 0 { print "  " $0 }
       /^kedalint_webhook_requests_total/ { print "  " $0 }'
awk 'NR == 1 { base = $NF }
  { bad += $4; undecided += $2 - $3; if (NR > 1 && $NF > 10 * base) slow = slow " " $1 }
  END {
    printf "goal: every review 200 with its decision: %s; attacked p99 within 10x of %.2f ms: %s\n",
      (undecided == 0 ? "yes" : "no (" undecided " not)"), base, (slow == "" ? "yes" : "no")
    exit (undecided == 0 && slow == "") ? 0 : 1 }' "$work/results"
