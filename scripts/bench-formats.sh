#!/usr/bin/env bash
# Times every output format, `--diff` and `--fix` on large single files (wall time and peak RSS via
# GNU time), where a renderer, the diff or the fixing that is worse than linear, or memory that
# grows with the findings, shows at once:
#   copies.yaml  N copies of examples/inference-p95-latency.yaml separated by `---` (5 findings each)
#   docs.yaml    one file of M generated documents (rules/benches/gen: ScaledObjects, a third with
#                a problem, and ServiceMonitors)
#   gitops.yaml  one file of M rendered GitOps documents (scripts/gen-gitops-file.py: 1 in 100 a
#                ScaledObject, the rest Deployments, Services and ConfigMaps)
# Each line gives the ratio to `--format json` on the same file in the same run; compare ratios,
# not times, across runs on a shared machine (the load average is printed before and after).
# `--fix` runs on a fresh copy of the file each time.
# Usage: scripts/bench-formats.sh [N=2000] [M=20000] [BIN]
# BIN defaults to the release build (built here); pass another binary to compare builds.
# Needs GNU time (apt-get install -y time) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-2000}
docs=${2:-20000}
target=${CARGO_TARGET_DIR:-target}
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }
if [ -n "${3:-}" ]; then
  bin=$(realpath "$3")
else
  cargo build --release -q -p kubectl-kedalint
  bin=$(realpath "$target/release/kubectl-kedalint")
fi
[ -x "$target/release/examples/gen_repo" ] || cargo build --release -q -p kedalint-rules --example gen_repo
dir=$target/bench-formats
rm -rf "$dir"
mkdir -p "$dir"
example=examples/inference-p95-latency.yaml
for i in $(seq "$copies"); do
  [ "$i" -gt 1 ] && echo "---"
  cat "$example"
done >"$dir/copies.yaml"
"$target/release/examples/gen_repo" "$dir/gen" 1 "$docs" >/dev/null
mv "$dir/gen/team-0/app-0.yaml" "$dir/docs.yaml"
rm -rf "$dir/gen"
scripts/gen-gitops-file.py "$docs" >"$dir/gitops.yaml"

# Prints wall seconds and peak RSS (KiB) of one run, output discarded.
run() {
  local log; log=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null 2>&1 || true
  cat "$log"
  rm -f "$log"
}

echo "$bin"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$dir"
for file in copies.yaml docs.yaml gitops.yaml; do
  echo "$file: $(du -h "$file" | cut -f1), $("$bin" --format json --fail-on never "$file" | grep -c '"code"') findings"
  read -r json_s json_kib <<<"$(run "$bin" --format json --fail-on never "$file")"
  for mode in json human sarif github junit diff fix; do
    path=$file
    case $mode in
      diff) args=(--diff --format json) ;;
      fix)
        path=fixed-$file
        cp "$file" "$path"
        args=(--fix --format json)
        ;;
      *) args=(--format "$mode") ;;
    esac
    read -r s kib <<<"$(run "$bin" "${args[@]}" --color never --fail-on never "$path")"
    printf '  %-8s wall %7.2f s  (%5.1fx json)  peak RSS %7d KiB\n' "$mode" "$s" \
      "$(awk -v a="$s" -v b="$json_s" 'BEGIN { print (b > 0 ? a / b : 0) }')" "$kib"
  done
  rm -f "fixed-$file"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
