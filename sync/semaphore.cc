// kmc: struct semaphore. Semantics: kernel/locking/semaphore.c.

#include "sync/semaphore.h"

#include <string>

#include "sync/internal/prims.h"
#include "sync/lockdep.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;

struct SemState : internal::SyncState {
  int count = 0;
};

SemState& State(semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SemState& s = rt.Object<SemState>(sem->h);
  if (!s.initialized) {
    if (!sem->defined) {
      rt.Fail(Verdict::kLockMisuse, "kmc: semaphore used before sema_init()",
              "a struct semaphore at " + internal::FormatLoc(loc) +
                  " was never initialized (sema_init or DEFINE_SEMAPHORE)\n",
              loc);
    }
    s.initialized = true;
    s.count = sem->initial;
    s.name = sem->name ? sem->name : "semaphore";
  }
  return s;
}

// A semaphore initialized with a count of 1 is used as a sleeping lock:
// lockdep tracks it like a mutex (an up() by another task releases it for
// its holder). Counting semaphores are not locks and are not tracked.
internal::lockdep::Acquisition SemDep(bool trylock = false) {
  internal::lockdep::Acquisition a;
  a.type = "struct semaphore";
  a.wait = internal::lockdep::kWaitSleep;
  a.trylock = trylock;
  return a;
}

int DownCommon(semaphore* sem, const char* fn, bool interruptible, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep(fn, loc);
  SemState& s = State(sem, loc);
  rt.SetWouldSleep([](const void* p, int) { return static_cast<const SemState*>(p)->count <= 0; },
                   &s, interruptible);
  rt.Step(sem, fn, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (sem->initial == 1) internal::lockdep::Acquire(sem, s.name, SemDep(), loc);
  if (s.count > 0) {
    rt.LockCountChanged(sem, s.count, -1, rt.LeavesOutWaiter(interruptible));
    s.count -= 1;
    internal::SyncAcquire(s, loc);
    rt.NoteSemaphore(sem, s.name, true);
    return 0;
  }
  if (!internal::SleepForGrant(s, sem, std::string(fn) + "(" + s.name + ")", interruptible,
                               loc)) {
    internal::lockdep::Release(sem);
    return -EINTR;
  }
  internal::SyncAcquire(s, loc);
  rt.NoteSemaphore(sem, s.name, true);
  return 0;
}

}  // namespace

void sema_init_named(semaphore* sem, int val, const char* name, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SemState& s = rt.Object<SemState>(sem->h);
  s = SemState{};
  s.initialized = true;
  s.count = val;
  s.name = name;
  sem->name = name;
  sem->initial = val;
  if (val == 1) {
    internal::lockdep::Init(sem, name, "sema_init", internal::lockdep::kWaitSleep, loc);
  }
  rt.Note([&] { return std::string("sema_init(") + name + ", " + std::to_string(val) + ")"; }, loc);
}

void down(semaphore* sem, const Loc& loc) { DownCommon(sem, "down", false, loc); }

int down_interruptible(semaphore* sem, const Loc& loc) {
  return DownCommon(sem, "down_interruptible", true, loc);
}

int down_killable(semaphore* sem, const Loc& loc) {
  return DownCommon(sem, "down_killable", true, loc);
}

int down_trylock(semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SemState& s = State(sem, loc);
  rt.Step(sem, "down_trylock", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.count > 0) {
    rt.LockCountChanged(sem, s.count, -1, false);
    s.count -= 1;
    if (sem->initial == 1) internal::lockdep::Acquire(sem, s.name, SemDep(true), loc);
    internal::SyncAcquire(s, loc);
    rt.NoteSemaphore(sem, s.name, true);
    return 0;
  }
  return 1;
}

void up(semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SemState& s = State(sem, loc);
  rt.Step(sem, "up", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  if (sem->initial == 1) internal::lockdep::ReleaseAnywhere(sem);
  internal::SyncRelease(s, loc);
  rt.NoteSemaphore(sem, s.name, false);
  if (internal::GrantFirst(s, loc) < 0) {
    rt.LockCountChanged(sem, s.count, 1, false);
    s.count += 1;
  }
}

}  // namespace kmc::kernel
