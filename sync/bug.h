// kmc: assertions in driver and model code.
//
//   KMC_ASSERT(cond)  model invariant; a violation fails the execution with
//                     the "assertion failed" verdict.
//   BUG_ON(cond)      the kernel's BUG_ON: "kernel BUG at file:line!".
//   WARN_ON(cond)     the kernel's WARN_ON: also fails the execution (kmc
//                     treats every warning as a bug in the model).

#ifndef KMC_SYNC_BUG_H_
#define KMC_SYNC_BUG_H_

#include <source_location>

namespace kmc::kernel {

[[noreturn]] void kmc_assert_failed(const char* expr, const char* kind,
                                    const std::source_location& loc);

}  // namespace kmc::kernel

#define KMC_ASSERT(cond)                                                   \
  do {                                                                     \
    if (!(cond))                                                           \
      ::kmc::kernel::kmc_assert_failed(#cond, "assert",                    \
                                       std::source_location::current());   \
  } while (0)

#define BUG_ON(cond)                                                       \
  do {                                                                     \
    if (cond)                                                              \
      ::kmc::kernel::kmc_assert_failed(#cond, "BUG_ON",                    \
                                       std::source_location::current());   \
  } while (0)

#define WARN_ON(cond)                                                      \
  ((cond) ? (::kmc::kernel::kmc_assert_failed(#cond, "WARN_ON",            \
                                              std::source_location::current()), \
             true)                                                         \
          : false)

#endif  // KMC_SYNC_BUG_H_
