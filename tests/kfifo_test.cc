// Tests of the kfifo (sync/kfifo.h) and its models (models/kfifo_models.cc).
//
//   * one test per registered kfifo model: its verdict, `complete` for the
//     clean exhaustive ones, and for a failing model that replay prints the
//     same report byte for byte;
//   * unit tests of the kfifo arithmetic (KF-03 fullness, KF-04 size
//     rounding, KF-05 partial in, counters across 2^32, two-chunk copies,
//     peek and reset), each run as the single task of a throwaway model that
//     is not registered: a wrong mask, rounding or unsigned subtraction
//     fails a KMC_ASSERT there.

#include <climits>
#include <functional>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling
using ::kmc::testing::Contains;
using ::kmc::testing::ExpectCleanAndComplete;
using ::kmc::testing::ExpectFailure;
using ::kmc::testing::ExpectMatch;

// ---------------------------------------------------------------------------
// The registered models.

TEST(KfifoModels, SpscIsCleanAndExhaustive) {  // KF-01
  Result r = ExpectCleanAndComplete("kfifo/spsc");
  // 1,032 executions with the reduction (more than 100,000 without).
  EXPECT_GT(r.executions, 500u);
}

TEST(KfifoModels, WraparoundIsCleanAndExhaustive) {  // KF-02
  ExpectCleanAndComplete("kfifo/wraparound");
}

TEST(KfifoModels, TwoProducersLockedIsCleanAndExhaustive) {  // KF-07
  // Three tasks: the unreduced search does not finish (see the model); the
  // reduced one does.
  Result r = ExpectCleanAndComplete("kfifo/two_producers_locked");
  EXPECT_EQ(r.search, SearchMode::kExhaustive);
  EXPECT_GT(r.executions, 1000u);
}

TEST(KfifoModels, TwoProducersUnlocked) {  // KF-06
  Result r = ExpectFailure("kfifo/two_producers_unlocked");
  EXPECT_TRUE(r.verdict == Verdict::kDataRace || r.verdict == Verdict::kAssertionFailed);
  EXPECT_TRUE(Contains(r.report, "kfifo_put")) << r.report;
}

TEST(KfifoModels, NoProducerBarrier) {
  Result r = ExpectFailure("kfifo/no_producer_barrier");
  EXPECT_EQ(r.verdict, Verdict::kDataRace) << r.report;
  // The consumer's read of a slot, against the producer's write of it.
  EXPECT_TRUE(Contains(r.report, "smp_wmb() before publishing in left out")) << r.report;
  EXPECT_TRUE(Contains(r.report, "consumer")) << r.report;
  EXPECT_TRUE(Contains(r.report, "producer")) << r.report;
}

// ---------------------------------------------------------------------------
// Unit tests: one task, run as a throwaway model (exhaustive, one path).

template <class F>
Result RunUnit(const std::string& name, std::function<void(F&)> body) {
  Model m("unit/" + name);
  auto f = m.Fixture<F>();
  m.Expect(Verdict::kClean);
  f.Task("unit", 0, std::move(body));
  return CheckModel(m, RunOptions{});
}

struct Four {
  DECLARE_KFIFO(fifo, int, 4);
  Four() { INIT_KFIFO(fifo); }
};

