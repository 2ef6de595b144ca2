#!/usr/bin/env bash
# Builds the release archives of kubectl-kedalint and renders the krew manifest.
#
#   scripts/release.sh build    build static Linux binaries, pack dist/kubectl-kedalint-<version>-<os>-<arch>.tar.gz
#   scripts/release.sh render   fill version and sha256 of the archives in dist/ into plugins/kedalint.yaml
#   scripts/release.sh          both
#
# Environment: VERSION (default: the workspace version in Cargo.toml), DIST (default dist),
# KREW_OUT (default plugins/kedalint.yaml), PLATFORMS (default "linux/amd64 linux/arm64").
#
# Static binaries: the musl target when `rustup target list --installed` has it; otherwise the gnu
# target with `-C target-feature=+crt-static` (glibc linked statically; said loudly, since glibc's
# NSS functions still want the system's libraries at run time). A platform whose target is not
# installed stops the build with the rustup command to run; archives built on other machines can
# be copied into dist/ and `render` run once all are there. Archives are reproducible: sorted
# entries, fixed mtime and owner, gzip without a timestamp.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${VERSION:-$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)}"
DIST="${DIST:-dist}"
KREW_OUT="${KREW_OUT:-plugins/kedalint.yaml}"
PLATFORMS="${PLATFORMS:-linux/amd64 linux/arm64}"
TEMPLATE=plugins/kedalint.yaml.tmpl
BIN=kubectl-kedalint

die() { echo "release.sh: $*" >&2; exit 1; }
[ -n "$VERSION" ] || die "no version found in Cargo.toml; set VERSION"

archive_name() { # os arch
  echo "$BIN-$VERSION-$1-$2.tar.gz"
}

rust_arch() {
  case "$1" in
    amd64) echo x86_64 ;;
    arm64) echo aarch64 ;;
    *) die "unknown arch $1" ;;
  esac
}

build_one() { # os/arch
  local os="${1%/*}" arch="${1#*/}"
  [ "$os" = linux ] || die "only linux builds are scripted, not $os"
  local ra target installed
  ra="$(rust_arch "$arch")"
  installed="$(rustup target list --installed 2>/dev/null || rustc -vV | sed -n 's/^host: //p')"
  local rustflags=""
  if grep -qx "$ra-unknown-linux-musl" <<<"$installed"; then
    target="$ra-unknown-linux-musl"
  elif grep -qx "$ra-unknown-linux-gnu" <<<"$installed"; then
    target="$ra-unknown-linux-gnu"
    rustflags="-C target-feature=+crt-static"
    echo "release.sh: $ra-unknown-linux-musl is not installed; building $target with crt-static instead (static glibc)" >&2
  else
    die "no Rust target for $os/$arch: run \`rustup target add $ra-unknown-linux-musl\` (and install a linker for it)"
  fi
  local host
  host="$(rustc -vV | sed -n 's/^host: //p')"
  if [ "${host%%-*}" != "$ra" ]; then
    local linker="$ra-linux-gnu-gcc"
    command -v "$linker" >/dev/null 2>&1 || die "cross-building $target needs the linker $linker (Debian: gcc-${ra/_/-}-linux-gnu)"
    local var
    var="CARGO_TARGET_$(echo "$target" | tr 'a-z-' 'A-Z_')_LINKER"
    export "$var=$linker"
  fi
  echo "release.sh: building $BIN $VERSION for $target" >&2
  RUSTFLAGS="${RUSTFLAGS:-} $rustflags" cargo build --release --locked -p kubectl-kedalint --target "$target"
  local stage
  stage="$(mktemp -d)"
  cp "${CARGO_TARGET_DIR:-target}/$target/release/$BIN" LICENSE README.md "$stage/"
  mkdir -p "$DIST"
  local out
  out="$DIST/$(archive_name "$os" "$arch")"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$stage" -cf - "$BIN" LICENSE README.md \
    | gzip -n -9 >"$out"
  rm -rf "$stage"
  (cd "$DIST" && sha256sum "$(basename "$out")" >"$(basename "$out").sha256")
  echo "release.sh: wrote $out" >&2
}

render() {
  [ -f "$TEMPLATE" ] || die "missing $TEMPLATE"
  local text missing=()
  text="$(cat "$TEMPLATE")"
  text="${text//\{\{VERSION\}\}/$VERSION}"
  for p in $PLATFORMS; do
    local os="${p%/*}" arch="${p#*/}" file sum key
    file="$DIST/$(archive_name "$os" "$arch")"
    if [ ! -f "$file" ]; then
      missing+=("$file")
      continue
    fi
    sum="$(sha256sum "$file" | cut -d' ' -f1)"
    key="SHA256_$(echo "$os"_"$arch" | tr 'a-z' 'A-Z')"
    text="${text//\{\{$key\}\}/$sum}"
  done
  [ "${#missing[@]}" -eq 0 ] || die "missing archives: ${missing[*]} (build them, or copy them into $DIST)"
  if grep -q '{{' <<<"$text"; then
    die "placeholders left in $TEMPLATE after rendering: $(grep -o '{{[A-Z0-9_]*}}' <<<"$text" | sort -u | tr '\n' ' ')"
  fi
  mkdir -p "$(dirname "$KREW_OUT")"
  printf '%s\n' "$text" | sed '1,2{/^# krew plugin manifest template/d;/^# version and the sha256/d}' >"$KREW_OUT"
  echo "release.sh: wrote $KREW_OUT for v$VERSION" >&2
}

case "${1:-all}" in
  build) for p in $PLATFORMS; do build_one "$p"; done ;;
  render) render ;;
  all) for p in $PLATFORMS; do build_one "$p"; done; render ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
  *) die "unknown step $1 (build, render or all)" ;;
esac
