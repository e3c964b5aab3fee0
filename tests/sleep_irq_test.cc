// Verdicts of the sleeping-primitive and interrupt models
// (models/sleep_models.cc, models/irq_models.cc): one test case per model;
// failing models must also replay byte for byte, clean exhaustive models must
// exhaust their search space.

#include <string>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "tests/model_test_util.h"

namespace kmc::testing {
namespace {

class SleepIrqModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SleepIrqModelTest, MatchesExpectationAndReplays) {
  const std::string& name = GetParam();
  const Model* m = FindModel(name);
  ASSERT_NE(m, nullptr) << name;
  if (m->expected().Contains(Verdict::kClean)) {
    Result r = ExpectMatch(name);
    if (m->default_search() == SearchMode::kExhaustive) {
      EXPECT_TRUE(r.complete) << name << " did not exhaust its search space";
    }
  } else {
    ExpectReplayReproduces(name);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, SleepIrqModelTest,
    ::testing::Values(
        "waitqueue/wait_event_and_wake_up", "waitqueue/condition_without_barrier",
        "waitqueue/check_outside_queue", "waitqueue/manual_wait_with_recheck",
        "waitqueue/exclusive_wakes_one", "waitqueue/signal_interrupts_wait",
        "waitqueue/timeout_expires", "waitqueue/sleep_under_spinlock",
        "completion/waiter_and_completer", "completion/one_complete_two_waiters",
        "completion/complete_all_releases_everyone", "completion/complete_before_init",
        "completion/timeout", "rwsem/readers_and_writer", "rwsem/recursive_read_with_writer",
        "rwsem/downgrade", "kthread/start_work_stop", "irq/irqsave_protects",
        "irq/plain_spin_lock_vs_handler", "irq/handler_on_other_cpu_predicted",
        "irq/bh_lock_without_bh", "irq/bh_lock_with_bh", "irq/gfp_kernel_in_tasklet",
        "irq/copy_to_user_under_irqsave", "irq/wrong_unlock_variant",
        "irq/restore_unsaved_flags", "irq/tasklet_plain_lock_vs_handler",
        "irq/tasklet_irqsave_vs_handler", "tasklet/coalesce_drains_all", "irq/mutex_in_handler",
        "workqueue/flush_waits_for_work", "timer/del_timer_sync_waits"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string n = info.param;
      for (char& c : n) {
        if (c == '/') c = '_';
      }
      return n;
    });

// An interrupt report says where the handler came in: CPU, context and the
// interrupted task.
TEST(IrqReportTest, ShowsCpuContextAndInterruptionPoint) {
  Result r = ExpectMatch("irq/plain_spin_lock_vs_handler");
  EXPECT_EQ(r.message.rfind("BUG: spinlock cpu recursion on CPU#0", 0), 0u) << r.message;
  EXPECT_NE(r.report.find("hardirq gpio enters on CPU#0, interrupting reader/101 at "),
            std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("CPU#0 hardirq"), std::string::npos) << r.report;
}

// A hardirq preempts a softirq on its CPU: the tasklet's plain spin_lock()
// of the handler's lock is found on one CPU, and the report says the
// handler interrupted the task's softirq context where the lock was taken.
TEST(IrqReportTest, HardirqPreemptsSoftirqOnItsCpu) {
  Result r = ExpectMatch("irq/tasklet_plain_lock_vs_handler");
  EXPECT_EQ(r.message.rfind("BUG: spinlock cpu recursion on CPU#0", 0), 0u) << r.message;
  EXPECT_TRUE(Contains(r.report, "interrupting kick/101 (softirq context) at models/irq_models.cc"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "CPU#0 softirq spin_lock(&lock)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "CPU#0 hardirq spin_lock(&lock)")) << r.report;
}

}  // namespace
}  // namespace kmc::testing
