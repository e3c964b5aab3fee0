// Faulty models (tests/robust_test_models.cc): every way a model can crash,
// overflow its stack or hang ends with a verdict of its own, in-process
// where the fault can be resumed from and in a worker process always; the
// next model still runs; the replay token reproduces the report.

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "sync/worker.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Contains;

// The kernel stack size reports name: 16 KiB, doubled in an AddressSanitizer
// build as the kernel's THREAD_SIZE is under KASAN (sync/internal/engine.h).
std::string ThreadSize() {
#if defined(__SANITIZE_ADDRESS__)
  return "32768-byte stack";
#else
  return "16384-byte stack";
#endif
}

// A short watchdog: the hanging models never reach a scheduling point, so
// any budget catches them; 0.25 s keeps the suite fast.
class RobustTest : public ::testing::Test {
 protected:
  void SetUp() override { SetWatchdogSeconds(0.25); }
  void TearDown() override { SetWatchdogSeconds(5); }
};

const Model& M(const std::string& name) {
  const Model* m = FindModel(name);
  EXPECT_NE(m, nullptr) << name;
  return *m;
}

// "tests/robust_test_models.cc:N" for the line marked "// FAULT: <marker>"
// in the models' source (a data dependency of this test).
std::string FaultLine(const std::string& marker) {
  const std::string file = "tests/robust_test_models.cc";
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << file;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find("// FAULT: " + marker) != std::string::npos) {
      return file + ":" + std::to_string(n);
    }
  }
  ADD_FAILURE() << "no line marked " << marker;
  return "?";
}

// In-process check, then the same model in a worker: same verdict, same
// report; the token replays to the same report both ways.
Result ExpectSameBothWays(const std::string& name, Verdict verdict) {
  const Result in = CheckModel(M(name), {});
  EXPECT_EQ(in.verdict, verdict) << in.report;
  EXPECT_TRUE(in.match) << in.report;
  const Result iso = CheckModelIsolated(M(name), {});
  EXPECT_EQ(iso.verdict, verdict) << iso.report;
  EXPECT_EQ(iso.message, in.message);
  EXPECT_EQ(iso.report, in.report);
  EXPECT_EQ(iso.replay, in.replay);
  if (!in.replay.empty()) {
    std::string error;
    std::optional<Result> again = ReplayModel(M(name), in.replay, &error);
    EXPECT_TRUE(again.has_value()) << error;
    if (again) {
      EXPECT_EQ(again->report, in.report);
    }
    std::optional<Result> again_iso = ReplayModelIsolated(M(name), in.replay, &error);
    EXPECT_TRUE(again_iso.has_value()) << error;
    if (again_iso) {
      EXPECT_EQ(again_iso->report, in.report);
    }
  }
  // The next model still runs, in the same process.
  EXPECT_CLEAN(CheckModel(M("robust_test/clean_counter"), {}));
  return in;
}

TEST_F(RobustTest, NullWriteIsAKernelOops) {
  const Result r = ExpectSameBothWays("robust_test/null_write", Verdict::kKernelOops);
  EXPECT_EQ(r.message, "BUG: kernel NULL pointer dereference, address: 0000000000000008");
  EXPECT_TRUE(Contains(r.report, "#PF: supervisor write access in kernel mode")) << r.report;
  EXPECT_TRUE(Contains(r.report, "Comm: writer")) << r.report;
  // The faulting statement itself, from the line table of the faulting
  // instruction, not the task's last kernel call.
  const std::string at = FaultLine("null_write");
  EXPECT_TRUE(Contains(r.report, "RIP: KmcDefineModel1 (" + at + ")")) << r.report;
  EXPECT_TRUE(Contains(r.report, "*** BUG: kernel NULL pointer dereference, address: "
                                 "0000000000000008 " + at)) << r.report;
  EXPECT_TRUE(Contains(r.report, "interleaving (")) << r.report;
  EXPECT_TRUE(Contains(r.report, "replay:   bazel run //:kmc -- replay robust_test/null_write kmc1."))
      << r.report;
}

TEST_F(RobustTest, NullStructFieldIsAKernelOopsAtTheDriverLine) {
  const Result r = ExpectSameBothWays("robust_test/null_struct_field", Verdict::kKernelOops);
  EXPECT_EQ(r.message, "BUG: kernel NULL pointer dereference, address: 0000000000000000");
  EXPECT_TRUE(Contains(r.report, FaultLine("null_struct_field"))) << r.report;
}

TEST_F(RobustTest, WildPointerIsAPageFault) {
  const Result r = ExpectSameBothWays("robust_test/wild_pointer", Verdict::kKernelOops);
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer the fault is on the shadow of that address.
  EXPECT_TRUE(Contains(r.message, "BUG: unable to handle page fault for address: 00000000"))
      << r.message;
#else
  EXPECT_EQ(r.message, "BUG: unable to handle page fault for address: 00000000dead0000");
#endif
  EXPECT_TRUE(Contains(r.report, "#PF: supervisor read access in kernel mode")) << r.report;
  EXPECT_TRUE(Contains(r.report, "RIP: KmcDefineModel3 (" + FaultLine("wild_pointer") + ")"))
      << r.report;
}

