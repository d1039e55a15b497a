#!/usr/bin/env bash
# Long fuzzing runs by hand, beyond the bounded ones `swift test` makes (docs/RELIABILITY.md).
#
#   scripts/fuzz.sh seeds FIRST LAST OPS [THREADS]
#       the seeded random-sequence tester (Tests/programs/fuzz_sequences.c) under hakmem, once per
#       seed from FIRST to LAST; stops at the first failing seed and prints how to reproduce it.
#   scripts/fuzz.sh libfuzzer [SECONDS]
#       the libFuzzer harness (Tests/fuzz/libfuzzer_ops.c, clang -fsanitize=fuzzer) under hakmem,
#       starting from Tests/fuzz/corpus; new inputs go to .build/fuzz/corpus, crashes to .build/fuzz/.
#
# Uses .build/release/libhakmem.so (run `swift build -c release` first) or $HAKMEM_LIBRARY.
set -euo pipefail
cd "$(dirname "$0")/.."
library="$(realpath "${HAKMEM_LIBRARY:-.build/release/libhakmem.so}")"
[ -f "$library" ] || { echo "fuzz.sh: $library not found; run swift build -c release" >&2; exit 2; }
mkdir -p .build/fuzz

case "${1:-}" in
seeds)
  [ $# -ge 4 ] || { echo "usage: scripts/fuzz.sh seeds FIRST LAST OPS [THREADS]" >&2; exit 2; }
  first=$2 last=$3 ops=$4 threads=${5:-1}
  cc -O2 -pthread -o .build/fuzz/fuzz_sequences Tests/programs/fuzz_sequences.c
  start=$(date +%s)
  for seed in $(seq "$first" "$last"); do
    if ! LD_PRELOAD="$library" .build/fuzz/fuzz_sequences "$seed" "$ops" "$threads" > .build/fuzz/last.txt 2>&1; then
      cat .build/fuzz/last.txt
      echo "fuzz.sh: seed $seed failed; reproduce: LD_PRELOAD=$library .build/fuzz/fuzz_sequences $seed $ops $threads" \
           "(FUZZ_TRACE=1 prints each operation)" >&2
      exit 1
    fi
  done
  echo "fuzz.sh: seeds $first..$last, $ops operations x $threads thread(s) each: no failure in $(( $(date +%s) - start )) s"
  ;;
libfuzzer)
  seconds=${2:-600}
  clang -O1 -g -fsanitize=fuzzer -o .build/fuzz/libfuzzer_ops Tests/fuzz/libfuzzer_ops.c
  mkdir -p .build/fuzz/corpus
  LD_PRELOAD="$library" .build/fuzz/libfuzzer_ops -max_total_time="$seconds" -max_len=4096 \
    -artifact_prefix=.build/fuzz/ .build/fuzz/corpus Tests/fuzz/corpus
  ;;
*)
  echo "usage: scripts/fuzz.sh seeds FIRST LAST OPS [THREADS] | libfuzzer [SECONDS]" >&2
  exit 2
  ;;
esac
