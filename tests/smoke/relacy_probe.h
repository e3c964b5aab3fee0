// Smoke probe for the Relacy toolchain. Deliberately does NOT include Relacy:
// relacy.hpp #defines new, delete, malloc, assert, errno, ... which would
// break GoogleTest and Abseil in the including translation unit.
#pragma once

namespace kmc::smoke {

// Runs two tiny Relacy models under the full-search scheduler: two threads
// doing atomic fetch_add must always reach 2 (no failure), and two threads
// doing a non-atomic load-then-store must lose an update (failure found).
// Returns true when Relacy reports exactly that.
bool RunRelacyProbe();

}  // namespace kmc::smoke
