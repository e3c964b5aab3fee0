/* kmc: <asm/barrier.h>: smp_mb() is a full fence, smp_wmb() a release
 * fence, smp_rmb() an acquire fence; smp_load_acquire()/smp_store_release()
 * are marked accesses with acquire/release order. */
#ifndef _KMC_ASM_BARRIER_H
#define _KMC_ASM_BARRIER_H
#include <linux/compiler.h>
#define smp_mb() kmc_c_barrier(0, KMC_LOC)
#define smp_wmb() kmc_c_barrier(1, KMC_LOC)
#define smp_rmb() kmc_c_barrier(2, KMC_LOC)
#define mb() smp_mb()
#define wmb() smp_wmb()
#define rmb() smp_rmb()
#define smp_mb__before_atomic() kmc_c_barrier(3, KMC_LOC)
#define smp_mb__after_atomic() kmc_c_barrier(4, KMC_LOC)
#define smp_load_acquire(p) __kmc_marked_load(*(p), 1, "smp_load_acquire")
#define smp_store_release(p, v) __kmc_marked_store(*(p), v, 2, "smp_store_release")
#endif
