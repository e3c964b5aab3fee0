// kmc kernel runtime: per-execution state, heap tracking and reports.

#include "sync/internal/runtime.h"

#include "sync/internal/crash.h"
#include "sync/internal/debuginfo.h"
#include "sync/internal/por.h"

#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "sync/lockdep.h"

namespace kmc::internal {
namespace {

constexpr uintptr_t kNullPage = 4096;
constexpr size_t kKmallocMaxSize = size_t{4} << 20;
constexpr uint32_t kPoisonEpoch = 0x5a5a5a5au;  // kmalloc poison
constexpr uint32_t kFreedEpoch = 0x6b6b6b6bu;   // POISON_FREE
constexpr unsigned char kPoisonUninit = 0x5a;
constexpr unsigned char kPoisonFree = 0x6b;
constexpr size_t kGranule = 8;  // race-check granularity of raw memory
// Bytes after every heap block that belong to it for lookups, so an access
// just past the end is reported as out of bounds (KASAN's redzone).
constexpr size_t kRedzone = 16;

uint32_t g_epoch = 0;

uint32_t NextEpoch() {
  do {
    ++g_epoch;
  } while (g_epoch == 0 || g_epoch == kPoisonEpoch || g_epoch == kFreedEpoch);
  return g_epoch;
}

double Now() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

struct VarObject : ObjectState {
  VarState v;
};

}  // namespace

const char* CtxName(Ctx c) {
  switch (c) {
    case Ctx::kProcess: return "process context";
    case Ctx::kSoftirq: return "softirq context";
    case Ctx::kHardirq: return "hardirq context";
  }
  return "?";
}

std::string ShortFunction(const Loc& loc) {
  if (loc.line() == 0) return "(unknown)";
  std::string fn = loc.function_name();
  // "int kmc::drivers::scull::scull_write(...)" -> "scull_write"; lambdas
  // keep their enclosing function.
  const size_t paren = fn.find('(');
  if (paren != std::string::npos) fn = fn.substr(0, paren);
  const size_t colon = fn.rfind(':');
  if (colon != std::string::npos) fn = fn.substr(colon + 1);
  const size_t space = fn.rfind(' ');
  if (space != std::string::npos) fn = fn.substr(space + 1);
  return fn;
}

std::string ShortTypeName(std::string_view qualified) {
  const size_t colon = qualified.rfind("::");
  return std::string(colon == std::string_view::npos ? qualified : qualified.substr(colon + 2));
}

const char* SourceFile(const Loc& loc) {
  const char* f = loc.file_name();
  while (f[0] == '.' && f[1] == '/') f += 2;
  return f;
}

std::string FormatLoc(const Loc& loc) {
  if (loc.line() == 0) return "?";
  return std::string(SourceFile(loc)) + ":" + std::to_string(loc.line());
}

namespace {
volatile sig_atomic_t g_stop_requested = 0;
}  // namespace

void Runtime::RequestStop() { g_stop_requested = 1; }
bool Runtime::stop_requested() { return g_stop_requested != 0; }

// ---------------------------------------------------------------------------
// Lifecycle.

void Runtime::StartRun(const Model* model, bool progress) {
  model_ = model;
  progress_ = progress;
  replaying_ = false;
  budget_ = 0;
  budget_hit_ = false;
  stopped_ = false;
  executions_ = 0;
  checked_accesses_ = 0;
  observations_.clear();
  traces_.clear();
  run_start_ = last_progress_ = progress ? Now() : 0;
  report_ = PendingReport{};
}

void Runtime::EndRun() {
  if (progress_ && !progress_lines_) std::fprintf(stderr, "\r\033[K");
  AbandonExecution();
}

int Runtime::ThreadCount() const {
  if (!model_) return 0;
  return static_cast<int>(model_->tasks().size()) + model_->kernel_threads() +
         static_cast<int>(model_->irqs().size()) +
         (model_->softirq_daemons() ? std::max(1, model_->cpus()) : 0) +
         (model_->workqueue() ? 1 : 0);
}

void Runtime::ResetExecution(bool engine_alive) {
  for (VarCell* c : var_cells_) DeleteVarCell(c, engine_alive);
  var_cells_.clear();
  for (AtomicCell* c : atomics_) DeleteAtomicCell(c, engine_alive);
  atomics_.clear();
  // Every state was made by Object(), which set its recycle function.
  for (std::unique_ptr<ObjectState>& o : objects_) o->recycle(std::move(o));
  objects_.clear();
  for (auto& [base, block] : heap_) std::free(reinterpret_cast<void*>(base));
  heap_.clear();
  modules_.clear();
  kernel_lo_ = UINTPTR_MAX;
  kernel_hi_ = 0;
  last_kernel_block_ = nullptr;
  plain_.clear();
  exit_hooks_.clear();
  alloc_seq_ = 0;
  fixture_ = nullptr;
  cpus_.clear();
  contexts_on_cpus_ = 0;
  work_queue_.clear();
}

void Runtime::AbandonExecution() {
  // The fixture of a failed execution is not destroyed: its destructor may
  // use primitives, and the engine that ran them is gone.
  PorSetRecording(false);
  ResetExecution(false);
  tasks_.clear();
}

void Runtime::BeginExecution() {
  ResetExecution(true);
  ++executions_;
  epoch_ = NextEpoch();
  phase_ = Phase::kSetup;
  trace_.clear();
  last_trace_task_ = -1;
  preemptions_ = 0;
  exec_steps_ = 0;
  exec_preemptions_ = 0;
  exec_last_task_ = -1;
  store_steps_.clear();
  location_names_.clear();
  observed_.clear();
  report_ = PendingReport{};
  tasks_.clear();
  const auto& specs = model_->tasks();
  const int cpus = std::max(1, model_->cpus());
  for (size_t i = 0; i < specs.size(); ++i) {
    TaskState t;
    t.name = specs[i].name;
    t.pid = 101 + static_cast<int>(i);
    t.cpu = ((specs[i].cpu % cpus) + cpus) % cpus;
    t.thread = static_cast<int>(i);
    t.signals_left = (model_->nondet() & kSignals) ? model_->signals_per_task() : 0;
    t.at_step = true;  // its first step is WaitForCpu()
    tasks_.push_back(std::move(t));
  }
  for (int k = 0; k < model_->kernel_threads(); ++k) {
    TaskState t;
    t.kind = TaskKind::kKthread;
    t.name = "kthread" + std::to_string(k);
    t.pid = 201 + k;
    t.cpu = k % cpus;
    t.thread = static_cast<int>(tasks_.size());
    t.at_step = true;
    t.caps = ~uint64_t{0};
    t.uid = t.euid = 0;
    tasks_.push_back(std::move(t));
  }
  for (size_t i = 0; i < model_->irqs().size(); ++i) {
    const auto& irq = model_->irqs()[i];
    TaskState t;
    t.kind = TaskKind::kIrq;
    t.name = "irq/" + irq.name;
    t.pid = 301 + static_cast<int>(i);
    t.cpu = irq.cpu >= 0 ? irq.cpu % cpus : 0;
    t.thread = static_cast<int>(tasks_.size());
    t.irq_source = static_cast<int>(i);
    t.ctx = Ctx::kHardirq;
    tasks_.push_back(std::move(t));
  }
  if (model_->softirq_daemons()) {
    for (int c = 0; c < cpus; ++c) {
      TaskState t;
      t.kind = TaskKind::kSoftirqd;
      t.name = "ksoftirqd/" + std::to_string(c);
      t.pid = 401 + c;
      t.cpu = c;
      t.thread = static_cast<int>(tasks_.size());
      tasks_.push_back(std::move(t));
    }
  }
  if (model_->workqueue()) {
    TaskState t;
    t.kind = TaskKind::kWorker;
    t.name = "kworker/0:1";
    t.pid = 501;
    t.cpu = 0;
    t.thread = static_cast<int>(tasks_.size());
    tasks_.push_back(std::move(t));
  }
  cpus_.assign(static_cast<size_t>(cpus), CpuState{});
  work_queue_.clear();
  tasks_done_ = false;
  std::fill(std::begin(suppress_races_), std::end(suppress_races_), 0);
  setup_task_ = TaskState{};
  setup_task_.name = "insmod";
  setup_task_.pid = 100;
  setup_task_.thread = -1;
  setup_task_.caps = ~uint64_t{0};
  setup_task_.uid = setup_task_.euid = 0;

  // By time (every 10 s in a log, redrawn twice a second on a terminal), or
  // every `progress_every_` executions when asked.
  const bool check_progress =
      progress_ && (progress_every_ > 0 ? executions_ > 0 && executions_ % progress_every_ == 0
                                        : (executions_ & 1023) == 0);
  if (check_progress) {
    const double now = Now();
    if (progress_every_ > 0 || now - last_progress_ >= (progress_lines_ ? 10.0 : 0.5)) {
      last_progress_ = now;
      const double rate = executions_ / std::max(1e-9, now - run_start_);
      const double frac = SearchFraction();
      // A terminal line is redrawn in place; a log gets one line each time.
      const char* start = progress_lines_ ? "" : "\r\033[K";
      const char* end = progress_lines_ ? "\n" : "";
      if (frac >= 0) {
        std::fprintf(stderr, "%s[kmc] %s: %llu executions, %.0f/s, %.2f%% of the tree%s", start,
                     model_->name().c_str(), static_cast<unsigned long long>(executions_), rate,
                     frac * 100, end);
      } else {
        std::fprintf(stderr, "%s[kmc] %s: %llu executions, %.0f/s%s", start,
                     model_->name().c_str(), static_cast<unsigned long long>(executions_), rate,
                     end);
      }
      std::fflush(stderr);
    }
  }

  if (g_stop_requested && !replaying_) {
    executions_ -= 1;
    budget_hit_ = true;
    stopped_ = true;
    FailExecution(Verdict::kClean, "search interrupted", Loc::current());
  }
  if (budget_ != 0 && executions_ > budget_) {
    // Ends the search: the runner reads budget_hit() and reports an
    // incomplete clean result, not a failure.
    executions_ -= 1;
    budget_hit_ = true;
    FailExecution(Verdict::kClean, "search budget exhausted", Loc::current());
  }
  if (replaying_ && executions_ > 1) {
    Fail(Verdict::kNondeterministic,
         "kmc: nondeterministic model: the replayed execution did not fail",
         "The execution named by the replay token finished cleanly when it was "
         "run again. The model depends on something the engine does not "
         "control (rand(), a clock, static state that survives between "
         "executions, or object addresses).\n",
         Loc::current());
  }
  lockdep::BeginExecution();
  fixture_ = model_->MakeFixture();
  PorSetFixture(fixture_, model_->fixture_size());
  phase_ = Phase::kRunning;
  PorSetRecording(true);
}

void Runtime::RunThread(int thread) {
  if (thread < 0 || thread >= static_cast<int>(tasks_.size())) return;
  TaskState& t = tasks_[thread];
  // A task starts like any other step on its CPU: after an interrupt
  // context that is already running there, ordered after everything that
  // ran on the CPU before it.
  if (t.kind == TaskKind::kTask || t.kind == TaskKind::kKthread) WaitForCpu(t);
  t.at_step = false;
  t.stack_top = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  ArmKernelStackLimit(t.stack_top, KernelStackLimit());
  switch (t.kind) {
    case TaskKind::kTask:
    {
      // Reported once the handler is left (Fail does not return, and the
      // exception must not stay caught forever).
      std::string thrown;
      bool threw = false;
      try {
        model_->tasks()[thread].body(fixture_);
      } catch (const std::exception& e) {
        threw = true;
        thrown = std::string(": ") + e.what();
      } catch (...) {
        threw = true;
      }
      if (threw) {
        Fail(Verdict::kModelError, "kmc: " + Who() + " ended with an uncaught C++ exception" + thrown,
             "Kernel code has no exceptions; a model's task must not throw.\n", Loc());
      }
      break;
    }
    case TaskKind::kKthread: RunKthreadSlot(t); break;
    case TaskKind::kIrq: RunIrqSource(t); break;
    case TaskKind::kSoftirqd: RunSoftirqd(t); break;
    case TaskKind::kWorker: RunWorker(t); break;
  }
  TaskFinished(t);
}

void Runtime::RunKthreadSlot(TaskState& t) {
  // An idle slot waits for kthread_run(), or for the model's tasks to end.
  for (;;) {
    PorTouchKey(PorTasksDoneKey(), false);
    if (t.started || tasks_done_) break;
    t.idle = true;
    Park(false, Loc::current());
    t.idle = false;
  }
  if (!t.started) return;
  t.exit_code = t.kthread_fn(t.kthread_data);
}

void Runtime::TaskFinished(TaskState& t) {
  // A driver frame that crossed the kernel's stack limit after the task's
  // last kernel call.
  if (&t == CurrentOrNull()) CheckKernelStackLimit();
  // Whatever the task did last is ordered before the next context to run on
  // its CPU (an interrupt arriving after the exit sees the task's stores).
  if (!cpus_.empty() && phase_ == Phase::kRunning) BeforeSchedulePoint(t);
  t.finished = true;
  if (!t.held.empty()) {
    // A model task is a process making system calls: returning from it is a
    // return to user space (lockdep_sys_exit()). A kernel thread exits.
    if (t.kind == TaskKind::kTask) {
      Fail(Verdict::kLockMisuse, "WARNING: lock held when returning to user space!",
           t.name + "/" + std::to_string(t.pid) +
               " is leaving the kernel with locks still held!\n" + HeldLocksText(t),
           t.held.back().where);
    }
    Fail(Verdict::kLockMisuse,
         "WARNING: " + t.name + "/" + std::to_string(t.pid) + " still has locks held!",
         HeldLocksText(t), t.held.back().where);
  }
  if (t.exit_waiter >= 0) {
    tasks_[t.exit_waiter].granted = true;
    Unpark(t.exit_waiter, Loc::current());
    t.exit_waiter = -1;
  }
  if (t.kind == TaskKind::kTask && !tasks_done_) {
    bool all = true;
    bool waited_for = false;  // something waits for the end of the tasks
    for (const TaskState& o : tasks_) {
      if (o.kind == TaskKind::kTask && !o.finished) all = false;
      if (o.kind == TaskKind::kSoftirqd || o.kind == TaskKind::kWorker ||
          (o.kind == TaskKind::kKthread && !o.started)) {
        waited_for = true;
      }
    }
    if (waited_for) PorTouchKey(PorTasksDoneKey(), true);
    // Idle kernel-thread slots that were never started exit now.
    if (all) tasks_done_ = true;
  }
  // Idle daemons wait for work or for the end (ProducersDone(); the worker
  // also for every softirq daemon): an exit that ends nothing they wait
  // for would only wake them to park again (a spurious step that, being a
  // daemon's, depends on every other step).
  if (tasks_done_ || ProducersDone() || t.kind == TaskKind::kSoftirqd) WakeIdleDaemons();
}

void Runtime::WakeIdleDaemons() {
  for (TaskState& o : tasks_) {
    if (o.idle && !o.finished) {
      // Unpark() touches the daemon's state; its steps are global.
      o.idle = false;
      Unpark(o.thread, Loc::current());
    }
  }
}

void Runtime::FinishExecution() {
  PorSetRecording(false);
  phase_ = Phase::kFinal;
  RunLeftoverDeferred();
  model_->RunCheck(fixture_);
  // Module exit (rmmod of what the model left loaded), before the leak scan.
  while (!exit_hooks_.empty()) {
    auto hook = std::move(exit_hooks_.back());
    exit_hooks_.pop_back();
    hook();
  }
  model_->DestroyFixture(fixture_);
  fixture_ = nullptr;
  // kmemleak: every block still allocated once the model is torn down.
  std::vector<const Block*> leaks;
  for (const auto& [base, b] : heap_) {
    if (!b.freed) leaks.push_back(&b);
  }
  if (!leaks.empty()) {
    std::sort(leaks.begin(), leaks.end(),
              [](const Block* a, const Block* b) { return a->seq < b->seq; });
    std::string details;
    size_t bytes = 0;
    for (const Block* b : leaks) {
      bytes += b->size;
      details += "unreferenced object #" + std::to_string(b->seq) + " (size " +
                 std::to_string(b->size) + "):\n  allocated by " +
                 Who(b->alloc_task) + "\n    " + (b->is_page ? "alloc_page" : "kmalloc") +
                 " at " + FormatLoc(b->alloc_loc) + "\n";
    }
    Fail(Verdict::kMemoryLeak,
         "kmemleak: " + std::to_string(leaks.size()) +
             " new suspected memory leaks (" + std::to_string(bytes) + " bytes)",
         details, leaks.front()->alloc_loc);
  }
  lockdep::FinishExecution();
  // A replayed prediction: the execution ran to its end without another
  // failure, and lockdep's splat is what it is replayed for.
  if (CollectingHistory() && lockdep::ExecutionPredicted()) {
    Fail(Verdict::kPossibleDeadlock, lockdep::ExecutionHeadline(), lockdep::ExecutionSplat(),
         lockdep::ExecutionSplatLoc());
  }
  observations_.insert(observed_);
  ResetExecution(true);
  phase_ = Phase::kSetup;
}

void Runtime::Observe(const char* name, int64_t value) {
  if (!observed_.empty()) observed_ += " ";
  observed_ += std::string(name ? name : "?") + "=" + std::to_string(value);
}

// ---------------------------------------------------------------------------
// Tasks.

bool Runtime::in_task() const { return CurrentIndex() >= 0; }

TaskState& Runtime::Current() {
  TaskState* t = CurrentOrNull();
  if (t == nullptr) {
    std::fprintf(stderr, "kmc: a kernel primitive was called outside a model\n");
    std::abort();
  }
  return *t;
}

std::string Runtime::Who(int task) const {
  const TaskState* t = nullptr;
  if (task >= 0 && task < static_cast<int>(tasks_.size())) {
    t = &tasks_[task];
  } else if (task == -1) {
    const int i = CurrentIndex();
    t = (i >= 0 && i < static_cast<int>(tasks_.size())) ? &tasks_[i] : &setup_task_;
  } else {
    t = &setup_task_;
  }
  return t->name + "/" + std::to_string(t->pid) + " on CPU#" + std::to_string(t->cpu) +
         " (" + CtxName(t->ctx) + ")";
}

std::string Runtime::WhoAt(int task, const VarState::At& at) const {
  if (task < 0 || task >= static_cast<int>(tasks_.size())) return Who(task);
  const TaskState& t = tasks_[task];
  return t.name + "/" + std::to_string(t.pid) + " on CPU#" + std::to_string(at.cpu) + " (" +
         CtxName(at.ctx) + ")";
}

std::string Runtime::HeldLocksText(const TaskState& t) const {
  const std::string who = t.name + "/" + std::to_string(t.pid);
  if (t.held.empty()) return "no locks held by " + who + ".\n";
  std::string s = std::to_string(t.held.size()) +
                  (t.held.size() == 1 ? " lock" : " locks") + " held by " + who + ":\n";
  for (size_t i = 0; i < t.held.size(); ++i) {
    s += " #" + std::to_string(i) + ": " + t.held[i].name + " (" + t.held[i].type +
         "), at: " + FormatLoc(t.held[i].where) + "\n";
  }
  return s;
}

// ---------------------------------------------------------------------------
// Steps, traces and reports.

// Said in a kernel stack overflow's details when the limit is scaled.
constexpr const char* kStackScaleNote =
    kKernelStackScale == 1 ? "" : ", doubled in an AddressSanitizer build as the kernel's is under KASAN";

void Runtime::CheckKernelStackLimit() {
  TaskState* t = CurrentOrNull();
  StackLimitCrossing c;
  if (t == nullptr || CurrentThread() < 0 || t->stack_top == 0 || !KernelStackLimitCrossed(&c)) {
    return;
  }
  const Loc at = c.at;
  const size_t used = c.used;
  const size_t limit = KernelStackLimit();
  t->stack_top = 0;  // one report
  // The context it ran in when it crossed (a handler may have returned).
  const std::string who = t->name + "/" + std::to_string(t->pid);
  const char* ctx = CtxName(static_cast<Ctx>(c.ctx));
  Fail(Verdict::kStackOverflow,
       "BUG: kernel stack overflow: " + who + " on CPU#" + std::to_string(c.cpu) + " (" + ctx +
           ") went past its " + std::to_string(limit) + "-byte stack (THREAD_SIZE)",
       "Frames of " + who + " (" + ctx + ") reached " + std::to_string(used) + " bytes deep at " + FormatLoc(at) + " " +
           ShortFunction(at) +
           " (the deepest driver frame, where it crossed the limit: the page past it "
           "faulted); the kernel's stack is " +
           std::to_string(limit) + " bytes (Model::KernelStackSize" + kStackScaleNote + ").\n",
       at);
}

void Runtime::Step(const void* obj, std::string_view op, std::string_view name,
                   Access access, const Loc& loc) {
  TaskState* t = CurrentOrNull();
  // SetWouldSleep() applies to this step's scheduling point only.
  bool (*would_sleep)(const void*, int) = nullptr;
  if (t != nullptr) {
    would_sleep = t->would_sleep;
    t->would_sleep = nullptr;
    t->in_wait_condition = false;
    t->last_loc = loc;
    t->has_last_loc = true;
    if (KernelStackLimitPending(CurrentThread())) CheckKernelStackLimit();
    const size_t limit = KernelStackLimit();
    if (limit != 0 && t->stack_top != 0 && CurrentThread() >= 0) {
      const uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
      if (here < t->stack_top && t->stack_top - here > limit) {
        const size_t used = t->stack_top - here;
        const size_t limit_used = limit;
        t->stack_top = 0;  // one report
        Fail(Verdict::kStackOverflow,
             "BUG: kernel stack overflow: " + Who() + " went past its " +
                 std::to_string(limit_used) + "-byte stack (THREAD_SIZE)",
             "Frames of " + t->name + "/" + std::to_string(t->pid) + " (" + CtxName(t->ctx) +
                 ") used " + std::to_string(used) + " bytes when it reached " +
                 std::string(op) + " at " + FormatLoc(loc) + " " + ShortFunction(loc) +
                 " (the deepest driver frame); the kernel's stack is " +
                 std::to_string(limit_used) + " bytes (Model::KernelStackSize" +
                 kStackScaleNote + ").\n",
             loc);
      }
    }
  }
  FailIfReplayDiverged(loc);
  const bool tracing = CollectingHistory();
  if (phase_ == Phase::kRunning && t != nullptr && CurrentThread() >= 0) {
    BeforeSchedulePoint(*t);
    if (PorEnabled()) {
      // What the step touches, for the reduced search (por.h): its object;
      // an unnamed object may be any engine state.
      if (obj == &kPorOwnTask) {
        PorAnnounce(t->thread, PorTaskKey(t->thread), false, true);
      } else if (obj == &kPorOwnCpu) {
        PorAnnounce(t->thread, PorIrqKey(t->cpu), false, true);
      } else if (obj == &kPorFence) {
        PorAnnounce(t->thread, PorSeqCstKey(), false, true);
      } else if (obj == &kPorLocalFence) {
        PorAnnounce(t->thread, PorTaskKey(t->thread), false, false);
      } else if (obj == nullptr) {
        PorAnnounce(t->thread, 0, true, true);
      } else {
        PorAnnounce(t->thread, PorKey(obj), false, access != Access::kRead);
      }
    }
    t->at_step = true;
    t->would_sleep = would_sleep;
    SchedulePoint(obj, op.data(), access, loc);
    t->at_step = false;
    t->would_sleep = nullptr;
    WaitForCpu(*t);
    MaybeFireOnOwnSoftirq(*t);
    CountStep(t->thread);
  }
  // Recorded once the step runs, so the trace is in execution order.
  if (obj == &kPorOwnCpu || obj == &kPorFence || obj == &kPorLocalFence) {
    obj = nullptr;  // the trace shows no object
  }
  if (tracing) {
    std::string text(op);
    std::string named;
    if (name.empty() && obj != nullptr) named = NameOf(obj, 1);
    if (!name.empty() || !named.empty()) {
      text += "(";
      text += name.empty() ? std::string_view(named) : name;
      text += ")";
    }
    const uintptr_t at = reinterpret_cast<uintptr_t>(obj);
    Record(std::move(text), loc, at, obj ? at + 1 : 0);
    trace_.back().access_kind = static_cast<int>(access);
  }
}

void Runtime::ReportIfReplayDiverged(const Loc& loc) {
  std::string why;
  if (EngineDiverged(&why)) {
    Fail(Verdict::kNondeterministic,
         "kmc: nondeterministic model: the replayed execution took another path",
         "The replay token does not fit this execution (" + why +
             "). Either the model is nondeterministic or the token was "
             "made for another version of it.\n",
         loc);
  }
}

void Runtime::FinePoint(const Block* b, const void* addr, bool write, Access access,
                        const char* op, const Loc& loc) {
  if (!fine_grained_ || phase_ != Phase::kRunning || !InSimulation()) return;
  TaskState* t = CurrentOrNull();
  if (t == nullptr || CurrentThread() < 0 || PreemptionDisabled()) return;
  // As Step() does, except that an open-coded wait's condition test goes on
  // (t->in_wait_condition stays set) and no trace line is recorded.
  if (loc.line() != 0) {
    t->last_loc = loc;
    t->has_last_loc = true;
  }
  FailIfReplayDiverged(loc);
  BeforeSchedulePoint(*t);
  if (PorEnabled()) {
    // The memory the step touches first (the access records the rest of
    // its granules as it runs); an allocator step touches only the task's
    // own allocation numbering.
    const uint64_t key = addr == nullptr ? PorTaskKey(t->thread) : PorKeyIn(b, addr);
    PorAnnounce(t->thread, key, false, write);
  }
  t->at_step = true;
  SchedulePoint(addr, op, access, loc);
  t->at_step = false;
  WaitForCpu(*t);
  MaybeFireOnOwnSoftirq(*t);
  CountStep(t->thread);
}

bool Runtime::SwitchIsPreemption(int thread) const {
  if (thread < 0 || thread >= static_cast<int>(tasks_.size())) return false;
  const TaskState& p = tasks_[thread];
  const bool waiting_source =
      p.kind != TaskKind::kTask && p.kind != TaskKind::kKthread && p.ctx == Ctx::kProcess;
  return !p.finished && p.wait_object == nullptr && !p.idle && !waiting_source;
}

void Runtime::CountStep(int i) {
  ++exec_steps_;
  if (exec_last_task_ >= 0 && exec_last_task_ != i &&
      exec_last_task_ < static_cast<int>(tasks_.size())) {
    if (SwitchIsPreemption(exec_last_task_)) ++exec_preemptions_;
  }
  exec_last_task_ = i;
}

void Runtime::Note(std::string_view text, const Loc& loc) {
  if (CollectingHistory()) Record(std::string(text), loc);
}

void Runtime::NoteStoreStep(uint64_t store) {
  if (CollectingHistory() && !trace_.empty()) store_steps_[store] = trace_.size();
}

void Runtime::AnnotateLoad(const LoadFrom& from, const std::string& value) {
  if (!CollectingHistory() || trace_.empty()) return;
  std::string& text = trace_.back().text;
  text += " = " + value;
  if (from.store == from.latest) return;
  auto describe = [this](uint64_t store, bool initial) -> std::string {
    if (initial) return "the initial value";
    auto it = store_steps_.find(store);
    return it == store_steps_.end() ? "an untraced store"
                                    : "the store of step " + std::to_string(it->second);
  };
  text += "  [stale: reads " + describe(from.store, from.initial) + ", not " +
          describe(from.latest, false) + "]";
}

void Runtime::NameLocation(const void* addr, std::string name) {
  location_names_[addr] = std::move(name);
}

std::string Runtime::LocationName(const void* addr) const {
  auto it = location_names_.find(addr);
  return it == location_names_.end() ? std::string() : it->second;
}

void Runtime::Record(std::string text, const Loc& loc, uintptr_t lo, uintptr_t hi) {
  const int i = CurrentIndex();
  const TaskState* t = CurrentOrNull();
  TraceEvent e;
  e.task = i;
  e.cpu = t ? t->cpu : 0;
  e.ctx = t ? t->ctx : Ctx::kProcess;
  e.text = std::move(text);
  e.loc = loc;
  e.lo = lo;
  e.hi = hi;
  if (t != nullptr) {
    for (const HeldLock& h : t->held) {
      if (!e.locks.empty()) e.locks += ", ";
      e.locks += h.name;
    }
    for (const auto& [sem, name] : t->sems) {
      if (!e.locks.empty()) e.locks += ", ";
      e.locks += name;
    }
  }
  if (i >= 0 && i < static_cast<int>(tasks_.size())) {
    if (last_trace_task_ >= 0 && last_trace_task_ != i) {
      const TaskState& p = tasks_[last_trace_task_];
      if (SwitchIsPreemption(last_trace_task_)) {
        e.preempted = last_trace_task_;
        ++preemptions_;
      }
      if (!p.finished && p.wait_object != nullptr && p.trace_sleep_from < 0) {
        for (size_t k = trace_.size(); k-- > 0;) {
          if (trace_[k].task == last_trace_task_) {
            tasks_[last_trace_task_].trace_sleep_from = static_cast<int>(k);
            break;
          }
        }
      }
    }
    if (tasks_[i].trace_sleep_from >= 0) {
      e.sleep_from = tasks_[i].trace_sleep_from;
      tasks_[i].trace_sleep_from = -1;
    }
    last_trace_task_ = i;
  }
  trace_.push_back(std::move(e));
}

std::string Runtime::LockdepAddendum() const {
  if (!lockdep::ExecutionPredicted()) return "";
  return "\nlockdep predicted this deadlock before it happened:\n" +
         lockdep::ExecutionHeadline() + "\n" + lockdep::ExecutionSplat();
}

void Runtime::Fail(Verdict v, std::string headline, std::string details,
                   const Loc& loc_in) {
  if (v == Verdict::kDeadlock && headline != lockdep::ExecutionHeadline()) {
    details += LockdepAddendum();
  }
  Loc loc = loc_in;
  if (loc.line() == 0) {
    if (const TaskState* t = CurrentOrNull(); t && t->has_last_loc) loc = t->last_loc;
  }
  report_.verdict = v;
  report_.headline = std::move(headline);
  report_.details = std::move(details);
  report_.task = CurrentIndex();
  report_.loc = loc;
  Note("*** " + report_.headline, loc);
  if (CollectingHistory() && !trace_.empty()) trace_.back().failure = true;
  FailExecution(v, "kmc report", loc);
}

void Runtime::ReportEngineFailure(Verdict v) {
  report_.verdict = v;
  report_.task = -1;
  report_.loc = Loc();
  std::string details;
  if (v == Verdict::kDeadlock) {
    report_.headline = "kmc: deadlock: every remaining task is asleep and nothing can wake it";
    for (const TaskState& t : tasks_) {
      if (t.finished) continue;
      // The hung-task detector's words; kmc knows the wait is forever.
      details += "INFO: task " + t.name + ":" + std::to_string(t.pid) +
                 " blocked for more than 120 seconds.\n      task " + t.name + ":" +
                 std::to_string(t.pid) + " blocked forever on CPU#" + std::to_string(t.cpu);
      if (t.wait_object != nullptr) {
        details += " in " + t.wait_what + " at " + FormatLoc(t.wait_loc);
        if (report_.loc.line() == 0) report_.loc = t.wait_loc;
        report_.also.push_back(t.wait_loc);
      }
      details += "\n";
      details += HeldLocksText(t);
      if (const int h = Holder(t.wait_object); h != -1) {
        details += "  it waits for " + LockNameHeldBy(h, t.wait_object) + ", held by " +
                   (h == kModuleTask ? std::string("insmod/100")
                                     : tasks_[h].name + "/" + std::to_string(tasks_[h].pid)) +
                   (h >= 0 && tasks_[h].finished ? ", which has exited" : "") + "\n";
      }
    }
    details += DeadlockScenario();
    for (const TaskState& t : tasks_) {
      if (t.finished) details += "task " + t.name + ":" + std::to_string(t.pid) + " has exited\n";
    }
    details += LockdepAddendum();
  } else if (v == Verdict::kLivelock) {
    report_.headline = "kmc: livelock: no task finished within " +
                       std::to_string(model_ ? model_->depth_limit() : 0) +
                       " scheduling steps";
    for (const TaskState& t : tasks_) {
      details += "task " + t.name + ":" + std::to_string(t.pid) +
                 (t.finished ? " has exited" : " still running");
      if (!t.finished && t.has_last_loc) details += ", last at " + FormatLoc(t.last_loc);
      details += "\n";
    }
  } else {
    report_.headline = std::string("kmc: ") + std::string(VerdictName(v));
  }
  report_.details = details;
}

int Runtime::Holder(const void* lock) const {
  if (lock == nullptr) return -1;
  auto holds = [lock](const TaskState& t) {
    for (const HeldLock& h : t.held) {
      if (h.lock == lock) return true;
    }
    for (const auto& [sem, name] : t.sems) {
      if (sem == lock) return true;
    }
    return false;
  };
  for (size_t i = 0; i < tasks_.size(); ++i) {
    if (holds(tasks_[i])) return static_cast<int>(i);
  }
  if (holds(setup_task_)) return kModuleTask;
  return -1;
}

std::string Runtime::LockNameHeldBy(int task, const void* lock) const {
  const TaskState& t = task == kModuleTask ? setup_task_ : tasks_[task];
  for (const HeldLock& h : t.held) {
    if (h.lock == lock) return h.name;
  }
  for (const auto& [sem, name] : t.sems) {
    if (sem == lock) return name;
  }
  return "?";
}

std::string Runtime::DeadlockScenario() const {
  // Tasks that sleep on a lock another sleeping task holds, as lockdep's
  // "possible unsafe locking scenario": one column per task, its locks in
  // the order taken, then the lock it waits for.
  std::vector<int> involved;
  for (size_t i = 0; i < tasks_.size(); ++i) {
    const TaskState& t = tasks_[i];
    if (t.finished || t.held.empty()) continue;
    const int h = Holder(t.wait_object);
    if (h >= 0 && h != static_cast<int>(i) && !tasks_[h].finished) {
      involved.push_back(static_cast<int>(i));
    }
  }
  if (involved.size() < 2) return "";
  constexpr size_t kWidth = 32;
  auto pad = [](std::string x, size_t w) {
    if (x.size() < w) x.append(w - x.size(), ' ');
    return x;
  };
  std::string header = "       ", rule = "       ";
  for (int i : involved) {
    header += pad("CPU" + std::to_string(tasks_[i].cpu) + " (" + tasks_[i].name + ")", kWidth);
    rule += pad("----", kWidth);
  }
  while (!header.empty() && header.back() == ' ') header.pop_back();
  while (!rule.empty() && rule.back() == ' ') rule.pop_back();
  std::string s = "\n Possible unsafe locking scenario:\n\n" + header + "\n" + rule + "\n";
  auto row = [&](size_t column, const std::string& text) {
    s += "  " + std::string(column * kWidth, ' ') + text + "\n";
  };
  for (size_t c = 0; c < involved.size(); ++c) {
    row(c, "lock(" + tasks_[involved[c]].held.front().name + ");");
  }
  for (size_t c = 0; c < involved.size(); ++c) {
    const TaskState& t = tasks_[involved[c]];
    for (size_t k = 1; k < t.held.size(); ++k) row(c, "lock(" + t.held[k].name + ");");
    row(c, "lock(" + LockNameHeldBy(Holder(t.wait_object), t.wait_object) + ");");
  }
  return s + "\n *** DEADLOCK ***\n";
}

// ---------------------------------------------------------------------------
// Kernel rules.

void Runtime::MightSleep(const char* what, const Loc& loc) {
  TaskState& t = Current();
  if (phase_ != Phase::kRunning) return;
  if (t.state != 0 && t.ctx == Ctx::kProcess) {
    // __might_sleep(): a blocking call between set_current_state() (or
    // prepare_to_wait()) and schedule() would reset the task state, and the
    // wake-up the task prepared for is lost.
    // Like the kernel, name the function that set the state: the wait
    // primitive (prepare_to_wait), or the driver function that called
    // set_current_state() itself; never a model's macro-made body.
    std::string setter = t.state_fn;
    const std::string caller = ShortFunction(t.state_loc);
    if ((setter == "set_current_state" || setter == "__set_current_state") &&
        caller.rfind("KmcDefineModel", 0) != 0) {
      setter = caller;
    }
    Fail(Verdict::kInvalidContext,
         "WARNING: do not call blocking ops when !TASK_RUNNING; state=" +
             std::to_string(t.state) + " set at " + setter + " " + FormatLoc(t.state_loc),
         std::string("WARNING: CPU: ") + std::to_string(t.cpu) + " PID: " +
             std::to_string(t.pid) + " at " + FormatLoc(loc) + " __might_sleep\n" + what +
             " by " + Who() + " while the task state is " +
             (t.state == 1 ? "TASK_INTERRUPTIBLE" : "TASK_UNINTERRUPTIBLE") + " (set by " +
             t.state_fn + "() at " + FormatLoc(t.state_loc) + ")\n" + HeldLocksText(t),
         loc);
  }
  if (t.preempt_count == 0 && !t.irqs_disabled && t.ctx == Ctx::kProcess) return;
  std::string details = "in_atomic(): " + std::to_string(t.preempt_count > 0 || t.ctx != Ctx::kProcess ? 1 : 0) +
                        ", irqs_disabled(): " + std::to_string(t.irqs_disabled ? 1 : 0) +
                        ", non_block: 0, pid: " + std::to_string(t.pid) + ", name: " + t.name +
                        "\npreempt_count: " + std::to_string(t.preempt_count) + ", expected: 0\n";
  details += HeldLocksText(t);
  details += std::string("the sleeping call: ") + what + " by " + Who() + "\n";
  Fail(Verdict::kInvalidContext,
       "BUG: sleeping function called from invalid context at " + FormatLoc(loc), details, loc);
}

// ---------------------------------------------------------------------------
// Engine cells.

AtomicCell* Runtime::NewAtomic(int64_t initial, const void* owner) {
  const uint64_t key = owner != nullptr && PorEnabled() ? PorOwnedCellKey(PorKey(owner)) : 0;
  return NewKeyedAtomic(initial, key);
}

AtomicCell* Runtime::NewKeyedAtomic(int64_t initial, uint64_t por_key) {
  AtomicCell* c = NewAtomicCell(initial, por_key);
  atomics_.push_back(c);
  return c;
}

VarState& Runtime::Var(Handle& h) { return Object<VarObject>(h).v; }

std::string Runtime::ShortDescribe(const Where& w) const {
  if (CollectingHistory()) {
    const std::string name = NameOf(w.addr, w.op ? w.size : 1);
    if (!name.empty()) return w.op ? std::string(w.op) + " " + name : name;
  }
  if (w.block == nullptr) return w.op ? std::string(w.op) : std::string("shared field");
  const Block& b = *w.block;
  if (b.is_module) {
    std::string sym = data_symbol_ ? data_symbol_(b.base + w.offset) : std::string();
    if (sym.empty()) sym = b.module + "+" + std::to_string(w.offset);
    return w.op ? std::string(w.op) + " " + sym : sym;
  }
  const std::string obj = std::string(b.is_page ? "page#" : "obj#") + std::to_string(b.seq);
  if (w.op) {
    return std::string(w.op) + " " + obj + "[" + std::to_string(w.offset) + ".." +
           std::to_string(w.offset + w.size - 1) + "]";
  }
  return obj + "+" + std::to_string(w.offset);
}

std::string Runtime::Describe(const Where& w) const {
  const std::string name = CollectingHistory() ? NameOf(w.addr, w.op ? w.size : 1) : "";
  if (w.block == nullptr) {
    if (!name.empty()) return (w.op ? std::string(w.op) + " of " : std::string()) + name;
    return w.op ? std::string(w.op) : std::string("a shared field");
  }
  const Block& b = *w.block;
  if (b.is_module) {
    std::string sym = data_symbol_ ? data_symbol_(b.base + w.offset) : std::string();
    std::string s = w.op ? std::string(w.op) + " of " : std::string();
    if (!sym.empty()) return s + "'" + sym + "' (a global of module " + b.module + ")";
    return s + "offset " + std::to_string(w.offset) + " of the globals of module " + b.module;
  }
  if (!name.empty()) {
    std::string s = (w.op ? std::string(w.op) + " of " : std::string()) + name + " (";
    s += w.op ? "bytes " + std::to_string(w.offset) + ".." + std::to_string(w.offset + w.size - 1)
              : "offset " + std::to_string(w.offset);
    s += " of " + std::string(b.is_page ? "page #" : "object #") + std::to_string(b.seq) + ", ";
    if (!b.type_name.empty() && b.type_size > 1) s += "struct " + ShortTypeName(b.type_name) + ", ";
    s += std::to_string(b.size) + " bytes from " + (b.is_page ? "alloc_page" : "kmalloc") +
         " at " + FormatLoc(b.alloc_loc) + ")";
    return s;
  }
  std::string s = w.op ? std::string(w.op) + " of " : std::string("the field at ");
  if (w.op) {
    s += "bytes " + std::to_string(w.offset) + ".." + std::to_string(w.offset + w.size - 1) + " of ";
  } else {
    s += "offset " + std::to_string(w.offset) + " of ";
  }
  s += std::string(b.is_page ? "page #" : "object #") + std::to_string(b.seq) + " (" +
       std::to_string(b.size) + " bytes from " + (b.is_page ? "alloc_page" : "kmalloc") + " at " +
       FormatLoc(b.alloc_loc) + ")";
  return s;
}

void Runtime::ReportRace(VarState& v, bool write, const std::string& what, const Loc* loc,
                         bool against_write) {
  const int me = CurrentIndex();
  std::string details = std::string(write ? "write" : "read") + " of " + what + " by " + Who(me);
  if (loc != nullptr) details += " at " + FormatLoc(*loc) + " (" + ShortFunction(*loc) + ")";
  else if (const TaskState* t = CurrentOrNull(); t && t->has_last_loc)
    details += " (after " + FormatLoc(t->last_loc) + ")";
  details += "\n";
  if (chain_current_ != nullptr && chain_format_ != nullptr) {
    details += chain_format_(chain_current_());
  }
  // The access this one is unordered with, as the engine's clocks say: a
  // write ordered before this access (say, under the lock this one skips)
  // is never the one named.
  int other = -1;
  bool has_loc = false;
  Loc other_loc;
  uint32_t other_chain = 0;
  const VarState::At* other_at = nullptr;
  bool conflict_store = false;
  const int conflict = v.cell != nullptr ? VarRaceWith(v.cell, write, &conflict_store) : -1;
  if (conflict >= 0) against_write = conflict_store;
  if (against_write) {
    other = conflict >= 0 ? conflict : v.last_writer;
    if (other == v.last_writer) {
      has_loc = v.has_write_loc;
      other_loc = v.last_write_loc;
      other_chain = v.write_chain;
      other_at = &v.write_at;
    }
  } else if (conflict >= 0) {
    other = conflict;
    if (conflict < VarState::kTrackedReaders && v.read_seq[conflict] != 0) {
      other_loc = v.read_loc[conflict];
      has_loc = other_loc.line() != 0;
      other_chain = v.read_chain[conflict];
      other_at = &v.read_at[conflict];
    }
  } else {
    uint32_t best = 0;
    for (int i = 0; i < VarState::kTrackedReaders; ++i) {
      if (i != me && v.read_seq[i] > best) {
        best = v.read_seq[i];
        other = i;
        other_loc = v.read_loc[i];
        has_loc = other_loc.line() != 0;
        other_chain = v.read_chain[i];
        other_at = &v.read_at[i];
      }
    }
  }
  const TaskState* cur = CurrentOrNull();
  const Loc here = loc ? *loc : (cur && cur->has_last_loc ? cur->last_loc : Loc());
  if (suppressions_ != nullptr && !suppressions_->empty()) {
    std::vector<SuppressFrame> frames;
    const Loc none;
    for (const Loc* l : {&here, static_cast<const Loc*>(has_loc ? &other_loc : &none)}) {
      if (l->line() != 0) {
        frames.push_back(SuppressFrame{SourceFile(*l), l->line(), l->function_name()});
      }
    }
    const int rule = suppressions_->Match(Verdict::kDataRace, frames);
    if (rule >= 0) {
      NoteSuppressed(rule);
      return;
    }
  }
  report_.other_task = other;
  report_.other_loc = has_loc ? other_loc : Loc();
  if (other >= 0) {
    details += std::string("previous ") + (against_write ? "write" : "read") + " by " +
               (other_at != nullptr ? WhoAt(other, *other_at) : Who(other));
    if (has_loc) details += " at " + FormatLoc(other_loc) + " (" + ShortFunction(other_loc) + ")";
    details += "\n";
    if (other_chain != 0 && chain_format_ != nullptr) details += chain_format_(other_chain);
  }
  details += "no lock or barrier orders the two accesses\n";
  const TaskState* t = CurrentOrNull();
  const Loc where = loc ? *loc : (t && t->has_last_loc ? t->last_loc : Loc());
  Fail(Verdict::kDataRace, "BUG: KCSAN: data-race in " + ShortFunction(where), details, where);
}

void Runtime::CheckVar(VarState& v, bool write, const Where& where, const Loc* loc,
                       bool record) {
  if (!InSimulation() || CurrentThread() < 0) return;
  if (suppress_races_[SuppressSlot()] > 0) {
    // With fine-grained interleaving an access is a step of its own: the
    // trace shows it even where it is exempt from race checks (data_race()).
    if (fine_grained_ && record && loc != nullptr && phase_ == Phase::kRunning &&
        CollectingHistory()) {
      const uintptr_t at = reinterpret_cast<uintptr_t>(where.addr);
      Record(std::string(write ? "write " : "read ") + ShortDescribe(where), *loc, at,
             at + where.size);
      trace_.back().access = true;
    }
    return;
  }
  ++checked_accesses_;
  const uint32_t chain =
      (chain_current_ != nullptr && CollectingHistory()) ? chain_current_() : 0;
  if (v.cell == nullptr) {
    v.cell = NewVarCell();
    var_cells_.push_back(v.cell);
  }
  const int me = CurrentIndex();
  if (record && loc != nullptr && phase_ == Phase::kRunning && CollectingHistory()) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(where.addr);
    Record(std::string(write ? "write " : "read ") + ShortDescribe(where), *loc, at,
           at + where.size);
    trace_.back().access = true;
  }
  if (write) {
    if (!VarStore(v.cell)) {
      bool other_read = false;
      for (int i = 0; i < VarState::kTrackedReaders; ++i) {
        if (i != me && v.read_seq[i] != 0) other_read = true;
      }
      const bool against_write = (v.last_writer >= 0 && v.last_writer != me) || !other_read;
      ReportRace(v, true, Describe(where), loc, against_write);
    }
    for (uint32_t& r : v.read_seq) r = 0;
    v.write_chain = chain;
    v.last_writer = me;
    v.has_write_loc = loc != nullptr;
    if (loc) v.last_write_loc = *loc;
    v.write_at = AccessAt();
  } else {
    if (!VarLoad(v.cell)) ReportRace(v, false, Describe(where), loc, true);
    if (me >= 0 && me < VarState::kTrackedReaders) {
      v.read_seq[me] = ++v.seq;
      v.read_loc[me] = loc ? *loc : Loc();
      v.read_chain[me] = chain;
      v.read_at[me] = AccessAt();
    }
  }
}

