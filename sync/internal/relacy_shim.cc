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

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "sync/internal/engine.h"
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
  bool diverged = false;          // replay token did not fit the execution
  std::string divergence;
  bool replaying = false;         // following a recorded decision path
  size_t replay_nodes = 0;        // decisions the path holds
  size_t depth = 0;               // decisions the current execution took
  // Completes an atomic's initialization record for the running thread count.
  void (*seed_init)(rl::atomic_data*, unsigned) = nullptr;
  // Progress: the search tree of the running tree scheduler.
  const void* tree = nullptr;
  double (*tree_fraction)(const void*) = nullptr;
};
EngineState g_engine;

// A tree-search scheduler (Relacy's full search, or its context-bound
// search) whose replay state is validated instead of trusted: a replay
// token that does not fit the execution sets g_engine.diverged rather than
// indexing out of bounds.
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
  }
  ~KmcTreeScheduler() {
    g_engine.tree = nullptr;
    g_engine.tree_fraction = nullptr;
  }

  rl::thread_id_t iteration_begin_impl() {
    switches_remain_ = this->params_.context_bound;
    // Relacy's own version calls its rand_impl directly; ours validates.
    this->stree_depth_ = 0;
    const unsigned index = Decide(this->running_threads_count, rl::sched_type_sched);
    return this->running_threads[index];
  }

  // Every choice of Relacy's schedulers comes here. A choice of the next
  // thread (an index into running_threads) leaves out threads that would
  // only park because another context holds their CPU (Runtime::CpuBlocked);
  // the current thread always stays a candidate, so a context-bounded search
  // spends its preemptions exactly as before.
  unsigned rand_impl(unsigned limit, rl::sched_type t) {
    if (t != rl::sched_type_sched || limit != static_cast<unsigned>(this->running_threads_count) ||
        limit < 2) {
      return Decide(limit, t);
    }
    const Runtime& rt = Runtime::Get();
    const rl::thread_id_t self = this->thread_ != nullptr ? this->thread_->index_ : -1;
    unsigned eligible[N];
    unsigned n = 0;
    for (unsigned i = 0; i < limit; ++i) {
      const rl::thread_id_t th = this->running_threads[i];
      if (th == self || !rt.CpuBlocked(static_cast<int>(th))) eligible[n++] = i;
    }
    if (n == limit || n == 0) return Decide(limit, t);
    return eligible[Decide(n, t)];
  }

  void set_state_impl(std::istream& in) {
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

  // One explored decision among `limit` alternatives: the search tree's
  // node at this depth, validated against a replayed path.
  unsigned Decide(unsigned limit, rl::sched_type t) {
    unsigned result = 0;
    const size_t size = this->stree_.size();
    if (this->stree_depth_ == size) {
      if (g_engine.replaying && !g_engine.diverged) {
        g_engine.diverged = true;
        g_engine.divergence = "the execution needs more than the token's " +
                              std::to_string(g_engine.replay_nodes) + " decisions";
      }
      typename base_t::stree_node n = {limit, 0, t, 0};
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
    this->stree_depth_ += 1;
    g_engine.depth = this->stree_depth_;
    return result;
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
  unsigned switches_remain_ = 0;
};

template <rl::thread_id_t N>
struct Suite : rl::test_suite<Suite<N>, N> {
  void before() { Runtime::Get().BeginExecution(); }
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
    res = c.simulate(oss, iss, false);
    gate -= 1;
  }
  *state = std::string(oss.str().c_str());
  return res;
}

// Relacy's atomic_init() leaves first_seen_order_ of the initialization
// record unset, and its slab allocator reuses memory across executions, so
// whether a relaxed load may read the initial value would depend on leftover
// data (a nondeterministic replay). Mark it "not seen yet", as atomic_store()
// does for every other record.
template <rl::thread_id_t N>
void SeedInitRecord(rl::atomic_data* data, unsigned index) {
  auto& impl = *static_cast<rl::atomic_data_impl<N>*>(data);
  for (rl::thread_id_t i = 0; i != N; ++i) {
    impl.history_[index].first_seen_order_[i] = static_cast<rl::timestamp_t>(-1);
  }
}

template <rl::thread_id_t N>
rl::test_result_e RunN(rl::test_params& params, std::string* state) {
  g_engine.seed_init = &SeedInitRecord<N>;
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

void SchedulePoint(const void* /*object*/, const char* /*op*/, Access /*access*/,
                   const Loc& /*loc*/) {
  // The object and access kind are part of the interface so that a
  // partial-order scheduler can tell independent steps apart; Relacy's
  // schedulers treat every point alike.
  rl::ctx().sched();
}

AtomicSection::AtomicSection() { rl::ctx().disable_preemption(); }
AtomicSection::~AtomicSection() { rl::ctx().enable_preemption(); }

unsigned Choose(unsigned n) {
  if (n <= 1) return 0;
  return rl::ctx().rand(n, rl::sched_type_user);
}

WakeReason Park(bool timed, const Loc& loc) {
  rl::context& c = rl::ctx();
  const int th = c.current_thread();
  g_engine.parked[th] = true;
  rl::unpark_reason r = c.park_current_thread(timed, false, false, Info(loc));
  g_engine.parked[th] = false;
  return r == rl::unpark_reason_normal ? WakeReason::kWoken : WakeReason::kTimeout;
}

void Unpark(int thread, const Loc& loc) {
  if (thread < 0 || thread >= kMaxThreads || !g_engine.parked[thread]) return;
  g_engine.parked[thread] = false;
  rl::ctx().unpark_thread(thread, false, Info(loc));
}

int CurrentThread() {
  if (!rl::is_ctx() || rl::ctx().threadx_ == nullptr) return -1;
  return rl::ctx().current_thread();
}

bool InSimulation() { return rl::is_ctx(); }

bool CollectingHistory() { return rl::is_ctx() && rl::ctx().collecting_history(); }

namespace {
// Relacy keeps an atomic's initial record private; explicit instantiation
// may name private members, which lets the shim seed it.
using InitAtomic = rl::generic_atomic<int64_t, true>;
template <class Tag, typename Tag::type M>
struct Rob {
  friend typename Tag::type Get(Tag) { return M; }
};
struct HistoryTag {
  using type = int64_t (InitAtomic::*)[rl::atomic_history_size];
  friend type Get(HistoryTag);
};
struct LastIndexTag {
  using type = unsigned InitAtomic::*;
  friend type Get(LastIndexTag);
};
struct ValueTag {
  using type = int64_t InitAtomic::*;
  friend type Get(ValueTag);
};
struct ImplTag {
  using type = rl::atomic_data* InitAtomic::*;
  friend type Get(ImplTag);
};
template struct Rob<ImplTag, &InitAtomic::impl_>;
template struct Rob<HistoryTag, &InitAtomic::history_>;
template struct Rob<LastIndexTag, &InitAtomic::last_index_>;
template struct Rob<ValueTag, &InitAtomic::value_>;
}  // namespace

class AtomicCell {
 public:
  // Strongly initialized: the initial value is an initialization record that
  // every task may read and none can read past, as if it had been stored
  // before the execution began (cells are created lazily, on first use).
  rl::generic_atomic<int64_t, true> a;
};

AtomicCell* NewAtomicCell(int64_t initial) {
  void* mem = std::malloc(sizeof(AtomicCell));
  auto* cell = ::new (mem) AtomicCell();
  (cell->a.*Get(HistoryTag{}))[cell->a.*Get(LastIndexTag{})] = initial;
  cell->a.*Get(ValueTag{}) = initial;
  if (g_engine.seed_init != nullptr) {
    g_engine.seed_init(cell->a.*Get(ImplTag{}), cell->a.*Get(LastIndexTag{}));
  }
  return cell;
}

void DeleteAtomicCell(AtomicCell* cell, bool engine_alive) {
  if (engine_alive) cell->~AtomicCell();
  std::free(cell);
}

int64_t AtomicLoad(AtomicCell* cell, MemOrder mo, const Loc& loc) {
  AtomicSection section;
  return cell->a.load(Order(mo), Info(loc));
}

void AtomicStore(AtomicCell* cell, int64_t value, MemOrder mo, const Loc& loc) {
  AtomicSection section;
  cell->a.store(value, Order(mo), Info(loc));
}

int64_t AtomicRmw(AtomicCell* cell, RmwOp op, int64_t operand, MemOrder mo,
                  const Loc& loc) {
  const rl::debug_info info = Info(loc);
  AtomicSection section;
  switch (op) {
    case RmwOp::kAdd: return cell->a.fetch_add(operand, Order(mo), info);
    case RmwOp::kXchg: return cell->a.exchange(operand, Order(mo), info);
    case RmwOp::kAnd: return cell->a.fetch_and(operand, Order(mo), info);
    case RmwOp::kOr: return cell->a.fetch_or(operand, Order(mo), info);
    case RmwOp::kXor: return cell->a.fetch_xor(operand, Order(mo), info);
  }
  return 0;
}

bool AtomicCas(AtomicCell* cell, int64_t& expected, int64_t desired,
               MemOrder success, MemOrder failure, const Loc& loc) {
  AtomicSection section;
  return cell->a.compare_exchange_strong(expected, desired, Order(success),
                                         Info(loc), Order(failure), Info(loc));
}

void Fence(MemOrder mo, const Loc& loc) {
  if (mo == MemOrder::kRelaxed) return;
  AtomicSection section;
  rl::atomic_thread_fence(Order(mo), Info(loc));
}

class VarCell {
 public:
  rl::var_data* data;
};

VarCell* NewVarCell() {
  auto* cell = static_cast<VarCell*>(std::malloc(sizeof(VarCell)));
  // A fresh cell has no recorded accesses: its current value counts as
  // established before every task (fixture setup, kzalloc), so only later
  // unordered accesses race.
  cell->data = rl::ctx().var_ctor();
  return cell;
}

void DeleteVarCell(VarCell* cell, bool engine_alive) {
  if (engine_alive) rl::ctx().var_dtor(cell->data);
  std::free(cell);
}

bool VarLoad(VarCell* cell) { return cell->data->load(*rl::ctx().threadx_); }
bool VarStore(VarCell* cell) { return cell->data->store(*rl::ctx().threadx_); }

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
  switch (req.search) {
    case SearchMode::kExhaustive:
      params.search_type = rl::sched_full;
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
  params.initial_state = req.initial_state.c_str();
  std::string state;
  rl::test_result_e res = RunThreads(threads, params, &state);
  out.engine_verdict = FromRelacy(res);
  out.stop_iteration = params.stop_iteration;
  out.state = state;
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

}  // namespace kmc::internal
