// kmc kernel runtime: the per-execution state behind the kernel primitives.
//
// One Runtime exists per process. The engine shim calls BeginExecution() at
// the start of every explored execution, RunThread(i) on each engine thread,
// and FinishExecution() once all threads have finished. Everything here is
// rebuilt for every execution, so no state leaks from one interleaving into
// the next (a requirement for replay).
//
// Kernel objects (semaphores, spinlocks, atomic_t, Shared<T> fields) are plain
// structs holding a Handle; their engine-side state lives here and is created
// the first time an execution touches them. That keeps kernel objects valid in
// kmalloc'd or zeroed memory, exactly like C structs.

#ifndef KMC_SYNC_INTERNAL_RUNTIME_H_
#define KMC_SYNC_INTERNAL_RUNTIME_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "sync/internal/engine.h"
#include "sync/internal/handle.h"
#include "sync/model.h"
#include "sync/suppressions.h"
#include "sync/verdict.h"

namespace kmc::internal {

// Execution contexts, as the kernel names them.
enum class Ctx : uint8_t { kProcess, kSoftirq, kHardirq };
const char* CtxName(Ctx c);

struct HeldLock {
  const void* lock;
  std::string name;
  const char* type;  // "spinlock_t", "struct mutex", ...
  Loc where;
  const char* variant = "";  // how it was taken: "spin_lock_irqsave", ...
};

// What an engine thread is: a model task, a kernel-thread slot, an interrupt
// source, a per-CPU ksoftirqd, or the workqueue worker.
enum class TaskKind : uint8_t { kTask, kKthread, kIrq, kSoftirqd, kWorker };

struct TaskState {
  TaskKind kind = TaskKind::kTask;
  std::string name;
  int pid = 0;
  int cpu = 0;
  int thread = 0;
  Ctx ctx = Ctx::kProcess;
  std::vector<HeldLock> held;
  // Semaphores taken and not yet released (reports only: a semaphore is not
  // a lock to lockdep, but `down(&dev->sem)` guards like one).
  std::vector<std::pair<const void*, std::string>> sems;
  int preempt_count = 0;  // spinlocks held, preempt_disable() depth
  bool irqs_disabled = false;
  int signals_left = 0;
  bool signal_pending = false;
  bool granted = false;  // a sleeping primitive handed this task its object
  bool finished = false;
  int state = 0;  // TASK_RUNNING / TASK_INTERRUPTIBLE / TASK_UNINTERRUPTIBLE
  Loc state_loc;  // where the state was last set to a sleeping one
  const char* state_fn = "";
  AtomicCell* wake_sync = nullptr;  // orders a waker before the woken task
  // Kernel-thread slots.
  bool started = false;
  bool idle = false;  // parked waiting for kthread_run() or the end
  bool should_stop = false;
  int (*kthread_fn)(void*) = nullptr;
  void* kthread_data = nullptr;
  int exit_code = 0;
  int exit_waiter = -1;  // thread sleeping in kthread_stop()
  // Interrupt state.
  int bh_count = 0;                    // local_bh_disable() depth
  std::vector<unsigned long> saved_irq_flags;  // local_irq_save() stack
  unsigned irq_save_seq = 0;
  uint64_t cpu_gen_seen = 0;           // last CPU generation this context synced with
  int irq_source = -1;                 // kIrq: index into Model::irqs()
  int fires_done = 0;                  // kIrq: interrupts delivered so far
  std::string interrupted;             // kIrq: what the handler interrupted
  // What the task sleeps on, for deadlock reports.
  const void* wait_object = nullptr;
  // Between prepare_to_wait() and this task's next kernel call (schedule(),
  // finish_wait(), ...): the task is testing the condition of an open-coded
  // wait, and its plain reads are marked, as a wait_event() condition's are.
  bool in_wait_condition = false;
  std::string wait_what;
  Loc wait_loc;
  Loc last_loc;
  bool has_last_loc = false;
  uintptr_t stack_top = 0;  // frame address where the engine thread's body began
  // Suspended where resuming goes straight to WaitForCpu(): at a Step's
  // scheduling point, or a task or kernel thread not started yet. The
  // scheduler does not pick such a thread while its CPU is taken by another
  // context (it would only park there; see Runtime::CpuBlocked).
  bool at_step = false;
  // Set by a sleeping lock's acquisition for its scheduling point (cleared
  // when the step runs): true while taking the lock now would only put the
  // task to sleep (the lock is held by another task). The scheduler does not
  // pick such a task (Runtime::WouldOnlySleep).
  bool (*would_sleep)(const void* lock_state, int thread) = nullptr;
  const void* would_sleep_state = nullptr;
  // Reports: the trace index of the task's last step before it went to
  // sleep, -1 while it is not asleep.
  int trace_sleep_from = -1;
  // Credentials and open-file defaults used by access-control drivers.
  unsigned uid = 1000;
  unsigned euid = 1000;
  uint64_t caps = 0;
  unsigned tty = 0;  // controlling tty's device number (0: none), SetCurrentTty()
};

// Engine-side state of one kernel object; primitives derive from it.
struct ObjectState {
  ObjectState() = default;
  ObjectState(const ObjectState&) = default;
  // Re-initializing a state (s = MutexState{}) keeps the handle it
  // belongs to.
  ObjectState& operator=(const ObjectState& o) {
    name = o.name;
    initialized = o.initialized;
    return *this;
  }
  virtual ~ObjectState() = default;
  std::string name;
  bool initialized = false;
  const void* owner = nullptr;  // the Handle this state belongs to (Runtime::Object)
  // Puts the state, at the end of its execution, in the pool its type's
  // next one is made from (Runtime::Object).
  void (*recycle)(std::unique_ptr<ObjectState>) = nullptr;
};

// Engine state of a lock-like object: a happens-before channel and a FIFO of
// sleeping engine threads (helpers in sync/internal/prims.h).
struct SyncState : ObjectState {
  AtomicCell* sync = nullptr;
  // FIFO (a handful at most; a vector, unlike a deque, allocates nothing
  // until the first sleeper).
  std::vector<int> waiters;
};

// Deferred work run by the runtime: tasklets and timers (softirq context, on
// a CPU) and work items (process context, on the worker).
struct DeferredWork : SyncState {
  bool pending = false;
  bool running = false;
  int cpu = 0;
  std::vector<int> waiters;  // tasklet_kill / del_timer_sync / flush_work
  virtual void Run() = 0;
};

// One CPU: the interrupt contexts running on it, innermost last. A thread may
// run on the CPU only when it is the innermost context, or when no interrupt
// context is active and it is a process-context thread of that CPU.
struct CpuState {
  std::vector<int> stack;        // threads in hardirq/softirq on this CPU
  std::vector<int> blocked;      // threads waiting to get the CPU back
  std::vector<int> irq_waiters;  // interrupt sources waiting for irqs on
  std::vector<DeferredWork*> softirq_pending;
  AtomicCell* sync = nullptr;    // program order between contexts on the CPU
  uint64_t gen = 0;              // bumped whenever an interrupt context leaves
};

// State of a race-checked plain location (Shared<T>, bytes of kmalloc memory).
struct VarState {
  VarCell* cell = nullptr;
  AtomicCell* marked = nullptr;  // READ_ONCE/WRITE_ONCE view of the location
  int last_writer = -1;
  Loc last_write_loc;
  bool has_write_loc = false;
  // Where each recorded access ran (a task's context and CPU change: a
  // report names those of the access, not the task's at the report).
  struct At {
    int16_t cpu = 0;
    Ctx ctx = Ctx::kProcess;
  };
  At write_at;
  // The last read of each task since the last write (race reports name a
  // reader other than the task that loses the race).
  static constexpr int kTrackedReaders = 8;
  Loc read_loc[kTrackedReaders];
  At read_at[kTrackedReaders];
  uint32_t read_seq[kTrackedReaders] = {};  // 0: no read since the last write
  uint32_t seq = 0;
  // Call chains (interned by sync/internal/kcsan.cc; 0: none) of the last
  // write and of each tracked read, recorded while a failing execution is
  // re-run, for reports of instrumented C accesses.
  uint32_t write_chain = 0;
  uint32_t read_chain[kTrackedReaders] = {};
  // A C location read with READ_ONCE & co: set when a plain store changed
  // memory behind the marked view (the next marked load reads memory).
  bool plain_written = false;
  std::vector<int> spinners;  // tasks in smp_cond_load_*() waiting for a store
};

struct Block {
  uintptr_t base = 0;
  size_t size = 0;
  bool freed = false;
  bool is_page = false;
  bool is_module = false;  // a module's globals and statics, not heap memory
  std::string module;      // is_module: the module's name
  Loc alloc_loc;
  Loc free_loc;
  int alloc_task = -1;
  int free_task = -1;
  uint64_t seq = 0;                // allocation number within the execution
  uint64_t por_id = 0;             // creation id for the reduced search (por.h)
  std::vector<VarState> granules;  // lazily sized race state, 8 bytes each
  // For reports (recorded only while a failing execution is re-run): the
  // type kmalloc's result was converted to, and the name of the pointer
  // field it was first stored in ("qset->data").
  std::string type_name;
  size_t type_size = 0;
  std::string ref_name;
  // type_name came from a C driver's DWARF (the global pointer that holds
  // the block): name it as the driver's functions name such a pointer.
  bool c_type = false;
};

struct TraceEvent {
  int task = -1;
  int cpu = 0;
  Ctx ctx = Ctx::kProcess;
  std::string text;
  Loc loc;
  // What the step touched: a memory range [lo, hi) (an object's address
  // for primitives), empty when nothing; reports fold steps that touch
  // nothing another context touches.
  uintptr_t lo = 0;
  uintptr_t hi = 0;
  // The locks the task held after the step, innermost last.
  std::string locks;
  // The task that ran the step before, when it was switched away from
  // while it could still run (a preemption), else -1.
  int preempted = -1;
  bool failure = false;  // the step that hit the reported bug
  bool access = false;   // a plain memory access (not a primitive's step)
  int access_kind = -1;  // a primitive's step: its Access, else -1
  // The locks the task held once the step had run, when the step changed
  // them (a step records the locks held when it starts).
  bool has_locks_after = false;
  std::string locks_after;
  // The first step of a task after a sleep: the index of its last step
  // before it, else -1.
  int sleep_from = -1;
  // A hardirq's entry step: the task it interrupted, -2 for the idle task
  // (-1: not an entry step). trace.html draws the interrupt over it.
  int interrupted = -1;
};

struct PendingReport {
  Verdict verdict = Verdict::kClean;
  std::string headline;
  std::string details;
  int task = -1;  // the task that hit the failure, -1 when none/unknown
  Loc loc;
  // A data race: the other access, when known.
  int other_task = -1;
  Loc other_loc;
  // Further source locations the failure involves (the wait site of each
  // task of a deadlock): --all_bugs tells bugs apart by verdict and locations.
  std::vector<Loc> also;
};

class Runtime {
 public:
  // The one runtime (never destroyed: crash handlers and atexit paths may
  // still ask for it). Inline: every primitive and access asks.
  static Runtime& Get() {
    static Runtime* const rt = new Runtime();
    return *rt;
  }

