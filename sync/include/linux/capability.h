/* kmc: <linux/capability.h>. The model sets the current task's credentials. */
#ifndef _KMC_LINUX_CAPABILITY_H
#define _KMC_LINUX_CAPABILITY_H
#define CAP_DAC_OVERRIDE 1
#define CAP_SYS_ADMIN 21
#define capable(cap) kmc_c_capable(cap)
#endif
