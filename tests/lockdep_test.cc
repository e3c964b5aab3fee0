// Lockdep: the models of models/lockdep_models.cc with the kernel's headlines
// and splat layout, predictions in every search mode, replay of predictions
// (also across executions), and deadlocks reported with lockdep's splat.

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "sync/runner.h"
#include "sync/token.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using ::kmc::testing::Check;
using ::kmc::testing::Contains;
using ::kmc::testing::ExpectCleanAndComplete;
using ::kmc::testing::ExpectFailure;
using ::kmc::testing::ExpectMatch;

struct Splat {
  const char* model;
  const char* headline;
  const char* body;  // a line the splat must contain
};

class LockdepSplatTest : public ::testing::TestWithParam<Splat> {};

TEST_P(LockdepSplatTest, HeadlineBodyAndReplay) {
  const Splat& s = GetParam();
  Result r = ExpectFailure(s.model);
  // The headline, or its fixed start when it ends with a source line.
  EXPECT_EQ(r.message.rfind(s.headline, 0), 0u) << r.message;
  const std::string headline = s.headline;
  if (headline.back() != ':') {
    EXPECT_EQ(r.message, headline);
  }
  EXPECT_TRUE(Contains(r.report, s.body)) << r.report;
}

constexpr const char* kCircular = "WARNING: possible circular locking dependency detected";
constexpr const char* kRecursive = "WARNING: possible recursive locking detected";
constexpr const char* kInconsistent = "WARNING: inconsistent lock state";
constexpr const char* kCycleBody =
    "which lock already depends on the new lock.\n\n\n"
    "the existing dependency chain (in reverse order) is:\n";
constexpr const char* kScenario2 =
    " Possible unsafe locking scenario:\n\n"
    "       CPU0                    CPU1\n"
    "       ----                    ----\n"
    "  lock(B);\n"
    "                               lock(A);\n"
    "                               lock(B);\n"
    "  lock(A);\n\n"
    " *** DEADLOCK ***\n";

constexpr const char* kScenarioBA =
    "  lock(&b);\n"
    "                               lock(&a);\n"
    "                               lock(&b);\n"
    "  lock(&a);\n";

