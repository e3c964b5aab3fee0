/* kmc: <linux/vmalloc.h> (vmalloc is not modelled: a compile error at the call). */
#include <linux/slab.h>
