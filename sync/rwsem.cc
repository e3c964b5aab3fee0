// kmc: reader/writer semaphores (kernel/locking/rwsem.c), writer-preferring.

#include "sync/rwsem.h"

#include <deque>
#include <string>

#include "sync/internal/prims.h"
#include "sync/lockdep.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;

struct RwsemState : internal::SyncState {
  int readers = 0;
  int writer = -1;              // engine thread holding it for write, -1 none
  std::deque<bool> is_writer;   // parallel to waiters
  Loc writer_loc;
};

int Me() {
  return internal::CurrentThread() >= 0 && Runtime::Get().running() ? internal::CurrentThread()
                                                                    : -2;
}

RwsemState& State(rw_semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  RwsemState& s = rt.Object<RwsemState>(sem->h);
  if (!s.initialized) {
    if (!sem->defined) {
      rt.Fail(Verdict::kLockMisuse, "INFO: trying to register non-static key.",
              "a struct rw_semaphore at " + internal::FormatLoc(loc) +
                  " was used without init_rwsem() or DECLARE_RWSEM()\n",
              loc);
    }
    s.initialized = true;
    s.name = sem->name ? sem->name : "rw_semaphore";
  }
  return s;
}

// Grants the head of the queue: one writer, or all readers up to the next writer.
void WakeWaiters(RwsemState& s, const Loc& loc) {
  if (s.waiters.empty() || s.writer != -1) return;
  if (s.is_writer.front()) {
    if (s.readers > 0) return;
    s.writer = s.waiters.front();
    s.is_writer.pop_front();
    internal::GrantFirst(s, loc);
    return;
  }
  while (!s.waiters.empty() && !s.is_writer.front()) {
    s.readers += 1;
    s.is_writer.pop_front();
    internal::GrantFirst(s, loc);
  }
}

internal::lockdep::Acquisition RwsemDep(bool read, int subclass = 0, const void* nest = nullptr,
                                        bool trylock = false) {
  internal::lockdep::Acquisition a;
  a.type = "struct rw_semaphore";
  a.wait = internal::lockdep::kWaitSleep;
  a.read = read ? internal::lockdep::kRead : internal::lockdep::kExclusive;
  a.subclass = subclass;
  a.nest_lock = nest;
  a.trylock = trylock;
  return a;
}

// The task holds the semaphore now (held-lock list: reports, exit checks).
void Held(rw_semaphore* sem, const RwsemState& s, bool read, const Loc& loc) {
  internal::PushHeld(Runtime::Get().Current(), sem, s.name, "struct rw_semaphore", loc);
  Runtime::Get().Current().held.back().variant = read ? "down_read" : "down_write";
}

bool Sleep(RwsemState& s, rw_semaphore* sem, bool writer, const char* fn, bool interruptible,
           const Loc& loc) {
  s.is_writer.push_back(writer);
  const size_t before = s.waiters.size();
  const bool ok =
      internal::SleepForGrant(s, sem, std::string(fn) + "(" + s.name + ")", interruptible, loc);
  if (!ok) {
    // Interrupted: SleepForGrant removed us from waiters; drop our kind too.
    (void)before;
    s.is_writer.resize(s.waiters.size());
    WakeWaiters(s, loc);
    internal::lockdep::Release(sem);
  }
  return ok;
}

int DownRead(rw_semaphore* sem, const char* fn, bool interruptible, const Loc& loc,
             int subclass = 0) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep(fn, loc);
  RwsemState& s = State(sem, loc);
  rt.Step(sem, fn, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  internal::lockdep::Acquire(sem, s.name, RwsemDep(true, subclass), loc);
  if (s.writer == -1 && s.waiters.empty()) {
    s.readers += 1;
  } else if (!Sleep(s, sem, false, fn, interruptible, loc)) {
    return -EINTR;
  }
  Held(sem, s, true, loc);
  internal::SyncAcquire(s, loc);
  return 0;
}

int DownWrite(rw_semaphore* sem, const char* fn, bool interruptible, const Loc& loc,
              int subclass = 0, const void* nest = nullptr) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep(fn, loc);
  RwsemState& s = State(sem, loc);
  rt.Step(sem, fn, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  internal::lockdep::Acquire(sem, s.name, RwsemDep(false, subclass, nest), loc);
  if (s.writer == Me()) {
    rt.Fail(Verdict::kDeadlock, "WARNING: possible recursive locking detected",
            internal::TaskTag(rt.Current()) + " is trying to acquire lock:\n  " + s.name +
                " at " + internal::FormatLoc(loc) + "\nbut task is already holding lock:\n  " +
                s.name + " at " + internal::FormatLoc(s.writer_loc) + "\n\n *** DEADLOCK ***\n",
            loc);
  }
  if (s.writer == -1 && s.readers == 0 && s.waiters.empty()) {
    s.writer = Me();
  } else if (!Sleep(s, sem, true, fn, interruptible, loc)) {
    return -EINTR;
  }
  s.writer = Me();
  s.writer_loc = loc;
  Held(sem, s, false, loc);
  internal::SyncAcquire(s, loc);
  return 0;
}

}  // namespace

