// C drivers checked as written: kernel headers, instrumented plain accesses,
// modules loaded per execution (drivers/sleepy, tests/c/*.c).

#include <fcntl.h>

#include <string>

#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/runner.h"
#include "sync/vfs.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Contains;

constexpr unsigned kOpencountGet = 0x4f01;

// --- models of the test modules (registered in this test binary only) ------

struct OpenCountFx {
  OpenCountFx() { KMC_ASSERT(insmod("opencount") == 0); }
};

KMC_MODEL("ctest/opencount_two_openers") {
  auto f = m.Fixture<OpenCountFx>();
  m.Describe("two tasks open the device; the count starts at 0 in every execution");
  m.Expect(Verdict::kClean);
  for (const char* name : {"opener0", "opener1"}) {
    f.Task(name, 0, [](OpenCountFx&) {
      vfs::File* filp = vfs::open(vfs::DeviceNumber("opencount"), O_RDWR);
      KMC_ASSERT(filp != nullptr);
      const long n = vfs::ioctl(filp, kOpencountGet, 0);
      KMC_ASSERT(n == 1 || n == 2);
      vfs::close(filp);
    });
  }
}

constexpr unsigned kRacystatPeek = 0x5201;

struct RacyStatFx {
  RacyStatFx() { KMC_ASSERT(insmod("racystat") == 0); }
};
struct RacyStatBugFx {
  RacyStatBugFx() { KMC_ASSERT(insmod("racystat", "bug=1") == 0); }
};

// Two tasks open the device (a locked increment of the count) and peek at
// the count without the lock.
template <class F>
void OpenAndPeek(Model& m) {
  auto f = m.Fixture<F>();
  for (const char* name : {"user0", "user1"}) {
    f.Task(name, name[4] - '0', [](F&) {
      vfs::File* filp = vfs::open(vfs::DeviceNumber("racystat"), O_RDWR);
      KMC_ASSERT(filp != nullptr);
      const long n = vfs::ioctl(filp, kRacystatPeek, 0);
      KMC_ASSERT(n == 1 || n == 2);
      vfs::close(filp);
    });
  }
}

KMC_MODEL("ctest/racystat_data_race_annotated") {
  OpenAndPeek<RacyStatFx>(m);
  m.Describe("a statistic read without the lock inside data_race()");
  m.Expect(Verdict::kClean);
}

KMC_MODEL("ctest/racystat_unannotated") {
  OpenAndPeek<RacyStatBugFx>(m);
  m.Describe("the same read without data_race()");
  m.Expect(Verdict::kDataRace);
}

struct UafFx {
  UafFx() { KMC_ASSERT(insmod("uafdev", "bug=1") == 0); }
};
struct OobFx {
  OobFx() { KMC_ASSERT(insmod("uafdev", "bug=2") == 0); }
};
struct UafCleanFx {
  UafCleanFx() { KMC_ASSERT(insmod("uafdev") == 0); }
};

template <class F>
void TwoOpensCloseOneReadOther(Model& m) {
  auto f = m.Fixture<F>();
  f.Task("user", 0, [](F&) {
    const unsigned dev = vfs::DeviceNumber("uafdev");
    vfs::File* a = vfs::open(dev, O_RDONLY);
    vfs::File* b = vfs::open(dev, O_RDONLY);
    KMC_ASSERT(a != nullptr && b != nullptr);
    vfs::close(a);
    UserBuffer buf(1);
    KMC_ASSERT(vfs::read(b, buf.ptr(), 1) == 1);
    vfs::close(b);
  });
}

KMC_MODEL("ctest/uaf_release_frees_shared_buffer") {
  m.Describe("bug=1: release kfree()s the buffer all opens share; a read through the plain "
             "pointer dev->buf then reads freed memory");
  m.Expect(Verdict::kUseAfterFree);
  TwoOpensCloseOneReadOther<UafFx>(m);
}

KMC_MODEL("ctest/oob_read_past_buffer") {
  m.Describe("bug=2: read indexes dev->buf[dev->size], one past the kmalloc'd block");
  m.Expect(Verdict::kOutOfBounds);
  TwoOpensCloseOneReadOther<OobFx>(m);
}

KMC_MODEL("ctest/uafdev_clean") {
  m.Describe("uafdev without a bug: two opens, a close, a read");
  m.Expect(Verdict::kClean);
  TwoOpensCloseOneReadOther<UafCleanFx>(m);
}

struct BadParamFx {
  BadParamFx() { insmod("uafdev", "no_such_param=1"); }
};
KMC_MODEL("ctest/unknown_parameter") {
  auto f = m.Fixture<BadParamFx>();
  m.Expect(Verdict::kModelError);
  f.Task("nothing", 0, [](BadParamFx&) {});
}

