// kmc: remap_pfn_range() and user mappings (mm/memory.c).

#include "sync/mm.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "sync/internal/runtime.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;

// Every page whose frame number page_to_pfn() handed out in this execution.
struct FrameTable : internal::ObjectState {
  std::map<unsigned long, struct page *> pages;
};
internal::Handle g_frames{0, 0};

FrameTable &Frames() { return Runtime::Get().Object<FrameTable>(g_frames); }

// One page-table entry of a VMA.
struct Pte {
  unsigned long pfn = 0;
  struct page *pg = nullptr;  // NULL: a frame kmc knows nothing about
  char *kaddr = nullptr;      // the kernel address of the frame
  Loc where;
};

struct VmaState : internal::ObjectState {
  std::map<unsigned long, Pte> ptes;  // by user page address
};

VmaState &Vma(const vm_area_struct *vma) { return Runtime::Get().Object<VmaState>(vma->h); }

std::string Hex(unsigned long v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%lx", v);
  return buf;
}

// The kernel address behind frame `pfn`, and its page (NULL when unknown).
char *FrameAddress(unsigned long pfn, struct page **pg) {
  FrameTable &f = Frames();
  *pg = nullptr;
  auto it = f.pages.upper_bound(pfn);
  if (it == f.pages.begin()) return nullptr;
  --it;
  struct page *p = it->second;
  const unsigned long k = pfn - it->first;
  Runtime &rt = Runtime::Get();
  const size_t size = rt.BlockSize(p->virt);
  if ((k + 1) * PAGE_SIZE > std::max<size_t>(size, PAGE_SIZE)) return nullptr;
  *pg = p;
  return static_cast<char *>(p->virt) + k * PAGE_SIZE;
}

[[noreturn]] void FreedFrame(const internal::Block &b, const std::string &what, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  rt.Fail(Verdict::kUseAfterFree,
          "kmc: use-after-free through a user mapping: page #" + std::to_string(b.seq) +
              " was freed while still mapped",
          what + " by " + rt.Who() + " at " + internal::FormatLoc(loc) + "\npage #" +
              std::to_string(b.seq) + " allocated by " + rt.Who(b.alloc_task) +
              ":\n  alloc_page at " + internal::FormatLoc(b.alloc_loc) + "\nfreed by " +
              rt.Who(b.free_task) + ":\n  __free_page at " + internal::FormatLoc(b.free_loc) +
              "\nremap_pfn_range() takes no reference on the page: the user mapping still "
              "points at the freed frame\n",
          loc);
}

// The entry behind a user access, or nullptr (nothing mapped there).
Pte *Lookup(const vm_area_struct *vma, unsigned long offset) {
  if (offset >= vma->vm_end - vma->vm_start) return nullptr;
  VmaState &v = Vma(vma);
  auto it = v.ptes.find((vma->vm_start + offset) & ~(PAGE_SIZE - 1));
  return it == v.ptes.end() ? nullptr : &it->second;
}

// Checks the frame of a user access is still alive; returns its byte.
char *UserByte(const vm_area_struct *vma, unsigned long offset, bool write, const Loc &loc) {
  Pte *pte = Lookup(vma, offset);
  if (pte == nullptr || pte->kaddr == nullptr) return nullptr;
  Runtime &rt = Runtime::Get();
  char *const byte = pte->kaddr + ((vma->vm_start + offset) & (PAGE_SIZE - 1));
  if (const internal::Block *b = rt.TouchMemory(byte, 1, write); b != nullptr && b->freed) {
    FreedFrame(*b,
               std::string(write ? "user write" : "user read") + " at offset " +
                   std::to_string(offset) + " of the mapping (user " +
                   Hex(vma->vm_start + offset) + ", pfn " + std::to_string(pte->pfn) +
                   ", mapped by remap_pfn_range at " + internal::FormatLoc(pte->where) + ")",
               loc);
  }
  return byte;
}

}  // namespace

namespace detail {

unsigned long PageToPfn(const struct page *p) {
  const unsigned long pfn = (page_to_pfn)(p);
  if (p != nullptr && internal::InSimulation()) Frames().pages[pfn] = const_cast<struct page *>(p);
  return pfn;
}

}  // namespace detail

struct page *pfn_to_page(unsigned long pfn) {
  FrameTable &f = Frames();
  auto it = f.pages.find(pfn);
  return it == f.pages.end() ? nullptr : it->second;
}

