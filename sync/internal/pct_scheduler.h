// kmc: the PCT scheduler (probabilistic concurrency testing, Burckhardt,
// Kothari, Musuvathi and Nagarakatte, ASPLOS 2010) for --search=pct.
//
// Not a standalone header: sync/internal/relacy_shim.cc includes it inside
// its anonymous namespace, after <relacy/relacy.hpp> and the shim's engine
// state (g_recorder), next to the tree scheduler. Nothing else may include
// it (Relacy stays behind the shim).
//
// One execution, for bugs of depth d among n engine threads:
//   * every thread gets a distinct random priority in d .. d+n-1;
//   * d-1 priority change points c_1 .. c_{d-1} are drawn, distinct and
//     uniformly, among the scheduling choices 1 .. k;
//   * at every scheduling choice the runnable thread with the highest
//     priority runs; when the execution reaches choice c_i, the thread that
//     was running drops to priority d-i, below every initial priority.
// A scheduling choice is a scheduling point with at least two runnable
// threads (a thread whose CPU another context holds is not runnable, as in
// the tree search). Points with one runnable thread are not counted: a
// change point there would lower the same thread as one at the next choice,
// since that thread runs alone in between. So PCT's guarantee holds with k
// the number of choices: a bug of depth d is hit with probability at least
// 1 / (n * k^(d-1)) per execution.
//
// k is measured, not given: an execution draws its change points among the
// most choices any earlier execution of the run made (the first execution of
// a run has none to go by and runs on its priorities alone). The execution's
// k is part of its replay state ("<iteration> <k>"), so a replay draws the
// same priorities and change points; priorities, change points and the
// explored choices of the model (Choose, a load's store, timeouts) come from
// a generator seeded with the iteration number, as in Relacy's random
// scheduler. A thread parked with a timeout is woken by its timeout at a
// random scheduling point, as the random scheduler does.

#ifndef KMC_SYNC_INTERNAL_PCT_SCHEDULER_H_
#define KMC_SYNC_INTERNAL_PCT_SCHEDULER_H_

// The PCT search of the running RunEngine (set up by PctBegin).
struct PctRun {
  bool on = false;
  int depth = kDefaultPctDepth;
  uint64_t next_steps = 0;  // k of the next execution: the most choices so far
  uint64_t max_steps = 0;   // the most choices of an execution of this run
};
PctRun g_pct;

// A small deterministic generator (splitmix64), seeded per execution.
class PctRandom {
 public:
  void Seed(uint64_t iteration, int depth) {
    state_ = iteration * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(depth);
  }
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, limit), limit > 0.
  uint64_t Below(uint64_t limit) { return Next() % limit; }

 private:
  uint64_t state_ = 0;
};

template <rl::thread_id_t N>
class PctScheduler : public rl::scheduler<PctScheduler<N>, rl::scheduler_thread_info, N> {
 public:
  using base_t = rl::scheduler<PctScheduler<N>, rl::scheduler_thread_info, N>;
  using thread_info_t = typename base_t::thread_info_t;
  using shared_context_t = typename base_t::shared_context_t;
  struct task_t {};

  PctScheduler(rl::test_params& params, shared_context_t& ctx,
               rl::thread_id_t dynamic_thread_count)
      : base_t(params, ctx, dynamic_thread_count) {}

  rl::thread_id_t iteration_begin_impl() {
    const int d = g_pct.depth;
    rand_.Seed(this->iter_, d);
    steps_ = g_pct.next_steps;
    choices_ = 0;
    // Distinct initial priorities d .. d+n-1 in random order.
    for (rl::thread_id_t i = 0; i != N; ++i) priority_[i] = d + static_cast<int>(i);
    for (rl::thread_id_t i = N; i > 1; --i) {
      const rl::thread_id_t j = static_cast<rl::thread_id_t>(rand_.Below(i));
      std::swap(priority_[i - 1], priority_[j]);
    }
    // d-1 distinct change points among choices 1 .. k (fewer when k < d-1).
    changes_ = 0;
    for (int i = 0; i + 1 < d && static_cast<uint64_t>(changes_) < steps_; ++i) {
      uint64_t c = 0;
      do {
        c = 1 + rand_.Below(steps_);
      } while (IsChangePoint(c) >= 0);
      change_at_[changes_++] = c;
    }
    if (FlightRecorder* fr = g_recorder) {
      fr->depth = 0;
      fr->pct_steps = steps_;
    }
    rl::unpark_reason reason;
    return schedule_impl(reason, 0);
  }

