// kmc runtime: CPUs, interrupt contexts, softirqs and deferred work.
//
// Interrupt sources, ksoftirqd and the workqueue worker are engine threads of
// their own. What makes them interrupts is the CPU discipline below:
//   * a hardirq handler starts on CPU c only when no context on c has
//     interrupts disabled (otherwise its thread waits, like a pending irq,
//     and runs as soon as the CPU enables interrupts);
//   * while a hardirq or softirq context is active on c, every other thread
//     of c stops at its next scheduling point until the context leaves (the
//     interrupted task makes no progress; the handler runs to completion),
//     except that a hardirq may be delivered on top of a softirq (softirqs
//     run with interrupts enabled, unless they disable them);
//   * contexts that take turns on a CPU are ordered by program order: a
//     context releases the CPU's sync cell before each of its scheduling
//     points and acquires it when it gets the CPU back, so an interrupt never
//     races with the code it interrupted, and same-CPU bugs show up as
//     deadlocks (spinlock cpu recursion) or broken invariants instead;
//   * softirqs (tasklets, timers) run at irq exit, at local_bh_enable() and
//     spin_unlock_bh(), in ksoftirqd (Model::SoftirqDaemons), and whatever is
//     still pending once every thread has finished runs before the final
//     check.
// Interrupts are delivered only at scheduling points (primitive operations),
// never between two plain memory accesses of the interrupted code.

#include <algorithm>
#include <string>

#include "sync/internal/por.h"
#include "sync/internal/prims.h"
#include "sync/internal/runtime.h"
#include "sync/lockdep.h"

