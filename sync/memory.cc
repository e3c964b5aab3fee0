// kmc: kmalloc, pages, user copies and Shared<T> checks.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sync/internal/runtime.h"
#include "sync/internal/symbolize.h"
#include "sync/shared.h"
#include "sync/slab.h"
#include "sync/uaccess.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;

bool MayFail(const Loc& loc, const char* what) {
  Runtime& rt = Runtime::Get();
  // Fine-grained interleaving: an allocation is a scheduling point of its
  // own (touching only the task's allocation numbering), before its outcome.
  rt.FinePoint(nullptr, nullptr, true, Access::kAlloc, what, loc);
  if (!rt.running() || !(rt.nondet() & kAllocFailure)) return false;
  if (internal::Choose(2) == 0) return false;
  rt.Note([&] { return std::string(what) + " fails (injected): returns NULL"; }, loc);
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
  rt.Note(
      [&] {
        return std::string(fn) + " faults (injected) after " + std::to_string(done) + " of " +
               std::to_string(n) + " bytes";
      },
      loc);
  return done;
}

}  // namespace

unsigned long copy_to_user(void __user* to, const void* from, unsigned long n, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  // Fine-grained interleaving: the copy is a scheduling point of its own,
  // before the fault is decided.
  const internal::Block* kb = n != 0 ? rt.FindKernelBlock(from) : nullptr;
  if (n != 0) {
    rt.FinePoint(kb, kb != nullptr ? from : nullptr, false, Access::kUserCopy, "copy_to_user", loc);
  }
  const unsigned long done = UserCopyLength(to, n, "copy_to_user", loc);
  rt.Note(
      [&] {
        return "copy_to_user(" + std::to_string(n) + " bytes) copies " + std::to_string(done);
      },
      loc);
  rt.CheckKernelRange(from, done, false, "copy_to_user", loc, /*point=*/false);
  if (done) std::memcpy(to, from, done);
  return n - done;
}

unsigned long copy_from_user(void* to, const void __user* from, unsigned long n, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  // Fine-grained interleaving: the copy is a scheduling point of its own,
  // before the fault is decided.
  const internal::Block* kb = n != 0 ? rt.FindKernelBlock(to) : nullptr;
  if (n != 0) {
    rt.FinePoint(kb, kb != nullptr ? to : nullptr, true, Access::kUserCopy, "copy_from_user", loc);
  }
  const unsigned long done = UserCopyLength(from, n, "copy_from_user", loc);
  rt.Note(
      [&] {
        return "copy_from_user(" + std::to_string(n) + " bytes) copies " + std::to_string(done);
      },
      loc);
  rt.CheckKernelRange(to, done, true, "copy_from_user", loc, /*point=*/false);
  if (done) std::memcpy(to, from, done);
  return n - done;
}

