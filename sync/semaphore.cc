// kmc: struct semaphore. Semantics: kernel/locking/semaphore.c.

#include "sync/semaphore.h"

#include <string>

#include "sync/internal/prims.h"

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

int DownCommon(semaphore* sem, const char* fn, bool interruptible, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep(fn, loc);
  SemState& s = State(sem, loc);
  rt.Step(sem, fn, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.count > 0) {
    s.count -= 1;
    internal::SyncAcquire(s, loc);
    return 0;
  }
  if (!internal::SleepForGrant(s, sem, std::string(fn) + "(" + s.name + ")", interruptible,
                               loc)) {
    return -EINTR;
  }
  internal::SyncAcquire(s, loc);
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
  rt.Note(std::string("sema_init(") + name + ", " + std::to_string(val) + ")", loc);
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
    s.count -= 1;
    internal::SyncAcquire(s, loc);
    return 0;
  }
  return 1;
}

void up(semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SemState& s = State(sem, loc);
  rt.Step(sem, "up", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  internal::SyncRelease(s, loc);
  if (internal::GrantFirst(s, loc) < 0) s.count += 1;
}

}  // namespace kmc::kernel