void Runtime::CheckShared(const void* addr, size_t size, Handle& h, bool write,
                          const Loc* loc, const char* what) {
  if (!InSimulation()) return;
  if (reinterpret_cast<uintptr_t>(addr) < kNullPage) {
    const TaskState* t = CurrentOrNull();
    NullDereference(addr, write, write ? "write" : "read",
                    loc ? *loc : (t && t->has_last_loc ? t->last_loc : Loc()));
  }
  Block* b = FindBlock(addr);
  if (fine_grained_) {
    FinePoint(b, addr, write, write ? Access::kWrite : Access::kRead, write ? "write" : "read",
              loc ? *loc : Loc());
  }
  if (PorEnabled()) PorTouchRange(b, addr, size, write);
  if (b != nullptr && b->freed) {
    const TaskState* t = CurrentOrNull();
    ReportUseAfterFree(*b, addr, size, write,
                       loc ? *loc : (t && t->has_last_loc ? t->last_loc : Loc()));
  }
  (void)what;
  const Where where{b, b ? reinterpret_cast<uintptr_t>(addr) - b->base : 0, size, nullptr, addr};
  CheckVar(Var(h), write, where, loc, /*record=*/true);
}

void Runtime::PorTouchRange(const Block* b, const void* addr, size_t size, bool write) {
  if (!PorEnabled()) return;
  if (b == nullptr) b = FindKernelBlock(addr);  // a module's static data
  if (b == nullptr) {
    // Neither heap nor module memory (a fixture field, a static of the
    // model): keyed by its address.
    PorTouchKey(PorAddressKey(addr), write);
    return;
  }
  // Heap memory: the 8-byte granules it covers, and the object itself
  // (granule 0's key), which kfree() writes.
  const uintptr_t start = reinterpret_cast<uintptr_t>(addr) - b->base;
  const size_t first = start / kGranule;
  const size_t last = (start + std::max<size_t>(size, 1) - 1) / kGranule;
  if (last - first >= 64) {
    PorTouchKey(PorHeapKey(b->por_id, 0), true);
    return;
  }
  PorTouchKey(PorHeapKey(b->por_id, 0), false);
  for (size_t g = first; g <= last; ++g) PorTouchKey(PorHeapKey(b->por_id, g), write);
}

