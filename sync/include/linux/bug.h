/* kmc: <linux/bug.h>. */
#ifndef _KMC_LINUX_BUG_H
#define _KMC_LINUX_BUG_H

#include <linux/types.h>

#define BUG() kmc_c_bug("BUG()", "BUG", KMC_LOC)
#define BUG_ON(cond)                                      \
  do {                                                    \
    if (__builtin_expect(!!(cond), 0)) kmc_c_bug(#cond, "BUG_ON", KMC_LOC); \
  } while (0)
#define WARN_ON(cond)                                     \
  ({                                                      \
    int __kmc_c = !!(cond);                               \
    if (__builtin_expect(__kmc_c, 0)) kmc_c_warn(#cond, KMC_LOC); \
    __kmc_c;                                              \
  })
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define WARN(cond, fmt...) WARN_ON(cond)
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), "BUILD_BUG_ON(" #cond ")")

#endif