  bool iteration_end_impl() {
    g_pct.next_steps = std::max(g_pct.next_steps, choices_);
    g_pct.max_steps = std::max(g_pct.max_steps, choices_);
    return this->iter_ == this->params_.iteration_count;
  }

  rl::thread_id_t schedule_impl(rl::unpark_reason& reason, unsigned /*yield*/) {
    const rl::thread_id_t running = this->running_threads_count;
    // A thread parked with a timeout times out at a random point (always
    // when nothing else can run), as in Relacy's random scheduler.
    if (const rl::thread_id_t timed = this->timed_thread_count_; timed != 0) {
      const uint64_t count = static_cast<uint64_t>(timed);
      const uint64_t pick = rand_.Below(running != 0 ? count * 4 : count);
      if (pick < count) {
        thread_info_t* t = this->timed_threads_[pick];
        this->unpark_thread(t->index_);
        reason = rl::unpark_reason_timeout;
        return t->index_;
      }
    }
    RL_VERIFY(running != 0);
    reason = rl::unpark_reason_normal;
    // The runnable threads: those whose CPU is free (the running thread
    // always counts), or all of them when no CPU is free.
    const Runtime& rt = Runtime::Get();
    const int self = this->thread_ != nullptr ? static_cast<int>(this->thread_->index_) : -1;
    rl::thread_id_t eligible[N];
    rl::thread_id_t n = 0;
    for (rl::thread_id_t i = 0; i != running; ++i) {
      const rl::thread_id_t th = this->running_threads[i];
      if (static_cast<int>(th) == self || !rt.CpuBlocked(static_cast<int>(th))) eligible[n++] = th;
    }
    if (n == 0) {
      for (rl::thread_id_t i = 0; i != running; ++i) eligible[i] = this->running_threads[i];
      n = running;
    }
    if (n >= 2) {
      choices_ += 1;
      const int change = IsChangePoint(choices_);
      if (change >= 0 && self >= 0) priority_[self] = g_pct.depth - 1 - change;
    }
    rl::thread_id_t best = eligible[0];
    for (rl::thread_id_t i = 1; i != n; ++i) {
      if (priority_[eligible[i]] > priority_[best]) best = eligible[i];
    }
    return best;
  }

  // The model's explored choices (Choose, the store a load reads): random.
  unsigned rand_impl(unsigned limit, rl::sched_type /*t*/) {
    return static_cast<unsigned>(rand_.Below(limit));
  }

  rl::iteration_t iteration_count_impl() { return this->params_.iteration_count; }

  // The replay state after "<iteration> ": the execution's k.
  void get_state_impl(std::ostream& out) { out << steps_; }
  void set_state_impl(std::istream& in) {
    uint64_t k = 0;
    if (in >> k) g_pct.next_steps = k;
  }

  void on_thread_block(rl::thread_id_t /*th*/, bool /*yield*/) {}

 private:
  // The index of the change point at choice c, or -1.
  int IsChangePoint(uint64_t c) const {
    for (int i = 0; i < changes_; ++i) {
      if (change_at_[i] == c) return i;
    }
    return -1;
  }

  PctRandom rand_;
  uint64_t steps_ = 0;    // k of this execution
  uint64_t choices_ = 0;  // scheduling choices so far
  int priority_[N] = {};
  uint64_t change_at_[64] = {};
  int changes_ = 0;
};

// Sets up g_pct for a request; true when it asks for a PCT search.
bool PctBegin(const EngineRequest& req, rl::test_params* params) {
  g_pct = PctRun{};
  if (req.search != SearchMode::kPct) return false;
  g_pct.on = true;
  g_pct.depth = std::clamp(req.bound, 1, 64);  // the bug depth
  params->search_type = rl::sched_random;
  params->iteration_count = req.first_iteration + req.executions - 1;
  return true;
}

#endif  // KMC_SYNC_INTERNAL_PCT_SCHEDULER_H_