  // --- Run lifecycle (engine shim) ---------------------------------------
  void StartRun(const Model* model, bool progress);
  void EndRun();
  void BeginExecution();
  void RunThread(int thread);
  void FinishExecution();
  // Frees what a failed execution left behind, without touching the engine.
  void AbandonExecution();
  int ThreadCount() const;
  uint64_t executions() const { return executions_; }
  // The running execution belongs to another shard of the search (--shard):
  // it is not counted.
  void UncountExecution() {
    if (executions_ > 0) --executions_;
  }
  const Model* model() const { return model_; }
  void set_replaying(bool r) { replaying_ = r; }
  // Progress as plain lines every few seconds (stderr is not a terminal).
  void set_progress_lines(bool on) { progress_lines_ = on; }
  // A progress line every `n` executions instead of by time (0).
  void set_progress_every(uint64_t n) { progress_every_ = n; }
  // Executions after which the search stops (0: none); budget_hit() tells
  // whether the last run stopped there.
  void set_budget(uint64_t n) { budget_ = n; }
  bool budget_hit() const { return budget_hit_; }
  // Asks the running search to stop before its next execution (SIGINT,
  // SIGTERM); async-signal-safe. The run then ends like a budget stop, with
  // stopped() set. Cleared by StartRun().
  static void RequestStop();
  static bool stop_requested();
  bool stopped() const { return stopped_; }