TEST(KfifoUnit, Kf03FullnessOfAFourElementFifo) {
  EXPECT_CLEAN(RunUnit<Four>("kf03", [](Four& f) {
    KMC_ASSERT(kfifo_size(&f.fifo) == 4);
    KMC_ASSERT(kfifo_esize(&f.fifo) == sizeof(int));
    KMC_ASSERT(kfifo_is_empty(&f.fifo) && !kfifo_is_full(&f.fifo));
    for (int i = 1; i <= 4; ++i) {
      KMC_ASSERT(kfifo_put(&f.fifo, i) == 1);
      KMC_ASSERT(kfifo_len(&f.fifo) == static_cast<unsigned>(i));
    }
    KMC_ASSERT(kfifo_put(&f.fifo, 5) == 0);  // the fifth put finds it full
    KMC_ASSERT(kfifo_len(&f.fifo) == 4);
    KMC_ASSERT(kfifo_avail(&f.fifo) == 0);
    KMC_ASSERT(kfifo_is_full(&f.fifo) && !kfifo_is_empty(&f.fifo));
    int v = 0;
    KMC_ASSERT(kfifo_get(&f.fifo, &v) == 1 && v == 1);
    KMC_ASSERT(kfifo_len(&f.fifo) == 3 && kfifo_avail(&f.fifo) == 1);
    KMC_ASSERT(!kfifo_is_full(&f.fifo));
    KMC_ASSERT(kfifo_put(&f.fifo, 5) == 1);  // into slot 0 again
    for (int want = 2; want <= 5; ++want) KMC_ASSERT(kfifo_get(&f.fifo, &v) == 1 && v == want);
    KMC_ASSERT(kfifo_get(&f.fifo, &v) == 0);  // empty
    KMC_ASSERT(kfifo_is_empty(&f.fifo));
  }));
}

struct Ptr {
  DECLARE_KFIFO_PTR(fifo, int);
  Shared<int> five[5];
  Shared<int> one[1];
};

TEST(KfifoUnit, Kf04SizeRounding) {
  EXPECT_CLEAN(RunUnit<Ptr>("kf04", [](Ptr& p) {
    // kfifo_alloc rounds up.
    KMC_ASSERT(kfifo_alloc(&p.fifo, 5, GFP_KERNEL) == 0);
    KMC_ASSERT(kfifo_size(&p.fifo) == 8);
    KMC_ASSERT(kfifo_avail(&p.fifo) == 8);
    kfifo_free(&p.fifo);
    KMC_ASSERT(!kfifo_initialized(&p.fifo));
    KMC_ASSERT(kfifo_alloc(&p.fifo, 4, GFP_KERNEL) == 0);  // a power of 2 stays
    KMC_ASSERT(kfifo_size(&p.fifo) == 4);
    kfifo_free(&p.fifo);
    KMC_ASSERT(kfifo_alloc(&p.fifo, 2, GFP_KERNEL) == 0);
    KMC_ASSERT(kfifo_size(&p.fifo) == 2);
    kfifo_free(&p.fifo);
    // Below 2 elements: -EINVAL, nothing allocated (kmemleak would tell).
    KMC_ASSERT(kfifo_alloc(&p.fifo, 1, GFP_KERNEL) == -EINVAL);
    KMC_ASSERT(!kfifo_initialized(&p.fifo));
    KMC_ASSERT(kfifo_alloc(&p.fifo, 0, GFP_KERNEL) == -EINVAL);
    // kfifo_init rounds down; its size is in bytes of elements.
    KMC_ASSERT(kfifo_init(&p.fifo, p.five, 5 * sizeof(int)) == 0);
    KMC_ASSERT(kfifo_size(&p.fifo) == 4);
    for (int i = 0; i < 5; ++i) KMC_ASSERT(kfifo_put(&p.fifo, i) == (i < 4 ? 1 : 0));
    KMC_ASSERT(kfifo_init(&p.fifo, p.one, 1 * sizeof(int)) == -EINVAL);
    KMC_ASSERT(!kfifo_initialized(&p.fifo));
  }));
}

struct Eight {
  DECLARE_KFIFO_PTR(fifo, int);
  Eight() { BUG_ON(kfifo_alloc(&fifo, 8, GFP_KERNEL) != 0); }
};

