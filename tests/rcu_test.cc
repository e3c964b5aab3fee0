// The models of models/rcu_models.cc (sync/rcupdate.h, sync/list.h;
// docs/KERNEL_SEMANTICS.md §6.3) and models/scullpriv_rcu_models.cc: verdicts,
// exhaustive exploration of the clean ones, replay of the failing ones, and
// the kernel's wording in the reports.

#include <string>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using ::kmc::testing::ExpectMatch;
using ::kmc::testing::ExpectReplayReproduces;

using ::kmc::testing::Contains;

using ::kmc::testing::ExpectCleanAndComplete;

using ::kmc::testing::ExpectFailure;

TEST(RcuModels, PublishAndRead) { ExpectCleanAndComplete("rcu/publish_and_read"); }

TEST(RcuModels, ListUpdate) { ExpectCleanAndComplete("rcu/list_update"); }

// RU-02: a reader still holds the old config when it is freed.
TEST(RcuModels, FreeWithoutGracePeriod) {
  Result r = ExpectFailure("rcu/free_without_grace_period");
  EXPECT_EQ(r.verdict, Verdict::kUseAfterFree) << r.report;
  EXPECT_TRUE(Contains(r.message, "BUG: KASAN: use-after-free in ConfigReader")) << r.message;
}

// RU-03: WRITE_ONCE() publishes without ordering the initialization.
TEST(RcuModels, PlainPublish) {
  Result r = ExpectFailure("rcu/plain_publish");
  EXPECT_EQ(r.verdict, Verdict::kDataRace) << r.report;
  EXPECT_TRUE(Contains(r.message, "BUG: KCSAN: data-race in ConfigReader")) << r.message;
}

// RU-04: lockdep's report, with the deadlock verdict.
TEST(RcuModels, SynchronizeInReader) {
  Result r = ExpectFailure("rcu/synchronize_in_reader");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_EQ(r.message, "WARNING: suspicious RCU usage");
  EXPECT_TRUE(Contains(r.report,
                       "Illegal synchronize_rcu() in RCU read-side critical section!"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "#0: rcu_read_lock")) << r.report;
}

TEST(ScullprivRcuModels, RcuLookup) { ExpectCleanAndComplete("scullpriv/rcu_lookup"); }

}  // namespace
}  // namespace kmc
