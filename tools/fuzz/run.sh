#!/usr/bin/env bash
# Fuzzes kmc's replay-token decoder and flag scanner with libFuzzer for a
# fixed time:  tools/fuzz/run.sh [SECONDS]   (default 60)
# Needs Debian's clang (tools/bootstrap.sh installs it). Builds with
# -fsanitize=fuzzer,address,undefined into a temporary directory, starts from
# tools/fuzz/corpus (seed inputs: first byte 't' = token, 'f' = flags with
# NUL-separated arguments), and prints libFuzzer's summary. Exits non-zero
# when libFuzzer finds a crash (the reproducer is left in the work dir).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seconds="${1:-60}"
work="$(mktemp -d /tmp/kmc-fuzz.XXXXXX)"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. tools/fuzz/token_and_flags_fuzzer.cc sync/token.cc tools/flags.cc -o "$work/fuzzer"
mkdir -p "$work/corpus"
cp tools/fuzz/corpus/* "$work/corpus/"
echo "::: fuzzing for ${seconds} s in $work"
"$work/fuzzer" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" 2>&1 | tail -25
