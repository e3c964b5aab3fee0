/* kmc: <linux/errno.h>, with the kernel-internal codes user space never sees. */
#ifndef _KMC_LINUX_ERRNO_H
#define _KMC_LINUX_ERRNO_H
#include <asm-generic/errno.h>
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ENOIOCTLCMD 515
#endif
