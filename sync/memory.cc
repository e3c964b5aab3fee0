// kmc: kmalloc, pages, user copies and Shared<T> checks.

#include <cstring>
#include <string>

#include "sync/internal/runtime.h"
#include "sync/shared.h"
#include "sync/slab.h"
#include "sync/uaccess.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;

bool MayFail(const Loc& loc, const char* what) {
  Runtime& rt = Runtime::Get();
  if (!rt.running() || !(rt.nondet() & kAllocFailure)) return false;
  if (internal::Choose(2) == 0) return false;
  rt.Note(std::string(what) + " fails (injected): returns NULL", loc);
  return true;
}

void* AllocCommon(size_t size, gfp_t flags, bool zero, const char* fn, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  if (!(flags & (GFP_ATOMIC | GFP_NOWAIT))) rt.MightSleep(fn, loc);
  if (MayFail(loc, fn)) return nullptr;
  return rt.Allocate(size, zero || (flags & __GFP_ZERO), false, loc);
}

struct PageState : internal::ObjectState {
  page desc;
};

}  // namespace

KPtr kmalloc(size_t size, gfp_t flags, const Loc& loc) {
  return KPtr(AllocCommon(size, flags, false, "kmalloc", loc));
}

KPtr kzalloc(size_t size, gfp_t flags, const Loc& loc) {
  return KPtr(AllocCommon(size, flags, true, "kzalloc", loc));
}

KPtr kcalloc(size_t n, size_t size, gfp_t flags, const Loc& loc) {
  if (size != 0 && n > SIZE_MAX / size) return KPtr(nullptr);
  return KPtr(AllocCommon(n * size, flags, true, "kcalloc", loc));
}

KPtr kmalloc_array(size_t n, size_t size, gfp_t flags, const Loc& loc) {
  if (size != 0 && n > SIZE_MAX / size) return KPtr(nullptr);
  return KPtr(AllocCommon(n * size, flags, false, "kmalloc_array", loc));
}

KPtr krealloc(const void* p, size_t new_size, gfp_t flags, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  if (p != nullptr && new_size == 0) {
    rt.Free(p, false, "krealloc", loc);
    return KPtr(nullptr);
  }
  void* q = AllocCommon(new_size, flags, false, "krealloc", loc);
  if (q == nullptr) return KPtr(nullptr);  // the old object stays valid
  if (p != nullptr) {
    const size_t old = rt.BlockSize(p);
    rt.CheckKernelRange(p, min(old, new_size), false, "krealloc", loc);
    std::memcpy(q, p, min(old, new_size));
    rt.Free(p, false, "krealloc", loc);
  }
  return KPtr(q);
}

void kfree(const void* p, const Loc& loc) { Runtime::Get().Free(p, false, "kfree", loc); }

size_t ksize(const void* p) { return Runtime::Get().BlockSize(p); }

page* alloc_pages(gfp_t flags, unsigned order, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  if (!(flags & (GFP_ATOMIC | GFP_NOWAIT))) rt.MightSleep("alloc_pages", loc);
  if (MayFail(loc, "alloc_page")) return nullptr;
  // MAX_ORDER: larger requests fail, as in the kernel.
  if (order > 10) return nullptr;
  void* mem = rt.Allocate(PAGE_SIZE << order, (flags & __GFP_ZERO) != 0, true, loc);
  if (mem == nullptr) return nullptr;
  internal::Handle h{0, 0};
  PageState& s = rt.Object<PageState>(h);
  s.desc.virt = mem;
  s.desc.pfn = h.index;
  return &s.desc;
}

page* alloc_page(gfp_t flags, const Loc& loc) { return alloc_pages(flags, 0, loc); }

void __free_pages(page* p, unsigned order, const Loc& loc) {
  (void)order;
  if (p == nullptr) return;
  Runtime::Get().Free(p->virt, true, "__free_page", loc);
}

void __free_page(page* p, const Loc& loc) { __free_pages(p, 0, loc); }

void* page_address(const page* p) { return p ? p->virt : nullptr; }
unsigned long page_to_pfn(const page* p) { return p ? p->pfn : 0; }

void* kmc_memcpy(void* dst, const void* src, size_t n, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.CheckKernelRange(src, n, false, "memcpy", loc);
  rt.CheckKernelRange(dst, n, true, "memcpy", loc);
  return std::memcpy(dst, src, n);
}

void* kmc_memset(void* dst, int c, size_t n, const Loc& loc) {
  Runtime::Get().CheckKernelRange(dst, n, true, "memset", loc);
  return std::memset(dst, c, n);
}

// ---------------------------------------------------------------------------
// User copies.

