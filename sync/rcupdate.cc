// kmc: RCU. Semantics: include/linux/rcupdate.h, kernel/rcu/tree.c; the
// engine scheme is docs/KERNEL_SEMANTICS.md §7.3 (see sync/rcupdate.h).

#include "sync/rcupdate.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "sync/internal/prims.h"
#include "sync/slab.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::MemOrder;
using internal::Runtime;
using internal::TaskState;

// The lock lockdep sees for readers (rcu_lock_map).
constexpr char kRcuLockName[] = "rcu_read_lock";

// Per-task reader state.
struct TaskRcu {
  int nesting = 0;
  uint64_t section = 0;  // outermost sections entered so far
  Loc entered;           // where the current outermost section began
  internal::SyncState channel;  // rcu_read_unlock() releases, synchronize_rcu() acquires
};

struct Callback {
  rcu_head *head = nullptr;
  rcu_callback_t func = nullptr;
  const void *kfree_object = nullptr;  // kfree_rcu(): kfree this instead of func(head)
  uint64_t queued_gp = 0;              // gp_seq when queued
  Loc where;
};

// Engine state of RCU for one execution.
struct RcuState : internal::ObjectState {
  std::map<int, TaskRcu> tasks;  // by engine thread; -1 is module init/exit
  uint64_t gp_seq = 0;           // grace periods started
  std::vector<int> gp_waiters;   // threads sleeping in synchronize_rcu()
  std::vector<Callback> callbacks;
  internal::SyncState cb_channel;  // call_rcu() releases, the callback runner acquires
  bool running_callbacks = false;
};

// rcu_state is a kernel singleton; its engine state is rebuilt per execution.
internal::Handle g_rcu_handle{0, 0};

RcuState &State() {
  RcuState &s = Runtime::Get().Object<RcuState>(g_rcu_handle);
  s.name = "rcu";
  return s;
}

int Me() { return Runtime::Get().CurrentIndex(); }

TaskRcu &Mine(RcuState &s) { return s.tasks[Me()]; }

std::string TaskName(int thread) {
  const auto &tasks = Runtime::Get().tasks();
  if (thread >= 0 && thread < static_cast<int>(tasks.size())) return internal::TaskTag(tasks[thread]);
  return "insmod/100";
}

// One snapshot entry: a reader the grace period must wait for.
struct Waited {
  int thread;
  uint64_t section;
};

bool StillReading(RcuState &s, const Waited &w) {
  const TaskRcu &r = s.tasks[w.thread];
  return r.nesting > 0 && r.section == w.section;
}

[[noreturn]] void IllegalInReader(const char *fn, const TaskRcu &mine, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  rt.Fail(Verdict::kDeadlock, "WARNING: suspicious RCU usage",
          "kernel/rcu/tree.c: Illegal " + std::string(fn) +
              "() in RCU read-side critical section!\n\n"
              "other info that might help us debug this:\n\n"
              "rcu_scheduler_active = 2, debug_locks = 1\n" +
              rt.HeldLocksText(rt.Current()) + "the call: " + fn + "() at " +
              internal::FormatLoc(loc) + " by " + rt.Who() +
              ", inside the reader section entered at " + internal::FormatLoc(mine.entered) +
              "\nThe grace period waits for this task's own reader: it can never end.\n",
          loc);
}

