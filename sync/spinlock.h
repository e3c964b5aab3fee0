// kmc: spinlock_t (include/linux/spinlock.h, kernel/locking/spinlock_debug.c).
//
// Taking a spinlock disables preemption: the holder is in atomic context and
// must not sleep (might_sleep() reports "BUG: sleeping function called from
// invalid context"). Debug checks use the kernel's headlines:
//   BUG: spinlock recursion on CPU#N, task/pid       (same task relocks)
//   BUG: spinlock already unlocked on CPU#N, ...     (unlock of a free lock)
//   BUG: spinlock wrong owner on CPU#N, ...          (unlock by another task)
//   BUG: spinlock bad magic on CPU#N, ...            (never initialized)
//   BUG: spinlock cpu recursion on CPU#N, ...       (an interrupt or softirq
//        takes a lock held by the code it interrupted on the same CPU: the
//        classic irq deadlock; reported as a deadlock)
// A contended spin_lock waits (as a blocked task, so a lock that can never be
// released ends in the deadlock report).
//
// Variants (docs/KERNEL_SEMANTICS.md §6.2): _irqsave/_irqrestore save and disable
// local interrupts, _irq disables and unconditionally re-enables them, _bh
// disables bottom halves. Releasing with another family than the one that
// acquired (spin_unlock() of a spin_lock_irqsave() lock, say) is reported as
// lock misuse: interrupts or bottom halves would stay disabled.
//
// Memory ordering: unlock releases, lock acquires.

#ifndef KMC_SYNC_SPINLOCK_H_
#define KMC_SYNC_SPINLOCK_H_

#include "sync/interrupt.h"
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
// Lockdep annotations (sync/lockdep.h): a subclass for a second lock of the
// same class taken in a fixed order, or the outer lock that serializes
// taking several locks of one class.
void spin_lock_nested(spinlock_t* lock, int subclass, const Loc& loc = Loc::current());
void spin_lock_bh_nested(spinlock_t* lock, int subclass, const Loc& loc = Loc::current());
unsigned long spin_lock_irqsave_nested_impl(spinlock_t* lock, int subclass, const Loc& loc);
#define spin_lock_irqsave_nested(lock, flags, subclass)                      \
  ((flags) = ::kmc::kernel::spin_lock_irqsave_nested_impl((lock), (subclass), \
                                                          std::source_location::current()))
void spin_lock_nest_lock_impl(spinlock_t* lock, const void* nest, const Loc& loc);
#define spin_lock_nest_lock(lock, nest) \
  ::kmc::kernel::spin_lock_nest_lock_impl((lock), (nest), std::source_location::current())
void spin_unlock(spinlock_t* lock, const Loc& loc = Loc::current());
// Return: 1 when acquired, 0 when contended.
int spin_trylock(spinlock_t* lock, const Loc& loc = Loc::current());
bool spin_is_locked(spinlock_t* lock, const Loc& loc = Loc::current());

unsigned long spin_lock_irqsave_impl(spinlock_t* lock, const Loc& loc);
#define spin_lock_irqsave(lock, flags) \
  ((flags) = ::kmc::kernel::spin_lock_irqsave_impl((lock), std::source_location::current()))
void spin_unlock_irqrestore(spinlock_t* lock, unsigned long flags, const Loc& loc = Loc::current());
void spin_lock_irq(spinlock_t* lock, const Loc& loc = Loc::current());
void spin_unlock_irq(spinlock_t* lock, const Loc& loc = Loc::current());
void spin_lock_bh(spinlock_t* lock, const Loc& loc = Loc::current());
void spin_unlock_bh(spinlock_t* lock, const Loc& loc = Loc::current());
int spin_trylock_bh(spinlock_t* lock, const Loc& loc = Loc::current());

// raw_spinlock_t: a spinlock that spins even on PREEMPT_RT, where spinlock_t
// sleeps. The same variants and debug checks as spinlock_t; for lockdep its
// wait type is LD_WAIT_SPIN, below spinlock_t's LD_WAIT_CONFIG, so taking a
// spinlock_t (or any sleeping lock) inside one is "[ BUG: Invalid wait
// context ]" (CONFIG_PROVE_RAW_LOCK_NESTING).
struct raw_spinlock_t {
  spinlock_t rlock;
};
#define DEFINE_RAW_SPINLOCK(x) ::kmc::kernel::raw_spinlock_t x { { #x, true, {0, 0} } }
#define raw_spin_lock_init(l) ::kmc::kernel::raw_spin_lock_init_named((l), #l)
void raw_spin_lock_init_named(raw_spinlock_t* lock, const char* name,
                              const Loc& loc = Loc::current());
