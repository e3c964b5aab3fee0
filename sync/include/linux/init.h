/* kmc: <linux/init.h>. */
#ifndef _KMC_LINUX_INIT_H
#define _KMC_LINUX_INIT_H
#include <linux/types.h>
#define __init
#define __exit
#define __initdata
#define __exitdata
#define __devinit
#define __devexit
#endif