struct Empty {};
KMC_MODEL("ctest/touches_nothing") {
  auto f = m.Fixture<Empty>();
  m.Describe("a model whose task touches no checked memory: a vacuous clean");
  m.Expect(Verdict::kClean);
  f.Task("idle", 0, [](Empty&) {});
}

struct SharedField {
  kernel::Shared<int> x{0};
};
KMC_MODEL("ctest/touches_shared") {
  auto f = m.Fixture<SharedField>();
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, [](SharedField& s) { s.x = 1; });
}

// --- tests --------------------------------------------------------------

TEST(CModule, GlobalsAndStaticsStartFromTheirLoadImageInEveryExecution) {
  // module_init fails with -EINVAL when a global kept a value from an
  // earlier execution, and open fails when the static counter did.
  const Result r = testing::ExpectCleanAndComplete("ctest/opencount_two_openers");
  EXPECT_GT(r.executions, 1u);
  EXPECT_TRUE(r.warning.empty());
}

TEST(CModule, RaceOnAPlainGlobalNamesBothLinesAndCallChains) {
  const Result r = testing::ExpectFailure("sleepy/reader_and_writer");
  // The write is in sleepy_take_flag(), a static function inlined into
  // sleepy_read(): the report names it, and the chain has both.
  EXPECT_EQ(r.message, "BUG: KCSAN: data-race in sleepy_take_flag");
  EXPECT_TRUE(Contains(r.report, "'flag' (a global of module sleepy)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "by reader/101 on CPU#0 (process context) at "
                                 "drivers/sleepy/sleepy.c:43"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, "previous write by writer/102 on CPU#1 (process context) at "
                                 "drivers/sleepy/sleepy.c:77"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, " call chain:\n  sleepy_take_flag() at drivers/sleepy/sleepy.c:43\n"
                                 "  sleepy_read() at drivers/sleepy/sleepy.c:62\n"))
      << r.report;
  EXPECT_TRUE(Contains(r.report, " call chain:\n  sleepy_write() at drivers/sleepy/sleepy.c:77"))
      << r.report;
  // The driver's caller is the VFS, named as in the kernel, not a mangled
  // C++ symbol.
  EXPECT_TRUE(Contains(r.report, "sleepy.c:62\n  vfs_read() at sync/vfs.cc:")) << r.report;
  EXPECT_TRUE(Contains(r.report, "sleepy.c:77\n  vfs_write() at sync/vfs.cc:")) << r.report;
  EXPECT_FALSE(Contains(r.report, "_ZN")) << r.report;
}

TEST(CModule, FixedSleepyIsClean) { testing::ExpectCleanAndComplete("sleepy/fixed"); }

TEST(CModule, UseAfterFreeThroughAPlainPointer) {
  const Result r = testing::ExpectFailure("ctest/uaf_release_frees_shared_buffer");
  EXPECT_EQ(r.message, "BUG: KASAN: use-after-free in uaf_read");
  EXPECT_TRUE(Contains(r.report, "kfree at tests/c/uafdev.c:")) << r.report;
}

TEST(CModule, OutOfBoundsThroughAPlainPointer) {
  const Result r = testing::ExpectFailure("ctest/oob_read_past_buffer");
  EXPECT_EQ(r.message, "BUG: KASAN: slab-out-of-bounds in uaf_read");
}

TEST(CModule, CleanDriverIsClean) { testing::ExpectCleanAndComplete("ctest/uafdev_clean"); }

TEST(CModule, UnknownModuleParameterIsAModelError) {
  const Result r = testing::ExpectMatch("ctest/unknown_parameter");
  EXPECT_EQ(r.message, "kmc: unknown module parameter 'no_such_param' for uafdev");
  EXPECT_TRUE(Contains(r.report, "the module declares only bug")) << r.report;
}

TEST(CModule, VacuousCleanIsFlagged) {
  const Result idle = testing::ExpectMatch("ctest/touches_nothing");
  EXPECT_EQ(idle.warning, "no shared accesses were checked");
  EXPECT_TRUE(Contains(idle.message, "warning: no shared accesses were checked"));
  EXPECT_TRUE(Contains(ResultToJson(idle), "\"warning\": \"no shared accesses were checked\""));
  const Result shared = testing::ExpectMatch("ctest/touches_shared");
  EXPECT_TRUE(shared.warning.empty());
}

// data_race() in <linux/compiler.h> marks a C read as intentionally racy.
TEST(CModuleTest, DataRaceAnnotationIsNotARace) {
  const Result r = testing::ExpectCleanAndComplete("ctest/racystat_data_race_annotated");
  EXPECT_TRUE(r.warning.empty());
  const Result bad = testing::ExpectMatch("ctest/racystat_unannotated");
  EXPECT_EQ(bad.verdict, Verdict::kDataRace);
  EXPECT_TRUE(Contains(bad.report, "tests/c/racystat.c:40")) << bad.report;  // rs_peek's read
}

}  // namespace
}  // namespace kmc