// The fault is inside the C library's memset: the report names the driver
// line that called it (the unwinder walks out of the library's frames).
TEST_F(RobustTest, FaultInTheCLibraryIsReportedAtTheCallingDriverLine) {
  const Result r = ExpectSameBothWays("robust_test/null_memset", Verdict::kKernelOops);
  EXPECT_EQ(r.message, "BUG: kernel NULL pointer dereference, address: 0000000000000008");
  EXPECT_TRUE(Contains(r.report, "(" + FaultLine("null_memset") + ")")) << r.report;
}

TEST_F(RobustTest, DivideByZeroIsADivideError) {
  const Result r = ExpectSameBothWays("robust_test/divide_error", Verdict::kKernelOops);
  EXPECT_EQ(r.message, "divide error: 0000 [#1] PREEMPT SMP");
  EXPECT_TRUE(Contains(r.report, "RIP: KmcDefineModel4 (" + FaultLine("divide_error") + ")"))
      << r.report;
}

// Recursion without end and without kernel calls: the guard at the kernel's
// stack limit sees the first driver frame past 16 KiB (32 KiB under ASan).
TEST_F(RobustTest, RunawayRecursionIsAKernelStackOverflow) {
  const Result r = ExpectSameBothWays("robust_test/runaway_recursion", Verdict::kStackOverflow);
  EXPECT_EQ(r.message,
            "BUG: kernel stack overflow: recurser/101 on CPU#0 (process context) went past its " +
                ThreadSize() + " (THREAD_SIZE)");
  EXPECT_TRUE(Contains(r.report, " Recurse (the deepest driver frame, where it crossed the limit"))
      << r.report;
}

// With no kernel stack limit (Model::KernelStackSize(0)) the same recursion
// runs into the engine thread's own guard region.
TEST_F(RobustTest, RunawayRecursionWithoutALimitHitsTheGuardPage) {
  const Result r =
      ExpectSameBothWays("robust_test/runaway_recursion_no_limit", Verdict::kStackOverflow);
  EXPECT_TRUE(Contains(r.message, "BUG: stack guard page was hit at ffffc900")) << r.message;
  EXPECT_TRUE(Contains(r.report, "kernel stack overflow (page fault)")) << r.report;
}

TEST_F(RobustTest, HugeLocalsAreAKernelStackOverflow) {
  const Result r = ExpectSameBothWays("robust_test/huge_locals", Verdict::kStackOverflow);
  EXPECT_TRUE(Contains(r.message, "BUG: kernel stack overflow: hog/101")) << r.message;
}

// A kernel call at every level: the check at each call sees the depth.
TEST_F(RobustTest, KernelStackLimitIsChecked) {
  const Result r = ExpectSameBothWays("robust_test/deep_kernel_stack", Verdict::kStackOverflow);
  EXPECT_TRUE(Contains(r.message, "BUG: kernel stack overflow: deep/")) << r.message;
  EXPECT_TRUE(Contains(r.message, ThreadSize() + " (THREAD_SIZE)")) << r.message;
  EXPECT_TRUE(Contains(r.report, "(the deepest driver frame")) << r.report;
  EXPECT_TRUE(Contains(r.report, "KernelRecurse")) << r.report;
  EXPECT_CLEAN(CheckModel(M("robust_test/shallow_kernel_stack"), {}));
  EXPECT_CLEAN(CheckModel(M("robust_test/deep_kernel_stack_64k"), {}));
}

// No kernel call in the deep frames: the guard pages below the limit catch
// the first frame past it; the frames that stay within it, and the same
// frames under a 64 KiB limit, are clean (kmc's own frames below a kernel
// call near the limit do not count).
TEST_F(RobustTest, KernelStackLimitIsCheckedWithoutKernelCalls) {
  const Result r = ExpectSameBothWays("robust_test/deep_driver_stack", Verdict::kStackOverflow);
  EXPECT_EQ(r.message,
            "BUG: kernel stack overflow: deep/101 on CPU#0 (process context) went past its " +
                ThreadSize() + " (THREAD_SIZE)");
  EXPECT_TRUE(Contains(r.report, "tests/robust_test_models.cc:")) << r.report;
  EXPECT_TRUE(Contains(r.report, " PlainRecurse (the deepest driver frame, where it crossed"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "(Model::KernelStackSize")) << r.report;
  EXPECT_CLEAN(CheckModel(M("robust_test/shallow_driver_stack"), {}));
  EXPECT_CLEAN(CheckModel(M("robust_test/deep_driver_stack_64k"), {}));
  EXPECT_CLEAN(CheckModelIsolated(M("robust_test/shallow_driver_stack"), {}));
}

// The same for an interrupt handler (its frames count from where the
// interrupt source's engine thread began).
TEST_F(RobustTest, KernelStackLimitIsCheckedForHandlers) {
  const Result r = ExpectSameBothWays("robust_test/deep_irq_handler", Verdict::kStackOverflow);
  EXPECT_TRUE(Contains(r.message, "BUG: kernel stack overflow: ")) << r.message;
  EXPECT_TRUE(Contains(r.message, "irq/deepirq/301 on CPU#0 (hardirq context) went past its " +
                                  ThreadSize())) << r.message;
  EXPECT_TRUE(Contains(r.report, " PlainRecurse (the deepest driver frame")) << r.report;
}

