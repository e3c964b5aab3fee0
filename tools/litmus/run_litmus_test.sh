#!/bin/bash
# Runs `kmc litmus` for kmc_litmus_test (tools/kmc.bzl): $1 is the kmc
# binary, the rest its arguments. The exit status is kmc's.
set -u
kmc="$1"
shift
exec "$kmc" "$@"
