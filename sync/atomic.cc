// kmc: atomic_t, bit operations and barriers (Documentation/atomic_t.txt,
// docs/KERNEL_SEMANTICS.md §7.1 for the memory-model mapping).

#include "sync/atomic.h"

#include <string>

#include "sync/internal/por.h"
#include "sync/internal/runtime.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::AtomicCell;
using internal::MemOrder;
using internal::RmwOp;
using internal::Runtime;

struct AtomicState : internal::ObjectState {
  AtomicCell* cell = nullptr;
};

AtomicCell* Cell(internal::Handle& h, int64_t initial) {
  AtomicState& s = Runtime::Get().Object<AtomicState>(h);
  if (s.cell == nullptr) {
    s.cell = Runtime::Get().NewAtomic(initial, &h);
    s.name = "atomic_t";
  }
  return s.cell;
}

AtomicCell* Begin(const atomic_t* v, const char* op, Access a, const Loc& loc) {
  AtomicCell* c = Cell(v->h, v->counter);
  Runtime::Get().Step(v, op, "", a, loc);
  return c;
}

// Trace annotations: the value a load returned (and, when it is not the
// newest store, which store it read); the step of a store.
int64_t TracedLoad(int64_t v) {
  if (internal::CollectingHistory()) {
    Runtime::Get().AnnotateLoad(internal::LastLoadFrom(), std::to_string(static_cast<int>(v)));
  }
  return v;
}
void TracedStore() {
  if (internal::CollectingHistory()) Runtime::Get().NoteStoreStep(internal::LastStoreId());
}
int64_t TracedRmw(int64_t old) {
  if (internal::CollectingHistory()) {
    Runtime::Get().AnnotateLoad(internal::LastLoadFrom(), std::to_string(static_cast<int>(old)));
    Runtime::Get().NoteStoreStep(internal::LastStoreId());
  }
  return old;
}

// A fully ordered RMW: smp_mb(); relaxed RMW; smp_mb().
int64_t FullRmw(AtomicCell* c, RmwOp op, int64_t operand, const Loc& loc) {
  internal::AtomicSection section;
  internal::Fence(MemOrder::kSeqCst, loc);
  const int64_t old = TracedRmw(internal::AtomicRmw(c, op, operand, MemOrder::kRelaxed, loc));
  internal::Fence(MemOrder::kSeqCst, loc);
  return old;
}

int64_t RelaxedRmw(AtomicCell* c, RmwOp op, int64_t operand, const Loc& loc) {
  internal::AtomicSection section;
  return TracedRmw(internal::AtomicRmw(c, op, operand, MemOrder::kRelaxed, loc));
}

int AsInt(int64_t v) { return static_cast<int>(static_cast<uint32_t>(v)); }

// Orderings of the value-returning operations (Documentation/atomic_t.txt).
enum class Ord { kFull, kRelaxed, kAcquire, kRelease };

int64_t OrderedRmw(AtomicCell* c, RmwOp op, int64_t operand, Ord o, const Loc& loc) {
  switch (o) {
    case Ord::kFull: return FullRmw(c, op, operand, loc);
    case Ord::kRelaxed: return RelaxedRmw(c, op, operand, loc);
    case Ord::kAcquire: {
      internal::AtomicSection section;
      return TracedRmw(internal::AtomicRmw(c, op, operand, MemOrder::kAcquire, loc));
    }
    case Ord::kRelease: {
      internal::AtomicSection section;
      return TracedRmw(internal::AtomicRmw(c, op, operand, MemOrder::kRelease, loc));
    }
  }
  return 0;
}

