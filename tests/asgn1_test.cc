// The models of models/asgn1_models.cc (drivers/asgn1, docs/DRIVERS.md,
// asgn1): the corrected driver is clean under an exhaustive search, and each
// seeded bug (A1-Bn) produces its verdict and replays byte for byte.

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

TEST(Asgn1Models, WriterAndReader) { ExpectCleanAndComplete("asgn1/writer_and_reader"); }

TEST(Asgn1Models, Admission) { ExpectCleanAndComplete("asgn1/admission"); }

TEST(Asgn1Models, ProcStats) { ExpectCleanAndComplete("asgn1/proc_stats"); }

TEST(Asgn1Models, MmapThenRead) { ExpectCleanAndComplete("asgn1/mmap_then_read"); }

TEST(Asgn1Models, CheckThenIncrement) {
  Result r = ExpectFailure("asgn1/check_then_increment");
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed) << r.report;
}

TEST(Asgn1Models, NoUndoOnEbusy) {
  Result r = ExpectFailure("asgn1/no_undo_on_ebusy");
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed) << r.report;
}

TEST(Asgn1Models, FreeWhileReading) {
  Result r = ExpectFailure("asgn1/free_while_reading");
  EXPECT_TRUE(Contains(r.report, "free_memory_pages")) << r.report;
}

TEST(Asgn1Models, FreeWhileMapped) {
  Result r = ExpectFailure("asgn1/free_while_mapped");
  EXPECT_EQ(r.verdict, Verdict::kUseAfterFree) << r.report;
  EXPECT_TRUE(Contains(r.message, "use-after-free through a user mapping")) << r.message;
}

TEST(Asgn1Models, ConcurrentAppend) { ExpectFailure("asgn1/concurrent_append"); }

TEST(Asgn1Models, NodeLeakOnPageFailure) {
  Result r = ExpectFailure("asgn1/node_leak_on_page_failure");
  EXPECT_EQ(r.verdict, Verdict::kMemoryLeak) << r.report;
}

TEST(Asgn1Models, KfreeOfPageField) {
  Result r = ExpectFailure("asgn1/kfree_of_page_field");
  EXPECT_EQ(r.verdict, Verdict::kInvalidFree) << r.report;
  EXPECT_TRUE(Contains(r.report, "points inside object")) << r.report;
}

}  // namespace
}  // namespace kmc
