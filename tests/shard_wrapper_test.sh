#!/bin/bash
# tools/run_model_test.sh (kmc_model_test) under Bazel's test sharding: it
# touches TEST_SHARD_STATUS_FILE, checks part I of N of the search, lets a
# part of a bug model without the failure pass (shard 0 checks the whole
# search), and fails for a model that does not exist.
#   shard_wrapper_test.sh <run_model_test.sh> <kmc>
set -u
wrapper="$1"
kmc="$2"
tmp="${TEST_TMPDIR:-/tmp}"
fail() { echo "FAIL: $*"; exit 1; }

status="$tmp/shard_status"
rm -f "$status"
out="$(TEST_TOTAL_SHARDS=2 TEST_SHARD_INDEX=1 TEST_SHARD_STATUS_FILE="$status" \
  "$wrapper" "$kmc" scull/writers_and_reader)" || fail "shard 1/2 of a clean model: $out"
[[ -f "$status" ]] || fail "TEST_SHARD_STATUS_FILE was not touched"
grep -q '"shard": "1/2"' <<<"$out" || fail "shard 1/2 did not run --shard=1/2: $out"
grep -q '"complete": true' <<<"$out" || fail "shard 1/2 is not complete: $out"

for i in 0 1 2; do
  out="$(TEST_TOTAL_SHARDS=3 TEST_SHARD_INDEX=$i TEST_SHARD_STATUS_FILE="$status" \
    "$wrapper" "$kmc" scullpipe/if_not_while)" || fail "shard $i/3 of a bug model: $out"
done

# Unsharded: the model's own check.
"$wrapper" "$kmc" scull/unlocked_write >/dev/null || fail "unsharded bug model"
# A mismatch fails: a clean model that is made to fail under a tiny depth limit
# is not available here, so an unknown model (a usage error) stands for it.
if TEST_TOTAL_SHARDS=2 TEST_SHARD_INDEX=0 "$wrapper" "$kmc" no/such_model >/dev/null 2>&1; then
  fail "an unknown model passed"
fi
if TEST_TOTAL_SHARDS=2 TEST_SHARD_INDEX=0 "$wrapper" "$kmc" slab/leak --search=random \
    --executions=1 --max_executions=1 >/dev/null 2>&1; then
  fail "a usage error passed"
fi
echo PASS