INSTANTIATE_TEST_SUITE_P(
    Models, LockdepSplatTest,
    ::testing::Values(
        Splat{"lockdep/ABBA_spin", kCircular, kScenario2},
        Splat{"lockdep/ABBA_wlock", kCircular, kScenario2},
        Splat{"lockdep/ABBA_rlock", kCircular, kCycleBody},
        Splat{"lockdep/ABBA_mutex", kCircular, "-> #1 (B){+.+.}-{4:4}:"},
        Splat{"lockdep/ABBA_wsem", kCircular, kScenario2},
        Splat{"lockdep/ABBA_rsem", kCircular, kCycleBody},
        Splat{"lockdep/ABBA_sem", kCircular, kScenario2},
        Splat{"lockdep/ABBA_mutex_rwsem", kCircular, "(&b){++++}-{4:4}"},
        Splat{"lockdep/ABBCCA_spin", kCircular, "Chain exists of:\n  A --> B --> C\n"},
        Splat{"lockdep/ABBCCA_mutex", kCircular, "-> #2 (C)"},
        Splat{"lockdep/ABBCCA_wsem", kCircular, "Chain exists of:\n  A --> B --> C\n"},
        Splat{"lockdep/ABBCCDDA_spin", kCircular, "Chain exists of:\n  A --> C --> D\n"},
        Splat{"lockdep/ABBCCDDA_mutex", kCircular, "-> #3 (D)"},
        Splat{"lockdep/ABBA_two_tasks_serialized", kCircular, kScenario2},
        Splat{"lockdep/ABBA_across_executions", kCircular, kCycleBody},
        Splat{"lockdep/AA_spin_same_class", kRecursive,
              "       CPU0\n       ----\n  lock(&x);\n  lock(&x);\n\n *** DEADLOCK ***\n\n"
              " May be due to missing lock nesting notation\n"},
        Splat{"lockdep/AA_rlock_process", kRecursive, "but task is already holding lock:"},
        Splat{"lockdep/AA_mutex_same_lock", kRecursive, "lock(&parent);\n  lock(&parent);"},
        Splat{"lockdep/nest_lock_not_taken", "WARNING: Nested lock was not taken",
              "nest lock"},
        Splat{"irq/handler_on_other_cpu_predicted", kInconsistent,
              "inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage.\n"
              "irq/gpio/301 [HC1[1]:SC0[0]:HE0:SE0] takes:"},
        Splat{"lockdep/irq_in_then_on", kInconsistent,
              "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage."},
        Splat{"lockdep/softirq_on_vs_in", kInconsistent,
              "inconsistent {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W} usage."},
        Splat{"lockdep/wlock_vs_irq_reader", kInconsistent, "{HARDIRQ-ON-W} -> {IN-HARDIRQ-R}"},
        Splat{"lockdep/hardirq_safe_unsafe",
              "WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected",
              "  lock(&b);\n"
              "                               local_irq_disable();\n"
              "                               lock(&a);\n"
              "                               lock(&b);\n"
              "  <Interrupt>\n"
              "    lock(&a);\n"},
        Splat{"lockdep/softirq_safe_unsafe",
              "WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected",
              "but this new dependency connects a SOFTIRQ-irq-safe lock:"},
        Splat{"lockdep/irq_inversion_forwards",
              "WARNING: possible irq lock inversion dependency detected",
              "but this lock took another, HARDIRQ-unsafe lock in the past:"},
        Splat{"lockdep/irq_inversion_backwards",
              "WARNING: possible irq lock inversion dependency detected",
              "but this lock was taken by another, HARDIRQ-safe lock in the past:"},
        Splat{"lockdep/held_lock_kfree", "WARNING: held lock freed!",
              "with a lock still held there!"},
        Splat{"lockdep/held_lock_reinit", "WARNING: held lock freed!",
              "re-initializes a lock that is held"},
        Splat{"lockdep/ABBA_raw_spin", kCircular, "(B){+.+.}-{2:2}"},
        Splat{"lockdep/irq_enable_while_held", kInconsistent, "-> {IN-HARDIRQ-W} usage."},
        Splat{"lockdep/downgrade_write_ABBA", kCircular, "(&sem){++++}-{4:4}"},
        Splat{"lockdep/spin_inside_raw", "[ BUG: Invalid wait context ]",
              "t/101 is trying to lock:\n (&spin){....}-{3:3}, at: "},
        Splat{"lockdep/local_lock_inside_raw", "[ BUG: Invalid wait context ]",
              "other info that might help us debug this:\ncontext-{2:2}\n"},
        Splat{"lockdep/local_lock_sleep",
              "BUG: sleeping function called from invalid context at models/lockdep_models.cc:",
              "(local_lock_t)"},
        Splat{"lockdep/preempt_disable_sleep",
              "BUG: sleeping function called from invalid context at models/lockdep_models.cc:",
              "preempt_count: 1"},
        Splat{"lockdep/preempt_enable_unbalanced", "DEBUG_LOCKS_WARN_ON(val > preempt_count())",
              "without a matching preempt_disable()"},
        Splat{"lockdep/rcu_sched_sleep",
              "BUG: sleeping function called from invalid context at models/lockdep_models.cc:",
              "rcu_read_lock"},
        Splat{"lockdep/mutex_destroy_locked", "DEBUG_LOCKS_WARN_ON(mutex_is_locked(lock))",
              "while it is locked"},
        Splat{"lockdep/mutex_lock_after_destroy", "DEBUG_LOCKS_WARN_ON(lock->magic != lock)",
              "after mutex_destroy()"},
        Splat{"lockdep/rwsem_held_returning_to_user",
              "WARNING: lock held when returning to user space!",
              "reader/101 is leaving the kernel with locks still held!\n"
              "1 lock held by reader/101:\n #0: &sem (struct rw_semaphore)"},
        Splat{"lockdep/qrwlock_reader_behind_writer",
              "kmc: deadlock: every remaining task is asleep and nothing can wake it",
              "INFO: task reader:101 blocked for more than 120 seconds.\n"}),
    [](const ::testing::TestParamInfo<Splat>& info) {
      std::string n = info.param.model;
      for (char& c : n) {
        if (c == '/') c = '_';
      }
      return n;
    });

class LockdepCleanTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LockdepCleanTest, CleanAndComplete) { ExpectCleanAndComplete(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Models, LockdepCleanTest,
                         ::testing::Values("lockdep/AB_AB_clean", "lockdep/ABBA_trylock_clean",
                                           "lockdep/AA_spin_nested",
                                           "lockdep/AA_mutex_nest_lock",
                                           "lockdep/AA_rlock_hardirq", "lockdep/set_class_clean",
                                           "lockdep/softirq_bh_clean",
                                           "lockdep/irqsave_everywhere_clean",
                                           "lockdep/rlock_irq_readers_clean",
                                           "lockdep/raw_inside_spin_clean",
                                           "lockdep/local_lock_per_cpu_clean",
                                           "lockdep/preempt_disable_clean",
                                           "lockdep/rcu_sched_clean",
                                           "lockdep/mutex_destroy_clean",
                                           "lockdep/blocking_op_after_finish_wait_clean",
                                           "lockdep/qrwlock_irq_reader_passes_writer",
                                           "lockdep/irq_enable_after_unlock_clean",
                                           "lockdep/downgrade_write_clean"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == '/') c = '_';
                           }
                           return n;
                         });

// A prediction names, in its replay token, every execution whose lock history
// it needs: here the one with A -> B (allocation succeeded) and the one with
// B -> A (allocation failed).
TEST(LockdepTest, PredictionAcrossExecutionsReplaysBoth) {
  Result r = ExpectMatch("lockdep/ABBA_across_executions");
  EXPECT_EQ(r.verdict, Verdict::kPossibleDeadlock);
  EXPECT_TRUE(Contains(r.replay, "+")) << r.replay;
  EXPECT_TRUE(Contains(r.report, "execution 1)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "execution 2)")) << r.report;
}

// A replay token of one execution alone does not carry the other half.
TEST(LockdepTest, OneHalfAloneReplaysClean) {
  Result r = ExpectMatch("lockdep/ABBA_across_executions");
  const std::string last = r.replay.substr(r.replay.find('+') + 1);
  std::string error;
  std::optional<Result> again = ReplayModel(*FindModel(r.model), last, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->verdict, Verdict::kNondeterministic) << again->report;
}

// Predictions do not depend on the search mode: a bounded or random search
// that never reaches a hang still reports the cycle.
TEST(LockdepTest, PredictsInEverySearchMode) {
  for (const char* model : {"lockdep/ABBA_spin", "lockdep/ABBCCDDA_mutex",
                            "lockdep/ABBA_two_tasks_serialized", "lockdep/hardirq_safe_unsafe"}) {
    Result b = ExpectMatch(model, testing::Bounded(0));
    EXPECT_EQ(b.verdict, Verdict::kPossibleDeadlock) << model;
    RunOptions random;
    random.search = SearchMode::kRandom;
    random.executions = 20;
    Result x = ExpectMatch(model, random);
    EXPECT_EQ(x.verdict, Verdict::kPossibleDeadlock) << model;
    std::string error;
    std::optional<Result> again = ReplayModel(*FindModel(model), x.replay, &error);
    ASSERT_TRUE(again.has_value()) << error;
    EXPECT_EQ(again->report, x.report);
  }
}

// Every model that expects a prediction gets it in every search mode, from
// passing executions only (full: the unreduced tree; bounded(0): no
// preemption at all; random: 20 executions).
TEST(LockdepTest, EveryPredictionInEverySearchMode) {
  int models = 0;
  for (const Model* m : AllModels()) {
    if (m->expected().ToString() != "possible deadlock") continue;
    ++models;
    RunOptions full;
    full.search = SearchMode::kFull;
    RunOptions random;
    random.search = SearchMode::kRandom;
    random.executions = 20;
    for (const RunOptions& o : {RunOptions{}, full, testing::Bounded(0), random}) {
      Result r = Check(m->name(), o);
      EXPECT_EQ(r.verdict, Verdict::kPossibleDeadlock)
          << m->name() << " " << SearchModeName(r.search) << "\n"
          << r.report;
    }
  }
  EXPECT_GE(models, 25);
}

// might_sleep() while the task state is not TASK_RUNNING names where it was set.
TEST(LockdepTest, BlockingOpWhenNotRunning) {
  Result r = ExpectFailure("lockdep/blocking_op_not_running");
  // Set by prepare_to_wait(), as the kernel names it, not by the model's
  // macro-made body.
  EXPECT_EQ(r.message.rfind("WARNING: do not call blocking ops when !TASK_RUNNING; state=1 set at "
                            "prepare_to_wait models/lockdep_models.cc:",
                            0),
            0u)
      << r.message;
  EXPECT_TRUE(Contains(r.report, "(set by prepare_to_wait() at models/lockdep_models.cc:"))
      << r.report;
}

// A search that reaches the hang reports a deadlock, with lockdep's splat.
TEST(LockdepTest, RealDeadlockCarriesTheSplat) {
  Result r = ExpectFailure("lockdep/ABBA_two_tasks");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_TRUE(Contains(r.report, "lockdep predicted this deadlock before it happened:\n" +
                                     std::string(kCircular)))
      << r.report;
  EXPECT_TRUE(Contains(r.report, kCycleBody)) << r.report;
}

// Lockdep's directed search turns a prediction into the deadlock it
// predicts: a search that never preempts passes, lockdep predicts the
// A -> B -> C -> A cycle, and the directed search reaches the hang. The
// verdict is `deadlock`, with a token of its own (mode d) that replays the
// report byte for byte, and the splat stays in the report.
TEST(LockdepDirectedTest, ReachesTheHangOfAThreeLockCycle) {
  Result r = ExpectFailure("lockdep/ABBCCA_three_tasks_directed");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_EQ(r.search, SearchMode::kBounded);
  EXPECT_TRUE(Contains(r.replay, "kmc1.d.")) << r.replay;
  EXPECT_FALSE(Contains(r.replay, "+")) << r.replay;
  EXPECT_EQ(r.message, "kmc: deadlock: every remaining task is asleep and nothing can wake it");
  EXPECT_TRUE(Contains(r.report, " of lockdep's directed search (")) << r.report;
  EXPECT_TRUE(Contains(r.report, "lockdep predicted this deadlock before it happened:\n" +
                                     std::string(kCircular)))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "Chain exists of:\n")) << r.report;
  for (const char* task : {"ab:101", "bc:102", "ca:103"}) {
    EXPECT_TRUE(Contains(r.report, "task " + std::string(task) + " blocked forever")) << r.report;
  }
}

