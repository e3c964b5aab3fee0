// kmc: models.
//
// A model is a named scenario: a fixture built fresh for every execution (its
// constructor is the setup: build the device, init its locks), tasks that run
// as processes on CPUs, a final check that runs once every task has finished
// (invariants, module teardown), the nondeterminism the engine must explore,
// and the verdict the model is expected to produce.
//
// Adding a model is one function in a file under models/:
//
//   KMC_MODEL("scull/writers_and_reader") {
//     auto& s = m.Fixture<ScullFixture>();
//     m.Describe("two writers and one reader on one device");
//     m.Expect(kmc::Verdict::kClean);
//     s.Task("writer0", 0, [](ScullFixture& f) { ... });
//     s.Task("reader", 1, [](ScullFixture& f) { ... });
//     s.Check([](ScullFixture& f) { ... });
//   }
//
// plus, for a new file, one line in models/BUILD.bazel. Models never see the
// engine: they use kernel primitives from sync/kernel.h and KMC_ASSERT.

#ifndef KMC_SYNC_MODEL_H_
#define KMC_SYNC_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <source_location>
#include <string>
#include <typeinfo>
#include <vector>

#include "sync/search_mode.h"
#include "sync/verdict.h"

namespace kmc {

// Nondeterminism a model asks the engine to explore. Each is off by default.
enum Nondet : uint32_t {
  kNondetNone = 0,
  kAllocFailure = 1u << 0,  // kmalloc/alloc_page may return NULL
  kUserFault = 1u << 1,     // copy_{to,from}_user copy all, part or nothing
  kSignals = 1u << 2,       // a signal may arrive during interruptible sleeps
};

class Model {
 public:
  struct TaskSpec {
    std::string name;
    int cpu = 0;
    std::function<void(void*)> body;
  };
  // An interrupt source: its handler runs in hardirq context on `cpu` (or on
  // any CPU when cpu == kAnyCpu), `fires` times per execution, each time at a
  // point where that CPU has interrupts enabled; the engine explores where.
  struct IrqSpec {
    std::string name;
    int cpu = 0;
    int fires = 1;
    std::function<void(void*)> handler;
  };
  static constexpr int kAnyCpu = -1;

  explicit Model(std::string name) : name_(std::move(name)) {}

  Model& Describe(std::string text) { description_ = std::move(text); return *this; }
  Model& Expect(VerdictSet expected) { expected_ = expected; return *this; }
  // The search `kmc check` uses when none is given; `bound` is the context
  // bound for kBounded (the bug depth for kPct), `executions` the count for
  // kRandom and kPct.
  Model& DefaultSearch(SearchMode mode, int bound = 2, uint64_t executions = 10000) {
    search_ = mode; bound_ = bound; executions_ = executions; return *this;
  }
  Model& Enable(uint32_t nondet) { nondet_ |= nondet; return *this; }
  Model& Cpus(int n) { cpus_ = n; return *this; }
  // Each task may see at most this many signals (with kSignals).
  Model& SignalsPerTask(int n) { signals_per_task_ = n; return *this; }
  // Kernel-thread slots kthread_run() may start (each is an engine thread).
  Model& KernelThreads(int n) { kthreads_ = n; return *this; }
  // One ksoftirqd engine thread per CPU, so tasklets and timers can also run
  // concurrently with tasks (not only at irq exit and local_bh_enable()).
  Model& SoftirqDaemons(bool on = true) { softirqd_ = on; return *this; }
  // Lets an interrupt source fire again during the softirqs it runs at its
  // own irq exit (a tasklet run at irq exit, interrupted by the next
  // interrupt of the same line). Off by default: every step of such a
  // softirq becomes a choice, which multiplies the search (asgn2/one_file:
  // 11,127 -> 723,431 executions at 3 preemptions). Without it a source's
  // next interrupt waits for the end of those softirqs; other sources, and
  // softirqs run elsewhere, are interrupted either way.
  Model& IrqExitPreemption(bool on = true) { irq_exit_preemption_ = on; return *this; }
  // A workqueue worker thread (needed by flush_work()/cancel_work_sync()
  // waits; without it queued work runs once every task has finished).
  Model& Workqueue(bool on = true) { workqueue_ = on; return *this; }
  // Stops an exhaustive/bounded search after this many executions; the
  // result then says the search space was not exhausted. 0: no budget.
  Model& MaxExecutions(uint64_t n) { max_executions_ = n; return *this; }
  // Keeps searching after a failing execution and reports each distinct bug
  // once (kmc check --all_bugs does this for every model).
  Model& AllBugs(bool on = true) { all_bugs_ = on; return *this; }
  // A search of seconds or more: kmc check --jobs=N splits it into N shards
  // (RunOptions::shard_index/shard_count) run at once, and merges them.
  Model& Large(bool on = true) { large_ = on; return *this; }
  // Scheduling steps after which an execution is declared a livelock.
  Model& DepthLimit(unsigned steps) { depth_limit_ = steps; return *this; }
  // The kernel stack size (THREAD_SIZE, 16 KiB on x86-64): a task, handler
  // or softirq whose frames reach deeper at a kernel call is a kernel stack
  // overflow. 0 turns the check off.
  Model& KernelStackSize(size_t bytes) { kernel_stack_size_ = bytes; return *this; }
  // Fine-grained interleaving: plain accesses (Shared<T> fields, a C
  // driver's instrumented loads and stores of kernel memory, memcpy/memset
  // on it), allocations, frees and user copies become scheduling points too,
  // so a race is executed, not only detected (a lost update reaches the
  // model's invariant, an interrupt arrives between two plain accesses of
  // the code it interrupts). Races are still reported at the first
  // conflicting access; data_race() or --suppressions let an execution go
  // on to the consequence. kmc check --fine_grained does this for every
  // model. Costs more executions (docs/ARCHITECTURE.md).
  Model& FineGrained(bool on = true) { fine_grained_ = on; return *this; }