// Waits for a grace period (the caller holds an AtomicSection). Returns the
// number of the grace period (callbacks queued before it are now safe).
uint64_t GracePeriod(const char *fn, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  RcuState &s = State();
  // The grace period starts after every call_rcu() so far: what their
  // callers did before queueing (list_del_rcu(), say) is ordered before the
  // start, and so before every reader that the grace period does not wait for.
  internal::SyncAcquire(s.cb_channel, loc);
  internal::Fence(MemOrder::kSeqCst, loc);
  const uint64_t gp = ++s.gp_seq;
  std::vector<Waited> waited;
  const int me = Me();
  for (const auto &[thread, r] : s.tasks) {
    if (thread != me && r.nesting > 0) waited.push_back(Waited{thread, r.section});
  }
  if (!waited.empty() && !rt.running()) {
    // Module init/exit runs alone: a reader still open then belongs to a task
    // that has already returned (reported as "still has locks held").
    waited.clear();
  }
  for (;;) {
    const Waited *pending = nullptr;
    for (const Waited &w : waited) {
      if (StillReading(s, w)) {
        pending = &w;
        break;
      }
    }
    if (pending == nullptr) break;
    TaskState &t = rt.Current();
    t.wait_object = &g_rcu_handle;
    t.wait_what = std::string(fn) + "() waiting for the RCU reader of " +
                  TaskName(pending->thread) + " (rcu_read_lock at " +
                  internal::FormatLoc(s.tasks[pending->thread].entered) + ")";
    t.wait_loc = loc;
    s.gp_waiters.push_back(t.thread);
    internal::Park(false, loc);
    RcuState &again = State();
    auto it = std::find(again.gp_waiters.begin(), again.gp_waiters.end(), t.thread);
    if (it != again.gp_waiters.end()) again.gp_waiters.erase(it);
    t.wait_object = nullptr;
  }
  for (const Waited &w : waited) internal::SyncAcquire(s.tasks[w.thread].channel, loc);
  internal::Fence(MemOrder::kSeqCst, loc);
  return gp;
}

// Runs the callbacks queued before grace period `gp` began (all of them
// when all is true), in the current task with preemption disabled.
void RunCallbacks(uint64_t gp, bool all, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  RcuState &s = State();
  if (s.running_callbacks) return;  // a callback that calls synchronize_rcu()
  s.running_callbacks = true;
  for (;;) {
    RcuState &st = State();
    auto it = std::find_if(st.callbacks.begin(), st.callbacks.end(),
                           [&](const Callback &c) { return all || c.queued_gp < gp; });
    if (it == st.callbacks.end()) break;
    const Callback cb = *it;
    st.callbacks.erase(it);
    {
      internal::AtomicSection section;
      internal::SyncAcquire(st.cb_channel, loc);
    }
    TaskState &t = rt.Current();
    t.preempt_count += 1;  // callbacks run in softirq context: no sleeping
    if (cb.kfree_object != nullptr) {
      rt.Note(
          [&] {
            return "rcu callback: kfree_rcu() queued at " + internal::FormatLoc(cb.where);
          },
          loc);
      kfree(cb.kfree_object, cb.where);
    } else {
      rt.Note([&] { return "rcu callback queued at " + internal::FormatLoc(cb.where); }, loc);
      cb.func(cb.head);
    }
    rt.Current().preempt_count -= 1;
  }
  State().running_callbacks = false;
}

void Queue(Callback cb, const char *fn, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  RcuState &s = State();
  rt.Step(&g_rcu_handle, fn, "", Access::kWrite, loc);
  internal::AtomicSection section;
  // The kernel writes head->next and head->func: a head inside a freed
  // object is a use after free.
  rt.CheckKernelRange(cb.head, sizeof(rcu_head), true, fn, loc);
  for (const Callback &c : s.callbacks) {
    if (c.head == cb.head) {
      rt.Fail(Verdict::kLockMisuse,
              "ODEBUG: activate active (active state 1) object type: rcu_head",
              std::string(fn) + "() at " + internal::FormatLoc(loc) + " by " + rt.Who() +
                  " queues an rcu_head that is already queued (at " +
                  internal::FormatLoc(c.where) + ")\n",
              loc);
    }
  }
  if (cb.head != nullptr) {
    cb.head->next = nullptr;
    cb.head->func = cb.func;
  }
  cb.queued_gp = s.gp_seq;
  cb.where = loc;
  s.callbacks.push_back(cb);
  internal::SyncRelease(s.cb_channel, loc);
}

}  // namespace

void rcu_read_lock(const Loc &loc) {
  Runtime &rt = Runtime::Get();
  rt.Step(&g_rcu_handle, "rcu_read_lock", "", Access::kAcquire, loc);
  internal::AtomicSection section;
  RcuState &s = State();
  TaskRcu &r = Mine(s);
  TaskState &t = rt.Current();
  r.nesting += 1;
  if (r.nesting == 1) {
    r.section += 1;
    r.entered = loc;
    internal::Fence(MemOrder::kSeqCst, loc);
  }
  t.preempt_count += 1;  // non-preemptible RCU: preempt_disable()
  internal::PushHeld(t, &g_rcu_handle, kRcuLockName, "rcu_read_lock", loc);
}

