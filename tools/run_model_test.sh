#!/bin/bash
# One kmc model as a test target (kmc_model_test in tools/kmc.bzl):
#   run_model_test.sh <kmc binary> <model> [kmc check flags...]
#
# Under Bazel's test sharding (shard_count) every shard runs this script with
# TEST_TOTAL_SHARDS and TEST_SHARD_INDEX set; it explores its part of the
# model's search (kmc check --shard=I/N) and passes when that part gives the
# model's expected verdict. The parts are disjoint and together the whole
# search, so a clean model is proved clean when every shard passes. A part
# of a model that expects a bug may hold no failure: then shard 0 checks the
# whole search once (bugs are found early), and any other shard passes.
set -u
kmc="$1"
model="$2"
shift 2
if [[ -n "${TEST_SHARD_STATUS_FILE:-}" ]]; then
  touch "$TEST_SHARD_STATUS_FILE"  # tells Bazel this test shards
fi
total="${TEST_TOTAL_SHARDS:-1}"
index="${TEST_SHARD_INDEX:-0}"
if [[ "$total" -le 1 ]]; then
  exec "$kmc" check "$model" --noprogress "$@"
fi
part="$index/$total"
out="$("$kmc" check "$model" --noprogress --json --shard="$part" "$@")"
status=$?
printf '%s\n' "$out"
if [[ $status -ne 1 ]] || ! grep -q '"verdict": "clean"' <<<"$out" ||
   grep -q '"expected": "clean"' <<<"$out"; then
  exit "$status"  # a match (0), a mismatch the model does not allow (1), or a usage error
fi
if [[ "$index" -ne 0 ]]; then
  echo "shard $part: no failure in this part of the search; shard 0 checks the whole search"
  exit 0
fi
echo "shard $part: no failure in this part of the search; checking the whole search"
exec "$kmc" check "$model" --noprogress "$@"
