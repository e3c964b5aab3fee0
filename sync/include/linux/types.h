/* kmc: <linux/types.h> for drivers checked by kmc (see docs/CHECK_YOUR_DRIVER.md). */
#ifndef _KMC_LINUX_TYPES_H
#define _KMC_LINUX_TYPES_H

#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>
#include "kmc/abi.h"

typedef __INT8_TYPE__ int8_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __INT16_TYPE__ int16_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef __INTPTR_TYPE__ intptr_t;
typedef int8_t s8;
typedef uint8_t u8;
typedef int16_t s16;
typedef uint16_t u16;
typedef int32_t s32;
typedef uint32_t u32;
typedef int64_t s64;
typedef uint64_t u64;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s32 __s32;
typedef long ssize_t;
typedef kmc_loff_t loff_t;
typedef kmc_dev_t dev_t;
typedef unsigned int gfp_t;
typedef unsigned int fmode_t;
typedef unsigned short umode_t;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned long phys_addr_t;

#define __user
#define __iomem
#define __kernel
#define __force
#define __rcu

/* struct list_head, hlist_head, hlist_node: kmc/abi.h (C++ reads them too). */

#endif
