#!/usr/bin/env bash
# Builds every C driver of kmc (each directory under drivers/ with a Kbuild
# file) as a real out-of-tree kernel module, against Debian's kernel headers
# (package linux-headers-amd64, installed by tools/bootstrap.sh):
#
#   make -C /usr/src/linux-headers-<version>-amd64 M=<copy of the driver> modules
#
# The same .c files are what kmc checks (kmc_module in tools/kmc.bzl), so a
# successful build shows that what kmc checks is what the kernel would load.
# Usage: tools/kbuild.sh [driver-dir ...]   (default: every drivers/*/Kbuild and examples/*/Kbuild)
# Prints one line per driver and exits non-zero when one does not build.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

kdir="${KDIR:-}"
if [[ -z "$kdir" ]]; then
  kdir="$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)"
fi
if [[ -z "$kdir" || ! -f "$kdir/Makefile" ]]; then
  echo "kbuild: no kernel headers (install linux-headers-amd64, or set KDIR)" >&2
  exit 2
fi

if (($# > 0)); then
  dirs=("$@")
else
  dirs=()
  for f in drivers/*/Kbuild examples/*/Kbuild; do dirs+=("$(dirname "$f")"); done
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
for d in "${dirs[@]}"; do
  name="$(basename "$d")"
  mkdir -p "$work/$name"
  # A copy: kbuild writes its objects next to the sources.
  cp "$d"/*.c "$d"/Kbuild "$work/$name"/ && cp "$d"/*.h "$work/$name"/ 2>/dev/null
  if make -C "$kdir" M="$work/$name" modules >"$work/$name.log" 2>&1; then
    mods="$(cd "$work/$name" && ls ./*.ko | xargs -n1 basename | tr '\n' ' ')"
    echo "kbuild: $d: ok ($mods)"
  else
    echo "kbuild: $d: FAILED"
    sed 's/^/  /' "$work/$name.log"
    failed=$((failed + 1))
  fi
done
echo "kbuild: $((${#dirs[@]} - failed)) of ${#dirs[@]} drivers built against $(basename "$kdir")"
((failed == 0))
