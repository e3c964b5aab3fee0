/* kmc: <linux/bitops.h>. Atomic bit operations on plain unsigned long words
 * are not available to C drivers yet (the C++ API has them on AtomicBitmap):
 * each use is a compile error rather than an unchecked stub. */
#ifndef _KMC_LINUX_BITOPS_H
#define _KMC_LINUX_BITOPS_H
#include <linux/types.h>
#define BIT(n) (1UL << (n))
#define BITS_PER_LONG 64
#define __KMC_NO_BITOPS(f) \
  __attribute__((error("kmc: " #f " on a plain word is not modelled for C drivers yet; see docs/CHECK_YOUR_DRIVER.md")))
void set_bit(long nr, volatile unsigned long *addr) __KMC_NO_BITOPS(set_bit);
void clear_bit(long nr, volatile unsigned long *addr) __KMC_NO_BITOPS(clear_bit);
void change_bit(long nr, volatile unsigned long *addr) __KMC_NO_BITOPS(change_bit);
int test_bit(long nr, const volatile unsigned long *addr) __KMC_NO_BITOPS(test_bit);
int test_and_set_bit(long nr, volatile unsigned long *addr) __KMC_NO_BITOPS(test_and_set_bit);
int test_and_clear_bit(long nr, volatile unsigned long *addr) __KMC_NO_BITOPS(test_and_clear_bit);
#endif
