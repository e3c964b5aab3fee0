#ifndef _KMC_ASM_GENERIC_ERRNO_H
#define _KMC_ASM_GENERIC_ERRNO_H
#include <asm-generic/errno-base.h>
#define EDEADLK 35
#define ENAMETOOLONG 36
#define ENOSYS 38
#define EWOULDBLOCK EAGAIN
#define ENODATA 61
#define ETIME 62
#define EOVERFLOW 75
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#endif
