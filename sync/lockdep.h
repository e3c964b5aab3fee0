// kmc: lockdep, the kernel's lock validator (kernel/locking/lockdep.c,
// Documentation/locking/lockdep-design.rst), inside the model checker.
//
// Every lock belongs to a class: the place of its initialization
// (spin_lock_init, rwlock_init, mutex_init, init_rwsem, sema_init of a binary
// semaphore, raw_spin_lock_init, local_lock_init), so all instances
// initialized at one line share a class; a statically defined lock
// (DEFINE_SPINLOCK, DEFINE_MUTEX, ...) is a class of its own, keyed by its
// name. lockdep_set_class() moves a lock to the class of a struct
// lock_class_key; *_nested(lock, subclass) takes it as a subclass
// ("&dev->lock/1"), and *_nest_lock(lock, outer) declares that the outer
// lock serializes the nesting of locks of one class.
//
// For every acquisition lockdep records, per class:
//   * the dependency held-class -> new-class (trylocks add none), with the
//     kernel's read semantics: rwsem and process-context rwlock reads are
//     non-recursive, interrupt-context rwlock reads are recursive, and a
//     cycle only counts when no recursive read follows a read in it;
//   * the irq usage of the class: IN-HARDIRQ, HARDIRQ-ON, IN-SOFTIRQ,
//     SOFTIRQ-ON, each -W (exclusive) or -R (read).
// The graph and the usage bits live for a whole search (across executions),
// so one passing execution that takes A then B and another that takes B
// then A are enough: the second one predicts the deadlock. Each dependency
// remembers the execution that recorded it first, so the prediction can be
// replayed (the runner replays those executions first, then the one that
// completed the cycle).
//
// Reports use the kernel's splats:
//   WARNING: possible circular locking dependency detected
//   WARNING: possible recursive locking detected
//   WARNING: inconsistent lock state
//   WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected (SOFTIRQ too)
//   WARNING: possible irq lock inversion dependency detected
// as the verdict `possible deadlock` (a prediction: no execution needs to
// hang), and, as immediate failures:
//   WARNING: held lock freed!            (kfree or re-init of a held lock)
//   WARNING: Nested lock was not taken   (*_nest_lock without the outer lock)
//   [ BUG: Invalid wait context ]        (raw_spinlock_t < spinlock_t <
//                                         sleeping locks, as with
//                                         CONFIG_PROVE_RAW_LOCK_NESTING)
// See docs/LOCKDEP.md.

#ifndef KMC_SYNC_LOCKDEP_H_
#define KMC_SYNC_LOCKDEP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "sync/internal/engine.h"