  // --- Observations (kmc::Observe) ---------------------------------------
  void Observe(const char* name, int64_t value);
  // The distinct observation tuples of the clean executions of this run.
  const std::set<std::string>& observations() const { return observations_; }
  // Trace fingerprints (RunOptions::count_traces), from the tree scheduler.
  void AddTrace(uint64_t fingerprint) { traces_.insert(fingerprint); }
  const std::set<uint64_t>& traces() const { return traces_; }

  // --- Report produced by the last failing execution ---------------------
  const PendingReport& report() const { return report_; }
  bool has_report() const { return report_.verdict != Verdict::kClean; }
  // Builds the report for a failure the engine found itself (deadlock,
  // livelock) from the task states left by the failed execution.
  void ReportEngineFailure(Verdict v);
  const std::vector<TraceEvent>& trace() const { return trace_; }
  const std::vector<TaskState>& tasks() const { return tasks_; }
  std::vector<TaskState>& mutable_tasks() { return tasks_; }

  // --- Services for primitives -------------------------------------------
  TaskState& Current();
  // The running task: a model task's, the module's during setup and the
  // final check, or null. Inline: every primitive and access asks.
  TaskState* CurrentOrNull() {
    const int i = CurrentIndex();
    if (i >= 0 && i < static_cast<int>(tasks_.size())) return &tasks_[i];
    if (phase_ == Phase::kSetup || phase_ == Phase::kFinal) return &setup_task_;
    return nullptr;
  }
  int CurrentIndex() const { return phase_ != Phase::kRunning ? -1 : CurrentThread(); }
  bool in_task() const;
  // True while tasks run (not during fixture setup or the final check).
  bool running() const { return phase_ == Phase::kRunning; }
  // True when engine thread `thread` would, if resumed now, only park in
  // WaitForCpu() because another context holds its CPU: resuming it is a
  // step that changes nothing, so the tree scheduler leaves it out of that
  // choice (the same interleavings are explored with fewer branches).
  bool CpuBlocked(int thread) const {
    return contexts_on_cpus_ > 0 && CpuBlockedByContext(thread);
  }
  // True when engine thread `thread` waits at the scheduling point of a
  // sleeping lock's acquisition (mutex_lock(), down()) whose lock another
  // task holds, and may not be woken from that sleep by a signal: resuming
  // it now would only make it sleep until the lock is released, so the tree
  // scheduler leaves it out of the choice; it takes the lock when it is
  // picked after the release (docs/ARCHITECTURE.md, "Schedulers").
  bool WouldOnlySleep(int thread) const {
    if (phase_ != Phase::kRunning) return false;
    if (thread < 0 || thread >= static_cast<int>(tasks_.size())) return false;
    const TaskState& t = tasks_[thread];
    return t.at_step && t.would_sleep != nullptr && t.would_sleep(t.would_sleep_state, thread);
  }
  // Whether a waiter for a busy sleeping lock is left out of the choice
  // rather than put to sleep: unless a signal could end its sleep
  // (`interruptible` in a model that explores signals).
  bool LeavesOutWaiter(bool interruptible) const {
    return !(interruptible && (nondet() & kSignals));
  }
  // For the acquisition about to take its scheduling point: the test of
  // WouldOnlySleep() on `state` (when LeavesOutWaiter(interruptible)).
  void SetWouldSleep(bool (*test)(const void* state, int thread), const void* state,
                     bool interruptible);
  // The running step changed the count of the sleeping lock `lock` (por.h,
  // LockCount).
  void LockCountChanged(const void* lock, int before, int delta, bool sleeping_acquire);
  // True when switching away from engine thread `thread`, now, preempts it:
  // it could go on. A thread that sleeps, has exited, is an idle kernel
  // thread, or is an interrupt source (or softirq daemon, worker) waiting
  // for its next event gives up the CPU. The rule of the preemptions a
  // report counts and marks. (Relacy's context bound also counts a switch
  // away from an interrupt source waiting for its next interrupt.)
  bool SwitchIsPreemption(int thread) const;
  // True once every model task (not kernel thread) has returned.
  bool tasks_done() const { return tasks_done_; }
  // Race checks of the current engine thread are off while > 0 (lockless
  // wait_event conditions, data_race()). Per thread: a suppressed region
  // may contain scheduling points (a marked read in a wait condition, a
  // plain access with fine-grained interleaving), and the threads that run
  // there are still checked.
  void SuppressRaces(int delta) { suppress_races_[SuppressSlot()] += delta; }