void raw_spin_lock(raw_spinlock_t* lock, const Loc& loc = Loc::current());
void raw_spin_lock_nested(raw_spinlock_t* lock, int subclass, const Loc& loc = Loc::current());
void raw_spin_unlock(raw_spinlock_t* lock, const Loc& loc = Loc::current());
int raw_spin_trylock(raw_spinlock_t* lock, const Loc& loc = Loc::current());
void raw_spin_lock_irq(raw_spinlock_t* lock, const Loc& loc = Loc::current());
void raw_spin_unlock_irq(raw_spinlock_t* lock, const Loc& loc = Loc::current());
void raw_spin_lock_bh(raw_spinlock_t* lock, const Loc& loc = Loc::current());
void raw_spin_unlock_bh(raw_spinlock_t* lock, const Loc& loc = Loc::current());
unsigned long raw_spin_lock_irqsave_impl(raw_spinlock_t* lock, const Loc& loc);
#define raw_spin_lock_irqsave(lock, flags) \
  ((flags) = ::kmc::kernel::raw_spin_lock_irqsave_impl((lock), std::source_location::current()))
void raw_spin_unlock_irqrestore(raw_spinlock_t* lock, unsigned long flags,
                                const Loc& loc = Loc::current());
bool raw_spin_is_locked(raw_spinlock_t* lock, const Loc& loc = Loc::current());

// rwlock_t (include/linux/rwlock.h): readers share, writers exclude; reads
// are recursive (a reader may re-take the lock even with a writer waiting,
// unlike rw_semaphore). Same four variants as spinlock_t; same debug checks
// ("BUG: rwlock recursion/wrong owner/..."). Memory ordering as spinlock_t.
struct rwlock_t {
  const char* name;
  bool defined;
  mutable internal::Handle h;
};
#define DEFINE_RWLOCK(x) ::kmc::kernel::rwlock_t x { #x, true, {0, 0} }
#define rwlock_init(l) ::kmc::kernel::rwlock_init_named((l), #l)
void rwlock_init_named(rwlock_t* lock, const char* name, const Loc& loc = Loc::current());
void read_lock(rwlock_t* lock, const Loc& loc = Loc::current());
void read_unlock(rwlock_t* lock, const Loc& loc = Loc::current());
void write_lock(rwlock_t* lock, const Loc& loc = Loc::current());
void write_unlock(rwlock_t* lock, const Loc& loc = Loc::current());
int read_trylock(rwlock_t* lock, const Loc& loc = Loc::current());
int write_trylock(rwlock_t* lock, const Loc& loc = Loc::current());
void read_lock_irq(rwlock_t* lock, const Loc& loc = Loc::current());
void read_unlock_irq(rwlock_t* lock, const Loc& loc = Loc::current());
void write_lock_irq(rwlock_t* lock, const Loc& loc = Loc::current());
void write_unlock_irq(rwlock_t* lock, const Loc& loc = Loc::current());
void read_lock_bh(rwlock_t* lock, const Loc& loc = Loc::current());
void read_unlock_bh(rwlock_t* lock, const Loc& loc = Loc::current());
void write_lock_bh(rwlock_t* lock, const Loc& loc = Loc::current());
void write_unlock_bh(rwlock_t* lock, const Loc& loc = Loc::current());
unsigned long read_lock_irqsave_impl(rwlock_t* lock, const Loc& loc);
unsigned long write_lock_irqsave_impl(rwlock_t* lock, const Loc& loc);
#define read_lock_irqsave(lock, flags) \
  ((flags) = ::kmc::kernel::read_lock_irqsave_impl((lock), std::source_location::current()))
#define write_lock_irqsave(lock, flags) \
  ((flags) = ::kmc::kernel::write_lock_irqsave_impl((lock), std::source_location::current()))
void read_unlock_irqrestore(rwlock_t* lock, unsigned long flags, const Loc& loc = Loc::current());
void write_unlock_irqrestore(rwlock_t* lock, unsigned long flags, const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_SPINLOCK_H_
