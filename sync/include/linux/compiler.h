/* kmc: <linux/compiler.h>: likely(), barrier(), READ_ONCE()/WRITE_ONCE().
 *
 * READ_ONCE/WRITE_ONCE (and smp_load_acquire/smp_store_release in
 * <asm/barrier.h>) are marked accesses: one scheduling step each, never a
 * data race with each other (as in KCSAN). */
#ifndef _KMC_LINUX_COMPILER_H
#define _KMC_LINUX_COMPILER_H

#include <linux/types.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() __asm__ __volatile__("" ::: "memory")
#define __always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
#define __must_check __attribute__((__warn_unused_result__))
#define __maybe_unused __attribute__((__unused__))
#define __used __attribute__((__used__))
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __cold __attribute__((__cold__))
#define __section(s) __attribute__((__section__(s)))
#define fallthrough __attribute__((__fallthrough__))
#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)

#define __kmc_marked_load(x, order, op)                                      \
  ({                                                                         \
    __typeof__(x) __kmc_v;                                                   \
    kmc_c_marked_load(&(x), &__kmc_v, sizeof(x), (order), (op), KMC_LOC);    \
    __kmc_v;                                                                 \
  })
#define __kmc_marked_store(x, val, order, op)                                \
  do {                                                                       \
    __typeof__(x) __kmc_v = (val);                                           \
    kmc_c_marked_store(&(x), &__kmc_v, sizeof(x), (order), (op), KMC_LOC);   \
  } while (0)

/* data_race(expr): the value of expr, whose plain accesses are not checked
 * for data races (an intentionally racy read, as KCSAN treats it); use after
 * free and bounds are still checked. */
#define data_race(expr)                                                      \
  ({                                                                         \
    kmc_c_data_race(1);                                                      \
    __auto_type __kmc_dr = (expr);                                           \
    kmc_c_data_race(0);                                                      \
    __kmc_dr;                                                                \
  })

#define READ_ONCE(x) __kmc_marked_load(x, 0, "READ_ONCE")
#define WRITE_ONCE(x, val) __kmc_marked_store(x, val, 0, "WRITE_ONCE")

#endif
