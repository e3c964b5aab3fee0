// One search split into shards (--shard=I/N, RunOptions::shard_index and
// shard_count): the shards' executions add up to those of the search run as
// one shard with the same split, every failing execution is counted and
// reported by exactly one shard, and MergeShards() gives one result.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Check;
using testing::Contains;

RunOptions Shard(int index, int count, RunOptions o = {}) {
  o.shard_index = index;
  o.shard_count = count;
  return o;
}

std::vector<Result> Shards(const std::string& model, int count, const RunOptions& o = {}) {
  std::vector<Result> rs;
  for (int i = 0; i < count; ++i) rs.push_back(Check(model, Shard(i, count, o)));
  return rs;
}

uint64_t Sum(const std::vector<Result>& rs) {
  uint64_t n = 0;
  for (const Result& r : rs) n += r.executions;
  return n;
}

// The reduced exhaustive search of a clean model: each shard is clean and
// complete, and the shards' executions add up to the one-shard run's. That
// one runs at least the executions of the unsharded search without bounded
// passes: above the split every shard explores every alternative that is
// not asleep (sleep sets alone), since a race asking for an alternative
// there may lie in a subtree another shard owns; below it, the same DPOR.
TEST(ShardTest, ExecutionsOfTheShardsAddUp) {
  for (const char* model : {"scull/writers_and_reader", "asgn1/proc_stats"}) {
    RunOptions no_icb;
    no_icb.icb_bound = -1;
    const Result whole = Check(model, no_icb);
    const Result one = Check(model, Shard(0, 1));
    ASSERT_EQ(one.verdict, Verdict::kClean) << one.report;
    EXPECT_TRUE(one.complete);
    EXPECT_GE(one.executions, whole.executions) << model;
    for (int n : {2, 3}) {
      const std::vector<Result> rs = Shards(model, n);
      for (const Result& r : rs) {
        EXPECT_EQ(r.verdict, Verdict::kClean) << model << " " << r.report;
        EXPECT_TRUE(r.complete) << model;
        EXPECT_GT(r.executions, 0u) << model;
        // No shard does nearly all of the work.
        EXPECT_LT(r.executions, one.executions * 3 / 4) << model << " " << n;
      }
      EXPECT_EQ(Sum(rs), one.executions) << model << " in " << n << " shards";
      const Result m = MergeShards(rs);
      EXPECT_EQ(m.executions, one.executions);
      EXPECT_TRUE(m.complete);
      EXPECT_TRUE(m.match);
      EXPECT_EQ(m.shard_index, -1);
      EXPECT_EQ(m.shard_count, n);
      EXPECT_EQ(m.observations, one.observations) << model;
    }
  }
}

// Without a reduction (the full search, a bounded search) the shards add up
// to the unsharded search itself; a random search's shards run the
// executions of the whole run, in N equal parts.
TEST(ShardTest, FullBoundedAndRandomSearchesSplitExactly) {
  RunOptions full;
  full.search = SearchMode::kFull;
  const Result whole_full = Check("scull/writers_and_reader", full);
  EXPECT_EQ(Sum(Shards("scull/writers_and_reader", 2, full)), whole_full.executions);
  RunOptions bounded;
  bounded.search = SearchMode::kBounded;
  bounded.bound = 1;
  const Result whole_bounded = Check("asgn1/proc_stats", bounded);
  EXPECT_EQ(Sum(Shards("asgn1/proc_stats", 3, bounded)), whole_bounded.executions);
  RunOptions random;
  random.search = SearchMode::kRandom;
  random.executions = 101;
  const std::vector<Result> rs = Shards("scull/writers_and_reader", 3, random);
  EXPECT_EQ(Sum(rs), 101u);
  EXPECT_EQ(rs[0].executions, 34u);
  EXPECT_EQ(rs[2].executions, 33u);
  // More shards than executions: the empty ones run nothing.
  random.executions = 2;
  const std::vector<Result> few = Shards("scull/writers_and_reader", 3, random);
  EXPECT_EQ(Sum(few), 2u);
  EXPECT_EQ(few[2].executions, 0u);
  EXPECT_EQ(few[2].verdict, Verdict::kClean);
}

