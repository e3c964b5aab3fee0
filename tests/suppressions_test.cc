// Suppressions (--suppressions=FILE) and data_race(): the file format, what
// a rule matches, suppressed findings counted while the search goes on.

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "sync/suppressions.h"
#include "sync/worker.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Contains;

std::shared_ptr<const Suppressions> Rules(const std::string& text) {
  std::string error;
  std::optional<Suppressions> s = Suppressions::Parse(text, "test.supp", &error);
  EXPECT_TRUE(s.has_value()) << error;
  if (!s) return nullptr;
  return std::make_shared<const Suppressions>(std::move(*s));
}

std::string ParseError(const std::string& text) {
  std::string error;
  EXPECT_FALSE(Suppressions::Parse(text, "test.supp", &error).has_value()) << text;
  return error;
}

TEST(SuppressionsFileTest, RulesCommentsAndBlankLines) {
  const auto s = Rules("# known races\n\nrace:scull_follow\n  deadlock:models/x.cc:12  \n"
                       "use_after_free:*\ndata_race:foo\n");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->rules().size(), 4u);
  EXPECT_EQ(s->rules()[0].verdict, Verdict::kDataRace);
  EXPECT_EQ(s->rules()[0].line_number, 3);
  EXPECT_EQ(s->rules()[1].verdict, Verdict::kDeadlock);
  EXPECT_EQ(s->rules()[1].source_line, 12u);
  EXPECT_EQ(s->rules()[1].file, "models/x.cc");
  EXPECT_EQ(s->rules()[1].text, "deadlock:models/x.cc:12");
  EXPECT_EQ(s->rules()[2].verdict, Verdict::kUseAfterFree);
  EXPECT_EQ(s->rules()[3].verdict, Verdict::kDataRace);
}

TEST(SuppressionsFileTest, BadLinesNameTheirLine) {
  EXPECT_EQ(ParseError("race:foo\nbogus\n"),
            "test.supp:2: expected KIND:PATTERN (e.g. race:scull_read), got 'bogus'");
  EXPECT_TRUE(Contains(ParseError("# ok\nmutex:foo"), "test.supp:2: unknown kind 'mutex' (one of: "
                                                      "race, data_race, deadlock"));
  EXPECT_EQ(ParseError("race:"), "test.supp:1: 'race:' needs a pattern");
  EXPECT_TRUE(Contains(ParseError("model_error:x"), "test.supp:1: unknown kind 'model_error'"));
  EXPECT_EQ(ParseError("\n\nrace:foo.cc:0\n"), "test.supp:3: source lines start at 1");
}

TEST(SuppressionsFileTest, WhatARuleMatches) {
  const std::vector<SuppressFrame> race = {
      {"drivers/scull/scull.cc", 98, "int kmc::drivers::scull::scull_follow(scull_dev*, int)"}};
  auto matches = [&race](const std::string& rule) {
    return Rules(rule)->Match(Verdict::kDataRace, race) == 0;
  };
  EXPECT_TRUE(matches("race:scull_follow"));
  EXPECT_TRUE(matches("race:scull_*"));
  EXPECT_TRUE(matches("race:kmc::drivers::scull::scull_follow"));
  EXPECT_TRUE(matches("race:scull.cc:98"));
  EXPECT_TRUE(matches("race:drivers/scull/scull.cc:98"));
  EXPECT_TRUE(matches("race:scull.cc"));
  EXPECT_TRUE(matches("race:drivers/*"));
  EXPECT_FALSE(matches("race:ull.cc:98"));  // a file suffix starts after a '/'
  EXPECT_FALSE(matches("race:scull.cc:99"));
  EXPECT_FALSE(matches("race:follow"));     // the whole name, not a part of it
  EXPECT_FALSE(matches("deadlock:scull_follow"));  // another kind
  EXPECT_TRUE(WildcardMatch("a*c*e", "abcde"));
  EXPECT_FALSE(WildcardMatch("a*c*f", "abcde"));
}

RunOptions With(const std::string& rules, bool all_bugs = false) {
  RunOptions o;
  o.suppressions = Rules(rules);
  if (all_bugs) o.all_bugs = true;
  return o;
}

bool Names(const std::string& report, const std::string& function) {
  return Contains(report, "(" + function + ")");
}

