// --all_bugs: every distinct bug of a model once, each with a replay token
// of its own, a summary table and JSON.

#include <string>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "sync/worker.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Contains;

RunOptions AllBugs() {
  RunOptions o;
  o.all_bugs = true;
  return o;
}

bool HasLocation(const BugFound& b, const std::string& function) {
  for (const std::string& l : b.locations) {
    if (Contains(l, " " + function)) return true;
  }
  return false;
}

TEST(AllBugsTest, TwoSeededRacesAreBothReported) {
  // Without --all_bugs the search stops at the first.
  const Result one = testing::Check("bugs_test/two_races");
  EXPECT_EQ(one.verdict, Verdict::kDataRace);
  EXPECT_TRUE(one.bugs.empty());
  EXPECT_FALSE(one.complete);

  const Result r = testing::Check("bugs_test/two_races", AllBugs());
  ASSERT_EQ(r.bugs.size(), 2u) << r.report;
  EXPECT_TRUE(r.complete) << "the search must run to its end";
  EXPECT_TRUE(r.match);
  int on_a = 0, on_b = 0;
  for (const BugFound& b : r.bugs) {
    EXPECT_EQ(b.verdict, Verdict::kDataRace);
    ASSERT_EQ(b.locations.size(), 2u) << r.report;
    if (HasLocation(b, "first_a")) {
      ++on_a;
      EXPECT_TRUE(HasLocation(b, "second_a")) << r.report;
    }
    if (HasLocation(b, "first_b")) {
      ++on_b;
      EXPECT_TRUE(HasLocation(b, "second_b")) << r.report;
    }
    EXPECT_GE(b.hits, 1u);
    EXPECT_GE(b.first_execution, 1u);
    EXPECT_TRUE(Contains(b.report, "preemptions: " + std::to_string(b.preemptions) + "\n"))
        << b.report;
  }
  EXPECT_EQ(on_a, 1);
  EXPECT_EQ(on_b, 1);
  // The first bug is the one the result names, as without --all_bugs.
  EXPECT_EQ(r.verdict, r.bugs[0].verdict);
  EXPECT_EQ(r.message, one.message);
  EXPECT_EQ(r.replay, r.bugs[0].replay);
  // The summary table, then every report.
  EXPECT_TRUE(Contains(r.report, "all bugs: 2 distinct bugs in " + std::to_string(r.executions) +
                                     " executions (search complete)"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, r.bugs[0].report));
  EXPECT_TRUE(Contains(r.report, r.bugs[1].report));
}

TEST(AllBugsTest, EachTokenReplaysExactlyItsBug) {
  const Result r = testing::Check("bugs_test/two_races", AllBugs());
  ASSERT_EQ(r.bugs.size(), 2u) << r.report;
  EXPECT_NE(r.bugs[0].replay, r.bugs[1].replay);
  for (const BugFound& b : r.bugs) {
    std::string error;
    const auto again = ReplayModel(*FindModel(r.model), b.replay, &error);
    ASSERT_TRUE(again.has_value()) << error;
    EXPECT_EQ(again->verdict, b.verdict);
    EXPECT_EQ(again->message, b.message);
    EXPECT_EQ(again->report, b.report);
  }
}

TEST(AllBugsTest, OneBugReachedManyWaysIsReportedOnce) {
  const Result r = testing::Check("bugs_test/one_race_many_ways", AllBugs());
  ASSERT_EQ(r.bugs.size(), 1u) << r.report;
  const BugFound& b = r.bugs[0];
  EXPECT_EQ(b.verdict, Verdict::kDataRace);
  EXPECT_GT(b.hits, 1u) << "the race is reached by several interleavings";
  EXPECT_TRUE(HasLocation(b, "bump")) << r.report;
  EXPECT_TRUE(r.complete);
  // Of the executions that hit it, the one kept has the fewest preemptions:
  // one (a task must be preempted between its locked steps and its
  // increment, or the lock orders the two increments).
  EXPECT_EQ(b.preemptions, 1) << b.report;
  EXPECT_TRUE(Contains(r.report, "all bugs: 1 distinct bug in ")) << r.report;
}

TEST(AllBugsTest, TheModelCanAskForIt) {
  const Result r = testing::Check("bugs_test/two_races_all_bugs");
  EXPECT_TRUE(r.all_bugs);
  EXPECT_EQ(r.bugs.size(), 2u) << r.report;
  RunOptions off;
  off.all_bugs = false;
  EXPECT_TRUE(testing::Check("bugs_test/two_races_all_bugs", off).bugs.empty());
}

