// kmc: spinlock_t (include/linux/spinlock.h, kernel/locking/spinlock_debug.c).
//
// Taking a spinlock disables preemption: the holder is in atomic context and
// must not sleep (might_sleep() reports "BUG: sleeping function called from
// invalid context"). Debug checks use the kernel's headlines:
//   BUG: spinlock recursion on CPU#N, task/pid       (same task relocks)
//   BUG: spinlock already unlocked on CPU#N, ...     (unlock of a free lock)
//   BUG: spinlock wrong owner on CPU#N, ...          (unlock by another task)
//   BUG: spinlock bad magic on CPU#N, ...            (never initialized)
// A contended spin_lock waits (as a blocked task, so a lock that can never be
// released ends in the deadlock report).
//
// Memory ordering: unlock releases, lock acquires.

#ifndef KMC_SYNC_SPINLOCK_H_
#define KMC_SYNC_SPINLOCK_H_

#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

struct spinlock_t {
  const char* name;
  bool defined;
  mutable internal::Handle h;
};

#define DEFINE_SPINLOCK(x) ::kmc::kernel::spinlock_t x { #x, true, {0, 0} }
#define spin_lock_init(l) ::kmc::kernel::spin_lock_init_named((l), #l)

void spin_lock_init_named(spinlock_t* lock, const char* name, const Loc& loc = Loc::current());
void spin_lock(spinlock_t* lock, const Loc& loc = Loc::current());
void spin_unlock(spinlock_t* lock, const Loc& loc = Loc::current());
// Return: 1 when acquired, 0 when contended.
int spin_trylock(spinlock_t* lock, const Loc& loc = Loc::current());
bool spin_is_locked(spinlock_t* lock, const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_SPINLOCK_H_
