// Tests of the asgn2 driver (drivers/asgn2) and its models
// (models/asgn2_models.cc).
//
//   * one test per registered asgn2 model: its verdict and search, and for a
//     failing model that replay prints the same report byte for byte, and
//     that the report of an interrupt bug shows each step's CPU and context
//     and where the handler interrupted a task;
//   * the seeded-bug scenarios run again with the bug bit cleared must be
//     clean, so each model fails because of its bug and nothing else;
//   * unit tests of the driver logic (open rules, '\0' framing and empty
//     files, reads that cross pages, the circular buffer's drop policy),
//     each a throwaway model that is not registered.

#include <fcntl.h>

#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "models/asgn2_rig.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/runner.h"
#include "sync/vfs.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling
using ::kmc::testing::Bounded;
using ::kmc::testing::Contains;
using ::kmc::testing::ExpectCleanAndComplete;
using ::kmc::testing::ExpectFailure;
using ::kmc::testing::ExpectMatch;

// ---------------------------------------------------------------------------
// The registered models.

TEST(Asgn2Models, OneFileIsCleanAndExhaustive) {
  // The unreduced search does not finish; the reduced one does (see the
  // model).
  Result r = ExpectCleanAndComplete("asgn2/one_file");
  EXPECT_EQ(r.search, SearchMode::kExhaustive);
  EXPECT_GT(r.executions, 1000u);  // 2,248 with the reduction
}

TEST(Asgn2Models, OneFileOnTheInterruptsCpuIsCleanAndExhaustive) {
  Result r = ExpectCleanAndComplete("asgn2/one_file_same_cpu");
  // 527 with the reduction. A woken reader does not run while the
  // interrupt or the tasklet holds its CPU (it was an alternative at every
  // step of the tasklet, each a step that did nothing: 2,105).
  EXPECT_GT(r.executions, 300u);
  EXPECT_LT(r.executions, 1000u);
}

TEST(Asgn2Models, TwoFilesTwoOpensIsCleanAndExhaustive) {
  // Its reduced search completes in about 12,000 executions (see the
  // model); a bounded default would be no proof.
  Result r = ExpectCleanAndComplete("asgn2/two_files_two_opens");
  EXPECT_EQ(r.search, SearchMode::kExhaustive);
  EXPECT_GT(r.executions, 6000u);
  EXPECT_LT(r.executions, 30000u);  // 76,251 when a woken reader ran on a held CPU
}

