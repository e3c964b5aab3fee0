// The models of models/primitives_models.cc: each one's verdict matches its
// expectation, each failing one replays byte for byte, and the reports use
// the kernel's own headlines.

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using ::kmc::testing::Check;
using ::kmc::testing::ExpectMatch;
using ::kmc::testing::ExpectReplayReproduces;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Checks a failing model: verdict, replay, and the exact verdict it shows.
Result ExpectFailure(const std::string& name, Verdict verdict) {
  Result r = ExpectMatch(name);
  EXPECT_EQ(r.verdict, verdict) << name << "\n" << r.report;
  EXPECT_FALSE(r.complete) << name;
  EXPECT_FALSE(r.replay.empty()) << name;
  ExpectReplayReproduces(name);
  return r;
}

Result ExpectClean(const std::string& name) {
  Result r = ExpectMatch(name);
  EXPECT_EQ(r.verdict, Verdict::kClean) << name << "\n" << r.report;
  EXPECT_TRUE(r.replay.empty()) << name;
  EXPECT_TRUE(r.report.empty()) << name << "\n" << r.report;
  return r;
}

// --- atomic_t and bit operations -------------------------------------------

TEST(AtomicModels, IncReturnCounts) { ExpectClean("atomic/inc_return_counts"); }

TEST(AtomicModels, ReadThenSetLosesUpdate) {
  Result r = ExpectFailure("atomic/read_then_set_loses_update", Verdict::kAssertionFailed);
  EXPECT_TRUE(StartsWith(r.message, "kmc: assertion failed: ")) << r.message;
}

TEST(AtomicModels, PlainCounterRace) {
  Result r = ExpectFailure("atomic/plain_counter_race", Verdict::kDataRace);
  EXPECT_TRUE(StartsWith(r.message, "BUG: KCSAN: data-race in ")) << r.message;
  EXPECT_NE(r.report.find("no lock or barrier orders the two accesses"), std::string::npos)
      << r.report;
}

TEST(BitopsModels, TestAndSetBitLock) { ExpectClean("bitops/test_and_set_bit_lock"); }

TEST(BitopsModels, TestBitThenSetBit) {
  Result r = ExpectMatch("bitops/test_bit_then_set_bit");
  EXPECT_TRUE(r.verdict == Verdict::kDataRace || r.verdict == Verdict::kAssertionFailed)
      << VerdictName(r.verdict);
  ExpectReplayReproduces("bitops/test_bit_then_set_bit");
}

// --- struct semaphore -----------------------------------------------------------

TEST(SemaphoreModels, MutualExclusion) { ExpectClean("semaphore/mutual_exclusion"); }

TEST(SemaphoreModels, ExtraUpBreaksExclusion) {
  Result r = ExpectMatch("semaphore/extra_up_breaks_exclusion");
  EXPECT_TRUE(r.verdict == Verdict::kDataRace || r.verdict == Verdict::kAssertionFailed)
      << VerdictName(r.verdict);
  ExpectReplayReproduces("semaphore/extra_up_breaks_exclusion");
}

TEST(SemaphoreModels, TrylockInverted) {
  Result r = ExpectMatch("semaphore/trylock_inverted");
  EXPECT_TRUE(r.verdict == Verdict::kDataRace || r.verdict == Verdict::kAssertionFailed)
      << VerdictName(r.verdict);
  ExpectReplayReproduces("semaphore/trylock_inverted");
}

