#!/usr/bin/env bash
# Soak test: the webhook (release build) under steady load over TLS on 127.0.0.1 for several
# minutes, with a certificate rotation (a symlink swap of a Secret-like volume, as the kubelet
# does) after a third of the time and a configuration reload (ConfigMap-like swap, enforce -> warn)
# at half time. One wrk keeps connections alive; a second sends `Connection: close`, so it opens a
# new TLS connection per request and keeps handshaking across the rotation. (Debian's hey 0.1.4
# is not used: its TLS client sends a server name rustls rejects as not a host name.)
# Reports errors (must be 0: exits 1 otherwise) and the webhook's RSS at start and end.
# Usage: scripts/soak-webhook.sh [SECONDS=180] [CONNECTIONS=8]
# Needs wrk (apt-get install -y wrk), openssl, curl. Env: WEBHOOK_PORT (18453),
# METRICS_PORT (18090), RUST_LOG (info).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-180}
connections=${2:-8}
port=${WEBHOOK_PORT:-18453}
metrics_port=${METRICS_PORT:-18090}
for tool in wrk openssl curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y $tool" >&2; exit 2; }
done
[ "$seconds" -ge 15 ] || { echo "at least 15 seconds" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p kedalint-webhook --bin kedalint-webhook --example review_body
bin=$target/release/kedalint-webhook

. scripts/lib/webhook-load.sh

# A volume like the kubelet's: ..data_N/ holds the files, ..data -> ..data_N, name -> ..data/name.
volume_swap() { # dir version source_dir files...
  local dir=$1 version=$2 src=$3; shift 3
  mkdir -p "$dir/..data_$version"
  for f in "$@"; do cp "$src/$f" "$dir/..data_$version/$f"; done
  ln -sfn "..data_$version" "$dir/..data_tmp"
  mv -T "$dir/..data_tmp" "$dir/..data"
  for f in "$@"; do [ -L "$dir/$f" ] || ln -s "..data/$f" "$dir/$f"; done
}
"$bin" certs --out-dir "$work/gen1" >/dev/null
"$bin" certs --out-dir "$work/gen2" >/dev/null
volume_swap "$work/certs" 1 "$work/gen1" tls.crt tls.key
mkdir -p "$work/conf1" "$work/conf2"
printf 'webhook:\n  mode: enforce\n' >"$work/conf1/.kedalint.yaml"
printf 'webhook:\n  mode: warn\n' >"$work/conf2/.kedalint.yaml"
volume_swap "$work/config" 1 "$work/conf1" .kedalint.yaml
"$target/release/examples/review_body" examples/inference-p95-latency.yaml >"$work/review.json"
write_post_lua

RUST_LOG=${RUST_LOG:-info} "$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics_port" \
  --cert-dir "$work/certs" --config "$work/config/.kedalint.yaml" --poll-interval-ms 500 \
  2>"$work/webhook.log" &
webhook=$!
pids+=("$webhook")
wait_ready "$metrics_port"
served_fingerprint() {
  openssl s_client -connect "127.0.0.1:$port" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256
}
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1"; }
metric() { curl -sf "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

rss_start=$(kib "$webhook" VmRSS)
echo "soak: ${seconds}s, wrk $connections keep-alive connections + wrk 2 connections closed after each request, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "webhook RSS at start: $rss_start KiB"
[ "$(served_fingerprint)" = "$(fingerprint "$work/gen1/tls.crt")" ] || { echo "not serving the first certificate" >&2; exit 1; }

REVIEW="$work/review.json" wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" \
  "https://127.0.0.1:$port/validate" >"$work/wrk.out" &
wrk_pid=$!
pids+=("$wrk_pid")
REVIEW="$work/review.json" wrk -t1 -c2 -d"${seconds}s" -H "Connection: close" -s "$work/post.lua" \
  "https://127.0.0.1:$port/validate" >"$work/wrk-close.out" &
close_pid=$!
pids+=("$close_pid")

sleep $((seconds / 3))
volume_swap "$work/certs" 2 "$work/gen2" tls.crt tls.key
rotated=no
for _ in $(seq 50); do
  if [ "$(served_fingerprint)" = "$(fingerprint "$work/gen2/tls.crt")" ]; then rotated=yes; break; fi
  sleep 0.2
done
echo "t=$((seconds / 3))s certificate rotated by symlink swap: new certificate served: $rotated"

sleep $((seconds / 2 - seconds / 3))
denied_before=$(metric 'kedalint_webhook_requests_total{result="denied"}')
volume_swap "$work/config" 2 "$work/conf2" .kedalint.yaml
reloaded=no
for _ in $(seq 50); do
  if [ "$(metric 'kedalint_webhook_config_reloads_total{result="success"}')" = "2" ]; then reloaded=yes; break; fi
  sleep 0.2
done
echo "t=$((seconds / 2))s configuration swapped (enforce -> warn): reloaded: $reloaded"

wait "$wrk_pid" "$close_pid"
rss_end=$(kib "$webhook" VmRSS)
hwm=$(kib "$webhook" VmHWM)
read -r _ wrk_requests _ wrk_socket wrk_status _ wrk_p99 _ < <(grep '^RESULT' "$work/wrk.out")
read -r _ close_requests _ close_socket close_status _ < <(grep '^RESULT' "$work/wrk-close.out")
allowed_after=$(metric 'kedalint_webhook_requests_total{result="allowed"}')
denied_after=$(metric 'kedalint_webhook_requests_total{result="denied"}')
errors=$((wrk_socket + wrk_status + close_socket + close_status))

echo "wrk: $wrk_requests requests, p99 $(awk -v u="$wrk_p99" 'BEGIN { printf "%.2f", u / 1e3 }') ms, socket errors $wrk_socket, non-2xx $wrk_status"
echo "wrk, new connection per request: $close_requests requests, socket errors $close_socket, non-2xx $close_status"
echo "webhook: denied $denied_after (${denied_before:-0} before the reload), allowed ${allowed_after:-0} after warn mode, certificate reloads ok $(metric 'kedalint_webhook_certificate_reloads_total{result="success"}')"
echo "webhook RSS: $rss_start KiB at start, $rss_end KiB at end, peak (VmHWM) $hwm KiB"
echo "errors: $errors"
[ "$errors" -eq 0 ] && [ "$rotated" = yes ] && [ "$reloaded" = yes ] && [ "${allowed_after:-0}" -gt 0 ]