TEST(Asgn2Models, UnlockedCircularBuffer) {  // A2-B1
  Result r = ExpectFailure("asgn2/unlocked_circular_buffer");
  EXPECT_EQ(r.verdict, Verdict::kDataRace) << r.report;
  // A handler on CPU#1 against the tasklet on CPU#0, both named with their
  // context, and the handler's entry says whom it interrupted.
  EXPECT_TRUE(Contains(r.report, "on CPU#1 (hardirq context)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "on CPU#0 (softirq context)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "CPU#1 hardirq")) << r.report;
  EXPECT_TRUE(Contains(r.report, "CPU#0 softirq")) << r.report;
  EXPECT_TRUE(Contains(r.report, "hardirq gpio enters on CPU#0, interrupting reader/")) << r.report;
  EXPECT_TRUE(Contains(r.report, "cb_p")) << r.report;  // cb_push / cb_pop
}

TEST(Asgn2Models, OneBytePerTasklet) {  // A2-B6
  Result r = ExpectFailure("asgn2/one_byte_per_tasklet");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_TRUE(Contains(r.report, "wait_event_interruptible(&dev->read_wq")) << r.report;
  EXPECT_TRUE(Contains(r.report, "interrupting reader/")) << r.report;
}

TEST(Asgn2Models, TaskletCbLockWithoutIrqsave) {  // A2-B2, in the tasklet
  Result r = ExpectFailure("asgn2/tasklet_cb_lock_without_irqsave");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_EQ(r.message.rfind("BUG: spinlock cpu recursion on CPU#0", 0), 0u) << r.message;
  // The handler comes in on top of the tasklet, which holds cb_lock.
  EXPECT_TRUE(Contains(r.report, "interrupting reader/101 (softirq context) at ")) << r.report;
  EXPECT_TRUE(Contains(r.report, "CPU#0 softirq spin_lock(&dev->cb_lock)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "CPU#0 hardirq spin_lock(&dev->cb_lock)")) << r.report;
}

TEST(Asgn2Models, TaskletCbLockAtIrqExit) {  // A2-B2, in the tasklet, at irq exit
  Result r = ExpectFailure("asgn2/tasklet_cb_lock_at_irq_exit");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_EQ(r.message.rfind("BUG: spinlock cpu recursion on CPU#0", 0), 0u) << r.message;
  // The line's next interrupt comes in on top of its own irq-exit tasklet.
  EXPECT_TRUE(Contains(r.report, "interrupting irq/gpio/301 (softirq context) at ")) << r.report;
  EXPECT_TRUE(
      Contains(r.report, "while the softirq context, which it interrupted on CPU#0, holds it"))
      << r.report;
}

TEST(Asgn2Models, TeardownOrder) {  // A2-B12
  Result r = ExpectFailure("asgn2/teardown_order");
  EXPECT_EQ(r.verdict, Verdict::kUseAfterFree) << r.report;
  EXPECT_EQ(r.message.rfind("BUG: KASAN: use-after-free in cb_push", 0), 0u) << r.message;
  EXPECT_TRUE(Contains(r.report, "interrupting rmmod/")) << r.report;
  EXPECT_TRUE(Contains(r.report, "asgn2_exit_module")) << r.report;
}

// ---------------------------------------------------------------------------
// Throwaway scenarios.

using ::kmc::models::asgn2_rig::Rig;

// --- the bug scenarios with the bug bit cleared ---------------------------------

// asgn2/tasklet_cb_lock_at_irq_exit with the bug bit cleared: the tasklet's
// spin_lock_irqsave() keeps the line's next interrupt out while it holds
// cb_lock, so nothing deadlocks however the interrupts land.
struct AtIrqExit : Rig {
  AtIrqExit() : Rig("ab", 3) {}
};

TEST(Asgn2Fixed, TaskletAtIrqExitInterruptedBySameLine) {
  Model m("asgn2/fixed_tasklet_at_irq_exit");
  auto f = m.Fixture<AtIrqExit>();
  m.IrqExitPreemption();
  f.Task("reader", 1, [](AtIrqExit& r) { r.ReadOneFile(); });
  f.Irq("gpio", 0, 6, [](AtIrqExit& r) { r.Fire(); });
  f.Check([](AtIrqExit& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();
  });
  const Result r = CheckModel(m, Bounded(2));
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_GT(r.executions, 1000u);
}

struct LockedCbAnyCpu : Rig {
  LockedCbAnyCpu() : Rig("ab", 3) {}
};

// Regression test: a tasklet scheduled on one CPU while it ran on another
// used to be lost (false deadlock, see Asgn2Engine.TaskletRescheduledWhile-
// RunningElsewhereRunsAgain below).
TEST(Asgn2Fixed, LockedCircularBufferWithInterruptsOnEitherCpu) {  // A2-B1 cleared
  Model m("fixed/locked_cb_any_cpu");
  auto f = m.Fixture<LockedCbAnyCpu>();
  // ksoftirqd: a tasklet scheduled on CPU#1 while it runs on CPU#0 is
  // retried there, as Linux does (without it the reader would wait for the
  // end of the execution).
  m.SoftirqDaemons();
  f.Task("reader", 0, [](LockedCbAnyCpu& r) { r.ReadOneFile(); });
  f.Irq("gpio", Model::kAnyCpu, 6, [](LockedCbAnyCpu& r) { r.Fire(); });
  f.Check([](LockedCbAnyCpu& r) {
    r.ExpectFile(0, "ab");  // nothing dropped
    r.CheckAndUnload();
  });
  // With ksoftirqd on both CPUs (four engine threads) the bounded(2) search
  // did not finish in 11 CPU-minutes; a seeded random search of 20,000
  // executions stands in for it here.
  RunOptions random;
  random.search = SearchMode::kRandom;
  random.executions = 20000;
  const Result r = CheckModel(m, random);
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_EQ(r.executions, 20000u);
}

struct DrainAll : Rig {
  DrainAll() : Rig("ab", 3) {}
};

TEST(Asgn2Fixed, TaskletThatDrainsAllNeverStrandsTheEnd) {  // A2-B6 cleared
  Model m("fixed/drain_all");
  auto f = m.Fixture<DrainAll>();
  f.Task("reader", 0, [](DrainAll& r) { r.ReadOneFile(); });
  f.Irq("gpio", 0, 6, [](DrainAll& r) { r.Fire(); });
  f.Check([](DrainAll& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();  // module exit: WARN_ON(cb_count != 0)
  });
  EXPECT_CLEAN(CheckModel(m, Bounded(3)));
}

struct Teardown : Rig {
  Teardown() : Rig("a", 2) {}
};

TEST(Asgn2Fixed, TeardownInTheSpecifiedOrder) {  // A2-B12 cleared
  Model m("fixed/teardown");
  auto f = m.Fixture<Teardown>();
  f.Task("rmmod", 0, [](Teardown&) { KMC_ASSERT(rmmod("asgn2") == 0); });
  f.Irq("gpio", 0, 4, [](Teardown& t) { t.Fire(); });
  f.Check([](Teardown& t) {
    // Every interrupt either reached the handler before free_irq() or was
    // lost after it; nothing is left allocated (kmemleak would report it).
    KMC_ASSERT(GenerateIrq(static_cast<unsigned>(gpio_dummy_irq)) == 0);
    KMC_ASSERT(t.next == t.nr_nibbles);
  });
  const Result r = CheckModel(m, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_TRUE(r.complete);
}

// --- unit tests of the driver logic ----------------------------------------------

struct Idle : Rig {
  Idle() : Rig("", 0) {}
};

TEST(Asgn2Unit, OpenIsReadOnlyAndSingle) {
  Model m("unit/asgn2_open");
  auto f = m.Fixture<Idle>();
  f.Task("opener", 0, [](Idle&) {
    const unsigned dev = vfs::DeviceNumber("asgn2");
    int err = 0;
    KMC_ASSERT(vfs::open(dev, O_WRONLY, &err) == nullptr && err == -EACCES);
    KMC_ASSERT(vfs::open(dev, O_RDWR, &err) == nullptr && err == -EACCES);
    vfs::File* a = vfs::open(dev, O_RDONLY);
    KMC_ASSERT(a != nullptr);
    KMC_ASSERT(vfs::open(dev, O_RDONLY, &err) == nullptr && err == -EBUSY);  // max_nprocs 1
    KMC_ASSERT(vfs::close(a) == 0);
    vfs::File* b = vfs::open(dev, O_RDONLY);
    KMC_ASSERT(b != nullptr);
    KMC_ASSERT(vfs::close(b) == 0);
  });
  // Module exit: WARN_ON(atomic_read(&dev->nprocs) != 0).
  f.Check([](Idle&) { KMC_ASSERT(rmmod("asgn2") == 0); });
  const Result r = CheckModel(m, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_TRUE(r.complete);
}

struct Framing : Rig {
  // An empty file, then "xyz" (crosses two 2-byte pages), then "w".
  Framing() : Rig("\0xyz\0w", 7, "", /*cb_size=*/8) {}
};

TEST(Asgn2Unit, FramingEmptyFilesAndPageCrossingReads) {
  Model m("unit/asgn2_framing");
  auto f = m.Fixture<Framing>();
  f.Task("reader", 0, [](Framing& r) {
    r.ReadOneFile();   // the empty file: read() returns 0 at once
    r.ReadOneFile(1);  // "xyz", one byte per read
    r.ReadOneFile();   // "w"
  });
  f.Irq("gpio", 0, 14, [](Framing& r) { r.Fire(); });
  f.Check([](Framing& r) {
    r.ExpectFile(0, "");
    r.ExpectFile(1, "xyz");
    r.ExpectFile(2, "w");
    r.CheckAndUnload();  // module exit checks the page queue's accounting
  });
  EXPECT_CLEAN(CheckModel(m, Bounded(1)));
}

struct Full : Rig {
  // "abc" and its '\0' into a 2-byte buffer.
  Full() : Rig("abc", 4, "", /*cb_size=*/2) {}
};

TEST(Asgn2Unit, FullCircularBufferDropsTheNewByte) {
  // The handler runs directly from process context here (no interrupt
  // source), with bottom halves off so the tasklet cannot drain in between.
  Model m("unit/asgn2_cb_full");
  auto f = m.Fixture<Full>();
  f.Task("gpio", 0, [](Full& r) {
    local_bh_disable();
    for (int i = 0; i < 6; ++i) r.Fire();  // 'c' finds "ab" filling the buffer
    local_bh_enable();                     // the tasklet runs here
    local_bh_disable();
    for (int i = 0; i < 2; ++i) r.Fire();  // the '\0'
    local_bh_enable();
    r.ReadOneFile();
  });
  f.Check([](Full& r) {
    r.ExpectFile(0, "ab");  // the new byte was dropped, not the oldest
    r.CheckAndUnload();
  });
  const Result r = CheckModel(m, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_TRUE(r.complete);
}

// ---------------------------------------------------------------------------
// Engine behaviour the asgn2 models ran into, pinned as minimal scenarios.
// Both used to fail; each says what the engine got wrong.

struct StartOrder {
  Shared<int> x;
};

// A task with no scheduling point and a handler on the same CPU never race:
// either the handler ran before the task started (the task's body now
// starts by taking the CPU, WaitForCpu) or after it exited (the exit now
// releases the CPU's sync cell, so the handler sees the task's stores).
// Regression test: the task's plain store used to be reported as racing
// with the handler's load, in both orders.
TEST(Asgn2Engine, TaskStartIsOrderedAfterAnInterruptOnItsCpu) {
  Model m("engine/task_start_after_irq");
  auto f = m.Fixture<StartOrder>();
  f.Task("task", 0, [](StartOrder& s) { s.x = 1; });  // no scheduling point before
  f.Irq("irq", 0, 1, [](StartOrder& s) { (void)s.x.get(); });
  const Result r = CheckModel(m, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
}

struct Resched {
  tasklet_struct t{};
  spinlock_t lock{};
  spinlock_t bh_lock{};
  atomic_t scheduled = ATOMIC_INIT(0);
  Shared<int> seen;  // scheduled, as the latest run saw it
  wait_queue_head_t wq{};
  Resched() {
    spin_lock_init(&lock);
    spin_lock_init(&bh_lock);
    init_waitqueue_head(&wq);
    tasklet_init(&t, &Resched::Run, reinterpret_cast<unsigned long>(this));
    t.name = "t";
  }
  static void Run(unsigned long data) {
    Resched* r = reinterpret_cast<Resched*>(data);
    spin_lock(&r->lock);  // a scheduling point inside the run
    r->seen = atomic_read(&r->scheduled);
    spin_unlock(&r->lock);
    wake_up(&r->wq);
  }
  static void Fire(Resched& r) {
    atomic_inc(&r.scheduled);
    tasklet_schedule(&r.t);
  }
};

// A tasklet scheduled on CPU#1 while it runs on CPU#0 must run again after
// that run (Linux: tasklet_action() on CPU#1 finds it locked, re-queues it
// and re-raises the softirq; ksoftirqd/1 retries). kmc queues it on CPU#1,
// where irq exit skips it (it is running) and ksoftirqd/1 goes idle because
// it counts no runnable work; when the run on CPU#0 ends (here in the
// waiter's spin_unlock_bh(), after both interrupt sources have exited)
// nobody woke ksoftirqd/1, so the waiter's wait for the second run was
// reported as a deadlock. Regression test: the end of the run now wakes it.
TEST(Asgn2Engine, TaskletRescheduledWhileRunningElsewhereRunsAgain) {
  Model m("engine/tasklet_rescheduled_elsewhere");
  auto f = m.Fixture<Resched>();
  m.SoftirqDaemons();
  f.Task("waiter", 0, [](Resched& r) {
    // An interrupt in this bh-off section leaves the tasklet pending on
    // CPU#0; spin_unlock_bh() runs it here, in this task.
    spin_lock_bh(&r.bh_lock);
    spin_unlock_bh(&r.bh_lock);
    wait_event(r.wq, r.seen.get() == 2);  // the last schedule is followed by a run
  });
  f.Irq("a", 0, 1, [](Resched& r) { Resched::Fire(r); });
  f.Irq("b", 1, 1, [](Resched& r) { Resched::Fire(r); });
  const Result r = CheckModel(m, Bounded(2));  // one preemption reaches it
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
}

struct MidPrimitive {
  tasklet_struct t{};
  spinlock_t lock{};
  wait_queue_head_t wq{};
  Shared<bool> in_handler;
  MidPrimitive() {
    spin_lock_init(&lock);
    init_waitqueue_head(&wq);
    tasklet_init(&t, &MidPrimitive::Run, reinterpret_cast<unsigned long>(this));
    t.name = "t";
  }
  static void Run(unsigned long data) {
    MidPrimitive* d = reinterpret_cast<MidPrimitive*>(data);
    KMC_ASSERT(!d->in_handler.get());
    wake_up(&d->wq);
  }
};

// While a handler runs on a CPU, nothing else runs there, even code that
// was in the middle of a primitive when the handler came in. The end of a
// tasklet run (its happens-before release) used to be a scheduling point of
// its own, inside RunDeferred(): a handler arriving there (on top of the
// softirq) let the task go on with the rest of the run, while the handler
// was still in progress (in asgn2 this showed up as a false deadlock on
// cb_lock). Memory-model cell operations are no longer scheduling points.
TEST(Asgn2Engine, NothingElseRunsOnACpuWhileItsHandlerRuns) {
  Model m("engine/mid_primitive_preemption");
  auto f = m.Fixture<MidPrimitive>();
  f.Task("kick", 0, [](MidPrimitive& d) {
    local_bh_disable();
    tasklet_schedule(&d.t);
    local_bh_enable();  // the tasklet runs here
    KMC_ASSERT(!d.in_handler.get());
  });
  f.Irq("irq", 0, 1, [](MidPrimitive& d) {
    d.in_handler = true;
    spin_lock(&d.lock);  // scheduling points inside the handler
    spin_unlock(&d.lock);
    d.in_handler = false;
  });
  const Result r = CheckModel(m, RunOptions{});
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_TRUE(r.complete);
}

}  // namespace
}  // namespace kmc
