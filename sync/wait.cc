// kmc: wait queues, schedule() and poll (kernel/sched/wait.c, core.c).

#include "sync/wait.h"

#include <algorithm>
#include <string>
#include <vector>

#include "sync/internal/prims.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;
using internal::TaskState;

struct Entry {
  wait_queue_entry* wait;
  int thread;
  bool exclusive;
};

struct WaitQueueState : internal::SyncState {
  std::vector<Entry> list;
};

WaitQueueState& State(wait_queue_head_t* q, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  WaitQueueState& s = rt.Object<WaitQueueState>(q->h);
  if (!s.initialized) {
    if (!q->defined) {
      rt.Fail(Verdict::kLockMisuse, "kmc: wait queue used before init_waitqueue_head()",
              "a wait_queue_head_t at " + internal::FormatLoc(loc) +
                  " was never initialized (init_waitqueue_head or DECLARE_WAIT_QUEUE_HEAD)\n",
              loc);
    }
    s.initialized = true;
    s.name = q->name ? q->name : "wait_queue_head";
  }
  return s;
}

bool Queued(const WaitQueueState& s, const wait_queue_entry* w) {
  return std::any_of(s.list.begin(), s.list.end(), [w](const Entry& e) { return e.wait == w; });
}

void Dequeue(WaitQueueState& s, const wait_queue_entry* w) {
  s.list.erase(std::remove_if(s.list.begin(), s.list.end(),
                              [w](const Entry& e) { return e.wait == w; }),
               s.list.end());
}

void WakeSyncRelease(TaskState& target, const Loc& loc) {
  if (!internal::InSimulation() || internal::CurrentThread() < 0) return;
  if (target.wake_sync == nullptr) {
    const uint64_t key = internal::PorOwnedCellKey(internal::PorTaskKey(target.thread));
    target.wake_sync = Runtime::Get().NewKeyedAtomic(0, key);
  }
  internal::AtomicRmw(target.wake_sync, internal::RmwOp::kAdd, 1, internal::MemOrder::kRelease,
                      loc);
}

void WakeSyncAcquire(TaskState& me, const Loc& loc) {
  if (me.wake_sync == nullptr) return;
  internal::AtomicRmw(me.wake_sync, internal::RmwOp::kAdd, 0, internal::MemOrder::kAcquire, loc);
}

// try_to_wake_up(): returns true when the task was asleep in a state that
// `mode` wakes.
bool TryToWakeUp(TaskState& t, int mode, const Loc& loc) {
  internal::PorTouchTask(t.thread);  // reads and may write t's state
  if (t.state == TASK_RUNNING || (t.state & mode) == 0) return false;
  t.state = TASK_RUNNING;
  WakeSyncRelease(t, loc);
  internal::Unpark(t.thread, loc);
  return true;
}

