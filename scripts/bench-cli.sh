#!/usr/bin/env bash
# Lint against the floor (issue 15), for the two generated repository shapes:
#   keda-dense: 10,000 documents in 1,000 files (7.9 MB), 9 ScaledObjects and 1 ServiceMonitor in
#               10, every query distinct;
#   gitops:     20,000 documents in 2,000 files (18 MB), rendered Deployments, Services and
#               ConfigMaps, 1 in 100 a ScaledObject.
# For each: CPU (user+sys), wall time and peak RSS of the floor program (rules/examples/floor.rs:
# read the files, granit-parser's event stream, every `query:` parsed once with promql-parser, on
# every core) and of `kubectl-kedalint --format json --fail-on never DIR`, the lint/floor CPU
# ratio against the goal (2.0x keda-dense, 1.3x gitops), and lint's wall time on one core
# (`taskset -c 0`) against both (goal: both cores at most 0.6x the one-core time). Each figure is
# the median of RUNS runs. Then a single-file run (pre-commit's case) and, when installed,
# `checkov -d` over the keda-dense repository.
# Usage: scripts/bench-cli.sh [--scale N] [--runs R] [--shape keda|gitops] [--profile P]
#   --scale N also measures both shapes at N times their size (the issue's goal: N = 10).
#   --profile P builds and measures cargo profile P (default release; `profiling` is release with
#   symbols, for perf, and the same code).
# Needs GNU time (apt-get install -y time) and taskset (util-linux). checkov is optional:
#   python3 -m venv /tmp/ck && /tmp/ck/bin/pip install checkov   (about 3 minutes)
#   PATH=/tmp/ck/bin:$PATH scripts/bench-cli.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scale=1
runs=3
shapes="keda gitops"
profile=release
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --shape) shapes=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    *) echo "usage: scripts/bench-cli.sh [--scale N] [--runs R] [--shape keda|gitops] [--profile P]" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
cargo build --profile "$profile" -q -p kubectl-kedalint
cargo build --profile "$profile" -q -p kedalint-rules --example gen_repo --example floor
bin=$target/$profile/kubectl-kedalint
floor=$target/$profile/examples/floor
gen=$target/$profile/examples/gen_repo

# Prints "cpu_seconds wall_seconds peak_rss_kib" of one run of a command (its output discarded).
run_once() {
  local log; log=$(mktemp)
  /usr/bin/time -f '%U %S %e %M' -o "$log" "$@" >/dev/null 2>&1 || true
  awk '{ printf "%.3f %.3f %d\n", $1 + $2, $3, $4 }' "$log"
  rm -f "$log"
}
# The median (by CPU time) of RUNS runs, as "cpu wall rss".
run_median() {
  local i
  for i in $(seq "$runs"); do run_once "$@"; done | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2)'
}
# The median wall time of RUNS runs.
wall_median() {
  local i
  for i in $(seq "$runs"); do run_once "$@"; done | sort -k2 -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { print $2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g ? "met" : "NOT met") }'; }

echo "$(nproc) cores; load average at start $(cut -d' ' -f1-3 /proc/loadavg); median of $runs runs each"
printf '%-18s %-6s %9s %8s %10s | %9s %8s %10s | %8s %5s %-8s | %8s %6s %-8s\n' \
  repository size floorCPU wall RSS lintCPU wall RSS "CPU x" goal "" 1core "x" ""
scales=1
[ "$scale" -gt 1 ] && scales="1 $scale"
for shape in $shapes; do
  case $shape in
    keda) goal=2.0 ;;
    gitops) goal=1.3 ;;
    *) echo "unknown shape $shape" >&2; exit 2 ;;
  esac
  for s in $scales; do
    repo=$target/bench-repo-$shape-$s
    rm -rf "$repo"
    "$gen" "$repo" --shape "$shape" --scale "$s" >/dev/null
    read -r fcpu fwall frss < <(run_median "$floor" "$repo")
    read -r lcpu lwall lrss < <(run_median "$bin" --format json --fail-on never "$repo")
    one=$(wall_median taskset -c 0 "$bin" --format json --fail-on never "$repo")
    cpu_ratio=$(ratio "$lcpu" "$fcpu")
    par_ratio=$(ratio "$lwall" "$one")
    printf '%-18s %-6s %8ss %7ss %7d KiB | %8ss %7ss %7d KiB | %7sx %5s %-8s | %7ss %5sx %-8s\n' \
      "$shape x$s" "$(du -sh "$repo" | cut -f1)" "$fcpu" "$fwall" "$frss" "$lcpu" "$lwall" "$lrss" \
      "$cpu_ratio" "$goal" "$(verdict "$cpu_ratio" "$goal")" "$one" "$par_ratio" "$(verdict "$par_ratio" 0.6)"
    [ "$s" -eq 1 ] && [ "$shape" = keda ] && keep=$repo || rm -rf "$repo"
  done
done
echo "load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(CPU = user + sys; CPU x = lint CPU / floor CPU, goal 2.0x keda-dense, 1.3x gitops; 1core = lint wall"
echo " time under taskset -c 0, x = both-core wall / one-core wall, goal at most 0.6x)"

if [ -n "${keep:-}" ]; then
  one="$keep/team-0/app-0.yaml"
  read -r _ wall rss < <(run_once "$bin" --fail-on never "$one")
  echo "kedalint, one file (pre-commit): wall ${wall}s, peak RSS $rss KiB"
  n=20
  start=$(date +%s%N)
  for _ in $(seq $n); do "$bin" --fail-on never "$one" >/dev/null || true; done
  end=$(date +%s%N)
  echo "kedalint, one file: $(awk -v ns=$((end - start)) -v n=$n 'BEGIN { printf "%.1f", ns / 1e6 / n }') ms per run (mean of $n)"
  if command -v checkov >/dev/null 2>&1; then
    read -r _ cwall crss < <(run_once checkov -d "$keep" --quiet --compact --framework kubernetes)
    echo "checkov $(checkov --version) -d (keda-dense repository): wall ${cwall}s, peak RSS $crss KiB"
  else
    echo "checkov not installed: skipped (python3 -m venv /tmp/ck && /tmp/ck/bin/pip install checkov, then PATH=/tmp/ck/bin:\$PATH)"
  fi
  rm -rf "$keep"
fi