uint64_t Runtime::PorKey(const void* addr) { return PorKeyIn(nullptr, addr); }

uint64_t Runtime::PorKeyIn(const Block* b, const void* addr) {
  // One key per 8-byte granule of a block, heap or module, whichever way
  // the block was found: the same byte must never get two keys, or two
  // steps that touch it would look independent.
  if (b == nullptr) b = FindKernelBlock(addr);
  if (b == nullptr) return PorAddressKey(addr);
  return PorHeapKey(b->por_id, (reinterpret_cast<uintptr_t>(addr) - b->base) / kGranule);
}

void Runtime::ReportUseAfterFree(const Block& b, const void* addr, size_t size, bool write,
                                 const Loc& loc) {
  const size_t off = reinterpret_cast<uintptr_t>(addr) - b.base;
  const std::string name = CollectingHistory() ? NameOf(addr, size) : "";
  std::string details = std::string(write ? "Write" : "Read") + " of size " +
                        std::to_string(size) + (name.empty() ? "" : " of " + name) +
                        " at offset " + std::to_string(off) + " of object #" +
                        std::to_string(b.seq) + " by " + Who();
  if (loc.line() != 0) details += " at " + FormatLoc(loc);
  details += "\nAllocated by " + Who(b.alloc_task) + ":\n  " +
             (b.is_page ? "alloc_page" : "kmalloc") + " at " + FormatLoc(b.alloc_loc) +
             "\nFreed by " + Who(b.free_task) + ":\n  " + (b.is_page ? "__free_page" : "kfree") +
             " at " + FormatLoc(b.free_loc) + "\n";
  Fail(Verdict::kUseAfterFree,
       "BUG: KASAN: use-after-free in " + ShortFunction(loc),
       details, loc);
}