  template <class F>
  class FixtureBuilder {
   public:
    explicit FixtureBuilder(Model& m) : m_(m) {}
    FixtureBuilder& Task(std::string name, int cpu, std::function<void(F&)> body) {
      m_.tasks_.push_back(TaskSpec{std::move(name), cpu,
                                   [body](void* f) { body(*static_cast<F*>(f)); }});
      return *this;
    }
    FixtureBuilder& Irq(std::string name, int cpu, int fires, std::function<void(F&)> handler) {
      m_.irqs_.push_back(IrqSpec{std::move(name), cpu, fires,
                                 [handler](void* f) { handler(*static_cast<F*>(f)); }});
      return *this;
    }
    FixtureBuilder& Check(std::function<void(F&)> check) {
      m_.check_ = [check](void* f) { check(*static_cast<F*>(f)); };
      return *this;
    }

   private:
    Model& m_;
  };

  // Declares the per-execution fixture type. F must be default-constructible;
  // its constructor runs at the start of every execution, its destructor at
  // the end of every execution that finishes.
  template <class F>
  FixtureBuilder<F> Fixture(std::source_location where = std::source_location::current()) {
    make_ = [] { return static_cast<void*>(new F()); };
    fixture_type_ = &typeid(F);
    fixture_size_ = sizeof(F);
    fixture_file_ = where.file_name();
    destroy_ = [](void* f) { delete static_cast<F*>(f); };
    return FixtureBuilder<F>(*this);
  }

  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  VerdictSet expected() const { return expected_; }
  SearchMode default_search() const { return search_; }
  int default_bound() const { return bound_; }
  uint64_t default_executions() const { return executions_; }
  uint32_t nondet() const { return nondet_; }
  int cpus() const { return cpus_; }
  int signals_per_task() const { return signals_per_task_; }
  unsigned depth_limit() const { return depth_limit_; }
  size_t kernel_stack_size() const { return kernel_stack_size_; }
  bool fine_grained() const { return fine_grained_; }
  int kernel_threads() const { return kthreads_; }
  uint64_t max_executions() const { return max_executions_; }
  bool softirq_daemons() const { return softirqd_; }
  bool irq_exit_preemption() const { return irq_exit_preemption_; }
  bool workqueue() const { return workqueue_; }
  bool all_bugs() const { return all_bugs_; }
  bool large() const { return large_; }
  const std::vector<TaskSpec>& tasks() const { return tasks_; }
  const std::vector<IrqSpec>& irqs() const { return irqs_; }
  void* MakeFixture() const { return make_ ? make_() : nullptr; }
  void DestroyFixture(void* f) const { if (destroy_ && f) destroy_(f); }
  void RunCheck(void* f) const { if (check_) check_(f); }
  bool has_fixture() const { return static_cast<bool>(make_); }
  // The fixture's type and size, and the file that declared the model
  // (reports name the fixture's fields from debug information).
  const std::type_info* fixture_type() const { return fixture_type_; }
  size_t fixture_size() const { return fixture_size_; }
  const char* fixture_file() const { return fixture_file_; }

 private:
  std::string name_;
  std::string description_;
  VerdictSet expected_ = Verdict::kClean;
  SearchMode search_ = SearchMode::kExhaustive;
  int bound_ = 2;
  uint64_t executions_ = 10000;
  uint32_t nondet_ = kNondetNone;
  int cpus_ = 2;
  int signals_per_task_ = 1;
  unsigned depth_limit_ = 20000;
  size_t kernel_stack_size_ = 16 * 1024;
  int kthreads_ = 0;
  uint64_t max_executions_ = 0;
  bool softirqd_ = false;
  bool irq_exit_preemption_ = false;
  bool workqueue_ = false;
  bool all_bugs_ = false;
  bool fine_grained_ = false;
  bool large_ = false;
  std::vector<TaskSpec> tasks_;
  std::vector<IrqSpec> irqs_;
  std::function<void*()> make_;
  const std::type_info* fixture_type_ = nullptr;
  size_t fixture_size_ = 0;
  const char* fixture_file_ = "";
  std::function<void(void*)> destroy_;
  std::function<void(void*)> check_;
};

// Records a value the execution ended with, from a model's final check:
// kmc::Observe("bytes_read", n). The runner collects the distinct tuples of
// observations (in call order) over the clean executions of a search; the
// reduced and the unreduced search of a model must see the same set.
void Observe(const char* name, int64_t value);

// The registry of every model linked into the binary, sorted by name.
const std::vector<const Model*>& AllModels();
const Model* FindModel(const std::string& name);

class ModelRegistrar {
 public:
  ModelRegistrar(const char* name, void (*define)(Model&));
};

#define KMC_MODEL_CAT2(a, b) a##b
#define KMC_MODEL_CAT(a, b) KMC_MODEL_CAT2(a, b)
#define KMC_MODEL_IMPL(name, id)                                        \
  static void KMC_MODEL_CAT(KmcDefineModel, id)(::kmc::Model & m);     \
  static const ::kmc::ModelRegistrar KMC_MODEL_CAT(kmc_model_reg_, id)( \
      name, &KMC_MODEL_CAT(KmcDefineModel, id));                        \
  static void KMC_MODEL_CAT(KmcDefineModel, id)([[maybe_unused]] ::kmc::Model & m)
// Defines a model; the body configures `m`, a kmc::Model&.
#define KMC_MODEL(name) KMC_MODEL_IMPL(name, __COUNTER__)

}  // namespace kmc

#endif  // KMC_SYNC_MODEL_H_