// --all_bugs: every failing execution is counted by the one shard that owns
// it, so each bug's hits over the shards add up to the unsharded search's.
TEST(ShardTest, EachFailingExecutionIsFoundByTheShardThatOwnsIt) {
  RunOptions all;
  all.all_bugs = true;
  // The unreduced search: it meets the same bug at several places (the
  // reduced one reaches each trace once, and the first race it detects in
  // a trace depends on the order of independent steps).
  all.search = SearchMode::kFull;
  const Result whole = Check("asgn1/free_while_reading", all);
  ASSERT_GT(whole.bugs.size(), 1u) << whole.report;
  for (int n : {2, 3}) {
    const std::vector<Result> rs = Shards("asgn1/free_while_reading", n, all);
    EXPECT_EQ(Sum(rs), whole.executions) << n;
    std::map<std::string, uint64_t> hits;
    for (const Result& r : rs) {
      for (const BugFound& b : r.bugs) hits[b.message + "|" + b.locations.front()] += b.hits;
    }
    ASSERT_EQ(hits.size(), whole.bugs.size()) << n;
    for (const BugFound& b : whole.bugs) {
      EXPECT_EQ(hits[b.message + "|" + b.locations.front()], b.hits) << b.message << " " << n;
    }
    const Result m = MergeShards(rs);
    EXPECT_EQ(m.bugs.size(), whole.bugs.size());
    EXPECT_EQ(m.verdict, whole.verdict);
    EXPECT_TRUE(m.match);
  }
}

// Without --all_bugs each shard stops at the first failure it owns; the
// merged result reports the failure the whole search meets first (the same
// report as one search without bounded passes, but for the execution's
// number, which counts only what the shard ran).
TEST(ShardTest, MergedFailureIsTheOneTheWholeSearchMeetsFirst) {
  RunOptions no_icb;
  no_icb.icb_bound = -1;
  const Result whole = Check("scullpipe/if_not_while", no_icb);
  ASSERT_NE(whole.verdict, Verdict::kClean);
  const std::vector<Result> rs = Shards("scullpipe/if_not_while", 3);
  int failing = 0;
  for (const Result& r : rs) failing += r.verdict != Verdict::kClean ? 1 : 0;
  EXPECT_GE(failing, 1);
  const Result m = MergeShards(rs);
  EXPECT_EQ(m.verdict, whole.verdict);
  EXPECT_EQ(m.message, whole.message);
  EXPECT_EQ(m.preemptions, whole.preemptions);
  EXPECT_EQ(m.steps, whole.steps);
  EXPECT_FALSE(m.complete);
  EXPECT_TRUE(m.match);
  // The token replays that shard's report.
  std::string error;
  const std::optional<Result> replay =
      ReplayModel(*FindModel("scullpipe/if_not_while"), m.replay, &error);
  ASSERT_TRUE(replay.has_value()) << error;
  EXPECT_EQ(replay->report, m.report);
}

TEST(ShardTest, JsonNamesTheShard) {
  const Result r = Check("scull/writers_and_reader", Shard(1, 2));
  EXPECT_TRUE(Contains(ResultToJson(r), "\"shard\": \"1/2\"")) << ResultToJson(r);
  const Result m = MergeShards({Check("scull/writers_and_reader", Shard(0, 2)), r});
  EXPECT_TRUE(Contains(ResultToJson(m), "\"shards\": 2")) << ResultToJson(m);
  const std::string plain = ResultToJson(Check("scull/writers_and_reader"));
  EXPECT_FALSE(Contains(plain, "\"shard\"") || Contains(plain, "\"shards\"")) << plain;
}

}  // namespace
}  // namespace kmc