void Runtime::CheckKernelRange(const void* p, size_t n, bool write, const char* op,
                               const Loc& loc, bool point) {
  if (!InSimulation() || n == 0) return;
  if (reinterpret_cast<uintptr_t>(p) < kNullPage) NullDereference(p, write, op, loc);
  Block* b = FindKernelBlock(p);
  if (b != nullptr && point) {
    FinePoint(b, p, write, write ? Access::kWrite : Access::kRead, op, loc);
  }
  PorTouchRange(b, p, n, write);
  if (b == nullptr) return;
  if (b->freed) ReportUseAfterFree(*b, p, n, write, loc);
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  if (start + n > b->base + b->size) {
    Fail(Verdict::kOutOfBounds,
         std::string("BUG: KASAN: ") + (b->is_module ? "global" : "slab") +
             "-out-of-bounds in " + op,
         std::string(write ? "Write" : "Read") + " of size " + std::to_string(n) +
             " at offset " + std::to_string(start - b->base) + " of a " +
             std::to_string(b->size) + "-byte object #" + std::to_string(b->seq) + " by " +
             Who() + " at " + FormatLoc(loc) + "\nAllocated at " + FormatLoc(b->alloc_loc) + "\n",
         loc);
  }
  if (CurrentThread() < 0) return;
  const size_t first = (start - b->base) / kGranule;
  const size_t last = (start - b->base + n - 1) / kGranule;
  // Race state only for the granules touched so far (a page written one
  // byte at a time does not need 512 of them).
  if (b->granules.size() <= last) b->granules.resize(last + 1);
  const Where where{b, start - b->base, n, op, p};
  if (phase_ == Phase::kRunning && CollectingHistory()) {
    Record(std::string(write ? "write " : "read ") + ShortDescribe(where), loc, start, start + n);
    trace_.back().access = true;
  }
  for (size_t g = first; g <= last; ++g) {
    CheckVar(b->granules[g], write, where, &loc, /*record=*/false);
  }
}

