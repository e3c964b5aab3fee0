/* kmc: <linux/gfp.h>. GFP_KERNEL may sleep (checked); GFP_ATOMIC never does. */
#ifndef _KMC_LINUX_GFP_H
#define _KMC_LINUX_GFP_H
#include <linux/types.h>
#define __GFP_ZERO 0x100u
#define GFP_KERNEL 0x1u
#define GFP_ATOMIC 0x2u
#define GFP_NOWAIT 0x4u
#define GFP_USER GFP_KERNEL
struct page;
#define alloc_pages(gfp, order) kmc_c_alloc_pages((gfp), (order), KMC_LOC)
#define alloc_page(gfp) kmc_c_alloc_pages((gfp), 0, KMC_LOC)
#define __free_pages(p, order) kmc_c_free_pages((p), (order), KMC_LOC)
#define __free_page(p) kmc_c_free_pages((p), 0, KMC_LOC)
unsigned long get_zeroed_page(gfp_t gfp)
    __attribute__((error("kmc: get_zeroed_page is not modelled; use alloc_page; see docs/CHECK_YOUR_DRIVER.md")));
unsigned long __get_free_pages(gfp_t gfp, unsigned order)
    __attribute__((error("kmc: __get_free_pages is not modelled; use alloc_pages; see docs/CHECK_YOUR_DRIVER.md")));
#endif