void rcu_read_unlock(const Loc &loc) {
  Runtime &rt = Runtime::Get();
  rt.Step(&g_rcu_handle, "rcu_read_unlock", "", Access::kRelease, loc);
  internal::AtomicSection section;
  RcuState &s = State();
  TaskRcu &r = Mine(s);
  TaskState &t = rt.Current();
  if (r.nesting == 0) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: bad unlock balance detected!",
            internal::TaskTag(t) + " is trying to release lock (rcu_read_lock) at:\n" +
                internal::FormatLoc(loc) + "\nbut there are no more locks to release!\n\n" +
                rt.HeldLocksText(t),
            loc);
  }
  if (r.nesting == 1) {
    internal::Fence(MemOrder::kSeqCst, loc);
    internal::SyncRelease(r.channel, loc);
  }
  r.nesting -= 1;
  t.preempt_count -= 1;  // preempt_enable()
  internal::PopHeld(t, &g_rcu_handle);
  if (r.nesting == 0 && !s.gp_waiters.empty()) {
    const std::vector<int> waiters = s.gp_waiters;
    for (int w : waiters) internal::Unpark(w, loc);
  }
}

bool rcu_read_lock_held() {
  if (!internal::InSimulation()) return false;
  RcuState &s = State();
  auto it = s.tasks.find(Me());
  return it != s.tasks.end() && it->second.nesting > 0;
}

void synchronize_rcu(const Loc &loc) {
  Runtime &rt = Runtime::Get();
  {
    RcuState &s = State();
    auto it = s.tasks.find(Me());
    if (it != s.tasks.end() && it->second.nesting > 0) {
      IllegalInReader("synchronize_rcu", it->second, loc);
    }
  }
  rt.MightSleep("synchronize_rcu", loc);
  rt.Step(&g_rcu_handle, "synchronize_rcu", "", Access::kBlock, loc);
  uint64_t gp = 0;
  {
    internal::AtomicSection section;
    gp = GracePeriod("synchronize_rcu", loc);
  }
  RunCallbacks(gp, false, loc);
}

void call_rcu(rcu_head *head, rcu_callback_t func, const Loc &loc) {
  Callback cb;
  cb.head = head;
  cb.func = func;
  Queue(cb, "call_rcu", loc);
}

void rcu_barrier(const Loc &loc) {
  Runtime &rt = Runtime::Get();
  {
    RcuState &s = State();
    auto it = s.tasks.find(Me());
    if (it != s.tasks.end() && it->second.nesting > 0) {
      IllegalInReader("rcu_barrier", it->second, loc);
    }
  }
  rt.MightSleep("rcu_barrier", loc);
  rt.Step(&g_rcu_handle, "rcu_barrier", "", Access::kBlock, loc);
  uint64_t gp = 0;
  {
    internal::AtomicSection section;
    gp = GracePeriod("rcu_barrier", loc);
  }
  RunCallbacks(gp, true, loc);
}

namespace detail {

void KfreeRcu(const void *object, rcu_head *head, const Loc &loc) {
  Callback cb;
  cb.head = head;
  cb.kfree_object = object;
  Queue(cb, "kfree_rcu", loc);
}

void RcuDereferenceCheck(bool ok, const char *fn, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  if (ok || !internal::InSimulation() || !rt.running() || !rt.in_task()) return;
  if (rcu_read_lock_held()) return;
  const std::string what = std::string(fn) == "rcu_dereference_protected"
                               ? "suspicious rcu_dereference_protected() usage!"
                               : "suspicious rcu_dereference_check() usage!";
  rt.Fail(Verdict::kLockMisuse, "WARNING: suspicious RCU usage",
          internal::FormatLoc(loc) + " " + what +
              "\n\nother info that might help us debug this:\n\n"
              "rcu_scheduler_active = 2, debug_locks = 1\n" +
              rt.HeldLocksText(rt.Current()) + fn + "() in " + internal::ShortFunction(loc) +
              " by " + rt.Who() + " outside rcu_read_lock() and without the update-side lock\n",
          loc);
}

bool LockHeld(const void *lock) {
  if (!internal::InSimulation()) return true;
  const TaskState &t = Runtime::Get().Current();
  for (const internal::HeldLock &h : t.held) {
    if (h.lock == lock) return true;
  }
  return false;
}

}  // namespace detail
}  // namespace kmc::kernel
