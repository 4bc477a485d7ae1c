#!/usr/bin/env bash
# Re-creates the remote-context captures (vendor-docs/remote-context.md):
#  - captures/fetch/: curl, GNU wget, busybox wget and git fetching a build
#    context from tests/fixtures/context-servers (and from
#    tests/fixtures/fault-registry in front of it, for 503/reset/hang);
#  - captures/{docker,podman}/[err-]build-ctx-*: what the engines do with a
#    local directory, a tarball on stdin, and the URL forms they fetch
#    themselves (docker 28.2 legacy builder, 20.10 classic and BuildKit,
#    podman 4.3.1).
# Rows in each exit-codes.tsv (its own rows are replaced on a re-run). All
# traffic stays on 127.0.0.1; images are named dhr-ctxcap-* and removed.
# Usage: vendor-docs/capture-remote-context.sh [CASE_GLOB]   (~1 min)
# shellcheck source=vendor-docs/capture-lib.sh
. "$(dirname "$0")/capture-lib.sh"
capture_setup dhr-ctxcap "$@"
STREAM_PID=""
P="" # the current fault proxy (proxy)
R="" # the current scratch repository (fresh_repo)

cleanup() {
  local d
  for d in "$TMP"/p-*/; do [ -d "$d" ] && "$FIX/fault-registry" stop "$d"; done
  "$FIX/context-servers" stop "$TMP/srv"
  [ -z "$STREAM_PID" ] || kill "$STREAM_PID" 2>/dev/null
  docker images --format '{{.Repository}}' | grep '^dhr-ctxcap' | xargs -r docker rmi -f >/dev/null 2>&1
  podman images --format '{{.Repository}}' | grep 'dhr-ctxcap' | xargs -r podman rmi -f >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

"$FIX/context-servers" start "$TMP/srv" >/dev/null || exit 1
# shellcheck source=/dev/null
. "$TMP/srv/servers.env"
HTTP_ADDR=${CTX_HTTP#http://}
sed -i -E '/^(err-)?fetch-/d' "$OUT/fetch/exit-codes.tsv" 2>/dev/null
sed -i -E '/^(err-)?build-ctx-/d' "$OUT/docker/exit-codes.tsv" "$OUT/podman/exit-codes.tsv"
export GIT_TERMINAL_PROMPT=0


# proxy MODE...: a fault-registry in front of the http server, faulting
# every request; sets P to its address. (Not in $(…): the counter must count.)
proxy_n=0
proxy() {
  proxy_n=$((proxy_n + 1))
  P=$("$FIX/fault-registry" start "$TMP/p-$proxy_n" --upstream "$HTTP_ADDR" --on all --hang-max 60 --mode "$@") || exit 1
}

# run_in DIR SLUG LIMIT CMD...: one capture, with a summary line on stderr.
run_in() {
  local dir=$1 slug=$2 word
  wanted "$slug" || return 0
  if word=$(scenario_word_in "$slug"); then echo "slug $slug contains scenario word '$word'" >&2; exit 1; fi
  capture_into "$dir" "$slug" "$3" - "${@:4}"
  printf '%-52s exit %-3s %5ss\n' "$slug" "$CAPTURE_RC" "$CAPTURE_SECONDS" >&2
}
tool() { run_in "$OUT/fetch" "$@"; }

# fresh_repo: sets R to a new empty git repository to fetch into.
repo_n=0
fresh_repo() {
  repo_n=$((repo_n + 1))
  R=$TMP/r-$repo_n
  git init -q "$R"
}

# --- curl -------------------------------------------------------------------
CURL=(curl --fail --silent --show-error --location --proto "=http,https" --proto-redir "=http,https"
  --connect-timeout 5 --max-time 3 --max-filesize 1000000 -o "$TMP/ctx.tar.gz")
tool fetch-curl-ok 10 "${CURL[@]}" -- "$CTX_TARBALL_URL"
tool err-fetch-curl-404 10 "${CURL[@]}" -- "$CTX_MISSING_URL"
tool err-fetch-curl-refused 10 "${CURL[@]}" -- "http://127.0.0.1:1/context.tar.gz"
tool err-fetch-curl-maxfilesize 10 "${CURL[@]}" -- "$CTX_BIG_URL"
tool err-fetch-curl-proto-file 10 "${CURL[@]}" -- "file:///etc/hostname"
tool err-fetch-curl-bad-url 10 "${CURL[@]}" -- "http://127.0.0.1:x/context.tar.gz"
wanted err-fetch-curl-503 && { proxy status:503 --body text; }
tool err-fetch-curl-503 10 "${CURL[@]}" -w '%{http_code}\n' -- "http://$P/context.tar.gz"
wanted err-fetch-curl-reset && { proxy reset; }
tool err-fetch-curl-reset 10 "${CURL[@]}" -- "http://$P/context.tar.gz"
wanted err-fetch-curl-timeout && { proxy hang; }
tool err-fetch-curl-timeout 10 "${CURL[@]}" -- "http://$P/context.tar.gz"
wanted err-fetch-curl-stall && { proxy slow:200; }
tool err-fetch-curl-stall 20 curl --fail --silent --show-error --speed-limit 1000 --speed-time 3 \
  --max-time 15 -o "$TMP/big.bin" -- "http://$P/big.bin"
# A body without Content-Length (close-delimited): curl 7.88 does not apply
# --max-filesize to it (3 MB arrive under a 1 MB cap; curl >= 8.4 stops it).
if wanted fetch-curl-maxfilesize-nolength; then
  python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.recv(4096)
    try:
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n" + b"x" * 3000000)
    except OSError:
        pass
    c.close()
' >"$TMP/stream.port" &
  STREAM_PID=$!
  for _ in $(seq 50); do [ -s "$TMP/stream.port" ] && break; sleep 0.02; done
  tool fetch-curl-maxfilesize-nolength 10 "${CURL[@]}" -w '%{size_download}\n' -- "http://127.0.0.1:$(cat "$TMP/stream.port")/stream"
fi

# --- wget: GNU and busybox (exit 1 for every failure; -T segfaults) ---------
WGET=(wget -q --timeout=3 --tries=1 -O "$TMP/ctx.tar.gz")
tool fetch-wget-ok 10 "${WGET[@]}" -- "$CTX_TARBALL_URL"
tool err-fetch-wget-404 10 "${WGET[@]}" -- "$CTX_MISSING_URL"
tool err-fetch-wget-404-nv 10 wget -nv --timeout=3 --tries=1 -O "$TMP/ctx.tar.gz" -- "$CTX_MISSING_URL"
tool err-fetch-wget-refused 10 "${WGET[@]}" -- "http://127.0.0.1:1/context.tar.gz"
tool err-fetch-wget-refused-nv 10 wget -nv --timeout=3 --tries=1 -O "$TMP/ctx.tar.gz" -- "http://127.0.0.1:1/context.tar.gz"
wanted err-fetch-wget-timeout && { proxy hang; }
tool err-fetch-wget-timeout 10 "${WGET[@]}" -- "http://$P/context.tar.gz"
BBWGET=(/bin/busybox wget -q -O "$TMP/ctx.tar.gz")
tool fetch-busybox-wget-ok 10 "${BBWGET[@]}" -- "$CTX_TARBALL_URL"
tool err-fetch-busybox-wget-404 10 "${BBWGET[@]}" -- "$CTX_MISSING_URL"
tool err-fetch-busybox-wget-refused 10 "${BBWGET[@]}" -- "http://127.0.0.1:1/context.tar.gz"
wanted err-fetch-busybox-wget-503 && { proxy status:503 --body text; }
tool err-fetch-busybox-wget-503 10 "${BBWGET[@]}" -- "http://$P/context.tar.gz"
wanted err-fetch-busybox-wget-reset && { proxy reset; }
tool err-fetch-busybox-wget-reset 10 "${BBWGET[@]}" -- "http://$P/context.tar.gz"
wanted err-fetch-busybox-wget-hang && { proxy hang; }
tool err-fetch-busybox-wget-hang 3 "${BBWGET[@]}" -- "http://$P/context.tar.gz"
tool err-fetch-busybox-wget-T 10 /bin/busybox wget -q -T 5 -O "$TMP/ctx.tar.gz" -- "$CTX_TARBALL_URL"

# --- git --------------------------------------------------------------------
G=(git -c advice.detachedHead=false)
tool fetch-git-clone-branch 10 "${G[@]}" clone -q --depth 1 --branch "$CTX_GIT_BRANCH" -- "$CTX_GIT_URL" "$TMP/c1"
tool fetch-git-clone-tag 10 "${G[@]}" clone -q --depth 1 --branch "$CTX_GIT_TAG" -- "$CTX_GIT_URL" "$TMP/c2"
tool err-fetch-git-clone-branch-sha 10 "${G[@]}" clone -q --depth 1 --branch "$CTX_GIT_COMMIT" -- "$CTX_GIT_URL" "$TMP/c3"
tool err-fetch-git-clone-bad-ref 10 "${G[@]}" clone -q --depth 1 --branch nope -- "$CTX_GIT_URL" "$TMP/c4"
wanted fetch-git-fetch-sha && { fresh_repo; }
tool fetch-git-fetch-sha 10 "${G[@]}" -C "$R" fetch -q --depth 1 --no-tags -- "$CTX_GIT_URL" "$CTX_GIT_COMMIT"
wanted fetch-git-fetch-head && { fresh_repo; }
tool fetch-git-fetch-head 10 "${G[@]}" -C "$R" fetch -q --depth 1 --no-tags -- "$CTX_GIT_URL" HEAD
wanted fetch-git-fetch-tag && { fresh_repo; }
tool fetch-git-fetch-tag 10 "${G[@]}" -C "$R" fetch -q --depth 1 --no-tags -- "$CTX_GIT_URL" "$CTX_GIT_TAG"
wanted err-fetch-git-fetch-sha-protocol-v0 && { fresh_repo; }
tool err-fetch-git-fetch-sha-protocol-v0 10 "${G[@]}" -c protocol.version=0 -C "$R" fetch -q --depth 1 -- "$CTX_GIT_URL" "$CTX_GIT_COMMIT"
wanted err-fetch-git-fetch-short-sha && { fresh_repo; }
tool err-fetch-git-fetch-short-sha 10 "${G[@]}" -C "$R" fetch -q --depth 1 -- "$CTX_GIT_URL" "${CTX_GIT_COMMIT:0:7}"
wanted err-fetch-git-fetch-absent-sha && { fresh_repo; }
tool err-fetch-git-fetch-absent-sha 10 "${G[@]}" -C "$R" fetch -q --depth 1 -- "$CTX_GIT_URL" "$(printf '0%.0s' $(seq 40))"
wanted err-fetch-git-fetch-bad-ref && { fresh_repo; }
tool err-fetch-git-fetch-bad-ref 10 "${G[@]}" -C "$R" fetch -q --depth 1 -- "$CTX_GIT_URL" nope
wanted err-fetch-git-fetch-dash-ref && { fresh_repo; }
tool err-fetch-git-fetch-dash-ref 10 "${G[@]}" -C "$R" fetch -q --depth 1 -- "$CTX_GIT_URL" --upload-pack=touch
wanted err-fetch-git-refused && { fresh_repo; }
tool err-fetch-git-refused 10 "${G[@]}" -C "$R" fetch -q --depth 1 -- "git://127.0.0.1:1/context.git" main
wanted err-fetch-git-no-repo && { fresh_repo; }
tool err-fetch-git-no-repo 10 "${G[@]}" -C "$R" fetch -q --depth 1 -- "${CTX_GIT_URL%/*}/nope.git" main
wanted err-fetch-git-daemon-hang && { proxy hang; fresh_repo; }
tool err-fetch-git-daemon-hang 3 "${G[@]}" -C "$R" fetch -q --depth 1 -- "git://$P/context.git" main
wanted err-fetch-git-dumb-shallow && { fresh_repo; }
tool err-fetch-git-dumb-shallow 10 "${G[@]}" -C "$R" fetch -q --depth 1 -- "$CTX_GIT_HTTP_URL" main
wanted fetch-git-dumb-full && { fresh_repo; }
tool fetch-git-dumb-full 10 "${G[@]}" -C "$R" fetch -q --no-tags -- "$CTX_GIT_HTTP_URL" main
wanted fetch-git-dumb-sha && { fresh_repo; }
tool fetch-git-dumb-sha 10 "${G[@]}" -C "$R" fetch -q --no-tags -- "$CTX_GIT_HTTP_URL" "$CTX_GIT_COMMIT"
wanted err-fetch-git-http-404 && { fresh_repo; }
tool err-fetch-git-http-404 10 "${G[@]}" -C "$R" fetch -q -- "$CTX_HTTP/nope.git" main
wanted err-fetch-git-http-refused && { fresh_repo; }
tool err-fetch-git-http-refused 10 "${G[@]}" -C "$R" fetch -q -- "http://127.0.0.1:1/context.git" main
wanted err-fetch-git-http-503 && { proxy status:503 --body text; fresh_repo; }
tool err-fetch-git-http-503 10 "${G[@]}" -C "$R" fetch -q -- "http://$P/context.git" main
wanted err-fetch-git-http-reset && { proxy reset; fresh_repo; }
tool err-fetch-git-http-reset 10 "${G[@]}" -C "$R" fetch -q -- "http://$P/context.git" main
wanted err-fetch-git-http-lowspeed && { proxy hang; fresh_repo; }
tool err-fetch-git-http-lowspeed 20 "${G[@]}" -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=3 -C "$R" \
  fetch -q -- "http://$P/context.git" main
wanted err-fetch-git-https-refused && { fresh_repo; }
tool err-fetch-git-https-refused 10 "${G[@]}" -C "$R" fetch -q -- "https://127.0.0.1:1/context.git" main
wanted err-fetch-git-ssh-refused && { fresh_repo; }
tool err-fetch-git-ssh-refused 10 env GIT_SSH_COMMAND="ssh -o BatchMode=yes -o ConnectTimeout=5" \
  "${G[@]}" -C "$R" fetch -q --depth 1 -- "ssh://root@127.0.0.1:1/context.git" main
wanted err-fetch-git-ext-transport && { fresh_repo; }
tool err-fetch-git-ext-transport 10 "${G[@]}" -C "$R" fetch -q -- "ext::sh -c true" main

# --- the engines: local contexts, and the URLs they fetch themselves --------
# build CLIENTS SLUG ARGS...: `build -q -t dhr-ctxcap-N ARGS`, stdin from
# the file BUILD_STDIN when set.
D28=/usr/local/bin/docker
build_n=0
BUILT=()
build() {
  local clients=$1 slug=$2 client dir suffix stdin=-
  local bin=()
  shift 2
  [ -z "${BUILD_STDIN:-}" ] || stdin="<$BUILD_STDIN"
  for client in $clients; do
    case "$client" in
    d28) dir=docker bin=("$D28") suffix="" ;;
    d20) dir=docker bin=(env DOCKER_BUILDKIT=0 /usr/bin/docker) suffix=-client20 ;;
    d20bk) dir=docker bin=(env DOCKER_BUILDKIT=1 /usr/bin/docker) suffix=-client20-buildkit ;;
    podman) dir=podman bin=(podman) suffix="" ;;
    esac
    wanted "$slug$suffix" || continue
    build_n=$((build_n + 1))
    BUILT[build_n]="$dir $slug$suffix"
    capture_into "$OUT/$dir" "$slug$suffix" 60 "$stdin" "${bin[@]}" build -q -t "dhr-ctxcap-$build_n" "$@"
    printf '%-52s exit %-3s %5ss\n' "$slug$suffix" "$CAPTURE_RC" "$CAPTURE_SECONDS" >&2
  done
}
ALL="d28 d20 d20bk podman"
mkdir -p "$TMP/ctx"
tar -C "$TMP/ctx" -xf "$TMP/srv/www/context.tar"
cp "$TMP/srv/www/context.tar" "$TMP/srv/www/context.tar.gz" "$TMP/"
build "$ALL" build-ctx-dir "$TMP/ctx"
build "$ALL" build-ctx-dir-subdir "$TMP/ctx/app"
BUILD_STDIN=$TMP/context.tar build "$ALL" build-ctx-stdin-tar -
BUILD_STDIN=$TMP/context.tar.gz build "$ALL" build-ctx-stdin-tgz -
BUILD_STDIN=$TMP/context.tar build "$ALL" build-ctx-stdin-tar-subdir-dockerfile -f app/Dockerfile -
build "$ALL" err-build-ctx-tarball-path "$TMP/context.tar"
build "$ALL" build-ctx-url-tarball "$CTX_TARBALL_URL"
build "$ALL" err-build-ctx-url-404 "$CTX_MISSING_URL"
build "$ALL" build-ctx-git-no-fragment "$CTX_GIT_URL"
build "$ALL" build-ctx-git-branch-subdir "$CTX_GIT_URL#$CTX_GIT_BRANCH:$CTX_GIT_SUBDIR"
build "$ALL" build-ctx-git-tag "$CTX_GIT_URL#$CTX_GIT_TAG"
build "$ALL" build-ctx-git-sha "$CTX_GIT_URL#$CTX_GIT_COMMIT"
build "$ALL" err-build-ctx-git-bad-ref "$CTX_GIT_URL#nope"
build "$ALL" err-build-ctx-git-subdir-escape "$CTX_GIT_URL#main:../../etc"
build "$ALL" build-ctx-git-dumb-http "$CTX_GIT_HTTP_URL#main:$CTX_GIT_SUBDIR"
# Which context each successful build really used (label dhr.context, and
# /hello.txt names the ref): one line per image, for remote-context.md.
[ "$ONLY" = "*" ] || { echo "done (build-ctx-used.txt is written by a full run only)" >&2; exit 0; }
for ((i = 1; i <= build_n; i++)); do
  read -r engine slug <<<"${BUILT[i]}"
  label=$($engine image inspect --format '{{index .Config.Labels "dhr.context"}}' "dhr-ctxcap-$i" 2>/dev/null) || continue
  printf '%-52s %-6s context=%s hello=%s\n' "$slug" "$engine" "$label" "$($engine run --rm "dhr-ctxcap-$i")"
done >"$ROOT/vendor-docs/build-ctx-used.txt"
cat "$ROOT/vendor-docs/build-ctx-used.txt" >&2
echo "done" >&2
