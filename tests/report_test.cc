// Reports: field names from debug information, locks held, preemptions,
// short/full traces, deadlock scenarios, and byte-identical replay.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Contains;

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// The interleaving section: from "interleaving (" to the "replay:" line.
std::vector<std::string> Interleaving(const std::string& report) {
  std::vector<std::string> out;
  bool in = false;
  for (const std::string& l : Lines(report)) {
    if (l.rfind("interleaving (", 0) == 0) in = true;
    if (l.rfind("replay:", 0) == 0) in = false;
    if (in) out.push_back(l);
  }
  return out;
}

Result CheckWith(const std::string& name, TraceMode mode) {
  RunOptions o;
  o.trace = mode;
  return testing::Check(name, o);
}

void ExpectReplaySame(const Result& r, TraceMode mode) {
  const Model* m = FindModel(r.model);
  ASSERT_NE(m, nullptr);
  std::string error;
  const auto again = ReplayModel(*m, r.replay, &error, mode);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->report, r.report);
}

struct LateReader {
  kernel::Shared<int> x{0};
};

// A race report names each access with the CPU and context it ran in: the
// handler's write ran in hardirq context, though its interrupt source has
// left that context (and ended) when the task's read races with it.
TEST(ReportTest, RaceNamesEachAccessInTheContextItRanIn) {
  Model m("unit/late_reader");
  auto f = m.Fixture<LateReader>();
  f.Task("reader", 1, [](LateReader& r) {
    kernel::set_current_state(kernel::TASK_UNINTERRUPTIBLE);
    kernel::schedule_timeout(1);  // the handler runs meanwhile
    const int seen = r.x;
    (void)seen;
  });
  f.Irq("dev", 0, 1, [](LateReader& r) { r.x = 1; });
  RunOptions o;
  o.search = SearchMode::kBounded;
  o.bound = 0;
  const Result r = CheckModel(m, o);
  ASSERT_EQ(r.verdict, Verdict::kDataRace) << r.report;
  EXPECT_TRUE(Contains(r.report, "previous write by irq/dev/301 on CPU#0 (hardirq context)"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "by reader/101 on CPU#1 (process context)")) << r.report;
}

TEST(ReportTest, RaceNamesTheAllocationAndBothAccesses) {
  const Result r = CheckWith("scull/unlocked_write", TraceMode::kShort);
  ASSERT_EQ(r.verdict, Verdict::kDataRace) << r.report;
  EXPECT_TRUE(Contains(r.report, "(scull_follow)\n call chain:\n  scull_follow() at "
                                 "drivers/scull/main.c:"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "\nprevious write by writer0/101")) << r.report;
  EXPECT_TRUE(Contains(r.report, "\npreemptions: 0\n")) << r.report;
  ExpectReplaySame(r, TraceMode::kShort);
}

// scull is kernel C (drivers/scull/main.c): a C kmalloc() hands kmc no type.
// The report takes it from DWARF: the global pointer that holds the block
// (scull_devices: struct scull_dev *) or the pointer field that does
// (dev->data: struct scull_qset *), and names the struct's pointer as the
// driver's functions name it most often (dev, dptr).
TEST(ReportTest, RaceNamesTheFieldsOfCHeapObjects) {
  const Result r = CheckWith("scull/unlocked_write", TraceMode::kShort);
  ASSERT_EQ(r.verdict, Verdict::kDataRace) << r.report;
  EXPECT_TRUE(Contains(r.report, "read of dev->data (offset 0 of object #1, struct scull_dev, "
                                 "112 bytes from kmalloc at drivers/scull/main.c:"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "read dev->data ")) << r.report;
  EXPECT_TRUE(Contains(r.report, "write dev->data")) << r.report;
  EXPECT_FALSE(Contains(r.report, "obj#1+")) << r.report;
}