TEST_F(RobustTest, UncaughtExceptionIsAModelError) {
  const Result r = ExpectSameBothWays("robust_test/uncaught_exception", Verdict::kModelError);
  EXPECT_TRUE(Contains(r.message, "uncaught C++ exception: boom")) << r.message;
}

TEST_F(RobustTest, SpinWithoutSchedulingPointIsASoftLockup) {
  const Result r =
      ExpectSameBothWays("robust_test/spin_without_schedule_point", Verdict::kSoftLockup);
  EXPECT_EQ(r.message, "watchdog: BUG: soft lockup - CPU#0 stuck for 1s! [spinner:101]");
}

TEST_F(RobustTest, HostMutexHeldAcrossASchedulingPointIsASoftLockup) {
  const Result r = ExpectSameBothWays("robust_test/host_mutex", Verdict::kSoftLockup);
  EXPECT_TRUE(Contains(r.report, "host std::mutex")) << r.report;
}

TEST_F(RobustTest, HostThreadIsAModelError) {
  const Result r = ExpectSameBothWays("robust_test/host_thread", Verdict::kModelError);
  EXPECT_TRUE(Contains(r.message, "spawner/101 on CPU#0 (process context) started a host thread"))
      << r.message;
}

TEST_F(RobustTest, HugeKmallocReturnsNull) {
  EXPECT_CLEAN(CheckModel(M("robust_test/huge_kmalloc"), {}));
}

// abort() and exit() cannot be resumed from: only a worker survives them,
// and its replay worker's last words are the report.
TEST_F(RobustTest, AbortInATaskIsReportedByTheWorker) {
  const Result r = CheckModelIsolated(M("robust_test/abort"), {});
  EXPECT_EQ(r.verdict, Verdict::kKernelOops) << r.report;
  EXPECT_EQ(r.message, "Kernel panic - not syncing: abort() called");
  EXPECT_TRUE(Contains(r.report, "Comm: aborter")) << r.report;
  EXPECT_TRUE(Contains(r.report, "interleaving (")) << r.report;
  ASSERT_FALSE(r.replay.empty());
  std::string error;
  std::optional<Result> again = ReplayModelIsolated(M("robust_test/abort"), r.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->report, r.report);
  EXPECT_CLEAN(CheckModelIsolated(M("robust_test/clean_counter"), {}));
}

TEST_F(RobustTest, ExitInATaskIsReportedByTheWorker) {
  const Result r = CheckModelIsolated(M("robust_test/exit"), {});
  EXPECT_EQ(r.verdict, Verdict::kModelError) << r.report;
  EXPECT_TRUE(Contains(r.message, "quitter/101 called exit(0)")) << r.message;
  ASSERT_FALSE(r.replay.empty());
  std::string error;
  std::optional<Result> again = ReplayModelIsolated(M("robust_test/exit"), r.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->report, r.report);
}

// A 200,000-step livelock: the run-length encoded token stays short enough
// for a command line, and replays to the same report.
TEST_F(RobustTest, LongLivelockTokenIsShort) {
  const Result r = CheckModel(M("robust_test/long_livelock"), {});
  EXPECT_EQ(r.verdict, Verdict::kLivelock) << r.message;
  EXPECT_LT(r.replay.size(), 4096u) << r.replay.substr(0, 400);
  std::string error;
  std::optional<Result> again = ReplayModel(M("robust_test/long_livelock"), r.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->report, r.report);
}

size_t MappingCount() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return 0;
  size_t lines = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) lines += c == '\n' ? 1 : 0;
  std::fclose(f);
  return lines;
}

// Engine-thread stacks are unmapped when the engine's context ends, also
// after failing executions, so checking many models does not grow the
// process (Relacy's own stacks were never freed). A stack left mapped would
// add two mappings (guard and stack) per engine thread per run: 200 here.
// (Some slack: AddressSanitizer's allocator maps memory of its own.)
TEST_F(RobustTest, FiberStacksAreReleased) {
  for (int i = 0; i < 5; ++i) CheckModel(M("robust_test/null_write"), {});
  const size_t before = MappingCount();
  for (int i = 0; i < 50; ++i) CheckModel(M("robust_test/null_write"), {});
  EXPECT_LE(MappingCount(), before + 20);
}

// A clean and a failing shipped-style model give the same JSON in a worker
// as in-process (every Result field travels through the worker's pipe).
TEST_F(RobustTest, WorkerResultsEqualInProcessResults) {
  for (const char* name : {"robust_test/clean_counter", "robust_test/null_write"}) {
    Result in = CheckModel(M(name), {});
    Result iso = CheckModelIsolated(M(name), {});
    in.seconds = iso.seconds = 0;
    EXPECT_EQ(ResultToJson(iso), ResultToJson(in));
  }
}

}  // namespace
}  // namespace kmc
