#!/usr/bin/env bash
# Builds the libFuzzer harnesses in tests/fuzz with clang (ASan+UBSan) into
# build-fuzz/, then either checks them over their seed corpora or fuzzes.
#   scripts/fuzz.sh check          each harness over its corpus only
#   scripts/fuzz.sh run [SECONDS]  fuzz each harness (default 30 s)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
secs=${2:-30}
out=build-fuzz
mkdir -p "$out"
CORE="src/core/tokfmt.c src/core/duration.c src/core/rfc3339.c src/core/expiry.c src/core/errors.c src/lib/str.c"
for f in tests/fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -Isrc \
    "$f" $CORE -lcrypto -o "$out/$name"
done
status=0
for f in tests/fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  corpus=tests/fuzz/corpus/${name#fuzz_}
  if [ "$mode" = run ]; then
    work=$(mktemp -d)
    "$out/$name" -max_total_time="$secs" -print_final_stats=1 "$work" "$corpus" || status=1
    rm -rf "$work"
  else
    "$out/$name" -runs=0 "$corpus" >/dev/null 2>&1 || { echo "fuzz: $name failed on its corpus"; status=1; }
  fi
done
[ $status -eq 0 ] && echo "fuzz: all harnesses passed ($mode)"
exit $status