TEST(ReportTest, ArraysAreNamedAfterThePointerTheyWereStoredIn) {
  const Result r = CheckWith("scull/unlocked_write", TraceMode::kFull);
  ASSERT_EQ(r.verdict, Verdict::kDataRace) << r.report;
  EXPECT_TRUE(Contains(r.report, "write dptr->data[0] ")) << r.report;
  EXPECT_TRUE(Contains(r.report, "write copy_from_user dptr->data[0][0..3]")) << r.report;
  EXPECT_TRUE(Contains(r.report, "write memset dptr->data[0..1]")) << r.report;
  ExpectReplaySame(r, TraceMode::kFull);
}

TEST(ReportTest, ShortTraceFoldsPrivateStepsFullTraceShowsAll) {
  const Result full = CheckWith("scull/unlocked_write", TraceMode::kFull);
  const Result brief = CheckWith("scull/unlocked_write", TraceMode::kShort);
  ASSERT_EQ(full.replay, brief.replay);
  size_t full_steps = 0, short_steps = 0, folds = 0;
  for (const std::string& l : Interleaving(full.report)) {
    if (l.size() > 4 && l[3] >= '0' && l[3] <= '9') ++full_steps;
  }
  for (const std::string& l : Interleaving(brief.report)) {
    if (l.size() > 4 && l[3] >= '0' && l[3] <= '9') ++short_steps;
    if (l.rfind("   ...  writer0/101", 0) == 0) ++folds;
  }
  EXPECT_EQ(full_steps, 46u) << full.report;
  EXPECT_LT(short_steps, full_steps) << brief.report;
  EXPECT_GE(folds, 1u) << brief.report;
  // The racing accesses and the failing step are never folded.
  EXPECT_TRUE(Contains(brief.report, "write dev->data ")) << brief.report;
  EXPECT_TRUE(Contains(brief.report, "*** BUG: KCSAN: data-race in scull_follow")) << brief.report;
}

