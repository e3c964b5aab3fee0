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

// Message passing through the kernel's ordered operations: each variant
// either orders the data before the flag (clean, complete) or does not (the
// stale data is found).
struct Mp {
  Shared<int> data;
  Shared<int> flag;
  atomic_t aflag = ATOMIC_INIT(0);
  spinlock_t lock;
  int seen_flag = 0, seen_data = -1;
  Mp() { spin_lock_init(&lock); }
};

enum class Publish {
  kXchgRelease, kXchgRelaxed, kCmpxchgFull, kCmpxchgRelaxed, kSetRelease, kSet,
  kFetchAddRelease, kFetchAddRelaxed,
};
enum class Observe { kCondLoadAcquire, kCondLoadRelaxed, kReadAcquire, kRead, kXchgAcquire };

Result RunMp(Publish p, Observe o) {
  Model m("mm/mp");
  auto f = m.Fixture<Mp>();
  f.Task("writer", 0, [p](Mp& s) {
    WRITE_ONCE(s.data, 1);
    switch (p) {
      case Publish::kXchgRelease: xchg_release(&s.flag, 1); break;
      case Publish::kXchgRelaxed: xchg_relaxed(&s.flag, 1); break;
      case Publish::kCmpxchgFull: cmpxchg(&s.flag, 0, 1); break;
      case Publish::kCmpxchgRelaxed: cmpxchg_relaxed(&s.flag, 0, 1); break;
      case Publish::kSetRelease: atomic_set_release(&s.aflag, 1); break;
      case Publish::kSet: atomic_set(&s.aflag, 1); break;
      case Publish::kFetchAddRelease: atomic_fetch_add_release(1, &s.aflag); break;
      case Publish::kFetchAddRelaxed: atomic_fetch_add_relaxed(1, &s.aflag); break;
    }
  });
  const bool on_atomic = p == Publish::kSetRelease || p == Publish::kSet ||
                         p == Publish::kFetchAddRelease || p == Publish::kFetchAddRelaxed;
  f.Task("reader", 1, [o, on_atomic](Mp& s) {
    switch (o) {
      case Observe::kCondLoadAcquire: s.seen_flag = smp_cond_load_acquire(&s.flag, VAL != 0); break;
      case Observe::kCondLoadRelaxed: s.seen_flag = smp_cond_load_relaxed(&s.flag, VAL != 0); break;
      case Observe::kReadAcquire:
        s.seen_flag = on_atomic ? atomic_read_acquire(&s.aflag) : smp_load_acquire(&s.flag);
        break;
      case Observe::kRead:
        s.seen_flag = on_atomic ? atomic_read(&s.aflag) : READ_ONCE(s.flag);
        break;
      case Observe::kXchgAcquire: s.seen_flag = xchg_acquire(&s.flag, 1); break;
    }
    s.seen_data = READ_ONCE(s.data);
  });
  f.Check([](Mp& s) { KMC_ASSERT(s.seen_flag == 0 || s.seen_data == 1); });
  return CheckModel(m, Exhaustive());
}

TEST(MemoryModel, ReleaseAcquireVariantsOrderMessagePassing) {
  EXPECT_CLEAN(RunMp(Publish::kXchgRelease, Observe::kReadAcquire));
  EXPECT_CLEAN(RunMp(Publish::kCmpxchgFull, Observe::kReadAcquire));
  EXPECT_CLEAN(RunMp(Publish::kSetRelease, Observe::kReadAcquire));
  EXPECT_CLEAN(RunMp(Publish::kFetchAddRelease, Observe::kReadAcquire));
  EXPECT_CLEAN(RunMp(Publish::kXchgRelease, Observe::kCondLoadAcquire));
  EXPECT_CLEAN(RunMp(Publish::kXchgRelease, Observe::kXchgAcquire));
}

TEST(MemoryModel, RelaxedVariantsDoNotOrder) {
  EXPECT_EQ(RunMp(Publish::kXchgRelaxed, Observe::kReadAcquire).verdict, Verdict::kAssertionFailed);
  EXPECT_EQ(RunMp(Publish::kCmpxchgRelaxed, Observe::kReadAcquire).verdict,
            Verdict::kAssertionFailed);
  EXPECT_EQ(RunMp(Publish::kSet, Observe::kReadAcquire).verdict, Verdict::kAssertionFailed);
  EXPECT_EQ(RunMp(Publish::kFetchAddRelaxed, Observe::kReadAcquire).verdict,
            Verdict::kAssertionFailed);
  EXPECT_EQ(RunMp(Publish::kSetRelease, Observe::kRead).verdict, Verdict::kAssertionFailed);
  EXPECT_EQ(RunMp(Publish::kXchgRelease, Observe::kCondLoadRelaxed).verdict,
            Verdict::kAssertionFailed);
}

