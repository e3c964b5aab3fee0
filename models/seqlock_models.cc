// Models of seqlocks (sync/seqlock.h; docs/KERNEL_SEMANTICS.md §3, cases
// SQ-01..SQ-06): the protocol with the kernel's barriers, each barrier
// removed, a reader in hard-irq context against a writer with and without
// interrupts disabled, and a pointer followed inside a read section.
//
// Every pair model: a writer updates x and y to k in write section k
// (k = 1..kSections); a reader copies them in a read_seqbegin()/read_seqretry() loop
// and accepts only a consistent snapshot (x == y). The data is written with
// WRITE_ONCE() and copied with READ_ONCE() (sync/seqlock.h explains why), so
// the engine may hand the reader stale values wherever the barriers allow it.
// The fixture stores the initial values with WRITE_ONCE() too, so that they
// are real stores the engine can hand out as the older value.

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

// Write sections per writer: two, so a reader can also overlap the second
// section after retrying over the first. (The unreduced search of the clean
// model with two is about 10^4 times larger than with one, hundreds of
// millions of executions; the reduced search completes in about 200,000.)
constexpr int kSections = 2;

struct Pair {
  seqlock_t sl;
  Shared<int> x;
  Shared<int> y;
  Pair() {
    seqlock_init(&sl);
    WRITE_ONCE(x, 0);
    WRITE_ONCE(y, 0);
  }
};

// The kernel's reader: retry until no write section overlapped the copy.
void Reader(Pair &p) {
  unsigned seq;
  int a, b;
  do {
    seq = read_seqbegin(&p.sl);
    a = READ_ONCE(p.x);
    b = READ_ONCE(p.y);
  } while (read_seqretry(&p.sl, seq));
  KMC_ASSERT(a == b);
}

void Writer(Pair &p) {
  for (int k = 1; k <= kSections; ++k) {
    write_seqlock(&p.sl);
    WRITE_ONCE(p.x, k);
    WRITE_ONCE(p.y, k);
    write_sequnlock(&p.sl);
  }
}

KMC_MODEL("seqlock/reader_writer") {
  auto f = m.Fixture<Pair>();
  m.Describe("SQ-01: a writer updates x and y in two write sections; a reader's accepted "
             "snapshot is always consistent");
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, Writer);
  f.Task("reader", 1, Reader);
  f.Check([](Pair &p) {
    KMC_ASSERT(p.x == kSections && p.y == kSections);
    KMC_ASSERT((p.sl.seqcount.sequence.get() & 1) == 0);
  });
}

KMC_MODEL("seqlock/no_read_barrier") {
  auto f = m.Fixture<Pair>();
  m.Describe("SQ-02: the reader begins with __read_seqcount_begin(), without the smp_rmb() "
             "of read_seqbegin(): the data loads can see older values than the sequence load");
  m.Expect({Verdict::kAssertionFailed, Verdict::kDataRace});
  f.Task("writer", 0, Writer);
  f.Task("reader", 1, [](Pair &p) {
    unsigned seq;
    int a, b;
    do {
      seq = __read_seqcount_begin(&p.sl.seqcount);  // BUG SQ-02: no smp_rmb()
      a = READ_ONCE(p.x);
      b = READ_ONCE(p.y);
    } while (read_seqretry(&p.sl, seq));
    KMC_ASSERT(a == b);
  });
}

KMC_MODEL("seqlock/no_write_barrier") {
  auto f = m.Fixture<Pair>();
  m.Describe("SQ-03: the writer increments the sequence without the smp_wmb() of "
             "write_seqcount_begin(): a reader can see new data with the old even sequence");
  m.Expect({Verdict::kAssertionFailed, Verdict::kDataRace});
  f.Task("writer", 0, [](Pair &p) {
    for (int k = 1; k <= kSections; ++k) {
      spin_lock(&p.sl.lock);
      // BUG SQ-03: write_seqcount_begin() without its smp_wmb().
      WRITE_ONCE(p.sl.seqcount.sequence, p.sl.seqcount.sequence + 1);
      WRITE_ONCE(p.x, k);
      WRITE_ONCE(p.y, k);
      write_sequnlock(&p.sl);
    }
  });
  f.Task("reader", 1, Reader);
}

// ---------------------------------------------------------------------------
// SQ-05: a reader in hard-irq context on the writer's CPU (the handler is the
// same Reader as above).

KMC_MODEL("seqlock/irqsave_writer_vs_irq_reader") {
  auto f = m.Fixture<Pair>();
  m.Describe("SQ-05 fixed: the writer on CPU#0 uses write_seqlock_irqsave(); an interrupt "
             "handler on CPU#0 reads the pair and can only arrive outside the write section");
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, [](Pair &p) {
    unsigned long flags;
    write_seqlock_irqsave(&p.sl, flags);
    WRITE_ONCE(p.x, 1);
    WRITE_ONCE(p.y, 1);
    write_sequnlock_irqrestore(&p.sl, flags);
  });
  f.Irq("timer", 0, 1, Reader);
}

KMC_MODEL("seqlock/plain_writer_vs_irq_reader") {
  auto f = m.Fixture<Pair>();
  m.Describe("SQ-05: the writer on CPU#0 uses plain write_seqlock() with interrupts enabled; "
             "an interrupt handler on CPU#0 that arrives inside the write section spins on the "
             "odd sequence, and the writer it interrupted can never finish the section");
  m.Expect({Verdict::kDeadlock, Verdict::kLivelock});
  f.Task("writer", 0, [](Pair &p) {
    write_seqlock(&p.sl);  // BUG SQ-05: interrupts stay enabled
    WRITE_ONCE(p.x, 1);
    WRITE_ONCE(p.y, 1);
    write_sequnlock(&p.sl);
  });
  f.Irq("timer", 0, 1, Reader);
}

// ---------------------------------------------------------------------------
// SQ-06: pointers in a read section.

struct Obj {
  Shared<int> v;
};

struct PtrFixture {
  seqlock_t sl;
  Shared<Obj *> cur;
  PtrFixture() {
    seqlock_init(&sl);
    Obj *o = kmalloc(sizeof(Obj), GFP_KERNEL);
    o->v = 1;
    WRITE_ONCE(cur, o);
  }
};

KMC_MODEL("seqlock/pointer_in_section") {
  auto f = m.Fixture<PtrFixture>();
  m.Describe("SQ-06: the reader dereferences a pointer it read inside the section; the writer "
             "unpublishes the object and frees it. read_seqretry() would reject the snapshot, "
             "but the dereference has already touched freed memory (pointers need RCU)");
  m.Expect(Verdict::kUseAfterFree);
  f.Task("writer", 0, [](PtrFixture &x) {
    write_seqlock(&x.sl);
    Obj *old = x.cur;
    WRITE_ONCE(x.cur, nullptr);
    write_sequnlock(&x.sl);
    kfree(old);
  });
  f.Task("reader", 1, [](PtrFixture &x) {
    unsigned seq;
    int v;
    do {
      seq = read_seqbegin(&x.sl);
      Obj *p = READ_ONCE(x.cur);
      v = p ? p->v.get() : 0;  // BUG SQ-06: dereference before read_seqretry()
    } while (read_seqretry(&x.sl, seq));
    KMC_ASSERT(v == 0 || v == 1);
  });
  f.Check([](PtrFixture &x) { KMC_ASSERT(x.cur == nullptr); });
}

}  // namespace
}  // namespace kmc::models