// ---------------------------------------------------------------------------
// Heap.

void Runtime::NullDereference(const void* addr, bool write, const char* op, const Loc& loc) {
  char head[96];
  std::snprintf(head, sizeof head, "BUG: kernel NULL pointer dereference, address: %016llx",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(addr)));
  const TaskState* t = CurrentOrNull();
  std::string details = std::string("#PF: supervisor ") + (write ? "write" : "read") +
                        " access in kernel mode\n#PF: error_code(0x000" + (write ? "2" : "0") +
                        ") - not-present page\nOops: 000" + (write ? "2" : "0") +
                        " [#1] PREEMPT SMP\n";
  if (t != nullptr) {
    details += "CPU: " + std::to_string(t->cpu) + " PID: " + std::to_string(t->pid) +
               " Comm: " + t->name + "\n";
  }
  details += "RIP: " + ShortFunction(loc) + " (" + op + " at " + FormatLoc(loc) + ")\n";
  Fail(Verdict::kKernelOops, head, details, loc);
}

void* Runtime::Allocate(size_t size, bool zero, bool is_page, const Loc& loc) {
  // Larger than the kernel's KMALLOC_MAX_SIZE (4 MiB): kmalloc fails.
  if (size > kKmallocMaxSize && !is_page) {
    Note("kmalloc(" + std::to_string(size) + ") fails: larger than KMALLOC_MAX_SIZE", loc);
    return nullptr;
  }
  const size_t real = size == 0 ? 1 : size;
  void* p = std::malloc(real + kRedzone);
  if (p == nullptr) {
    Note("allocation of " + std::to_string(size) + " bytes fails: host out of memory", loc);
    return nullptr;
  }
  std::memset(p, zero ? 0 : kPoisonUninit, real);
  Block b;
  b.base = reinterpret_cast<uintptr_t>(p);
  b.size = size;
  b.is_page = is_page;
  b.alloc_loc = loc;
  b.alloc_task = running() ? CurrentIndex() : kModuleTask;
  b.seq = ++alloc_seq_;
  b.por_id = PorNewId();
  NoteKernelBlock(b);
  heap_.emplace(b.base, std::move(b));
  if (CollectingHistory()) {
    const uintptr_t base = reinterpret_cast<uintptr_t>(p);
    Record((is_page ? "alloc_page() = page#" : "kmalloc(" + std::to_string(size) + ") = obj#") +
               std::to_string(alloc_seq_),
           loc, base, base + real);
  }
  return p;
}

