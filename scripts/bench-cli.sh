#!/usr/bin/env bash
# Times the CLI over a generated repository of 10,000 documents (9,000 ScaledObjects, 1,000
# ServiceMonitors) in 1,000 files (wall time and peak RSS via GNU time), a single-file run
# (pre-commit's case: process start to exit), and, when installed, `checkov -d` over the same
# files for comparison.
# Usage: scripts/bench-cli.sh [FILES=1000] [DOCS_PER_FILE=10]
# Needs GNU time (apt-get install -y time) and jq (apt-get install -y jq). checkov is optional:
#   python3 -m venv /tmp/ck && /tmp/ck/bin/pip install checkov   (about 3 minutes)
#   PATH=/tmp/ck/bin:$PATH scripts/bench-cli.sh
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-1000}
docs=${2:-10}
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }
command -v jq >/dev/null || { echo "needs jq: apt-get install -y jq" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
repo=$target/bench-repo
cargo build --release -q -p kubectl-kedalint
cargo build --release -q -p kedalint-rules --example gen_repo
# A fresh repository: files left by an earlier, larger run would be linted too.
rm -rf "$repo"
"$target/release/examples/gen_repo" "$repo" "$files" "$docs" >/dev/null
bin=$target/release/kubectl-kedalint

measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  printf '%-34s wall %-9s peak RSS %7d KiB\n' "$label" "$wall" "$rss"
  rm -f "$log"
}
now_ns() { date +%s%N; }

echo "repository: $files files, $((files * docs)) documents ($(du -sh "$repo" | cut -f1)), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
measure "kedalint, whole repository" "$bin" --format json --fail-on never "$repo"
report=$(mktemp)
start=$(now_ns)
"$bin" --format json --fail-on never "$repo" >"$report"
end=$(now_ns)
# Counted after the clock stops: jq reading the report in a pipe would share the CPU with the run.
objects=$(jq .summary.objects "$report")
rm -f "$report"
ms=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.0f", ns / 1e6 }')
echo "kedalint: ${ms} ms for $objects ScaledObjects = $(awk -v n="$objects" -v ms="$ms" 'BEGIN { printf "%.0f", n * 1000 / ms }') objects/s"

# The same run held to one core: what linting files in parallel gains on this machine.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
  start=$(now_ns)
  taskset -c 0 "$bin" --format json --fail-on never "$repo" >/dev/null
  end=$(now_ns)
  ms1=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.0f", ns / 1e6 }')
  echo "kedalint on one core (taskset -c 0): ${ms1} ms; parallel speed-up on $(nproc) cores: $(awk -v a="$ms1" -v b="$ms" 'BEGIN { printf "%.2f", a / b }')x"
fi

one="$repo/team-0/app-0.yaml"
measure "kedalint, one file (pre-commit)" "$bin" --fail-on never "$one"
runs=20
start=$(now_ns)
for _ in $(seq $runs); do "$bin" --fail-on never "$one" >/dev/null; done
end=$(now_ns)
echo "kedalint, one file: $(awk -v ns=$((end - start)) -v n=$runs 'BEGIN { printf "%.1f", ns / 1e6 / n }') ms per run (mean of $runs)"

if command -v checkov >/dev/null 2>&1; then
  cstart=$(now_ns)
  measure "checkov -d (same repository)" checkov -d "$repo" --quiet --compact --framework kubernetes
  cend=$(now_ns)
  cms=$(( (cend - cstart) / 1000000 ))
  echo "checkov $(checkov --version): ${cms} ms; checkov/kedalint wall-time ratio: $(awk -v c="$cms" -v k="$ms" 'BEGIN { printf "%.0f", c / k }')x"
else
  echo "checkov not installed: skipped (python3 -m venv /tmp/ck && /tmp/ck/bin/pip install checkov, then PATH=/tmp/ck/bin:\$PATH)"
fi