  // --- Fine-grained interleaving (Model::FineGrained) --------------------
  // Plain accesses, allocations, frees and user copies are scheduling points.
  void set_fine_grained(bool on) { fine_grained_ = on; }
  bool fine_grained() const { return fine_grained_; }
  // With fine-grained interleaving, a scheduling point before a plain access
  // of kernel memory (`b` its block, null for other memory such as a
  // Shared<T> field of the fixture) or an allocator or user-copy operation:
  // announced to the reduced search like a primitive's step (the key of the
  // memory, read or write), so steps on different memory still commute.
  // Records no trace line (the access records its own). A no-op otherwise,
  // outside tasks, and where preemption is off.
  void FinePoint(const Block* b, const void* addr, bool write, Access access, const char* op,
                 const Loc& loc);

  // --- Suppressions (kmc check --suppressions=FILE) -----------------------
  // A data race a rule matches is counted and the execution goes on; the
  // runner suppresses other findings per execution. Clears the counts.
  void set_suppressions(const Suppressions* s) {
    suppressions_ = s;
    suppressed_hits_.clear();
  }
  const Suppressions* suppressions() const { return suppressions_; }
  void NoteSuppressed(int rule) { ++suppressed_hits_[rule]; }
  // Findings suppressed so far, per rule index.
  const std::map<int, uint64_t>& suppressed_hits() const { return suppressed_hits_; }

