// kmc: struct mutex (kernel/locking/mutex.c, Documentation/locking/mutex-design.rst).
//
// Rules enforced (MX-R): one owner at a time; only the owner unlocks; no
// double unlock; no recursive locking (a self-deadlock, reported as lockdep's
// "possible recursive locking detected"); initialize before use; never from
// atomic or interrupt context (might_sleep()).
//
// Context: mutex_lock*() may sleep. mutex_trylock/mutex_unlock: process
// context. Memory ordering: unlock releases, lock acquires.

#ifndef KMC_SYNC_MUTEX_H_
#define KMC_SYNC_MUTEX_H_

#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

struct mutex {
  const char* name;
  bool defined;
  mutable internal::Handle h;
};

#define DEFINE_MUTEX(m) ::kmc::kernel::mutex m { #m, true, {0, 0} }
#define mutex_init(m) ::kmc::kernel::mutex_init_named((m), #m)

void mutex_init_named(mutex* lock, const char* name, const Loc& loc = Loc::current());
void mutex_lock(mutex* lock, const Loc& loc = Loc::current());
// Return: 0, or -EINTR when a signal arrived while sleeping.
int mutex_lock_interruptible(mutex* lock, const Loc& loc = Loc::current());
int mutex_lock_killable(mutex* lock, const Loc& loc = Loc::current());
// Return: 1 when acquired, 0 when contended.
int mutex_trylock(mutex* lock, const Loc& loc = Loc::current());
void mutex_unlock(mutex* lock, const Loc& loc = Loc::current());
// Lockdep annotations (sync/lockdep.h).
void mutex_lock_nested(mutex* lock, int subclass, const Loc& loc = Loc::current());
int mutex_lock_interruptible_nested(mutex* lock, int subclass, const Loc& loc = Loc::current());
int mutex_lock_killable_nested(mutex* lock, int subclass, const Loc& loc = Loc::current());
void mutex_lock_nest_lock_impl(mutex* lock, const void* nest, const Loc& loc);
#define mutex_lock_nest_lock(lock, nest) \
  ::kmc::kernel::mutex_lock_nest_lock_impl((lock), (nest), std::source_location::current())
// mutex_destroy(): the mutex must be unlocked, and is unusable until the next
// mutex_init() (with CONFIG_DEBUG_MUTEXES a later lock warns).
void mutex_destroy(mutex* lock, const Loc& loc = Loc::current());
bool mutex_is_locked(mutex* lock, const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_MUTEX_H_