// The same two tasks that a full search catches in the act: a search without
// preemptions only predicts, and the directed search finds the hang, in
// every search mode that misses it.
TEST(LockdepDirectedTest, BoundedAndRandomSearchesReachTheHangThroughThePrediction) {
  Result b = Check("lockdep/ABBA_two_tasks", testing::Bounded(0));
  EXPECT_EQ(b.verdict, Verdict::kDeadlock) << b.report;
  EXPECT_TRUE(Contains(b.report, " of lockdep's directed search (")) << b.report;
  EXPECT_TRUE(Contains(b.report, "lockdep predicted this deadlock before it happened:")) << b.report;
  std::string error;
  std::optional<Result> again = ReplayModel(*FindModel(b.model), b.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->report, b.report);
  // Random executions that happen not to hang (seed 1, one execution).
  RunOptions random;
  random.search = SearchMode::kRandom;
  random.executions = 1;
  Result x = Check("lockdep/ABBA_two_tasks", random);
  EXPECT_EQ(x.verdict, Verdict::kDeadlock) << x.report;
}

// When no schedule of the recorded chains hangs (one task holds both halves;
// two tasks never overlap; the halves come from different executions; the
// interrupt is pinned to another CPU), the verdict stays `possible deadlock`
// and the report says what the directed search tried.
TEST(LockdepDirectedTest, StaysAPredictionWhenNoScheduleHangs) {
  for (const char* model :
       {"lockdep/ABBA_spin", "lockdep/ABBCCDDA_mutex", "lockdep/ABBA_two_tasks_serialized",
        "lockdep/ABBA_across_executions", "irq/handler_on_other_cpu_predicted",
        "lockdep/hardirq_safe_unsafe"}) {
    Result r = ExpectMatch(model);
    EXPECT_EQ(r.verdict, Verdict::kPossibleDeadlock) << model;
    EXPECT_TRUE(Contains(r.report, "directed: lockdep's directed search tried ")) << r.report;
    EXPECT_TRUE(Contains(r.report, "and did not reach the hang: no such schedule hangs\n"))
        << r.report;
  }
  // The serialized tasks: both run, in every order the completion allows.
  Result s = ExpectMatch("lockdep/ABBA_two_tasks_serialized");
  EXPECT_TRUE(Contains(s.report, "directed: lockdep's directed search tried 3 executions"))
      << s.report;
}

