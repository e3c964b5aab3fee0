// kmc: helpers shared by the sleeping and spinning primitives.

#ifndef KMC_SYNC_INTERNAL_PRIMS_H_
#define KMC_SYNC_INTERNAL_PRIMS_H_

#include <deque>
#include <string>

#include "sync/internal/engine.h"
#include "sync/internal/por.h"
#include "sync/internal/runtime.h"

namespace kmc::internal {

// Orders the current task after every earlier SyncRelease of the object.
void SyncAcquire(SyncState& s, const Loc& loc);
// Publishes the current task's writes to the next SyncAcquire.
void SyncRelease(SyncState& s, const Loc& loc);

// A lock's word (0 unlocked, 1 locked) in the memory model: LockAcquire()
// is an acquire RMW that also applies LKMM's unlock->lock cumulativity,
// LockRelease() a release RMW, LockWordHeld() a relaxed load (what
// spin_is_locked() sees: possibly an older state).
void LockAcquire(SyncState& s, const Loc& loc);
void LockRelease(SyncState& s, const Loc& loc);
bool LockWordHeld(SyncState& s, const Loc& loc);

// Puts the current task to sleep on `s` until GrantFirst() picks it (returns
// true) or, for interruptible sleeps in a model with kSignals, a signal
// arrives first (returns false, and the task has left the wait list).
// With `timeout` the sleep may also time out (explored): it returns false
// with signal_pending unset.
bool SleepForGrant(SyncState& s, const void* obj, const std::string& what,
                   bool interruptible, const Loc& loc, bool timeout = false);
// Removes the first sleeper, marks it granted and wakes it. Returns its
// engine thread, or -1 when nobody sleeps.
int GrantFirst(SyncState& s, const Loc& loc);

// "task/pid".
std::string TaskTag(const TaskState& t);

// The object's name for reports: its init name, or "<kind>#N".
std::string ObjectName(const ObjectState& s, const char* kind, const void* obj);

void PushHeld(TaskState& t, const void* lock, const std::string& name,
              const char* type, const Loc& loc);
// Returns false when the task does not hold the lock.
bool PopHeld(TaskState& t, const void* lock);

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_PRIMS_H_