int remap_pfn_range(vm_area_struct *vma, unsigned long addr, unsigned long pfn,
                    unsigned long size, pgprot_t prot, const Loc &loc) {
  (void)prot;
  Runtime &rt = Runtime::Get();
  rt.MightSleep("remap_pfn_range", loc);
  rt.Step(vma, "remap_pfn_range", "", Access::kWrite, loc);
  internal::AtomicSection section;
  if ((addr & (PAGE_SIZE - 1)) != 0 || (size & (PAGE_SIZE - 1)) != 0 || size == 0) {
    return -EINVAL;
  }
  if (addr < vma->vm_start || addr + size > vma->vm_end || addr + size < addr) {
    rt.Fail(Verdict::kOutOfBounds,
            "kmc: remap_pfn_range() outside the vma in " + internal::ShortFunction(loc),
            "remap_pfn_range(vma, " + Hex(addr) + ", pfn " + std::to_string(pfn) + ", " +
                Hex(size) + ") at " + internal::FormatLoc(loc) + " by " + rt.Who() +
                "\nmaps [" + Hex(addr) + ", " + Hex(addr + size) + ") but the vma is [" +
                Hex(vma->vm_start) + ", " + Hex(vma->vm_end) + ")\n",
            loc);
  }
  vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
  VmaState &v = Vma(vma);
  for (unsigned long k = 0; k < size / PAGE_SIZE; ++k) {
    Pte pte;
    pte.pfn = pfn + k;
    pte.kaddr = FrameAddress(pfn + k, &pte.pg);
    pte.where = loc;
    if (pte.kaddr != nullptr) {
      // Read for the reduced search: ordered against the page's free.
      if (const internal::Block *b = rt.TouchMemory(pte.kaddr, 1, false);
          b != nullptr && b->freed) {
        FreedFrame(*b, "remap_pfn_range() of pfn " + std::to_string(pfn + k), loc);
      }
    }
    v.ptes[addr + k * PAGE_SIZE] = pte;
  }
  rt.Note(
      [&] {
        return "remap_pfn_range: user " + Hex(addr) + ".." + Hex(addr + size) + " -> pfn " +
               std::to_string(pfn);
      },
      loc);
  return 0;
}

}  // namespace kmc::kernel

namespace kmc {

using kernel::vm_area_struct;

vm_area_struct UserMapping::Vma(unsigned long len, unsigned long pgoff, unsigned long flags) {
  constexpr unsigned long kUserBase = 0x7f0000000000ul;
  const unsigned long pages = (len + kernel::PAGE_SIZE - 1) / kernel::PAGE_SIZE;
  vm_area_struct vma{};
  vma.vm_start = kUserBase;
  vma.vm_end = kUserBase + pages * kernel::PAGE_SIZE;
  vma.vm_pgoff = pgoff;
  vma.vm_page_prot = kernel::PAGE_SHARED;
  vma.vm_flags = flags;
  return vma;
}

int UserMapping::read_byte(const vm_area_struct *vma, unsigned long offset,
                           const kernel::Loc &loc) {
  internal::Runtime &rt = internal::Runtime::Get();
  rt.Step(vma, "user read through mmap", "", internal::Access::kRead, loc);
  internal::AtomicSection section;
  const char *p = kernel::UserByte(vma, offset, false, loc);
  if (p == nullptr) return -EFAULT;
  return static_cast<unsigned char>(*p);
}

int UserMapping::write_byte(const vm_area_struct *vma, unsigned long offset, unsigned char value,
                            const kernel::Loc &loc) {
  internal::Runtime &rt = internal::Runtime::Get();
  rt.Step(vma, "user write through mmap", "", internal::Access::kWrite, loc);
  internal::AtomicSection section;
  char *p = kernel::UserByte(vma, offset, true, loc);
  if (p == nullptr) return -EFAULT;
  *p = static_cast<char>(value);
  return 0;
}

bool UserMapping::mapped(const vm_area_struct *vma, unsigned long offset) {
  return kernel::Lookup(vma, offset) != nullptr;
}

void UserMapping::munmap(vm_area_struct *vma, const kernel::Loc &loc) {
  internal::Runtime &rt = internal::Runtime::Get();
  rt.Step(vma, "munmap", "", internal::Access::kWrite, loc);
  if (vma->vm_ops != nullptr && vma->vm_ops->close != nullptr) vma->vm_ops->close(vma);
  internal::AtomicSection section;
  kernel::Vma(vma).ptes.clear();
}

}  // namespace kmc
