// Models of the lock-free kfifo (sync/kfifo.h; docs/KERNEL_SEMANTICS.md §2,
// scenarios KF-01, KF-02, KF-06, KF-07 and the missing producer barrier).
//
// The kernel's users retry a full or empty fifo (or sleep on a wait queue,
// which would order the two sides by itself and hide a missing barrier). A
// model cannot spin without bound, so every task here retries a bounded
// number of times and records what it managed to transfer; the final check,
// which runs after every task has finished, drains what is left and asserts
// that each element was received exactly once and in FIFO order per
// producer. An execution in which a task gives up early is still checked: it
// just transfers fewer elements.

#include <climits>

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

// Ghost state of a transfer: what each producer managed to put (values
// 100 * producer + 1, + 2, ...) and what the consumer got, in order.
struct Ghost {
  int sent[2] = {0, 0};
  int got[8] = {};
  int ngot = 0;

  void Got(int v) {
    KMC_ASSERT(ngot < 8);
    got[ngot++] = v;
  }
  // Exactly once, in order per producer, nothing invented.
  void Check(int producers) const {
    int next[2] = {1, 1};
    for (int i = 0; i < ngot; ++i) {
      const int v = got[i];
      const int p = v / 100;
      KMC_ASSERT(p >= 0 && p < producers);
      KMC_ASSERT(v % 100 == next[p]);  // FIFO per producer, no duplicate
      next[p] += 1;
    }
    for (int p = 0; p < producers; ++p) KMC_ASSERT(next[p] == sent[p] + 1);  // none lost
  }
};

// Puts producer p's elements 1..n, retrying a full fifo `tries` times each;
// stops at the first element it could not put.
template <bool kLocked, class F>
void Produce(F& f, int p, int n, int tries) {
  for (int i = 1; i <= n; ++i) {
    const int v = 100 * p + i;
    bool done = false;
    for (int t = 0; t < tries && !done; ++t) {
      if constexpr (kLocked) {
        done = kfifo_in_spinlocked(&f.fifo, &v, 1, &f.lock) == 1;
      } else {
        done = kfifo_put(&f.fifo, v) == 1;
      }
    }
    if (!done) return;
    f.g.sent[p] = i;
  }
}

// Tries kfifo_get `attempts` times, or until `want` elements arrived.
template <class F>
void Consume(F& f, int want, int attempts) {
  for (int a = 0; a < attempts && f.g.ngot < want; ++a) {
    int v;
    if (kfifo_get(&f.fifo, &v)) f.g.Got(v);
  }
}

// Final check: drain the rest (no task runs any more), then the ghost.
template <class F>
void DrainAndCheck(F& f, int producers) {
  const int got_by_consumer = f.g.ngot;
  int v;
  while (kfifo_get(&f.fifo, &v)) f.g.Got(v);
  // The outcome, for the reduced search's cross-check (tests/por_test.cc).
  int64_t order = 0;
  for (int i = 0; i < f.g.ngot; ++i) order = order * 1009 + f.g.got[i];
  Observe("sent0", f.g.sent[0]);
  Observe("sent1", f.g.sent[1]);
  Observe("got_by_consumer", got_by_consumer);
  Observe("order", order);
  KMC_ASSERT(kfifo_is_empty(&f.fifo));
  KMC_ASSERT(kfifo_len(&f.fifo) == 0);
  KMC_ASSERT(kfifo_avail(&f.fifo) == kfifo_size(&f.fifo));
  f.g.Check(producers);
}

struct Spsc {
  DECLARE_KFIFO(fifo, int, 2);
  Ghost g;
  Spsc() { INIT_KFIFO(fifo); }
};

// KF-01. Three elements through two slots: the third reuses slot 0, so both
// barrier pairs are exercised ([B]->[C] publishes an element, [D]->[A]
// recycles its slot). The producer tries each put once (it stops at a full
// fifo) and the consumer tries twice: the executions that matter are those
// where the third put finds slot 0 freed by the consumer's first get.
// (3 tries and 4 attempts did not finish an exhaustive search in 10 minutes.)
KMC_MODEL("kfifo/spsc") {
  auto f = m.Fixture<Spsc>();
  m.Describe("KF-01: one producer puts 3 ints into a 2-slot kfifo with kfifo_put(), one "
             "consumer takes them with kfifo_get(), no lock: each arrives once, in order, "
             "with no data race on the slots");
  m.Expect(Verdict::kClean);
  f.Task("producer", 0, [](Spsc& s) { Produce<false>(s, 0, 3, 1); });
  f.Task("consumer", 1, [](Spsc& s) { Consume(s, 3, 2); });
  f.Check([](Spsc& s) { DrainAndCheck(s, 1); });
}

struct Wrap {
  DECLARE_KFIFO(fifo, int, 2);
  Ghost g;
  Wrap() {
    INIT_KFIFO(fifo);
    fifo.kfifo.in = UINT_MAX - 1;  // KF-02: both counters two steps before 2^32
    fifo.kfifo.out = UINT_MAX - 1;
  }
};