void Runtime::LocksChanged(const TaskState& t) {
  if (!CollectingHistory()) return;
  const int i = CurrentIndex();
  if (&t != CurrentOrNull()) return;
  for (size_t k = trace_.size(); k-- > 0;) {
    TraceEvent& e = trace_[k];
    if (e.task != i || e.ctx != t.ctx) continue;
    std::string locks;
    for (const HeldLock& h : t.held) locks += (locks.empty() ? "" : ", ") + h.name;
    for (const auto& [sem, name] : t.sems) locks += (locks.empty() ? "" : ", ") + name;
    e.has_locks_after = true;
    e.locks_after = locks;
    return;
  }
}

void Runtime::NoteSemaphore(const void* sem, const std::string& name, bool down) {
  if (!CollectingHistory()) return;
  TaskState* t = CurrentOrNull();
  if (down) {
    if (t != nullptr) {
      t->sems.emplace_back(sem, name);
      LocksChanged(*t);
    }
    return;
  }
  // up() may release a semaphore another task took.
  auto drop = [sem](TaskState& o) {
    for (size_t i = o.sems.size(); i-- > 0;) {
      if (o.sems[i].first == sem) {
        o.sems.erase(o.sems.begin() + static_cast<long>(i));
        return true;
      }
    }
    return false;
  };
  if (t != nullptr && drop(*t)) {
    LocksChanged(*t);
    return;
  }
  if (drop(setup_task_)) return;
  for (TaskState& o : tasks_) {
    if (drop(o)) return;
  }
}

