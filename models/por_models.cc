// Models for the reduced exhaustive search (partial-order reduction): tasks
// whose steps commute with each other except at one place, where the order
// decides the outcome. tests/por_test.cc checks that the reduced search
// (--search=exhaustive) sees every outcome and every bug the unreduced one
// (--search=full) sees, on these models and on every small registered one.

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

struct Counters {
  atomic_t own[2] = {ATOMIC_INIT(0), ATOMIC_INIT(0)};  // one per task: independent
  atomic_t shared = ATOMIC_INIT(0);
  Shared<int> plain_own[2] = {Shared<int>{0}, Shared<int>{0}};
  Shared<int> plain{0};
  int seen[2] = {-1, -1};  // each task's result, written only by that task
};

// Independent steps first, then one dependent pair: a read-modify-write of
// the shared counter spelled as atomic_read() + atomic_set(). Both orders of
// the pair, and the lost update, must be observed.
KMC_MODEL("por/independent_then_lost_update") {
  auto f = m.Fixture<Counters>();
  m.Describe("two tasks bump their own counters (commuting steps), then each adds 1 to a shared "
             "counter with atomic_read + atomic_set: the total is 1 or 2");
  m.Expect(Verdict::kClean);
  auto body = [](int me) {
    return [me](Counters& c) {
      atomic_inc(&c.own[me]);
      c.plain_own[me] = c.plain_own[me] + 1;
      atomic_inc(&c.own[me]);
      const int v = atomic_read(&c.shared);
      c.seen[me] = v;
      atomic_set(&c.shared, v + 1);
    };
  };
  f.Task("t0", 0, body(0));
  f.Task("t1", 1, body(1));
  f.Check([](Counters& c) {
    KMC_ASSERT(atomic_read(&c.own[0]) == 2 && atomic_read(&c.own[1]) == 2);
    Observe("total", atomic_read(&c.shared));
    Observe("seen0", c.seen[0]);
    Observe("seen1", c.seen[1]);
  });
}

// Three tasks: two commute completely (their own counters), the third reads
// both counters at two points. Every pair of values it can see is an
// outcome.
KMC_MODEL("por/observer_of_independent_writers") {
  auto f = m.Fixture<Counters>();
  m.Describe("two writers bump their own atomic counters twice; an observer reads both counters "
             "twice: each combination of values it can see is explored");
  m.Expect(Verdict::kClean);
  f.Task("w0", 0, [](Counters& c) {
    atomic_inc(&c.own[0]);
    atomic_inc(&c.own[0]);
  });
  f.Task("w1", 1, [](Counters& c) {
    atomic_inc(&c.own[1]);
    atomic_inc(&c.own[1]);
  });
  f.Task("observer", 1, [](Counters& c) {
    const int a = atomic_read(&c.own[0]);
    const int b = atomic_read(&c.own[1]);
    c.seen[0] = a * 10 + b;
    c.seen[1] = atomic_read(&c.own[1]) * 10 + atomic_read(&c.own[0]);
  });
  f.Check([](Counters& c) {
    Observe("first", c.seen[0]);
    Observe("second", c.seen[1]);
  });
}

// A data race hidden behind commuting steps: the racing accesses are plain
// (Shared<T>), with no lock; each task first does steps that commute with
// everything the other does.
KMC_MODEL("por/race_after_independent_steps") {
  auto f = m.Fixture<Counters>();
  m.Describe("each task bumps its own atomic counter twice, then one writes and the other reads "
             "a shared plain int with no lock: a data race");
  m.Expect(Verdict::kDataRace);
  f.Task("writer", 0, [](Counters& c) {
    atomic_inc(&c.own[0]);
    atomic_inc(&c.own[0]);
    c.plain = 1;
  });
  f.Task("reader", 1, [](Counters& c) {
    atomic_inc(&c.own[1]);
    atomic_inc(&c.own[1]);
    c.seen[1] = c.plain;
  });
}

struct Locks {
  spinlock_t a;
  spinlock_t b;
  Shared<int> x{0};
  Locks() {
    spin_lock_init(&a);
    spin_lock_init(&b);
  }
};

// ABBA behind commuting steps: only the order of the two first acquisitions
// matters; the search must reach the interleaving where both hold one lock.
KMC_MODEL("por/abba_after_independent_steps") {
  auto f = m.Fixture<Locks>();
  m.Describe("each task bumps a counter of its own, then takes the two spinlocks in opposite "
             "orders: a deadlock");
  m.Expect(Verdict::kDeadlock);
  f.Task("ab", 0, [](Locks& l) {
    spin_lock(&l.a);
    spin_lock(&l.b);
    l.x = l.x + 1;
    spin_unlock(&l.b);
    spin_unlock(&l.a);
  });
  f.Task("ba", 1, [](Locks& l) {
    spin_lock(&l.b);
    spin_lock(&l.a);
    l.x = l.x + 1;
    spin_unlock(&l.a);
    spin_unlock(&l.b);
  });
}

// Two tasks on one CPU and an interrupt there that touches neither's data:
// "a" writes x, "b" waits for the handler's flag and then reads x unlocked.
// The contexts of a CPU are ordered through one memory-model cell, so when
// the interrupt comes in after the write, "b" (which acquires the cell once
// the handler has left) happens after the write and no race shows; when it
// comes in before, the race is there. The search must reach the second
// order, although the interrupt shares nothing with the write.
struct CpuShared {
  Shared<int> x{0};
  atomic_t flag = ATOMIC_INIT(0);
  spinlock_t lock;
  wait_queue_head_t wq;
  CpuShared() {
    spin_lock_init(&lock);
    init_waitqueue_head(&wq);
  }
};

