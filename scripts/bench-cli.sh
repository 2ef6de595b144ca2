#!/usr/bin/env bash
# Times the CLI over a generated repository of 10,000 ScaledObjects in 1,000 files (wall time and
# peak RSS via /usr/bin/time -v), a single-file run (pre-commit's case: process start to exit),
# and, when installed, `checkov -d` over the same files for comparison.
# Usage: scripts/bench-cli.sh [FILES] [DOCS_PER_FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-1000}
docs=${2:-10}
repo=target/bench-repo
cargo build --release -q -p kubectl-kedalint
cargo run --release -q -p kedalint-rules --example gen_repo -- "$repo" "$files" "$docs" >/dev/null
bin=target/release/kubectl-kedalint
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }

measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  printf '%-34s wall %-9s peak RSS %6d KiB\n' "$label" "$wall" "$rss"
  rm -f "$log"
}

objects=$((files * docs))
echo "repository: $files files, $objects documents ($(du -sh "$repo" | cut -f1)), $(nproc) cores"
measure "kedalint, whole repository" "$bin" --format json --fail-on never "$repo"
start=$(date +%s%N)
"$bin" --format json --fail-on never "$repo" >/dev/null
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "kedalint: ${ms} ms for $objects objects = $(( objects * 1000 / (ms > 0 ? ms : 1) )) objects/s"
one="$repo/team-0/app-0.yaml"
measure "kedalint, one file (pre-commit)" "$bin" --fail-on never "$one"
runs=20; start=$(date +%s%N)
for _ in $(seq $runs); do "$bin" --fail-on never "$one" >/dev/null; done
end=$(date +%s%N)
echo "kedalint, one file: $(( (end - start) / 1000000 / runs )) ms per run (mean of $runs)"
if command -v checkov >/dev/null 2>&1; then
  cstart=$(date +%s%N)
  measure "checkov -d (same repository)" checkov -d "$repo" --quiet --compact --framework kubernetes
  cend=$(date +%s%N)
  cms=$(( (cend - cstart) / 1000000 ))
  echo "checkov/kedalint wall-time ratio: $(( cms / (ms > 0 ? ms : 1) ))x"
else
  echo "checkov not installed: skipped (python3 -m venv v && v/bin/pip install checkov, then put v/bin on PATH)"
fi