// cmpxchg: a failed one is a relaxed load (it may read an older value); a
// successful one is an RMW of the given ordering on the latest value.
int64_t OrderedCmpxchg(AtomicCell* c, int64_t o, int64_t n, Ord ord, bool as_int,
                       const Loc& loc) {
  internal::AtomicSection section;
  auto same = [as_int](int64_t a, int64_t b) { return as_int ? AsInt(a) == AsInt(b) : a == b; };
  const int64_t cur = TracedLoad(internal::AtomicLoad(c, MemOrder::kRelaxed, loc));
  if (!same(cur, o)) return cur;
  const MemOrder mo = ord == Ord::kAcquire ? MemOrder::kAcquire
                      : ord == Ord::kRelease ? MemOrder::kRelease : MemOrder::kRelaxed;
  if (ord == Ord::kFull) internal::Fence(MemOrder::kSeqCst, loc);
  int64_t expected = cur;
  if (!internal::AtomicCas(c, expected, n, mo, MemOrder::kRelaxed, loc)) return expected;
  TracedStore();
  if (ord == Ord::kFull) internal::Fence(MemOrder::kSeqCst, loc);
  return cur;
}

AtomicCell* BitBegin(const AtomicBitmap* addr, long nr, const char* op, Access a,
                     const Loc& loc) {
  (void)nr;
  AtomicCell* c = Cell(addr->h, static_cast<int64_t>(addr->word));
  Runtime::Get().Step(addr, op, "", a, loc);
  return c;
}

}  // namespace

int atomic_read(const atomic_t* v, const Loc& loc) {
  AtomicCell* c = Begin(v, "atomic_read", Access::kRead, loc);
  internal::AtomicSection section;
  return AsInt(TracedLoad(internal::AtomicLoad(c, MemOrder::kRelaxed, loc)));
}

void atomic_set(atomic_t* v, int i, const Loc& loc) {
  if (!Runtime::Get().running()) {
    // Initialization before any task runs: part of the initial state.
    v->counter = i;
    AtomicState& s = Runtime::Get().Object<AtomicState>(v->h);
    if (s.cell == nullptr) return;
  }
  AtomicCell* c = Begin(v, "atomic_set", Access::kWrite, loc);
  internal::AtomicSection section;
  internal::AtomicStore(c, i, MemOrder::kRelaxed, loc);
  TracedStore();
}

void atomic_add(int i, atomic_t* v, const Loc& loc) {
  RelaxedRmw(Begin(v, "atomic_add", Access::kRmw, loc), RmwOp::kAdd, i, loc);
}
void atomic_sub(int i, atomic_t* v, const Loc& loc) {
  RelaxedRmw(Begin(v, "atomic_sub", Access::kRmw, loc), RmwOp::kAdd, -int64_t{i}, loc);
}
void atomic_inc(atomic_t* v, const Loc& loc) {
  RelaxedRmw(Begin(v, "atomic_inc", Access::kRmw, loc), RmwOp::kAdd, 1, loc);
}
void atomic_dec(atomic_t* v, const Loc& loc) {
  RelaxedRmw(Begin(v, "atomic_dec", Access::kRmw, loc), RmwOp::kAdd, -1, loc);
}
int atomic_add_return(int i, atomic_t* v, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_add_return", Access::kRmw, loc), RmwOp::kAdd, i, loc) + i);
}
int atomic_sub_return(int i, atomic_t* v, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_sub_return", Access::kRmw, loc), RmwOp::kAdd, -int64_t{i},
                       loc) - i);
}
int atomic_inc_return(atomic_t* v, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_inc_return", Access::kRmw, loc), RmwOp::kAdd, 1, loc) + 1);
}
int atomic_dec_return(atomic_t* v, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_dec_return", Access::kRmw, loc), RmwOp::kAdd, -1, loc) - 1);
}
bool atomic_inc_and_test(atomic_t* v, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_inc_and_test", Access::kRmw, loc), RmwOp::kAdd, 1, loc) +
               1) == 0;
}
bool atomic_dec_and_test(atomic_t* v, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_dec_and_test", Access::kRmw, loc), RmwOp::kAdd, -1, loc) -
               1) == 0;
}
bool atomic_sub_and_test(int i, atomic_t* v, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_sub_and_test", Access::kRmw, loc), RmwOp::kAdd,
                       -int64_t{i}, loc) - i) == 0;
}
bool atomic_add_negative(int i, atomic_t* v, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_add_negative", Access::kRmw, loc), RmwOp::kAdd, i, loc) +
               i) < 0;
}

