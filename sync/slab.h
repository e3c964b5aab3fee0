// kmc: kmalloc and page allocation (include/linux/slab.h, gfp.h).
//
// Every allocation is tracked for the execution that made it:
//   * kfree() of a freed object:          BUG: KASAN: double-free
//   * kfree() of a pointer not from kmalloc (or of a page): BUG: KASAN: invalid-free
//   * an access to a freed object:        BUG: KASAN: use-after-free
//   * an access beyond the object:        BUG: KASAN: slab-out-of-bounds
//   * an object still allocated after the model's final check: kmemleak
// Freed memory is poisoned (0x6b) and not reused within an execution.
// kmalloc() memory is poisoned with 0x5a (kzalloc() zeroes).
//
// Context: GFP_KERNEL may sleep (might_sleep() is checked); GFP_ATOMIC never
// sleeps. With kAllocFailure enabled in the model, every allocation may also
// fail (return NULL) and the engine explores both outcomes.
// Allocations are not scheduling points: the allocator shares nothing with
// driver state (with fine-grained interleaving, Model::FineGrained, every
// allocation and free is one, so a task may be switched away between a
// check and the allocation it decides).

#ifndef KMC_SYNC_SLAB_H_
#define KMC_SYNC_SLAB_H_

#include <cstddef>
#include <type_traits>
#include <typeinfo>

#include "sync/types.h"

namespace kmc::kernel {

namespace detail {
// Tells the runtime the type an allocation is used as (reports name its
// fields, sync/internal/debuginfo.h). Only recorded while a failing
// execution is re-run for its report.
void TypeAllocation(const void* p, const std::type_info& type, size_t size);
}  // namespace detail

// The result of kmalloc(): converts to any object pointer, like void* in C.
// The conversion records the pointer's type for reports.
class KPtr {
 public:
  explicit KPtr(void* p) : p_(p) {}
  template <class T>
  operator T*() const {  // NOLINT
    if constexpr (!std::is_void_v<T>) {
      if (p_ != nullptr) detail::TypeAllocation(p_, typeid(T), sizeof(T));
    }
    return static_cast<T*>(p_);
  }
  explicit operator bool() const { return p_ != nullptr; }
  bool operator!() const { return p_ == nullptr; }
  void* get() const { return p_; }

 private:
  void* p_;
};

KPtr kmalloc(size_t size, gfp_t flags, const Loc& loc = Loc::current());
KPtr kzalloc(size_t size, gfp_t flags, const Loc& loc = Loc::current());
KPtr kcalloc(size_t n, size_t size, gfp_t flags, const Loc& loc = Loc::current());
KPtr kmalloc_array(size_t n, size_t size, gfp_t flags, const Loc& loc = Loc::current());
KPtr krealloc(const void* p, size_t new_size, gfp_t flags, const Loc& loc = Loc::current());
void kfree(const void* p, const Loc& loc = Loc::current());
// Size of the object p points into (ksize()).
size_t ksize(const void* p);

// Pages. struct page describes one PAGE_SIZE page; page_address() is its
// kernel virtual address.
struct page {
  void* virt;
  unsigned long pfn;
};
page* alloc_page(gfp_t flags, const Loc& loc = Loc::current());
page* alloc_pages(gfp_t flags, unsigned order, const Loc& loc = Loc::current());
void __free_page(page* p, const Loc& loc = Loc::current());
void __free_pages(page* p, unsigned order, const Loc& loc = Loc::current());
void* page_address(const page* p);
unsigned long page_to_pfn(const page* p);

// memcpy/memset over kernel memory, checked for use after free, bounds and
// data races (std::memcpy/std::memset stay unchecked).
void* kmc_memcpy(void* dst, const void* src, size_t n, const Loc& loc = Loc::current());
void* kmc_memset(void* dst, int c, size_t n, const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_SLAB_H_
