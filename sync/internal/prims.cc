#include "sync/internal/prims.h"

#include "sync/lockdep.h"

#include <algorithm>
#include <cstdio>

namespace kmc::internal {

void SyncAcquire(SyncState& s, const Loc& loc) {
  if (!InSimulation() || CurrentThread() < 0) return;
  if (s.sync == nullptr) s.sync = Runtime::Get().NewAtomic(0, s.owner);
  AtomicRmw(s.sync, RmwOp::kAdd, 0, MemOrder::kAcqRel, loc);
}

void SyncRelease(SyncState& s, const Loc& loc) { SyncAcquire(s, loc); }

void LockAcquire(SyncState& s, const Loc& loc) {
  if (!InSimulation() || CurrentThread() < 0) return;
  if (s.sync == nullptr) s.sync = Runtime::Get().NewAtomic(0, s.owner);
  AtomicRmw(s.sync, RmwOp::kXchg, 1, MemOrder::kAcqRel, loc);
  LockCumulativity(s.sync);
}

void LockRelease(SyncState& s, const Loc& loc) {
  if (!InSimulation() || CurrentThread() < 0) return;
  if (s.sync == nullptr) s.sync = Runtime::Get().NewAtomic(0, s.owner);
  AtomicRmw(s.sync, RmwOp::kXchg, 0, MemOrder::kRelease, loc);
}

bool LockWordHeld(SyncState& s, const Loc& loc) {
  if (s.sync == nullptr) return false;
  return AtomicLoad(s.sync, MemOrder::kRelaxed, loc) != 0;
}

bool SleepForGrant(SyncState& s, const void* obj, const std::string& what,
                   bool interruptible, const Loc& loc, bool timeout) {
  Runtime& rt = Runtime::Get();
  TaskState& t = rt.Current();
  if (!rt.running()) {
    rt.Fail(Verdict::kDeadlock,
            "kmc: " + what + " would sleep forever during module " +
                (t.name == "insmod" ? "init" : "exit"),
            "No task runs during fixture setup or the final check, so nothing "
            "can wake this sleep.\n",
            loc);
  }
  t.signal_pending = false;
  t.granted = false;
  s.waiters.push_back(t.thread);
  t.wait_object = obj;
  t.wait_what = what;
  t.wait_loc = loc;
  const bool may_signal = interruptible && (rt.nondet() & kSignals) && t.signals_left > 0;
  for (;;) {
    const WakeReason r = timeout ? PollPause(loc) : Park(may_signal, loc);
    if (t.granted) break;
    if (r == WakeReason::kTimeout) {
      auto it = std::find(s.waiters.begin(), s.waiters.end(), t.thread);
      if (it != s.waiters.end()) s.waiters.erase(it);
      t.wait_object = nullptr;
      const bool signal = may_signal && (!timeout || Choose(2) == 0);
      if (signal) {
        t.signals_left -= 1;
        t.signal_pending = true;
        rt.Note("signal delivered: " + what + " is interrupted", loc);
      } else {
        rt.Note("timeout expired: " + what, loc);
      }
      return false;
    }
  }
  t.granted = false;
  t.wait_object = nullptr;
  return true;
}

int GrantFirst(SyncState& s, const Loc& loc) {
  if (s.waiters.empty()) return -1;
  const int th = s.waiters.front();
  s.waiters.erase(s.waiters.begin());
  Runtime& rt = Runtime::Get();
  auto& tasks = rt.mutable_tasks();
  if (th >= 0 && th < static_cast<int>(tasks.size())) tasks[th].granted = true;
  PorTouchTask(th);
  Unpark(th, loc);
  return th;
}

std::string TaskTag(const TaskState& t) { return t.name + "/" + std::to_string(t.pid); }

std::string ObjectName(const ObjectState& s, const char* kind, const void* obj) {
  if (!s.name.empty()) return s.name;
  (void)obj;
  return std::string(kind);
}

void PushHeld(TaskState& t, const void* lock, const std::string& name, const char* type,
              const Loc& loc) {
  t.held.push_back(HeldLock{lock, name, type, loc});
  Runtime::Get().LocksChanged(t);
}

bool PopHeld(TaskState& t, const void* lock) {
  lockdep::Release(lock);
  for (size_t i = t.held.size(); i-- > 0;) {
    if (t.held[i].lock == lock) {
      t.held.erase(t.held.begin() + static_cast<long>(i));
      Runtime::Get().LocksChanged(t);
      return true;
    }
  }
  return false;
}

}  // namespace kmc::internal
