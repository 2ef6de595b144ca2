#!/usr/bin/env bash
# Runs the rule-engine benchmarks (rules/benches/lint.rs) and prints what they mean: lint cost as a
# multiple of the YAML parse of the same bytes, objects per second, and PromQL analysis cached
# against uncached. Reads criterion's target/criterion/*/new/{benchmark,estimates}.json (medians).
# Usage: scripts/bench-rules.sh [--report-only] [criterion arguments, e.g. --warm-up-time 1]
# Needs jq (apt-get install -y jq). About 3 minutes on 2 cores (short criterion runs).
set -euo pipefail
cd "$(dirname "$0")/.."
crit=${CARGO_TARGET_DIR:-target}/criterion
command -v jq >/dev/null || { echo "needs jq: apt-get install -y jq" >&2; exit 2; }
if [ "${1:-}" = "--report-only" ]; then
  shift
else
  cargo bench -p kedalint-rules --bench lint -- "$@"
fi

# Median time in nanoseconds of the benchmark whose full id is $1 (as criterion prints it).
median_ns() {
  local b
  for b in "$crit"/*/*/new/benchmark.json; do
    if [ "$(jq -r .full_id "$b")" = "$1" ]; then
      jq -r .median.point_estimate "$(dirname "$b")/estimates.json"
      return
    fi
  done
  echo "no criterion result for \"$1\" under $crit (run without --report-only)" >&2
  exit 1
}
fmt_time() { awk -v ns="$1" 'BEGIN { if (ns >= 1e6) printf "%.2f ms", ns/1e6; else printf "%.1f us", ns/1e3 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a/b }'; }
per_s() { awk -v n="$1" -v ns="$2" 'BEGIN { printf "%\047.0f", n*1e9/ns }'; }

echo
echo "== lint cost against the YAML parse floor (medians) =="
printf '%-26s %12s %12s %9s %14s\n' "input" "parse" "parse+lint" "ratio" "objects/s"
for size in small large; do
  floor=$(median_ns "object/$size/yaml-parse-floor")
  for variant in "query cached" "query new"; do
    lint=$(median_ns "object/$size/parse+lint ($variant)")
    printf '%-26s %12s %12s %8sx %14s\n' "object/$size ($variant)" "$(fmt_time "$floor")" \
      "$(fmt_time "$lint")" "$(ratio "$lint" "$floor")" "$(per_s 1 "$lint")"
  done
done
floor=$(median_ns "repository-10k-documents/yaml-parse-floor")
lint=$(median_ns "repository-10k-documents/parse+lint (one thread)")
printf '%-26s %12s %12s %8sx %14s\n' "repository, one thread" "$(fmt_time "$floor")" \
  "$(fmt_time "$lint")" "$(ratio "$lint" "$floor")" "$(per_s 9000 "$lint")"
echo "(repository: 10,000 documents in 1,000 files, 9,000 of them ScaledObjects; objects/s counts those)"

echo
echo "== one file, one thread, against the floor of issue 15 (granit events + each query parsed once) =="
printf '%-26s %12s %12s %9s %8s\n' "file" "floor" "parse+lint" "ratio" "goal"
for shape in keda-dense:2.0 gitops:1.3; do
  name=${shape%%:*}
  floor=$(median_ns "file/$name/floor (one thread)")
  lint=$(median_ns "file/$name/parse+lint (one thread)")
  printf '%-26s %12s %12s %8sx %7sx\n' "$name (10 documents)" "$(fmt_time "$floor")" \
    "$(fmt_time "$lint")" "$(ratio "$lint" "$floor")" "${shape#*:}"
done

echo
echo "== PromQL analysis per query (medians) =="
printf '%-8s %12s %12s %9s\n' "query" "uncached" "cached" "ratio"
for q in seed regex ratio; do
  u=$(median_ns "promql/analyze-uncached/$q")
  c=$(median_ns "promql/analyze-cached/$q")
  printf '%-8s %12s %12s %8sx\n' "$q" "$(fmt_time "$u")" "$(fmt_time "$c")" "$(ratio "$u" "$c")"
done
