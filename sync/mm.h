// kmc: memory mapping for drivers (include/linux/mm.h, mm/memory.c
// remap_pfn_range; Documentation/driver-api and LDD3 chapter 15).
//
// Defines struct vm_area_struct and struct vm_operations_struct,
// remap_pfn_range(), pfn_to_page(), and the model side of a mapping:
// kmc::UserMapping, a user process touching (or unmapping) the memory a
// driver's mmap() mapped.
//
// remap_pfn_range() installs page-table entries for raw page frames and, as
// in the kernel, takes no reference on the pages: freeing a page that is
// still mapped leaves user space with a dangling mapping. kmc records every
// entry (user address -> page frame -> kernel page), so a user access
// through the mapping to a page that has been freed is reported as a use
// after free ("kmc: use-after-free through a user mapping"), where the kernel
// would silently hand the process a recycled frame.
//
// Page frame numbers: page_to_pfn() is a macro here, as in the kernel; it
// also remembers which struct page a frame number belongs to, so
// remap_pfn_range(vma, addr, page_to_pfn(page), ...) and pfn_to_page() know
// the page behind a frame. Frames that never went through page_to_pfn()
// (physical addresses, vm_pgoff) are mapped but not checked.
//
// Context: remap_pfn_range() is called from a driver's mmap() with
// mmap_lock held, in process context; it may sleep (page-table allocation,
// might_sleep() is checked). Each call and each user access is one
// scheduling step. Memory ordering: none (a user access through a mapping is
// not race-checked: concurrent user accesses to shared memory are not kernel
// bugs).

#ifndef KMC_SYNC_MM_H_
#define KMC_SYNC_MM_H_

#include "sync/internal/handle.h"
#include "sync/slab.h"
#include "sync/types.h"

namespace kmc::kernel {

struct pgprot_t {
  unsigned long pgprot;
};
inline constexpr pgprot_t PAGE_SHARED{0x67};  // present, rw, user, accessed, dirty
inline constexpr pgprot_t PAGE_READONLY{0x25};

// vm_flags.
inline constexpr unsigned long VM_READ = 0x00000001;
inline constexpr unsigned long VM_WRITE = 0x00000002;
inline constexpr unsigned long VM_EXEC = 0x00000004;
inline constexpr unsigned long VM_SHARED = 0x00000008;
inline constexpr unsigned long VM_PFNMAP = 0x00000400;
inline constexpr unsigned long VM_IO = 0x00004000;
inline constexpr unsigned long VM_DONTEXPAND = 0x00040000;
inline constexpr unsigned long VM_DONTDUMP = 0x04000000;

struct vm_area_struct;

// open() runs when a mapping is duplicated (fork, split; not at mmap()),
// close() when it is unmapped.
struct vm_operations_struct {
  void (*open)(vm_area_struct *vma);
  void (*close)(vm_area_struct *vma);
};

struct vm_area_struct {
  unsigned long vm_start;  // first user address
  unsigned long vm_end;    // first user address after the mapping
  unsigned long vm_pgoff;  // offset in the file, in pages
  pgprot_t vm_page_prot;
  unsigned long vm_flags;
  const vm_operations_struct *vm_ops;
  void *vm_private_data;
  struct file *vm_file;
  mutable internal::Handle h;  // the page-table entries kmc recorded
};

// Maps [addr, addr + size) of the vma to the frames pfn, pfn + 1, ...
// Return: 0, or -EINVAL when addr/size are not page aligned or the range is
// not inside the vma (kmc also reports the latter: mapping past vm_end is a
// driver bug). Mapping a frame whose page was already freed is reported as a
// use after free.
int remap_pfn_range(vm_area_struct *vma, unsigned long addr, unsigned long pfn,
                    unsigned long size, pgprot_t prot, const Loc &loc = Loc::current());

// The struct page of a frame number page_to_pfn() returned, or NULL.
struct page *pfn_to_page(unsigned long pfn);

namespace detail {
unsigned long PageToPfn(const struct page *p);
}  // namespace detail

}  // namespace kmc::kernel

// page_to_pfn(page): the frame number of a page (sync/slab.h), remembered
// for pfn_to_page() and remap_pfn_range().
#define page_to_pfn(p) ::kmc::kernel::detail::PageToPfn(p)

namespace kmc {

// A user process's view of a mapping a driver set up in its mmap().
class UserMapping {
 public:
  // A VMA as mmap(2) would hand it to the driver: `len` bytes (rounded up to
  // whole pages) at a fixed user address, for file offset `pgoff` pages.
  static kernel::vm_area_struct Vma(unsigned long len, unsigned long pgoff = 0,
                                    unsigned long flags = kernel::VM_READ | kernel::VM_WRITE |
                                                          kernel::VM_SHARED);
  // Reads the byte at `offset` from the start of the mapping. Returns it
  // (0..255), or -EFAULT when nothing is mapped there (SIGBUS in a process).
  // A page that was freed while mapped is a use after free.
  static int read_byte(const kernel::vm_area_struct *vma, unsigned long offset,
                       const kernel::Loc &loc = kernel::Loc::current());
  // Writes one byte; returns 0 or -EFAULT, like read_byte().
  static int write_byte(const kernel::vm_area_struct *vma, unsigned long offset,
                        unsigned char value, const kernel::Loc &loc = kernel::Loc::current());
  // True when a page is mapped at `offset`.
  static bool mapped(const kernel::vm_area_struct *vma, unsigned long offset);
  // munmap(2): calls vma->vm_ops->close (if any) and drops every entry.
  static void munmap(kernel::vm_area_struct *vma, const kernel::Loc &loc = kernel::Loc::current());
};

}  // namespace kmc

#endif  // KMC_SYNC_MM_H_
