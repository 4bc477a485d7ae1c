#!/usr/bin/env bash
# Re-creates the registry captures (vendor-docs/registry.md): real texts of
# docker (CLI 28.2 and 20.10 -> dockerd 20.10) and podman 4.3.1 pulling,
# pushing and logging in against a real docker-registry on 127.0.0.1, and
# against tests/fixtures/fault-registry in front of it, one fault per case.
#
# Writes captures/{docker,podman}/{,err-}registry-*.{stdout,stderr}.txt, rows
# in captures/*/exit-codes.tsv and vendor-docs/registry-runs.tsv (slug,
# client, exit code, seconds, the requests that reached the fault proxy);
# a re-run replaces the rows of the cases it ran. Takes ~10 min (hangs and docker's
# own layer retries are waited out). Everything it creates is named dhr-cap*
# and removed at the end. Usage: vendor-docs/capture-registry.sh [CASE_GLOB]
# shellcheck source=vendor-docs/capture-lib.sh
. "$(dirname "$0")/capture-lib.sh"
capture_setup dhr-cap "$@"
RUNS=$ROOT/vendor-docs/registry-runs.tsv
D28=/usr/local/bin/docker
D20=/usr/bin/docker
POD=podman
PASSWORD=dhr-secret

cleanup() {
  local d
  for d in "$TMP"/*/; do
    "$FIX/fault-registry" stop "$d" 2>/dev/null
    "$FIX/registry" stop "$d" 2>/dev/null
  done
  docker ps -aq --filter name=dhr-cap | xargs -r docker rm -f >/dev/null
  docker images --format '{{.Repository}}:{{.Tag}}' | grep 'dhr-cap' | xargs -r docker rmi -f >/dev/null 2>&1
  podman images --format '{{.Repository}}:{{.Tag}}' | grep 'dhr-cap' | xargs -r podman rmi -f >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

export DOCKER_CONFIG=$TMP/docker-config
export REGISTRY_AUTH_FILE=$TMP/podman-auth.json
unset CONTAINERS_REGISTRIES_CONF
mkdir -p "$DOCKER_CONFIG"
echo '{}' >"$REGISTRY_AUTH_FILE"

R=$("$FIX/registry" start "$TMP/reg")
RA=$("$FIX/registry" start "$TMP/reg-auth" --auth "dhr-user:$PASSWORD")
echo "registry $R, with auth $RA" >&2

# The pulled image: the test image plus a 1 MB random layer, pushed by docker
# and then removed locally, so every pull really downloads a blob.
docker rm -f dhr-cap-mk >/dev/null 2>&1
docker run --name dhr-cap-mk --label dockhand.test=dhr dockhand-test/busybox:latest \
  sh -c 'head -c 1000000 /dev/urandom >/blob' >/dev/null
docker commit dhr-cap-mk "$R/dhr-cap/big:latest" >/dev/null
docker rm dhr-cap-mk >/dev/null
docker push -q "$R/dhr-cap/big:latest" >/dev/null
docker tag "$R/dhr-cap/big:latest" "$RA/dhr-cap/big:latest"
printf %s "$PASSWORD" | docker login -u dhr-user --password-stdin "$RA" >/dev/null 2>&1
docker push -q "$RA/dhr-cap/big:latest" >/dev/null
docker logout "$RA" >/dev/null
DIGEST=$(docker image inspect --format '{{index .RepoDigests 0}}' "$R/dhr-cap/big:latest" | sed 's/.*@//')
docker rmi "$R/dhr-cap/big:latest" "$RA/dhr-cap/big:latest" >/dev/null
echo "pushed dhr-cap/big@$DIGEST" >&2
[ -s "$RUNS" ] || printf 'slug\tclient\texit\tseconds\tfault_requests\n' >"$RUNS"

# Which capture directory and slug suffix a client writes to.
client_dir() { case "$1" in podman) echo podman ;; *) echo docker ;; esac; }
client_suffix() { [ "$1" = d20 ] && echo -client20; }
client_bin() { case "$1" in d28) echo "$D28" ;; d20) echo "$D20" ;; podman) echo "$POD" ;; esac; }

# capture CLIENT SLUG TIMEOUT STDIN CMD...: capture_into the client's
# directory (slug suffix -client20 for the 20.10 CLI). Slugs must not carry
# a scenario word of tests/classify_captures.rs: registry cases are new
# ground for the classifier and get their own expectations with issue 16.
# FAULT_DIR, when set, is the proxy whose request counts go into RUNS.
capture() {
  local client=$1 slug limit=$3 stdin=$4 word counts=-
  slug=$2$(client_suffix "$1")
  shift 4
  if word=$(scenario_word_in "$slug"); then echo "slug $slug contains scenario word '$word'" >&2; exit 1; fi
  capture_into "$OUT/$(client_dir "$client")" "$slug" "$limit" "$stdin" "$@"
  if [ -n "${FAULT_DIR:-}" ] && [ -f "$FAULT_DIR/fault-counts" ]; then
    counts=$(awk '$2 > 0 {printf "%s%s=%s", sep, $1, $2; sep=" "}' "$FAULT_DIR/fault-counts")
    cp "$FAULT_DIR/fault-requests.log" "$TMP/requests-$slug.$client.log"
  fi
  sed -i "/^${slug}\t${client}\t/d" "$RUNS"
  printf '%s\t%s\t%s\t%s\t%s\n' "$slug" "$client" "$CAPTURE_RC" "$CAPTURE_SECONDS" "$counts" >>"$RUNS"
  printf '%-58s %-6s exit %-3s %5ss  %s\n' "$slug" "$client" "$CAPTURE_RC" "$CAPTURE_SECONDS" "$counts" >&2
}

# A -client20 capture identical to the 28.2 one (after the random registry
# ports) is deleted; its exit-codes.tsv row stays.
dedupe_client20() {
  local slug=$1 ext same=1
  for ext in stdout.txt stderr.txt; do
    local a=$OUT/docker/$slug.$ext b=$OUT/docker/$slug-client20.$ext
    [ -e "$a" ] || [ -e "$b" ] || continue
    if [ -e "$a" ] && [ -e "$b" ] &&
      cmp -s <(sed -E 's/127\.0\.0\.1:[0-9]+/ADDR/g; s/[0-9]+(\.[0-9]+)?m?s\b/T/g' "$a") \
        <(sed -E 's/127\.0\.0\.1:[0-9]+/ADDR/g; s/[0-9]+(\.[0-9]+)?m?s\b/T/g' "$b"); then
      continue
    fi
    same=0
  done
  [ "$same" = 1 ] && rm -f "$OUT/docker/$slug-client20".*
}


# Remove what a pull left, so the next pull downloads again.
forget() {
  local client=$1 ref=$2
  if [ "$client" = podman ]; then podman rmi -f "$ref" >/dev/null 2>&1; else docker rmi -f "$ref" >/dev/null 2>&1; fi
  true
}

# plain CLIENTS SLUG TIMEOUT STDIN ARGS... (no fault proxy; ARGS after the binary)
plain() {
  local clients=$1 slug=$2 limit=$3 stdin=$4 client
  shift 4
  wanted "$slug" || return 0
  for client in $clients; do
    capture "$client" "$slug" "$limit" "$stdin" "$(client_bin "$client")" "$@"
  done
  case " $clients " in *" d20 "*) dedupe_client20 "$slug" ;; esac
}

# fault CLIENTS SLUG TIMEOUT OP FAULT_ARGS...: a fresh proxy per client in
# front of the plain registry; OP is pull (dhr-cap/big:latest) or push.
fault() {
  local clients=$1 slug=$2 limit=$3 op=$4 client
  shift 4
  wanted "$slug" || return 0
  for client in $clients; do
    FAULT_DIR=$TMP/f-$slug-$client
    local addr bin tls=()
    addr=$("$FIX/fault-registry" start "$FAULT_DIR" --upstream "$R" "$@") || exit 1
    bin=$(client_bin "$client")
    [ "$client" = podman ] && tls=(--tls-verify=false)
    if [ "$op" = pull ]; then
      capture "$client" "$slug" "$limit" - "$bin" pull "${tls[@]}" "$addr/dhr-cap/big:latest"
      forget "$client" "$addr/dhr-cap/big:latest"
    else
      local ref=$addr/dhr-cap/pushed-$client:latest
      if [ "$client" = podman ]; then podman tag dockhand-test/busybox:latest "$ref"; else docker tag dockhand-test/busybox:latest "$ref"; fi
      capture "$client" "$slug" "$limit" - "$bin" push "${tls[@]}" "$ref"
      forget "$client" "$ref"
    fi
    "$FIX/fault-registry" stop "$FAULT_DIR"
    unset FAULT_DIR
  done
  case " $clients " in *" d20 "*) dedupe_client20 "$slug" ;; esac
}

ALL="d28 d20 podman"
IMG=$R/dhr-cap/big:latest
T=(--tls-verify=false)

# --- normal operations -------------------------------------------------------
for c in d28 d20 podman; do
  t=(); [ "$c" = podman ] && t=("${T[@]}")
  plain $c registry-pull-tag 60 - pull "${t[@]}" "$IMG"
  plain $c registry-image-inspect-repodigests 20 - image inspect --format '{{json .RepoDigests}}' "$IMG"
  [ "$c" = podman ] && plain $c registry-image-inspect-digest 20 - image inspect --format '{{.Digest}}' "$IMG"
  forget $c "$IMG"
  plain $c registry-pull-tag-quiet 60 - pull -q "${t[@]}" "$IMG"; forget $c "$IMG"
  plain $c registry-pull-digest 60 - pull "${t[@]}" "$R/dhr-cap/big@$DIGEST"
  plain $c registry-image-inspect-repodigests-after-digest-pull 20 - image inspect --format '{{json .RepoDigests}}' "$R/dhr-cap/big@$DIGEST"
  forget $c "$R/dhr-cap/big@$DIGEST"
  plain $c registry-pull-platform-amd64 60 - pull "${t[@]}" --platform linux/amd64 "$IMG"; forget $c "$IMG"
  plain $c registry-pull-platform-mismatch 60 - pull "${t[@]}" --platform linux/arm64 "$IMG"; forget $c "$IMG"
  plain $c err-registry-pull-absent-tag 60 - pull "${t[@]}" "$R/dhr-cap/big:nope"
  plain $c err-registry-pull-absent-repo 60 - pull "${t[@]}" "$R/dhr-cap/nothere:latest"
  plain $c err-registry-pull-absent-digest 60 - pull "${t[@]}" "$R/dhr-cap/big@sha256:$(printf '0%.0s' $(seq 64))"
  plain $c err-registry-pull-uppercase 20 - pull "${t[@]}" "$R/dhr-cap/BIG:latest"
done
for s in registry-pull-tag registry-image-inspect-repodigests registry-pull-tag-quiet registry-pull-digest \
  registry-image-inspect-repodigests-after-digest-pull registry-pull-platform-amd64 registry-pull-platform-mismatch \
  err-registry-pull-absent-tag err-registry-pull-absent-repo err-registry-pull-absent-digest err-registry-pull-uppercase; do
  wanted "$s" && dedupe_client20 "$s"
done
# podman: plain http needs --tls-verify=false or a registries.conf.
plain podman err-registry-pull-https-only 60 - pull "$IMG"
wanted registry-pull-registries-conf && {
  capture podman registry-pull-registries-conf 60 - env "CONTAINERS_REGISTRIES_CONF=$TMP/reg/registries.conf" podman pull "$IMG"
  forget podman "$IMG"
}
wanted err-registry-pull-authfile-absent &&
  capture podman err-registry-pull-authfile-absent 60 - env "REGISTRY_AUTH_FILE=$TMP/nowhere/auth.json" podman pull "${T[@]}" "$IMG"
# push (the registry already has the base layer of the test image from big)
docker tag dockhand-test/busybox:latest "$R/dhr-cap/pushed:latest"
podman tag dockhand-test/busybox:latest "$R/dhr-cap/pushed-podman:latest"
plain "d28 d20" registry-push 60 - push "$R/dhr-cap/pushed:latest"
plain podman registry-push 60 - push "${T[@]}" "$R/dhr-cap/pushed-podman:latest"
plain podman registry-push-digestfile 60 - push "${T[@]}" --digestfile "$TMP/digest" "$R/dhr-cap/pushed-podman:latest"
wanted registry-push-digestfile && { cp "$TMP/digest" "$OUT/podman/registry-push-digestfile.digest.txt"; }
plain "d28 d20" err-registry-push-absent-local 60 - push "$R/dhr-cap/never-tagged:latest"
plain podman err-registry-push-absent-local 60 - push "${T[@]}" "$R/dhr-cap/never-tagged:latest"

# --- credentials (htpasswd registry) -----------------------------------------
RIMG=$RA/dhr-cap/big:latest
for c in d28 d20 podman; do
  t=(); [ "$c" = podman ] && t=("${T[@]}")
  plain $c err-registry-pull-noauth 60 - pull "${t[@]}" "$RIMG"
  if [ "$c" = podman ]; then podman tag dockhand-test/busybox:latest "$RA/dhr-cap/pushed-$c:latest"; else docker tag dockhand-test/busybox:latest "$RA/dhr-cap/pushed-$c:latest"; fi
  plain $c err-registry-push-noauth 60 - push "${t[@]}" "$RA/dhr-cap/pushed-$c:latest"
  plain $c err-registry-login-wrongpass 60 "wrong-$PASSWORD" login "${t[@]}" -u dhr-user --password-stdin "$RA"
  plain $c err-registry-login-wronguser 60 "$PASSWORD" login "${t[@]}" -u dhr-nobody --password-stdin "$RA"
  plain $c registry-login 60 "$PASSWORD" login "${t[@]}" -u dhr-user --password-stdin "$RA"
  if wanted registry-login; then
    if [ "$c" = podman ]; then cp "$REGISTRY_AUTH_FILE" "$OUT/podman/registry-login.auth.json"; else cp "$DOCKER_CONFIG/config.json" "$OUT/docker/registry-login$(client_suffix $c).config.json"; fi
  fi
  plain $c registry-pull-with-login 60 - pull "${t[@]}" "$RIMG"; forget $c "$RIMG"
  plain $c registry-push-with-login 60 - push "${t[@]}" "$RA/dhr-cap/pushed-$c:latest"
  plain $c registry-logout 20 - logout "$RA"
  plain $c registry-logout-again 20 - logout "$RA"
  plain $c registry-logout-no-server 20 - logout
done
for s in err-registry-pull-noauth err-registry-push-noauth err-registry-login-wrongpass err-registry-login-wronguser \
  registry-login registry-pull-with-login registry-push-with-login registry-logout registry-logout-again registry-logout-no-server; do
  wanted "$s" && dedupe_client20 "$s"
done
wanted registry-login && cmp -s "$OUT/docker/registry-login.config.json" "$OUT/docker/registry-login-client20.config.json" &&
  rm -f "$OUT/docker/registry-login-client20.config.json"
plain podman registry-logout-all 20 - logout --all
# Stored credentials that are wrong (written as login would write them).
wrong=$(printf %s "dhr-user:wrong-$PASSWORD" | base64)
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$RA" "$wrong" >"$DOCKER_CONFIG/config.json"
cp "$DOCKER_CONFIG/config.json" "$REGISTRY_AUTH_FILE"
for c in d28 d20 podman; do
  t=(); [ "$c" = podman ] && t=("${T[@]}")
  plain $c err-registry-pull-wrongcreds 60 - pull "${t[@]}" "$RIMG"
done
wanted err-registry-pull-wrongcreds && dedupe_client20 err-registry-pull-wrongcreds
echo '{}' >"$DOCKER_CONFIG/config.json"
echo '{}' >"$REGISTRY_AUTH_FILE"

# --- faults on the manifest GET (the request both engines act on) ------------
fault "$ALL" err-registry-fault-503 60 pull --mode status:503
fault "$ALL" err-registry-fault-503-text 60 pull --mode status:503 --body text
fault "$ALL" err-registry-fault-500 60 pull --mode status:500
fault "$ALL" err-registry-fault-429 60 pull --mode status:429
fault "$ALL" err-registry-fault-429-text 60 pull --mode status:429 --body text
fault "$ALL" err-registry-fault-toomanyrequests 60 pull --mode toomanyrequests
# A message of its own (as Docker Hub's) makes podman's outer retry loop
# (3 x, 1 s) run around its 429 backoff (5 GETs in 30 s): ~2 min in all.
fault "d28 d20" err-registry-fault-toomanyrequests-message 60 pull --mode toomanyrequests \
  --message "You have reached your pull rate limit (dhr fault-registry)"
fault podman err-registry-fault-toomanyrequests-message 200 pull --mode toomanyrequests \
  --message "You have reached your pull rate limit (dhr fault-registry)"
fault "$ALL" err-registry-fault-unavailable 60 pull --mode unavailable
fault "$ALL" err-registry-fault-unavailable-429 60 pull --mode unavailable --status 429
fault "$ALL" err-registry-fault-401 60 pull --mode status:401
fault "$ALL" err-registry-fault-403 60 pull --mode status:403
fault "$ALL" err-registry-fault-manifest-404 60 pull --mode manifest-unknown
fault "$ALL" err-registry-fault-name-400 60 pull --mode name-invalid
fault "$ALL" err-registry-fault-reset 60 pull --mode reset
fault "d28 d20" err-registry-fault-hang 60 pull --mode hang
fault podman err-registry-fault-hang 30 pull --mode hang
fault "$ALL" registry-fault-flaky-2-503 60 pull --mode flaky:2
fault "$ALL" registry-fault-flaky-2-429 60 pull --mode flaky:2 --fault toomanyrequests
fault "$ALL" registry-fault-flaky-2-reset 60 pull --mode flaky:2 --fault reset
fault "$ALL" registry-fault-flaky-5-reset 60 pull --mode flaky:5 --fault reset
# --- where else a fault lands -------------------------------------------------
fault "d28 podman" registry-fault-503-on-v2 60 pull --mode status:503 --on v2
fault "d28 podman" registry-fault-503-on-manifest-head 60 pull --mode status:503 --on manifest-head
fault "d28 podman" err-registry-fault-503-on-manifest-any 60 pull --mode status:503 --on manifest-any
fault "d28 podman" err-registry-fault-reset-on-v2 60 pull --mode reset --on v2
fault "d28 podman" err-registry-fault-503-on-blob 120 pull --mode status:503 --on blob
fault "d28 podman" err-registry-fault-reset-on-blob 120 pull --mode reset --on blob
fault "d28" err-registry-fault-hang-on-blob 150 pull --mode hang --on blob
fault "podman" err-registry-fault-hang-on-blob 30 pull --mode hang --on blob
fault "d28 podman" registry-fault-flaky-2-503-on-blob 120 pull --mode flaky:2 --on blob
fault "d28 podman" registry-fault-slow-on-blob 60 pull --mode slow:200000 --on blob
fault "d28 podman" err-registry-fault-503-on-push 120 push --mode status:503 --on push
fault "d28 podman" err-registry-fault-reset-on-push 120 push --mode reset --on push
# --- hangs elsewhere, and whether dockerd ever gives up on a manifest GET --
fault "d28 podman" err-registry-fault-hang-on-v2 60 pull --mode hang --on v2
fault "d28" err-registry-fault-hang-on-manifest-head 60 pull --mode hang --on manifest-any
fault "d28" err-registry-fault-hang-long 240 pull --mode hang --hang-max 600

# --- a flaky registry recovers: the same proxy (flaky:2) pulled 3 times ----
# flaky_sequence CLIENTS SLUG TIMES FAULT_ARGS...: slugs SLUG-attempt-I
flaky_sequence() {
  local clients=$1 slug=$2 times=$3 client i addr bin tls=()
  shift 3
  wanted "$slug-attempt-1" || return 0
  for client in $clients; do
    FAULT_DIR=$TMP/f-$slug-$client
    addr=$("$FIX/fault-registry" start "$FAULT_DIR" --upstream "$R" "$@") || exit 1
    bin=$(client_bin "$client")
    tls=()
    [ "$client" = podman ] && tls=(--tls-verify=false)
    for ((i = 1; i <= times; i++)); do
      capture "$client" "$slug-attempt-$i" 60 - "$bin" pull "${tls[@]}" "$addr/dhr-cap/big:latest"
    done
    forget "$client" "$addr/dhr-cap/big:latest"
    "$FIX/fault-registry" stop "$FAULT_DIR"
    unset FAULT_DIR
  done
}
flaky_sequence "d28 podman" registry-fault-flaky-2-503 3 --mode flaky:2
flaky_sequence "d28" registry-fault-flaky-2-reset 3 --mode flaky:2 --fault reset
mkdir -p "$ROOT/vendor-docs/captures/registry-requests"
for f in "$TMP"/requests-*.log; do
  [ -e "$f" ] && cp "$f" "$ROOT/vendor-docs/captures/registry-requests/${f##*/requests-}"
done
echo "done: $RUNS" >&2
