// Fine-grained interleaving (Model::FineGrained, kmc check --fine_grained):
// plain accesses, allocations, frees and user copies are scheduling points,
// so what a race does is executed. Each seeded model below is clean without
// the option (its bug needs a switch between two plain accesses) and fails
// with it; tokens carry the option, so replays reproduce the report.

#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "sync/suppressions.h"
#include "sync/token.h"
#include "sync/worker.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Check;
using testing::Contains;
using testing::ExpectFailure;
using testing::ExpectMatch;

// The whole interleaving (--trace=full), for checks of single steps.
RunOptions FullTrace() {
  RunOptions o;
  o.trace = TraceMode::kFull;
  return o;
}

RunOptions Fine(bool on) {
  RunOptions o;
  o.fine_grained = on;
  return o;
}

// The model's failure with fine-grained interleaving (its default), a clean
// and complete search without it.
Result ExpectOnlyFineGrainedFinds(const std::string& name) {
  const Result r = ExpectFailure(name);
  EXPECT_TRUE(r.fine_grained);
  std::string error;
  const std::optional<Token> t = DecodeToken(name, r.replay, &error);
  EXPECT_TRUE(t.has_value()) << error;
  if (t) {
    EXPECT_TRUE(t->fine_grained) << r.replay;
  }
  EXPECT_TRUE(Contains(r.report, "\ninterleaving: fine-grained")) << r.report;
  EXPECT_TRUE(Contains(ResultToJson(r), "\"fine_grained\": true")) << ResultToJson(r);
  const Result coarse = Check(name, Fine(false));
  EXPECT_EQ(coarse.verdict, Verdict::kClean) << coarse.report;
  EXPECT_FALSE(coarse.fine_grained);
  EXPECT_FALSE(Contains(ResultToJson(coarse), "\"fine_grained\""));
  return r;
}

TEST(FineGrainedTest, LostUpdateReachesTheInvariant) {
  const Result r = ExpectOnlyFineGrainedFinds("fine/lost_update");
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed);
  EXPECT_EQ(r.preemptions, 1) << r.report;
  // The exempt accesses are steps of the trace too: t0 is preempted between
  // its read and its write.
  const Result full = Check("fine/lost_update", FullTrace());
  EXPECT_TRUE(Contains(full.report, "read hits")) << full.report;
}

TEST(FineGrainedTest, InterruptArrivesBetweenTwoPlainAccesses) {
  const Result r = ExpectOnlyFineGrainedFinds("fine/irq_between_plain_accesses");
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed);
  // The handler interrupts the task at its write, after its read.
  const Result full = Check("fine/irq_between_plain_accesses", FullTrace());
  EXPECT_TRUE(Contains(full.report, "interrupting task/101 at models/fine_models.cc"))
      << full.report;
}

TEST(FineGrainedTest, ScullB1EndsInItsLeak) {
  const Result r = ExpectOnlyFineGrainedFinds("scull/unlocked_write_fine_grained");
  EXPECT_EQ(r.verdict, Verdict::kMemoryLeak);
  EXPECT_TRUE(Contains(r.report, "kmemleak: 1 new suspected memory leaks")) << r.report;
}

// The race is still reported first; with its accesses suppressed the same
// model goes on to the leak, which the default interleaving never reaches.
TEST(FineGrainedTest, RaceComesFirstAndSuppressionsLetTheLeakShow) {
  const Result race = Check("scull/unlocked_write", Fine(true));
  EXPECT_EQ(race.verdict, Verdict::kDataRace) << race.report;
  std::string error;
  std::optional<Suppressions> sup = Suppressions::Parse("race:scull_*\n", "b1.supp", &error);
  ASSERT_TRUE(sup.has_value()) << error;
  RunOptions o = Fine(true);
  o.suppressions = std::make_shared<const Suppressions>(*sup);
  const Result leak = Check("scull/unlocked_write", o);
  EXPECT_EQ(leak.verdict, Verdict::kMemoryLeak) << leak.report;
  EXPECT_GT(leak.suppressed, 0u);
  o.fine_grained = false;
  const Result coarse = Check("scull/unlocked_write", o);
  EXPECT_EQ(coarse.verdict, Verdict::kClean) << coarse.report;
  EXPECT_TRUE(coarse.complete);
}