// `describe`: set what the task sleeps in for reports (false when the
// caller, wait_event(), says it itself).
void PrepareCommon(wait_queue_head_t* q, wait_queue_entry* wait, int state, bool exclusive,
                   const char* fn, const Loc& loc, bool describe = true) {
  Runtime& rt = Runtime::Get();
  WaitQueueState& s = State(q, loc);
  rt.Step(q, fn, s.name, Access::kBlock, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  internal::SyncAcquire(s, loc);  // wq->lock
  wait->task = t.thread;
  if (exclusive) wait->flags |= WQ_FLAG_EXCLUSIVE;
  else wait->flags &= ~WQ_FLAG_EXCLUSIVE;
  if (!Queued(s, wait)) {
    if (exclusive) s.list.push_back(Entry{wait, t.thread, true});
    else s.list.insert(s.list.begin(), Entry{wait, t.thread, false});
  }
  t.signal_pending = false;
  t.state = state;
  t.state_loc = loc;
  t.state_fn = fn;
  t.wait_object = q;
  if (describe) {
    // In place: no temporaries to allocate at every prepare_to_wait().
    t.wait_what.assign("schedule() after ").append(fn).append("(").append(s.name).append(")");
  }
  t.wait_loc = loc;
  internal::Fence(internal::MemOrder::kSeqCst, loc);  // set_current_state(): smp_store_mb
  internal::SyncRelease(s, loc);
  t.in_wait_condition = true;  // until the next kernel call (Runtime::Step)
}

enum class WakeResult { kWoken, kSignal, kTimeout };

// The sleeping half of schedule(): the caller has set the task state.
WakeResult Sleep(bool allow_timeout, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TaskState& t = rt.Current();
  if (t.preempt_count > 0 || t.irqs_disabled || t.ctx != internal::Ctx::kProcess) {
    rt.Fail(Verdict::kInvalidContext,
            "BUG: scheduling while atomic: " + t.name + "/" + std::to_string(t.pid) + "/0x" +
                std::string(t.preempt_count > 0 ? "00000002" : "00010000"),
            rt.HeldLocksText(t) + "schedule() called at " + internal::FormatLoc(loc) + " by " +
                rt.Who() + "\n",
            loc);
  }
  if (t.state == TASK_RUNNING) return WakeResult::kWoken;
  if (!rt.running()) {
    rt.Fail(Verdict::kDeadlock, "kmc: sleep during module init/exit: nothing can wake it",
            t.wait_what + " at " + internal::FormatLoc(loc) + "\n", loc);
  }
  const bool may_signal = t.state == TASK_INTERRUPTIBLE && (rt.nondet() & kSignals) &&
                          t.signals_left > 0;
  if (t.wait_object == nullptr) {
    t.wait_what = "schedule()";
    t.wait_loc = loc;
    t.wait_object = &t;
  }
  for (;;) {
    const internal::WakeReason r =
        allow_timeout ? internal::PollPause(loc) : internal::Park(may_signal, loc);
    if (t.state == TASK_RUNNING) {
      WakeSyncAcquire(t, loc);
      return WakeResult::kWoken;
    }
    if (r == internal::WakeReason::kTimeout) {
      bool signal = may_signal;
      if (may_signal && allow_timeout) signal = internal::Choose(2) == 0;
      t.state = TASK_RUNNING;
      if (signal) {
        t.signals_left -= 1;
        t.signal_pending = true;
        rt.Note([&] { return "signal delivered to " + t.name; }, loc);
        return WakeResult::kSignal;
      }
      rt.Note("timeout expired", loc);
      return WakeResult::kTimeout;
    }
  }
}

void WakeCommon(wait_queue_head_t* q, int mode, int nr_exclusive, const char* fn,
                const Loc& loc) {
  Runtime& rt = Runtime::Get();
  WaitQueueState& s = State(q, loc);
  rt.Step(q, fn, s.name, Access::kWake, loc);
  internal::AtomicSection section;
  // wq->lock, taken and released: one read-modify-write of the queue's
  // cell orders this wake-up after every earlier queue operation and
  // before every later one. Nothing in between publishes what a second
  // one, at the unlock, would add (the wake-ups carry the waker's clock
  // to each task they wake themselves).
  internal::SyncAcquire(s, loc);
  auto& tasks = rt.mutable_tasks();
  int left = nr_exclusive;
  for (size_t i = 0; i < s.list.size();) {
    const Entry e = s.list[i];
    TaskState& t = tasks[e.thread];
    if (TryToWakeUp(t, mode, loc)) {
      s.list.erase(s.list.begin() + static_cast<long>(i));  // autoremove_wake_function
      if (e.exclusive && nr_exclusive > 0 && --left == 0) break;
    } else {
      ++i;
    }
  }
}

}  // namespace

void init_waitqueue_head_named(wait_queue_head_t* q, const char* name, const Loc& loc) {
  WaitQueueState& s = Runtime::Get().Object<WaitQueueState>(q->h);
  s = WaitQueueState{};
  s.initialized = true;
  s.name = name;
  q->name = name;
  (void)loc;
}

void prepare_to_wait(wait_queue_head_t* q, wait_queue_entry* wait, int state, const Loc& loc) {
  PrepareCommon(q, wait, state, false, "prepare_to_wait", loc);
}

void prepare_to_wait_exclusive(wait_queue_head_t* q, wait_queue_entry* wait, int state,
                               const Loc& loc) {
  PrepareCommon(q, wait, state, true, "prepare_to_wait_exclusive", loc);
}

void finish_wait(wait_queue_head_t* q, wait_queue_entry* wait, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  WaitQueueState& s = State(q, loc);
  TaskState& t = rt.Current();
  t.state = TASK_RUNNING;
  t.wait_object = nullptr;
  internal::AtomicSection section;
  if (Queued(s, wait)) {
    internal::SyncAcquire(s, loc);  // wq->lock, taken and released (see WakeCommon)
    Dequeue(s, wait);
  }
  rt.Note([&] { return "finish_wait(" + s.name + ")"; }, loc);
}

void add_wait_queue(wait_queue_head_t* q, wait_queue_entry* wait, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  WaitQueueState& s = State(q, loc);
  rt.Step(q, "add_wait_queue", s.name, Access::kBlock, loc);
  internal::AtomicSection section;
  internal::SyncAcquire(s, loc);  // wq->lock, taken and released (see WakeCommon)
  wait->task = rt.Current().thread;
  // add_wait_queue() appends at the tail (see docs/KERNEL_SEMANTICS.md §4).
  if (!Queued(s, wait)) {
    s.list.push_back(Entry{wait, wait->task, (wait->flags & WQ_FLAG_EXCLUSIVE) != 0});
  }
}

