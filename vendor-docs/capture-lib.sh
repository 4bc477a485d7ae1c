# shellcheck shell=bash
# Shared by the vendor-docs/capture-*.sh scripts: run one command, store
# what it printed in the capture layout of vendor-docs/README.md.
set -uo pipefail
shopt -s extglob

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034 # OUT and FIX are for the sourcing scripts
OUT=$ROOT/vendor-docs/captures
# shellcheck disable=SC2034
FIX=$ROOT/tests/fixtures

# capture_setup NAME [CASE_GLOB]: TMP (and CAPTURE_TMP) become a new
# /tmp/NAME.XXXXXX; `wanted SLUG` is true for the slugs CASE_GLOB matches
# (default: all; extglob, so @(a|b) works).
capture_setup() {
  TMP=$(mktemp -d "/tmp/$1.XXXXXX")
  CAPTURE_TMP=$TMP
  ONLY=${2:-*}
}
# shellcheck disable=SC2254 # ONLY is a glob
wanted() { case "$1" in $ONLY) return 0 ;; esac; return 1; }

# quote_argv ARGS...: the arguments as one shell-pasteable line.
quote_argv() {
  local arg out=""
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:@=+,%-]+$ ]]; then
      out+="$arg "
    else
      out+="'${arg//\'/\'\\\'\'}' "
    fi
  done
  printf '%s' "${out% }"
}

# capture_into DIR SLUG LIMIT STDIN CMD...: run CMD (killed after LIMIT s)
# with STDIN on its standard input (- for none, <FILE for a file, else the
# string itself); write
# DIR/SLUG.stderr.txt (always), DIR/SLUG.stdout.txt (when not empty) and a
# `SLUG <TAB> exit code <TAB> command` row in DIR/exit-codes.tsv. A password
# given as STDIN is written as PASSWORD in that row. Sets CAPTURE_RC and
# CAPTURE_SECONDS. Needs CAPTURE_TMP, a scratch directory.
capture_into() {
  local dir=$1 slug=$2 limit=$3 stdin=$4 start end line
  shift 4
  local input=$CAPTURE_TMP/in
  case "$stdin" in
  -) : >"$input" ;;
  "<"*) input=${stdin#<} ;;
  *) printf %s "$stdin" >"$input" ;;
  esac
  start=$(date +%s.%N)
  timeout -k 5 "$limit" "$@" >"$CAPTURE_TMP/out" 2>"$CAPTURE_TMP/err" <"$input"
  CAPTURE_RC=$?
  end=$(date +%s.%N)
  # shellcheck disable=SC2034 # read by the caller
  CAPTURE_SECONDS=$(printf '%.1f' "$(echo "$end - $start" | bc)")
  mkdir -p "$dir"
  cp "$CAPTURE_TMP/err" "$dir/$slug.stderr.txt"
  if [ -s "$CAPTURE_TMP/out" ]; then cp "$CAPTURE_TMP/out" "$dir/$slug.stdout.txt"; else rm -f "$dir/$slug.stdout.txt"; fi
  sed -i "/^${slug}\t/d" "$dir/exit-codes.tsv" 2>/dev/null # a re-run replaces its row
  line=$(quote_argv "$@")
  case "$stdin" in
  -) ;;
  "<"*) line+=" < ${stdin#<}" ;;
  *) line="printf %s PASSWORD | $line" ;;
  esac
  printf '%s\t%s\t%s\n' "$slug" "$CAPTURE_RC" "$line" >>"$dir/exit-codes.tsv"
}

# scenario_word_in SLUG: prints the first scenario word of
# tests/it/classify_captures.rs (EXPECTED, NOT_CHECKED) that SLUG contains.
# Captures of new ground must not carry one by accident: that test would
# then expect that word's kind.
scenario_word_in() {
  local slug=$1 word
  if [ -z "${SCENARIO_WORDS+x}" ]; then
    mapfile -t SCENARIO_WORDS < <(sed -n '/^const EXPECTED/,/^];/p;/^const NOT_CHECKED/,/^];/p' \
      "$(dirname "${BASH_SOURCE[0]}")/../tests/it/classify_captures.rs" | grep -o '"[^"]*"' | tr -d '"')
  fi
  for word in "${SCENARIO_WORDS[@]}"; do
    case "$slug" in *"$word"*) echo "$word"; return 0 ;; esac
  done
  return 1
}
