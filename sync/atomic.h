// kmc: atomic_t, bit operations and memory barriers.
//
// Memory ordering follows Documentation/atomic_t.txt and the mapping of
// docs/KERNEL_SEMANTICS.md §7.1: value-returning
// read-modify-write operations are fully ordered (seq_cst fence, relaxed RMW,
// seq_cst fence); atomic_read/atomic_set and the void operations (atomic_inc,
// set_bit, ...) are relaxed. Every operation is one scheduling step.

#ifndef KMC_SYNC_ATOMIC_H_
#define KMC_SYNC_ATOMIC_H_

#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

struct atomic_t {
  int counter;  // initial value (ATOMIC_INIT); the live value is engine state
  mutable internal::Handle h;
};
#define ATOMIC_INIT(i) ::kmc::kernel::atomic_t{(i), {0, 0}}

int atomic_read(const atomic_t* v, const Loc& loc = Loc::current());
void atomic_set(atomic_t* v, int i, const Loc& loc = Loc::current());
void atomic_add(int i, atomic_t* v, const Loc& loc = Loc::current());
void atomic_sub(int i, atomic_t* v, const Loc& loc = Loc::current());
void atomic_inc(atomic_t* v, const Loc& loc = Loc::current());
void atomic_dec(atomic_t* v, const Loc& loc = Loc::current());
int atomic_add_return(int i, atomic_t* v, const Loc& loc = Loc::current());
int atomic_sub_return(int i, atomic_t* v, const Loc& loc = Loc::current());
int atomic_inc_return(atomic_t* v, const Loc& loc = Loc::current());
int atomic_dec_return(atomic_t* v, const Loc& loc = Loc::current());
bool atomic_inc_and_test(atomic_t* v, const Loc& loc = Loc::current());
bool atomic_dec_and_test(atomic_t* v, const Loc& loc = Loc::current());
bool atomic_sub_and_test(int i, atomic_t* v, const Loc& loc = Loc::current());
bool atomic_add_negative(int i, atomic_t* v, const Loc& loc = Loc::current());
// Returns the old value; stores `n` only if the old value was `o`.
int atomic_cmpxchg(atomic_t* v, int o, int n, const Loc& loc = Loc::current());
int atomic_xchg(atomic_t* v, int n, const Loc& loc = Loc::current());
// Adds a to v unless v == u; returns true when it added.
bool atomic_add_unless(atomic_t* v, int a, int u, const Loc& loc = Loc::current());
// Decrements v if the result is not negative; returns old value - 1.
int atomic_dec_if_positive(atomic_t* v, const Loc& loc = Loc::current());

// atomic_read_acquire(): an acquire load; atomic_set_release(): a release
// store (Documentation/atomic_t.txt "ORDERING").
int atomic_read_acquire(const atomic_t* v, const Loc& loc = Loc::current());
void atomic_set_release(atomic_t* v, int i, const Loc& loc = Loc::current());

// The ordering variants of the value-returning operations: no suffix is fully
// ordered (smp_mb() before and after), _relaxed is unordered, _acquire orders
// the load part before everything after it, _release everything before the
// store part. A failed cmpxchg of any variant is an unordered load.
#define KMC_ATOMIC_RETURN_OPS(sfx)                                                  \
  int atomic_add_return##sfx(int i, atomic_t* v, const Loc& loc = Loc::current());  \
  int atomic_sub_return##sfx(int i, atomic_t* v, const Loc& loc = Loc::current());  \
  int atomic_inc_return##sfx(atomic_t* v, const Loc& loc = Loc::current());         \
  int atomic_dec_return##sfx(atomic_t* v, const Loc& loc = Loc::current());         \
  int atomic_xchg##sfx(atomic_t* v, int n, const Loc& loc = Loc::current());        \
  int atomic_cmpxchg##sfx(atomic_t* v, int o, int n, const Loc& loc = Loc::current());
#define KMC_ATOMIC_FETCH_OPS(sfx)                                                   \
  int atomic_fetch_add##sfx(int i, atomic_t* v, const Loc& loc = Loc::current());   \
  int atomic_fetch_sub##sfx(int i, atomic_t* v, const Loc& loc = Loc::current());   \
  int atomic_fetch_inc##sfx(atomic_t* v, const Loc& loc = Loc::current());          \
  int atomic_fetch_dec##sfx(atomic_t* v, const Loc& loc = Loc::current());          \
  int atomic_fetch_and##sfx(int i, atomic_t* v, const Loc& loc = Loc::current());   \
  int atomic_fetch_or##sfx(int i, atomic_t* v, const Loc& loc = Loc::current());    \
  int atomic_fetch_xor##sfx(int i, atomic_t* v, const Loc& loc = Loc::current());
KMC_ATOMIC_RETURN_OPS(_relaxed)
KMC_ATOMIC_RETURN_OPS(_acquire)
KMC_ATOMIC_RETURN_OPS(_release)
KMC_ATOMIC_FETCH_OPS()
KMC_ATOMIC_FETCH_OPS(_relaxed)
KMC_ATOMIC_FETCH_OPS(_acquire)
KMC_ATOMIC_FETCH_OPS(_release)
#undef KMC_ATOMIC_RETURN_OPS
#undef KMC_ATOMIC_FETCH_OPS

// Bit operations on an array of unsigned long words. Each word touched is an
// atomic location; set/clear/change are relaxed, test_and_* fully ordered.
// The bitmap must be an AtomicBitmap (kernel: DECLARE_BITMAP / unsigned long).
struct AtomicBitmap {
  unsigned long word;
  mutable internal::Handle h;
};
#define DECLARE_BITMAP_WORD(name) ::kmc::kernel::AtomicBitmap name{0, {0, 0}}

void set_bit(long nr, AtomicBitmap* addr, const Loc& loc = Loc::current());
void clear_bit(long nr, AtomicBitmap* addr, const Loc& loc = Loc::current());
void change_bit(long nr, AtomicBitmap* addr, const Loc& loc = Loc::current());
int test_bit(long nr, const AtomicBitmap* addr, const Loc& loc = Loc::current());
int test_and_set_bit(long nr, AtomicBitmap* addr, const Loc& loc = Loc::current());
int test_and_clear_bit(long nr, AtomicBitmap* addr, const Loc& loc = Loc::current());
int test_and_change_bit(long nr, AtomicBitmap* addr, const Loc& loc = Loc::current());

// Barriers (docs/KERNEL_SEMANTICS.md §7.1): smp_mb is a seq_cst fence,
// smp_wmb a release fence, smp_rmb an acquire fence.
void smp_mb(const Loc& loc = Loc::current());
void smp_wmb(const Loc& loc = Loc::current());
void smp_rmb(const Loc& loc = Loc::current());
void smp_mb__before_atomic(const Loc& loc = Loc::current());
void smp_mb__after_atomic(const Loc& loc = Loc::current());
// Full barriers after a lock acquisition (LKMM: the lock, and for
// smp_mb__after_unlock_lock() the unlock before it, become ordered with
// everything after the barrier as seen by every CPU).
void smp_mb__after_spinlock(const Loc& loc = Loc::current());
void smp_mb__after_unlock_lock(const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_ATOMIC_H_
