#!/bin/sh
# Builds and runs the libFuzzer harnesses in tests/fuzz/ (see tests/fuzz/README.md).
#
#   scripts/fuzz.sh [build]          build every harness into build-fuzz/
#   scripts/fuzz.sh check [NAME...]  build, then run each harness over its seed corpus once (fast regression check)
#   scripts/fuzz.sh run [SECONDS] [NAME...]
#                                    build, then fuzz each harness for SECONDS (default 30)
#
# Exits non-zero if a build fails or any harness reports a finding (crash, invariant failure,
# sanitizer report, leak, timeout). New inputs found by `run` go to a temporary directory,
# never into tests/fuzz/corpus/; crashing inputs are kept under build-fuzz/artifacts/<name>/.
set -eu

cd "$(dirname "$0")/.."

CC=${CC:-clang}
OUT=build-fuzz
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Isrc -std=c11 -Wall -Wextra -Werror"
LIBS="-lcrypto -ljansson -lz"
ALL="tokfmt duration rfc3339 expiry ratelimit jsonw redact netaddr urlpath framing keyring vault_acl jwt httpneg graphql graphql_validate graphql_exec"

# The src/ files each harness links against.
sources() {
    case "$1" in
    tokfmt) echo "src/core/tokfmt.c src/core/errors.c" ;;
    duration) echo "src/core/duration.c src/core/rfc3339.c src/core/errors.c src/lib/str.c" ;;
    rfc3339) echo "src/core/rfc3339.c src/core/errors.c" ;;
    expiry) echo "src/core/expiry.c src/core/duration.c src/core/rfc3339.c src/core/errors.c src/lib/str.c" ;;
    ratelimit) echo "src/core/ratelimit.c src/core/errors.c" ;;
    jsonw) echo "src/lib/jsonw.c src/lib/str.c" ;;
    netaddr) echo "src/core/netaddr.c src/core/origin.c src/core/errors.c" ;;
    redact) echo "src/core/tokfmt.c src/core/audit.c src/core/errors.c src/core/rfc3339.c src/core/secret.c src/lib/jsonw.c src/lib/str.c" ;;
    urlpath) echo "src/core/urlpath.c src/core/errors.c src/lib/str.c" ;;
    framing) echo "src/net/framing.c src/core/errors.c src/lib/str.c" ;;
    keyring) echo "src/core/keyring.c src/core/aead.c src/core/secret.c src/core/errors.c" ;;
    vault_acl) echo "src/core/vault_acl.c src/core/errors.c src/lib/str.c" ;;
    jwt) echo "src/core/jwt.c src/core/jwk.c src/core/secret.c src/core/errors.c src/lib/jsonw.c src/lib/str.c" ;;
    httpneg) echo "src/core/httpneg.c" ;;
    graphql) echo "src/core/graphql_lex.c src/core/graphql_parse.c src/core/graphql_print.c src/core/errors.c src/lib/arena.c src/lib/str.c" ;;
    graphql_validate) echo "src/core/graphql_validate.c src/core/graphql_schema.c src/core/graphql_lex.c src/core/graphql_parse.c src/core/graphql_print.c src/core/errors.c src/lib/arena.c src/lib/str.c $OUT/graphql_schema_embedded.c" ;;
    graphql_exec) echo "src/core/graphql_exec.c src/core/graphql_validate.c src/core/graphql_schema.c src/core/graphql_lex.c src/core/graphql_parse.c src/core/graphql_print.c src/core/errors.c src/lib/arena.c src/lib/str.c" ;;
    *) echo "fuzz.sh: unknown harness '$1' (have: $ALL)" >&2; return 1 ;;
    esac
}

# Sanitizer findings must end the run with a non-zero status.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

build() {
    mkdir -p "$OUT"
    # The server's schema, embedded as the build does (meson.build), for fuzz_graphql_validate.
    /usr/bin/python3 scripts/embed_text.py "$OUT/graphql_schema_embedded.c" api_graphql_schema api/schema.graphql
    for name in $ALL; do
        src=$(sources "$name")
        echo "CC $OUT/fuzz_$name"
        # shellcheck disable=SC2086 # word splitting of the flag and file lists is intended
        $CC $CFLAGS -o "$OUT/fuzz_$name" "tests/fuzz/fuzz_$name.c" $src $LIBS
    done
}

check() {
    fail=""
    for name in "$@"; do
        sources "$name" >/dev/null
        echo "== check $name"
        # -runs=0 executes every corpus file once and stops.
        if ! "$OUT/fuzz_$name" -runs=0 -timeout=10 "tests/fuzz/corpus/$name" >"$OUT/check_$name.log" 2>&1; then
            cat "$OUT/check_$name.log" >&2
            fail="$fail $name"
        fi
    done
    if [ -n "$fail" ]; then
        echo "fuzz.sh: check FAILED:$fail (logs in $OUT/check_<name>.log)" >&2
        return 1
    fi
    echo "fuzz.sh: check passed ($*)"
}

run() {
    secs=$1
    shift
    fail=""
    work=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-fuzz.XXXXXX")
    trap 'rm -rf "$work"' EXIT INT TERM
    for name in "$@"; do
        sources "$name" >/dev/null
        echo "== run $name for ${secs}s"
        mkdir -p "$work/$name" "$OUT/artifacts/$name"
        # A harness may have a dictionary of its format's tokens: tests/fuzz/<name>.dict.
        dict=""
        [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
        # The first corpus directory receives new inputs: the temporary one. The seeds are only read.
        # shellcheck disable=SC2086 # $dict is empty or one word
        if ! "$OUT/fuzz_$name" -max_total_time="$secs" -timeout=10 -print_final_stats=1 $dict \
            -artifact_prefix="$OUT/artifacts/$name/" \
            "$work/$name" "tests/fuzz/corpus/$name" >"$OUT/run_$name.log" 2>&1; then
            tail -n 60 "$OUT/run_$name.log" >&2
            fail="$fail $name"
        else
            grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' "$OUT/run_$name.log" || true
        fi
    done
    if [ -n "$fail" ]; then
        echo "fuzz.sh: run FOUND PROBLEMS in:$fail (logs in $OUT/run_<name>.log, inputs in $OUT/artifacts/)" >&2
        return 1
    fi
    echo "fuzz.sh: run found nothing ($*, ${secs}s each)"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
build)
    build
    ;;
check)
    build
    # shellcheck disable=SC2086
    check ${*:-$ALL}
    ;;
run)
    secs=30
    if [ $# -gt 0 ]; then
        case "$1" in
        '' | *[!0-9]*) ;;
        *) secs=$1; shift ;;
        esac
    fi
    build
    # shellcheck disable=SC2086
    run "$secs" ${*:-$ALL}
    ;;
*)
    echo "usage: scripts/fuzz.sh [build | check [NAME...] | run [SECONDS] [NAME...]]" >&2
    exit 2
    ;;
esac
