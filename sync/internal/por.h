// Partial-order reduction: what each scheduling step touches.
//
// The reduced exhaustive search (sync/internal/relacy_shim.cc) explores one
// interleaving per class of interleavings that differ only in the order of
// independent steps. A step is what one engine thread runs between two
// decisions of the scheduler; its footprint is the set of locations it read
// and wrote, recorded here by the runtime and the shim while the step runs.
// Two steps are dependent when one writes a location the other reads or
// writes, or when either is global (touches engine state no key names: CPU
// context stacks, irq and bh state, softirq and work lists, steps of
// interrupt contexts). docs/ARCHITECTURE.md ("When two steps commute")
// explains why this is sound.
//
// Locations are named by keys that do not depend on the order in which the
// execution's threads ran, because a footprint recorded in one execution is
// compared with steps of another:
//   * a fixture field: its offset in the fixture;
//   * heap memory: the object's creation id and the 8-byte granule;
//   * an engine memory-model cell: its owner's key when it stands for an
//     object (an atomic_t, a lock's sync cell: whichever thread makes it
//     first), else its creation id;
//   * a task's own state: the task;
//   * anything else (statics, objects on a task's stack, engine objects):
//     an ordinal given when the execution first sees the address; numbering
//     a new address writes one shared "registry" key, so two steps that
//     number addresses never commute (the numbers would differ in the other
//     order).
// A creation id is (creating thread, how many ids that thread made before):
// reordering independent steps does not change a thread's own history.

#ifndef KMC_SYNC_INTERNAL_POR_H_
#define KMC_SYNC_INTERNAL_POR_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kmc::internal {

// A change of a sleeping lock's count (a mutex: 1 free, 0 held; a
// semaphore: its count) by one step: the scheduler leaves a task out of the
// choice while the lock it is about to take would only put it to sleep
// (Runtime::WouldOnlySleep), so a race whose later step takes the lock can
// be reversed only where the lock is free (the search's Reverse()).
struct LockCount {
  uint64_t key;  // the lock's key (its object)
  int before;    // the count before the change
  int delta;     // -1 taken, +1 released
  bool sleeping_acquire;  // taken by an acquisition that is left out while busy
};

// The locations one step (or the union of several) read and wrote.
class Footprint {
 public:
  // Both key lists stay sorted and free of duplicates (a step touches a
  // few keys, most of them more than once).
  void Read(uint64_t key) { Insert(reads_, key); }
  void Write(uint64_t key) { Insert(writes_, key); }
  void SetGlobal() { global_ = true; }
  bool global() const { return global_; }
  bool empty() const { return !global_ && reads_.empty() && writes_.empty(); }
  const std::vector<uint64_t>& reads() const { return reads_; }
  const std::vector<uint64_t>& writes() const { return writes_; }
  void Merge(const Footprint& other);
  void Swap(Footprint& other) {
    std::swap(global_, other.global_);
    reads_.swap(other.reads_);
    writes_.swap(other.writes_);
  }
  // True when the two steps may not commute.
  bool Conflicts(const Footprint& other) const;
  std::string DebugString() const;
  void Clear() {
    global_ = false;
    reads_.clear();
    writes_.clear();
  }

 private:
  static void Insert(std::vector<uint64_t>& v, uint64_t key) {
    if (v.empty() || key > v.back()) {
      v.push_back(key);
      return;
    }
    if (key == v.back()) return;
    auto it = std::lower_bound(v.begin(), v.end(), key);
    if (it == v.end() || *it != key) v.insert(it, key);
  }
  bool global_ = false;
  std::vector<uint64_t> reads_;
  std::vector<uint64_t> writes_;
};

