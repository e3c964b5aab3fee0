// The engine shim: the only translation unit that includes Relacy.
//
// It implements sync/internal/engine.h (scheduling points, explored choices,
// parking, memory-model cells, failing an execution) and the runner of
// sync/runner.h (search modes, replay tokens, determinism check). Relacy's
// macros are saved before its header and restored after it, so none of them
// ($, new, delete, malloc, free, assert, errno, memory_order_*) is defined
// below the include.
//
// Allocator interposition: Relacy replaces the global operator new/delete
// for the whole program and routes them through its per-execution memory
// manager while a simulation runs. kmc does not use that manager (kmalloc has
// its own lifetime tracking), so the shim raises Relacy's "allocation
// disabled" flag for the whole life of each simulation context: every plain
// new/delete then goes straight to malloc/free, and reports and traces built
// during a simulation survive it.

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "sync/internal/crash.h"
#include "sync/internal/engine.h"
#include "sync/internal/por.h"
#include "sync/internal/shard.h"
#include "sync/internal/runtime.h"

#pragma push_macro("new")
#pragma push_macro("delete")
#pragma push_macro("malloc")
#pragma push_macro("calloc")
#pragma push_macro("realloc")
#pragma push_macro("free")
#pragma push_macro("assert")
#pragma push_macro("errno")
#pragma push_macro("memory_order_relaxed")
#pragma push_macro("memory_order_consume")
#pragma push_macro("memory_order_acquire")
#pragma push_macro("memory_order_release")
#pragma push_macro("memory_order_acq_rel")
#pragma push_macro("memory_order_seq_cst")
#pragma push_macro("VAR")
#pragma push_macro("VAR_T")
#pragma push_macro("TLS_T")
// Relacy's fibers run on 64 KiB malloc'd stacks with no guard, never freed.
// Its platform header is read first with its two stack functions renamed
// out of the way; the shim's own versions below replace them for
// context.hpp.
// Its fiber switch is replaced too, to tell AddressSanitizer of each switch.
#define create_fiber RelacyCreateFiberUnused
#define delete_fiber RelacyDeleteFiberUnused
#define switch_to_fiber RelacySwitchToFiberUnused
#include <relacy/platform.hpp>
#undef create_fiber
#undef delete_fiber
#undef switch_to_fiber

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define KMC_ASAN_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
// AddressSanitizer's fiber annotations: before a jump to another stack,
// start_switch names the stack being entered; on arriving, finish_switch
// makes it the current one (and gives the bounds of the stack left). No
// fake stacks are saved across a switch: .bazelrc's asan config runs with
// detect_stack_use_after_return=0, so there are none. Without
// them ASan keeps the thread's own stack as the current one, ignores the
// unpoisoning a longjmp or a throw asks for on a fiber stack ("ASan is
// ignoring requested __asan_handle_no_return") and may report false stack
// errors.
#define KMC_ASAN_START_SWITCH(save, bottom, size) \
  __sanitizer_start_switch_fiber((save), (bottom), (size))
#define KMC_ASAN_FINISH_SWITCH(save, bottom, size) \
  __sanitizer_finish_switch_fiber((save), (bottom), (size))
#else
#define KMC_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#define KMC_ASAN_START_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define KMC_ASAN_FINISH_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

namespace kmc::internal {
// Keeps g_mirror.current_thread (engine.h) equal to the thread Relacy runs.
void NoteFiberSwitch();
// Engine-thread stacks: kStackBytes usable bytes above a kStackGuardBytes
// PROT_NONE region (large, so that a frame with big locals lands in it
// rather than past it; kmc is built with -fstack-clash-protection too).
constexpr size_t kFiberStack = kStackBytes;
constexpr size_t kFiberGuard = kStackGuardBytes;
struct FiberStack {
  uintptr_t guard = 0;  // lowest address of the guard region; 0: free slot
};
// Live stacks of the running context (at most kMaxThreads, a few spare).
FiberStack g_fiber_stacks[16];
// The stack of Relacy's main fiber (the host stack the engine's context
// runs on: its fiber_t has no stack of its own), for the ASan annotations.
const void* g_main_stack_bottom = nullptr;
size_t g_main_stack_size = 0;
// Set by a switch that leaves the main fiber: the fiber it enters learns
// the main stack's bounds from ASan.
bool g_leaving_main = false;
// True while the plain-Relacy yardstick runs (RunPlainRelacyPipe).
bool g_plain_relacy = false;

// The end of a switch into the running fiber: ASan learns it arrived; a
// fiber entered from the main fiber learns the main stack's bounds.
inline void FinishFiberSwitch() {
  const void* from_bottom = nullptr;
  size_t from_size = 0;
  KMC_ASAN_FINISH_SWITCH(nullptr, &from_bottom, &from_size);
  if (g_leaving_main) {
    g_main_stack_bottom = from_bottom;
    g_main_stack_size = from_size;
  }
}

// A new fiber's first code (Relacy's fiber_start_fnc, with the ASan
// annotations): it records where it will resume, goes back to create_fiber,
// and runs the fiber's procedure when switch_to_fiber first jumps to it.
void FiberStart(void* p) {
  fiber_ctx_t* ctx = static_cast<fiber_ctx_t*>(p);
  void (*volatile ufnc)(void*) = ctx->fnc;
  void* volatile uctx = ctx->ctx;
  // Arrived from create_fiber on the context's (main) stack.
  KMC_ASAN_FINISH_SWITCH(nullptr, &g_main_stack_bottom, &g_main_stack_size);
  if (_setjmp(*ctx->cur) == 0) {
    ucontext_t tmp;
    KMC_ASAN_START_SWITCH(nullptr, g_main_stack_bottom, g_main_stack_size);
    swapcontext(&tmp, ctx->prv);
  }
  FinishFiberSwitch();
  ufnc(uctx);
}
}  // namespace kmc::internal

inline void create_fiber(fiber_t& fib, void (*ufnc)(void*), void* uctx) {
  using namespace kmc::internal;  // NOLINT: the shim's own fiber stacks
  void* base = mmap(nullptr, kFiberGuard + kFiberStack, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED || mprotect(base, kFiberGuard, PROT_NONE) != 0) {
    std::fprintf(stderr, "kmc: cannot map a %zu KiB engine-thread stack\n", kFiberStack / 1024);
    std::abort();
  }
  for (FiberStack& st : g_fiber_stacks) {
    if (st.guard == 0) {
      st.guard = reinterpret_cast<uintptr_t>(base);
      break;
    }
  }
  KMC_ASAN_UNPOISON(static_cast<char*>(base) + kFiberGuard, kFiberStack);
  getcontext(&fib.fib);
  fib.fib.uc_stack.ss_sp = static_cast<char*>(base) + kFiberGuard;
  fib.fib.uc_stack.ss_size = kFiberStack;
  fib.fib.uc_link = nullptr;
  ucontext_t tmp;
  fiber_ctx_t ctx = {ufnc, uctx, &fib.jmp, &tmp};
  makecontext(&fib.fib, reinterpret_cast<void (*)()>(FiberStart), 1, &ctx);
  KMC_ASAN_START_SWITCH(nullptr, fib.fib.uc_stack.ss_sp, fib.fib.uc_stack.ss_size);
  swapcontext(&tmp, &fib.fib);
  KMC_ASAN_FINISH_SWITCH(nullptr, nullptr, nullptr);
}

// Relacy's switch (save this fiber's place, jump to the other's), with the
// ASan annotations; the jump lands in the other fiber's own switch_to_fiber
// (or in FiberStart), which finishes the switch there.
inline void switch_to_fiber(fiber_t& fib, fiber_t& prv) {
  using namespace kmc::internal;  // NOLINT: the shim's own fiber stacks
  // Relacy has just set the thread it switches to (threadx_).
  NoteFiberSwitch();
  // The scheduler chose the running thread again (most scheduling points):
  // nothing to save or restore. Relacy's own switch saves and restores all
  // the same, and the plain-Relacy yardstick keeps it (RunPlainRelacyPipe).
  if (&fib == &prv && !g_plain_relacy) return;
  if (_setjmp(prv.jmp) == 0) {
    const bool to_main = fib.fib.uc_stack.ss_sp == nullptr;
    g_leaving_main = prv.fib.uc_stack.ss_sp == nullptr;
    KMC_ASAN_START_SWITCH(nullptr, to_main ? g_main_stack_bottom : fib.fib.uc_stack.ss_sp,
                          to_main ? g_main_stack_size : fib.fib.uc_stack.ss_size);
    _longjmp(fib.jmp, 1);
  }
  FinishFiberSwitch();
}

inline void delete_fiber(fiber_t& fib) {
  using namespace kmc::internal;  // NOLINT: the shim's own fiber stacks
  if (fib.fib.uc_stack.ss_sp == nullptr) return;
  const uintptr_t guard = reinterpret_cast<uintptr_t>(fib.fib.uc_stack.ss_sp) - kFiberGuard;
  for (FiberStack& st : g_fiber_stacks) {
    if (st.guard == guard) st.guard = 0;
  }
  // Frames abandoned on this stack (a failed execution never returns) leave
  // AddressSanitizer's poison behind; the next mapping may reuse the range.
  KMC_ASAN_UNPOISON(fib.fib.uc_stack.ss_sp, kFiberStack);
  munmap(reinterpret_cast<void*>(guard), kFiberGuard + kFiberStack);
  fib.fib.uc_stack.ss_sp = nullptr;
}

#include <relacy/relacy.hpp>
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef assert
#undef errno
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef VAR
#undef VAR_T
#undef TLS_T
#pragma pop_macro("new")
#pragma pop_macro("delete")
#pragma pop_macro("malloc")
#pragma pop_macro("calloc")
#pragma pop_macro("realloc")
#pragma pop_macro("free")
#pragma pop_macro("assert")
#pragma pop_macro("errno")
#pragma pop_macro("memory_order_relaxed")
#pragma pop_macro("memory_order_consume")
#pragma pop_macro("memory_order_acquire")
#pragma pop_macro("memory_order_release")
#pragma pop_macro("memory_order_acq_rel")
#pragma pop_macro("memory_order_seq_cst")
#pragma pop_macro("VAR")
#pragma pop_macro("VAR_T")
#pragma pop_macro("TLS_T")
#undef $