int atomic_cmpxchg(atomic_t* v, int o, int n, const Loc& loc) {
  AtomicCell* c = Begin(v, "atomic_cmpxchg", Access::kRmw, loc);
  internal::AtomicSection section;
  // A failed cmpxchg is unordered (a relaxed load); a successful one is fully
  // ordered (docs/KERNEL_SEMANTICS.md §7.1).
  int64_t expected = o;
  const int64_t cur = internal::AtomicLoad(c, MemOrder::kRelaxed, loc);
  if (AsInt(cur) != o) return AsInt(cur);
  internal::Fence(MemOrder::kSeqCst, loc);
  if (!internal::AtomicCas(c, expected, n, MemOrder::kRelaxed, MemOrder::kRelaxed, loc)) {
    return AsInt(expected);
  }
  internal::Fence(MemOrder::kSeqCst, loc);
  return o;
}

int atomic_xchg(atomic_t* v, int n, const Loc& loc) {
  return AsInt(FullRmw(Begin(v, "atomic_xchg", Access::kRmw, loc), RmwOp::kXchg, n, loc));
}

// Both are cmpxchg loops in the kernel: a stale relaxed load must never let
// the add through (the CAS always sees the latest value and retries).
bool atomic_add_unless(atomic_t* v, int a, int u, const Loc& loc) {
  AtomicCell* c = Begin(v, "atomic_add_unless", Access::kRmw, loc);
  internal::AtomicSection section;
  int64_t cur = internal::AtomicLoad(c, MemOrder::kRelaxed, loc);
  for (;;) {
    if (AsInt(cur) == u) return false;
    internal::Fence(MemOrder::kSeqCst, loc);
    if (internal::AtomicCas(c, cur, AsInt(cur) + a, MemOrder::kRelaxed, MemOrder::kRelaxed, loc)) {
      internal::Fence(MemOrder::kSeqCst, loc);
      return true;
    }
  }
}

int atomic_dec_if_positive(atomic_t* v, const Loc& loc) {
  AtomicCell* c = Begin(v, "atomic_dec_if_positive", Access::kRmw, loc);
  internal::AtomicSection section;
  int64_t cur = internal::AtomicLoad(c, MemOrder::kRelaxed, loc);
  for (;;) {
    const int dec = AsInt(cur) - 1;
    if (dec < 0) return dec;
    internal::Fence(MemOrder::kSeqCst, loc);
    if (internal::AtomicCas(c, cur, dec, MemOrder::kRelaxed, MemOrder::kRelaxed, loc)) {
      internal::Fence(MemOrder::kSeqCst, loc);
      return dec;
    }
  }
}

int atomic_read_acquire(const atomic_t* v, const Loc& loc) {
  AtomicCell* c = Begin(v, "atomic_read_acquire", Access::kRead, loc);
  internal::AtomicSection section;
  return AsInt(TracedLoad(internal::AtomicLoad(c, MemOrder::kAcquire, loc)));
}

void atomic_set_release(atomic_t* v, int i, const Loc& loc) {
  AtomicCell* c = Begin(v, "atomic_set_release", Access::kWrite, loc);
  internal::AtomicSection section;
  internal::AtomicStore(c, i, MemOrder::kRelease, loc);
  TracedStore();
}

