// kmc: source locations of C code as std::source_location.
//
// C call sites (struct kmc_loc records made by the KMC_LOC macro of
// sync/include/kmc/abi.h) and code addresses resolved from debug
// information become std::source_location values, so reports treat C and
// C++ driver lines alike. libstdc++ 12 stores a std::source_location as one
// pointer to a {file, function, line, column} record; LocRecord has that
// layout and FromRecord() builds the value around a record that must live
// for the rest of the process.

#ifndef KMC_SYNC_INTERNAL_C_LOC_H_
#define KMC_SYNC_INTERNAL_C_LOC_H_

#include <cstring>
#include <source_location>
#include <type_traits>

namespace kmc::internal {

struct LocRecord {
  const char* file;
  const char* function;
  unsigned line;
  unsigned column;
};

inline std::source_location FromRecord(const LocRecord* r) {
  static_assert(sizeof(std::source_location) == sizeof(const void*));
  static_assert(std::is_trivially_copyable_v<std::source_location>);
  std::source_location loc;
  if (r != nullptr) std::memcpy(static_cast<void*>(&loc), &r, sizeof r);
  return loc;
}

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_C_LOC_H_
