// The search order of kmc check: iterative context bounding (the passes
// with at most 0, 1, 2 preemptions) before the reduced exhaustive search.
// A bug is reported with the fewest preemptions a pass found it with; a
// clean model still ends complete, and its execution count is the sum of
// every pass.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Bounded;
using testing::Check;
using testing::Contains;
using testing::ExpectMatch;
using testing::ExpectReplayReproduces;

RunOptions NoIcb() {
  RunOptions o;
  o.icb_bound = -1;
  return o;
}

// scullpipe/if_not_while needs two preemptions: the passes with 0 and 1
// find nothing, the pass with at most 2 finds it, and the report says so.
TEST(IterativeContextBoundingTest, BugIsReportedWithTheFewestPreemptions) {
  const Result r = ExpectMatch("scullpipe/if_not_while");
  EXPECT_EQ(r.search, SearchMode::kExhaustive);
  EXPECT_EQ(r.preemption_bound, 2);
  EXPECT_EQ(r.preemptions, 2) << r.report;
  EXPECT_EQ(r.replay.rfind("kmc1.i2.", 0), 0u) << r.replay;
  EXPECT_TRUE(Contains(r.report, "\npreemptions: 2\n")) << r.report;
  EXPECT_TRUE(Contains(ResultToJson(r), "\"preemptions\": 2, \"preemption_bound\": 2"))
      << ResultToJson(r);
  // No execution with at most one preemption fails.
  const Result one = Check("scullpipe/if_not_while", Bounded(1));
  EXPECT_EQ(one.verdict, Verdict::kClean) << one.report;
  // The exhaustive search alone reports an interleaving with more
  // preemptions.
  const Result dfs = Check("scullpipe/if_not_while", NoIcb());
  EXPECT_NE(dfs.verdict, Verdict::kClean);
  EXPECT_EQ(dfs.preemption_bound, -1);
  EXPECT_GT(dfs.preemptions, 2) << dfs.report;
  ExpectReplayReproduces("scullpipe/if_not_while");
}

// A bug that needs no preemption at all is found by the first pass.
TEST(IterativeContextBoundingTest, SequentialBugIsFoundByPassZero) {
  const Result r = ExpectMatch("slab/double_free");
  EXPECT_EQ(r.preemption_bound, 0);
  EXPECT_EQ(r.preemptions, 0);
  EXPECT_EQ(r.replay.rfind("kmc1.i0.", 0), 0u) << r.replay;
  EXPECT_TRUE(Contains(r.report, "of the pass with at most 0 preemptions (iterative context "
                                 "bounding)\n"))
      << r.report;
}

// A clean model: every pass runs, the result is complete, and the
// executions are those of the bounded passes plus the exhaustive search.
TEST(IterativeContextBoundingTest, CleanModelCountsEveryPass) {
  const Result r = ExpectMatch("scullpipe/two_writers_one_reader");
  const Result bounded = Check("scullpipe/two_writers_one_reader", Bounded(2));  // passes 0, 1, 2
  const Result dfs = Check("scullpipe/two_writers_one_reader", NoIcb());
  EXPECT_EQ(r.verdict, Verdict::kClean);
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(dfs.complete);
  EXPECT_FALSE(bounded.complete);
  EXPECT_EQ(r.executions, bounded.executions + dfs.executions);
  EXPECT_EQ(r.observations, dfs.observations);
  EXPECT_EQ(r.preemption_bound, -1);
}

// The bounded passes stop at their own budget; the exhaustive search then
// runs as usual and the model still ends complete.
TEST(IterativeContextBoundingTest, PassesStopAtTheirBudget) {
  RunOptions o;
  o.icb_budget = 10;
  const Result r = ExpectMatch("seqlock/reader_writer", o);
  const Result dfs = Check("seqlock/reader_writer", NoIcb());
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.executions, 10 + dfs.executions);
}

// --max_executions bounds the whole search, its bounded passes included.
TEST(IterativeContextBoundingTest, MaxExecutionsCountsEveryPass) {
  RunOptions o;
  o.max_executions = 50;
  const Result r = Check("seqlock/reader_writer", o);
  EXPECT_EQ(r.verdict, Verdict::kClean);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.executions, 50u);
  EXPECT_TRUE(Contains(r.message, "search budget reached")) << r.message;
}

// A lockdep prediction made by an early pass does not hide a real deadlock
// a later pass finds...
TEST(IterativeContextBoundingTest, RealDeadlockWinsOverAnEarlierPrediction) {
  const Result r = ExpectMatch("mutex/ab_ba");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_GE(r.preemption_bound, 1);
  ExpectReplayReproduces("mutex/ab_ba");
}

// ...and is reported, from the pass that made it, when nothing fails.
TEST(IterativeContextBoundingTest, PredictionFromTheFirstPass) {
  const Result r = ExpectMatch("lockdep/ABBA_mutex");
  EXPECT_EQ(r.verdict, Verdict::kPossibleDeadlock) << r.report;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.preemption_bound, 0);
  EXPECT_EQ(r.replay.rfind("kmc1.i0.", 0), 0u) << r.replay;
  ExpectReplayReproduces("lockdep/ABBA_mutex");
}