TEST(KfifoUnit, Kf05PartialIn) {
  EXPECT_CLEAN(RunUnit<Eight>("kf05", [](Eight& e) {
    const int first[4] = {1, 2, 3, 4};
    KMC_ASSERT(kfifo_in(&e.fifo, first, 4) == 4);
    KMC_ASSERT(kfifo_avail(&e.fifo) == 4);
    const int six[6] = {5, 6, 7, 8, 9, 10};
    KMC_ASSERT(kfifo_in(&e.fifo, six, 6) == 4);  // only 4 fit; 9 and 10 are dropped
    KMC_ASSERT(kfifo_is_full(&e.fifo));
    KMC_ASSERT(kfifo_in(&e.fifo, six, 6) == 0);  // full: nothing, and no blocking
    int out[10] = {};
    KMC_ASSERT(kfifo_out(&e.fifo, out, 10) == 8);  // partial out: what there is
    for (int i = 0; i < 8; ++i) KMC_ASSERT(out[i] == i + 1);
    KMC_ASSERT(kfifo_out(&e.fifo, out, 10) == 0);
    kfifo_free(&e.fifo);
  }));
}

struct WrapFour {
  DECLARE_KFIFO(fifo, int, 4);
  WrapFour() {
    INIT_KFIFO(fifo);
    fifo.kfifo.in = UINT_MAX - 1;
    fifo.kfifo.out = UINT_MAX - 1;
  }
};

TEST(KfifoUnit, CountersWrapThrough2To32) {  // KF-02, one task
  EXPECT_CLEAN(RunUnit<WrapFour>("wrap", [](WrapFour& w) {
    KMC_ASSERT(kfifo_is_empty(&w.fifo) && kfifo_len(&w.fifo) == 0);
    const int three[3] = {1, 2, 3};
    // Slots 2, 3, then 0: `in` goes UINT_MAX - 1 -> 1 through 2^32.
    KMC_ASSERT(kfifo_in(&w.fifo, three, 3) == 3);
    KMC_ASSERT(w.fifo.kfifo.in.get() == 1u);
    KMC_ASSERT(kfifo_len(&w.fifo) == 3);  // 1 - (UINT_MAX - 1), unsigned
    KMC_ASSERT(kfifo_avail(&w.fifo) == 1 && !kfifo_is_full(&w.fifo));
    KMC_ASSERT(kfifo_put(&w.fifo, 4) == 1);
    KMC_ASSERT(kfifo_is_full(&w.fifo) && kfifo_put(&w.fifo, 5) == 0);
    int out[4] = {};
    // Two chunks again: slots 2, 3, then 0, 1.
    KMC_ASSERT(kfifo_out(&w.fifo, out, 4) == 4);
    for (int i = 0; i < 4; ++i) KMC_ASSERT(out[i] == i + 1);
    KMC_ASSERT(kfifo_is_empty(&w.fifo) && w.fifo.kfifo.out.get() == 2u);
  }));
}

TEST(KfifoUnit, PeekAndReset) {
  EXPECT_CLEAN(RunUnit<Four>("peek_reset", [](Four& f) {
    int v = 0;
    KMC_ASSERT(kfifo_peek(&f.fifo, &v) == 0);
    const int two[2] = {7, 8};
    KMC_ASSERT(kfifo_in(&f.fifo, two, 2) == 2);
    KMC_ASSERT(kfifo_peek(&f.fifo, &v) == 1 && v == 7);
    int out[2] = {};
    KMC_ASSERT(kfifo_out_peek(&f.fifo, out, 2) == 2 && out[0] == 7 && out[1] == 8);
    KMC_ASSERT(kfifo_len(&f.fifo) == 2);  // peeking removes nothing
    kfifo_reset_out(&f.fifo);             // the consumer skips everything
    KMC_ASSERT(kfifo_is_empty(&f.fifo) && f.fifo.kfifo.in.get() == 2u);
    KMC_ASSERT(kfifo_put(&f.fifo, 9) == 1);
    kfifo_reset(&f.fifo);  // both counters back to 0
    KMC_ASSERT(kfifo_is_empty(&f.fifo) && f.fifo.kfifo.in.get() == 0u);
    KMC_ASSERT(kfifo_avail(&f.fifo) == 4);
  }));
}

