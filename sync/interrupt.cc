// kmc: interrupt flags, tasklets, work items and timers.

#include "sync/interrupt.h"

#include <string>

#include "sync/fs.h"
#include "sync/internal/por.h"
#include "sync/internal/prims.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Ctx;
using internal::DeferredWork;
using internal::Runtime;
using internal::TaskState;

constexpr unsigned long kFlagsMagic = 0x5a5a0000ul;
constexpr unsigned long kFlagsWasDisabled = 0x200ul;  // X86_EFLAGS_IF inverted

[[noreturn]] void BadRestore(const std::string& why, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Fail(Verdict::kLockMisuse, "kmc: local_irq_restore() with flags that were not saved",
          why + " at " + internal::FormatLoc(loc) + " by " + rt.Who() + "\n", loc);
}

struct TaskletState : DeferredWork {
  tasklet_struct* t = nullptr;
  void Run() override {
    if (t->callback) t->callback(t);
    else if (t->func) t->func(t->data);
  }
};

struct WorkState : DeferredWork {
  work_struct* w = nullptr;
  void Run() override {
    if (w->func) w->func(w);
  }
};

struct TimerState : DeferredWork {
  timer_list* t = nullptr;
  void Run() override {
    if (t->function) t->function(t);
  }
};

TaskletState& Tasklet(tasklet_struct* t) {
  TaskletState& s = Runtime::Get().Object<TaskletState>(t->h);
  if (!s.initialized) {
    s.initialized = true;
    s.t = t;
    s.name = std::string("tasklet ") + (t->name ? t->name : "?");
  }
  return s;
}

WorkState& Work(work_struct* w) {
  WorkState& s = Runtime::Get().Object<WorkState>(w->h);
  if (!s.initialized) {
    s.initialized = true;
    s.w = w;
    s.name = std::string("work ") + (w->name ? w->name : "?");
  }
  return s;
}

TimerState& Timer(timer_list* t) {
  TimerState& s = Runtime::Get().Object<TimerState>(t->h);
  if (!s.initialized) {
    s.initialized = true;
    s.t = t;
    s.name = std::string("timer ") + (t->name ? t->name : "?");
  }
  return s;
}

}  // namespace

unsigned long local_irq_save_impl(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TaskState& t = rt.Current();
  const unsigned long flags =
      kFlagsMagic | (t.irqs_disabled ? kFlagsWasDisabled : 0) | ((++t.irq_save_seq) & 0x1ff);
  t.saved_irq_flags.push_back(flags);
  t.irqs_disabled = true;
  internal::PorTouchCpu(t.cpu);
  rt.Note("local_irq_save()", loc);
  return flags;
}

void local_irq_restore(unsigned long flags, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TaskState& t = rt.Current();
  if (t.saved_irq_flags.empty()) BadRestore("no local_irq_save() is outstanding", loc);
  if (t.saved_irq_flags.back() != flags) {
    BadRestore("the flags do not come from the innermost local_irq_save()", loc);
  }
  t.saved_irq_flags.pop_back();
  const bool was_disabled = (flags & kFlagsWasDisabled) != 0;
  t.irqs_disabled = was_disabled;
  if (!was_disabled) {
    // The state changes here, before the scheduling point (por.h).
    internal::PorTouchCpu(t.cpu);
    rt.Step(&internal::kPorOwnCpu, "local_irq_restore", "", Access::kRelease, loc);
    rt.IrqsEnabled(t);
  } else {
    rt.Note("local_irq_restore() (stays disabled)", loc);
  }
}

void local_irq_disable(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Current().irqs_disabled = true;
  internal::PorTouchCpu(rt.Current().cpu);
  rt.Note("local_irq_disable()", loc);
}

void local_irq_enable(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TaskState& t = rt.Current();
  t.irqs_disabled = false;
  internal::PorTouchCpu(t.cpu);  // the state changes before the scheduling point
  rt.Step(&internal::kPorOwnCpu, "local_irq_enable", "", Access::kRelease, loc);
  rt.IrqsEnabled(t);
}

void local_bh_disable(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Current().bh_count += 1;
  internal::PorTouchCpu(rt.Current().cpu);
  rt.Note("local_bh_disable()", loc);
}

void local_bh_enable(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TaskState& t = rt.Current();
  if (t.bh_count <= 0) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: local_bh_enable() without local_bh_disable()",
            "unbalanced local_bh_enable() at " + internal::FormatLoc(loc) + " by " + rt.Who() +
                "\n",
            loc);
  }
  t.bh_count -= 1;
  internal::PorTouchCpu(t.cpu);  // the state changes before the scheduling point
  rt.Step(&internal::kPorOwnCpu, "local_bh_enable", "", Access::kRelease, loc);
  if (t.bh_count == 0) rt.BhEnabled(t);
}

