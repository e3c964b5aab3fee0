/* kmc: <linux/atomic.h>. Value-returning operations are fully ordered;
 * atomic_read/atomic_set and the void operations are relaxed. */
#ifndef _KMC_LINUX_ATOMIC_H
#define _KMC_LINUX_ATOMIC_H
#include <linux/types.h>
#include <asm/barrier.h>
#define ATOMIC_INIT(i) {(i), {0, 0}}
enum {
  __KMC_ATOMIC_ADD, __KMC_ATOMIC_ADD_RETURN, __KMC_ATOMIC_ADD_AND_TEST_ZERO,
  __KMC_ATOMIC_ADD_NEGATIVE, __KMC_ATOMIC_CMPXCHG, __KMC_ATOMIC_XCHG,
  __KMC_ATOMIC_ADD_UNLESS, __KMC_ATOMIC_DEC_IF_POSITIVE,
};
#define atomic_read(v) kmc_c_atomic_read((v), KMC_LOC)
#define atomic_set(v, i) kmc_c_atomic_set((v), (i), KMC_LOC)
#define atomic_add(i, v) ((void)kmc_c_atomic_op((v), __KMC_ATOMIC_ADD, (i), 0, KMC_LOC))
#define atomic_sub(i, v) ((void)kmc_c_atomic_op((v), __KMC_ATOMIC_ADD, -(i), 0, KMC_LOC))
#define atomic_inc(v) atomic_add(1, v)
#define atomic_dec(v) atomic_sub(1, v)
#define atomic_add_return(i, v) kmc_c_atomic_op((v), __KMC_ATOMIC_ADD_RETURN, (i), 0, KMC_LOC)
#define atomic_sub_return(i, v) kmc_c_atomic_op((v), __KMC_ATOMIC_ADD_RETURN, -(i), 0, KMC_LOC)
#define atomic_inc_return(v) atomic_add_return(1, v)
#define atomic_dec_return(v) atomic_sub_return(1, v)
#define atomic_inc_and_test(v) kmc_c_atomic_op((v), __KMC_ATOMIC_ADD_AND_TEST_ZERO, 1, 0, KMC_LOC)
#define atomic_dec_and_test(v) kmc_c_atomic_op((v), __KMC_ATOMIC_ADD_AND_TEST_ZERO, -1, 0, KMC_LOC)
#define atomic_sub_and_test(i, v) kmc_c_atomic_op((v), __KMC_ATOMIC_ADD_AND_TEST_ZERO, -(i), 0, KMC_LOC)
#define atomic_add_negative(i, v) kmc_c_atomic_op((v), __KMC_ATOMIC_ADD_NEGATIVE, (i), 0, KMC_LOC)
#define atomic_cmpxchg(v, o, n) kmc_c_atomic_op((v), __KMC_ATOMIC_CMPXCHG, (o), (n), KMC_LOC)
#define atomic_xchg(v, n) kmc_c_atomic_op((v), __KMC_ATOMIC_XCHG, (n), 0, KMC_LOC)
#define atomic_add_unless(v, a, u) kmc_c_atomic_op((v), __KMC_ATOMIC_ADD_UNLESS, (a), (u), KMC_LOC)
#define atomic_inc_not_zero(v) atomic_add_unless((v), 1, 0)
#define atomic_dec_if_positive(v) kmc_c_atomic_op((v), __KMC_ATOMIC_DEC_IF_POSITIVE, 0, 0, KMC_LOC)
#endif