  // --- CPUs and interrupt contexts (sync/internal/cpu.cc) ----------------
  int cpus() const { return static_cast<int>(cpus_.size()); }
  CpuState& cpu(int c) { return cpus_[c]; }
  // True when no context on `c` has interrupts disabled (hardirq included).
  bool CpuAcceptsIrq(int c) const;
  // True when softirqs may start on `c` (irqs on, no bh-disabled context,
  // no softirq already running there).
  bool CpuAcceptsSoftirq(int c) const;
  // The current context enabled interrupts (or bottom halves) on its CPU.
  void IrqsEnabled(TaskState& t);
  void BhEnabled(TaskState& t);
  // Queues softirq work on a CPU / work for the worker, waking daemons.
  void RaiseSoftirq(DeferredWork* w, int cpu);
  void QueueWork(DeferredWork* w);
  void RemoveDeferred(DeferredWork* w);
  // Blocks until every waiter condition of `w` is over (not pending, not running).
  void WaitDeferred(DeferredWork* w, const char* what, const Loc& loc);
  uint32_t nondet() const { return model_ ? model_->nondet() : 0; }
  uint32_t epoch() const { return epoch_; }

  // One primitive step: records the event (when tracing) and lets the
  // scheduler switch tasks. `name` is the object's name for the trace.
  void Step(const void* obj, std::string_view op, std::string_view name,
            Access access, const Loc& loc);
  // Records a trace line without a scheduling point.
  void Note(std::string_view text, const Loc& loc);
  // The same, with a text made by `text()` only when the trace is recorded
  // (a failing execution's re-run): a text built from strings would
  // otherwise cost an allocation in every execution.
  template <class MakeText>
    requires std::is_invocable_r_v<std::string, MakeText>
  void Note(MakeText&& text, const Loc& loc) {
    if (CollectingHistory()) Note(std::string_view(text()), loc);
  }

  // Memory-model annotations of trace lines (sync/memory.cc): the last
  // recorded step stored engine store `store`; the last recorded step
  // loaded `value` from the store `from` names (" = value", and for a store
  // older than the newest one, which step wrote each).
  void NoteStoreStep(uint64_t store);
  void AnnotateLoad(const LoadFrom& from, const std::string& value);
  // A name for a marked location in trace lines ("READ_ONCE(x)"), for this
  // execution.
  void NameLocation(const void* addr, std::string name);
  std::string LocationName(const void* addr) const;

  // Fails the execution as a kernel stack overflow when a driver frame of
  // the current engine thread crossed the kernel's stack limit since the
  // last check (sync/internal/crash.h: ArmKernelStackLimit).
  void CheckKernelStackLimit();
  // The kernel stack size checked: the model's (Model::KernelStackSize)
  // times kKernelStackScale; 0 when the check is off.
  size_t KernelStackLimit() const {
    return model_ ? model_->kernel_stack_size() * kKernelStackScale : 0;
  }

  // Ends the execution with a kernel-style report. Does not return.
  [[noreturn]] void Fail(Verdict v, std::string headline, std::string details,
                         const Loc& loc);

  // might_sleep(): reports SC-01 when sleeping is not allowed here.
  void MightSleep(const char* what, const Loc& loc);
  // Describes the current task: "writer0/2 on CPU#0 (process context)".
  // task: an index into tasks(), -1 for the current task, kModuleTask for
  // module init/exit (fixture setup and the final check).
  static constexpr int kModuleTask = -2;
  std::string Who(int task = -1) const;
  // Who(task), with the CPU and context of an access it made earlier.
  std::string WhoAt(int task, const VarState::At& at) const;
  // The running task's CPU and context, for VarState's records.
  VarState::At AccessAt() const {
    const int i = CurrentIndex();
    const TaskState& t = (i >= 0 && i < static_cast<int>(tasks_.size())) ? tasks_[i] : setup_task_;
    return VarState::At{static_cast<int16_t>(t.cpu), t.ctx};
  }
  std::string HeldLocksText(const TaskState& t) const;
  // Lockdep's splat of this execution, for a deadlock report ("" if none).
  std::string LockdepAddendum() const;

