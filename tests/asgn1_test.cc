// The models of models/asgn1_models.cc (drivers/asgn1/asgn1.c, docs/DRIVERS.md,
// asgn1): the corrected driver is clean under an exhaustive search, and each
// seeded bug (A1-Bn) produces its verdict and replays byte for byte.

#include <fcntl.h>

#include <cstring>
#include <string>

#include "drivers/asgn1/asgn1.h"
#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/runner.h"
#include "sync/vfs.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

// --- one-task models of the driver's interfaces (this test binary only) ----

using kernel::PAGE_SIZE;

struct LoadedFx {
  LoadedFx() { KMC_ASSERT(insmod("asgn1") == 0); }
};

// cat /proc/asgn1 with a buffer of `chunk` bytes per read.
std::string CatProc(vfs::File* filp, size_t chunk) {
  std::string text;
  for (;;) {
    UserBuffer ub(chunk);
    const long r = vfs::read(filp, ub.ptr(), ub.size());
    KMC_ASSERT(r >= 0);
    if (r == 0) return text;
    text += ub.str(static_cast<size_t>(r));
  }
}

KMC_MODEL("a1test/proc_reads") {
  auto f = m.Fixture<LoadedFx>();
  m.Describe("/proc/asgn1 through seq_file: small reads give the whole text, a seek to 0 "
             "makes it again, the entry is read-only and goes away at rmmod");
  m.Expect(Verdict::kClean);
  f.Task("cat", 0, [](LoadedFx&) {
    vfs::File* filp = vfs::open("/proc/asgn1", O_RDONLY);
    KMC_ASSERT(filp != nullptr);
    const std::string whole = CatProc(filp, 128);
    KMC_ASSERT(whole == "num_pages = 0\ndata_size = 0\nnprocs = 0\nmax_nprocs = 1\n");
    KMC_ASSERT(vfs::llseek(filp, 0, SEEK_SET) == 0);
    KMC_ASSERT(CatProc(filp, 5) == whole);
    KMC_ASSERT(vfs::close(filp) == 0);

    vfs::File* dev = vfs::open(vfs::DeviceNumber(MYDEV_NAME), O_RDWR);
    KMC_ASSERT(dev != nullptr);
    UserBuffer data(std::string(PAGE_SIZE + 1, 'q'));
    KMC_ASSERT(vfs::write(dev, data.ptr(), data.size()) == static_cast<long>(PAGE_SIZE + 1));
    filp = vfs::open("/proc/asgn1", O_RDONLY);
    KMC_ASSERT(CatProc(filp, 7) ==
               "num_pages = 2\ndata_size = 4097\nnprocs = 1\nmax_nprocs = 1\n");
    KMC_ASSERT(vfs::close(filp) == 0);
    KMC_ASSERT(vfs::close(dev) == 0);

    int err = 0;
    KMC_ASSERT(vfs::open("/proc/asgn1", O_WRONLY, &err) == nullptr && err == -EACCES);
    KMC_ASSERT(rmmod("asgn1") == 0);
    KMC_ASSERT(vfs::open("/proc/asgn1", O_RDONLY, &err) == nullptr && err == -ENOENT);
  });
}