TEST(SuppressionsTest, ASuppressedRaceIsCountedAndTheSearchGoesOn) {
  // Without the rule the search reports the race on b first.
  const Result plain = testing::Check("bugs_test/two_races");
  ASSERT_EQ(plain.verdict, Verdict::kDataRace);
  ASSERT_TRUE(Names(plain.report, "first_b")) << plain.report;

  const RunOptions o = With("race:first_b\n");
  const Result r = testing::Check("bugs_test/two_races", o);
  EXPECT_EQ(r.verdict, Verdict::kDataRace) << r.report;
  EXPECT_TRUE(Names(r.report, "first_a") && Names(r.report, "second_a")) << r.report;
  EXPECT_FALSE(Names(r.report, "first_b")) << r.report;
  EXPECT_GT(r.suppressed, 0u);
  ASSERT_EQ(r.suppressed_by.size(), 1u);
  EXPECT_EQ(r.suppressed_by[0].first, "race:first_b");
  EXPECT_EQ(r.suppressed_by[0].second, r.suppressed);
  const std::string line = "suppressed: " + std::to_string(r.suppressed) + " (race:first_b " +
                           std::to_string(r.suppressed) + ")";
  EXPECT_TRUE(Contains(r.report, line + "\n")) << r.report;
  EXPECT_TRUE(Contains(ResultToJson(r), "\"suppressed\": " + std::to_string(r.suppressed) +
                                            ", \"suppressed_by\": {\"race:first_b\": "))
      << ResultToJson(r);

  // The replay, given the same rules, shows the same execution.
  std::string error;
  const auto again = ReplayModel(*FindModel(r.model), r.replay, &error, TraceMode::kShort, "",
                                 o.suppressions.get());
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->report + line + "\n", r.report);

  // --all_bugs: one bug left.
  const Result all = testing::Check("bugs_test/two_races", With("race:first_b\n", true));
  ASSERT_EQ(all.bugs.size(), 1u) << all.report;
  EXPECT_GT(all.suppressed, 0u);
}

TEST(SuppressionsTest, EverythingSuppressedIsCleanAndComplete) {
  const Result r = testing::Check("bugs_test/two_races", With("race:first_a\nrace:second_b"));
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(Contains(r.message, "no bug found (suppressed: ")) << r.message;
  EXPECT_EQ(r.suppressed_by.size(), 2u) << r.message;
}

TEST(SuppressionsTest, ASuppressedDeadlockEndsItsExecutionOnly) {
  const Result plain = testing::Check("lockdep/ABBA_two_tasks");
  ASSERT_EQ(plain.verdict, Verdict::kDeadlock) << plain.report;
  const Result r = testing::Check("lockdep/ABBA_two_tasks", With("deadlock:lockdep_models.cc"));
  EXPECT_NE(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_GE(r.executions, plain.executions);
  EXPECT_TRUE(r.complete || r.verdict != Verdict::kClean);
  ASSERT_EQ(r.suppressed_by.size(), 1u);
  EXPECT_EQ(r.suppressed_by[0].first, "deadlock:lockdep_models.cc");
  // Every hang is suppressed, lockdep's prediction from the passing
  // executions is not: it stands, and its directed search says why it does
  // not end in the deadlock.
  EXPECT_EQ(r.verdict, Verdict::kPossibleDeadlock) << r.report;
  EXPECT_TRUE(Contains(r.report, "suppressed by deadlock:lockdep_models.cc")) << r.report;
}

TEST(SuppressionsTest, APossibleDeadlockRuleSuppressesLockdepsPrediction) {
  const Result plain = testing::Check("lockdep/ABBA_two_tasks_serialized");
  ASSERT_EQ(plain.verdict, Verdict::kPossibleDeadlock) << plain.report;
  const Result r =
      testing::Check("lockdep/ABBA_two_tasks_serialized", With("possible_deadlock:lockdep_models.cc"));
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.suppressed, 1u);
  EXPECT_TRUE(Contains(r.message, "(suppressed: 1 (possible_deadlock:lockdep_models.cc 1))"))
      << r.message;
  // A rule of another kind leaves it alone.
  const Result other = testing::Check("lockdep/ABBA_two_tasks_serialized", With("race:lockdep_models.cc"));
  EXPECT_EQ(other.verdict, Verdict::kPossibleDeadlock) << other.report;
  EXPECT_EQ(other.suppressed, 0u);
}

TEST(SuppressionsTest, AWorkerCarriesTheCountBack) {
  const RunOptions o = With("race:first_a\n");
  const Result in = CheckModel(*FindModel("bugs_test/two_races"), o);
  const Result out = CheckModelIsolated(*FindModel("bugs_test/two_races"), o);
  EXPECT_EQ(out.suppressed, in.suppressed);
  EXPECT_EQ(out.suppressed_by, in.suppressed_by);
  EXPECT_EQ(out.report, in.report);
}

TEST(DataRaceTest, AnAnnotatedReadIsNotARace) {
  const Result r = testing::Check("bugs_test/data_race_annotated_read");
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.warning.empty()) << "the locked accesses are still checked";
  const Result bad = testing::Check("bugs_test/unannotated_racy_read");
  EXPECT_EQ(bad.verdict, Verdict::kDataRace) << bad.report;
  EXPECT_TRUE(Names(bad.report, "peek_hits")) << bad.report;
}

}  // namespace
}  // namespace kmc