namespace {

// Decides how much of an n-byte user copy succeeds: all, part, or nothing.
unsigned long UserCopyLength(const void* user_ptr, unsigned long n, const char* fn,
                             const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep(fn, loc);
  if (user_ptr == nullptr) return 0;
  if (n == 0 || !rt.running() || !(rt.nondet() & kUserFault)) return n;
  const unsigned choice = internal::Choose(n > 1 ? 3 : 2);
  if (choice == 0) return n;
  const unsigned long done = (choice == 1 && n > 1) ? n / 2 : 0;
  rt.Note(std::string(fn) + " faults (injected) after " + std::to_string(done) + " of " +
              std::to_string(n) + " bytes",
          loc);
  return done;
}

}  // namespace

unsigned long copy_to_user(void __user* to, const void* from, unsigned long n, const Loc& loc) {
  const unsigned long done = UserCopyLength(to, n, "copy_to_user", loc);
  Runtime::Get().Note("copy_to_user(" + std::to_string(n) + " bytes) copies " +
                          std::to_string(done),
                      loc);
  Runtime::Get().CheckKernelRange(from, done, false, "copy_to_user", loc);
  if (done) std::memcpy(to, from, done);
  return n - done;
}

unsigned long copy_from_user(void* to, const void __user* from, unsigned long n, const Loc& loc) {
  const unsigned long done = UserCopyLength(from, n, "copy_from_user", loc);
  Runtime::Get().Note("copy_from_user(" + std::to_string(n) + " bytes) copies " +
                          std::to_string(done),
                      loc);
  Runtime::Get().CheckKernelRange(to, done, true, "copy_from_user", loc);
  if (done) std::memcpy(to, from, done);
  return n - done;
}

namespace detail {

bool UserAccessFaults(const void* user_ptr, size_t size, const char* op, const Loc& loc) {
  return UserCopyLength(user_ptr, size, op, loc) != size;
}

void SharedAccess(const void* addr, size_t size, internal::Handle& h, bool write,
                  const std::source_location* loc) {
  Runtime& rt = Runtime::Get();
  if (!internal::InSimulation()) return;
  rt.CheckShared(addr, size, h, write, loc, "a shared field");
}

namespace {
internal::MemOrder OrderOf(int order) {
  return order == 1 ? internal::MemOrder::kAcquire
                    : order == 2 ? internal::MemOrder::kRelease : internal::MemOrder::kRelaxed;
}
}  // namespace

int64_t OnceLoad(const void* addr, internal::Handle& h, int64_t current, int order,
                 const char* op, const std::source_location& loc) {
  Runtime& rt = Runtime::Get();
  if (!internal::InSimulation()) return current;
  if (internal::Block* b = rt.FindBlock(addr); b != nullptr && b->freed) {
    rt.CheckKernelRange(addr, 1, false, op, loc);  // reports the use after free
  }
  internal::VarState& v = rt.Var(h);
  if (v.marked == nullptr) v.marked = rt.NewAtomic(current);
  rt.Step(addr, op, "", Access::kRead, loc);
  internal::AtomicSection section;
  return internal::AtomicLoad(v.marked, OrderOf(order), loc);
}

void OnceStore(const void* addr, internal::Handle& h, int64_t current, int64_t value, int order,
               const char* op, const std::source_location& loc) {
  Runtime& rt = Runtime::Get();
  if (!internal::InSimulation()) return;
  if (internal::Block* b = rt.FindBlock(addr); b != nullptr && b->freed) {
    rt.CheckKernelRange(addr, 1, true, op, loc);
  }
  internal::VarState& v = rt.Var(h);
  if (v.marked == nullptr) v.marked = rt.NewAtomic(current);
  rt.Step(addr, op, "", Access::kWrite, loc);
  internal::AtomicSection section;
  internal::AtomicStore(v.marked, value, OrderOf(order), loc);
}

void TypeAllocation(const void* p, const std::type_info& type, size_t size) {
  if (!internal::CollectingHistory()) return;
  Runtime::Get().TypeBlock(p, type, size);
}

void NotePointerStore(const void* field, const void* value) {
  if (value == nullptr || !internal::CollectingHistory()) return;
  Runtime::Get().NotePointerStore(field, value);
}

void SyncPlainStore(internal::Handle& h, int64_t value) {
  Runtime& rt = Runtime::Get();
  if (!internal::InSimulation() || !rt.Registered(h)) return;
  internal::VarState& v = rt.Var(h);
  if (v.marked == nullptr || internal::CurrentThread() < 0) return;
  internal::AtomicSection section;
  internal::AtomicStore(v.marked, value, internal::MemOrder::kRelaxed, Loc::current());
}

}  // namespace detail
}  // namespace kmc::kernel
