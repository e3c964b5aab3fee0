/* kmc: <linux/uaccess.h>. copy_to_user()/copy_from_user() return the bytes
 * NOT copied; get_user()/put_user() return 0 or -EFAULT. They may sleep
 * (checked). With kUserFault a copy may copy all, part or nothing. */
#ifndef _KMC_LINUX_UACCESS_H
#define _KMC_LINUX_UACCESS_H
#include <linux/types.h>
#include <linux/errno.h>
#define copy_to_user(to, from, n) kmc_c_copy_to_user((to), (from), (n), KMC_LOC)
#define copy_from_user(to, from, n) kmc_c_copy_from_user((to), (from), (n), KMC_LOC)
#define raw_copy_to_user copy_to_user
#define raw_copy_from_user copy_from_user
#define get_user(x, ptr)                                                          \
  ({                                                                              \
    __typeof__(*(ptr)) __kmc_v;                                                   \
    int __kmc_r = kmc_c_get_user(&__kmc_v, (ptr), sizeof(*(ptr)), KMC_LOC);       \
    (x) = __kmc_r ? (__typeof__(*(ptr)))0 : __kmc_v;                              \
    __kmc_r;                                                                      \
  })
#define put_user(x, ptr)                                                          \
  ({                                                                              \
    __typeof__(*(ptr)) __kmc_v = (x);                                             \
    kmc_c_put_user(&__kmc_v, (ptr), sizeof(*(ptr)), KMC_LOC);                     \
  })
#define __get_user get_user
#define __put_user put_user
/* Every non-NULL user range is accessible; faults are explored by the copies. */
#define access_ok(addr, size) ((addr) != 0)
#endif
