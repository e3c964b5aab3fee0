// kmc: spinlock_t. Semantics and reports: include/linux/spinlock.h,
// kernel/locking/spinlock_debug.c.

#include "sync/spinlock.h"

#include <string>

#include "sync/internal/prims.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;
using internal::TaskState;

struct SpinState : internal::SyncState {
  int owner = -1;  // engine thread; -2 for module init/exit
  int owner_cpu = -1;
  Loc owner_loc;
};

int Me() { return internal::CurrentThread() >= 0 && Runtime::Get().running()
                      ? internal::CurrentThread() : -2; }

std::string SpinBug(const char* what, const TaskState& t) {
  return std::string("BUG: spinlock ") + what + " on CPU#" + std::to_string(t.cpu) + ", " +
         internal::TaskTag(t);
}

SpinState& State(spinlock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = rt.Object<SpinState>(lock->h);
  if (!s.initialized) {
    if (!lock->defined) {
      rt.Fail(Verdict::kLockMisuse, SpinBug("bad magic", rt.Current()),
              "lock: spinlock_t at " + internal::FormatLoc(loc) +
                  " was used without spin_lock_init() or DEFINE_SPINLOCK()\n",
              loc);
    }
    s.initialized = true;
    s.name = lock->name ? lock->name : "spinlock";
  }
  return s;
}

std::string OwnerText(const SpinState& s) {
  const auto& tasks = Runtime::Get().tasks();
  if (s.owner >= 0 && s.owner < static_cast<int>(tasks.size())) {
    return internal::TaskTag(tasks[s.owner]) + ", .owner_cpu: " + std::to_string(s.owner_cpu);
  }
  return s.owner == -1 ? std::string("<none>, .owner_cpu: -1") : std::string("insmod/100");
}

void Acquired(SpinState& s, spinlock_t* lock, TaskState& t, const Loc& loc) {
  s.owner = Me();
  s.owner_cpu = t.cpu;
  s.owner_loc = loc;
  internal::PushHeld(t, lock, s.name, "spinlock_t", loc);
  internal::SyncAcquire(s, loc);
}

}  // namespace

void spin_lock_init_named(spinlock_t* lock, const char* name, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = rt.Object<SpinState>(lock->h);
  s = SpinState{};
  s.initialized = true;
  s.name = name;
  lock->name = name;
  (void)loc;
}

void spin_lock(spinlock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, loc);
  rt.Step(lock, "spin_lock", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  t.preempt_count += 1;  // preempt_disable()
  if (s.owner == Me()) {
    rt.Fail(Verdict::kDeadlock, SpinBug("recursion", t),
            " lock: " + s.name + ", .owner: " + OwnerText(s) + "\n  first taken at " +
                internal::FormatLoc(s.owner_loc) + "\n  taken again at " +
                internal::FormatLoc(loc) + "\nThe task spins forever on a lock it holds.\n",
            loc);
  }
  if (s.owner == -1) {
    Acquired(s, lock, t, loc);
    return;
  }
  internal::SleepForGrant(s, lock, "spin_lock(" + s.name + ")", false, loc);
  Acquired(s, lock, t, loc);
}

int spin_trylock(spinlock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, loc);
  rt.Step(lock, "spin_trylock", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.owner != -1) return 0;
  TaskState& t = rt.Current();
  t.preempt_count += 1;
  Acquired(s, lock, t, loc);
  return 1;
}

void spin_unlock(spinlock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, loc);
  rt.Step(lock, "spin_unlock", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  if (s.owner == -1) {
    rt.Fail(Verdict::kLockMisuse, SpinBug("already unlocked", t),
            " lock: " + s.name + ", .owner: <none>, .owner_cpu: -1\n  unlocked at " +
                internal::FormatLoc(loc) + "\n",
            loc);
  }
  if (s.owner != Me()) {
    rt.Fail(Verdict::kLockMisuse, SpinBug("wrong owner", t),
            " lock: " + s.name + ", .owner: " + OwnerText(s) + "\n  locked at " +
                internal::FormatLoc(s.owner_loc) + "\n  unlocked at " + internal::FormatLoc(loc) +
                "\n",
            loc);
  }
  internal::PopHeld(t, lock);
  t.preempt_count -= 1;  // preempt_enable()
  internal::SyncRelease(s, loc);
  const int next = internal::GrantFirst(s, loc);
  s.owner = next >= 0 ? next : -1;
  if (next >= 0) s.owner_cpu = rt.tasks()[next].cpu;
}

bool spin_is_locked(spinlock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, loc);
  rt.Step(lock, "spin_is_locked", s.name, Access::kRead, loc);
  return s.owner != -1;
}

}  // namespace kmc::kernel
