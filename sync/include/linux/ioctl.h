/* kmc: <linux/ioctl.h>. */
#include <asm/ioctl.h>
