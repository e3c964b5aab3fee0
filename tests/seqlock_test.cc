// The models of models/seqlock_models.cc (sync/seqlock.h,
// docs/KERNEL_SEMANTICS.md §3): each one's verdict matches its expectation, each clean one is
// explored exhaustively, each failing one replays byte for byte, and the
// reports say what went wrong.

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

TEST(SeqlockModels, ReaderWriter) {
  Result r = ExpectCleanAndComplete("seqlock/reader_writer");
  // 57,000 with the reduction, two write sections (20,000 of them in the
  // bounded passes). A reader that read a stale odd sequence reads a newer
  // one next instead of pausing (a pause let every other thread run first,
  // and the search interleaved it with everything: 220,228).
  EXPECT_GT(r.executions, 10000u);
  EXPECT_LT(r.executions, 100000u);
}

// SQ-02: without the smp_rmb() of read_seqbegin() the data loads may return
// values older than the sequence load: a torn snapshot is accepted.
TEST(SeqlockModels, NoReadBarrier) {
  Result r = ExpectFailure("seqlock/no_read_barrier");
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed) << r.report;
  EXPECT_TRUE(Contains(r.report, "__read_seqcount_begin")) << r.report;
}

// SQ-03: without the smp_wmb() after the first increment, new data can be
// seen together with the old even sequence.
TEST(SeqlockModels, NoWriteBarrier) {
  Result r = ExpectFailure("seqlock/no_write_barrier");
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed) << r.report;
}

TEST(SeqlockModels, IrqsaveWriterVsIrqReader) {
  ExpectCleanAndComplete("seqlock/irqsave_writer_vs_irq_reader");
}

// SQ-05: the handler spins on the odd sequence of the writer it interrupted.
TEST(SeqlockModels, PlainWriterVsIrqReader) {
  Result r = ExpectFailure("seqlock/plain_writer_vs_irq_reader");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_TRUE(Contains(r.report, "read_seqbegin(&sl)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "hardirq")) << r.report;
}

// SQ-06: a pointer followed inside the section, freed by the writer.
TEST(SeqlockModels, PointerInSection) {
  Result r = ExpectFailure("seqlock/pointer_in_section");
  EXPECT_EQ(r.verdict, Verdict::kUseAfterFree) << r.report;
  EXPECT_TRUE(Contains(r.message, "BUG: KASAN: use-after-free")) << r.message;
}

}  // namespace
}  // namespace kmc
