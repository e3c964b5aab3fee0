// kmc: the handle a kernel object keeps to its per-execution engine state.

#ifndef KMC_SYNC_INTERNAL_HANDLE_H_
#define KMC_SYNC_INTERNAL_HANDLE_H_

#include <cstdint>

namespace kmc::internal {

// Zero-initialized or poisoned handles are simply unregistered; the runtime
// creates the state the first time an execution touches the object.
struct Handle {
  uint32_t epoch;
  uint32_t index;
};

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_HANDLE_H_