// --- Keys -------------------------------------------------------------------
// A fresh creation id for a heap object or engine cell made now.
uint64_t PorNewId();
uint64_t PorHeapKey(uint64_t id, size_t granule);
uint64_t PorCellKey(uint64_t id);
// The key of the engine cell that stands for the object keyed `owner_key`.
uint64_t PorOwnedCellKey(uint64_t owner_key);
uint64_t PorTaskKey(int thread);
// A key no footprint records: the memory-model cell that orders the
// contexts of one CPU (Runtime::BeforeSchedulePoint, WaitForCpu) when that
// CPU's one task and its interrupt sources are all the model runs
// (Runtime::CpuSyncKey); the order is then the context stack's (PorCpuKey).
uint64_t PorUntrackedKey();
// A CPU's context stack (which context runs on it) and its softirq list:
// entering and leaving an interrupt or softirq context writes it, steps of
// interrupt sources read it. A task's steps do not: a task cannot run while
// an interrupt context holds its CPU, and the reduced search treats that
// context's whole run as one step that commutes with the task's steps it
// shares nothing with (the search's Activation); where a race's later step
// had to wait for the CPU, the race is reversed before the context entered.
uint64_t PorCpuKey(int cpu);
// The interrupt and bottom-half state of a CPU's tasks (local_irq_save(),
// spin_lock_bh(), ...): written where it changes, read by the steps of
// interrupt sources (whether an interrupt may arrive) and where softirqs
// may run.
uint64_t PorIrqKey(int cpu);
// The order every seq_cst operation and seq_cst fence shares (a seq_cst
// fence acts on its own CPU's view except through this order; acquire and
// release fences only on their own).
uint64_t PorSeqCstKey();
// Whether every model task has returned: written by each task's return
// where something waits for the end (an idle kernel-thread slot, a softirq
// daemon, the worker), read by what waits for it. Which return comes last
// depends on the order of the returns, so each one writes it.
uint64_t PorTasksDoneKey();
// The running step changes the interrupt or bottom-half state of a task on
// `cpu` (writes PorIrqKey).
void PorTouchCpu(int cpu);
// The running step enters or leaves a context on `cpu`, or changes its
// softirq list (writes both keys of the CPU).
void PorTouchCpuStack(int cpu);
// The running execution's fixture (its fields are keyed by offset).
void PorSetFixture(const void* base, size_t size);
// The key of any other address (fixture range, else an ordinal).
uint64_t PorAddressKey(const void* addr);
// The object a step names when it touches only the current task's own state
// (set_current_state(), schedule()): conflicts with wake-ups of that task.
extern const char kPorOwnTask;
// The object a step names when it changes only its CPU's interrupt state
// (PorCpuKey of the running task's CPU).
extern const char kPorOwnCpu;
// The object a full barrier's step names (smp_mb()): the order every
// seq_cst fence shares (PorSeqCstKey), written. A fence acts otherwise only
// on its own thread's view of memory.
extern const char kPorFence;
// The object of a barrier that orders only its own CPU's accesses
// (smp_rmb(), smp_wmb(): an acquire or release fence): the step reads only
// the task's own state.
extern const char kPorLocalFence;

// --- Recording (runtime and primitives) ------------------------------------
// All of these are no-ops unless a reduced search runs and tasks run.
// PorEnable()'s setting, read inline (every access asks).
extern bool g_por_enabled;
inline bool PorEnabled() { return g_por_enabled; }
void PorTouchKey(uint64_t key, bool write);
// State of engine thread `thread` (its TaskState) read and written by the
// current step (wake-ups, kthread_stop, grants).
void PorTouchTask(int thread);
// Engine state no key names: the step conflicts with every other step.
void PorTouchGlobal();
// Memory-model order shared by every seq_cst operation and seq_cst fence.
void PorTouchSeqCst();
// A scheduling point of `thread` named `key` (global: an unnamed object).
// The key stays part of every later step of the thread until its next
// announcement: a step resumed after parking continues the same primitive.
void PorAnnounce(int thread, uint64_t key, bool global, bool write);
// The scheduling point just announced did not end the step (preemption is
// off): the announced operation runs in the current step.
void PorStepRunsAnnounced(int thread);
// The running step of `thread` parks at once because an interrupt or
// softirq context holds its CPU (Runtime::WaitForCpu): it has done nothing
// (it only started its announced operation, which runs when it resumes).
void PorStepParksForCpu(int thread);
// The running step changed a sleeping lock's count (LockCount).
void PorLockCount(uint64_t key, int before, int delta, bool sleeping_acquire);

// --- Engine side (the shim's reduced scheduler) -----------------------------
void PorEnable(bool on);
// Keep each step's own touches apart (PorEndStep's `touched`).
void PorKeepTouched(bool on);
// A new execution starts (keys and ids are per execution).
void PorBeginExecution();
// Tasks run (setup and the final check are not recorded).
void PorSetRecording(bool on);
// Starts the step of `thread`; PorEndStep() returns what it touched.
// `touched` (optional) gets only what the step's own code did: an
// announced operation counts in the step that starts it, not again in the
// later steps of the same primitive (a resumed sleep), so it does not
// depend on where the search split the thread into steps (trace
// fingerprints, RunOptions::count_traces).
void PorBeginStep(int thread);
void PorEndStep(Footprint* out, Footprint* touched = nullptr);
// The lock count changes of the step PorEndStep() just ended.
const std::vector<LockCount>& PorStepLockCounts();

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_POR_H_
