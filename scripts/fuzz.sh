#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time, starting from its committed seeds.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60; CI runs it with its default)
#
# Stable toolchain, no sanitizer by default: the machine's one toolchain is stable, and kedalint has
# no `unsafe` of its own. Debug assertions are on (`-a`), so integer overflow in span arithmetic is a
# crash, not a wrong span. On a machine with nightly, KEDALINT_FUZZ_SANITIZER=address
# KEDALINT_FUZZ_TOOLCHAIN=+nightly adds AddressSanitizer for the dependencies' unsafe code.
#
# A crash, a panic, a single input over 10 s (a hang) or over 2 GiB of memory fails the script with
# libFuzzer's report, the input under fuzz/artifacts/<target>/ and the command that replays it.
# What libFuzzer grows goes to a temporary directory: seeds/ changes only by hand (fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
sanitizer="${KEDALINT_FUZZ_SANITIZER:-none}"
toolchain=(${KEDALINT_FUZZ_TOOLCHAIN:-})
targets=(lint_text admission_review promql)

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
flags=(--sanitizer "$sanitizer" -O -a)

started=$(date +%s)
cargo "${toolchain[@]}" fuzz build "${flags[@]}"
echo "fuzz: targets built in $(($(date +%s) - started)) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  max_len=()
  [ "$t" = promql ] && max_len=(-max_len=4096)
  echo "fuzz: $t for ${secs} s"
  # libFuzzer's progress lines go to a log; on failure the whole log is shown.
  if ! cargo "${toolchain[@]}" fuzz run "${flags[@]}" "$t" "$work/$t" "seeds/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "${max_len[@]}" >"$work/$t.log" 2>&1; then
    cat "$work/$t.log"
    echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$work/$t.log" \
    | sed "s/^/fuzz: $t /"
done
echo "fuzz: every target ran ${secs} s with no crash"
