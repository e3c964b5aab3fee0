/* kmc: <linux/slab.h>. Every block is tracked per execution: use after
 * free, double free, invalid free, out of bounds (a redzone follows every
 * block), data races on its bytes, and kmemleak at the end. With the model
 * option kAllocFailure every allocation may also return NULL. */
#ifndef _KMC_LINUX_SLAB_H
#define _KMC_LINUX_SLAB_H
#include <linux/types.h>
#include <linux/gfp.h>
#include <linux/string.h>
#define kmalloc(size, gfp) kmc_c_kmalloc((size), (gfp), 0, "kmalloc", KMC_LOC)
#define kzalloc(size, gfp) kmc_c_kmalloc((size), (gfp), 1, "kzalloc", KMC_LOC)
#define kmalloc_array(n, size, gfp)                                                  \
  ({                                                                                 \
    size_t __kmc_n = (n), __kmc_s = (size);                                          \
    (__kmc_s != 0 && __kmc_n > (size_t)-1 / __kmc_s)                                 \
        ? (void *)0                                                                  \
        : kmc_c_kmalloc(__kmc_n * __kmc_s, (gfp), 0, "kmalloc_array", KMC_LOC);       \
  })
#define kcalloc(n, size, gfp)                                                        \
  ({                                                                                 \
    size_t __kmc_n = (n), __kmc_s = (size);                                          \
    (__kmc_s != 0 && __kmc_n > (size_t)-1 / __kmc_s)                                 \
        ? (void *)0                                                                  \
        : kmc_c_kmalloc(__kmc_n * __kmc_s, (gfp), 1, "kcalloc", KMC_LOC);             \
  })
#define kfree(p) kmc_c_kfree((p), KMC_LOC)
#define ksize(p) kmc_c_ksize(p)
void *krealloc(const void *p, size_t n, gfp_t gfp)
    __attribute__((error("kmc: krealloc is not available to C drivers yet; see docs/CHECK_YOUR_DRIVER.md")));
struct kmem_cache;
struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
                                     unsigned long flags, void (*ctor)(void *))
    __attribute__((error("kmc: kmem_cache_create is not modelled; use kmalloc; see docs/CHECK_YOUR_DRIVER.md")));
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
    __attribute__((error("kmc: kmem_cache_alloc is not modelled; use kmalloc; see docs/CHECK_YOUR_DRIVER.md")));
void kmem_cache_free(struct kmem_cache *c, void *p)
    __attribute__((error("kmc: kmem_cache_free is not modelled; use kfree; see docs/CHECK_YOUR_DRIVER.md")));
void kmem_cache_destroy(struct kmem_cache *c)
    __attribute__((error("kmc: kmem_cache_destroy is not modelled; see docs/CHECK_YOUR_DRIVER.md")));
void *vmalloc(unsigned long size)
    __attribute__((error("kmc: vmalloc is not modelled; use kmalloc; see docs/CHECK_YOUR_DRIVER.md")));
void vfree(const void *p)
    __attribute__((error("kmc: vfree is not modelled; see docs/CHECK_YOUR_DRIVER.md")));
#endif
