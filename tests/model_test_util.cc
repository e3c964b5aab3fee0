#include "tests/model_test_util.h"

#include <optional>

namespace kmc::testing {

RunOptions Bounded(int preemptions) {
  RunOptions o;
  o.search = SearchMode::kBounded;
  o.bound = preemptions;
  return o;
}

Result Check(const std::string& name, const RunOptions& options) {
  const Model* m = FindModel(name);
  if (m == nullptr) {
    ADD_FAILURE() << "unknown model " << name;
    return Result{};
  }
  return CheckModel(*m, options);
}

Result ExpectMatch(const std::string& name, const RunOptions& options) {
  Result r = Check(name, options);
  EXPECT_TRUE(r.match) << name << ": expected " << r.expected.ToString() << ", got "
                       << VerdictName(r.verdict) << "\n"
                       << r.report;
  return r;
}

void ExpectReplayReproduces(const std::string& name, const RunOptions& options) {
  Result r = ExpectMatch(name, options);
  ASSERT_NE(r.verdict, Verdict::kClean) << name << " did not fail, nothing to replay";
  ASSERT_FALSE(r.replay.empty()) << name;
  std::string error;
  std::optional<Result> again = ReplayModel(*FindModel(name), r.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->verdict, r.verdict);
  EXPECT_EQ(again->message, r.message);
  EXPECT_EQ(again->report, r.report) << "replay of " << name << " printed another report";
}

Result ExpectCleanAndComplete(const std::string& name) {
  Result r = ExpectMatch(name);
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_EQ(r.search, SearchMode::kExhaustive);
  EXPECT_TRUE(r.complete) << name << " must be explored exhaustively";
  return r;
}

Result ExpectFailure(const std::string& name) {
  ExpectReplayReproduces(name);
  Result r = ExpectMatch(name);
  EXPECT_NE(r.verdict, Verdict::kClean);
  EXPECT_FALSE(r.replay.empty());
  return r;
}

}  // namespace kmc::testing