  // Objects.
  template <class S>
  S& Object(Handle& h) {
    if (h.epoch != epoch_ || h.index == 0 || h.index > objects_.size()) {
      // Every execution makes the same objects again: a state of an
      // earlier one is made afresh in its place, without an allocation.
      std::vector<std::unique_ptr<ObjectState>>& pool = ObjectPool<S>();
      if (pool.empty()) {
        objects_.push_back(std::make_unique<S>());
      } else {
        objects_.push_back(std::move(pool.back()));
        pool.pop_back();
        S* fresh = static_cast<S*>(objects_.back().get());
        fresh->~S();
        ::new (fresh) S();
      }
      objects_.back()->recycle = [](std::unique_ptr<ObjectState> o) {
        std::vector<std::unique_ptr<ObjectState>>& free = ObjectPool<S>();
        if (free.size() < kObjectPoolSize) free.push_back(std::move(o));
      };
      objects_.back()->owner = &h;
      h.epoch = epoch_;
      h.index = static_cast<uint32_t>(objects_.size());
    }
    return static_cast<S&>(*objects_[h.index - 1]);
  }
  static constexpr size_t kObjectPoolSize = 256;
  template <class S>
  static std::vector<std::unique_ptr<ObjectState>>& ObjectPool() {
    static auto* pool = new std::vector<std::unique_ptr<ObjectState>>();
    return *pool;
  }
  bool Registered(const Handle& h) const {
    return h.epoch == epoch_ && h.index != 0 && h.index <= objects_.size();
  }
  // owner: the object the cell stands for (an atomic_t, a marked
  // variable); its key then follows from the owner's, whichever thread
  // happens to make the cell first.
  AtomicCell* NewAtomic(int64_t initial, const void* owner = nullptr);
  // A cell whose key for the reduced search is `por_key` (por.h).
  AtomicCell* NewKeyedAtomic(int64_t initial, uint64_t por_key);
  VarState& Var(Handle& h);

  // Race/lifetime check for a plain access of `size` bytes at `addr`
  // whose race state is `h` (Shared<T>). `loc` may be null (unknown site).
  void CheckShared(const void* addr, size_t size, Handle& h, bool write,
                   const Loc* loc, const char* what);
  // Checks a kernel memory range touched by memcpy/copy_*_user: lifetime,
  // bounds and per-byte races. Non-heap memory is not checked.
  // `point`: with fine-grained interleaving the check is also a scheduling
  // point (false when the caller took one already: a user copy).
  void CheckKernelRange(const void* p, size_t n, bool write, const char* op,
                        const Loc& loc, bool point = true);

  // A kernel access through a pointer into the NULL page (kmc_memset,
  // copy_*_user, a Shared field of a NULL struct pointer): the kernel's
  // NULL-dereference oops at the driver line. Does not return.
  [[noreturn]] void NullDereference(const void* addr, bool write, const char* op,
                                    const Loc& loc);
  // A semaphore was taken (down) or released (up) by the current task;
  // tracked for the locks column of reports while a failing execution is
  // re-run.
  void NoteSemaphore(const void* sem, const std::string& name, bool down);
  // The current context's held locks changed (recorded on its last step).
  void LocksChanged(const TaskState& t);
  // Names for reports (only while a failing execution is re-run).
  void TypeBlock(const void* p, const std::type_info& type, size_t size);
  void NotePointerStore(const void* field, const void* value);
  // The driver's name for the memory at addr ("dev->size", "qset->data[3]",
  // "gp"), or "" when none is known. `size` > 1 for a byte range.
  std::string NameOf(const void* addr, size_t size) const;
  // A block a C driver kmalloc'd has no C++ type: takes one from the global
  // pointer that holds its address (DWARF), or the name of the field that
  // holds it (ref_name). Reports only.
  void InferCBlock(Block& b);
  // Preemptions in the recorded trace.
  int preemptions() const { return preemptions_; }
  // Scheduling steps and preemptions of the current (or last) execution,
  // counted whether or not it is traced (--all_bugs keeps, of the
  // executions that hit one bug, the one with the fewest).
  uint64_t execution_steps() const { return exec_steps_; }
  int execution_preemptions() const { return exec_preemptions_; }

  // --- Instrumented plain accesses of C drivers (sync/internal/kcsan.cc) ---
  // The globals and statics of a module loaded in this execution: checked
  // like heap memory (races, bounds) until the execution ends.
  void AddModuleRegion(void* start, size_t size, const std::string& module);
  // A plain access of `size` bytes: races, use after free and out of bounds
  // for heap and module memory; other memory (stacks, user buffers, the
  // engine's own) is ignored.
  // `b`: FindKernelBlock(addr) (not null).
  void CheckPlain(const void* addr, size_t size, bool write, const Loc& loc, Block* b);
  // The per-address state of a C location in kernel memory, or null.
  VarState* PlainVar(const void* addr);
  // READ_ONCE/WRITE_ONCE & co. of C code: one scheduling step, an atomic
  // access with `order` (0 relaxed, 1 acquire, 2 release) for kernel memory,
  // a plain copy otherwise. Copies `size` bytes between *p and *value.
  void MarkedAccess(volatile void* p, void* value, size_t size, bool write, int order,
                    const char* op, const Loc& loc);
  // Names the global or static variable at an address ("" when unknown).
  void set_data_symbol_hook(std::string (*hook)(uintptr_t)) { data_symbol_ = hook; }
  // Heap or module block that contains `p` (its redzone included), or null.
  Block* FindKernelBlock(const void* p);
  // Interns the current task's call chain (0 when none) and formats one.
  void set_chain_hooks(uint32_t (*current)(), std::string (*format)(uint32_t)) {
    chain_current_ = current;
    chain_format_ = format;
  }
  // Shared accesses (Shared<T>, kernel memory, C plain accesses) checked in
  // this run: 0 means the model checked no shared memory at all.
  uint64_t checked_accesses() const { return checked_accesses_; }