TEST(AllBugsTest, ALockdepPredictionIsABugToo) {
  const Result r = testing::Check("lockdep/ABBA_mutex", AllBugs());
  EXPECT_EQ(r.verdict, Verdict::kPossibleDeadlock) << r.report;
  ASSERT_EQ(r.bugs.size(), 1u) << r.report;
  EXPECT_EQ(r.bugs[0].verdict, Verdict::kPossibleDeadlock);
  EXPECT_EQ(r.bugs[0].replay, r.replay);
  EXPECT_TRUE(Contains(r.report, "all bugs: 1 distinct bug in ")) << r.report;
}

TEST(AllBugsTest, JsonCarriesTheList) {
  const Result r = testing::Check("bugs_test/two_races", AllBugs());
  const std::string json = ResultToJson(r);
  EXPECT_TRUE(Contains(json, "\"bugs\": [{\"verdict\": \"data race\"")) << json;
  EXPECT_TRUE(Contains(json, "\"first_execution\": ")) << json;
  EXPECT_TRUE(Contains(json, "\"hits\": ")) << json;
  EXPECT_TRUE(Contains(json, "\"replay\": \"" + r.bugs[1].replay + "\"")) << json;
  EXPECT_FALSE(Contains(ResultToJson(testing::Check("bugs_test/two_races")), "\"bugs\""));
}

TEST(AllBugsTest, AWorkerCarriesTheBugsBack) {
  const Model* m = FindModel("bugs_test/two_races");
  ASSERT_NE(m, nullptr);
  const Result in = CheckModel(*m, AllBugs());
  const Result out = CheckModelIsolated(*m, AllBugs());
  ASSERT_EQ(out.bugs.size(), in.bugs.size()) << out.report;
  EXPECT_TRUE(out.all_bugs);
  for (size_t i = 0; i < in.bugs.size(); ++i) {
    EXPECT_EQ(out.bugs[i].verdict, in.bugs[i].verdict);
    EXPECT_EQ(out.bugs[i].locations, in.bugs[i].locations);
    EXPECT_EQ(out.bugs[i].first_execution, in.bugs[i].first_execution);
    EXPECT_EQ(out.bugs[i].hits, in.bugs[i].hits);
    EXPECT_EQ(out.bugs[i].replay, in.bugs[i].replay);
    EXPECT_EQ(out.bugs[i].report, in.bugs[i].report);
  }
  EXPECT_EQ(out.report, in.report);
}

// A race report names the access the racing one is really unordered with:
// here always the reader's unlocked read and other_writer's write, never
// first_writer's write (ordered before the read by the completion, and
// with other_writer's by the lock).
TEST(RaceReportTest, NamesThePairThatConflicts) {
  // Every failing execution of the search is sorted by the two locations
  // its report names: one bug means no report named first_writer's write
  // (ordered before the read by the completion, and before other_writer's
  // write by the lock, whichever of these runs first).
  const Result r = testing::Check("bugs_test/unlocked_read_after_ordered_write", AllBugs());
  ASSERT_EQ(r.bugs.size(), 1u) << r.report;
  const BugFound& b = r.bugs[0];
  EXPECT_EQ(b.verdict, Verdict::kDataRace);
  ASSERT_EQ(b.locations.size(), 2u) << r.report;
  EXPECT_TRUE(HasLocation(b, "unlocked_read")) << r.report;
  EXPECT_TRUE(HasLocation(b, "other_write")) << r.report;
  EXPECT_FALSE(HasLocation(b, "first_write")) << r.report;
  // Both orders were reached: the read racing with the write before it, and
  // the write racing with the read before it.
  EXPECT_GE(b.hits, 2u) << r.report;
}

// Shared<T>'s ++, implicit read and field-to-field copy name the line of
// the model that used them, never a line of sync/shared.h.
TEST(RaceReportTest, OperatorsNameTheCallersLine) {
  const Result inc = testing::Check("bugs_test/operator_increment_race", AllBugs());
  ASSERT_FALSE(inc.bugs.empty()) << inc.report;
  for (const BugFound& b : inc.bugs) {
    EXPECT_TRUE(HasLocation(b, "bump")) << inc.report;
    for (const std::string& l : b.locations) EXPECT_EQ(l.find("shared.h"), std::string::npos) << l;
  }
  const Result rd = testing::Check("bugs_test/operator_implicit_read_race", AllBugs());
  ASSERT_FALSE(rd.bugs.empty()) << rd.report;
  bool implicit = false;
  bool copy = false;
  for (const BugFound& b : rd.bugs) {
    EXPECT_TRUE(HasLocation(b, "bump")) << rd.report;
    implicit = implicit || HasLocation(b, "peek_implicit");
    copy = copy || HasLocation(b, "copy_field");
    for (const std::string& l : b.locations) EXPECT_EQ(l.find("shared.h"), std::string::npos) << l;
  }
  EXPECT_TRUE(implicit) << rd.report;
  EXPECT_TRUE(copy) << rd.report;
  EXPECT_EQ(rd.report.find("sync/shared.h"), std::string::npos) << rd.report;
}

}  // namespace
}  // namespace kmc