TEST(ReportTest, LocksHeldAndPreemptionsAreShown) {
  const Result r = CheckWith("scullpipe/if_not_while", TraceMode::kShort);
  ASSERT_EQ(r.verdict, Verdict::kAssertionFailed) << r.report;
  // Iterative context bounding: the passes with 0 and 1 preemption find
  // nothing, so the reported interleaving has exactly 2 (the exhaustive
  // search alone reported one with 4).
  EXPECT_TRUE(Contains(r.report, "\npreemptions: 2\n")) << r.report;
  EXPECT_TRUE(Contains(r.report, "of the pass with at most 2 preemptions (iterative context "
                                 "bounding; the passes with fewer found nothing)\n"))
      << r.report;
  EXPECT_EQ(r.preemptions, 2);
  EXPECT_EQ(r.preemption_bound, 2);
  EXPECT_TRUE(Contains(r.report, "        -- preempted: reader0/102 -> writer/101 --\n"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "down_interruptible(&dev->sem)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "scull_p_read  {&dev->sem}\n")) << r.report;
  EXPECT_TRUE(Contains(r.report, "scull_p_read  {no locks}\n")) << r.report;
  EXPECT_LE(Interleaving(r.report).size(), 50u) << r.report;
  ExpectReplaySame(r, TraceMode::kShort);
}

TEST(ReportTest, InterruptContextsKeepTheirOwnLocks) {
  const Result r = CheckWith("asgn2/tasklet_cb_lock_at_irq_exit", TraceMode::kShort);
  ASSERT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_TRUE(Contains(r.report, "softirq spin_lock(&dev->cb_lock)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "asgn2_do_tasklet  {&dev->cb_lock}\n")) << r.report;
  EXPECT_TRUE(Contains(r.report, "hardirq gpio enters on CPU#0, interrupting irq/gpio/301 "
                                 "(softirq context)"))
      << r.report;
  EXPECT_LE(Interleaving(r.report).size(), 60u) << r.report;
  ExpectReplaySame(r, TraceMode::kShort);
}

TEST(ReportTest, UseAfterFreeNamesTheFieldAndTheGlobalPointer) {
  const Result r = CheckWith("rcu/free_without_grace_period", TraceMode::kShort);
  ASSERT_EQ(r.verdict, Verdict::kUseAfterFree) << r.report;
  EXPECT_TRUE(Contains(r.report, "Read of size 4 of config->a at offset 0 of object #1"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "rcu_dereference(gp)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "rcu_read_lock                                "
                                 "models/rcu_models.cc:36 ConfigReader  {rcu_read_lock}\n"))
      << r.report;
  ExpectReplaySame(r, TraceMode::kShort);
}

TEST(ReportTest, DeadlockSaysWhoHoldsWhatAndDrawsTheScenario) {
  const Result r = testing::ExpectMatch("mutex/ab_ba");
  ASSERT_EQ(r.verdict, Verdict::kDeadlock) << r.report;
  EXPECT_TRUE(Contains(r.report, "  it waits for &b, held by t1/102\n")) << r.report;
  EXPECT_TRUE(Contains(r.report, "  it waits for &a, held by t0/101\n")) << r.report;
  EXPECT_TRUE(Contains(r.report, " Possible unsafe locking scenario:")) << r.report;
  EXPECT_TRUE(Contains(r.report, "CPU0 (t0)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "CPU1 (t1)")) << r.report;
  EXPECT_TRUE(Contains(r.report, " *** DEADLOCK ***")) << r.report;
  ExpectReplaySame(r, TraceMode::kShort);
}

// Issue 14's four models: with --trace=short the whole report fits one
// screen (at most 50 lines), counts preemptions, names memory (no bare
// obj#N+offset) and shows locks held where the model holds any.
TEST(ReportTest, TheFourShowcaseModelsFitOneScreen) {
  for (const char* name : {"scull/unlocked_write", "scullpipe/if_not_while",
                           "asgn2/tasklet_cb_lock_at_irq_exit", "rcu/free_without_grace_period"}) {
    const Result r = CheckWith(name, TraceMode::kShort);
    EXPECT_TRUE(r.match) << r.report;
    EXPECT_LE(Lines(r.report).size(), 50u) << name << "\n" << r.report;
    EXPECT_LE(Interleaving(r.report).size(), 40u) << name << "\n" << r.report;
    EXPECT_TRUE(Contains(r.report, "\npreemptions: ")) << r.report;
    EXPECT_FALSE(Contains(r.report, "obj#1+")) << r.report;
    if (std::string(name) != "scull/unlocked_write") {
      EXPECT_TRUE(Contains(r.report, "  {")) << name << ": no locks held shown\n" << r.report;
    }
    ExpectReplaySame(r, TraceMode::kShort);
  }
}

// asgn2's deadlock needs six interrupts, two tasklet runs and lockdep's
// warning on the way: 121 steps. The short report folds the interrupts
// that ran to their end (and the module's setup) and keeps, line by line,
// what the deadlock is made of: the tasklet taking &dev->cb_lock, the
// hardirq that interrupts it, the failing step, and the check that fired
// on the way; lockdep's scenario is not drawn twice.
TEST(ReportTest, ShortTraceFoldsInterruptsThatRanToTheirEnd) {
  const Result brief = CheckWith("asgn2/tasklet_cb_lock_at_irq_exit", TraceMode::kShort);
  const Result full = CheckWith("asgn2/tasklet_cb_lock_at_irq_exit", TraceMode::kFull);
  ASSERT_EQ(brief.verdict, Verdict::kDeadlock) << brief.report;
  ASSERT_EQ(brief.replay, full.replay);
  EXPECT_LE(Lines(brief.report).size(), 50u) << brief.report;
  EXPECT_GE(Lines(full.report).size(), 150u) << full.report;
  const std::vector<std::string> lines = Interleaving(brief.report);
  auto line_with = [&lines](const std::string& what) -> std::string {
    for (const std::string& l : lines) {
      if (Contains(l, what)) return l;
    }
    return "";
  };
  // The interrupts before the deadlock's fold into lines saying what ran
  // and which locks they took and released.
  EXPECT_TRUE(Contains(brief.report, "   ...  irq/gpio/301     CPU#0 irq     steps 11-38 (28): "
                                     "hardirq gpio x2, tasklet asgn2_tasklet; locks taken or "
                                     "released: &dev->cb_lock\n"))
      << brief.report;
  EXPECT_TRUE(Contains(brief.report, ": tasklet asgn2_tasklet (from step 36); locks taken or "
                                     "released: &dev->cb_lock, &dev->pq_lock\n"))
      << brief.report;
  // Kept: lockdep's warning (with the lock it holds), the wake-up of the
  // sleeping reader, the tasklet's lock, the hardirq over it, the failure.
  EXPECT_TRUE(Contains(line_with("*** lockdep: WARNING: inconsistent lock state"),
                       "asgn2_do_tasklet  {&dev->cb_lock}"))
      << brief.report;
  EXPECT_FALSE(line_with("wake_up_interruptible(&dev->read_wq)").empty()) << brief.report;
  EXPECT_TRUE(Contains(line_with(" 105  irq/gpio/301"),
                       "softirq spin_lock(&dev->cb_lock)")) << brief.report;
  EXPECT_TRUE(Contains(line_with(" 105  irq/gpio/301"), "  {&dev->cb_lock}")) << brief.report;
  EXPECT_TRUE(Contains(line_with(" 114  irq/gpio/301"),
                       "interrupting irq/gpio/301 (softirq context) at drivers/asgn2/asgn2.c:319"))
      << brief.report;
  EXPECT_TRUE(Contains(line_with(" 121  irq/gpio/301"), "*** BUG: spinlock cpu recursion"))
      << brief.report;
  EXPECT_TRUE(Contains(brief.report, "\npreemptions: 0\n")) << brief.report;
  // Lockdep's own drawing of the scenario the report already drew is left
  // out; --trace=full keeps it, and every step.
  EXPECT_TRUE(Contains(brief.report, "(other info: the same scenario as above")) << brief.report;
  EXPECT_TRUE(Contains(full.report, "other info that might help us debug this:\n"))
      << full.report;
  EXPECT_FALSE(Contains(full.report, "   ...  ")) << full.report;
  EXPECT_TRUE(Contains(full.report, " 100  irq/gpio/301     CPU#0 hardirq ")) << full.report;
  // A header found through the include path "." is named without "./".
  EXPECT_TRUE(Contains(full.report, " models/asgn2_rig.h:")) << full.report;
  EXPECT_FALSE(Contains(full.report, "./models/")) << full.report;
  ExpectReplaySame(brief, TraceMode::kShort);
  ExpectReplaySame(full, TraceMode::kFull);
}

// The steps a short trace keeps name what they refer to: rcu's stale read
// "reads the store of step 2", which is the module's setup, and step 2
// stays shown.
TEST(ReportTest, AStepAShownStepNamesStaysShown) {
  const Result r = CheckWith("rcu/free_without_grace_period", TraceMode::kShort);
  ASSERT_EQ(r.verdict, Verdict::kUseAfterFree) << r.report;
  EXPECT_TRUE(Contains(r.report, "[stale: reads the store of step 2, not the store of step 7]"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "\n   2  insmod/100       CPU#0 proc    RCU_INIT_POINTER"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "\n   7  updater/101      CPU#0 proc    rcu_assign_pointer(gp)"))
      << r.report;
}

// The module's setup (insmod before any task runs) folds into one line.
TEST(ReportTest, ShortTraceFoldsTheModuleSetup) {
  const Result r = CheckWith("scullpipe/if_not_while", TraceMode::kShort);
  EXPECT_TRUE(Contains(r.report, "\n   ...  insmod/100       CPU#0 proc    steps 1-23 (23) module "
                                 "setup in "))
      << r.report;
  ExpectReplaySame(r, TraceMode::kShort);
}

}  // namespace
}  // namespace kmc
