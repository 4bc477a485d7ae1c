#!/usr/bin/env bash
# Build stripped, statically linked dockhand binaries for small boxes.
#
#   scripts/build-static.sh [TARGET...]
#
# Without arguments: x86_64-unknown-linux-musl and aarch64-unknown-linux-musl,
# plus armv7-unknown-linux-musleabihf when rustup can install its standard
# library (a target named on the command line must install, or this fails).
# Output: target/static/<TARGET>/dockhand (under $CARGO_TARGET_DIR if set), and
# release tarballs with man pages and completions in target/static/dist/;
# prints each binary's size and the build time. Idempotent: adds missing rustup
# targets, then lets cargo rebuild only what changed. No C toolchain is needed:
# .cargo/config.toml links every musl target with rust-lld, and the size
# settings live in Cargo.toml's [profile.release] (measured in docs/static.md;
# CARGO_PROFILE_RELEASE_* variables override them for a measurement).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'build-static: %s\n' "$*" >&2; }

if [ $# -gt 0 ]; then
  required=("$@")
  optional=()
else
  required=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
  optional=(armv7-unknown-linux-musleabihf)
fi

installed() { rustup target list --installed | grep -qx "$1"; }
targets=()
for t in "${required[@]}"; do
  installed "$t" || rustup target add "$t"
  targets+=("$t")
done
for t in ${optional[@]+"${optional[@]}"}; do
  if installed "$t" || rustup target add "$t" 2>/dev/null; then
    targets+=("$t")
  else
    log "skipping $t: rustup cannot install its standard library here"
  fi
done

# One cargo invocation for all targets: the single-threaded LTO link of one
# target overlaps with the compilation of the others.
target_args=()
for t in "${targets[@]}"; do target_args+=(--target "$t"); done
started=$(date +%s)
cargo build --release --locked --bin dockhand "${target_args[@]}"
log "built ${#targets[@]} target(s) in $(($(date +%s) - started)) s"

out_root=${CARGO_TARGET_DIR:-target}
for t in "${targets[@]}"; do
  out="$out_root/static/$t/dockhand"
  mkdir -p "${out%/*}"
  cp "$out_root/$t/release/dockhand" "$out"
  kind=$(file -b "$out")
  case "$kind" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) log "$out is not statically linked: $kind"; exit 1 ;;
  esac
  bytes=$(stat -c %s "$out")
  printf '%-34s %9d bytes  %5.2f MiB  %s\n' "$t" "$bytes" \
    "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$out"
done

# Release tarballs: per target dockhand-VERSION-TARGET.tar.gz with the binary,
# its man pages (cargo xtask man), bash/zsh/fish completions and the README,
# plus SHA256SUMS over the tarballs, in $out_root/static/dist/. Completions
# and man pages do not depend on the target: made once, by a binary that runs here.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
dist="$out_root/static/dist"
rm -rf "$dist" && mkdir -p "$dist/common/man" "$dist/common/completions"
cargo xtask man "$dist/common/man" >/dev/null
runner=""
for t in "${targets[@]}"; do
  if "$out_root/static/$t/dockhand" --version >/dev/null 2>&1; then runner="$out_root/static/$t/dockhand"; break; fi
done
if [ -z "$runner" ]; then
  cargo build --quiet --bin dockhand
  runner="$out_root/debug/dockhand"
fi
"$runner" completions bash >"$dist/common/completions/dockhand.bash"
"$runner" completions zsh >"$dist/common/completions/_dockhand"
"$runner" completions fish >"$dist/common/completions/dockhand.fish"
for t in "${targets[@]}"; do
  name="dockhand-$version-$t"
  mkdir -p "$dist/$name"
  cp "$out_root/static/$t/dockhand" README.md "$dist/$name/"
  cp -r "$dist/common/man" "$dist/common/completions" "$dist/$name/"
  tar -C "$dist" -czf "$dist/$name.tar.gz" --owner=0 --group=0 "$name"
  rm -rf "${dist:?}/$name"
done
rm -rf "$dist/common"
(cd "$dist" && sha256sum -- *.tar.gz >SHA256SUMS)
log "release tarballs and SHA256SUMS in $dist"
