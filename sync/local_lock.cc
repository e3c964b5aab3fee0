// kmc: local_lock_t. Semantics: include/linux/local_lock_internal.h.

#include "sync/local_lock.h"

#include <string>

#include "sync/interrupt.h"
#include "sync/internal/prims.h"
#include "sync/lockdep.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;
using internal::TaskState;

struct LocalLockState : internal::ObjectState {};

LocalLockState& State(local_lock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  LocalLockState& s = rt.Object<LocalLockState>(lock->h);
  if (!s.initialized) {
    if (!lock->defined) {
      rt.Fail(Verdict::kLockMisuse, "INFO: trying to register non-static key.",
              "a local_lock_t at " + internal::FormatLoc(loc) +
                  " was used without local_lock_init() or INIT_LOCAL_LOCK()\n",
              loc);
    }
    s.initialized = true;
    s.name = lock->name ? lock->name : "local_lock";
  }
  return s;
}

void Lock(local_lock_t* lock, const char* fn, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  LocalLockState& s = State(lock, loc);
  rt.Step(lock, fn, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  t.preempt_count += 1;  // preempt_disable()
  internal::lockdep::Acquisition a;
  a.type = "local_lock_t";
  a.wait = internal::lockdep::kWaitConfig;
  internal::lockdep::Acquire(lock, s.name, a, loc);
  internal::PushHeld(t, lock, s.name, "local_lock_t", loc);
  t.held.back().variant = fn;
}

void Unlock(local_lock_t* lock, const char* fn, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  LocalLockState& s = State(lock, loc);
  rt.Step(lock, fn, s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  if (!internal::PopHeld(t, lock)) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: bad unlock balance detected!",
            internal::TaskTag(t) + " is trying to release lock (" + s.name + ") at:\n  " +
                internal::FormatLoc(loc) + "\nbut there are no more locks to release!\n",
            loc);
  }
  t.preempt_count -= 1;  // preempt_enable()
}

}  // namespace

void local_lock_init_named(local_lock_t* lock, const char* name, const Loc& loc) {
  internal::lockdep::Init(lock, name, "local_lock_init", internal::lockdep::kWaitConfig, loc);
  LocalLockState& s = Runtime::Get().Object<LocalLockState>(lock->h);
  s.initialized = true;
  s.name = name;
  lock->name = name;
  lock->defined = true;
}

void local_lock(local_lock_t* lock, const Loc& loc) { Lock(lock, "local_lock", loc); }
void local_unlock(local_lock_t* lock, const Loc& loc) { Unlock(lock, "local_unlock", loc); }

void local_lock_irq(local_lock_t* lock, const Loc& loc) {
  local_irq_disable(loc);
  Lock(lock, "local_lock_irq", loc);
}
void local_unlock_irq(local_lock_t* lock, const Loc& loc) {
  Unlock(lock, "local_unlock_irq", loc);
  local_irq_enable(loc);
}

unsigned long local_lock_irqsave_impl(local_lock_t* lock, const Loc& loc) {
  const unsigned long flags = local_irq_save_impl(loc);
  Lock(lock, "local_lock_irqsave", loc);
  return flags;
}
void local_unlock_irqrestore(local_lock_t* lock, unsigned long flags, const Loc& loc) {
  Unlock(lock, "local_unlock_irqrestore", loc);
  local_irq_restore(flags, loc);
}

}  // namespace kmc::kernel