// --- PCT (--search=pct) ------------------------------------------------------

RunOptions Pct(int depth, uint64_t executions, uint64_t seed = 1) {
  RunOptions o;
  o.search = SearchMode::kPct;
  o.depth = depth;
  o.executions = executions;
  o.seed = seed;
  return o;
}

// PCT at depth 3 finds scullpipe/if_not_while (it needs two preemptions)
// within a fixed budget, deterministically; the report, the token and the
// result name the search and its depth, and it is never a proof.
TEST(PctTest, FindsIfNotWhileDeterministically) {
  const Result r = ExpectMatch("scullpipe/if_not_while", Pct(3, 2000));
  ASSERT_NE(r.verdict, Verdict::kClean) << r.message;
  EXPECT_EQ(r.search, SearchMode::kPct);
  EXPECT_EQ(r.depth, 3);
  EXPECT_FALSE(r.complete);
  EXPECT_LT(r.executions, 2000u);
  EXPECT_EQ(r.replay.rfind("kmc1.p3.", 0), 0u) << r.replay;
  EXPECT_TRUE(Contains(r.report, "of a pct search (depth 3: 3 threads in random priority "
                                 "order, 2 priority change points among the first "))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "; not a proof)\n")) << r.report;
  EXPECT_TRUE(Contains(ResultToJson(r), "\"search\": \"pct\", \"seed\": 1, \"depth\": 3, "
                                        "\"pct\": {\"threads\": 3, \"steps\": "))
      << ResultToJson(r);
  // The same seed finds the same execution.
  const Result again = Check("scullpipe/if_not_while", Pct(3, 2000));
  EXPECT_EQ(again.executions, r.executions);
  EXPECT_EQ(again.replay, r.replay);
  EXPECT_EQ(again.report, r.report);
  // Its token replays byte for byte.
  ExpectReplayReproduces("scullpipe/if_not_while", Pct(3, 2000));
}

// A check-then-act bug of depth 2 (both tasks test before either
// decrements): depth 1 (priorities alone, no change point) never runs the
// two tasks interleaved, depth 2 finds it within a few executions.
TEST(PctTest, DepthTwoOrderingBug) {
  const Result one = Check("scullsingle/test_then_decrement", Pct(1, 300));
  EXPECT_EQ(one.verdict, Verdict::kClean) << one.report;
  EXPECT_EQ(one.executions, 300u);
  const Result two = ExpectMatch("scullsingle/test_then_decrement", Pct(2, 200));
  EXPECT_EQ(two.verdict, Verdict::kAssertionFailed) << two.message;
  EXPECT_LE(two.executions, 20u);
  EXPECT_EQ(two.replay.rfind("kmc1.p2.", 0), 0u) << two.replay;
  ExpectReplayReproduces("scullsingle/test_then_decrement", Pct(2, 200));
}

// The guarantee: p >= 1/(n*k^(d-1)) per execution and (1-p)^N for the run,
// with n the engine threads and k the most scheduling choices of an
// execution; a clean run says it is not a proof.
TEST(PctTest, CleanRunPrintsItsGuarantee) {
  const Result r = ExpectMatch("seqlock/reader_writer", Pct(2, 300));
  EXPECT_EQ(r.verdict, Verdict::kClean);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.executions, 300u);
  EXPECT_TRUE(Contains(r.message, "not a proof")) << r.message;
  ASSERT_GT(r.pct_threads, 0);
  ASSERT_GT(r.pct_steps, 0u);
  const double p = 1.0 / (r.pct_threads * static_cast<double>(r.pct_steps));
  EXPECT_DOUBLE_EQ(PctHitProbability(r), p);
  EXPECT_NEAR(PctMissProbability(r), std::pow(1 - p, 300), 1e-12);
  const std::string g = PctGuarantee(r);
  EXPECT_TRUE(Contains(g, "pct, depth 2 (not a proof): n = " + std::to_string(r.pct_threads) +
                              " threads, k = " + std::to_string(r.pct_steps) +
                              " scheduling choices"))
      << g;
  EXPECT_TRUE(Contains(g, "probability p >= 1/(n*k^1) = ")) << g;
  EXPECT_TRUE(Contains(g, "300 executions miss it with probability at most (1-p)^300 = ")) << g;
  EXPECT_EQ(PctGuarantee(Check("seqlock/reader_writer")), "");
}

// The plain-Relacy yardstick of tests/bench:cost_benchmark explores the
// same context-bounded tree every time and every execution of it delivers
// each item once and each writer's items in order.
TEST(PlainRelacyPipe, TheCostBenchmarksYardstickIsDeterministicAndCorrect) {
  const PlainRelacyResult one = RunPlainRelacyPipe(1);
  EXPECT_TRUE(one.ok);
  EXPECT_EQ(one.executions, 178u);
  const PlainRelacyResult two = RunPlainRelacyPipe(2);
  EXPECT_TRUE(two.ok);
  EXPECT_EQ(two.executions, 2944u);
  EXPECT_EQ(RunPlainRelacyPipe(1).executions, one.executions);
}

}  // namespace
}  // namespace kmc