struct Defined {
  DEFINE_KFIFO(fifo, short, 2);  // declared and initialized in one go
};

TEST(KfifoUnit, DefineKfifoNeedsNoInit) {
  EXPECT_CLEAN(RunUnit<Defined>("define", [](Defined& d) {
    KMC_ASSERT(kfifo_initialized(&d.fifo) && kfifo_size(&d.fifo) == 2);
    KMC_ASSERT(kfifo_esize(&d.fifo) == sizeof(short));
    KMC_ASSERT(kfifo_put(&d.fifo, 3) == 1 && kfifo_put(&d.fifo, 4) == 1);
    KMC_ASSERT(kfifo_put(&d.fifo, 5) == 0);
    short v = 0;
    KMC_ASSERT(kfifo_get(&d.fifo, &v) == 1 && v == 3);
    KMC_ASSERT(kfifo_get(&d.fifo, &v) == 1 && v == 4);
  }));
}

struct Bytes {
  kfifo fifo;  // struct kfifo: a byte fifo with an allocated buffer
  spinlock_t lock;
  Bytes() {
    spin_lock_init(&lock);
    BUG_ON(kfifo_alloc(&fifo, 4, GFP_KERNEL) != 0);
  }
};

TEST(KfifoUnit, ByteFifoWithLockedHelpers) {
  EXPECT_CLEAN(RunUnit<Bytes>("bytes", [](Bytes& b) {
    const unsigned char msg[5] = {'h', 'e', 'l', 'l', 'o'};
    KMC_ASSERT(kfifo_in_spinlocked(&b.fifo, msg, 5, &b.lock) == 4);
    unsigned char out[5] = {};
    KMC_ASSERT(kfifo_out_spinlocked(&b.fifo, out, 2, &b.lock) == 2);
    KMC_ASSERT(out[0] == 'h' && out[1] == 'e');
    KMC_ASSERT(kfifo_in_spinlocked_noirqsave(&b.fifo, msg + 4, 1, &b.lock) == 1);
    KMC_ASSERT(kfifo_out_spinlocked_noirqsave(&b.fifo, out, 5, &b.lock) == 3);
    KMC_ASSERT(out[0] == 'l' && out[1] == 'l' && out[2] == 'o');
    kfifo_free(&b.fifo);
  }));
}

struct Uninitialized {
  DECLARE_KFIFO_PTR(fifo, int);
};

TEST(KfifoUnit, UseOfAFifoNeverAllocatedIsReported) {
  Model m("unit/kfifo_null");
  auto f = m.Fixture<Uninitialized>();
  m.Expect(Verdict::kLockMisuse);
  f.Task("unit", 0, [](Uninitialized& u) {
    KMC_ASSERT(kfifo_alloc(&u.fifo, 1, GFP_KERNEL) == -EINVAL);
    (void)kfifo_put(&u.fifo, 1);  // the kernel dereferences NULL here
  });
  Result r = CheckModel(m, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kLockMisuse) << r.report;
  EXPECT_TRUE(Contains(r.message, "BUG: kernel NULL pointer dereference in kfifo_put"))
      << r.message;
}

struct Freed {
  DECLARE_KFIFO_PTR(fifo, int);
  Shared<int>* stale = nullptr;
  Freed() { BUG_ON(kfifo_alloc(&fifo, 2, GFP_KERNEL) != 0); }
};

TEST(KfifoUnit, SlotOfAFreedBufferIsUseAfterFree) {
  Model m("unit/kfifo_uaf");
  auto f = m.Fixture<Freed>();
  m.Expect(Verdict::kUseAfterFree);
  f.Task("unit", 0, [](Freed& x) {
    x.stale = static_cast<Shared<int>*>(x.fifo.kfifo.data);
    kfifo_free(&x.fifo);
    (void)x.stale[0].get();
  });
  Result r = CheckModel(m, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kUseAfterFree) << r.report;
}

}  // namespace
}  // namespace kmc
