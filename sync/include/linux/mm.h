/* kmc: <linux/mm.h>: pages and driver mmap (remap_pfn_range). */
#ifndef _KMC_LINUX_MM_H
#define _KMC_LINUX_MM_H
#include <linux/types.h>
#include <linux/gfp.h>
#include <linux/slab.h>
#include <asm/page.h>
typedef struct { unsigned long pgprot; } pgprot_t;
#define VM_READ 0x00000001UL
#define VM_WRITE 0x00000002UL
#define VM_EXEC 0x00000004UL
#define VM_SHARED 0x00000008UL
#define VM_PFNMAP 0x00000400UL
#define VM_IO 0x00004000UL
#define VM_DONTEXPAND 0x00040000UL
#define VM_DONTDUMP 0x04000000UL
struct vm_area_struct;
struct vm_operations_struct {
  void (*open)(struct vm_area_struct *vma);
  void (*close)(struct vm_area_struct *vma);
};
/* Same layout as kmc's C++ struct vm_area_struct (sync/mm.h). */
struct vm_area_struct {
  unsigned long vm_start;
  unsigned long vm_end;
  unsigned long vm_pgoff;
  pgprot_t vm_page_prot;
  unsigned long vm_flags;
  const struct vm_operations_struct *vm_ops;
  void *vm_private_data;
  struct file *vm_file;
  struct kmc_handle __h;
};
#define page_address(p) kmc_c_page_address(p)
#define page_to_pfn(p) kmc_c_page_to_pfn(p)
#define pfn_to_page(pfn) kmc_c_pfn_to_page(pfn)
#define remap_pfn_range(vma, addr, pfn, size, prot) \
  kmc_c_remap_pfn_range((vma), (addr), (pfn), (size), (prot).pgprot, KMC_LOC)
unsigned long virt_to_phys(volatile void *addr)
    __attribute__((error("kmc: virt_to_phys is not modelled; map pages with page_to_pfn(); see docs/CHECK_YOUR_DRIVER.md")));
#endif