TEST(FineGrainedTest, Asgn2HandlerInterruptsTheTaskletOnItsCpu) {
  const Result r = ExpectMatch("asgn2/unlocked_circular_buffer_same_cpu");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  const Result coarse = Check("asgn2/unlocked_circular_buffer_same_cpu", Fine(false));
  EXPECT_EQ(coarse.verdict, Verdict::kClean) << coarse.report;
  // The search takes thousands of executions: its token replays the one
  // execution, as it ran and with every step shown.
  const Model& model = *FindModel("asgn2/unlocked_circular_buffer_same_cpu");
  std::string error;
  const std::optional<Result> again = ReplayModel(model, r.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->report, r.report);
  const std::optional<Result> full = ReplayModel(model, r.replay, &error, TraceMode::kFull);
  ASSERT_TRUE(full.has_value()) << error;
  EXPECT_EQ(full->verdict, Verdict::kDeadlock) << full->report;
  EXPECT_TRUE(Contains(full->report, "(softirq context) at drivers/asgn2/asgn2.c")) << full->report;
}

// The reduced search still treats accesses to different memory as
// independent: with fine-grained interleaving it finds the same outcomes as
// the unreduced one, in fewer executions where tasks touch different memory.
// An interrupt's run commutes with the steps of the task it interrupts that
// touch nothing the handler touches, so irq/irqsave_protects, whose task
// touches the shared counter only with interrupts off, gains nothing from its
// extra points either.
TEST(FineGrainedTest, ReductionStaysSound) {
  RunOptions full = Fine(true);
  full.search = SearchMode::kFull;
  RunOptions reduced = Fine(true);
  reduced.icb_bound = -1;
  for (const char* name : {"por/independent_then_lost_update", "irq/irqsave_protects"}) {
    const Result f = Check(name, full);
    const Result x = Check(name, reduced);
    EXPECT_EQ(f.verdict, Verdict::kClean) << f.report;
    EXPECT_EQ(x.verdict, Verdict::kClean) << x.report;
    EXPECT_TRUE(f.complete && x.complete) << name;
    EXPECT_EQ(f.observations, x.observations) << name;
    EXPECT_LE(x.executions, f.executions) << name;
    if (std::string(name).rfind("por/", 0) == 0) {
      EXPECT_LT(x.executions, f.executions) << name;
    }
    // More scheduling points than the default interleaving, but no more
    // executions where they touch memory no other context can touch there:
    // the reduction keeps one order of independent steps (por/...), and an
    // interrupt cannot arrive where the task keeps interrupts off (irq/...).
    RunOptions coarse = reduced;
    coarse.fine_grained = false;
    const uint64_t coarse_executions = Check(name, coarse).executions;
    EXPECT_EQ(x.executions, coarse_executions) << name;
  }
}

// The worker process carries the option both ways (options in, result out).
TEST(FineGrainedTest, WorkerProcessGivesTheSameResult) {
  const Model* m = FindModel("fine/lost_update");
  ASSERT_NE(m, nullptr);
  const Result in_process = CheckModel(*m, {});
  const Result isolated = CheckModelIsolated(*m, {});
  EXPECT_TRUE(isolated.fine_grained);
  EXPECT_EQ(isolated.verdict, in_process.verdict);
  EXPECT_EQ(isolated.replay, in_process.replay);
  EXPECT_EQ(isolated.report, in_process.report);
  const Result off = CheckModelIsolated(*m, Fine(false));
  EXPECT_FALSE(off.fine_grained);
  EXPECT_EQ(off.verdict, Verdict::kClean);
}

TEST(FineGrainedTest, TokenCarriesTheOption) {
  const std::string state = "3 2 2 0 0 2 1 0";
  for (bool fine : {false, true}) {
    const std::string tok = EncodeToken("a/b", SearchMode::kBounded, 2, state, true, false, fine);
    EXPECT_EQ(tok.rfind(fine ? "kmc1.i2g." : "kmc1.i2.", 0), 0u) << tok;
    std::string error;
    const std::optional<Token> t = DecodeToken("a/b", tok, &error);
    ASSERT_TRUE(t.has_value()) << error;
    EXPECT_EQ(t->fine_grained, fine);
    EXPECT_EQ(t->bound, 2);
    EXPECT_TRUE(t->icb_pass);
    EXPECT_EQ(t->engine_state, state);
  }
  std::string error;
  EXPECT_FALSE(DecodeToken("a/b", "kmc1.g.12345678.1.0.abcd", &error).has_value());
}

}  // namespace
}  // namespace kmc