void Runtime::TypeBlock(const void* p, const std::type_info& type, size_t size) {
  Block* b = FindBlock(p);
  if (b == nullptr || b->base != reinterpret_cast<uintptr_t>(p) || !b->type_name.empty()) return;
  b->type_name = Demangle(type.name());
  b->type_size = size;
}

void Runtime::NotePointerStore(const void* field, const void* value) {
  Block* b = FindBlock(value);
  if (b == nullptr || b->base != reinterpret_cast<uintptr_t>(value) || !b->ref_name.empty()) {
    return;
  }
  b->ref_name = NameOf(field, 1);
}

void Runtime::InferCBlock(Block& b) {
  if (b.is_module || !b.type_name.empty() || !b.ref_name.empty()) return;
  const std::string_view file = b.alloc_loc.file_name();
  if (file.size() < 2 || file.substr(file.size() - 2) != ".c") return;
  auto holds = [&b](uintptr_t word) {
    uintptr_t v = 0;
    std::memcpy(&v, reinterpret_cast<const void*>(word), sizeof v);
    return v == b.base;
  };
  // A global of a module: its DWARF type says which struct it points to.
  for (const auto& [base, m] : modules_) {
    for (uintptr_t w = (m.base + 7) & ~uintptr_t{7}; w + 8 <= m.base + m.size; w += 8) {
      if (!holds(w)) continue;
      const std::string sym = data_symbol_ ? data_symbol_(w) : std::string();
      if (sym.empty() || sym.find('+') != std::string::npos) continue;
      std::string type;
      size_t size = 0;
      if (PointeeStruct(sym, file, &type, &size)) {
        b.type_name = type;
        b.type_size = size;
        b.c_type = true;
      } else {
        b.ref_name = sym;
      }
      return;
    }
  }
  // A field of another live block: its DWARF type says what it points to
  // (a struct: name the block like one; else "dev->buffer[i]").
  for (auto& [base, o] : heap_) {
    if (&o == &b || o.freed) continue;
    for (uintptr_t w = (o.base + 7) & ~uintptr_t{7}; w + 8 <= o.base + o.size; w += 8) {
      if (!holds(w)) continue;
      if (!o.type_name.empty() && o.type_size > 0) {
        const MemberName m =
            FindMember(o.type_name, o.alloc_loc.file_name(), (w - o.base) % o.type_size);
        if (m.found && !m.pointee.empty() && m.pointee_size > 0) {
          b.type_name = m.pointee;
          b.type_size = m.pointee_size;
          b.c_type = true;
          return;
        }
        if (m.found) b.type_size = m.pointee_size;  // the elements' size
      }
      const std::string name = NameOf(reinterpret_cast<const void*>(w), 8);
      if (name.empty()) continue;
      b.ref_name = name;
      return;
    }
  }
}

