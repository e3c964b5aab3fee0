// Models of asgn2, the interrupt-driven GPIO reader (drivers/asgn2/asgn2.c;
// docs/DRIVERS.md, asgn2), loaded per execution with insmod and read
// through its file_operations.
//
// Every model gives the dummy GPIO device a short stream of files, each
// ended by '\0', and declares one interrupt source that fires once per
// half-byte (Rig::Fire latches the next half-byte on the port and delivers
// the interrupt to the driver's handler). A reader task opens the device,
// reads until read() returns 0 (the end of its file), and closes it; the
// ghost records what it got. The final check runs once the stream is
// exhausted and every task has finished: byte integrity and framing
// (docs/DRIVERS.md, asgn2 invariants), then rmmod, whose module exit checks
// the driver's own invariants (drained circular buffer, page-queue
// accounting, every open released) before kmemleak checks that every page
// was freed.

#include "models/asgn2_rig.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"

namespace kmc::models {
namespace {

using asgn2_rig::Rig;

// ---------------------------------------------------------------------------
// Clean scenarios.
//
// kSearchNote: the interrupt thread alone takes ~40 scheduling steps for a
// 3-byte stream (a raise per half-byte, cb_lock and tasklet_schedule per
// byte, and the tasklet's cb_lock/pq_lock/wake_up at irq exit), so the
// unreduced search of either clean model does not finish (two_files_two_opens
// ran 4,000,000 executions in 248 s without finishing). The reduced search
// (source-set DPOR) completes asgn2/one_file in about 1,400 executions,
// and asgn2/two_files_two_opens, whose reader is on the interrupt's CPU, in
// about 12,000 (1 s): the module's globals are distinct objects to it (a
// granule of the module's data is a key like one of heap memory), and
// an interrupt's whole run (handler, and the tasklet
// at irq exit) commutes with each step of the reader it interrupts that
// touches nothing the run touches, so only where the interrupts come in
// relative to the reader's page-queue, wait-queue and bottom-half steps
// matters (docs/ARCHITECTURE.md, "When two steps commute"). With the reader
// on the interrupt's CPU the handler can only come in at the reader's
// scheduling points and runs to completion, and a reader the tasklet woke
// goes on only once the tasklet has left its CPU: asgn2/one_file_same_cpu.
// Seconds for each: docs/DRIVERS.md, asgn2 seeded bugs.
// Every bug below is found within 3 preemptions.

struct OneFile : Rig {
  OneFile() : Rig("ab", 3) {}  // "ab" and its '\0'
};

KMC_MODEL("asgn2/one_file") {
  auto f = m.Fixture<OneFile>();
  m.Describe("the generator sends one file \"ab\\0\" as 6 half-byte interrupts on CPU#0 "
             "(handler -> circular buffer -> tasklet at irq exit -> 2 pages); a reader on "
             "CPU#1 gets exactly \"ab\", then EOF; nothing dropped or leaked");
  m.Expect(Verdict::kClean);
  m.DefaultSearch(SearchMode::kExhaustive);  // see kSearchNote above
  f.Task("reader", 1, [](OneFile& r) { r.ReadOneFile(); });
  f.Irq("gpio", 0, 6, [](OneFile& r) { r.Fire(); });
  f.Check([](OneFile& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();
  });
}

KMC_MODEL("asgn2/one_file_same_cpu") {
  auto f = m.Fixture<OneFile>();
  m.Describe("one file \"ab\\0\" as 6 half-byte interrupts on CPU#0, read on CPU#0: every "
             "placement of the interrupts among the reader's steps (the tasklet runs at irq "
             "exit or at the reader's spin_unlock_bh); the reader gets exactly \"ab\"");
  m.Expect(Verdict::kClean);  // exhaustive: see kSearchNote above
  f.Task("reader", 0, [](OneFile& r) { r.ReadOneFile(); });
  f.Irq("gpio", 0, 6, [](OneFile& r) { r.Fire(); });
  f.Check([](OneFile& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();
  });
}

struct TwoFiles : Rig {
  TwoFiles() : Rig("a\0b", 4) {}  // "a\0" then "b\0"
};

KMC_MODEL("asgn2/two_files_two_opens") {
  auto f = m.Fixture<TwoFiles>();
  m.Describe("two files \"a\\0b\\0\" (8 interrupts) and a reader on the interrupt's CPU that "
             "opens, reads to EOF and closes twice: the first open gets \"a\", the second "
             "\"b\" (the handler interrupts the reader; the tasklet runs at irq exit or at "
             "the reader's spin_unlock_bh)");
  m.Expect(Verdict::kClean);  // exhaustive: see kSearchNote above
  m.Large();  // kmc check --jobs=N splits its search into N shards
  f.Task("reader", 0, [](TwoFiles& r) {
    r.ReadOneFile();
    r.ReadOneFile();
  });
  f.Irq("gpio", 0, 8, [](TwoFiles& r) { r.Fire(); });
  f.Check([](TwoFiles& r) {
    r.ExpectFile(0, "a");
    r.ExpectFile(1, "b");
    r.CheckAndUnload();
  });
}

// ---------------------------------------------------------------------------
// Seeded bugs.

struct UnlockedCb : Rig {
  UnlockedCb() : Rig("ab", 3, "bugs=0x1") {}  // ASGN2_BUG_UNLOCKED_CB
};

// A2-B1. In kmc, contexts that take turns on one CPU are ordered (an
// interrupt runs to completion while the code it interrupted waits at a
// scheduling point, and the unlocked push/pop have no scheduling point in
// the middle), so a handler and a tasklet on the same CPU cannot lose an
// update. The bug needs them on two CPUs, as on real SMP hardware: the
// interrupt may be delivered to either CPU. kmc runs irq-exit softirqs on the
// interrupt source's own thread, which cannot fire again before they end, so
// a tasklet started at irq exit never overlaps the next interrupt. It runs
// elsewhere when the interrupt finds bottom halves disabled
// (the reader holds pq_lock with spin_lock_bh on CPU#0): it is then run by
// the reader's spin_unlock_bh() on CPU#0 while the next half-bytes arrive on
// CPU#1, and the handler's cb_count/cb_start updates race with the tasklet's.
// No ksoftirqd: a tasklet scheduled on CPU#1 while it runs on CPU#0 would
// wait for one (or for the end), but every execution that gets there has
// already pushed on CPU#1 concurrently with the pop on CPU#0, which is the
// race reported. (The fixed driver in this scenario needs ksoftirqd to stay
// live: test Asgn2Fixed.LockedCircularBufferWithInterruptsOnEitherCpu.)
// Search: iterative context bounding finds the race in its pass with 2
// preemptions (execution 9,621).
KMC_MODEL("asgn2/unlocked_circular_buffer") {
  auto f = m.Fixture<UnlockedCb>();
  m.Describe("A2-B1: the handler and the tasklet share the circular buffer without cb_lock; "
             "the interrupt may arrive on either CPU, so a handler on CPU#1 pushes while the "
             "tasklet pops on CPU#0 (run by the reader's spin_unlock_bh)");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  m.DefaultSearch(SearchMode::kBounded, 3);
  f.Task("reader", 0, [](UnlockedCb& r) { r.ReadOneFile(); });
  f.Irq("gpio", Model::kAnyCpu, 6, [](UnlockedCb& r) { r.Fire(); });
  f.Check([](UnlockedCb& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();
  });
}

// A2-B1 on one CPU, executed (fine-grained interleaving, Model::FineGrained):
// "a" reaches the reader through a tasklet run at irq exit; "b" arrives
// while the reader holds pq_lock with bottom halves off, so its tasklet runs
// at the reader's spin_unlock_bh() on CPU#0; and the '\0' arrives there
// between two plain accesses of that tasklet's unlocked cb_pop(): between
// the read of cb_count and the write of cb_count - 1. The handler's push is
// lost: the '\0' stays in the buffer uncounted, and the reader waits for the
// end of its file forever. The handler and the tasklet it interrupts are
// ordered on their CPU, so no race is reported: only the consequence shows.
// Without fine-grained interleaving this scenario is clean (see the comment
// above: the push and the pop have no scheduling point in the middle).
// Exhaustive (with the context-bounded passes first): found after about
// 4,500 executions. (Relacy counts the switches back from the interrupt
// source as preemptions too, so a context-bounded search alone needs bound
// 4: 336,060 executions.)
KMC_MODEL("asgn2/unlocked_circular_buffer_same_cpu") {
  auto f = m.Fixture<UnlockedCb>();
  m.Describe("A2-B1 on one CPU: the handler interrupts the tasklet (run by the reader's "
             "spin_unlock_bh on CPU#0) between two plain accesses of its unlocked cb_pop(); "
             "the push of the '\\0' is lost and the reader waits forever (fine-grained "
             "interleaving)");
  m.Expect({Verdict::kDeadlock, Verdict::kAssertionFailed});
  m.FineGrained();
  f.Task("reader", 0, [](UnlockedCb& r) { r.ReadOneFile(); });
  f.Irq("gpio", 0, 6, [](UnlockedCb& r) { r.Fire(); });
  f.Check([](UnlockedCb& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();
  });
}

struct OneBytePerTasklet : Rig {
  OneBytePerTasklet() : Rig("ab", 3, "bugs=0x2") {}  // ASGN2_BUG_ONE_BYTE_PER_TASKLET
};

// A2-B6. Two bytes arrive while the reader holds pq_lock with bottom halves
// off; their two tasklet_schedule()s coalesce into one run at the reader's
// spin_unlock_bh(), which moves one byte. The last one, the '\0', stays in
// the circular buffer: the reader waits for the end of its file forever.
KMC_MODEL("asgn2/one_byte_per_tasklet") {
  auto f = m.Fixture<OneBytePerTasklet>();
  m.Describe("A2-B6: the tasklet moves one byte per run; coalesced schedules strand the "
             "file's '\\0' in the circular buffer and the reader sleeps forever");
  m.Expect(Verdict::kDeadlock);
  // Found after 218 executions (the pass with 2 preemptions).
  m.DefaultSearch(SearchMode::kBounded, 3);
  f.Task("reader", 0, [](OneBytePerTasklet& r) { r.ReadOneFile(); });
  f.Irq("gpio", 0, 6, [](OneBytePerTasklet& r) { r.Fire(); });
  f.Check([](OneBytePerTasklet& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();
  });
}

struct TaskletPlainCbLock : Rig {
  TaskletPlainCbLock() : Rig("ab", 3, "bugs=0x8") {}  // ASGN2_BUG_TASKLET_PLAIN_CB_LOCK
};

// A2-B2, bottom-half form: asgn2/one_file_same_cpu with the tasklet taking
// cb_lock with plain spin_lock(). The next half-byte interrupts the tasklet
// (run at the reader's spin_unlock_bh() or at irq exit) while it holds
// cb_lock. Exhaustive: found after 1,381 executions.
KMC_MODEL("asgn2/tasklet_cb_lock_without_irqsave") {
  auto f = m.Fixture<TaskletPlainCbLock>();
  m.Describe("A2-B2 in the tasklet: cb_lock taken with plain spin_lock() in softirq context; "
             "the top half interrupts the tasklet on its CPU and spins on cb_lock forever");
  m.Expect(Verdict::kDeadlock);
  f.Task("reader", 0, [](TaskletPlainCbLock& r) { r.ReadOneFile(); });
  f.Irq("gpio", 0, 6, [](TaskletPlainCbLock& r) { r.Fire(); });
  f.Check([](TaskletPlainCbLock& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();
  });
}

// The same bug with the reader on the other CPU: the tasklet now only runs
// at the irq exit of the GPIO line, and it is that line's next half-byte
// that interrupts it (Model::IrqExitPreemption).
KMC_MODEL("asgn2/tasklet_cb_lock_at_irq_exit") {
  auto f = m.Fixture<TaskletPlainCbLock>();
  m.Describe("A2-B2 in the tasklet, run at irq exit: the next half-byte of the same line "
             "interrupts the tasklet while it holds cb_lock (taken with plain spin_lock())");
  m.Expect(Verdict::kDeadlock);
  m.IrqExitPreemption();
  m.DefaultSearch(SearchMode::kBounded, 1);
  f.Task("reader", 1, [](TaskletPlainCbLock& r) { r.ReadOneFile(); });
  f.Irq("gpio", 0, 6, [](TaskletPlainCbLock& r) { r.Fire(); });
  f.Check([](TaskletPlainCbLock& r) {
    r.ExpectFile(0, "ab");
    r.CheckAndUnload();
  });
}

struct TeardownOrder : Rig {
  TeardownOrder() : Rig("a", 2, "bugs=0x4") {}  // ASGN2_BUG_TEARDOWN_ORDER
};

// A2-B12. rmmod runs while the generator still sends: exit frees the
// circular buffer and the pages, then calls free_irq(); an interrupt that
// arrives in between pushes its byte into the freed buffer. rmmod runs on
// the line's CPU (kmc's free_irq() does not wait for a handler running on
// another CPU; docs/DRIVERS.md, asgn2). Found within the first executions.
KMC_MODEL("asgn2/teardown_order") {
  auto f = m.Fixture<TeardownOrder>();
  m.Describe("A2-B12: module exit frees the circular buffer and the page queue before "
             "free_irq() (and never kills the tasklet); a late interrupt writes into the "
             "freed buffer");
  m.Expect(Verdict::kUseAfterFree);
  f.Task("rmmod", 0, [](TeardownOrder&) { KMC_ASSERT(rmmod("asgn2") == 0); });
  f.Irq("gpio", 0, 4, [](TeardownOrder& r) { r.Fire(); });
}

}  // namespace
}  // namespace kmc::models