// smp_cond_load_acquire() on a value nobody ever stores spins forever: the
// report is a hang, not a crash.
TEST(MemoryModel, CondLoadWithoutAStoreHangs) {
  Model m("mm/cond_load_forever");
  auto f = m.Fixture<Mp>();
  f.Task("waiter", 0, [](Mp& s) { s.seen_flag = smp_cond_load_acquire(&s.flag, VAL == 7); });
  f.Task("writer", 1, [](Mp& s) { WRITE_ONCE(s.flag, 1); });
  const Result r = CheckModel(m, Exhaustive());
  EXPECT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
}

// LKMM lock cumulativity: CPU#0's write before its unlock is ordered before
// CPU#1's write after its lock, as seen by a third CPU with smp_rmb().
struct LockChain {
  Shared<int> x, y;
  spinlock_t lock;
  int r_lock = -1, r_y = -1, r_x = -1;
  LockChain() { spin_lock_init(&lock); }
};

Result RunLockChain(bool rmb) {
  Model m("mm/lock_chain");
  m.Cpus(3);
  auto f = m.Fixture<LockChain>();
  f.Task("P0", 0, [](LockChain& s) {
    spin_lock(&s.lock);
    WRITE_ONCE(s.x, 1);
    spin_unlock(&s.lock);
  });
  f.Task("P1", 1, [](LockChain& s) {
    spin_lock(&s.lock);
    s.r_lock = READ_ONCE(s.x);  // 1: P0's section came first
    WRITE_ONCE(s.y, 1);
    spin_unlock(&s.lock);
  });
  f.Task("P2", 2, [rmb](LockChain& s) {
    s.r_y = READ_ONCE(s.y);
    if (rmb) smp_rmb();
    s.r_x = READ_ONCE(s.x);
  });
  f.Check([](LockChain& s) { KMC_ASSERT(!(s.r_lock == 1 && s.r_y == 1 && s.r_x == 0)); });
  return CheckModel(m, Exhaustive());
}

TEST(MemoryModel, UnlockLockIsCumulative) {
  EXPECT_CLEAN(RunLockChain(true));
  EXPECT_EQ(RunLockChain(false).verdict, Verdict::kAssertionFailed);
}

// spin_is_locked() reads the lock word through the memory model: after the
// holder's unlock it may still see the lock taken (an older store).
struct IsLocked {
  spinlock_t lock;
  Shared<int> done;
  int saw_done = 0, saw_locked = 0;
  IsLocked() { spin_lock_init(&lock); }
};

TEST(MemoryModel, SpinIsLockedMayReadAnOlderState) {
  Model m("mm/is_locked");
  auto f = m.Fixture<IsLocked>();
  f.Task("holder", 0, [](IsLocked& s) {
    spin_lock(&s.lock);
    spin_unlock(&s.lock);
    WRITE_ONCE(s.done, 1);
  });
  f.Task("observer", 1, [](IsLocked& s) {
    s.saw_done = READ_ONCE(s.done);
    s.saw_locked = spin_is_locked(&s.lock);
  });
  f.Check([](IsLocked& s) { KMC_ASSERT(!(s.saw_done == 1 && s.saw_locked)); });
  const Result r = CheckModel(m, Exhaustive());
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed) << r.report;
}

// 2+2W: two CPUs store to x and y in opposite orders. A store need not
// become the newest in its location's modification order, so each location
// may end with the first store of its CPU (LKMM allows it, also with
// smp_wmb() on both sides); smp_mb() on both sides forbids it.
struct TwoPlusTwoW {
  Shared<int> x;
  Shared<int> y;
};

enum class Barrier { kNone, kWmb, kMb };

Result RunTwoPlusTwoW(Barrier b) {
  Model m("mm/2+2w");
  auto f = m.Fixture<TwoPlusTwoW>();
  auto fence = [b]() {
    if (b == Barrier::kWmb) smp_wmb();
    if (b == Barrier::kMb) smp_mb();
  };
  f.Task("p0", 0, [fence](TwoPlusTwoW& s) {
    WRITE_ONCE(s.x, 1);
    fence();
    WRITE_ONCE(s.y, 2);
  });
  f.Task("p1", 1, [fence](TwoPlusTwoW& s) {
    WRITE_ONCE(s.y, 1);
    fence();
    WRITE_ONCE(s.x, 2);
  });
  f.Check([](TwoPlusTwoW& s) { KMC_ASSERT(!(s.x.raw() == 1 && s.y.raw() == 1)); });
  return CheckModel(m, Exhaustive());
}