// A raw_spinlock_t's operations are named raw_spin_* in traces and held-lock
// lists, as the driver wrote them.
TEST(LockdepTest, RawSpinlockOperationsKeepTheirNames) {
  Result r = ExpectMatch("lockdep/ABBA_raw_spin");
  EXPECT_TRUE(Contains(r.report, " raw_spin_lock(&l) ")) << r.report;
  EXPECT_FALSE(Contains(r.report, " spin_lock(&l) ")) << r.report;
}

// mark_held_locks(): re-enabling interrupts while holding A marks A
// HARDIRQ-ON-W at once; whichever of the task and the handler comes first,
// the usage conflicts.
TEST(LockdepTest, IrqEnableMarksHeldLocks) {
  Result r = ExpectMatch("lockdep/irq_enable_while_held");
  EXPECT_TRUE(Contains(r.report, "inconsistent {")) << r.report;
  EXPECT_TRUE(Contains(r.report, "HARDIRQ-ON-W")) << r.report;
  for (const char* model : {"lockdep/irq_enable_while_held"}) {
    Result b = ExpectMatch(model, testing::Bounded(0));
    EXPECT_EQ(b.verdict, Verdict::kPossibleDeadlock) << b.report;
  }
}

// One graph across the models of a driver: two models, each clean alone
// (A -> B, then B -> A), predict the cycle together. The second one's
// report names the first one's dependency (model and execution), its token
// starts with the first model's execution and replays the same report.
TEST(LockdepScopeTest, TwoCleanModelsOfADriverPredictTheCycleTogether) {
  ExpectCleanAndComplete("lockdep_scope/ab");
  ExpectCleanAndComplete("lockdep_scope/ba");
  RunOptions first;
  first.export_lockdep_graph = true;
  Result ab = Check("lockdep_scope/ab", first);
  EXPECT_EQ(ab.verdict, Verdict::kClean) << ab.report;
  ASSERT_FALSE(ab.lockdep_graph.empty());
  RunOptions second;
  second.lockdep_graph = ab.lockdep_graph;
  second.export_lockdep_graph = true;
  Result ba = Check("lockdep_scope/ba", second);
  EXPECT_EQ(ba.verdict, Verdict::kPossibleDeadlock) << ba.report;
  EXPECT_EQ(ba.message, kCircular);
  EXPECT_TRUE(Contains(ba.report,
                       "(opener/101, model lockdep_scope/ab, execution 1)\n"
                       "       held &a taken at "))
      << ba.report;
  EXPECT_TRUE(Contains(ba.report, kScenarioBA)) << ba.report;
  // The halves are in two models: the directed search cannot join them.
  EXPECT_TRUE(Contains(ba.report, "and did not reach the hang: no such schedule hangs\n"))
      << ba.report;
  // The token: lockdep_scope/ab's execution, then lockdep_scope/ba's.
  const size_t plus = ba.replay.find('+');
  ASSERT_NE(plus, std::string::npos) << ba.replay;
  std::string error;
  EXPECT_TRUE(DecodeToken("lockdep_scope/ab", ba.replay.substr(0, plus), &error).has_value())
      << error;
  EXPECT_TRUE(DecodeToken("lockdep_scope/ba", ba.replay.substr(plus + 1), &error).has_value())
      << error;
  std::optional<Result> again = ReplayModel(*FindModel("lockdep_scope/ba"), ba.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->verdict, Verdict::kPossibleDeadlock);
  EXPECT_EQ(again->report, ba.report);
  // The second model's graph carries both dependencies on.
  EXPECT_NE(ba.lockdep_graph.find("lockdep_scope/ab"), std::string::npos);
  // Without the first model's graph the second one stays clean.
  EXPECT_EQ(Check("lockdep_scope/ba").verdict, Verdict::kClean);
}

// A malformed graph is a clear model error, not a crash.
TEST(LockdepScopeTest, MalformedGraphIsAModelError) {
  RunOptions bad;
  bad.lockdep_graph = "E\t7\t9\tnonsense\n";
  Result r = Check("lockdep_scope/ba", bad);
  EXPECT_EQ(r.verdict, Verdict::kModelError);
  EXPECT_EQ(r.message, "kmc: the lockdep graph handed to model lockdep_scope/ba is malformed");
}

}  // namespace
}  // namespace kmc