namespace kmc::internal {

bool Runtime::UsesCpuSync() const {
  return model_ != nullptr &&
         (!model_->irqs().empty() || model_->softirq_daemons() || !work_queue_.empty() ||
          std::any_of(cpus_.begin(), cpus_.end(),
                      [](const CpuState& c) { return !c.softirq_pending.empty() || !c.stack.empty(); }));
}

// The cell that orders the contexts of a CPU (a release at each scheduling
// point, an acquire on entering a context and after waiting for the CPU)
// carries clocks from every context there to every later one, so where an
// interrupt came in decides whether one thread's accesses happen before
// another's even where the interrupt touched neither: with a second task on
// the CPU (A's write, an interrupt, B's read) or any thread elsewhere (a
// writer on another CPU, the lock a handler takes, the task's read), a race
// is hidden when the interrupt comes between and shown when it does not.
// There the cell is a key like any other, and every step on the CPU writes
// it. When the CPU's contexts are all there is, one task or kernel thread
// and interrupt sources bound to that CPU, the cell carries only program
// order and what their conflicting steps order anyway: it is not recorded,
// and an interrupt's run commutes with the task steps it shares nothing with
// (por.h, PorUntrackedKey).
uint64_t Runtime::CpuSyncKey(int cpu) const {
  int tasks_here = 0;
  bool alone = model_ != nullptr;
  for (const TaskState& t : tasks_) {
    if (t.kind == TaskKind::kTask || t.kind == TaskKind::kKthread) {
      tasks_here += 1;
      alone = alone && t.cpu == cpu;
    } else if (t.kind == TaskKind::kIrq) {
      alone = alone && model_->irqs()[t.irq_source].cpu == cpu;
    } else {
      alone = false;  // ksoftirqd, the worker
    }
  }
  return alone && tasks_here <= 1 ? PorUntrackedKey() : PorOwnedCellKey(PorCpuKey(cpu));
}

bool Runtime::CpuAcceptsIrq(int c) const {
  for (const TaskState& t : tasks_) {
    if (t.cpu == c && !t.finished && t.irqs_disabled &&
        (t.kind != TaskKind::kIrq || std::find(cpus_[c].stack.begin(), cpus_[c].stack.end(),
                                               t.thread) != cpus_[c].stack.end())) {
      return false;
    }
  }
  return true;
}

bool Runtime::CpuAcceptsSoftirq(int c) const {
  if (!CpuAcceptsIrq(c)) return false;
  for (const TaskState& t : tasks_) {
    if (t.cpu != c || t.finished) continue;
    if (t.bh_count > 0) return false;
    if (t.ctx == Ctx::kSoftirq &&
        std::find(cpus_[c].stack.begin(), cpus_[c].stack.end(), t.thread) != cpus_[c].stack.end()) {
      return false;
    }
  }
  return true;
}

void Runtime::BeforeSchedulePoint(TaskState& t) {
  if (!UsesCpuSync()) return;
  CpuState& c = cpus_[t.cpu];
  if (c.sync == nullptr) c.sync = NewKeyedAtomic(0, CpuSyncKey(t.cpu));
  AtomicSection section;
  AtomicRmw(c.sync, RmwOp::kAdd, 0, MemOrder::kRelease, Loc::current());
}

bool Runtime::CpuTaken(const TaskState& t) const {
  const CpuState& c = cpus_[t.cpu];
  if (c.stack.empty() || c.stack.back() == t.thread) return false;
  // An interrupt source that is not on the CPU yet may start a hardirq on
  // top of a softirq (softirqs run with interrupts enabled).
  const bool on_stack = std::find(c.stack.begin(), c.stack.end(), t.thread) != c.stack.end();
  return !(t.kind == TaskKind::kIrq && !on_stack && tasks_[c.stack.back()].ctx == Ctx::kSoftirq);
}

bool Runtime::CpuBlockedByContext(int thread) const {
  if (phase_ != Phase::kRunning || cpus_.empty()) return false;
  if (thread < 0 || thread >= static_cast<int>(tasks_.size())) return false;
  const TaskState& t = tasks_[thread];
  if (t.finished || t.cpu < 0 || t.cpu >= static_cast<int>(cpus_.size())) return false;
  // At a scheduling point, it would only park in WaitForCpu(). A task or
  // kernel thread in a sleep (woken, or able to time out or take a
  // signal) cannot run either while another context holds its CPU: it
  // goes on once that context has left.
  const bool sleeper =
      (t.kind == TaskKind::kTask || t.kind == TaskKind::kKthread) && InSleep(thread);
  if (!t.at_step && !sleeper) return false;
  return CpuTaken(t);
}

void Runtime::SetWouldSleep(bool (*test)(const void* state, int thread), const void* state,
                            bool interruptible) {
  TaskState* t = CurrentOrNull();
  if (t == nullptr || !LeavesOutWaiter(interruptible)) return;
  t->would_sleep = test;
  t->would_sleep_state = state;
}

void Runtime::LockCountChanged(const void* lock, int before, int delta,
                               bool sleeping_acquire) {
  if (PorEnabled()) PorLockCount(PorKey(lock), before, delta, sleeping_acquire);
}

void Runtime::WaitForCpu(TaskState& t) {
  if (cpus_.empty()) return;
  CpuState& c = cpus_[t.cpu];
  if (CpuTaken(t)) PorStepParksForCpu(t.thread);
  while (CpuTaken(t)) {
    c.blocked.push_back(t.thread);
    Park(false, Loc::current(), /*cpu_wait=*/true);
  }
  if (c.sync != nullptr && t.cpu_gen_seen != c.gen) {
    t.cpu_gen_seen = c.gen;
    AtomicSection section;
    AtomicRmw(c.sync, RmwOp::kAdd, 0, MemOrder::kAcquire, Loc::current());
  }
}

void Runtime::PushContext(TaskState& t, int cpu, Ctx ctx) {
  PorTouchCpuStack(cpu);  // the CPU's context stack (por.h)
  CpuState& c = cpus_[cpu];
  c.stack.push_back(t.thread);
  contexts_on_cpus_ += 1;
  t.ctx = ctx;
  if (c.sync == nullptr) c.sync = NewKeyedAtomic(0, CpuSyncKey(cpu));
  AtomicSection section;
  AtomicRmw(c.sync, RmwOp::kAdd, 0, MemOrder::kAcqRel, Loc::current());
}

void Runtime::PopContext(TaskState& t, int cpu, Ctx saved) {
  PorTouchCpuStack(cpu);  // the CPU's context stack (por.h)
  CpuState& c = cpus_[cpu];
  {
    AtomicSection section;
    AtomicRmw(c.sync, RmwOp::kAdd, 0, MemOrder::kAcqRel, Loc::current());
  }
  // The innermost entry of this thread (a source may be on the stack twice:
  // its softirq, and its next interrupt on top of it).
  auto it = std::find(c.stack.rbegin(), c.stack.rend(), t.thread);
  if (it != c.stack.rend()) {
    c.stack.erase(std::next(it).base());
    contexts_on_cpus_ -= 1;
  }
  t.ctx = saved;
  c.gen += 1;
  t.cpu_gen_seen = c.gen;
  std::vector<int> blocked;
  blocked.swap(c.blocked);
  for (int th : blocked) Unpark(th, Loc::current(), /*cpu_wait=*/true);
  std::vector<int> waiters;
  waiters.swap(c.irq_waiters);
  for (int th : waiters) Unpark(th, Loc::current());
}

void Runtime::IrqsEnabled(TaskState& t) {
  // Only interrupt sources and softirqs read it (their steps are global);
  // a waiting source's state is touched when it is woken (Unpark).
  PorTouchCpu(t.cpu);
  lockdep::MarkHeldLocks();
  if (cpus_.empty() || !CpuAcceptsIrq(t.cpu)) return;
  std::vector<int> waiters;
  waiters.swap(cpus_[t.cpu].irq_waiters);
  for (int th : waiters) Unpark(th, Loc::current());
}

void Runtime::BhEnabled(TaskState& t) {
  PorTouchCpu(t.cpu);  // running a softirq here enters a context
  if (cpus_.empty()) return;
  IrqsEnabled(t);
  if (!cpus_[t.cpu].softirq_pending.empty() && CpuAcceptsSoftirq(t.cpu) &&
      t.ctx == Ctx::kProcess && running()) {
    RunSoftirqs(t, t.cpu);
  }
}

uint64_t Runtime::DeferredWorkKey(const DeferredWork* w) {
  return w->owner != nullptr ? PorKey(w->owner) : PorAddressKey(w);
}

void Runtime::RunDeferred(TaskState& t, DeferredWork* w, Ctx ctx) {
  PorTouchKey(DeferredWorkKey(w), true);
  w->pending = false;
  w->running = true;
  w->cpu = t.cpu;
  Note((ctx == Ctx::kSoftirq ? "softirq runs " : "worker runs ") + w->name, Loc::current());
  const Ctx saved = t.ctx;
  const bool saved_irqs = t.irqs_disabled;
  t.irqs_disabled = false;
  if (ctx == Ctx::kSoftirq) {
    PushContext(t, t.cpu, Ctx::kSoftirq);
    SyncAcquire(*w, Loc::current());
    w->Run();
    SyncRelease(*w, Loc::current());
    PopContext(t, t.cpu, saved);
  } else {
    SyncAcquire(*w, Loc::current());
    w->Run();
    SyncRelease(*w, Loc::current());
  }
  t.irqs_disabled = saved_irqs;
  w->running = false;
  // Rescheduled while it ran (possibly from another CPU): make sure a
  // softirq daemon looks at it again.
  if (w->pending) WakeIdleDaemons();
  if (!w->pending) {
    std::vector<int> waiters;
    waiters.swap(w->waiters);
    for (int th : waiters) {
      tasks_[th].granted = true;
      Unpark(th, Loc::current());
    }
  }
}

void Runtime::RunSoftirqs(TaskState& t, int cpu) {
  CpuState& c = cpus_[cpu];
  // Items scheduled while these run are picked up too (like __do_softirq's
  // restart loop); an item running on another CPU stays pending.
  for (size_t guard = 0; guard < 64; ++guard) {
    auto it = std::find_if(c.softirq_pending.begin(), c.softirq_pending.end(),
                           [](DeferredWork* w) { return !w->running; });
    if (it == c.softirq_pending.end()) return;
    DeferredWork* w = *it;
    c.softirq_pending.erase(it);
    const int saved_cpu = t.cpu;
    t.cpu = cpu;
    RunDeferred(t, w, Ctx::kSoftirq);
    t.cpu = saved_cpu;
  }
}

void Runtime::RaiseSoftirq(DeferredWork* w, int cpu) {
  if (cpus_.empty()) {
    PorTouchGlobal();
    return;
  }
  // The CPU's softirq list (read by the interrupt sources of that CPU,
  // whose steps read its keys, by a task's local_bh_enable() or
  // spin_unlock_bh(), which writes its interrupt key, and by softirq
  // daemons, whose steps are global) and the work item.
  PorTouchCpuStack(cpu % static_cast<int>(cpus_.size()));
  PorTouchKey(DeferredWorkKey(w), true);
  w->pending = true;
  w->cpu = cpu;
  auto& q = cpus_[cpu].softirq_pending;
  if (std::find(q.begin(), q.end(), w) == q.end()) q.push_back(w);
  WakeIdleDaemons();
}

void Runtime::QueueWork(DeferredWork* w) {
  PorTouchGlobal();  // CPU and deferred-work state (por.h)
  w->pending = true;
  if (std::find(work_queue_.begin(), work_queue_.end(), w) == work_queue_.end()) {
    work_queue_.push_back(w);
  }
  WakeIdleDaemons();
}

void Runtime::RemoveDeferred(DeferredWork* w) {
  PorTouchGlobal();  // CPU and deferred-work state (por.h)
  for (CpuState& c : cpus_) {
    c.softirq_pending.erase(std::remove(c.softirq_pending.begin(), c.softirq_pending.end(), w),
                            c.softirq_pending.end());
  }
  work_queue_.erase(std::remove(work_queue_.begin(), work_queue_.end(), w), work_queue_.end());
  w->pending = false;
}

void Runtime::WaitDeferred(DeferredWork* w, const char* what, const Loc& loc) {
  PorTouchGlobal();  // CPU and deferred-work state (por.h)
  TaskState& t = Current();
  while (w->pending || w->running) {
    if (!running()) return;
    w->waiters.push_back(t.thread);
    t.wait_object = w;
    t.wait_what = std::string(what) + "(" + w->name + ")";
    t.wait_loc = loc;
    t.granted = false;
    Park(false, loc);
    t.granted = false;
    t.wait_object = nullptr;
  }
}

bool Runtime::ProducersDone() const {
  for (const TaskState& t : tasks_) {
    if (t.finished) continue;
    if (t.kind == TaskKind::kTask || t.kind == TaskKind::kIrq) return false;
    if (t.kind == TaskKind::kKthread && t.started) return false;
  }
  return true;
}

void Runtime::RunIrqSource(TaskState& t) {
  const auto& spec = model_->irqs()[t.irq_source];
  const Loc here = Loc::current();
  while (t.fires_done < spec.fires) {
    int cpu = spec.cpu;
    if (cpu < 0) cpu = static_cast<int>(Choose(static_cast<unsigned>(cpus())));
    cpu %= cpus();
    t.cpu = cpu;
    t.ctx = Ctx::kProcess;  // not on a CPU until the handler starts
    Step(&spec, "irq " + spec.name + " raised", "", Access::kIrq, here);
    CpuState& c = cpus_[cpu];
    while (!CpuAcceptsIrq(cpu)) {
      c.irq_waiters.push_back(t.thread);
      t.wait_object = &c;
      t.wait_what = "pending interrupt (CPU#" + std::to_string(cpu) + " has interrupts disabled)";
      Park(false, here);
      t.wait_object = nullptr;
    }
    Fire(t, cpu, Ctx::kProcess);
    // irq_exit(): run pending softirqs unless the interrupted context is
    // itself a softirq or has bottom halves disabled.
    if (!c.softirq_pending.empty() && CpuAcceptsSoftirq(cpu)) {
      RunSoftirqs(t, cpu);
    }
  }
  t.ctx = Ctx::kProcess;
}

void Runtime::Fire(TaskState& t, int cpu, Ctx interrupted_ctx) {
  const auto& spec = model_->irqs()[t.irq_source];
  const Loc here = Loc::current();
  CpuState& c = cpus_[cpu];
  t.fires_done += 1;
  // Who gets interrupted: the innermost context, or the CPU's tasks.
  std::string victim = "the idle task";
  int victim_task = -2;  // TraceEvent::interrupted: the idle task
  if (!c.stack.empty()) {
    victim_task = c.stack.back();
    const TaskState& v = tasks_[c.stack.back()];
    victim = v.name + "/" + std::to_string(v.pid) + " (" + CtxName(v.ctx) + ")";
    if (v.has_last_loc) victim += " at " + FormatLoc(v.last_loc);
  } else {
    for (const TaskState& v : tasks_) {
      if (v.cpu == cpu && !v.finished && v.thread != t.thread &&
          (v.kind == TaskKind::kTask || v.kind == TaskKind::kKthread ||
           v.kind == TaskKind::kSoftirqd || v.kind == TaskKind::kWorker) &&
          v.wait_object == nullptr) {
        victim = v.name + "/" + std::to_string(v.pid);
        if (v.has_last_loc) victim += " at " + FormatLoc(v.last_loc);
        victim_task = static_cast<int>(&v - tasks_.data());
        break;
      }
    }
  }
  // A nested fire interrupts this thread's own softirq: the handler starts
  // with no locks of its own (the softirq's stay held below it).
  const std::string saved_interrupted = t.interrupted;
  std::vector<HeldLock> saved_held;
  saved_held.swap(t.held);
  t.interrupted = victim;
  t.irqs_disabled = true;
  PushContext(t, cpu, Ctx::kHardirq);
  Note("hardirq " + spec.name + " enters on CPU#" + std::to_string(cpu) + ", interrupting " +
           victim,
       here);
  if (CollectingHistory() && !trace_.empty()) trace_.back().interrupted = victim_task;
  spec.handler(fixture_);
  if (!t.held.empty()) {
    Fail(Verdict::kLockMisuse,
         "WARNING: " + t.name + "/" + std::to_string(t.pid) + " still has locks held!",
         "the handler of irq " + spec.name + " returned holding locks\n" + HeldLocksText(t),
         t.held.back().where);
  }
  t.irqs_disabled = false;
  Note("hardirq " + spec.name + " exits on CPU#" + std::to_string(cpu), here);
  PopContext(t, cpu, interrupted_ctx);
  t.held.swap(saved_held);
  t.interrupted = saved_interrupted;
}

void Runtime::FireOnOwnSoftirq(TaskState& t) {
  // Only with Model::IrqExitPreemption(), for a source running the softirqs
  // of its own irq exit, with interrupts enabled there and fires left: its
  // next interrupt may arrive now.
  // (MaybeFireOnOwnSoftirq has checked that t is an interrupt source.)
  if (t.ctx != Ctx::kSoftirq || cpus_.empty()) return;
  if (!model_->irq_exit_preemption()) return;
  const auto& spec = model_->irqs()[t.irq_source];
  if (t.fires_done >= spec.fires || t.irqs_disabled || !CpuAcceptsIrq(t.cpu)) return;
  if (Choose(2) == 0) return;
  Note("irq " + spec.name + " raised", Loc::current());
  Fire(t, t.cpu, Ctx::kSoftirq);
}

void Runtime::RunSoftirqd(TaskState& t) {
  const Loc here = Loc::current();
  for (;;) {
    CpuState& c = cpus_[t.cpu];
    const bool has_work = std::any_of(c.softirq_pending.begin(), c.softirq_pending.end(),
                                      [](DeferredWork* w) { return !w->running; });
    if (has_work && CpuAcceptsSoftirq(t.cpu)) {
      Step(&c, "ksoftirqd runs softirqs", "", Access::kAcquire, here);
      if (CpuAcceptsSoftirq(t.cpu)) RunSoftirqs(t, t.cpu);
      continue;
    }
    if (!has_work && ProducersDone()) return;
    t.idle = true;
    Park(false, here);
    t.idle = false;
  }
}

void Runtime::RunWorker(TaskState& t) {
  const Loc here = Loc::current();
  for (;;) {
    if (!work_queue_.empty()) {
      DeferredWork* w = work_queue_.front();
      Step(w, "worker picks up " + w->name, "", Access::kAcquire, here);
      auto it = std::find(work_queue_.begin(), work_queue_.end(), w);
      if (it == work_queue_.end()) continue;  // cancelled meanwhile
      work_queue_.erase(it);
      RunDeferred(t, w, Ctx::kProcess);
      continue;
    }
    bool others_done = ProducersDone();
    for (const TaskState& o : tasks_) {
      if (o.kind == TaskKind::kSoftirqd && !o.finished) others_done = false;
    }
    if (others_done) return;
    t.idle = true;
    Park(false, here);
    t.idle = false;
  }
}

void Runtime::RunLeftoverDeferred() {
  // Work still queued once every thread has finished runs now, in order:
  // it would run eventually in the kernel.
  TaskState& t = setup_task_;
  for (size_t guard = 0; guard < 256; ++guard) {
    DeferredWork* next = nullptr;
    Ctx ctx = Ctx::kProcess;
    for (CpuState& c : cpus_) {
      if (!c.softirq_pending.empty()) {
        next = c.softirq_pending.front();
        c.softirq_pending.erase(c.softirq_pending.begin());
        ctx = Ctx::kSoftirq;
        break;
      }
    }
    if (next == nullptr && !work_queue_.empty()) {
      next = work_queue_.front();
      work_queue_.erase(work_queue_.begin());
    }
    if (next == nullptr) return;
    next->pending = false;
    next->running = true;
    const Ctx saved = t.ctx;
    t.ctx = ctx;
    next->Run();
    t.ctx = saved;
    next->running = false;
  }
}

}  // namespace kmc::internal