namespace kmc::kernel {

using Loc = std::source_location;

// struct lock_class_key: its address names a lock class (a static object).
struct lock_class_key {
  char unused = 0;
};

#define SINGLE_DEPTH_NESTING 1
// Largest subclass lockdep accepts (MAX_LOCKDEP_SUBCLASSES - 1).
#define KMC_MAX_LOCKDEP_SUBCLASS 7

namespace detail {
void LockdepSetClass(const void* lock, const char* lock_name, lock_class_key* key,
                     const char* key_name, int subclass, const Loc& loc);
void LockdepSetSubclass(const void* lock, int subclass, const Loc& loc);
bool LockdepIsHeld(const void* lock);
void LockdepAssertHeld(const void* lock, const char* what, const Loc& loc);
}  // namespace detail

// lockdep_set_class(lock, key): every lock given `key` is one class, named
// after the key ("&key"); lockdep_set_class_and_name names it.
#define lockdep_set_class(lock, key) \
  ::kmc::kernel::detail::LockdepSetClass((lock), #lock, (key), #key, 0, Loc::current())
#define lockdep_set_class_and_name(lock, key, name) \
  ::kmc::kernel::detail::LockdepSetClass((lock), #lock, (key), (name), 0, Loc::current())
#define lockdep_set_class_and_subclass(lock, key, sub) \
  ::kmc::kernel::detail::LockdepSetClass((lock), #lock, (key), #key, (sub), Loc::current())
#define lockdep_set_subclass(lock, sub) \
  ::kmc::kernel::detail::LockdepSetSubclass((lock), (sub), Loc::current())
#define lockdep_is_held(lock) ::kmc::kernel::detail::LockdepIsHeld(lock)
// WARN_ON(debug_locks && !lockdep_is_held(lock)).
#define lockdep_assert_held(lock) \
  ::kmc::kernel::detail::LockdepAssertHeld((lock), #lock, Loc::current())

}  // namespace kmc::kernel

namespace kmc::internal::lockdep {

// Wait types (include/linux/lockdep_types.h, CONFIG_PROVE_RAW_LOCK_NESTING).
enum WaitType : uint8_t {
  kWaitInv = 0,
  kWaitFree = 1,    // rcu_read_lock
  kWaitSpin = 2,    // raw_spinlock_t
  kWaitConfig = 3,  // spinlock_t, rwlock_t, local_lock_t (sleeping on PREEMPT_RT)
  kWaitSleep = 4,   // mutex, rw_semaphore, semaphore
  kWaitMax = 5,     // process context
};

// How a lock is taken: exclusively, as a non-recursive reader (rwsem, a
// queued rwlock read in process context) or as a recursive reader (an
// rwlock read in interrupt context).
enum Read : uint8_t { kExclusive = 0, kRead = 1, kRecursiveRead = 2 };

struct Acquisition {
  const char* type = "";  // "spinlock_t", "struct mutex", ...
  WaitType wait = kWaitConfig;
  Read read = kExclusive;
  bool trylock = false;
  int subclass = 0;
  const void* nest_lock = nullptr;
};

// --- Hooks for the primitives ---------------------------------------------
// An initialization: the class of `lock` becomes the one of this init site
// (file, line and name). Reports "held lock freed!" when the lock is held.
void Init(const void* lock, const char* name, const char* fn, WaitType wait, const Loc& loc);
// Before a lock is taken (before any wait for it): checks and records. A
// trylock calls it only once it succeeded.
void Acquire(const void* lock, const std::string& name, const Acquisition& a, const Loc& loc);
// The lock was released (or its acquisition gave up, interrupted).
void Release(const void* lock);
// Releases `lock` from whichever context holds it (a semaphore up() by
// another task).
void ReleaseAnywhere(const void* lock);
// Interrupts (or bottom halves) were just re-enabled in the current
// context: the locks it holds are now held with them on (the kernel's
// mark_held_locks() from lockdep_hardirqs_on()/lockdep_softirqs_on()).
void MarkHeldLocks();
// downgrade_write(): the write hold of `lock` becomes a read hold
// (lock_downgrade()).
void Downgrade(const void* lock);
// kfree/free_page of [p, p + n): reports "held lock freed!" when it holds a
// lock some context holds.
void CheckFree(const void* p, size_t n, const char* fn, const Loc& loc);
// True when the current context holds `lock` (for *_nest_lock checks).
bool Holds(const void* lock);

// --- Hooks for the runtime and the runner ----------------------------------
// A new search: forgets every class, dependency, usage and prediction.
void BeginSearch();
void BeginExecution();
void FinishExecution();
// The first splat lockdep printed in the running execution, "" when none;
// its verdict and headline.
const std::string& ExecutionSplat();
const std::string& ExecutionHeadline();
Loc ExecutionSplatLoc();
// In a replay: the prediction of this execution as a failure, if any.
bool ExecutionPredicted();

// The first prediction of the search: the replay states of the executions
// that recorded its dependencies or usages (oldest first), then the replay
// state of the execution that completed it.
struct Prediction {
  bool valid = false;
  std::string headline;
  uint64_t execution = 0;  // the completing execution
  std::vector<std::string> states;
  // Driver scope: replay tokens of other models' executions that recorded
  // a dependency or usage of the splat (run first, each on its own model).
  std::vector<std::string> foreign;
};
const Prediction& SearchPrediction();

// One graph across the models of a driver (kmc check --lockdep_scope=driver,
// as lockdep in a booted kernel accumulates across everything that ran).
// SetModel names the model that runs now (sites of other models print
// with their model and are replayed through their tokens). ExportGraph
// serializes the classes, usages and dependencies of the search so far,
// each site with the replay token (`token` encodes an execution's replay
// state) of the execution that recorded it; ImportGraph, right after
// BeginSearch, starts the search from such a graph (false when malformed).
void SetModel(const std::string& name);
std::string ExportGraph(const std::function<std::string(const std::string& state)>& token);
bool ImportGraph(const std::string& graph);

// Lockdep's directed search (sync/runner.cc) tries to turn a prediction
// into a real deadlock: it re-explores the model preempting a task only
// where the splat's dependencies were recorded. A point: while the task holds
// a lock taken at `held`, at an acquisition at `at` (the second lock of a
// recorded dependency), or, when `at_line` is 0, at any scheduling point (a
// lock an interrupt may come for).
struct PreemptPoint {
  std::string held_file;
  unsigned held_line = 0;
  std::string at_file;
  unsigned at_line = 0;
};
// The points of the running execution's splat (empty when none).
const std::vector<PreemptPoint>& ExecutionPreemptPoints();
// The points of the directed search that runs next (kept across searches);
// MayPreempt is its EngineRequest::may_preempt.
void SetDirectedPoints(std::vector<PreemptPoint> points);
bool MayPreempt(int thread, Access access, const Loc& loc);

}  // namespace kmc::internal::lockdep

#endif  // KMC_SYNC_LOCKDEP_H_
