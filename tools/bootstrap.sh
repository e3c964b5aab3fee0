#!/usr/bin/env bash
# Installs the Debian packages kmc needs to build and test offline, then
# checks that Bazel runs. Idempotent: installs (and runs apt-get update)
# only when something is missing. Works as root, or through sudo otherwise.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap    # Bazel 4.2.3 at /usr/bin/bazel (pulls in a JDK)
  bazel-rules-java   # /usr/share/bazel/rules/java, used as @rules_java
  g++                # GCC 12
  clang              # clang 14: tools/fuzz/run.sh (libFuzzer), --config=clang
  relacy-dev         # /usr/include/relacy
  libabsl-dev        # Abseil 20220623, static libabsl_*.a
  libgtest-dev       # GoogleTest 1.12.1
  libgmock-dev       # GoogleMock 1.12.1
  googletest         # GoogleTest sources
  libbenchmark-dev   # Google Benchmark 1.7.1
  libdw-dev          # elfutils libdw: C access lines; struct field names in reports
  linux-headers-amd64  # tools/kbuild.sh builds the C drivers as real modules
  chromium           # headless browser for tests/browser_test.cc (skipped when missing)
)

log() { echo "kmc bootstrap: $*"; }

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} packages present"
else
  log "installing: ${missing[*]}"
  if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    log "not root and no sudo: install these as root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  log "installed ${#missing[@]} of ${#PACKAGES[@]} packages"
fi

if ! command -v bazel >/dev/null 2>&1; then
  log "bazel not on PATH after install" >&2
  exit 1
fi
if ! bazel_version="$(bazel --version 2>&1)"; then
  log "bazel does not run: $bazel_version" >&2
  exit 1
fi
log "bazel ok ($(command -v bazel): $bazel_version)"