void remove_wait_queue(wait_queue_head_t* q, wait_queue_entry* wait, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  WaitQueueState& s = State(q, loc);
  rt.Step(q, "remove_wait_queue", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  internal::SyncAcquire(s, loc);  // wq->lock, taken and released (see WakeCommon)
  Dequeue(s, wait);
}

bool waitqueue_active(wait_queue_head_t* q, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  WaitQueueState& s = State(q, loc);
  rt.Step(q, "waitqueue_active", s.name, Access::kRead, loc);
  return !s.list.empty();
}

void set_current_state(int state, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Step(&internal::kPorOwnTask, "set_current_state", "", Access::kWrite, loc);
  rt.Current().state = state;
  rt.Current().state_loc = loc;
  rt.Current().state_fn = "set_current_state";
  internal::AtomicSection section;
  internal::Fence(internal::MemOrder::kSeqCst, loc);
}

void __set_current_state(int state, const Loc& loc) {
  (void)loc;
  Runtime::Get().Current().state = state;
  Runtime::Get().Current().state_loc = loc;
  Runtime::Get().Current().state_fn = "__set_current_state";
}

void schedule(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Step(&internal::kPorOwnTask, "schedule", "", Access::kBlock, loc);
  internal::AtomicSection section;
  Sleep(false, loc);
  rt.Current().wait_object = nullptr;
}

long schedule_timeout(long timeout, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Step(&internal::kPorOwnTask, "schedule_timeout", "", Access::kBlock, loc);
  internal::AtomicSection section;
  const WakeResult r = Sleep(true, loc);
  rt.Current().wait_object = nullptr;
  return r == WakeResult::kTimeout ? 0 : std::max<long>(timeout, 1);
}

void wake_up(wait_queue_head_t* q, const Loc& loc) {
  WakeCommon(q, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE, 1, "wake_up", loc);
}
void wake_up_nr(wait_queue_head_t* q, int nr, const Loc& loc) {
  WakeCommon(q, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE, nr, "wake_up_nr", loc);
}
void wake_up_all(wait_queue_head_t* q, const Loc& loc) {
  WakeCommon(q, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE, 0, "wake_up_all", loc);
}
void wake_up_interruptible(wait_queue_head_t* q, const Loc& loc) {
  WakeCommon(q, TASK_INTERRUPTIBLE, 1, "wake_up_interruptible", loc);
}
void wake_up_interruptible_nr(wait_queue_head_t* q, int nr, const Loc& loc) {
  WakeCommon(q, TASK_INTERRUPTIBLE, nr, "wake_up_interruptible_nr", loc);
}
void wake_up_interruptible_all(wait_queue_head_t* q, const Loc& loc) {
  WakeCommon(q, TASK_INTERRUPTIBLE, 0, "wake_up_interruptible_all", loc);
}
void wake_up_interruptible_sync(wait_queue_head_t* q, const Loc& loc) {
  WakeCommon(q, TASK_INTERRUPTIBLE, 1, "wake_up_interruptible_sync", loc);
}

void poll_wait(struct file* filp, wait_queue_head_t* q, poll_table* p, const Loc& loc) {
  (void)filp;
  State(q, loc);
  if (p != nullptr) p->queued += 1;
}

namespace detail {

void WaitEventBegin(WaitStep& w) {
  Runtime::Get().MightSleep(w.fn, w.loc);
  w.phase = 0;
  w.result = (w.flags & kWaitTimeout) ? std::max<long>(w.timeout, 1) : 0;
}

bool WaitEventNext(WaitStep& w, bool cond) {
  Runtime& rt = Runtime::Get();
  const bool timed = (w.flags & kWaitTimeout) != 0;
  const int state = (w.flags & kWaitInterruptible) ? TASK_INTERRUPTIBLE : TASK_UNINTERRUPTIBLE;
  const bool exclusive = (w.flags & kWaitExclusive) != 0;
  switch (w.phase) {
    case 0:  // the check before queueing
      if (cond) return false;
      break;
    case 1: {  // the check after prepare_to_wait()
      if (cond) {
        finish_wait(w.q, w.entry, w.loc);
        return false;
      }
      internal::AtomicSection section;
      const WakeResult r = Sleep(timed, w.loc);
      if (r == WakeResult::kSignal) {
        w.result = -ERESTARTSYS;
        finish_wait(w.q, w.entry, w.loc);
        return false;
      }
      if (r == WakeResult::kTimeout) {
        w.phase = 2;
        return true;
      }
      break;
    }
    default:  // the check after a timeout
      w.result = cond ? 1 : 0;
      finish_wait(w.q, w.entry, w.loc);
      return false;
  }
  w.phase = 1;
  PrepareCommon(w.q, w.entry, state, exclusive, w.fn, w.loc, /*describe=*/false);
  WaitQueueState& s = State(w.q, w.loc);
  rt.Current().wait_what = std::string(w.fn) + "(" + s.name + ", " + w.cond_text + ")";
  return true;
}

long WaitEvent(wait_queue_head_t* q, const std::function<bool()>& cond, const char* fn,
               const char* cond_text, unsigned flags, long timeout, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  auto check = [&rt, &cond] {
    rt.SuppressRaces(1);
    const bool ok = cond();
    rt.SuppressRaces(-1);
    return ok;
  };
  wait_queue_entry entry;
  WaitStep w{q, &entry, fn, cond_text, flags, timeout, loc};
  WaitEventBegin(w);
  while (WaitEventNext(w, check())) {
  }
  return w.result;
}

}  // namespace detail
}  // namespace kmc::kernel