bool in_irq() { return Runtime::Get().Current().ctx == Ctx::kHardirq; }
bool in_hardirq() { return in_irq(); }
bool in_softirq() {
  const TaskState& t = Runtime::Get().Current();
  return t.ctx == Ctx::kSoftirq || t.bh_count > 0;
}
bool in_task() { return Runtime::Get().Current().ctx == Ctx::kProcess; }

void tasklet_init(tasklet_struct* t, void (*func)(unsigned long), unsigned long data) {
  t->func = func;
  t->data = data;
  t->callback = nullptr;
  if (t->name == nullptr) t->name = "tasklet";
}

void tasklet_setup(tasklet_struct* t, void (*callback)(tasklet_struct*)) {
  t->callback = callback;
  t->func = nullptr;
  if (t->name == nullptr) t->name = "tasklet";
}

void tasklet_schedule(tasklet_struct* t, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TaskletState& s = Tasklet(t);
  rt.Step(t, "tasklet_schedule", t->name ? t->name : "", Access::kWake, loc);
  internal::AtomicSection section;
  internal::SyncRelease(s, loc);
  if (s.pending) return;  // schedules while pending coalesce
  rt.RaiseSoftirq(&s, rt.Current().cpu);
}

void tasklet_hi_schedule(tasklet_struct* t, const Loc& loc) { tasklet_schedule(t, loc); }

void tasklet_kill(tasklet_struct* t, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep("tasklet_kill", loc);
  TaskletState& s = Tasklet(t);
  rt.Step(t, "tasklet_kill", t->name ? t->name : "", Access::kAcquire, loc);
  internal::AtomicSection section;
  rt.WaitDeferred(&s, "tasklet_kill", loc);
}

void init_work_named(work_struct* w, void (*func)(work_struct*), const char* name) {
  w->func = func;
  w->name = name;
}

bool schedule_work(work_struct* w, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  WorkState& s = Work(w);
  rt.Step(w, "schedule_work", w->name ? w->name : "", Access::kWake, loc);
  internal::AtomicSection section;
  internal::SyncRelease(s, loc);
  if (s.pending) return false;
  rt.QueueWork(&s);
  return true;
}

bool flush_work(work_struct* w, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep("flush_work", loc);
  WorkState& s = Work(w);
  rt.Step(w, "flush_work", w->name ? w->name : "", Access::kAcquire, loc);
  internal::AtomicSection section;
  const bool busy = s.pending || s.running;
  rt.WaitDeferred(&s, "flush_work", loc);
  internal::SyncAcquire(s, loc);
  return busy;
}

bool cancel_work_sync(work_struct* w, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep("cancel_work_sync", loc);
  WorkState& s = Work(w);
  rt.Step(w, "cancel_work_sync", w->name ? w->name : "", Access::kAcquire, loc);
  internal::AtomicSection section;
  const bool was_pending = s.pending;
  rt.RemoveDeferred(&s);
  rt.WaitDeferred(&s, "cancel_work_sync", loc);
  internal::SyncAcquire(s, loc);
  return was_pending;
}

void timer_setup_named(timer_list* t, void (*fn)(timer_list*), unsigned flags, const char* name) {
  (void)flags;
  t->function = fn;
  t->name = name;
  t->expires = 0;
}

int mod_timer(timer_list* t, unsigned long expires, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TimerState& s = Timer(t);
  rt.Step(t, "mod_timer", t->name ? t->name : "", Access::kWake, loc);
  internal::AtomicSection section;
  internal::SyncRelease(s, loc);
  t->expires = expires;
  const int was = s.pending ? 1 : 0;
  if (!s.pending) rt.RaiseSoftirq(&s, rt.Current().cpu);
  return was;
}

void add_timer(timer_list* t, const Loc& loc) { mod_timer(t, t->expires, loc); }

int del_timer(timer_list* t, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TimerState& s = Timer(t);
  rt.Step(t, "del_timer", t->name ? t->name : "", Access::kAcquire, loc);
  internal::AtomicSection section;
  const int was = s.pending ? 1 : 0;
  rt.RemoveDeferred(&s);
  return was;
}

int del_timer_sync(timer_list* t, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TimerState& s = Timer(t);
  rt.Step(t, "del_timer_sync", t->name ? t->name : "", Access::kAcquire, loc);
  internal::AtomicSection section;
  const int was = s.pending ? 1 : 0;
  rt.RemoveDeferred(&s);
  if (s.running && s.cpu == rt.Current().cpu && rt.Current().ctx == Ctx::kSoftirq) {
    rt.Fail(Verdict::kDeadlock, "kmc: del_timer_sync() from the timer's own handler",
            "the handler would wait for itself, at " + internal::FormatLoc(loc) + "\n", loc);
  }
  rt.WaitDeferred(&s, "del_timer_sync", loc);
  internal::SyncAcquire(s, loc);
  return was;
}

bool timer_pending(const timer_list* t) {
  Runtime& rt = Runtime::Get();
  if (!rt.Registered(t->h)) return false;
  return rt.Object<TimerState>(t->h).pending;
}

}  // namespace kmc::kernel
