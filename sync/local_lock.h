// kmc: local_lock_t (include/linux/local_lock.h).
//
// A per-CPU lock: on a non-PREEMPT_RT kernel local_lock() is
// preempt_disable() (local_lock_irq/irqsave also disable interrupts) plus a
// lockdep class, so the section may not sleep (might_sleep() reports it) and
// lockdep sees its nesting. Its wait type is LD_WAIT_CONFIG (it becomes a
// per-CPU spinlock on PREEMPT_RT): taking it inside a raw_spinlock_t is
// "[ BUG: Invalid wait context ]". It excludes only the other contexts of its
// CPU: a model gives each CPU its own local_lock_t, as DEFINE_PER_CPU would.

#ifndef KMC_SYNC_LOCAL_LOCK_H_
#define KMC_SYNC_LOCAL_LOCK_H_

#include <source_location>

#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

struct local_lock_t {
  const char* name;
  bool defined;
  mutable internal::Handle h;
};

#define INIT_LOCAL_LOCK(n) { #n, true, {0, 0} }
#define local_lock_init(l) ::kmc::kernel::local_lock_init_named((l), #l)
void local_lock_init_named(local_lock_t* lock, const char* name, const Loc& loc = Loc::current());
void local_lock(local_lock_t* lock, const Loc& loc = Loc::current());
void local_unlock(local_lock_t* lock, const Loc& loc = Loc::current());
void local_lock_irq(local_lock_t* lock, const Loc& loc = Loc::current());
void local_unlock_irq(local_lock_t* lock, const Loc& loc = Loc::current());
unsigned long local_lock_irqsave_impl(local_lock_t* lock, const Loc& loc);
#define local_lock_irqsave(lock, flags) \
  ((flags) = ::kmc::kernel::local_lock_irqsave_impl((lock), std::source_location::current()))
void local_unlock_irqrestore(local_lock_t* lock, unsigned long flags,
                             const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_LOCAL_LOCK_H_
