// kmc engine boundary.
//
// This header is the whole interface between kmc's kernel runtime and the
// Relacy Race Detector. It names no Relacy type or macro: the one file that
// includes <relacy/relacy.hpp> is sync/internal/relacy_shim.cc, which
// implements everything declared here.
//
// What the engine provides:
//   * scheduling points: SchedulePoint() is the only way the runtime lets the
//     scheduler switch tasks, and it is told which object the step touches and
//     how (read, write, acquire, release, block, wake, ...). A future
//     partial-order scheduler keys on exactly this information;
//   * explored choices: Choose(n) returns 0..n-1, and the search explores every
//     value (allocation failure, user-copy faults, signals, irq arrival);
//   * parking: a task blocks with Park() until another task Unpark()s it;
//     the engine detects the state where every task is parked (deadlock);
//   * memory-model cells: atomics with C++ memory orders and plain variables
//     whose accesses are checked for data races with vector clocks;
//   * failing the current execution with a verdict.

#ifndef KMC_SYNC_INTERNAL_ENGINE_H_
#define KMC_SYNC_INTERNAL_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <source_location>

#include <string>

#include "sync/model.h"
#include "sync/verdict.h"

namespace kmc::internal {

using Loc = std::source_location;

// How a scheduling step touches its object.
enum class Access : uint8_t {
  kRead,      // reads shared state (atomic_read, test_bit, READ_ONCE)
  kWrite,     // writes shared state without synchronizing (atomic_set)
  kRmw,       // read-modify-write (atomic_inc_return, test_and_set_bit)
  kAcquire,   // lock acquisition, down(), wait completion
  kRelease,   // lock release, up(), complete()
  kBlock,     // about to sleep on the object
  kWake,      // wakes sleepers of the object
  kAlloc,     // allocator
  kFree,      // allocator
  kUserCopy,  // user-space access (may fault, may sleep)
  kChoice,    // an explored nondeterministic choice with no object
  kFence,     // memory barrier
  kIrq,       // interrupt delivery
};

const char* AccessName(Access a);

enum class MemOrder : uint8_t { kRelaxed, kAcquire, kRelease, kAcqRel, kSeqCst };

// ---------------------------------------------------------------------------
// Scheduling.

// A scheduling point: the scheduler may switch to another task here. Called
// once per primitive operation, before the operation takes effect.
void SchedulePoint(const void* object, const char* op, Access access,
                   const Loc& loc);

// While an AtomicSection is alive the current task cannot be preempted
// (engine-internal steps of one primitive operation run as one step).
// Parking inside a section is allowed.
class AtomicSection {
 public:
  AtomicSection();
  ~AtomicSection();
  AtomicSection(const AtomicSection&) = delete;
  AtomicSection& operator=(const AtomicSection&) = delete;
};

// True inside an AtomicSection: a scheduling point there cannot switch.
bool PreemptionDisabled();

// An explored choice in [0, n). n must be at least 1.
unsigned Choose(unsigned n);

enum class WakeReason : uint8_t { kWoken, kTimeout };

// Blocks the current engine thread until Unpark(thread). With timed = true the
// engine may also wake it with kTimeout (a timeout or, for interruptible
// sleeps, a signal), and a timed sleeper never counts as deadlocked.
// A park on a CPU taken by an interrupt or softirq context (and the
// Unpark() of its end) passes `cpu_wait` = true: the reduced search orders
// such a wait through the CPU (por.h), not through the task's state.
WakeReason Park(bool timed, const Loc& loc, bool cpu_wait = false);
// A polling loop's pause: a sleep with a timeout (which a loop may repeat
// until a condition holds), or a spin's cpu_relax() after a stale value when
// NextLoadReadsNewer() cannot apply. A timed park that keeps Relacy's yield
// rule: the thread runs again only after every other thread was scheduled,
// so such a loop cannot starve the rest, and a spinner reads nothing older
// than what it has seen. Other sleeps (Park) are not yields.
WakeReason PollPause(const Loc& loc);
void Unpark(int thread, const Loc& loc, bool cpu_wait = false);
// True while engine thread `thread` is in Park() or PollPause() waiting for
// a wake-up, a timeout or a signal (not for its CPU), woken or not.
bool InSleep(int thread);

// What every access asks the engine, mirrored by the shim so that it is a
// load, not a call: set for the lifetime of a simulation, the running thread
// updated at every fiber switch.
struct EngineMirror {
  bool in_simulation = false;
  bool collecting_history = false;
  int current_thread = -1;
};
extern EngineMirror g_mirror;

// The engine thread running now, or -1 outside a simulation.
inline int CurrentThread() { return g_mirror.in_simulation ? g_mirror.current_thread : -1; }
inline bool InSimulation() { return g_mirror.in_simulation; }
// True during the re-run of a failing execution, when traces are recorded.
inline bool CollectingHistory() { return g_mirror.collecting_history; }

// ---------------------------------------------------------------------------
// Memory-model cells. Created lazily by the runtime, destroyed at the end of
// the execution that created them (DeleteX with engine_alive = false only
// releases memory, for executions that ended in a failure). Operations on
// them are never scheduling points: the primitive that uses them has taken
// its one scheduling point (Runtime::Step) already, and a preemption in the
// middle of a primitive would let another context of the same CPU run in
// the middle of it.

class AtomicCell;
// por_key: the cell's key for the reduced search (por.h); 0: a fresh
// creation id.
AtomicCell* NewAtomicCell(int64_t initial, uint64_t por_key = 0);
void DeleteAtomicCell(AtomicCell* cell, bool engine_alive);
int64_t AtomicLoad(AtomicCell* cell, MemOrder mo, const Loc& loc);
// A store that becomes the newest in its location's modification order.
void AtomicStore(AtomicCell* cell, int64_t value, MemOrder mo, const Loc& loc);
// A marked store (WRITE_ONCE & co.) that may take any place in the
// location's modification order that is coherent for the storing thread:
// after every store of the location that happens before it, that it or a
// load ordered before it has read, and never between a read-modify-write
// and the store it read. Each place is an explored choice (the newest one
// first); a seq_cst store is always the newest. Returns the value of the
// newest store afterwards (what memory holds).
int64_t AtomicStorePlaced(AtomicCell* cell, int64_t value, MemOrder mo, const Loc& loc);
enum class RmwOp : uint8_t { kAdd, kXchg, kAnd, kOr, kXor };
// Returns the old value.
int64_t AtomicRmw(AtomicCell* cell, RmwOp op, int64_t operand, MemOrder mo,
                  const Loc& loc);
// Compare-and-swap; on failure `expected` receives the current value.
bool AtomicCas(AtomicCell* cell, int64_t& expected, int64_t desired,
               MemOrder success, MemOrder failure, const Loc& loc);
void Fence(MemOrder mo, const Loc& loc);
// smp_wmb(): orders the thread's earlier stores before its later stores
// (a release fence for stores). Unlike Fence(kRelease) it does not order
// the thread's earlier loads: a load ordered before it by nothing else does
// not constrain, through read-read or read-write coherence, the accesses of
// a thread that reads a later store (LKMM's smp_wmb() is not A-cumulative).
void StoreFence(const Loc& loc);

// LKMM's lock ordering (po-unlock-rf-lock-po), for a lock acquisition that
// has just read the lock's last unlock with an acquire RMW on `cell`: the
// accesses before that unlock are ordered before every later store of the
// acquirer as seen by every CPU (the acquirer's later relaxed stores carry
// the unlocker's release clock), and when the unlock was the acquirer's own,
// the two critical sections are ordered as by a fence.
void LockCumulativity(AtomicCell* cell);

// Which store the current thread's last atomic load (or read-modify-write)
// read. Stores are numbered in execution order from 1; 0 is a cell's initial
// value. latest is the newest store of that cell when the load ran, so
// store != latest marks a stale read (the model allowed an older value).
struct LoadFrom {
  uint64_t store = 0;
  uint64_t latest = 0;
  bool initial = true;
};
LoadFrom LastLoadFrom();
// A polling loop's last load (of `cell`, when given) read a store older
// than the newest of its cell (an odd sequence a writer has ended since, a
// value that no longer fails the loop's condition): the running thread's
// next load of that cell reads a newer store. Reading the same store again
// would repeat the iteration and change nothing; this replaces a pause
// (PollPause), which let the other threads run first. False when the
// thread's last load read the newest store, or another cell than `cell`.
bool NextLoadReadsNewer(const AtomicCell* cell = nullptr);
// The number of the current thread's last atomic store (0 before any).
uint64_t LastStoreId();

// A plain (non-atomic) memory location checked for data races.
class VarCell;
VarCell* NewVarCell();
void DeleteVarCell(VarCell* cell, bool engine_alive);
// Each returns false when the access races with an earlier one.
bool VarLoad(VarCell* cell);
bool VarStore(VarCell* cell);
// After VarLoad/VarStore returned false: the engine thread whose earlier
// access the current one is unordered with. A store when there is one
// (*store = true), else, for a write, a load; -1 when none.
int VarRaceWith(VarCell* cell, bool write, bool* store);

// ---------------------------------------------------------------------------
// Failure. Ends the current execution with `verdict`; `desc` is a short
// description for the engine's own log. Does not return.
[[noreturn]] void FailExecution(Verdict verdict, const char* desc,
                                const Loc& loc);

// True when a replayed execution did not follow its token (the model is
// nondeterministic, or the token belongs to another model); *why says where.
bool EngineDiverged(std::string* why);
// The replay state of the running execution: its iteration and, for a tree
// search, the decisions it has taken so far (the form EngineOutcome::state
// has for a failing execution). Called at the end of an execution, it names
// that execution exactly.
std::string ExecutionState();
// The iteration number of the running execution (the one ExecutionState()
// starts with, "execution N" in reports).
uint64_t ExecutionNumber();
// Fraction of an exhaustive search tree explored so far, or -1.
double SearchFraction();

// ---------------------------------------------------------------------------
// Stacks, progress and the flight recorder (sync/internal/crash.cc uses them).
//
// Every engine thread runs on a stack of its own, mmap'd with a PROT_NONE
// guard region below it; freed when the engine's context ends.

inline constexpr size_t kStackBytes = 256 * 1024;      // usable, per engine thread
inline constexpr size_t kStackGuardBytes = 64 * 1024;  // PROT_NONE, below it

// AddressSanitizer puts redzones around every frame's locals, so the same
// call chain takes more stack (measured: call chains of the test suite that
// stay under 16 KiB in the normal build reach up to ~19 KiB). The kernel
// doubles THREAD_SIZE under KASAN for the same reason (KASAN_STACK_ORDER);
// an ASan build of kmc likewise checks twice the model's kernel stack size,
// and its reports say so.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr size_t kKernelStackScale = 2;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr size_t kKernelStackScale = 2;
#else
inline constexpr size_t kKernelStackScale = 1;
#endif
#else
inline constexpr size_t kKernelStackScale = 1;
#endif

// The engine thread whose stack guard holds `addr` (and the guard's lowest
// address in *guard_lo), or -1.
int StackGuardThread(const void* addr, uintptr_t* guard_lo);

// Scheduling points, parks and choices taken so far by this process (the
// watchdog's sign of life).
uint64_t ProgressCount();

// The decision path of the running execution, written as decisions are made
// into memory the caller provides (shared with a parent process), so that a
// process that dies in the middle of an execution leaves behind the path
// that reproduces it.
struct FlightRecorder {
  struct Node {
    uint16_t count;
    uint16_t index;
    uint8_t type;
  };
  volatile uint64_t progress;    // ProgressCount() mirror
  volatile uint64_t executions;  // executions started by the current search
  volatile uint32_t depth;       // decisions of the running execution
  volatile uint32_t overflow;    // the path did not fit
  // The running pass of the search (sync/runner.cc): its preemption bound
  // when it is a pass of iterative context bounding, else -1, and the
  // executions started before it (the running execution's number in its
  // pass is executions - pass_start).
  volatile int32_t pass_bound;
  volatile uint64_t pass_start;
  // A PCT search: the scheduling choices the running execution draws its
  // priority change points from (its replay state is "<iteration> <k>").
  volatile uint64_t pct_steps;
  uint32_t capacity;             // nodes[] entries
  Node nodes[1];                 // really `capacity` entries
};
void SetFlightRecorder(FlightRecorder* recorder);
FlightRecorder* GetFlightRecorder();

// ---------------------------------------------------------------------------
// Running the engine over the current Runtime model.

struct EngineRequest {
  SearchMode search = SearchMode::kExhaustive;
  int bound = 2;                  // context bound (kBounded), bug depth (kPct)
  uint64_t executions = 1;        // executions (kRandom, kPct)
  uint64_t first_iteration = 1;   // first seed (kRandom, kPct)
  std::string initial_state;      // engine replay state, "" for a fresh search
  bool collect_history = false;   // re-run of a failing execution
  unsigned depth_limit = 20000;   // steps before an execution is a livelock
  // Going on past failures (kmc check --all_bugs, suppressions): with
  // save_resume a failing run keeps its search tree, advanced past the
  // failing execution; a later request with resume (and first_iteration the
  // next execution's number) continues that search where it stopped. A
  // random search resumes from first_iteration alone.
  bool save_resume = false;
  bool resume = false;
  // A directed search (with kFull): at a scheduling point the running thread
  // may be preempted only where may_preempt(thread, access, loc) holds;
  // elsewhere it runs on until it sleeps or ends (lockdep's directed search,
  // sync/lockdep.h). The tree keeps the shape of the undirected search (a
  // choice of the next thread still lists every eligible thread, the others
  // are simply never explored there), so a token it finds replays as an
  // ordinary full-search token.
  bool (*may_preempt)(int thread, Access access, const Loc& loc) = nullptr;
  // Fine-grained interleaving (Model::FineGrained): the runtime, not the
  // engine, adds its scheduling points (Runtime::set_fine_grained).
  bool fine_grained = false;
  // RunOptions::count_traces: the runtime collects trace fingerprints.
  bool count_traces = false;
  // --shard=shard_index/shard_count: explore the top of the tree and the
  // subtrees this shard owns (sync/internal/shard.h); shard_count 0: the
  // whole tree. Not for a random search, a replay or a directed search.
  int shard_index = 0;
  int shard_count = 0;
};

struct EngineOutcome {
  std::string error;              // the engine could not run the model
  Verdict engine_verdict = Verdict::kClean;
  uint64_t stop_iteration = 0;    // last execution run
  std::string state;              // replay state of the failing execution
  bool diverged = false;
  std::string divergence;
  // With save_resume, on a failure: the failing execution was the search's
  // last (nothing to resume).
  bool search_done = false;
  // kPct: the most scheduling choices (points where two or more threads
  // could run) of an execution of this run: PCT's k.
  uint64_t pct_steps = 0;
  // A sharded search that stopped at a failing execution: the execution
  // belongs to another shard (the runner resumes past it), and the number
  // of its subtree (in the order the search enters them).
  bool foreign = false;
  uint64_t subtree = 0;
};

EngineOutcome RunEngine(const EngineRequest& request);

// The yardstick of tests/bench/cost_benchmark.cc: the pipe of
// por/pipe_two_writers_two_items (3 slots under a mutex, two writers putting
// two items each, one reader taking four) written directly on plain Relacy
// (its mutex, condition variables and var<int>), searched by Relacy's own
// context-bound tree scheduler with `context_bound` preemptions. Runs outside
// any kmc check; `ok` is false if an execution lost or reordered an item.
struct PlainRelacyRun {
  uint64_t executions = 0;
  bool ok = false;
};
PlainRelacyRun RunPlainRelacyPipe(int context_bound);

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_ENGINE_H_
