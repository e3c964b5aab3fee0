// The reduced exhaustive search (partial-order reduction) against the
// unreduced one: for every registered model whose unreduced search finishes
// within a small budget, both searches must give the same verdict, and a
// clean model must end with the same set of observations (kmc::Observe). A
// reduced search that loses a race, a deadlock or an outcome the unreduced
// search finds is a bug in the reduction (docs/ARCHITECTURE.md, "When two
// steps commute").

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

// Executions the unreduced search may take for a model to be cross-checked.
constexpr uint64_t kFullBudget = 20000;

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += "  {" + x + "}\n";
  return out;
}

Result Search(const Model& m, SearchMode mode, uint64_t budget) {
  RunOptions o;
  o.search = mode;
  o.max_executions = budget;
  o.icb_bound = -1;  // the reduced search alone (no bounded passes first)
  o.count_traces = true;
  return CheckModel(m, o);
}

TEST(PorTest, ReducedSearchFindsWhatTheFullSearchFinds) {
  int compared = 0, clean_with_observations = 0, failing = 0;
  uint64_t traces = 0, reduced_executions = 0;
  for (const Model* m : AllModels()) {
    const Result full = Search(*m, SearchMode::kFull, kFullBudget);
    const bool full_done = full.complete || full.verdict != Verdict::kClean;
    if (!full_done) continue;  // too large for a unit test
    // The reduced search explores a subset of the same tree: it never needs
    // more executions than the unreduced one.
    const Result reduced = Search(*m, SearchMode::kExhaustive, kFullBudget);
    ++compared;
    SCOPED_TRACE(m->name());
    EXPECT_EQ(VerdictName(reduced.verdict), VerdictName(full.verdict))
        << "full search:\n" << full.report << "\nreduced search:\n" << reduced.report;
    if (full.verdict == Verdict::kClean) {
      EXPECT_TRUE(reduced.complete);
      EXPECT_LE(reduced.executions, full.executions);
      EXPECT_EQ(reduced.observations, full.observations)
          << "full search observed:\n" << Join(full.observations)
          << "reduced search observed:\n" << Join(reduced.observations);
      // The reduced search explores a subset of the full search's
      // executions, and at least one of every trace: the same set of trace
      // fingerprints (RunOptions::count_traces).
      EXPECT_TRUE(std::includes(full.traces.begin(), full.traces.end(), reduced.traces.begin(),
                                reduced.traces.end()));
      EXPECT_FALSE(full.traces.empty());
      EXPECT_EQ(reduced.traces.size(), full.traces.size())
          << "the reduced search misses traces of the full one";
      traces += full.traces.size();
      reduced_executions += reduced.executions;
      if (!full.observations.empty()) ++clean_with_observations;
    } else {
      ++failing;
    }
  }
  // The check has teeth only if it covers models of both kinds.
  EXPECT_GE(compared, 40);
  EXPECT_GE(clean_with_observations, 4);
  EXPECT_GE(failing, 20);
  std::printf("cross-checked %d models (%d clean with observations, %d failing); the clean "
              "ones: %llu distinct trace fingerprints, %llu executions of the reduced search\n",
              compared, clean_with_observations, failing,
              static_cast<unsigned long long>(traces),
              static_cast<unsigned long long>(reduced_executions));
}

// The purpose-built models: the reduction must still see every outcome.
TEST(PorTest, LostUpdateBehindIndependentStepsKeepsAllOutcomes) {
  const Model* m = FindModel("por/independent_then_lost_update");
  ASSERT_NE(m, nullptr);
  const Result full = Search(*m, SearchMode::kFull, 0);
  const Result reduced = Search(*m, SearchMode::kExhaustive, 0);
  ASSERT_EQ(full.verdict, Verdict::kClean) << full.report;
  ASSERT_EQ(reduced.verdict, Verdict::kClean) << reduced.report;
  EXPECT_TRUE(reduced.complete);
  // Lost update (total 1, both saw 0) and both orders of the increments.
  EXPECT_EQ(full.observations.count("total=1 seen0=0 seen1=0"), 1u) << Join(full.observations);
  EXPECT_EQ(full.observations.count("total=2 seen0=0 seen1=1"), 1u);
  EXPECT_EQ(full.observations.count("total=2 seen0=1 seen1=0"), 1u);
  EXPECT_EQ(reduced.observations, full.observations) << Join(reduced.observations);
  // And it is a reduction: the commuting steps are not interleaved.
  EXPECT_LT(reduced.executions * 4, full.executions)
      << reduced.executions << " vs " << full.executions;
}

TEST(PorTest, ObserverSeesEveryCombination) {
  const Model* m = FindModel("por/observer_of_independent_writers");
  ASSERT_NE(m, nullptr);
  const Result full = Search(*m, SearchMode::kFull, 0);
  const Result reduced = Search(*m, SearchMode::kExhaustive, 0);
  ASSERT_EQ(reduced.verdict, Verdict::kClean) << reduced.report;
  EXPECT_EQ(reduced.observations, full.observations) << Join(reduced.observations);
  EXPECT_GE(full.observations.size(), 9u);  // 3 x 3 values of the first read pair at least
  EXPECT_LT(reduced.executions, full.executions);
}

TEST(PorTest, RaceAndDeadlockBehindIndependentStepsAreFound) {
  for (const char* name : {"por/race_after_independent_steps", "por/abba_after_independent_steps",
                           "por/race_hidden_by_interrupt_order"}) {
    const Model* m = FindModel(name);
    ASSERT_NE(m, nullptr) << name;
    const Result reduced = Search(*m, SearchMode::kExhaustive, 0);
    EXPECT_TRUE(reduced.match) << reduced.report;
    EXPECT_FALSE(reduced.replay.empty()) << name;
  }
}

}  // namespace
}  // namespace kmc