std::string Runtime::NameOf(const void* addr, size_t size) const {
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  if (size == 0) size = 1;
  if (Block* mb = const_cast<Runtime*>(this)->FindBlock(addr); mb != nullptr) {
    const_cast<Runtime*>(this)->InferCBlock(*mb);
  }
  if (const Block* b = const_cast<Runtime*>(this)->FindBlock(addr); b != nullptr) {
    const size_t off = a - b->base;
    const char* file = b->alloc_loc.file_name();
    if (!b->type_name.empty() && b->type_size > 0 && IsStructType(b->type_name, file)) {
      const std::string base =
          b->c_type ? PointerName(b->type_name, file) : ConventionalName(b->type_name);
      const bool array = b->size >= 2 * b->type_size;
      if (size >= b->type_size || (off == 0 && size >= b->size)) {
        // A whole object (memset, kfree): name the object itself.
        if (!array) return base;
        const size_t first = off / b->type_size, last = (off + size - 1) / b->type_size;
        return base + "[" + std::to_string(first) +
               (last != first ? ".." + std::to_string(last) : "") + "]";
      }
      const MemberName m = FindMember(b->type_name, file, off % b->type_size);
      if (m.found) {
        if (array) {
          return base + "[" + std::to_string(off / b->type_size) + "]." + m.path;
        }
        return base + "->" + m.path;
      }
      return "";
    }
    if (b->ref_name.empty()) return "";
    const size_t elem = b->type_size != 0 ? b->type_size : 1;
    const size_t first = off / elem;
    const size_t last = (off + size - 1) / elem;
    std::string s = b->ref_name + "[" + std::to_string(first);
    if (last != first) s += ".." + std::to_string(last);
    return s + "]";
  }
  const uintptr_t f = reinterpret_cast<uintptr_t>(fixture_);
  if (fixture_ != nullptr && model_ != nullptr && model_->fixture_type() != nullptr &&
      a >= f && a < f + model_->fixture_size()) {
    const std::string type = Demangle(model_->fixture_type()->name());
    const MemberName m = FindMember(type, model_->fixture_file(), a - f);
    if (!m.found) return "";
    if (m.top_member_is_leaf) return m.path;
    const std::string& owner = m.top_member_type;
    if (owner.size() > 7 && owner.compare(owner.size() - 7, 7, "_module") == 0) return m.rest;
    return ConventionalName(owner) + "->" + m.rest;
  }
  return "";
}

Block* Runtime::FindBlock(const void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  // Every heap block lies in [kernel_lo_, kernel_hi_) (NoteKernelBlock):
  // a fixture's field or a model's static is rejected without a lookup.
  if (a < kernel_lo_ || a >= kernel_hi_) return nullptr;
  auto it = heap_.upper_bound(a);
  if (it == heap_.begin()) return nullptr;
  --it;
  Block& b = it->second;
  if (a < b.base + std::max<size_t>(b.size, 1)) return &b;
  return nullptr;
}

size_t Runtime::KernelExtent(const Block& b) {
  return b.is_module ? b.size : std::max<size_t>(b.size, 1) + kRedzone;
}

Block* Runtime::FindKernelBlock(const void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (a < kernel_lo_ || a >= kernel_hi_) return nullptr;
  // Blocks never overlap and stay (freed ones too) until the execution
  // ends, so the last block found answers again while the address is in it.
  if (last_kernel_block_ != nullptr && a - last_kernel_block_->base < last_kernel_extent_) {
    return last_kernel_block_;
  }
  for (auto* blocks : {&heap_, &modules_}) {
    auto it = blocks->upper_bound(a);
    if (it == blocks->begin()) continue;
    --it;
    Block& b = it->second;
    const size_t extent = KernelExtent(b);
    if (a < b.base + extent) {
      last_kernel_block_ = &b;
      last_kernel_extent_ = extent;
      return &b;
    }
  }
  return nullptr;
}

size_t Runtime::BlockSize(const void* p) {
  Block* b = FindBlock(p);
  return b ? b->size : 0;
}

void Runtime::Free(const void* p, bool is_page, const char* fn, const Loc& loc) {
  if (p == nullptr) return;
  Block* b = FindBlock(p);
  if (b != nullptr && b->base == reinterpret_cast<uintptr_t>(p)) {
    FinePoint(b, p, true, Access::kFree, fn, loc);
  }
  if (b == nullptr || b->base != reinterpret_cast<uintptr_t>(p)) {
    Fail(Verdict::kInvalidFree, std::string("BUG: KASAN: invalid-free in ") + ShortFunction(loc),
         std::string(fn) + " of a pointer that " +
             (b ? "points inside object #" + std::to_string(b->seq) + " (allocated at " +
                      FormatLoc(b->alloc_loc) + ")"
                : std::string("was never allocated by kmalloc/alloc_page")) +
             ", by " + Who() + " at " + FormatLoc(loc) + "\n",
         loc);
  }
  if (b->freed) {
    Fail(Verdict::kDoubleFree, std::string("BUG: KASAN: double-free in ") + ShortFunction(loc),
         "object #" + std::to_string(b->seq) + " freed again by " + Who() + " at " +
             FormatLoc(loc) + "\nAllocated at " + FormatLoc(b->alloc_loc) +
             "\nFirst freed by " + Who(b->free_task) + " at " + FormatLoc(b->free_loc) + "\n",
         loc);
  }
  lockdep::CheckFree(p, std::max<size_t>(b->size, 1), fn, loc);
  if (b->is_page != is_page) {
    Fail(Verdict::kInvalidFree, std::string("BUG: KASAN: invalid-free in ") + ShortFunction(loc),
         std::string(fn) + " of object #" + std::to_string(b->seq) + ", which was allocated by " +
             (b->is_page ? "alloc_page" : "kmalloc") + " at " + FormatLoc(b->alloc_loc) +
             ", by " + Who() + " at " + FormatLoc(loc) + "\n",
         loc);
  }
  // The freeing task writes the whole object: a free racing an access is a
  // data race as well as a use after free. Granules nobody has touched hold
  // no accesses to race with, and any later access is a use after free.
  if (InSimulation() && CurrentThread() >= 0) {
    const Where where{b, 0, b->size, fn, p};
    if (phase_ == Phase::kRunning && CollectingHistory()) {
      Record("write " + ShortDescribe(where), loc, b->base, b->base + std::max<size_t>(b->size, 1));
    }
    for (VarState& g : b->granules) {
      if (g.cell != nullptr) CheckVar(g, true, where, &loc, /*record=*/false);
    }
    for (auto it = plain_.lower_bound(b->base);
         it != plain_.end() && it->first < b->base + b->size; ++it) {
      if (it->second.cell != nullptr) CheckVar(it->second, true, where, &loc, /*record=*/false);
    }
  }
  PorTouchKey(PorHeapKey(b->por_id, 0), true);
  b->freed = true;
  b->free_loc = loc;
  b->free_task = running() ? CurrentIndex() : kModuleTask;
  std::memset(reinterpret_cast<void*>(b->base), kPoisonFree, std::max<size_t>(b->size, 1));
  Note(std::string(fn) + "(" + (is_page ? "page#" : "obj#") + std::to_string(b->seq) + ")", loc);
}

}  // namespace kmc::internal

namespace kmc {

void Observe(const char* name, int64_t value) {
  if (!internal::InSimulation()) return;
  internal::Runtime::Get().Observe(name, value);
}

}  // namespace kmc