// KF-02, with the multi-element calls. The producer's kfifo_in() of two
// elements carries `in` to 0 (through 2^32) and its next one to 1; a
// consumer's kfifo_out() that starts at slot 1 copies in two chunks (slot 1,
// then slot 0). Every counter value on the way is checked by the length
// arithmetic: kfifo_out() would copy garbage, or kfifo_len() exceed the
// size, if `in - out` were computed any other way.
KMC_MODEL("kfifo/wraparound") {
  auto f = m.Fixture<Wrap>();
  m.Describe("KF-02: in = out = UINT_MAX - 1; a producer kfifo_in()s 2 then 1 element, a "
             "consumer kfifo_out()s up to 3 at a time: both counters wrap through 2^32, "
             "copies split in two chunks, and length, empty and full stay right");
  m.Expect(Verdict::kClean);
  f.Task("producer", 0, [](Wrap& w) {
    const int first[2] = {1, 2};
    KMC_ASSERT(kfifo_in(&w.fifo, first, 2) == 2);  // empty: both fit
    w.g.sent[0] = 2;
    const int third = 3;
    if (kfifo_in(&w.fifo, &third, 1) == 1) {
      w.g.sent[0] = 3;
    } else {
      KMC_ASSERT(kfifo_len(&w.fifo) <= 2);  // it was full; never more than the size
    }
  });
  f.Task("consumer", 1, [](Wrap& w) {
    for (int a = 0; a < 2; ++a) {
      int v[3];
      const unsigned n = kfifo_out(&w.fifo, v, 3);
      KMC_ASSERT(n <= 2);
      for (unsigned i = 0; i < n; ++i) w.g.Got(v[i]);
    }
  });
  f.Check([](Wrap& w) {
    DrainAndCheck(w, 1);
    const unsigned moved = static_cast<unsigned>(w.g.sent[0]);
    KMC_ASSERT(w.fifo.kfifo.in.get() == UINT_MAX - 1 + moved);  // 0 or 1: wrapped
    KMC_ASSERT(w.fifo.kfifo.out.get() == w.fifo.kfifo.in.get());
  });
}

struct NoBarrier {
  DECLARE_KFIFO(fifo, int, 2);
  Ghost g;
  NoBarrier() {
    INIT_KFIFO(fifo);
    fifo.kfifo.kmc_bugs |= KFIFO_BUG_NO_PRODUCER_WMB;
  }
};

KMC_MODEL("kfifo/no_producer_barrier") {
  auto f = m.Fixture<NoBarrier>();
  m.Describe("kfifo/spsc with the producer's smp_wmb() before publishing in left out: the "
             "consumer sees the new in and reads a slot whose store is not ordered before it");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  f.Task("producer", 0, [](NoBarrier& s) { Produce<false>(s, 0, 2, 1); });
  f.Task("consumer", 1, [](NoBarrier& s) { Consume(s, 2, 2); });
  f.Check([](NoBarrier& s) { DrainAndCheck(s, 1); });
}

struct TwoProducers {
  DECLARE_KFIFO(fifo, int, 2);
  spinlock_t lock;  // serializes the producers only (kfifo.h's rule)
  Ghost g;
  TwoProducers() {
    INIT_KFIFO(fifo);
    spin_lock_init(&lock);
  }
};

// KF-07. Three tasks of ~7 steps each: the unreduced search did not finish
// in 4 minutes (a smaller variant with one consumer attempt took 22 million
// executions); the reduced search completes in about 2,400.
KMC_MODEL("kfifo/two_producers_locked") {
  auto f = m.Fixture<TwoProducers>();
  m.Describe("KF-07: two producers put with kfifo_in_spinlocked() on one lock, one lock-free "
             "consumer: every element once, in order per producer");
  m.Expect(Verdict::kClean);
  f.Task("producer0", 0, [](TwoProducers& t) { Produce<true>(t, 0, 1, 1); });
  f.Task("producer1", 1, [](TwoProducers& t) { Produce<true>(t, 1, 1, 1); });
  f.Task("consumer", 1, [](TwoProducers& t) { Consume(t, 2, 2); });
  f.Check([](TwoProducers& t) { DrainAndCheck(t, 2); });
}

// KF-06.
KMC_MODEL("kfifo/two_producers_unlocked") {
  auto f = m.Fixture<TwoProducers>();
  m.Describe("KF-06: two producers call kfifo_put() with no lock: both sample the same in, "
             "write the same slot and publish the same in (data race on the slot, or a lost "
             "element)");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  f.Task("producer0", 0, [](TwoProducers& t) { Produce<false>(t, 0, 1, 1); });
  f.Task("producer1", 1, [](TwoProducers& t) { Produce<false>(t, 1, 1, 1); });
  f.Task("consumer", 1, [](TwoProducers& t) { Consume(t, 2, 2); });
  f.Check([](TwoProducers& t) { DrainAndCheck(t, 2); });
}

}  // namespace
}  // namespace kmc::models