void init_rwsem_named(rw_semaphore* sem, const char* name, const Loc& loc) {
  RwsemState& s = Runtime::Get().Object<RwsemState>(sem->h);
  s = RwsemState{};
  s.initialized = true;
  s.name = name;
  sem->name = name;
  internal::lockdep::Init(sem, name, "init_rwsem", internal::lockdep::kWaitSleep, loc);
}

void down_read(rw_semaphore* sem, const Loc& loc) { DownRead(sem, "down_read", false, loc); }

int down_read_interruptible(rw_semaphore* sem, const Loc& loc) {
  return DownRead(sem, "down_read_interruptible", true, loc);
}

int down_read_trylock(rw_semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  RwsemState& s = State(sem, loc);
  rt.Step(sem, "down_read_trylock", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.writer != -1 || !s.waiters.empty()) return 0;
  s.readers += 1;
  internal::lockdep::Acquire(sem, s.name, RwsemDep(true, 0, nullptr, true), loc);
  Held(sem, s, true, loc);
  internal::SyncAcquire(s, loc);
  return 1;
}

void up_read(rw_semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  RwsemState& s = State(sem, loc);
  rt.Step(sem, "up_read", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  if (s.readers <= 0) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: bad unlock balance detected!",
            internal::TaskTag(rt.Current()) + " is trying to release lock (" + s.name +
                ") at:\n  " + internal::FormatLoc(loc) + "\nbut there are no more locks to release!\n",
            loc);
  }
  internal::PopHeld(rt.Current(), sem);
  internal::SyncRelease(s, loc);
  s.readers -= 1;
  if (s.readers == 0) WakeWaiters(s, loc);
}

void down_write(rw_semaphore* sem, const Loc& loc) { DownWrite(sem, "down_write", false, loc); }
void down_read_nested(rw_semaphore* sem, int subclass, const Loc& loc) {
  DownRead(sem, "down_read_nested", false, loc, subclass);
}
void down_write_nested(rw_semaphore* sem, int subclass, const Loc& loc) {
  DownWrite(sem, "down_write_nested", false, loc, subclass);
}
void down_write_nest_lock_impl(rw_semaphore* sem, const void* nest, const Loc& loc) {
  DownWrite(sem, "down_write_nest_lock", false, loc, 0, nest);
}

int down_write_killable(rw_semaphore* sem, const Loc& loc) {
  return DownWrite(sem, "down_write_killable", true, loc);
}

int down_write_trylock(rw_semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  RwsemState& s = State(sem, loc);
  rt.Step(sem, "down_write_trylock", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.writer != -1 || s.readers != 0 || !s.waiters.empty()) return 0;
  s.writer = Me();
  s.writer_loc = loc;
  internal::lockdep::Acquire(sem, s.name, RwsemDep(false, 0, nullptr, true), loc);
  Held(sem, s, false, loc);
  internal::SyncAcquire(s, loc);
  return 1;
}

void up_write(rw_semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  RwsemState& s = State(sem, loc);
  rt.Step(sem, "up_write", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  if (s.writer != Me()) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: bad unlock balance detected!",
            internal::TaskTag(rt.Current()) + " is trying to release lock (" + s.name +
                ") at:\n  " + internal::FormatLoc(loc) + "\nbut it does not hold it for write\n",
            loc);
  }
  internal::PopHeld(rt.Current(), sem);
  internal::SyncRelease(s, loc);
  s.writer = -1;
  WakeWaiters(s, loc);
}

void downgrade_write(rw_semaphore* sem, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  RwsemState& s = State(sem, loc);
  rt.Step(sem, "downgrade_write", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  if (s.writer != Me()) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: bad unlock balance detected!",
            "downgrade_write(" + s.name + ") by a task that does not hold it for write, at " +
                internal::FormatLoc(loc) + "\n",
            loc);
  }
  internal::lockdep::Downgrade(sem);
  internal::SyncRelease(s, loc);
  s.writer = -1;
  s.readers += 1;
  while (!s.waiters.empty() && !s.is_writer.front()) {
    s.readers += 1;
    s.is_writer.pop_front();
    internal::GrantFirst(s, loc);
  }
}

}  // namespace kmc::kernel