#define KMC_ATOMIC_RETURN_OPS(sfx, ord)                                                       \
  int atomic_add_return##sfx(int i, atomic_t* v, const Loc& loc) {                            \
    return AsInt(OrderedRmw(Begin(v, "atomic_add_return" #sfx, Access::kRmw, loc), RmwOp::kAdd, \
                            i, ord, loc) + i);                                                \
  }                                                                                           \
  int atomic_sub_return##sfx(int i, atomic_t* v, const Loc& loc) {                            \
    return AsInt(OrderedRmw(Begin(v, "atomic_sub_return" #sfx, Access::kRmw, loc), RmwOp::kAdd, \
                            -int64_t{i}, ord, loc) - i);                                      \
  }                                                                                           \
  int atomic_inc_return##sfx(atomic_t* v, const Loc& loc) {                                   \
    return AsInt(OrderedRmw(Begin(v, "atomic_inc_return" #sfx, Access::kRmw, loc), RmwOp::kAdd, \
                            1, ord, loc) + 1);                                                \
  }                                                                                           \
  int atomic_dec_return##sfx(atomic_t* v, const Loc& loc) {                                   \
    return AsInt(OrderedRmw(Begin(v, "atomic_dec_return" #sfx, Access::kRmw, loc), RmwOp::kAdd, \
                            -1, ord, loc) - 1);                                               \
  }                                                                                           \
  int atomic_xchg##sfx(atomic_t* v, int n, const Loc& loc) {                                  \
    return AsInt(                                                                             \
        OrderedRmw(Begin(v, "atomic_xchg" #sfx, Access::kRmw, loc), RmwOp::kXchg, n, ord, loc)); \
  }                                                                                           \
  int atomic_cmpxchg##sfx(atomic_t* v, int o, int n, const Loc& loc) {                        \
    return AsInt(                                                                             \
        OrderedCmpxchg(Begin(v, "atomic_cmpxchg" #sfx, Access::kRmw, loc), o, n, ord, true, loc)); \
  }
#define KMC_ATOMIC_FETCH_OPS(sfx, ord)                                                          \
  int atomic_fetch_add##sfx(int i, atomic_t* v, const Loc& loc) {                               \
    return AsInt(                                                                               \
        OrderedRmw(Begin(v, "atomic_fetch_add" #sfx, Access::kRmw, loc), RmwOp::kAdd, i, ord, loc)); \
  }                                                                                             \
  int atomic_fetch_sub##sfx(int i, atomic_t* v, const Loc& loc) {                               \
    return AsInt(OrderedRmw(Begin(v, "atomic_fetch_sub" #sfx, Access::kRmw, loc), RmwOp::kAdd,   \
                            -int64_t{i}, ord, loc));                                            \
  }                                                                                             \
  int atomic_fetch_inc##sfx(atomic_t* v, const Loc& loc) {                                      \
    return AsInt(                                                                               \
        OrderedRmw(Begin(v, "atomic_fetch_inc" #sfx, Access::kRmw, loc), RmwOp::kAdd, 1, ord, loc)); \
  }                                                                                             \
  int atomic_fetch_dec##sfx(atomic_t* v, const Loc& loc) {                                      \
    return AsInt(OrderedRmw(Begin(v, "atomic_fetch_dec" #sfx, Access::kRmw, loc), RmwOp::kAdd,   \
                            -1, ord, loc));                                                     \
  }                                                                                             \
  int atomic_fetch_and##sfx(int i, atomic_t* v, const Loc& loc) {                               \
    return AsInt(                                                                               \
        OrderedRmw(Begin(v, "atomic_fetch_and" #sfx, Access::kRmw, loc), RmwOp::kAnd, i, ord, loc)); \
  }                                                                                             \
  int atomic_fetch_or##sfx(int i, atomic_t* v, const Loc& loc) {                                \
    return AsInt(                                                                               \
        OrderedRmw(Begin(v, "atomic_fetch_or" #sfx, Access::kRmw, loc), RmwOp::kOr, i, ord, loc)); \
  }                                                                                             \
  int atomic_fetch_xor##sfx(int i, atomic_t* v, const Loc& loc) {                               \
    return AsInt(                                                                               \
        OrderedRmw(Begin(v, "atomic_fetch_xor" #sfx, Access::kRmw, loc), RmwOp::kXor, i, ord, loc)); \
  }
KMC_ATOMIC_RETURN_OPS(_relaxed, Ord::kRelaxed)
KMC_ATOMIC_RETURN_OPS(_acquire, Ord::kAcquire)
KMC_ATOMIC_RETURN_OPS(_release, Ord::kRelease)
KMC_ATOMIC_FETCH_OPS(, Ord::kFull)
KMC_ATOMIC_FETCH_OPS(_relaxed, Ord::kRelaxed)
KMC_ATOMIC_FETCH_OPS(_acquire, Ord::kAcquire)
KMC_ATOMIC_FETCH_OPS(_release, Ord::kRelease)
#undef KMC_ATOMIC_RETURN_OPS
#undef KMC_ATOMIC_FETCH_OPS

void set_bit(long nr, AtomicBitmap* addr, const Loc& loc) {
  RelaxedRmw(BitBegin(addr, nr, "set_bit", Access::kRmw, loc), RmwOp::kOr, int64_t{1} << nr, loc);
}
void clear_bit(long nr, AtomicBitmap* addr, const Loc& loc) {
  RelaxedRmw(BitBegin(addr, nr, "clear_bit", Access::kRmw, loc), RmwOp::kAnd,
             ~(int64_t{1} << nr), loc);
}
void change_bit(long nr, AtomicBitmap* addr, const Loc& loc) {
  RelaxedRmw(BitBegin(addr, nr, "change_bit", Access::kRmw, loc), RmwOp::kXor, int64_t{1} << nr,
             loc);
}
int test_bit(long nr, const AtomicBitmap* addr, const Loc& loc) {
  AtomicCell* c = BitBegin(addr, nr, "test_bit", Access::kRead, loc);
  internal::AtomicSection section;
  return (internal::AtomicLoad(c, MemOrder::kRelaxed, loc) >> nr) & 1;
}
int test_and_set_bit(long nr, AtomicBitmap* addr, const Loc& loc) {
  return (FullRmw(BitBegin(addr, nr, "test_and_set_bit", Access::kRmw, loc), RmwOp::kOr,
                  int64_t{1} << nr, loc) >> nr) & 1;
}
int test_and_clear_bit(long nr, AtomicBitmap* addr, const Loc& loc) {
  return (FullRmw(BitBegin(addr, nr, "test_and_clear_bit", Access::kRmw, loc), RmwOp::kAnd,
                  ~(int64_t{1} << nr), loc) >> nr) & 1;
}
int test_and_change_bit(long nr, AtomicBitmap* addr, const Loc& loc) {
  return (FullRmw(BitBegin(addr, nr, "test_and_change_bit", Access::kRmw, loc), RmwOp::kXor,
                  int64_t{1} << nr, loc) >> nr) & 1;
}

namespace {
// A barrier is one scheduling step followed by its fence. Only a full
// barrier touches what other CPUs share (the seq_cst order).
void FenceStep(const char* op, MemOrder order, const Loc& loc) {
  Runtime::Get().Step(order == MemOrder::kSeqCst ? &internal::kPorFence
                                                 : &internal::kPorLocalFence,
                      op, "", Access::kFence, loc);
  internal::AtomicSection section;
  internal::Fence(order, loc);
}
}  // namespace

void smp_mb(const Loc& loc) { FenceStep("smp_mb", MemOrder::kSeqCst, loc); }
void smp_wmb(const Loc& loc) {
  Runtime::Get().Step(&internal::kPorLocalFence, "smp_wmb", "", Access::kFence, loc);
  internal::AtomicSection section;
  internal::StoreFence(loc);
}
void smp_rmb(const Loc& loc) { FenceStep("smp_rmb", MemOrder::kAcquire, loc); }
void smp_mb__before_atomic(const Loc& loc) { smp_mb(loc); }
void smp_mb__after_atomic(const Loc& loc) { smp_mb(loc); }
void smp_mb__after_spinlock(const Loc& loc) {
  FenceStep("smp_mb__after_spinlock", MemOrder::kSeqCst, loc);
}
void smp_mb__after_unlock_lock(const Loc& loc) {
  FenceStep("smp_mb__after_unlock_lock", MemOrder::kSeqCst, loc);
}

}  // namespace kmc::kernel