KMC_MODEL("por/race_hidden_by_interrupt_order") {
  auto f = m.Fixture<CpuShared>();
  m.Describe("two tasks on CPU#0 share x without a lock; an interrupt on CPU#0 touches "
             "neither's data, but whether it comes in between orders them: a data race");
  m.Expect(Verdict::kDataRace);
  f.Task("a", 0, [](CpuShared& d) {
    d.x = 1;
    spin_lock(&d.lock);
    spin_unlock(&d.lock);
  });
  f.Task("b", 0, [](CpuShared& d) {
    wait_event(d.wq, atomic_read(&d.flag) != 0);
    const int v = d.x;
    (void)v;
  });
  f.Irq("gpio", 0, 1, [](CpuShared& d) {
    atomic_set(&d.flag, 1);
    wake_up(&d.wq);
  });
}

// An interrupt raised while its CPU has interrupts off waits for them to
// come back on; Relacy's scheduler then also lets it run only after every
// other thread took a step since it started waiting. With two other tasks
// the order of that wait and the other CPU's steps decides when the handler
// may run, though they touch nothing in common: the reduced search must
// try both (tests/por_test.cc compares the traces).
struct PendingIrq {
  atomic_t a = ATOMIC_INIT(0);
  atomic_t b = ATOMIC_INIT(0);
  int saw = -1;  // written only by the handler
};

KMC_MODEL("por/pending_irq_and_another_cpu") {
  auto f = m.Fixture<PendingIrq>();
  m.Describe("a task on CPU#0 bumps a counter with interrupts off, a task on CPU#1 bumps "
             "another twice, an interrupt on CPU#0 reads the second: every value it can "
             "read, wherever it waited for CPU#0");
  m.Expect(Verdict::kClean);
  f.Task("cpu0", 0, [](PendingIrq& d) {
    local_irq_disable();
    atomic_inc(&d.a);
    atomic_inc(&d.a);
    local_irq_enable();
  });
  f.Task("cpu1", 1, [](PendingIrq& d) {
    atomic_inc(&d.b);
    atomic_inc(&d.b);
  });
  f.Irq("dev", 0, 1, [](PendingIrq& d) { d.saw = atomic_read(&d.b); });
  f.Check([](PendingIrq& d) {
    KMC_ASSERT(atomic_read(&d.a) == 2 && atomic_read(&d.b) == 2);
    Observe("saw", d.saw);
  });
}

// The pipe the search benchmark measures against plain Relacy
// (tests/bench/search_benchmark.cc): a 3-slot ring under one mutex, a wait
// queue for "not full" and one for "not empty", two writers putting two
// items each, one reader taking four. Every item arrives once and each
// writer's items in order; the reader's sequence is observed.
struct Ring {
  struct mutex lock;
  wait_queue_head_t not_full;
  wait_queue_head_t not_empty;
  Shared<int> slot[3] = {Shared<int>{0}, Shared<int>{0}, Shared<int>{0}};
  Shared<int> head{0};   // next slot to read
  Shared<int> count{0};  // items in the ring
  int got[4] = {0, 0, 0, 0};  // written only by the reader
  Ring() {
    mutex_init(&lock);
    init_waitqueue_head(&not_full);
    init_waitqueue_head(&not_empty);
  }
};

void RingPut(Ring& r, int item) {
  mutex_lock(&r.lock);
  while (r.count == 3) {
    mutex_unlock(&r.lock);
    wait_event(r.not_full, r.count != 3);
    mutex_lock(&r.lock);
  }
  r.slot[(r.head + r.count) % 3] = item;
  r.count = r.count + 1;
  mutex_unlock(&r.lock);
  wake_up(&r.not_empty);
}

int RingGet(Ring& r) {
  mutex_lock(&r.lock);
  while (r.count == 0) {
    mutex_unlock(&r.lock);
    wait_event(r.not_empty, r.count != 0);
    mutex_lock(&r.lock);
  }
  const int item = r.slot[r.head];
  r.head = (r.head + 1) % 3;
  r.count = r.count - 1;
  mutex_unlock(&r.lock);
  wake_up(&r.not_full);
  return item;
}

KMC_MODEL("por/pipe_two_writers_two_items") {
  auto f = m.Fixture<Ring>();
  m.Describe("a 3-slot ring under a mutex with \"not full\" and \"not empty\" wait queues: two "
             "writers put two items each, one reader takes four; every item once, each "
             "writer's in order (the plain-Relacy pipe of the search benchmark)");
  m.Expect(Verdict::kClean);
  // Exhaustive: the reduced search alone completes in 127,704 executions
  // (76,002 distinct traces; tests/bench/search_benchmark.cc). It did not
  // finish in 3 million while a task could run into a busy mutex and queue
  // (docs/ARCHITECTURE.md, "Schedulers").
  f.Task("writer0", 0, [](Ring& r) {
    RingPut(r, 1);
    RingPut(r, 2);
  });
  f.Task("writer1", 1, [](Ring& r) {
    RingPut(r, 11);
    RingPut(r, 12);
  });
  f.Task("reader", 2, [](Ring& r) {
    for (int& g : r.got) g = RingGet(r);
  });
  f.Check([](Ring& r) {
    int sum = 0, last0 = 0, last1 = 0;
    for (int g : r.got) {
      sum += g;
      int& last = g < 10 ? last0 : last1;
      KMC_ASSERT(g > last);
      last = g;
    }
    KMC_ASSERT(sum == 1 + 2 + 11 + 12);
    KMC_ASSERT(r.count == 0);
    Observe("order", r.got[0] * 1000000 + r.got[1] * 10000 + r.got[2] * 100 + r.got[3]);
  });
}

}  // namespace
}  // namespace kmc::models
