// kmc: basic kernel types, error numbers and allocation flags.

#ifndef KMC_SYNC_TYPES_H_
#define KMC_SYNC_TYPES_H_

#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

// Marks user-space pointers, as in the kernel (sparse annotation).
#ifndef __user
#define __user
#endif

// Kernel-internal error numbers user space never sees.
#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#endif
#ifndef ENOIOCTLCMD
#define ENOIOCTLCMD 515
#endif

namespace kmc::kernel {

using Loc = std::source_location;
using loff_t = long long;
using gfp_t = unsigned;
using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;

inline constexpr gfp_t __GFP_ZERO = 0x100u;
inline constexpr gfp_t GFP_KERNEL = 0x1u;  // may sleep
inline constexpr gfp_t GFP_ATOMIC = 0x2u;  // never sleeps
inline constexpr gfp_t GFP_NOWAIT = 0x4u;

inline constexpr unsigned long PAGE_SHIFT = 12;
inline constexpr unsigned long PAGE_SIZE = 1ul << PAGE_SHIFT;

// min()/max() with the kernel's "same type" rule relaxed to the common type.
template <class A, class B>
constexpr std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}
template <class A, class B>
constexpr std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) > static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}
#define min_t(type, a, b) (static_cast<type>(a) < static_cast<type>(b) ? static_cast<type>(a) : static_cast<type>(b))
#define max_t(type, a, b) (static_cast<type>(a) > static_cast<type>(b) ? static_cast<type>(a) : static_cast<type>(b))

// Open-file flags and modes used by the drivers.
inline constexpr unsigned O_ACCMODE_K = 00000003;
#ifndef O_ACCMODE
#define O_ACCMODE 00000003
#endif
inline constexpr unsigned FMODE_READ = 0x1;
inline constexpr unsigned FMODE_WRITE = 0x2;

}  // namespace kmc::kernel

#endif  // KMC_SYNC_TYPES_H_
