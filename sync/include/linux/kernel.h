/* kmc: <linux/kernel.h>: printk, container_of, min/max, BUG_ON/WARN_ON.
 *
 * BUG()/BUG_ON() end the execution with "kernel BUG at file:line!"; a
 * WARN_ON() that fires is reported too (kmc treats every warning as a bug). */
#ifndef _KMC_LINUX_KERNEL_H
#define _KMC_LINUX_KERNEL_H

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/printk.h>
#include <linux/bug.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ALIGN(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define INT_MAX ((int)(~0U >> 1))
#define UINT_MAX (~0U)
#define LONG_MAX ((long)(~0UL >> 1))
#define ULONG_MAX (~0UL)

#define container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

#define min(x, y)                        \
  ({                                     \
    __typeof__(x) __kmc_x = (x);         \
    __typeof__(y) __kmc_y = (y);         \
    (void)(&__kmc_x == &__kmc_y);        \
    __kmc_x < __kmc_y ? __kmc_x : __kmc_y; \
  })
#define max(x, y)                        \
  ({                                     \
    __typeof__(x) __kmc_x = (x);         \
    __typeof__(y) __kmc_y = (y);         \
    (void)(&__kmc_x == &__kmc_y);        \
    __kmc_x > __kmc_y ? __kmc_x : __kmc_y; \
  })
#define min_t(type, x, y)                  \
  ({                                       \
    type __kmc_x = (x);                    \
    type __kmc_y = (y);                    \
    __kmc_x < __kmc_y ? __kmc_x : __kmc_y; \
  })
#define max_t(type, x, y)                  \
  ({                                       \
    type __kmc_x = (x);                    \
    type __kmc_y = (y);                    \
    __kmc_x > __kmc_y ? __kmc_x : __kmc_y; \
  })
#define clamp(v, lo, hi) min(max(v, lo), hi)

int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sprintf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int scnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((error("kmc: scnprintf is not modelled; see docs/CHECK_YOUR_DRIVER.md")));
int kstrtoint(const char *s, unsigned base, int *res)
    __attribute__((error("kmc: kstrtoint is not modelled; see docs/CHECK_YOUR_DRIVER.md")));

#endif
