#!/usr/bin/env bash
# The `kedalint` pre-commit hook: builds kubectl-kedalint from this checkout the first time
# (pre-commit keeps the checkout in its cache, one per rev), then lints the files it is given.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/target/pre-commit"
bin="$target/release/kubectl-kedalint"
if [ ! -x "$bin" ]; then
  if ! command -v cargo >/dev/null 2>&1; then
    echo "kedalint: cargo is needed to build the hook once; or install kubectl-kedalint and use the kedalint-system hook" >&2
    exit 2
  fi
  echo "kedalint: building kubectl-kedalint (first run only)" >&2
  CARGO_TARGET_DIR="$target" cargo build --release --locked -p kubectl-kedalint \
    --manifest-path "$root/Cargo.toml" >&2
fi
exec "$bin" "$@"