namespace detail {

bool UserAccessFaults(const void* user_ptr, size_t size, const char* op, const Loc& loc) {
  return UserCopyLength(user_ptr, size, op, loc) != size;
}

void DataRaceBegin() { Runtime::Get().SuppressRaces(1); }
void DataRaceEnd() { Runtime::Get().SuppressRaces(-1); }

std::source_location CallerLine(const void* return_address) {
  if (!internal::InSimulation() || return_address == nullptr) return std::source_location();
  return internal::CodeLocation(reinterpret_cast<uintptr_t>(return_address) - 1);
}

void SharedAccess(const void* addr, size_t size, internal::Handle& h, bool write,
                  const std::source_location* loc) {
  Runtime& rt = Runtime::Get();
  if (!internal::InSimulation()) return;
  rt.CheckShared(addr, size, h, write, loc, "a shared field");
}

namespace {
// Wakes the tasks waiting in SpinOnce() for a store to the location.
void WakeSpinners(internal::VarState& v, const Loc& loc) {
  if (v.spinners.empty()) return;
  std::vector<int> woken;
  woken.swap(v.spinners);
  for (int th : woken) internal::Unpark(th, loc);
}

// A value for trace lines: small numbers in decimal, others in hex.
// Heap addresses change from run to run, and reports must replay byte for
// byte, so they are shown as "a pointer".
std::string ValueText(int64_t v) {
  if (v > -100000 && v < 100000) return std::to_string(v);
  if (v >= (int64_t{1} << 44) || v <= -(int64_t{1} << 44)) return "a pointer";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

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
  if (v.marked == nullptr) v.marked = rt.NewAtomic(current, addr);
  rt.Step(addr, op, rt.LocationName(addr), Access::kRead, loc);
  internal::AtomicSection section;
  const int64_t value = internal::AtomicLoad(v.marked, OrderOf(order), loc);
  if (internal::CollectingHistory()) rt.AnnotateLoad(internal::LastLoadFrom(), ValueText(value));
  return value;
}

int64_t OnceStore(const void* addr, internal::Handle& h, int64_t current, int64_t value,
                  int order, const char* op, const std::source_location& loc) {
  Runtime& rt = Runtime::Get();
  if (!internal::InSimulation()) return value;
  if (internal::Block* b = rt.FindBlock(addr); b != nullptr && b->freed) {
    rt.CheckKernelRange(addr, 1, true, op, loc);
  }
  internal::VarState& v = rt.Var(h);
  if (v.marked == nullptr) v.marked = rt.NewAtomic(current, addr);
  rt.Step(addr, op, rt.LocationName(addr), Access::kWrite, loc);
  internal::AtomicSection section;
  const int64_t newest = internal::AtomicStorePlaced(v.marked, value, OrderOf(order), loc);
  if (internal::CollectingHistory()) rt.NoteStoreStep(internal::LastStoreId());
  WakeSpinners(v, loc);
  return newest;
}

int64_t OnceRmw(const void* addr, internal::Handle& h, int64_t current, bool has_expected,
                int64_t expected, int64_t value, int order, const char* op,
                const std::source_location& loc, bool* stored) {
  Runtime& rt = Runtime::Get();
  *stored = false;
  if (!internal::InSimulation()) {
    if (has_expected && current != expected) return current;
    *stored = true;
    return current;
  }
  if (internal::Block* b = rt.FindBlock(addr); b != nullptr && b->freed) {
    rt.CheckKernelRange(addr, 1, true, op, loc);
  }
  internal::VarState& v = rt.Var(h);
  if (v.marked == nullptr) v.marked = rt.NewAtomic(current, addr);
  rt.Step(addr, op, rt.LocationName(addr), Access::kRmw, loc);
  internal::AtomicSection section;
  using internal::MemOrder;
  const MemOrder mo = order == 2 ? MemOrder::kAcquire
                      : order == 3 ? MemOrder::kRelease : MemOrder::kRelaxed;
  int64_t old = 0;
  if (has_expected) {
    // A failed cmpxchg is a plain marked load: it may read an older value.
    old = internal::AtomicLoad(v.marked, MemOrder::kRelaxed, loc);
    if (old != expected) {
      if (internal::CollectingHistory()) {
        rt.AnnotateLoad(internal::LastLoadFrom(), ValueText(old) + " (failed)");
      }
      return old;
    }
    if (order == 0) internal::Fence(MemOrder::kSeqCst, loc);
    int64_t e = old;
    if (!internal::AtomicCas(v.marked, e, value, mo, MemOrder::kRelaxed, loc)) return e;
  } else {
    if (order == 0) internal::Fence(MemOrder::kSeqCst, loc);
    old = internal::AtomicRmw(v.marked, internal::RmwOp::kXchg, value, mo, loc);
  }
  if (order == 0) internal::Fence(MemOrder::kSeqCst, loc);
  *stored = true;
  if (internal::CollectingHistory()) {
    rt.AnnotateLoad(internal::LastLoadFrom(), ValueText(old) + " -> " + ValueText(value));
    rt.NoteStoreStep(internal::LastStoreId());
  }
  WakeSpinners(v, loc);
  return old;
}

void SpinOnce(const void* addr, internal::Handle& h, bool newest_satisfies, const char* op,
              const std::source_location& loc) {
  Runtime& rt = Runtime::Get();
  if (!internal::InSimulation()) return;
  if (!rt.running() && !newest_satisfies) {
    rt.Fail(Verdict::kDeadlock,
            "kmc: " + std::string(op) + "() would spin forever during module init/exit",
            "no task runs that could store the value it waits for\n", loc);
  }
  internal::VarState& v = rt.Var(h);
  if (newest_satisfies) {
    // The value read was stale: the next iteration reads a newer store.
    if (!internal::NextLoadReadsNewer(v.marked)) internal::PollPause(loc);
    return;
  }
  (void)addr;
  internal::TaskState& t = rt.Current();
  v.spinners.push_back(t.thread);
  t.wait_object = addr;
  t.wait_what = op;
  t.wait_loc = loc;
  internal::Park(false, loc);
  t.wait_object = nullptr;
}

void NameSharedLocation(const void* addr, const char* name) {
  if (internal::InSimulation()) Runtime::Get().NameLocation(addr, name);
}

void AcquireAfterCtrlDep(const std::source_location& loc) {
  if (!internal::InSimulation() || internal::CurrentThread() < 0) return;
  internal::AtomicSection section;
  internal::Fence(internal::MemOrder::kAcquire, loc);
}

void TypeAllocation(const void* p, const std::type_info& type, size_t size) {
  if (!internal::CollectingHistory()) return;
  Runtime::Get().TypeBlock(p, type, size);
}

void NotePointerStore(const void* field, const void* value) {
  if (value == nullptr || !internal::CollectingHistory()) return;
  Runtime::Get().NotePointerStore(field, value);
}

unsigned ExploreChoice(unsigned n) {
  if (n <= 1 || !internal::InSimulation() || internal::CurrentThread() < 0) return 0;
  return internal::Choose(n);
}

void SyncPlainStore(internal::Handle& h, int64_t value) {
  Runtime& rt = Runtime::Get();
  if (!internal::InSimulation() || !rt.Registered(h)) return;
  internal::VarState& v = rt.Var(h);
  if (v.marked == nullptr || internal::CurrentThread() < 0) return;
  internal::AtomicSection section;
  internal::AtomicStore(v.marked, value, internal::MemOrder::kRelaxed, Loc::current());
  WakeSpinners(v, Loc::current());
}

}  // namespace detail
}  // namespace kmc::kernel
