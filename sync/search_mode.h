// kmc: the search modes (no engine, no C++20 library features, so that the
// token decoder can be built on its own, as tools/fuzz does).

#ifndef KMC_SYNC_SEARCH_MODE_H_
#define KMC_SYNC_SEARCH_MODE_H_

#include <cstdint>

namespace kmc {

// kExhaustive: every interleaving up to the reordering of independent steps
// (partial-order reduction); kFull: every interleaving, unreduced; kPct:
// probabilistic concurrency testing (random priorities with d-1 priority
// change points per execution; never a proof).
enum class SearchMode : uint8_t { kExhaustive, kBounded, kRandom, kFull, kPct };
// The bug depth --search=pct aims at when none is given.
inline constexpr int kDefaultPctDepth = 3;
const char* SearchModeName(SearchMode m);

}  // namespace kmc

#endif  // KMC_SYNC_SEARCH_MODE_H_
