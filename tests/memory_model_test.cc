// The memory model of kmc's atomic cells: an exhaustive search explores every
// store a marked load may read (not only the latest one and the one before
// it), and the orderings that forbid an old value keep it out.

#include <string>

#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling in model code

// x takes the values 1, 2, 3 on CPU#0, then a flag is raised. The reader on
// CPU#1 sees the flag and reads x once.
struct History {
  Shared<int> x;
  Shared<int> flag;
  int seen = -1;
};

// forbidden: the value of x the check fails on; release: publish the flag
// with smp_store_release() and read it with smp_load_acquire().
Model HistoryModel(const std::string& name, int forbidden, bool release) {
  Model m(name);
  auto f = m.Fixture<History>();
  f.Task("writer", 0, [release](History& h) {
    WRITE_ONCE(h.x, 1);
    WRITE_ONCE(h.x, 2);
    WRITE_ONCE(h.x, 3);
    if (release) {
      smp_store_release(&h.flag, 1);
    } else {
      WRITE_ONCE(h.flag, 1);
    }
  });
  f.Task("reader", 1, [release](History& h) {
    const int flag = release ? smp_load_acquire(&h.flag) : READ_ONCE(h.flag);
    if (flag == 1) h.seen = READ_ONCE(h.x);
  });
  f.Check([forbidden](History& h) { KMC_ASSERT(h.seen != forbidden); });
  return m;
}

RunOptions Exhaustive() {
  RunOptions o;
  o.search = SearchMode::kExhaustive;
  return o;
}

// Without ordering, the reader may see the flag and still read any value of
// x: the latest (3), one store old (2), two stores old (1) or the initial 0,
// three stores old. Each is found by the exhaustive search.
TEST(MemoryModel, ExhaustiveSearchReadsEveryOlderStore) {
  for (int old : {3, 2, 1, 0}) {
    Model m = HistoryModel("mm/stale_" + std::to_string(old), old, false);
    const Result r = CheckModel(m, Exhaustive());
    EXPECT_EQ(r.verdict, Verdict::kAssertionFailed) << "value " << old << "\n" << r.report;
  }
}

// With release/acquire on the flag every store to x happens before the
// reader's load of x: only 3 can be read, and the search is a proof.
TEST(MemoryModel, AcquireSeesOnlyTheLatestStore) {
  for (int old : {2, 1, 0}) {
    Model m = HistoryModel("mm/acquire_" + std::to_string(old), old, true);
    const Result r = CheckModel(m, Exhaustive());
    EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
    EXPECT_TRUE(r.complete);
  }
}

// Read-read coherence: once a reader has seen a store, no later load of the
// same location returns an older one.
struct Coherence {
  Shared<int> x;
  int a = -1, b = -1;
};

TEST(MemoryModel, ReadsOfOneLocationNeverGoBack) {
  Model m("mm/corr");
  auto f = m.Fixture<Coherence>();
  f.Task("writer", 0, [](Coherence& c) {
    WRITE_ONCE(c.x, 1);
    WRITE_ONCE(c.x, 2);
    WRITE_ONCE(c.x, 3);
  });
  f.Task("reader", 1, [](Coherence& c) {
    c.a = READ_ONCE(c.x);
    c.b = READ_ONCE(c.x);
  });
  f.Check([](Coherence& c) { KMC_ASSERT(c.b >= c.a); });
  EXPECT_CLEAN(CheckModel(m, Exhaustive()));
}

}  // namespace
}  // namespace kmc