  // Runs `hook` at the end of this execution, after the model's final check
  // and before the leak scan (last registered first): module exit.
  void AtExecutionEnd(std::function<void()> hook) { exit_hooks_.push_back(std::move(hook)); }

  // Heap.
  void* Allocate(size_t size, bool zero, bool is_page, const Loc& loc);
  void Free(const void* p, bool is_page, const char* fn, const Loc& loc);
  Block* FindBlock(const void* p);
  size_t BlockSize(const void* p);
  // The running step reads or writes [addr, addr + size) outside a
  // race-checked access (a user access through a mapping): the reduced
  // search orders it against the memory's other accesses and its free.
  // Returns the heap block holding addr (null: none), freed or not.
  const Block* TouchMemory(const void* addr, size_t size, bool write) {
    const Block* b = FindBlock(addr);
    PorTouchRange(b, addr, size, write);
    return b;
  }

 private:
  enum class Phase : uint8_t { kSetup, kRunning, kFinal };

  // What a race-checked access touched, formatted only for reports.
  struct Where {
    const Block* block;  // null: not heap memory
    size_t offset;
    size_t size;
    const char* op;      // memcpy/copy_to_user/...; null for a Shared field
    const void* addr;    // the first byte touched
  };
  std::string Describe(const Where& w) const;       // for reports
  std::string ShortDescribe(const Where& w) const;  // for trace lines
  void CheckVar(VarState& v, bool write, const Where& where, const Loc* loc, bool record);
  // Records an access for the reduced search (por.h).
  void PorTouchRange(const Block* b, const void* addr, size_t size, bool write);
  // The reduced search's key of a kernel object's address; PorKeyIn when
  // the caller has already looked up the address's block (`b` may be null).
  uint64_t PorKey(const void* addr);
  uint64_t PorKeyIn(const Block* b, const void* addr);
  // The key of a tasklet, timer or work item: that of the kernel structure
  // it belongs to (its host state is allocated anew in every execution).
  uint64_t DeferredWorkKey(const DeferredWork* w);
  // Ends the execution with a race report, or returns when a suppression
  // matches the race.
  void ReportRace(VarState& v, bool write, const std::string& what, const Loc* loc,
                  bool against_write);
  [[noreturn]] void ReportUseAfterFree(const Block& b, const void* addr, size_t size,
                                       bool write, const Loc& loc);
  void Record(std::string text, const Loc& loc, uintptr_t lo = 0, uintptr_t hi = 0);
  // Counts a step of engine thread i (execution_steps/preemptions).
  void CountStep(int i);
  // The task holding `lock` (a lock or semaphore), kModuleTask, or -1.
  int Holder(const void* lock) const;
  std::string LockNameHeldBy(int task, const void* lock) const;
  // Lockdep's CPU0/CPU1 table for tasks that sleep on each other's locks.
  std::string DeadlockScenario() const;
  void RunKthreadSlot(TaskState& t);
  void TaskFinished(TaskState& t);
  void RunIrqSource(TaskState& t);
  // One interrupt of t's source on `cpu`: the handler in hardirq context,
  // on top of whatever runs there (`interrupted_ctx` is t's own context to
  // return to).
  void Fire(TaskState& t, int cpu, Ctx interrupted_ctx);
  // At a step of the softirqs that t's source runs at its own irq exit
  // (Model::IrqExitPreemption): the engine explores whether the source's
  // next interrupt arrives here.
  void MaybeFireOnOwnSoftirq(TaskState& t) {
    if (t.kind == TaskKind::kIrq) FireOnOwnSoftirq(t);
  }
  void FireOnOwnSoftirq(TaskState& t);
  void RunSoftirqd(TaskState& t);
  void RunWorker(TaskState& t);
  void RunSoftirqs(TaskState& t, int cpu);
  void RunDeferred(TaskState& t, DeferredWork* w, Ctx ctx);
  void PushContext(TaskState& t, int cpu, Ctx ctx);
  void PopContext(TaskState& t, int cpu, Ctx saved);
  void WaitForCpu(TaskState& t);
  // Another context holds t's CPU: one is active there, t is not the
  // innermost, and t is not an interrupt source about to start a hardirq
  // on top of a softirq. WaitForCpu() parks while this holds.
  bool CpuTaken(const TaskState& t) const;
  void BeforeSchedulePoint(TaskState& t);
  // Fails the execution as nondeterministic when a replay left its token's path.
  void FailIfReplayDiverged(const Loc& loc) {
    if (replaying_) ReportIfReplayDiverged(loc);
  }
  void ReportIfReplayDiverged(const Loc& loc);
  void WakeIdleDaemons();
  bool ProducersDone() const;
  void RunLeftoverDeferred();
  bool UsesCpuSync() const;
  bool CpuBlockedByContext(int thread) const;
  // Interrupt and softirq contexts on the CPUs' context stacks, all CPUs
  // together: while there are none, no thread waits for its CPU.
  int contexts_on_cpus_ = 0;
  // The reduced search's key of the memory-model cell that orders the
  // contexts of `cpu` (cpu.cc).
  uint64_t CpuSyncKey(int cpu) const;
  void ResetExecution(bool engine_alive);

