/* kmc: <asm/io.h>. */
#include <linux/mm.h>