KMC_MODEL("a1test/ioctl_and_lseek") {
  auto f = m.Fixture<LoadedFx>();
  m.Describe("TEM_SET_NPROC: type and number checked, values below 1 refused; lseek clamps "
             "to num_pages * PAGE_SIZE");
  m.Expect(Verdict::kClean);
  f.Task("user", 0, [](LoadedFx&) {
    vfs::File* filp = vfs::open(vfs::DeviceNumber(MYDEV_NAME), O_RDWR);
    KMC_ASSERT(filp != nullptr);
    UserBuffer n(sizeof(int));
    auto set = [&](unsigned cmd, int v) {
      std::memcpy(n.ptr(), &v, sizeof v);
      return vfs::ioctl(filp, cmd, reinterpret_cast<unsigned long>(n.ptr()));
    };
    const unsigned iow = (1u << 30) | (sizeof(int) << 16);
    KMC_ASSERT(set(iow | ('j' << 8) | SET_NPROC_OP, 2) == -EINVAL);   // not our type
    KMC_ASSERT(set(iow | (MYIOC_TYPE << 8) | 7, 2) == -ENOTTY);       // not our number
    KMC_ASSERT(set(iow | (MYIOC_TYPE << 8) | SET_NPROC_OP, 0) == -EINVAL);
    // Only type and number count: some test programs encode another size field.
    KMC_ASSERT(set((1u << 30) | (MYIOC_TYPE << 8) | SET_NPROC_OP, 2) == 0);
    vfs::File* second = vfs::open(vfs::DeviceNumber(MYDEV_NAME), O_RDONLY);
    KMC_ASSERT(second != nullptr);  // max_nprocs is 2 now
    KMC_ASSERT(vfs::close(second) == 0);

    KMC_ASSERT(vfs::llseek(filp, 10, SEEK_SET) == 0);  // empty disk: buffer size 0
    UserBuffer data(std::string("hello"));
    KMC_ASSERT(vfs::write(filp, data.ptr(), data.size()) == 5);
    KMC_ASSERT(vfs::llseek(filp, 0, SEEK_END) == static_cast<long long>(PAGE_SIZE));
    KMC_ASSERT(vfs::llseek(filp, 1, SEEK_END) == static_cast<long long>(PAGE_SIZE));
    KMC_ASSERT(vfs::llseek(filp, -5, SEEK_SET) == 0);
    KMC_ASSERT(vfs::llseek(filp, 0, 7) == -EINVAL);
    KMC_ASSERT(vfs::llseek(filp, 1, SEEK_SET) == 1);
    UserBuffer got(8);
    KMC_ASSERT(vfs::read(filp, got.ptr(), got.size()) == 4);  // clipped to data_size
    KMC_ASSERT(got.str(4) == "ello");
    KMC_ASSERT(vfs::close(filp) == 0);
  });
}

TEST(Asgn1Interfaces, ProcReads) { testing::ExpectCleanAndComplete("a1test/proc_reads"); }

TEST(Asgn1Interfaces, IoctlAndLseek) {
  testing::ExpectCleanAndComplete("a1test/ioctl_and_lseek");
}

using ::kmc::testing::ExpectMatch;
using ::kmc::testing::ExpectReplayReproduces;

using ::kmc::testing::Contains;

using ::kmc::testing::ExpectCleanAndComplete;

using ::kmc::testing::ExpectFailure;

TEST(Asgn1Models, WriterAndReader) { ExpectCleanAndComplete("asgn1/writer_and_reader"); }

TEST(Asgn1Models, Admission) { ExpectCleanAndComplete("asgn1/admission"); }

TEST(Asgn1Models, ProcStats) { ExpectCleanAndComplete("asgn1/proc_stats"); }

TEST(Asgn1Models, MmapThenRead) { ExpectCleanAndComplete("asgn1/mmap_then_read"); }

TEST(Asgn1Models, CheckThenIncrement) {
  Result r = ExpectFailure("asgn1/check_then_increment");
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed) << r.report;
}

TEST(Asgn1Models, NoUndoOnEbusy) {
  Result r = ExpectFailure("asgn1/no_undo_on_ebusy");
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed) << r.report;
}

TEST(Asgn1Models, FreeWhileReading) {
  Result r = ExpectFailure("asgn1/free_while_reading");
  EXPECT_TRUE(Contains(r.report, "free_memory_pages")) << r.report;
}

TEST(Asgn1Models, FreeWhileMapped) {
  Result r = ExpectFailure("asgn1/free_while_mapped");
  EXPECT_EQ(r.verdict, Verdict::kUseAfterFree) << r.report;
  EXPECT_TRUE(Contains(r.message, "use-after-free through a user mapping")) << r.message;
}

TEST(Asgn1Models, ConcurrentAppend) { ExpectFailure("asgn1/concurrent_append"); }

TEST(Asgn1Models, NodeLeakOnPageFailure) {
  Result r = ExpectFailure("asgn1/node_leak_on_page_failure");
  EXPECT_EQ(r.verdict, Verdict::kMemoryLeak) << r.report;
}

TEST(Asgn1Models, KfreeOfPageField) {
  Result r = ExpectFailure("asgn1/kfree_of_page_field");
  EXPECT_EQ(r.verdict, Verdict::kInvalidFree) << r.report;
  EXPECT_TRUE(Contains(r.report, "points inside object")) << r.report;
}

}  // namespace
}  // namespace kmc