TEST(MemoryModel, StoresTakeAnyCoherentPlaceInModificationOrder) {
  const Result plain = RunTwoPlusTwoW(Barrier::kNone);
  EXPECT_EQ(plain.verdict, Verdict::kAssertionFailed) << plain.report;
  const Result wmb = RunTwoPlusTwoW(Barrier::kWmb);
  EXPECT_EQ(wmb.verdict, Verdict::kAssertionFailed) << wmb.report;
  const Result mb = RunTwoPlusTwoW(Barrier::kMb);
  EXPECT_EQ(mb.verdict, Verdict::kClean) << mb.report;
  EXPECT_TRUE(mb.complete);
}

// A store is never placed before a store its CPU has read (read-write
// coherence) or one that happens before it: after reading 1 the second
// CPU's store of 2 is the newest, and memory ends with it.
struct CoRw {
  Shared<int> x;
  int r = -1;
};

TEST(MemoryModel, StoreNeverGoesBeforeAStoreItsCpuRead) {
  Model m("mm/corw");
  auto f = m.Fixture<CoRw>();
  f.Task("p0", 0, [](CoRw& s) { WRITE_ONCE(s.x, 1); });
  f.Task("p1", 1, [](CoRw& s) {
    s.r = READ_ONCE(s.x);
    WRITE_ONCE(s.x, 2);
  });
  f.Check([](CoRw& s) { KMC_ASSERT(s.r != 1 || s.x.raw() == 2); });
  EXPECT_CLEAN(CheckModel(m, Exhaustive()));
}

// WRC: CPU#1 reads x = 1 from CPU#0, then publishes y; CPU#2 reads y = 1,
// then x. smp_wmb() orders CPU#1's stores only, not its load of x, so
// CPU#2 may still read x = 0 (LKMM's smp_wmb() is not A-cumulative);
// smp_mb() on CPU#1 orders the load too and forbids it. MP with smp_wmb()
// and smp_rmb() stays forbidden.
struct Wrc {
  Shared<int> x;
  Shared<int> y;
  int r0 = -1, r1 = -1, r2 = -1;
};

Result RunWrc(bool full_barrier) {
  Model m("mm/wrc");
  auto f = m.Fixture<Wrc>();
  f.Task("p0", 0, [](Wrc& s) { WRITE_ONCE(s.x, 1); });
  f.Task("p1", 1, [full_barrier](Wrc& s) {
    s.r0 = READ_ONCE(s.x);
    if (full_barrier) {
      smp_mb();
    } else {
      smp_wmb();
    }
    WRITE_ONCE(s.y, 1);
  });
  f.Task("p2", 2, [](Wrc& s) {
    s.r1 = READ_ONCE(s.y);
    smp_rmb();
    s.r2 = READ_ONCE(s.x);
  });
  f.Check([](Wrc& s) { KMC_ASSERT(!(s.r0 == 1 && s.r1 == 1 && s.r2 == 0)); });
  return CheckModel(m, Exhaustive());
}

TEST(MemoryModel, WmbOrdersStoresOnly) {
  const Result wmb = RunWrc(false);
  EXPECT_EQ(wmb.verdict, Verdict::kAssertionFailed) << wmb.report;
  const Result mb = RunWrc(true);
  EXPECT_EQ(mb.verdict, Verdict::kClean) << mb.report;
  EXPECT_TRUE(mb.complete);

  Model m("mm/mp_wmb_rmb");
  auto f = m.Fixture<Wrc>();
  f.Task("p0", 0, [](Wrc& s) {
    s.r0 = READ_ONCE(s.y);
    WRITE_ONCE(s.x, 1);
    smp_wmb();
    WRITE_ONCE(s.y, 1);
  });
  f.Task("p1", 1, [](Wrc& s) {
    s.r1 = READ_ONCE(s.y);
    smp_rmb();
    s.r2 = READ_ONCE(s.x);
  });
  f.Check([](Wrc& s) { KMC_ASSERT(!(s.r1 == 1 && s.r2 == 0)); });
  EXPECT_CLEAN(CheckModel(m, Exhaustive()));
}

// Traces show what a marked load returned and, for an older store, which
// store it read.
TEST(MemoryModel, TraceShowsValuesAndStaleReads) {
  Model m = HistoryModel("mm/stale_trace", 1, false);
  const Result r = CheckModel(m, Exhaustive());
  ASSERT_EQ(r.verdict, Verdict::kAssertionFailed);
  EXPECT_NE(r.report.find("READ_ONCE(x) = 1  [stale: reads the store of step 1, not the store of step 3]"),
            std::string::npos)
      << r.report;
}

}  // namespace
}  // namespace kmc
