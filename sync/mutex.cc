// kmc: struct mutex. Semantics: kernel/locking/mutex.c, mutex-design.rst.

#include "sync/mutex.h"

#include <string>

#include "sync/internal/prims.h"
#include "sync/lockdep.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;
using internal::TaskState;

struct MutexState : internal::SyncState {
  int owner = -1;  // engine thread, -1 when unlocked; -2 setup/exit code
  Loc owner_loc;
  bool destroyed = false;  // mutex_destroy() (until the next mutex_init())
  Loc destroy_loc;
};

int Me() { return internal::CurrentThread() >= 0 && Runtime::Get().running()
                      ? internal::CurrentThread() : -2; }

MutexState& State(mutex* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  MutexState& s = rt.Object<MutexState>(lock->h);
  if (!s.initialized) {
    if (!lock->defined) {
      rt.Fail(Verdict::kLockMisuse, "INFO: trying to register non-static key.",
              "a struct mutex at " + internal::FormatLoc(loc) +
                  " was used without mutex_init() or DEFINE_MUTEX()\n",
              loc);
    }
    s.initialized = true;
    s.name = lock->name ? lock->name : "mutex";
  }
  return s;
}

void Acquired(MutexState& s, mutex* lock, const Loc& loc, bool sleeping = false) {
  TaskState& t = Runtime::Get().Current();
  if (s.owner == -1) Runtime::Get().LockCountChanged(lock, 1, -1, sleeping);
  s.owner = Me();
  s.owner_loc = loc;
  internal::PushHeld(t, lock, s.name, "struct mutex", loc);
  internal::LockAcquire(s, loc);
}

internal::lockdep::Acquisition MutexDep(int subclass = 0, const void* nest = nullptr,
                                        bool trylock = false) {
  internal::lockdep::Acquisition a;
  a.type = "struct mutex";
  a.wait = internal::lockdep::kWaitSleep;
  a.subclass = subclass;
  a.nest_lock = nest;
  a.trylock = trylock;
  return a;
}

int LockCommon(mutex* lock, const char* fn, bool interruptible, const Loc& loc,
               int subclass = 0, const void* nest = nullptr) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep(fn, loc);
  MutexState& s = State(lock, loc);
  rt.SetWouldSleep(
      [](const void* p, int thread) {
        const int owner = static_cast<const MutexState*>(p)->owner;
        return owner != -1 && owner != thread;
      },
      &s, interruptible);
  rt.Step(lock, fn, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.destroyed) {
    rt.Fail(Verdict::kLockMisuse, "DEBUG_LOCKS_WARN_ON(lock->magic != lock)",
            internal::TaskTag(rt.Current()) + " takes " + s.name + " at " +
                internal::FormatLoc(loc) + " after mutex_destroy() at " +
                internal::FormatLoc(s.destroy_loc) + "\n",
            loc);
  }
  internal::lockdep::Acquire(lock, s.name, MutexDep(subclass, nest), loc);
  if (s.owner == Me()) {
    TaskState& t = rt.Current();
    rt.Fail(Verdict::kDeadlock, "WARNING: possible recursive locking detected",
            internal::TaskTag(t) + " is trying to acquire lock:\n  " + s.name + " at " +
                internal::FormatLoc(loc) + "\nbut task is already holding lock:\n  " + s.name +
                " at " + internal::FormatLoc(s.owner_loc) +
                "\n\n Possible unsafe locking scenario:\n       CPU0\n       ----\n  lock(" +
                s.name + ");\n  lock(" + s.name + ");\n\n *** DEADLOCK ***\n",
            loc);
  }
  if (s.owner == -1) {
    Acquired(s, lock, loc, /*sleeping=*/rt.LeavesOutWaiter(interruptible));
    return 0;
  }
  if (!internal::SleepForGrant(s, lock, std::string(fn) + "(" + s.name + ")", interruptible,
                               loc)) {
    internal::lockdep::Release(lock);
    return -EINTR;
  }
  Acquired(s, lock, loc);
  return 0;
}

}  // namespace