namespace kmc::internal {
namespace {

constexpr int kMaxThreads = 8;

rl::debug_info Info(const Loc& loc) {
  return rl::debug_info(loc.function_name(), loc.file_name(), loc.line());
}

rl::memory_order Order(MemOrder mo) {
  switch (mo) {
    case MemOrder::kRelaxed: return rl::mo_relaxed;
    case MemOrder::kAcquire: return rl::mo_acquire;
    case MemOrder::kRelease: return rl::mo_release;
    case MemOrder::kAcqRel: return rl::mo_acq_rel;
    case MemOrder::kSeqCst: return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

// Reaches Relacy's protected "allocation disabled" counter.
struct AllocGate : rl::context {
  static int& Flag(rl::context& c) { return c.*(&AllocGate::disable_alloc_); }
};

// Engine-wide state of the current simulation.
struct EngineState {
  bool parked[kMaxThreads] = {};
  bool sleeping[kMaxThreads] = {};  // in Park() or PollPause() for a wake-up, not for its CPU
  bool diverged = false;          // replay token did not fit the execution
  std::string divergence;
  bool replaying = false;         // following a recorded decision path
  size_t replay_nodes = 0;        // decisions the path holds
  size_t depth = 0;               // decisions the current execution took
  // Progress: the search tree of the running tree scheduler.
  const void* tree = nullptr;
  double (*tree_fraction)(const void*) = nullptr;
  void (*tree_state)(const void*, std::ostream&) = nullptr;
  // Iteration number of the running execution (Relacy's current_iter_ is
  // private): the first one comes from the initial state, then one per before().
  uint64_t next_iteration = 1;
  uint64_t iteration = 0;
  bool por = false;  // the exhaustive search prunes with sleep sets
  bool count_traces = false;  // RunOptions::count_traces
  int atomic_depth = 0;  // AtomicSections alive (preemption off)
  // The park in progress (Park, PollPause), for
  // KmcTreeScheduler::schedule_impl: Relacy's yield rule does not apply to
  // it (a task's or kernel thread's sleep), and only another thread's
  // Unpark ends it (no timeout, no signal).
  bool park_not_a_yield = false;
  bool park_needs_unpark = false;
  // Continuing a search after a failing execution (ResumeTree).
  bool resuming = false;
  bool save_resume = false;
  void (*tree_save)(void*) = nullptr;
  // --shard=index/count (count 0: the whole search; see shard.h), and of
  // the failing execution a search stopped at: whether another shard owns
  // it, and its subtree.
  int shard_index = 0;
  int shard_count = 0;
  bool failed_foreign = false;
  uint64_t failed_subtree = 0;
  // A directed search (EngineRequest::may_preempt) and the scheduling point
  // the running thread is at (set by SchedulePoint around its sched()).
  bool (*may_preempt)(int, Access, const Loc&) = nullptr;
  bool at_point = false;
  Access point_access = Access::kChoice;
  Loc point_loc;
};
EngineState g_engine;
uint64_t g_next_store_id = 1;  // next atomic store number of the execution
// Per engine thread: the cell of its last load and which store that load
// read (LastLoadFrom, NextLoadReadsNewer).
struct LastLoad {
  const AtomicCell* cell = nullptr;
  LoadFrom from;
};
LastLoad g_last_load[kMaxThreads];
// NextLoadReadsNewer(): per engine thread, a cell and the store its next
// load of that cell must not read (nor anything older).
struct LoadFloor {
  const AtomicCell* cell = nullptr;
  uint64_t store = 0;
};
LoadFloor g_load_floor[kMaxThreads];
// RunOptions::count_traces: which store each load of the running execution
// read, summed (the order of the loads of different threads does not count;
// TraceFingerprint).
uint64_t g_reads_from = 0;

// Mixes v into the hash h (trace fingerprints).
uint64_t MixHash(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

// Every bit of x flips about half of the result's (MurmurHash3's 64-bit
// finalizer): the terms of a sum that ignores their order must not cancel
// out (g_reads_from).
uint64_t Avalanche(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

// LKMM's smp_wmb() orders a CPU's earlier stores before its later stores,
// not its loads: it is not A-cumulative, and WRC+wmb+rmb is allowed.
// Relacy's clocks do not tell a thread's loads from its stores, so kmc
// keeps a second set of clocks for loads alone, which read-read and
// read-write coherence use (a load ordered before an access forbids older
// stores to it). Per engine thread: up to which stamp it knows each
// thread's loads, what its relaxed stores publish of them, and what its
// relaxed loads have brought for an acquire fence; plus the seq_cst
// fences' clock. They follow happens-before everywhere except at
// StoreFence(), which publishes the thread's stores only.
struct LoadClocks {
  rl::timestamp_t known[kMaxThreads][kMaxThreads];
  rl::timestamp_t pending[kMaxThreads][kMaxThreads];
  rl::timestamp_t published[kMaxThreads][kMaxThreads];
  rl::timestamp_t seq_cst[kMaxThreads];
};
LoadClocks g_loads;

constexpr rl::timestamp_t kNever = static_cast<rl::timestamp_t>(-1);

// The clocks of the running engine thread.
struct Clocks {
  rl::timestamp_t* acq_rel;        // happens-before clock
  rl::timestamp_t* acquire_fence;  // what an acquire fence would acquire
  rl::timestamp_t* release_fence;  // what a relaxed store publishes
  int self;
  int threads;
};

template <rl::thread_id_t N>
Clocks ClocksOfN(rl::thread_info_base* base) {
  auto* t = static_cast<rl::thread_info<N>*>(base);
  return Clocks{t->acq_rel_order_, t->acquire_fence_order_, t->release_fence_order_,
                static_cast<int>(t->index_), static_cast<int>(N)};
}

Clocks (*g_clocks_of)(rl::thread_info_base*) = nullptr;

// The thread whose access to a plain variable the running thread's access
// races with (see VarRaceWith).
template <rl::thread_id_t N>
int VarRaceWithN(rl::var_data* data, rl::thread_info_base* base, bool write, bool* store) {
  auto* v = static_cast<rl::var_data_impl<N>*>(data);
  auto* t = static_cast<rl::thread_info<N>*>(base);
  for (rl::thread_id_t i = 0; i != N; ++i) {
    if (i != t->index_ && t->acq_rel_order_[i] < v->store_acq_rel_timestamp_[i]) {
      *store = true;
      return static_cast<int>(i);
    }
  }
  if (!write) return -1;
  for (rl::thread_id_t i = 0; i != N; ++i) {
    if (i != t->index_ && t->acq_rel_order_[i] < v->load_acq_rel_timestamp_[i]) {
      *store = false;
      return static_cast<int>(i);
    }
  }
  return -1;
}
int (*g_var_race_with)(rl::var_data*, rl::thread_info_base*, bool, bool*) = nullptr;

FlightRecorder* g_recorder = nullptr;
uint64_t g_progress = 0;

void Progress() {
  ++g_progress;
  if (g_recorder != nullptr) g_recorder->progress = g_progress;
}

// The reduced search's record of one tree node (KmcTreeScheduler).
struct SleepEntry {
  int thread;
  Footprint fp;
};
struct PorNode {
  bool sched = false;
  bool exhausted = false;          // never branch here again
  std::vector<SleepEntry> sleep;   // asleep when the node was first reached
  std::vector<int> alt_thread;     // thread of each alternative
  std::vector<Footprint> alt_fp;   // union of the first steps of each alternative
  // Dynamic partial-order reduction: the alternatives some explored race
  // asks for (backtrack), and those explored already (done).
  std::vector<bool> backtrack;
  std::vector<bool> done;
};

// One step of the running execution, for the race analysis of the reduced
// search: its thread, the node whose choice started it (-1: none), what it
// touched, its index among its thread's steps, and its vector clock (the
// steps of each thread that happen before it, itself included).
struct StepRecord {
  int thread = -1;
  long node = -1;
  uint32_t local = 0;
  Footprint fp;
  Footprint touched;  // the step's own touches (PorEndStep), to fingerprint traces
  std::vector<LockCount> locks;  // its changes of sleeping locks' counts
  std::vector<uint32_t> clock;
};

// The search tree left by a failing execution, already advanced to the
// next execution the search would have run (EngineRequest::save_resume),
// for the next RunEngine with EngineRequest::resume.
struct ResumeTree {
  bool valid = false;
  bool done = false;  // the failing execution was the search's last
  struct Node {
    unsigned count;
    unsigned index;
    unsigned type;
  };
  std::vector<Node> nodes;
  std::vector<PorNode> por;
  ShardSplit shard;
};
ResumeTree g_resume;

// A tree-search scheduler (Relacy's full search, or its context-bound
// search) whose replay state is validated instead of trusted: a replay
// token that does not fit the execution sets g_engine.diverged rather than
// indexing out of bounds.
//
// With g_engine.por set (the default exhaustive search) it also prunes the
// tree with sleep sets (Godefroid): after the subtree of thread a at a node
// is explored, a stays asleep in the subtrees of a's later siblings until a
// step dependent with a's first step runs (footprints from por.h); a
// sleeping thread is not a branch. The tree keeps Relacy's shape (a choice
// of the next thread indexes the same list of eligible threads), so replay
// tokens of the reduced and the unreduced search are alike. A node where
// every eligible thread sleeps is "sleep-set blocked": every continuation
// is equivalent to an explored one, so the execution finishes along its
// first branches and none of its later nodes is ever revisited.
template <rl::thread_id_t N, bool kBounded>
class KmcTreeScheduler
    : public rl::tree_search_scheduler<KmcTreeScheduler<N, kBounded>,
                                       rl::context_bound_scheduler_thread_info<N>, N> {
 public:
  using base_t = rl::tree_search_scheduler<KmcTreeScheduler<N, kBounded>,
                                           rl::context_bound_scheduler_thread_info<N>, N>;
  using thread_info_t = typename base_t::thread_info_t;
  using shared_context_t = typename base_t::shared_context_t;

  KmcTreeScheduler(rl::test_params& params, shared_context_t& ctx,
                   rl::thread_id_t dynamic_thread_count)
      : base_t(params, ctx, dynamic_thread_count) {
    g_engine.tree = this;
    g_engine.tree_fraction = &Fraction;
    g_engine.tree_state = &State;
    g_engine.tree_save = &SaveForResume;
    por_ = g_engine.por && !kBounded;
    // Recording steps: to prune (por_) or only to fingerprint traces.
    record_ = (por_ || g_engine.count_traces) && !kBounded;
    PorEnable(record_);
    PorKeepTouched(record_ && g_engine.count_traces);
    if (g_engine.shard_count > 0) shard_ = ShardSplit(g_engine.shard_index, g_engine.shard_count);
  }
  ~KmcTreeScheduler() {
    g_engine.tree = nullptr;
    g_engine.tree_fraction = nullptr;
    g_engine.tree_state = nullptr;
    g_engine.tree_save = nullptr;
    PorEnable(false);
  }

  rl::thread_id_t iteration_begin_impl() {
    switches_remain_ = this->params_.context_bound;
    // Relacy's own version calls its rand_impl directly; ours validates.
    this->stree_depth_ = 0;
    if (g_recorder != nullptr) g_recorder->depth = 0;
    blocked_ = false;
    g_reads_from = 0;
    g_engine.atomic_depth = 0;
    sleep_.clear();
    step_node_ = -1;
    shard_.BeginExecution();
    step_open_ = false;
    step_count_ = 0;
    for (Activation& a : activation_) a = Activation{};
    thread_clock_.assign(N * N, 0);
    if (record_) PorBeginExecution();
    const unsigned index = DecideThread(this->running_threads_count, nullptr);
    const rl::thread_id_t th = this->running_threads[index];
    if (record_) BeginStep(th);
    return th;
  }

  bool iteration_end_impl() {
    EngineWork busy;
    if (g_engine.may_preempt != nullptr) {
      // A directed search: nodes where the running thread had to go on are
      // never branched.
      for (size_t i = this->stree_.size(); i != 0; --i) {
        auto& n = this->stree_[i - 1];
        if (fixed_[i - 1] || n.index_ + 1 >= n.count_) continue;
        this->stree_.resize(i);
        fixed_.resize(i);
        n.index_ += 1;
        return false;
      }
      return true;
    }
    // --shard: the execution ends; below the split of a subtree another
    // shard owns, nothing is branched.
    if (shard_.EndExecution()) Runtime::Get().UncountExecution();
    if (record_ && step_open_) EndStep(-1);
    if (g_engine.count_traces && record_ && !blocked_) {
      Runtime::Get().AddTrace(TraceFingerprint());
    }
    if (!por_ && !shard_.on()) return base_t::iteration_end_impl();
    for (size_t i = this->stree_.size(); i != 0; --i) {
      auto& n = this->stree_[i - 1];
      if (!shard_.MayBranch(i - 1)) continue;
      if (!por_) {
        if (n.index_ + 1 >= n.count_) continue;
        this->stree_.resize(i);
        n.index_ += 1;
        shard_.Backtrack(i - 1);
        return false;
      }
      PorNode& p = nodes_[i - 1];
      if (p.exhausted) continue;
      if (p.sched) {
        // A choice of the next thread: the alternatives a race asked for
        // that are neither explored nor asleep, in list order. Above the
        // split of a sharded search every alternative not asleep: a race
        // that asks for one may lie in a subtree another shard explores
        // (sync/internal/shard.h).
        const bool every = shard_.InTop(i - 1);
        for (unsigned j = 0; j < n.count_; ++j) {
          if ((!p.backtrack[j] && !every) || p.done[j] || Asleep(p, p.alt_thread[j])) continue;
          p.done[j] = true;
          this->stree_.resize(i);
          nodes_.resize(i);
          n.index_ = j;
          shard_.Backtrack(i - 1);
          return false;
        }
        continue;
      }
      // Any other choice (a value, an explored nondeterminism): every
      // alternative.
      if (n.index_ + 1 < n.count_) {
        this->stree_.resize(i);
        nodes_.resize(i);
        n.index_ += 1;
        shard_.Backtrack(i - 1);
        return false;
      }
    }
    return true;
  }

  rl::thread_id_t schedule_impl(rl::unpark_reason& reason, unsigned yield) {
    // Relacy treats a park as a yield: the parked thread could not run
    // again, even once woken, before every other thread had been scheduled
    // (its fairness rule for spin loops). A task or kernel thread woken
    // from a sleep (by another thread or a signal) may run at once, as on a
    // kernel. A polling loop's pause (PollPause: a spin's cpu_relax(), a
    // sleep with a timeout) keeps the rule, which keeps spinning threads
    // from starving the rest, and so do the idle parks of ksoftirqd and the
    // worker: woken on every event that might give them work, they would
    // otherwise add a branch at every point that follows one (their own
    // steps are global).
    if (g_engine.park_not_a_yield) yield = 0;
    const bool needs_unpark = g_engine.park_needs_unpark;
    g_engine.park_not_a_yield = false;
    g_engine.park_needs_unpark = false;
    if (!record_) return base_t::schedule_impl(reason, yield);
    // A yield keeps the yielding thread from running again until every
    // other thread has been scheduled: whether it may resume before
    // another thread's next step depends on whether that step came after
    // the yield. So the step that yields does not commute with any step of
    // another thread (the reduced search must try the others' steps on
    // both sides of it; without this, a sleeping thread that commutes with
    // the yielding step can leave the yielder nothing to do but wait, and
    // the resumptions before the sleeper's next step are never explored).
    // Except when the rule cannot matter: a park that only an Unpark ends,
    // in an execution of two threads: the other one must step to wake it
    // and is scheduled at that step's end, as the rule asks. (The count of
    // threads that have not finished would not do: whether one finished
    // before the yield can depend on the order of commuting steps, and a
    // step's footprint must not.)
    if (yield != 0 && (!needs_unpark || N > 2)) PorTouchGlobal();
    EndStep(static_cast<int>(this->thread_->index_));
    decided_node_ = -1;
    const rl::thread_id_t th = base_t::schedule_impl(reason, yield);
    BeginStep(th);
    return th;
  }

  // Every choice of Relacy's schedulers comes here. A choice of the next
  // thread (an index into running_threads) leaves out threads that would
  // only park because another context holds their CPU (Runtime::CpuBlocked)
  // or another task holds the sleeping lock they are about to take
  // (Runtime::WouldOnlySleep); the current thread stays a candidate of a
  // context-bounded search, so it spends its preemptions exactly as before.
  // When every thread is left out, all are candidates.
  unsigned rand_impl(unsigned limit, rl::sched_type t) {
    if (t != rl::sched_type_sched || limit != static_cast<unsigned>(this->running_threads_count) ||
        limit < 2) {
      return Decide(limit, t, nullptr);
    }
    return DecideThread(limit, this->thread_);
  }

  void set_state_impl(std::istream& in) {
    if (g_engine.resuming) {
      // The tree of the search a failing execution ended, advanced past it.
      this->stree_.clear();
      for (const ResumeTree::Node& n : g_resume.nodes) {
        typename base_t::stree_node node = {n.count, n.index, static_cast<rl::sched_type>(n.type), 0};
        this->stree_.push_back(node);
      }
      nodes_ = g_resume.por;
      if (nodes_.size() != this->stree_.size()) nodes_.resize(this->stree_.size());
      shard_ = g_resume.shard;
      return;
    }
    base_t::set_state_impl(in);
    g_engine.replaying = true;
    g_engine.replay_nodes = this->stree_.size();
  }

  bool can_switch(thread_info_t& t) {
    if (!kBounded) return true;
    t.sched_count_ += 1;
    return switches_remain_ != 0;
  }

  void on_switch(thread_info_t& t) {
    if (!kBounded) return;
    if (t.state_ == rl::thread_state_running) {
      if (switches_remain_) switches_remain_ -= 1;
    } else {
      t.forced_context_switch_count_ += 1;
    }
  }

  double iteration_count_approx() {
    double total = 1;
    for (const auto& n : this->stree_) total *= n.count_;
    return total;
  }

  // A choice of the next thread among running_threads[0..limit): the
  // eligible ones (see rand_impl), as one explored decision.
  unsigned DecideThread(unsigned limit, const thread_info_t* current) {
    const Runtime& rt = Runtime::Get();
    const rl::thread_id_t self = current != nullptr ? current->index_ : -1;
    unsigned eligible[N];
    unsigned n = 0;
    for (unsigned i = 0; i < limit; ++i) {
      const rl::thread_id_t th = this->running_threads[i];
      const int t = static_cast<int>(th);
      // The current thread stays a candidate of a bounded search, which
      // would otherwise pay a preemption to leave it.
      const bool sleeps = (th != self || !kBounded) && rt.WouldOnlySleep(t);
      if ((th == self || !rt.CpuBlocked(t)) && !sleeps) eligible[n++] = i;
    }
    if (n == 0) {
      for (unsigned i = 0; i < limit; ++i) eligible[i] = i;
      n = limit;
    }
    int threads[N];
    for (unsigned i = 0; i < n; ++i) threads[i] = static_cast<int>(this->running_threads[eligible[i]]);
    int forced = -1;
    if (g_engine.may_preempt != nullptr && g_engine.at_point && self >= 0 &&
        !g_engine.may_preempt(static_cast<int>(self), g_engine.point_access, g_engine.point_loc)) {
      for (unsigned i = 0; i < n; ++i) {
        if (threads[i] == static_cast<int>(self)) forced = static_cast<int>(i);
      }
    }
    return eligible[Decide(n, rl::sched_type_sched, threads, forced)];
  }

  // One explored decision among `limit` alternatives: the search tree's
  // node at this depth, validated against a replayed path. `threads` names
  // the thread of each alternative of a choice of the next thread.
  // `forced` (a directed search): the alternative a new node must take and
  // keep.
  unsigned Decide(unsigned limit, rl::sched_type t, const int* threads, int forced = -1) {
    unsigned result = 0;
    const size_t size = this->stree_.size();
    if (this->stree_depth_ == size) {
      if (g_engine.replaying && !g_engine.diverged) {
        g_engine.diverged = true;
        g_engine.divergence = "the execution needs more than the token's " +
                              std::to_string(g_engine.replay_nodes) + " decisions";
      }
      typename base_t::stree_node n = {limit, 0, t, 0};
      if (por_) result = NewNode(limit, threads, &n);
      if (forced >= 0) {
        result = static_cast<unsigned>(forced);
        n.index_ = result;
      }
      if (g_engine.may_preempt != nullptr) fixed_.push_back(forced >= 0);
      this->stree_.push_back(n);
    } else {
      auto& n = this->stree_[this->stree_depth_];
      if (n.count_ != limit || n.type_ != t || n.index_ >= limit) {
        if (!g_engine.diverged) {
          g_engine.diverged = true;
          g_engine.divergence = "choice " + std::to_string(this->stree_depth_) +
                                " expected " + std::to_string(n.count_) +
                                " alternatives, the execution has " +
                                std::to_string(limit);
        }
        n.count_ = limit;
        n.type_ = t;
        n.index_ = 0;
      }
      result = n.index_;
    }
    if (FlightRecorder* fr = g_recorder) {
      const size_t d = this->stree_depth_;
      if (d < fr->capacity) {
        fr->nodes[d] = FlightRecorder::Node{static_cast<uint16_t>(limit),
                                            static_cast<uint16_t>(result),
                                            static_cast<uint8_t>(t)};
        fr->depth = static_cast<uint32_t>(d + 1);
      } else {
        fr->overflow = 1;
      }
    }
    if (por_ && threads != nullptr) Chose(this->stree_depth_, result);
    // --shard: entering a subtree another shard owns, this execution stops
    // counting.
    if (shard_.Visit(this->stree_depth_, limit, t == rl::sched_type_sched)) {
      Runtime::Get().UncountExecution();
    }
    this->stree_depth_ += 1;
    g_engine.depth = this->stree_depth_;
    return result;
  }

  // After a failing execution: the tree the search would go on with (the
  // failing step counts as its node's alternative), in g_resume.
  static void SaveForResume(void* self) {
    auto* s = static_cast<KmcTreeScheduler*>(self);
    if (s->record_ && s->step_open_) s->EndStep(-1);
    const size_t depth = std::min(s->stree_.size(), s->stree_depth_);
    s->stree_.resize(depth);
    if (s->nodes_.size() > depth) s->nodes_.resize(depth);
    if (s->por_ && s->nodes_.size() < depth) s->nodes_.resize(depth);
    s->stree_depth_ = depth;
    g_resume = ResumeTree{};
    g_resume.valid = true;
    g_resume.done = s->iteration_end_impl();
    for (const auto& n : s->stree_) {
      g_resume.nodes.push_back(ResumeTree::Node{n.count_, n.index_, static_cast<unsigned>(n.type_)});
    }
    if (s->por_) g_resume.por = s->nodes_;
    // iteration_end_impl() settled whose the failing execution is.
    g_resume.shard = s->shard_;
    g_engine.failed_foreign = s->shard_.foreign();
    g_engine.failed_subtree = s->shard_.subtree();
  }

  // The decisions of the running execution so far, in get_state() form.
  static void State(const void* self, std::ostream& out) {
    const auto* s = static_cast<const KmcTreeScheduler*>(self);
    const size_t n = std::min(s->stree_.size(), s->stree_depth_);
    out << n << " ";
    for (size_t i = 0; i < n; ++i) {
      const auto& node = s->stree_[i];
      out << node.count_ << " " << node.index_ << " " << static_cast<unsigned>(node.type_) << " ";
    }
  }

  // Fraction of the search tree already explored (mixed-radix position).
  static double Fraction(const void* self) {
    const auto* s = static_cast<const KmcTreeScheduler*>(self);
    double done = 0, scale = 1;
    for (const auto& n : s->stree_) {
      scale /= n.count_;
      done += n.index_ * scale;
    }
    return done;
  }

 private:
  static bool Asleep(const PorNode& p, int thread) {
    for (const SleepEntry& e : p.sleep) {
      if (e.thread == thread) return true;
    }
    return false;
  }

  // A new node of the tree: its sleep set is the current one; a choice of
  // the next thread starts at the first thread not asleep.
  unsigned NewNode(unsigned limit, const int* threads, typename base_t::stree_node* n) {
    PorNode p;
    unsigned first = 0;
    if (blocked_) {
      p.exhausted = true;
    } else if (threads != nullptr) {
      p.sched = true;
      p.sleep = sleep_;
      p.alt_thread.assign(threads, threads + limit);
      p.alt_fp.resize(limit);
      p.backtrack.assign(limit, false);
      p.done.assign(limit, false);
      while (first < limit && Asleep(p, threads[first])) ++first;
      if (first == limit) {
        // Sleep-set blocked: every continuation was explored elsewhere.
        first = 0;
        p.exhausted = true;
        blocked_ = true;
      } else {
        p.backtrack[first] = true;
        p.done[first] = true;
      }
    }
    n->index_ = first;
    nodes_.push_back(std::move(p));
    return first;
  }

  // Thread alternative `index` was taken at node `depth`: the threads of
  // the earlier alternatives go to sleep next to the node's sleep set.
  void Chose(size_t depth, unsigned index) {
    const PorNode& p = nodes_[depth];
    if (!p.sched || blocked_) return;
    sleep_ = p.sleep;
    for (unsigned a = 0; a < p.alt_thread.size(); ++a) {
      if (a == index || !p.done[a]) continue;
      if (!Asleep(p, p.alt_thread[a])) sleep_.push_back(SleepEntry{p.alt_thread[a], p.alt_fp[a]});
    }
    decided_node_ = static_cast<long>(depth);
  }

  void BeginStep(rl::thread_id_t th) {
    step_node_ = decided_node_;
    decided_node_ = -1;
    step_thread_ = static_cast<int>(th);
    step_open_ = true;
    PorBeginStep(step_thread_);
  }

  // The step of the running thread is over: record it as its node's
  // alternative and wake the sleepers it does not commute with.
  void EndStep(int thread) {
    EngineWork busy;
    Footprint& fp = step_fp_;  // reused: its vectors keep their capacity
    touched_.Clear();
    PorEndStep(&fp, g_engine.count_traces ? &touched_ : nullptr);
    step_open_ = false;
    if (thread < 0) thread = step_thread_;
    // Interrupt sources (in any context) read their CPU's state: whether
    // an interrupt context holds it, whether interrupts and bottom halves
    // are enabled there; what changes it writes the CPU's keys (por.h).
    // A task's or kernel thread's step does not read the context stack:
    // it commutes with an interrupt or softirq context on its CPU unless it
    // touches what that context touches (the context's whole run counts as
    // the step that entered it; see Activation, and AnalyzeRaces for the
    // races whose later step had to wait for the CPU). Softirq daemons and
    // the worker touch deferred-work state no key names.
    const Runtime& rt = Runtime::Get();
    const TaskState* t = thread >= 0 && thread < static_cast<int>(rt.tasks().size())
                             ? &rt.tasks()[thread]
                             : nullptr;
    auto add_context = [t](Footprint& f) {
      if (t == nullptr) {
        f.SetGlobal();
      } else if ((t->kind == TaskKind::kTask || t->kind == TaskKind::kKthread ||
                  t->kind == TaskKind::kIrq) &&
                 t->cpu >= 0) {
        if (t->kind == TaskKind::kIrq) {
          f.Read(PorCpuKey(t->cpu));
          f.Read(PorIrqKey(t->cpu));
        }
      } else if (t->kind != TaskKind::kTask && t->kind != TaskKind::kKthread) {
        f.SetGlobal();
      }
    };
    add_context(fp);
    if (!touched_.empty()) add_context(touched_);
    MergeIntoChosen(step_node_, fp);
    const long node = step_node_;
    step_node_ = -1;
    if (t != nullptr && thread >= 0 && thread < static_cast<int>(N)) {
      // An interrupt or softirq context keeps the CPU from the other
      // contexts there until it leaves it: for the sleep sets, the
      // alternative whose step entered it stands for all of it (por.h).
      Activation& a = activation_[thread];
      if (a.active && a.node != node) MergeIntoChosen(a.node, fp);
      // A context entered in this step and still running at its end (a
      // handler with a scheduling point) starts an activation; its later
      // steps, up to the one that leaves it, merge into the footprint of
      // the alternative that started it. A sleeping alternative of that
      // node then wakes when a step touches anything the whole context
      // touched (the context ran to its end before the CPU's tasks went
      // on: for them it is one step).
      const bool inside = t->ctx != Ctx::kProcess;
      if (!inside) {
        a.active = false;
      } else if (!a.active) {
        a.active = true;
        a.node = node;
      }
    }
    if (blocked_) return;
    if (thread >= 0 && thread < static_cast<int>(N)) {
      AnalyzeRaces(thread, node, fp);
      if (g_engine.count_traces) steps_[step_count_ - 1].touched = touched_;
    }
    sleep_.erase(std::remove_if(sleep_.begin(), sleep_.end(),
                                [&](const SleepEntry& e) { return e.fp.Conflicts(fp); }),
                 sleep_.end());
  }

  // Dynamic partial-order reduction with source sets (Abdulla, Aronis,
  // Jonsson and Sagonas, POPL 2014), over the steps of the running
  // execution. The new step e2 of `thread` is in a race with every earlier
  // step e1 of another thread that it conflicts with and that happens
  // before e2 only through that conflict (no other step in between orders
  // them). Happens-before is program order plus conflicting steps, kept in
  // vector clocks. For each race the search must also explore an execution
  // in which e2 (or whatever lets it come first) runs before e1: the steps
  // after e1 that do not depend on it, then e2, form a sequence v; a thread
  // whose first step in v depends on nothing earlier in v (an "initial")
  // can start v right where e1 started. If one of them is already explored,
  // chosen for exploration or asleep at e1's node, that order is covered;
  // otherwise one initial (e2's thread when it is one) is added there. A
  // race none of whose initials could run at e1's node (e2's thread did not
  // exist there, or waited for e1 itself, as a task waits for the interrupt
  // that holds its CPU to return) cannot be reversed and asks for nothing.
  // Records are reused from one execution to the next (no allocation once
  // the vectors have grown).
  void AnalyzeRaces(int thread, long node, const Footprint& fp) {
    if (step_count_ == steps_.size()) steps_.emplace_back();
    StepRecord& rec = steps_[step_count_];
    uint32_t* const mine = &thread_clock_[static_cast<size_t>(thread) * N];
    prior_.assign(mine, mine + N);
    rec.clock.assign(mine, mine + N);
    uint32_t* const clock = rec.clock.data();
    const uint32_t local = clock[thread] + 1;
    races_.clear();
    // Recording only (to fingerprint traces): no clocks or races needed.
    for (size_t i = por_ ? step_count_ : 0; i != 0; --i) {
      const StepRecord& e = steps_[i - 1];
      if (e.thread == thread || clock[e.thread] >= e.local) continue;
      if (!e.fp.Conflicts(fp)) continue;
      races_.push_back(i - 1);
      for (size_t t = 0; t < N; ++t) clock[t] = std::max(clock[t], e.clock[t]);
    }
    clock[thread] = local;
    std::copy(clock, clock + N, mine);
    rec.thread = thread;
    rec.node = node;
    rec.local = local;
    rec.fp = fp;
    rec.locks = PorStepLockCounts();
    ++step_count_;
    if (!por_) return;  // recording only, to fingerprint the trace
    // A step of a task reads its CPU's context stack only for finding
    // where a race can be reversed (below): an interrupt context that
    // entered between e1 and e2 kept e2 from running until it left.
    if (!races_.empty()) {
      cpu_fp_.Clear();
      const Runtime& rt = Runtime::Get();
      if (thread < static_cast<int>(rt.tasks().size()) && rt.tasks()[thread].cpu >= 0) {
        cpu_fp_.Read(PorCpuKey(rt.tasks()[thread].cpu));
      }
    }
    for (size_t r : races_) {
      // When e2's thread could not run where e1 started (an interrupt or
      // softirq context held its CPU, or it was blocked), another initial
      // of v does not put e2 first: also look for the place where it can.
      const long n1 = steps_[r].node;
      const bool e2_runs_there = n1 >= 0 && static_cast<size_t>(n1) < nodes_.size() &&
                                 AltIndex(nodes_[n1], thread) >= 0;
      if (Reverse(r) && e2_runs_there) continue;
      // e2 could not have run where e1 started: e1's thread, or a step
      // before it, kept e2's thread from running (it held the lock e2
      // takes, or the CPU e2 runs on). The order to explore is e2 before
      // that: the latest earlier conflicting step (or entry of a context
      // on e2's CPU) that does not happen before e2's thread's previous
      // step and where e2's thread could run.
      for (size_t k = r; k != 0; --k) {
        const StepRecord& e0 = steps_[k - 1];
        if (e0.thread == thread || prior_[e0.thread] >= e0.local) continue;
        if (!e0.fp.Conflicts(fp) && !e0.fp.Conflicts(cpu_fp_)) continue;
        if (Reverse(k - 1)) break;
      }
    }
  }

  // The race of step `first` with the newest step (see AnalyzeRaces).
  // Returns false when no initial of the reversing sequence could run at
  // the node of `first` (the race cannot be reversed there).
  bool Reverse(size_t first) {
    const StepRecord& e1 = steps_[first];
    if (e1.node < 0 || static_cast<size_t>(e1.node) >= nodes_.size()) return false;
    if (!LocksFreeForReversal(first)) return false;
    PorNode& p = nodes_[e1.node];
    if (!p.sched) return false;
    if (p.exhausted) return true;  // every continuation is covered elsewhere
    // first_in_v[u]: the local index of thread u's first step in v (0: none).
    uint32_t first_in_v[N] = {};
    int candidate = -1;  // an initial of v that can run at e1's node
    const size_t last = step_count_ - 1;
    for (size_t k = first + 1; k <= last; ++k) {
      const StepRecord& s = steps_[k];
      if (k < last && s.clock[e1.thread] >= e1.local) continue;  // after e1
      bool initial = first_in_v[s.thread] == 0;
      for (size_t u = 0; initial && u < N; ++u) {
        if (first_in_v[u] != 0 && s.clock[u] >= first_in_v[u]) initial = false;
      }
      if (first_in_v[s.thread] == 0) first_in_v[s.thread] = s.local;
      if (!initial) continue;
      const int alt = AltIndex(p, s.thread);
      if (alt < 0) continue;  // could not run at e1's node
      if (p.backtrack[alt] || p.done[alt] || Asleep(p, s.thread)) return true;  // covered
      if (candidate < 0 || k == last) candidate = alt;
    }
    if (candidate < 0) return false;
    p.backtrack[candidate] = true;
    return true;
  }

  // Whether the newest step's sleeping-lock acquisitions could run after
  // the reversing sequence v at the node of step `first`: a task is left
  // out of the choice while such a lock is busy (Runtime::WouldOnlySleep),
  // so where the lock's count, at `first`'s start plus the changes of the
  // steps of v before the newest, is not positive, the newest step cannot
  // come first (a waiter cannot take a mutex before its holder's unlock;
  // the order to explore is the waiter before the holder's lock).
  bool LocksFreeForReversal(size_t first) const {
    const size_t last = step_count_ - 1;
    const StepRecord& e1 = steps_[first];
    for (const LockCount& a : steps_[last].locks) {
      if (!a.sleeping_acquire || a.delta >= 0) continue;
      // The count when `first` started: the one the first change at or
      // after it saw (the newest step's own change at the latest).
      int count = a.before;
      bool found = false;
      for (size_t k = first; k < last && !found; ++k) {
        for (const LockCount& c : steps_[k].locks) {
          if (c.key == a.key) {
            count = c.before;
            found = true;
            break;
          }
        }
      }
      for (size_t k = first + 1; k < last; ++k) {
        const StepRecord& s = steps_[k];
        if (s.clock[e1.thread] >= e1.local) continue;  // after e1: not in v
        for (const LockCount& c : s.locks) {
          if (c.key == a.key) count += c.delta;
        }
      }
      if (count <= 0) return false;
    }
    return true;
  }

  // The execution's trace, as a hash that does not depend on how the search
  // split threads into steps: for every key, the order of its writes (each
  // named by its thread and how many writes of the key that thread made
  // before) and, for every read, the thread and how many writes of the key
  // preceded it. A global step writes one extra key every other touching
  // step reads. Two executions that differ only in the order of steps with
  // no key in conflict have the same fingerprint (RunOptions::count_traces).
  // Which store each load of a memory-model cell read is part of it too
  // (g_reads_from): executions whose steps come in the same order but whose
  // loads return different stores are different executions.
  uint64_t TraceFingerprint() const {
    constexpr uint64_t kGlobalKey = ~uint64_t{0};
    struct KeyTrace {
      uint32_t writes = 0;
      uint64_t order = 0;               // hash of the writes in order
      std::vector<uint64_t> reads;      // (thread, writes before) of each read
      std::vector<uint32_t> per_thread;  // writes made so far, per thread
    };
    std::map<uint64_t, KeyTrace> keys;
    auto write = [&](uint64_t key, int thread) {
      KeyTrace& k = keys[key];
      if (k.per_thread.size() <= static_cast<size_t>(thread)) k.per_thread.resize(thread + 1);
      const uint32_t nth = k.per_thread[thread]++;
      k.order = MixHash(k.order, (static_cast<uint64_t>(thread) << 32) | nth);
      k.writes += 1;
    };
    auto read = [&](uint64_t key, int thread) {
      KeyTrace& k = keys[key];
      k.reads.push_back((static_cast<uint64_t>(thread) << 32) | k.writes);
    };
    for (size_t i = 0; i < step_count_; ++i) {
      const StepRecord& s = steps_[i];
      const Footprint& f = s.touched;
      if (f.empty()) continue;
      if (f.global()) {
        write(kGlobalKey, s.thread);
      } else {
        read(kGlobalKey, s.thread);
      }
      for (uint64_t k : f.reads()) read(k, s.thread);
      for (uint64_t k : f.writes()) write(k, s.thread);
    }
    uint64_t h = g_reads_from;
    for (auto& [key, k] : keys) {
      std::sort(k.reads.begin(), k.reads.end());
      k.reads.erase(std::unique(k.reads.begin(), k.reads.end()), k.reads.end());
      h = MixHash(h, key);
      h = MixHash(h, k.order);
      for (uint64_t r : k.reads) h = MixHash(h, r);
      h = MixHash(h, k.reads.size());
    }
    return h;
  }

  // Adds `fp` to the footprint of the alternative this execution took at
  // `node` (none for -1 or a node that is not a choice of thread).
  void MergeIntoChosen(long node, const Footprint& fp) {
    if (node < 0 || static_cast<size_t>(node) >= nodes_.size()) return;
    PorNode& p = nodes_[node];
    const unsigned idx = this->stree_[node].index_;
    if (p.sched && idx < p.alt_fp.size()) p.alt_fp[idx].Merge(fp);
  }

  static int AltIndex(const PorNode& p, int thread) {
    for (size_t j = 0; j < p.alt_thread.size(); ++j) {
      if (p.alt_thread[j] == thread) return static_cast<int>(j);
    }
    return -1;
  }

  unsigned switches_remain_ = 0;
  bool por_ = false;                // prune (the reduced search)
  bool record_ = false;             // record steps (por_, or to count traces)
  ShardSplit shard_;               // --shard (off: count 0)
  std::vector<bool> fixed_;        // directed search: parallel to stree_
  bool blocked_ = false;
  std::vector<PorNode> nodes_;     // parallel to stree_
  std::vector<SleepEntry> sleep_;  // the current execution's sleep set
  std::vector<StepRecord> steps_;  // the current execution's steps [0, step_count_)
  size_t step_count_ = 0;
  std::vector<uint32_t> thread_clock_;  // N x N: the clock of each thread's last step
  std::vector<size_t> races_;      // AnalyzeRaces: the new step's races (indices into steps_)
  std::vector<uint32_t> prior_;    // AnalyzeRaces: the clock of the thread's previous step
  long decided_node_ = -1;         // node of this schedule() call's thread choice
  long step_node_ = -1;            // node whose choice started the running step
  int step_thread_ = -1;
  bool step_open_ = false;         // a step runs (BeginStep without EndStep yet)
  Footprint step_fp_;              // EndStep: the step's footprint
  Footprint touched_;              // EndStep: the step's own touches
  Footprint cpu_fp_;                // AnalyzeRaces: the new step's CPU context stack, read
  // An interrupt or softirq context a thread entered and has not left yet
  // (EndStep): the node whose alternative started it (-1: none).
  struct Activation {
    bool active = false;
    long node = -1;
  };
  Activation activation_[N];
};

// Sets the engine mirror (engine.h) for one simulation and clears it after,
// however the simulation ends.
class MirrorScope {
 public:
  explicit MirrorScope(bool collecting) {
    g_mirror.in_simulation = true;
    g_mirror.collecting_history = collecting;
    g_mirror.current_thread = -1;
  }
  ~MirrorScope() { g_mirror = EngineMirror{}; }
  MirrorScope(const MirrorScope&) = delete;
  MirrorScope& operator=(const MirrorScope&) = delete;
};

template <rl::thread_id_t N>
struct Suite : rl::test_suite<Suite<N>, N> {
  void before() {
    g_next_store_id = 1;
    std::fill(std::begin(g_last_load), std::end(g_last_load), LastLoad{});
    std::fill(std::begin(g_load_floor), std::end(g_load_floor), LoadFloor{});
    g_loads = LoadClocks{};
    if (g_recorder != nullptr) g_recorder->executions = g_recorder->executions + 1;
    Progress();
    g_engine.iteration = g_engine.next_iteration++;
    std::fill(std::begin(g_engine.sleeping), std::end(g_engine.sleeping), false);
    Runtime::Get().BeginExecution();
  }
  void thread(unsigned index) { Runtime::Get().RunThread(static_cast<int>(index)); }
  void after() { Runtime::Get().FinishExecution(); }
};

class NullBuf : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

template <rl::thread_id_t N, class Sched>
rl::test_result_e RunWith(rl::test_params& params, std::string* state) {
  typename Sched::shared_context_t sctx;
  rl::istringstream iss(params.initial_state);
  rl::ostringstream oss;
  rl::test_result_e res;
  {
    rl::context_impl<Suite<N>, Sched> c(params, sctx);
    int& gate = AllocGate::Flag(rl::ctx());
    gate += 1;
    // Suite<N> has no invariant(), so Relacy's collecting_history() is
    // the parameter throughout.
    const MirrorScope mirror(params.collect_history);
    res = c.simulate(oss, iss, false);
    if (res != rl::test_result_success && g_engine.tree_save != nullptr &&
        g_engine.save_resume) {
      g_engine.tree_save(const_cast<void*>(g_engine.tree));
    }
    gate -= 1;
  }
  *state = std::string(oss.str().c_str());
  return res;
}

#include "sync/internal/pct_scheduler.h"  // NOLINT: PctScheduler, in this namespace

template <rl::thread_id_t N>
rl::test_result_e RunN(rl::test_params& params, std::string* state) {
  g_clocks_of = &ClocksOfN<N>;
  g_var_race_with = &VarRaceWithN<N>;
  if (g_pct.on) return RunWith<N, PctScheduler<N>>(params, state);
  switch (params.search_type) {
    case rl::sched_random:
      return RunWith<N, rl::random_scheduler<N>>(params, state);
    case rl::sched_bound:
      return RunWith<N, KmcTreeScheduler<N, true>>(params, state);
    default:
      return RunWith<N, KmcTreeScheduler<N, false>>(params, state);
  }
}

rl::test_result_e RunThreads(int threads, rl::test_params& params, std::string* state) {
  switch (threads) {
    case 1: return RunN<1>(params, state);
    case 2: return RunN<2>(params, state);
    case 3: return RunN<3>(params, state);
    case 4: return RunN<4>(params, state);
    case 5: return RunN<5>(params, state);
    case 6: return RunN<6>(params, state);
    case 7: return RunN<7>(params, state);
    default: return RunN<8>(params, state);
  }
}

Verdict FromRelacy(rl::test_result_e r) {
  switch (r) {
    case rl::test_result_success:
    case rl::test_result_until_condition_hit: return Verdict::kClean;
    case rl::test_result_data_race: return Verdict::kDataRace;
    case rl::test_result_access_to_freed_memory: return Verdict::kUseAfterFree;
    case rl::test_result_double_free: return Verdict::kDoubleFree;
    case rl::test_result_memory_leak: return Verdict::kMemoryLeak;
    case rl::test_result_deadlock: return Verdict::kDeadlock;
    case rl::test_result_livelock: return Verdict::kLivelock;
    case rl::test_result_unitialized_access: return Verdict::kUninitializedRead;
    case rl::test_result_user_assert_failed:
    case rl::test_result_user_invariant_failed: return Verdict::kAssertionFailed;
    default: return Verdict::kLockMisuse;
  }
}

rl::test_result_e ToRelacy(Verdict v) {
  switch (v) {
    case Verdict::kClean: return rl::test_result_until_condition_hit;
    case Verdict::kDataRace: return rl::test_result_data_race;
    case Verdict::kUseAfterFree: return rl::test_result_access_to_freed_memory;
    case Verdict::kDoubleFree: return rl::test_result_double_free;
    case Verdict::kMemoryLeak: return rl::test_result_memory_leak;
    case Verdict::kDeadlock: return rl::test_result_deadlock;
    case Verdict::kLivelock: return rl::test_result_livelock;
    default: return rl::test_result_user_assert_failed;
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// engine.h

const char* AccessName(Access a) {
  switch (a) {
    case Access::kRead: return "read";
    case Access::kWrite: return "write";
    case Access::kRmw: return "rmw";
    case Access::kAcquire: return "acquire";
    case Access::kRelease: return "release";
    case Access::kBlock: return "block";
    case Access::kWake: return "wake";
    case Access::kAlloc: return "alloc";
    case Access::kFree: return "free";
    case Access::kUserCopy: return "user-copy";
    case Access::kChoice: return "choice";
    case Access::kFence: return "fence";
    case Access::kIrq: return "irq";
  }
  return "?";
}

void SchedulePoint(const void* object, const char* /*op*/, Access access,
                   const Loc& loc) {
  Progress();
  // The runtime told the reduced search what the step touches (por.h).
  (void)object;
  (void)access;
  if (g_engine.atomic_depth > 0) PorStepRunsAnnounced(CurrentThread());
  if (g_engine.may_preempt != nullptr) {
    g_engine.at_point = true;
    g_engine.point_access = access;
    g_engine.point_loc = loc;
  }
  rl::ctx().sched();
  g_engine.at_point = false;
}

AtomicSection::AtomicSection() {
  g_engine.atomic_depth += 1;
  rl::ctx().disable_preemption();
}
AtomicSection::~AtomicSection() {
  g_engine.atomic_depth -= 1;
  rl::ctx().enable_preemption();
}

bool PreemptionDisabled() { return g_engine.atomic_depth > 0; }

unsigned Choose(unsigned n) {
  Progress();
  if (n <= 1) return 0;
  return rl::ctx().rand(n, rl::sched_type_user);
}

namespace {

// Park() and PollPause(): `poll` keeps Relacy's yield rule for a task or
// kernel thread (see KmcTreeScheduler::schedule_impl).
WakeReason ParkThread(bool timed, bool poll, const Loc& loc, bool cpu_wait) {
  rl::context& c = rl::ctx();
  const int th = c.current_thread();
  g_engine.parked[th] = true;
  g_engine.sleeping[th] = !cpu_wait;
  Progress();
  // Preemption is off only for the thread that turned it off: while this
  // one sleeps (inside a primitive's AtomicSection) the others run with
  // their own state, as Relacy's own counter is saved across the park.
  const int atomic_depth = g_engine.atomic_depth;
  g_engine.atomic_depth = 0;
  const TaskKind kind = th >= 0 && th < static_cast<int>(Runtime::Get().tasks().size())
                           ? Runtime::Get().tasks()[th].kind
                           : TaskKind::kWorker;
  // A task's or kernel thread's sleep is not a yield, even one a signal
  // may end at once; a polling loop's pause is.
  g_engine.park_not_a_yield = !poll && (kind == TaskKind::kTask || kind == TaskKind::kKthread);
  g_engine.park_needs_unpark = !timed;
  rl::unpark_reason r = c.park_current_thread(timed, false, false, Info(loc));
  g_engine.park_not_a_yield = false;
  g_engine.atomic_depth = atomic_depth;
  Progress();
  g_engine.at_point = false;
  g_engine.parked[th] = false;
  g_engine.sleeping[th] = false;
  // The resumed step reads what its waker (or a timeout) left in its state.
  if (!cpu_wait) PorTouchKey(PorTaskKey(th), false);
  return r == rl::unpark_reason_normal ? WakeReason::kWoken : WakeReason::kTimeout;
}

}  // namespace

bool InSleep(int thread) {
  return thread >= 0 && thread < kMaxThreads && g_engine.sleeping[thread];
}

WakeReason Park(bool timed, const Loc& loc, bool cpu_wait) {
  return ParkThread(timed, /*poll=*/false, loc, cpu_wait);
}

WakeReason PollPause(const Loc& loc) {
  return ParkThread(/*timed=*/true, /*poll=*/true, loc, /*cpu_wait=*/false);
}

void Unpark(int thread, const Loc& loc, bool cpu_wait) {
  if (!cpu_wait) PorTouchTask(thread);
  if (thread < 0 || thread >= kMaxThreads || !g_engine.parked[thread]) return;
  g_engine.parked[thread] = false;
  rl::ctx().unpark_thread(thread, false, Info(loc));
}

EngineMirror g_mirror;

void NoteFiberSwitch() {
  const rl::context& c = rl::ctx();
  g_mirror.current_thread = c.threadx_ != nullptr ? static_cast<int>(c.threadx_->index_) : -1;
}

// ---------------------------------------------------------------------------
// Atomic cells: kmc's own store history on Relacy's vector clocks.
//
// Relacy keeps the last three stores of an atomic and its full search lets a
// load read at most one store back, so an exhaustive search missed every
// outcome where a load returns an older value. kmc keeps every store of an
// execution instead, and a load chooses (as an ordinary explored branch)
// among all the stores the C++ model lets it read: the latest one and every
// older one back to the first store that is ordered before the load
//   * by happens-before (the store's thread timestamp is in the loader's
//     clock),
//   * by read-read coherence (some load that happens before this one read
//     it, including the loader's own earlier loads),
//   * by seq_cst (a seq_cst load reads no older than the last seq_cst store).
// The clocks are Relacy's per-thread ones (acq_rel, acquire-fence and
// release-fence vectors), so plain variables, fences and everything built on
// the cells keep one happens-before order.

struct StoreRec {
  int64_t value;
  uint64_t id;                       // execution-wide store number (0: initial value)
  int thread;                        // -1: the initial value
  bool seq_cst;
  bool rmw;                          // a read-modify-write: it read the store before it
  // RunOptions::count_traces: made before the tasks ran (by module init or
  // fixture setup, on whichever thread ran first), and how many stores to
  // the cell its thread made before it while they ran.
  bool setup;
  uint32_t nth;
  rl::timestamp_t stamp;             // the storing thread's timestamp
  rl::timestamp_t release[kMaxThreads];     // clock a reader acquires
  rl::timestamp_t loads[kMaxThreads];       // what a reader learns of loads (LoadClocks)
  rl::timestamp_t first_seen[kMaxThreads];  // per thread: when it first read it
};

class AtomicCell {
 public:
  StoreRec* recs = nullptr;
  size_t size = 0;
  size_t cap = 0;
  StoreRec& Push() {
    if (size == cap) {
      cap = cap == 0 ? 4 : cap * 2;
      recs = static_cast<StoreRec*>(std::realloc(recs, cap * sizeof(StoreRec)));
      if (recs == nullptr) std::abort();
    }
    return recs[size++];
  }
  uint64_t por_key = 0;  // its key for the reduced search (por.h)
};

namespace {


bool HaveThread() {
  return CurrentThread() >= 0 && g_clocks_of != nullptr;
}

rl::timestamp_t Tick(const Clocks& c) { return ++c.acq_rel[c.self]; }

// The running thread's row of the load clocks, its own loads all known.
rl::timestamp_t* KnownLoads(const Clocks& c) {
  rl::timestamp_t* known = g_loads.known[c.self];
  known[c.self] = c.acq_rel[c.self];
  return known;
}

// Index of the store a load reads; `rmw` loads read the latest store.
size_t PickStore(AtomicCell* cell, const Clocks& c, MemOrder mo, bool rmw) {
  size_t index = cell->size - 1;
  if (rmw || cell->size == 1) return index;
  const rl::thread_info_base& th = *rl::ctx().threadx_;
  // A polling loop that read a stale store reads a newer one next.
  size_t lowest = 0;
  LoadFloor& floor = g_load_floor[c.self];
  if (floor.cell == cell) {
    for (size_t k = index; k > 0; --k) {
      if (cell->recs[k - 1].id == floor.store) {
        lowest = k;
        break;
      }
    }
    floor = LoadFloor{};
  }
  size_t oldest = index;
  for (; oldest > lowest; --oldest) {
    const StoreRec& rec = cell->recs[oldest];
    const StoreRec& prev = cell->recs[oldest - 1];
    if (prev.first_seen[c.self] <= th.last_yield_) break;  // no stale reads after a yield
    if (mo == MemOrder::kSeqCst && rec.seq_cst) break;
    if (rec.thread >= 0 && c.acq_rel[rec.thread] >= rec.stamp) break;  // rec happens before
    bool seen = false;  // read-read coherence
    const rl::timestamp_t* loads = KnownLoads(c);
    for (int i = 0; i < c.threads && !seen; ++i) seen = loads[i] >= rec.first_seen[i];
    if (seen) break;
  }
  const size_t choices = index - oldest + 1;
  if (choices > 1) {
    // Alternative 0 is the latest store, k reads k stores back.
    index -= rl::ctx().rand(static_cast<unsigned>(choices), rl::sched_type_atomic_load);
  }
  return index;
}

// True when the store at `index` of `cell` is ordered before a store the
// running thread is about to place: the thread wrote it, it happens before
// (its stamp is in the thread's clock), or a load that happens before read
// it (read-write coherence). Every po-earlier load counts as ordered before
// the store, as if it were an acquire: without dependency tracking a load
// that feeds the store's value or the condition guarding it (which LKMM
// orders before the store) cannot be told from one that does not. So a
// store never overtakes what an earlier load of its CPU saw (S with
// smp_wmb() on the writer, which LKMM allows only when nothing orders the
// load before the store, is not produced this way).
bool OrderedBeforeStore(const AtomicCell* cell, size_t index, const Clocks& c) {
  const StoreRec& rec = cell->recs[index];
  if (rec.thread == c.self) return true;
  auto known = [&](int i) { return std::max(c.acq_rel[i], c.acquire_fence[i]); };
  if (rec.thread >= 0 && known(rec.thread) >= rec.stamp) return true;
  const rl::timestamp_t* loads = KnownLoads(c);
  const rl::timestamp_t* pending = g_loads.pending[c.self];
  for (int i = 0; i < c.threads; ++i) {
    if (std::max(loads[i], pending[i]) >= rec.first_seen[i]) return true;
  }
  return false;
}

// Where a placed store goes in its cell's modification order: an index in
// [1, size] (size: the newest). The store must follow every store ordered
// before it (OrderedBeforeStore) and may not come between a
// read-modify-write and the store that one read. Alternative 0 is the
// newest place.
size_t PlaceStore(AtomicCell* cell, const Clocks& c) {
  const size_t end = cell->size;
  size_t lo = end;
  while (lo > 1 && !OrderedBeforeStore(cell, lo - 1, c)) --lo;
  if (lo == end) return end;
  size_t places[64];
  unsigned n = 0;
  places[n++] = end;
  for (size_t p = end; p-- > lo && n < 64;) {
    if (!cell->recs[p].rmw) places[n++] = p;
  }
  if (n == 1) return end;
  return places[rl::ctx().rand(n, rl::sched_type_atomic_load)];
}

// The load half of a load or read-modify-write of `cell` by the thread
// whose clocks are `c`, reading the store at `index`.
int64_t ReadStore(AtomicCell* cell, size_t index, const Clocks& c, MemOrder mo) {
  StoreRec& rec = cell->recs[index];
  const rl::timestamp_t now = Tick(c);
  if (rec.first_seen[c.self] == kNever) rec.first_seen[c.self] = now;
  const bool synch = mo == MemOrder::kAcquire || mo == MemOrder::kAcqRel || mo == MemOrder::kSeqCst;
  rl::timestamp_t* into = synch ? c.acq_rel : c.acquire_fence;
  for (int i = 0; i < c.threads; ++i) into[i] = std::max(into[i], rec.release[i]);
  rl::timestamp_t* loads = synch ? KnownLoads(c) : g_loads.pending[c.self];
  for (int i = 0; i < c.threads; ++i) loads[i] = std::max(loads[i], rec.loads[i]);
  g_last_load[c.self] = LastLoad{cell, LoadFrom{rec.id, cell->recs[cell->size - 1].id, rec.thread < 0}};
  if (g_engine.count_traces && cell->por_key != PorUntrackedKey() && Runtime::Get().running()) {
    // The load (cell, loading thread) and the store it read (its thread and
    // number, or "before the tasks"), summed: an execution's loads in any
    // order. Loads during module exit and the final check, which run on
    // whichever thread ended last, do not count; nor do a CPU's untracked
    // cell's (por.h).
    const uint64_t store =
        rec.setup ? 0 : (uint64_t{static_cast<uint32_t>(rec.thread + 1)} << 32) | rec.nth;
    g_reads_from +=
        Avalanche(MixHash(MixHash(cell->por_key, static_cast<uint64_t>(c.self)), store));
  }
  return rec.value;
}

int64_t LoadImpl(AtomicCell* cell, MemOrder mo, bool rmw) {
  const Clocks c = g_clocks_of(rl::ctx().threadx_);
  return ReadStore(cell, PickStore(cell, c, mo, rmw), c, mo);
}

// The store half of a store or read-modify-write of `cell` by the thread
// whose clocks are `c`.
void StoreWith(AtomicCell* cell, int64_t value, const Clocks& c, MemOrder mo, bool rmw,
               bool place) {
  const size_t at = (place && !rmw && mo != MemOrder::kSeqCst) ? PlaceStore(cell, c) : cell->size;
  cell->Push();
  if (at + 1 < cell->size) {
    std::memmove(&cell->recs[at + 1], &cell->recs[at], (cell->size - 1 - at) * sizeof(StoreRec));
  }
  StoreRec& rec = cell->recs[at];
  const StoreRec& prev = cell->recs[at - 1];
  rec.value = value;
  rec.id = g_next_store_id++;
  rec.thread = c.self;
  rec.seq_cst = mo == MemOrder::kSeqCst;
  rec.rmw = rmw;
  rec.stamp = Tick(c);
  rec.setup = true;
  rec.nth = 0;
  if (g_engine.count_traces && Runtime::Get().running()) {
    rec.setup = false;
    for (size_t k = 0; k < cell->size; ++k) {
      const StoreRec& o = cell->recs[k];
      if (k != at && o.thread == c.self && !o.setup) ++rec.nth;
    }
  }
  // Only the simulation's own threads' entries are ever read (every reader
  // stops at Clocks::threads, the same in every execution of it).
  for (int i = 0; i < c.threads; ++i) rec.first_seen[i] = kNever;
  rec.first_seen[c.self] = rec.stamp;
  const bool synch = mo == MemOrder::kRelease || mo == MemOrder::kAcqRel || mo == MemOrder::kSeqCst;
  const rl::timestamp_t* from = synch ? c.acq_rel : c.release_fence;
  // A release sequence continues through read-modify-writes and through
  // later stores of the thread that started it.
  const bool preserve = rmw || (prev.thread == c.self);
  const rl::timestamp_t* loads = synch ? KnownLoads(c) : g_loads.published[c.self];
  for (int i = 0; i < c.threads; ++i) {
    rec.release[i] = preserve ? std::max(prev.release[i], from[i]) : from[i];
    rec.loads[i] = preserve ? std::max(prev.loads[i], loads[i]) : loads[i];
  }
}

void StoreImpl(AtomicCell* cell, int64_t value, MemOrder mo, bool rmw, bool place = false) {
  StoreWith(cell, value, g_clocks_of(rl::ctx().threadx_), mo, rmw, place);
}

int64_t LatestValue(const AtomicCell* cell) { return cell->recs[cell->size - 1].value; }

}  // namespace

namespace {
// Deleted cells, kept with their store buffers for the next execution's
// (every execution makes the same few cells again).
std::vector<AtomicCell*>& FreeCells() {
  static auto* cells = new std::vector<AtomicCell*>();
  return *cells;
}
}  // namespace

AtomicCell* NewAtomicCell(int64_t initial, uint64_t por_key) {
  AtomicCell* cell;
  std::vector<AtomicCell*>& free_cells = FreeCells();
  if (!free_cells.empty()) {
    cell = free_cells.back();
    free_cells.pop_back();
    cell->size = 0;
  } else {
    void* mem = std::malloc(sizeof(AtomicCell));
    cell = ::new (mem) AtomicCell();
  }
  cell->por_key = por_key != 0 ? por_key : PorCellKey(PorNewId());
  StoreRec& rec = cell->Push();
  rec.value = initial;
  rec.id = 0;
  rec.thread = -1;
  rec.setup = true;
  rec.nth = 0;
  rec.seq_cst = false;
  rec.rmw = false;
  rec.stamp = 0;
  for (int i = 0; i < kMaxThreads; ++i) {
    rec.release[i] = 0;
    rec.loads[i] = 0;
    rec.first_seen[i] = kNever;
  }
  return cell;
}

void DeleteAtomicCell(AtomicCell* cell, bool /*engine_alive*/) {
  std::vector<AtomicCell*>& free_cells = FreeCells();
  if (free_cells.size() < 4096) {
    free_cells.push_back(cell);
    return;
  }
  std::free(cell->recs);
  std::free(cell);
}

namespace {
// What a memory-model operation touches: its cell, and the order of
// seq_cst operations and fences.
void PorCell(const AtomicCell* cell, bool write, MemOrder mo) {
  if (!PorEnabled()) return;
  PorTouchKey(cell->por_key, write);
  if (mo == MemOrder::kSeqCst) PorTouchSeqCst();
}
}  // namespace

int64_t AtomicLoad(AtomicCell* cell, MemOrder mo, const Loc& /*loc*/) {
  if (!HaveThread()) return LatestValue(cell);
  PorCell(cell, false, mo);
  AtomicSection section;
  rl::ctx().sched();  // counts toward the depth limit; never switches here
  return LoadImpl(cell, mo, false);
}

void AtomicStore(AtomicCell* cell, int64_t value, MemOrder mo, const Loc& /*loc*/) {
  if (!HaveThread()) {
    cell->recs[cell->size - 1].value = value;
    return;
  }
  PorCell(cell, true, mo);
  AtomicSection section;
  rl::ctx().sched();
  StoreImpl(cell, value, mo == MemOrder::kAcquire ? MemOrder::kRelaxed : mo, false);
}

int64_t AtomicStorePlaced(AtomicCell* cell, int64_t value, MemOrder mo, const Loc& /*loc*/) {
  if (!HaveThread()) {
    cell->recs[cell->size - 1].value = value;
    return value;
  }
  PorCell(cell, true, mo);
  AtomicSection section;
  rl::ctx().sched();
  StoreImpl(cell, value, mo == MemOrder::kAcquire ? MemOrder::kRelaxed : mo, false, true);
  return LatestValue(cell);
}

namespace {
MemOrder LoadPart(MemOrder mo) {
  return mo == MemOrder::kRelease ? MemOrder::kRelaxed
         : mo == MemOrder::kAcqRel ? MemOrder::kAcquire : mo;
}
MemOrder StorePart(MemOrder mo) {
  return mo == MemOrder::kAcquire ? MemOrder::kRelaxed
         : mo == MemOrder::kAcqRel ? MemOrder::kRelease : mo;
}
int64_t Apply(RmwOp op, int64_t old, int64_t operand) {
  switch (op) {
    case RmwOp::kAdd: return static_cast<int64_t>(static_cast<uint64_t>(old) +
                                                  static_cast<uint64_t>(operand));
    case RmwOp::kXchg: return operand;
    case RmwOp::kAnd: return old & operand;
    case RmwOp::kOr: return old | operand;
    case RmwOp::kXor: return old ^ operand;
  }
  return old;
}
}  // namespace

int64_t AtomicRmw(AtomicCell* cell, RmwOp op, int64_t operand, MemOrder mo,
                  const Loc& /*loc*/) {
  if (!HaveThread()) {
    const int64_t old = LatestValue(cell);
    cell->recs[cell->size - 1].value = Apply(op, old, operand);
    return old;
  }
  PorCell(cell, true, mo);
  AtomicSection section;
  rl::ctx().sched();
  // Reads the newest store; its own goes right after it.
  const Clocks c = g_clocks_of(rl::ctx().threadx_);
  const int64_t old = ReadStore(cell, cell->size - 1, c, LoadPart(mo));
  StoreWith(cell, Apply(op, old, operand), c, StorePart(mo), true, false);
  return old;
}

bool AtomicCas(AtomicCell* cell, int64_t& expected, int64_t desired,
               MemOrder success, MemOrder failure, const Loc& /*loc*/) {
  if (!HaveThread()) {
    const int64_t cur = LatestValue(cell);
    if (cur != expected) {
      expected = cur;
      return false;
    }
    cell->recs[cell->size - 1].value = desired;
    return true;
  }
  PorCell(cell, true, success == MemOrder::kSeqCst ? success : failure);
  AtomicSection section;
  rl::ctx().sched();
  const int64_t cur = LatestValue(cell);
  const Clocks c = g_clocks_of(rl::ctx().threadx_);
  if (cur != expected) {
    ReadStore(cell, cell->size - 1, c, LoadPart(failure));
    expected = cur;
    return false;
  }
  ReadStore(cell, cell->size - 1, c, LoadPart(success));
  StoreWith(cell, desired, c, StorePart(success), true, false);
  return true;
}

void LockCumulativity(AtomicCell* cell) {
  if (!HaveThread() || cell->size < 2) return;
  Clocks c = g_clocks_of(rl::ctx().threadx_);
  const StoreRec& unlock = cell->recs[cell->size - 2];  // what the acquire RMW read
  rl::timestamp_t* published = g_loads.published[c.self];
  for (int i = 0; i < c.threads; ++i) {
    c.release_fence[i] = std::max(c.release_fence[i], unlock.release[i]);
    published[i] = std::max(published[i], unlock.loads[i]);
  }
  if (unlock.thread == c.self) {
    // Same CPU: everything before the unlock is ordered before everything
    // after the lock (an acquire and a release fence).
    for (int i = 0; i < c.threads; ++i) c.acq_rel[i] = std::max(c.acq_rel[i], c.acquire_fence[i]);
    for (int i = 0; i < c.threads; ++i) c.release_fence[i] = c.acq_rel[i];
    rl::timestamp_t* loads = KnownLoads(c);
    const rl::timestamp_t* pending = g_loads.pending[c.self];
    for (int i = 0; i < c.threads; ++i) loads[i] = std::max(loads[i], pending[i]);
    for (int i = 0; i < c.threads; ++i) published[i] = loads[i];
  }
}

LoadFrom LastLoadFrom() {
  const int th = CurrentThread();
  return th >= 0 && th < kMaxThreads ? g_last_load[th].from : LoadFrom{};
}

bool NextLoadReadsNewer(const AtomicCell* cell) {
  const int th = CurrentThread();
  if (th < 0 || th >= kMaxThreads) return false;
  const LastLoad& last = g_last_load[th];
  if (last.cell == nullptr || last.from.store == last.from.latest) return false;
  if (cell != nullptr && last.cell != cell) return false;
  g_load_floor[th] = LoadFloor{last.cell, last.from.store};
  return true;
}
uint64_t LastStoreId() { return g_next_store_id - 1; }

namespace {
// A fence's effect on the load clocks, after Relacy's on its own clocks
// (the same steps: acquire, seq_cst merge, release). publish_loads is false
// for StoreFence().
void LoadFence(MemOrder mo, bool publish_loads) {
  if (!HaveThread()) return;
  Clocks c = g_clocks_of(rl::ctx().threadx_);
  rl::timestamp_t* loads = KnownLoads(c);
  const rl::timestamp_t* pending = g_loads.pending[c.self];
  if (mo != MemOrder::kRelease) {
    for (int i = 0; i < c.threads; ++i) loads[i] = std::max(loads[i], pending[i]);
  }
  if (mo == MemOrder::kSeqCst) {
    for (int i = 0; i < c.threads; ++i) loads[i] = std::max(loads[i], g_loads.seq_cst[i]);
    for (int i = 0; i < c.threads; ++i) g_loads.seq_cst[i] = loads[i];
  }
  if (mo != MemOrder::kAcquire && publish_loads) {
    rl::timestamp_t* published = g_loads.published[c.self];
    for (int i = 0; i < c.threads; ++i) published[i] = loads[i];
  }
}
}  // namespace

// Only a seq_cst fence touches state other threads share (Relacy's seq_cst
// fence order, g_loads.seq_cst); acquire and release fences change only
// their own thread's clocks.
void Fence(MemOrder mo, const Loc& loc) {
  if (mo == MemOrder::kRelaxed) return;
  if (mo == MemOrder::kSeqCst) PorTouchSeqCst();
  AtomicSection section;
  rl::atomic_thread_fence(Order(mo), Info(loc));
  LoadFence(mo, true);
}

void StoreFence(const Loc& loc) {
  AtomicSection section;
  rl::atomic_thread_fence(rl::mo_release, Info(loc));
  LoadFence(MemOrder::kRelease, false);
}

// A VarCell is Relacy's var_data itself (no allocation of its own).
namespace {
rl::var_data* Data(VarCell* cell) { return reinterpret_cast<rl::var_data*>(cell); }
}  // namespace

VarCell* NewVarCell() {
  // A fresh cell has no recorded accesses: its current value counts as
  // established before every task (fixture setup, kzalloc), so only later
  // unordered accesses race.
  return reinterpret_cast<VarCell*>(rl::ctx().var_ctor());
}

void DeleteVarCell(VarCell* cell, bool engine_alive) {
  if (engine_alive) rl::ctx().var_dtor(Data(cell));
}

bool VarLoad(VarCell* cell) { return Data(cell)->load(*rl::ctx().threadx_); }
bool VarStore(VarCell* cell) { return Data(cell)->store(*rl::ctx().threadx_); }
int VarRaceWith(VarCell* cell, bool write, bool* store) {
  if (g_var_race_with == nullptr) return -1;
  return g_var_race_with(Data(cell), rl::ctx().threadx_, write, store);
}

void FailExecution(Verdict verdict, const char* desc, const Loc& loc) {
  rl::ctx().fail_test(desc, ToRelacy(verdict), Info(loc));
  // fail_test switches to the engine's main fiber for good.
  std::abort();
}

bool EngineDiverged(std::string* why) {
  if (!g_engine.diverged) return false;
  if (why) *why = g_engine.divergence;
  return true;
}

int StackGuardThread(const void* addr, uintptr_t* guard_lo) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  for (const FiberStack& st : g_fiber_stacks) {
    if (st.guard != 0 && a >= st.guard && a < st.guard + kFiberGuard) {
      *guard_lo = st.guard;
      return std::max(CurrentThread(), 0);
    }
  }
  return -1;
}

uint64_t ProgressCount() { return g_progress; }

void SetFlightRecorder(FlightRecorder* recorder) { g_recorder = recorder; }
FlightRecorder* GetFlightRecorder() { return g_recorder; }
std::string ExecutionState() {
  std::ostringstream out;
  out << g_engine.iteration << " ";
  if (g_engine.tree != nullptr && g_engine.tree_state != nullptr) {
    g_engine.tree_state(g_engine.tree, out);
  }
  std::string s = out.str();
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

uint64_t ExecutionNumber() { return g_engine.iteration; }

double SearchFraction() {
  if (g_engine.tree == nullptr || g_engine.tree_fraction == nullptr) return -1;
  return g_engine.tree_fraction(g_engine.tree);
}

// ---------------------------------------------------------------------------
// Running a model under Relacy.

EngineOutcome RunEngine(const EngineRequest& req) {
  EngineOutcome out;
  Runtime& rt = Runtime::Get();
  const int threads = rt.ThreadCount();
  if (threads < 1 || threads > kMaxThreads) {
    out.error = "a model needs between 1 and " + std::to_string(kMaxThreads) +
                " engine threads, this one needs " + std::to_string(threads);
    return out;
  }
  g_engine = EngineState{};
  NullBuf null_buf;
  std::ostream null_out(&null_buf);
  rl::test_params params;
  params.output_stream = &null_out;
  params.progress_stream = &null_out;
  params.collect_history = req.collect_history;
  params.execution_depth_limit = req.depth_limit;
  g_engine.count_traces = req.count_traces && (req.initial_state.empty() || req.resume);
  const bool pct = PctBegin(req, &params);
  switch (req.search) {
    case SearchMode::kPct: break;  // PctBegin
    case SearchMode::kExhaustive:
      params.search_type = rl::sched_full;
      // A replay follows its token's path; the reduction only prunes.
      g_engine.por = req.initial_state.empty() || req.resume;
      break;
    case SearchMode::kFull:
      params.search_type = rl::sched_full;
      g_engine.may_preempt = req.may_preempt;
      break;
    case SearchMode::kBounded:
      params.search_type = rl::sched_bound;
      params.context_bound = static_cast<unsigned>(req.bound);
      break;
    case SearchMode::kRandom:
      params.search_type = rl::sched_random;
      params.iteration_count = req.first_iteration + req.executions - 1;
      break;
  }
  g_engine.save_resume = req.save_resume;
  // A replay follows its token and a directed search is not split; a
  // sharded search keeps its tree after a failure, so that the runner can
  // pass over a failing execution another shard owns.
  if (req.shard_count > 0 && (req.initial_state.empty() || req.resume) &&
      req.may_preempt == nullptr && req.search != SearchMode::kRandom && !pct) {
    g_engine.shard_index = req.shard_index;
    g_engine.shard_count = req.shard_count;
    g_engine.save_resume = true;
  }
  if (!req.resume) g_resume = ResumeTree{};
  std::string resume_state;
  if (req.resume && req.search != SearchMode::kRandom && !pct) {
    if (!g_resume.valid || g_resume.done) {
      out.error = "internal: no search to resume";
      return out;
    }
    g_engine.resuming = true;
    resume_state = std::to_string(req.first_iteration) + " ";
    params.initial_state = resume_state.c_str();
  } else {
    params.initial_state = req.initial_state.c_str();
  }
  {
    // Relacy starts at the initial state's iteration, or at 1.
    std::istringstream first(params.initial_state);
    uint64_t it = 0;
    g_engine.next_iteration = (first >> it) ? it : 1;
  }
  std::string state;
  rl::test_result_e res;
  {
    CrashGuard crash_guard;
    res = RunThreads(threads, params, &state);
  }
  out.engine_verdict = FromRelacy(res);
  out.stop_iteration = params.stop_iteration;
  if (g_engine.shard_count > 0 && res != rl::test_result_success) {
    out.foreign = g_engine.failed_foreign;
    out.subtree = g_engine.failed_subtree;
  }
  if (g_engine.save_resume && res != rl::test_result_success) {
    if (req.search == SearchMode::kRandom || pct) {
      out.search_done = params.stop_iteration >= params.iteration_count;
    } else {
      out.search_done = !g_resume.valid || g_resume.done;
    }
  }
  out.state = state;
  out.pct_steps = g_pct.max_steps;
  if (g_engine.replaying && !g_engine.diverged && out.engine_verdict != Verdict::kClean &&
      g_engine.depth != g_engine.replay_nodes) {
    g_engine.diverged = true;
    g_engine.divergence = "the token holds " + std::to_string(g_engine.replay_nodes) +
                          " decisions, the execution failed after " +
                          std::to_string(g_engine.depth);
  }
  out.diverged = EngineDiverged(&out.divergence);
  return out;
}

// ---------------------------------------------------------------------------
// The plain-Relacy yardstick (engine.h, RunPlainRelacyPipe): the pipe of
// por/pipe_two_writers_two_items written directly on Relacy's own mutex,
// condition variables and var<int>, searched by Relacy's unchanged
// context-bound tree scheduler. None of kmc's runtime runs in it, so the cost
// benchmark can put the cost of one kmc execution next to one of the engine
// kmc is built on, in the same process and with the same fibers.

namespace {

uint64_t g_plain_executions = 0;
bool g_plain_ok = true;

struct PlainPipe : rl::test_suite<PlainPipe, 3> {
  rl::mutex lock;
  rl::condition_variable not_full;
  rl::condition_variable not_empty;
  rl::var<int> slot[3];
  rl::var<int> head;
  rl::var<int> count;
  int got[4] = {0, 0, 0, 0};

  void before() {
    for (rl::var<int>& s : slot) s(RL_INFO) = 0;
    head(RL_INFO) = 0;
    count(RL_INFO) = 0;
  }
  void Put(int item) {
    lock.lock(RL_INFO);
    while (count(RL_INFO) == 3) not_full.wait(lock, RL_INFO);
    const int at = (head(RL_INFO) + count(RL_INFO)) % 3;
    slot[at](RL_INFO) = item;
    count(RL_INFO) = count(RL_INFO) + 1;
    lock.unlock(RL_INFO);
    not_empty.notify_all(RL_INFO);
  }
  int Get() {
    lock.lock(RL_INFO);
    while (count(RL_INFO) == 0) not_empty.wait(lock, RL_INFO);
    const int at = head(RL_INFO);
    const int item = slot[at](RL_INFO);
    head(RL_INFO) = (at + 1) % 3;
    count(RL_INFO) = count(RL_INFO) - 1;
    lock.unlock(RL_INFO);
    not_full.notify_all(RL_INFO);
    return item;
  }
  void thread(unsigned index) {
    if (index == 0) {
      Put(1);
      Put(2);
    } else if (index == 1) {
      Put(11);
      Put(12);
    } else {
      for (int& g : got) g = Get();
    }
  }
  void after() {
    ++g_plain_executions;
    int last0 = 0, last1 = 0, sum = 0;
    for (int g : got) {
      int& last = g < 10 ? last0 : last1;
      if (g <= last) g_plain_ok = false;
      last = g;
      sum += g;
    }
    if (sum != 1 + 2 + 11 + 12) g_plain_ok = false;
  }
};

}  // namespace

PlainRelacyRun RunPlainRelacyPipe(int context_bound) {
  g_plain_executions = 0;
  g_plain_ok = true;
  rl::test_params params;
  params.search_type = rl::sched_bound;
  params.context_bound = static_cast<unsigned>(context_bound);
  NullBuf null_buf;
  std::ostream null_out(&null_buf);
  params.output_stream = &null_out;
  params.progress_stream = &null_out;
  rl::context_bound_scheduler<3>::shared_context_t sctx;
  rl::istringstream in("");
  rl::ostringstream state;
  rl::test_result_e res;
  {
    g_plain_relacy = true;
    rl::context_impl<PlainPipe, rl::context_bound_scheduler<3>> c(params, sctx);
    res = c.simulate(state, in, false);
  }
  g_plain_relacy = false;
  PlainRelacyRun run;
  run.executions = g_plain_executions;
  run.ok = res == rl::test_result_success && g_plain_ok;
  return run;
}

}  // namespace kmc::internal