TEST(SemaphoreModels, MissingUpDeadlock) {
  Result r = ExpectFailure("semaphore/missing_up_deadlock", Verdict::kDeadlock);
  // The report names the task that sleeps forever and what it waits in.
  EXPECT_NE(r.report.find("blocked forever"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("down(&sem)"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("INFO: task waiter:102 blocked for more than 120 seconds.\n"
                          "      task waiter:102 blocked forever on CPU#1 in down(&sem) at "
                          "models/primitives_models.cc:"),
            std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("task leaker:101 has exited"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("asleep in down(&sem)"), std::string::npos) << r.report;
}

TEST(SemaphoreModels, InterruptibleSignal) { ExpectClean("semaphore/interruptible_signal"); }

// --- struct mutex -------------------------------------------------------------------

TEST(MutexModels, MutualExclusion) { ExpectClean("mutex/mutual_exclusion"); }

TEST(MutexModels, UnlockByNonOwner) {
  Result r = ExpectFailure("mutex/unlock_by_non_owner", Verdict::kLockMisuse);
  // The owner never unlocks, so the first execution the search reaches may
  // end with the owner exiting with the lock held (LD-08) instead of the
  // thief's unlock; both are lockdep headlines for lock misuse.
  EXPECT_TRUE(StartsWith(r.message, "DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)") ||
              StartsWith(r.message, "WARNING: lock held when returning to user space!"))
      << r.message;
  EXPECT_NE(r.report.find("&lock"), std::string::npos) << r.report;
}

TEST(MutexModels, DoubleUnlock) {
  Result r = ExpectFailure("mutex/double_unlock", Verdict::kLockMisuse);
  EXPECT_TRUE(StartsWith(r.message, "WARNING: bad unlock balance detected!")) << r.message;
  EXPECT_NE(r.report.find("but there are no more locks to release!"), std::string::npos)
      << r.report;
}

TEST(MutexModels, RecursiveLock) {
  Result r = ExpectFailure("mutex/recursive_lock", Verdict::kDeadlock);
  EXPECT_TRUE(StartsWith(r.message, "WARNING: possible recursive locking detected")) << r.message;
  EXPECT_NE(r.report.find("*** DEADLOCK ***"), std::string::npos) << r.report;
}

// --- spinlock_t -------------------------------------------------------------------

TEST(SpinlockModels, MutualExclusion) { ExpectClean("spinlock/mutual_exclusion"); }

TEST(SpinlockModels, Recursion) {
  Result r = ExpectFailure("spinlock/recursion", Verdict::kDeadlock);
  EXPECT_TRUE(StartsWith(r.message, "BUG: spinlock recursion on CPU#")) << r.message;
  EXPECT_EQ(r.message, "BUG: spinlock recursion on CPU#0, t0/101");
}

TEST(SpinlockModels, AlreadyUnlocked) {
  Result r = ExpectFailure("spinlock/already_unlocked", Verdict::kLockMisuse);
  EXPECT_TRUE(StartsWith(r.message, "BUG: spinlock already unlocked on CPU#")) << r.message;
}

TEST(SpinlockModels, WrongOwner) {
  Result r = ExpectMatch("spinlock/wrong_owner");
  EXPECT_TRUE(r.verdict == Verdict::kLockMisuse || r.verdict == Verdict::kInvalidContext)
      << VerdictName(r.verdict);
  if (r.verdict == Verdict::kLockMisuse) {
    EXPECT_TRUE(StartsWith(r.message, "BUG: spinlock wrong owner on CPU#")) << r.message;
  } else {
    EXPECT_TRUE(StartsWith(r.message, "BUG: sleeping function called from invalid context at "))
        << r.message;
  }
  ExpectReplayReproduces("spinlock/wrong_owner");
}

TEST(SpinlockModels, SleepWhileHolding) {
  Result r = ExpectFailure("spinlock/sleep_while_holding", Verdict::kInvalidContext);
  EXPECT_TRUE(StartsWith(
      r.message,
      "BUG: sleeping function called from invalid context at models/primitives_models.cc:"))
      << r.message;
  EXPECT_NE(r.report.find("in_atomic(): 1"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("1 lock held by t0/101:"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("the sleeping call: down"), std::string::npos) << r.report;
}

TEST(SpinlockModels, ExitWithLockHeld) {
  Result r = ExpectFailure("spinlock/exit_with_lock_held", Verdict::kLockMisuse);
  EXPECT_EQ(r.message, "WARNING: lock held when returning to user space!");
  EXPECT_NE(r.report.find("t0/101 is leaving the kernel with locks still held!"),
            std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("&lock (spinlock_t)"), std::string::npos) << r.report;
}

// --- Memory -----------------------------------------------------------------------

TEST(SlabModels, AllocFreeClean) { ExpectClean("slab/alloc_free_clean"); }

TEST(SlabModels, Leak) {
  Result r = ExpectFailure("slab/leak", Verdict::kMemoryLeak);
  EXPECT_TRUE(StartsWith(r.message, "kmemleak:")) << r.message;
  EXPECT_EQ(r.message, "kmemleak: 1 new suspected memory leaks (32 bytes)");
  EXPECT_NE(r.report.find("unreferenced object #1 (size 32):"), std::string::npos) << r.report;
}

TEST(SlabModels, UseAfterFree) {
  Result r = ExpectFailure("slab/use_after_free", Verdict::kUseAfterFree);
  EXPECT_TRUE(StartsWith(r.message, "BUG: KASAN: use-after-free")) << r.message;
  EXPECT_NE(r.report.find("Freed by t0/101"), std::string::npos) << r.report;
}

TEST(SlabModels, DoubleFree) {
  Result r = ExpectFailure("slab/double_free", Verdict::kDoubleFree);
  EXPECT_TRUE(StartsWith(r.message, "BUG: KASAN: double-free")) << r.message;
}

TEST(SlabModels, GfpKernelUnderSpinlock) {
  Result r = ExpectFailure("slab/gfp_kernel_under_spinlock", Verdict::kInvalidContext);
  EXPECT_TRUE(StartsWith(
      r.message,
      "BUG: sleeping function called from invalid context at models/primitives_models.cc:"))
      << r.message;
}

TEST(SlabModels, PageAllocClean) { ExpectClean("slab/page_alloc_clean"); }

TEST(SlabModels, KfreeOfPage) {
  Result r = ExpectFailure("slab/kfree_of_page", Verdict::kInvalidFree);
  EXPECT_TRUE(StartsWith(r.message, "BUG: KASAN: invalid-free")) << r.message;
}

// --- User copies ------------------------------------------------------------------

TEST(UaccessModels, FaultPaths) { ExpectClean("uaccess/fault_paths"); }

TEST(UaccessModels, CopyUnderSpinlock) {
  Result r = ExpectFailure("uaccess/copy_under_spinlock", Verdict::kInvalidContext);
  EXPECT_TRUE(StartsWith(
      r.message,
      "BUG: sleeping function called from invalid context at models/primitives_models.cc:"))
      << r.message;
}

// --- Across the primitives models -----------------------------------------------

bool IsPrimitivesModel(const std::string& name) {
  for (const char* dir : {"atomic/", "bitops/", "semaphore/", "mutex/", "spinlock/", "slab/",
                          "uaccess/"}) {
    if (StartsWith(name, dir)) return true;
  }
  return false;
}

// Every clean primitives model is explored completely by the exhaustive
// search: "clean" means every interleaving was checked.
TEST(PrimitivesModels, CleanModelsAreCompleteInExhaustiveMode) {
  RunOptions exhaustive;
  exhaustive.search = SearchMode::kExhaustive;
  int clean = 0;
  for (const Model* m : AllModels()) {
    if (!IsPrimitivesModel(m->name())) continue;
    if (!m->expected().Contains(Verdict::kClean)) continue;
    Result r = CheckModel(*m, exhaustive);
    EXPECT_EQ(r.verdict, Verdict::kClean) << m->name() << "\n" << r.report;
    EXPECT_TRUE(r.complete) << m->name();
    EXPECT_EQ(r.search, SearchMode::kExhaustive) << m->name();
    EXPECT_GE(r.executions, 1u) << m->name();
    ++clean;
  }
  EXPECT_EQ(clean, 9);
}

// Failing models are never "complete": the search stopped at the failure.
TEST(PrimitivesModels, FailingModelsAreNotComplete) {
  int failing = 0;
  for (const Model* m : AllModels()) {
    if (!IsPrimitivesModel(m->name()) || m->expected().Contains(Verdict::kClean)) continue;
    Result r = CheckModel(*m, {});
    EXPECT_TRUE(r.match) << m->name() << "\n" << r.report;
    EXPECT_FALSE(r.complete) << m->name();
    ++failing;
  }
  EXPECT_EQ(failing, 21);
}

TEST(PrimitivesModels, AllThirtyAreRegistered) {
  int n = 0;
  for (const Model* m : AllModels()) {
    if (!IsPrimitivesModel(m->name())) continue;
    ++n;
    EXPECT_FALSE(m->description().empty()) << m->name();
    EXPECT_FALSE(m->tasks().empty()) << m->name();
    EXPECT_TRUE(m->has_fixture()) << m->name();
    EXPECT_EQ(FindModel(m->name()), m);
  }
  EXPECT_EQ(n, 30);
}

// Every failing report has the same frame: rules, headline, the model,
// verdict, tasks, interleaving and the replay command.
TEST(PrimitivesModels, FailingReportsHaveTheDocumentedFrame) {
  for (const Model* m : AllModels()) {
    if (!IsPrimitivesModel(m->name()) || m->expected().Contains(Verdict::kClean)) continue;
    Result r = Check(m->name());
    const std::string rule = "==================================================================\n";
    EXPECT_TRUE(StartsWith(r.report, rule + r.message + "\n")) << r.report;
    EXPECT_NE(r.report.find("\nmodel:    " + m->name() + "\n"), std::string::npos) << r.report;
    EXPECT_NE(r.report.find("\nverdict:  " + std::string(VerdictName(r.verdict)) +
                            " (expected: " + m->expected().ToString() + ")\n"),
              std::string::npos)
        << r.report;
    EXPECT_NE(r.report.find("\ntasks:\n"), std::string::npos) << r.report;
    EXPECT_NE(r.report.find("\ninterleaving ("), std::string::npos) << r.report;
    EXPECT_NE(r.report.find("\nreplay:   bazel run //:kmc -- replay " + m->name() + " " +
                            r.replay + "\n"),
              std::string::npos)
        << r.report;
    EXPECT_TRUE(r.report.size() >= rule.size() &&
                r.report.compare(r.report.size() - rule.size(), rule.size(), rule) == 0)
        << r.report;
  }
}

}  // namespace
}  // namespace kmc