void mutex_init_named(mutex* lock, const char* name, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  internal::lockdep::Init(lock, name, "mutex_init", internal::lockdep::kWaitSleep, loc);
  MutexState& s = rt.Object<MutexState>(lock->h);
  if (s.initialized && s.owner != -1) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: held lock freed!",
            std::string("mutex_init() of ") + name + " while it is held (locked at " +
                internal::FormatLoc(s.owner_loc) + ")\n",
            loc);
  }
  s = MutexState{};
  s.initialized = true;
  s.name = name;
  lock->name = name;
}

void mutex_lock(mutex* lock, const Loc& loc) { LockCommon(lock, "mutex_lock", false, loc); }

void mutex_lock_nested(mutex* lock, int subclass, const Loc& loc) {
  LockCommon(lock, "mutex_lock_nested", false, loc, subclass);
}

int mutex_lock_interruptible_nested(mutex* lock, int subclass, const Loc& loc) {
  return LockCommon(lock, "mutex_lock_interruptible_nested", true, loc, subclass);
}

int mutex_lock_killable_nested(mutex* lock, int subclass, const Loc& loc) {
  return LockCommon(lock, "mutex_lock_killable_nested", true, loc, subclass);
}

void mutex_lock_nest_lock_impl(mutex* lock, const void* nest, const Loc& loc) {
  LockCommon(lock, "mutex_lock_nest_lock", false, loc, 0, nest);
}

void mutex_destroy(mutex* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  MutexState& s = State(lock, loc);
  rt.Note([&] { return std::string("mutex_destroy(") + s.name + ")"; }, loc);
  if (s.owner != -1) {
    rt.Fail(Verdict::kLockMisuse, "DEBUG_LOCKS_WARN_ON(mutex_is_locked(lock))",
            "mutex_destroy() of " + s.name + " at " + internal::FormatLoc(loc) +
                " while it is locked (taken at " + internal::FormatLoc(s.owner_loc) + ")\n",
            loc);
  }
  s.destroyed = true;
  s.destroy_loc = loc;
}

int mutex_lock_interruptible(mutex* lock, const Loc& loc) {
  return LockCommon(lock, "mutex_lock_interruptible", true, loc);
}

int mutex_lock_killable(mutex* lock, const Loc& loc) {
  return LockCommon(lock, "mutex_lock_killable", true, loc);
}

int mutex_trylock(mutex* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  MutexState& s = State(lock, loc);
  rt.Step(lock, "mutex_trylock", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.owner != -1) return 0;
  internal::lockdep::Acquire(lock, s.name, MutexDep(0, nullptr, true), loc);
  Acquired(s, lock, loc);
  return 1;
}

void mutex_unlock(mutex* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  MutexState& s = State(lock, loc);
  rt.Step(lock, "mutex_unlock", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  if (s.owner == -1) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: bad unlock balance detected!",
            internal::TaskTag(t) + " is trying to release lock (" + s.name + ") at:\n  " +
                internal::FormatLoc(loc) + "\nbut there are no more locks to release!\n",
            loc);
  }
  if (s.owner != Me()) {
    const auto& tasks = rt.tasks();
    const std::string owner = s.owner >= 0 && s.owner < static_cast<int>(tasks.size())
                                  ? internal::TaskTag(tasks[s.owner])
                                  : std::string("module init");
    rt.Fail(Verdict::kLockMisuse,
            "DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)",
            internal::TaskTag(t) + " unlocks " + s.name + " at " + internal::FormatLoc(loc) +
                " but the owner is " + owner + " (locked at " +
                internal::FormatLoc(s.owner_loc) + ")\n",
            loc);
  }
  internal::PopHeld(t, lock);
  internal::LockRelease(s, loc);
  const int next = internal::GrantFirst(s, loc);
  s.owner = next >= 0 ? next : -1;
  if (next < 0) rt.LockCountChanged(lock, 0, 1, false);
}

bool mutex_is_locked(mutex* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  MutexState& s = State(lock, loc);
  rt.Step(lock, "mutex_is_locked", s.name, Access::kRead, loc);
  if (!rt.running()) return s.owner != -1;
  internal::AtomicSection section;
  return internal::LockWordHeld(s, loc);
}

}  // namespace kmc::kernel