  const Model* model_ = nullptr;
  bool progress_ = false;
  bool progress_lines_ = false;
  uint64_t progress_every_ = 0;
  bool replaying_ = false;
  uint64_t budget_ = 0;
  bool budget_hit_ = false;
  bool stopped_ = false;
  uint64_t executions_ = 0;
  uint32_t epoch_ = 0;
  void* fixture_ = nullptr;
  Phase phase_ = Phase::kSetup;
  bool tasks_done_ = false;
  static constexpr int kSuppressSlots = 65;  // engine threads + 1 (setup)
  int SuppressSlot() const {
    const int slot = CurrentThread() + 1;
    return slot >= 0 && slot < kSuppressSlots ? slot : 0;
  }
  int suppress_races_[kSuppressSlots] = {};
  bool fine_grained_ = false;
  const Suppressions* suppressions_ = nullptr;
  std::map<int, uint64_t> suppressed_hits_;
  std::vector<CpuState> cpus_;
  std::vector<DeferredWork*> work_queue_;
  std::vector<TaskState> tasks_;
  TaskState setup_task_;  // module init (fixture setup) and exit (final check)
  std::vector<std::unique_ptr<ObjectState>> objects_;
  std::vector<VarCell*> var_cells_;
  std::vector<AtomicCell*> atomics_;
  uint64_t alloc_seq_ = 0;
  std::map<uintptr_t, Block> heap_;
  std::map<uintptr_t, Block> modules_;     // module data regions, this execution
  // [kernel_lo_, kernel_hi_) covers every block of heap_ and modules_ with
  // its red zone (NoteKernelBlock), so that FindKernelBlock() rejects an
  // address elsewhere (a C driver's stack variable) without a lookup.
  uintptr_t kernel_lo_ = UINTPTR_MAX;
  uintptr_t kernel_hi_ = 0;
  Block* last_kernel_block_ = nullptr;  // FindKernelBlock's last answer
  size_t last_kernel_extent_ = 0;
  // The bytes FindKernelBlock() attributes to `b`: a module region's, or a
  // heap object's (at least one byte) with its red zone.
  static size_t KernelExtent(const Block& b);
  void NoteKernelBlock(const Block& b) {
    kernel_lo_ = std::min(kernel_lo_, b.base);
    kernel_hi_ = std::max(kernel_hi_, b.base + KernelExtent(b));
  }
  std::map<uintptr_t, VarState> plain_;    // C plain accesses by address
  uint32_t (*chain_current_)() = nullptr;
  std::string (*chain_format_)(uint32_t) = nullptr;
  std::string (*data_symbol_)(uintptr_t) = nullptr;
  uint64_t checked_accesses_ = 0;
  std::vector<std::function<void()>> exit_hooks_;
  std::vector<TraceEvent> trace_;
  int last_trace_task_ = -1;
  int preemptions_ = 0;
  uint64_t exec_steps_ = 0;
  int exec_preemptions_ = 0;
  int exec_last_task_ = -1;
  std::map<uint64_t, size_t> store_steps_;  // engine store -> step number (traced)
  std::map<const void*, std::string> location_names_;
  std::string observed_;              // this execution's tuple
  std::set<std::string> observations_;
  std::set<uint64_t> traces_;
  PendingReport report_;
  double last_progress_ = 0;
  double run_start_ = 0;
};

// "file:line", or "?" for an unknown site.
std::string FormatLoc(const Loc& loc);
// The file of a location as reports name it: without the "./" a header
// found through the include path "." carries ("./models/asgn2_rig.h").
const char* SourceFile(const Loc& loc);
// "kmc::drivers::scull::scull_dev" -> "scull_dev".
std::string ShortTypeName(std::string_view qualified);
// The bare function name of a location ("scull_write").
std::string ShortFunction(const Loc& loc);

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_RUNTIME_H_
