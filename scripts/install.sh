#!/usr/bin/env bash
# Install dockhand with its man pages and shell completions.
#
#   scripts/install.sh                 # into /usr/local
#   PREFIX=/usr DESTDIR=/tmp/stage scripts/install.sh
#
# Installs $DESTDIR$PREFIX/bin/dockhand, share/man/man1/dockhand*.1 (from
# `cargo xtask man`), and the completions dockhand itself writes:
# share/bash-completion/completions/dockhand, share/zsh/site-functions/_dockhand,
# share/fish/vendor_completions.d/dockhand.fish. The binary is DOCKHAND_BIN
# when set (e.g. a static build), else a fresh `cargo build --release`.
# Idempotent: files are replaced. `cargo install --path .` installs only the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'install: %s\n' "$*" >&2; }

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
root="$DESTDIR$PREFIX"

bin=${DOCKHAND_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked --bin dockhand
  bin="${CARGO_TARGET_DIR:-target}/release/dockhand"
fi
"$bin" --version >/dev/null

man_dir=$(mktemp -d)
trap 'rm -rf "$man_dir"' EXIT
cargo xtask man "$man_dir" >/dev/null

install -d "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
  "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d"
install -m 0755 "$bin" "$root/bin/dockhand"
install -m 0644 "$man_dir"/*.1 "$root/share/man/man1/"
"$bin" completions bash >"$root/share/bash-completion/completions/dockhand"
"$bin" completions zsh >"$root/share/zsh/site-functions/_dockhand"
"$bin" completions fish >"$root/share/fish/vendor_completions.d/dockhand.fish"
log "installed dockhand $("$bin" --version | cut -d' ' -f2) into $root ($(ls "$man_dir" | wc -l) man pages)"
