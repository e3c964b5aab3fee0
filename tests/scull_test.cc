// Tests of the scull driver (drivers/scull) and its models
// (models/scull_models.cc).
//
//   * one test per registered scull model: its verdict, and for a failing
//     model that replay prints the same report byte for byte;
//   * the seeded-bug scenarios run again with the bug bit cleared must be
//     clean, so each model fails because of its bug and nothing else;
//   * unit tests of the driver logic (llseek, ioctl, read/write geometry,
//     trim on open, error paths), each run as the task of a throwaway model
//     that is not registered (it does not show up in `kmc list`).

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "drivers/scull/scull.h"
#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using namespace kmc::kernel;          // NOLINT: kernel spelling
using namespace kmc::drivers::scull;  // NOLINT: driver spelling
using ::kmc::testing::ExpectMatch;
using ::kmc::testing::ExpectReplayReproduces;

using ::kmc::testing::Contains;

// ---------------------------------------------------------------------------
// The registered models.

TEST(ScullModels, WritersAndReaderIsCleanAndExhaustive) {
  Result r = ExpectMatch("scull/writers_and_reader");
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_EQ(r.search, SearchMode::kExhaustive);
  EXPECT_TRUE(r.complete) << "the clean scull model must be explored exhaustively";
  EXPECT_GT(r.executions, 1000u);
}

TEST(ScullModels, UnlockedWrite) {
  ExpectReplayReproduces("scull/unlocked_write");
  Result r = ExpectMatch("scull/unlocked_write");
  EXPECT_TRUE(Contains(r.report, "drivers/scull/scull.cc")) << r.report;
}

TEST(ScullModels, MissingUpOnFault) {
  ExpectReplayReproduces("scull/missing_up_on_fault");
  Result r = ExpectMatch("scull/missing_up_on_fault");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_TRUE(Contains(r.report, "copy_from_user faults (injected)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "down_interruptible(&dev->sem)")) << r.report;
}

TEST(ScullModels, UnlockedTrim) {
  ExpectReplayReproduces("scull/unlocked_trim");
  Result r = ExpectMatch("scull/unlocked_trim");
  EXPECT_TRUE(Contains(r.report, "scull_trim")) << r.report;
}

TEST(ScullModels, SleepUnderSpinlock) {
  ExpectReplayReproduces("scull/sleep_under_spinlock");
  Result r = ExpectMatch("scull/sleep_under_spinlock");
  EXPECT_EQ(r.message.rfind("BUG: sleeping function called from invalid context at "
                            "drivers/scull/scull.cc:",
                            0),
            0u)
      << r.message;
  EXPECT_TRUE(Contains(r.report, "&dev->lock (spinlock_t)")) << r.report;
}

TEST(ScullModels, DoubleUp) { ExpectReplayReproduces("scull/double_up"); }

// B10: the failed kmalloc() is found as the kernel's NULL-dereference oops at
// the memset() that uses the pointer, after the interleaving that made the
// allocation fail.
TEST(ScullModels, UncheckedKmalloc) {
  ExpectReplayReproduces("scull/unchecked_kmalloc");
  const Result r = ::kmc::testing::Check("scull/unchecked_kmalloc");
  EXPECT_EQ(r.verdict, Verdict::kKernelOops);
  EXPECT_EQ(r.message, "BUG: kernel NULL pointer dereference, address: 0000000000000000");
  EXPECT_TRUE(Contains(r.report, "#PF: supervisor write access in kernel mode")) << r.report;
  EXPECT_TRUE(Contains(r.report, "RIP: scull_write (memset at drivers/scull/scull.cc:")) << r.report;
  EXPECT_TRUE(Contains(r.report, "kmalloc fails (injected): returns NULL")) << r.report;
}

TEST(ScullModels, SnapshotBeforeLock) { ExpectReplayReproduces("scull/snapshot_before_lock"); }

TEST(ScullModels, IoctlExchange) { ExpectReplayReproduces("scull/ioctl_exchange"); }

// ---------------------------------------------------------------------------
// Throwaway models over one scull device (quantum 4, qset 2).

constexpr int kQuantum = 4;
constexpr int kQset = 2;

template <unsigned Bugs, bool Filled>
struct Dev {
  scull_module mod;
  scull_dev* dev = nullptr;
  Dev() {
    mod.scull_nr_devs = 1;
    mod.scull_quantum = kQuantum;
    mod.scull_qset = kQset;
    mod.scull_bugs = Bugs;
    BUG_ON(scull_init_module(&mod) != 0);
    dev = &mod.scull_devices[0];
    if (Filled) {  // "data" in the first quantum, written at load time
      inode ino = scull_inode(&mod, 0);
      file filp = make_file(O_WRONLY);
      BUG_ON(scull_open(&ino, &filp) != 0);
      UserBuffer ub(std::string("data"));
      BUG_ON(scull_write(&filp, ub.ptr(), 4, &filp.f_pos) != 4);
    }
  }
};

template <class D>
file Open(D& d, unsigned flags) {
  inode ino = scull_inode(&d.mod, 0);
  file filp = make_file(flags);
  KMC_ASSERT(scull_open(&ino, &filp) == 0);
  return filp;
}

ssize_t Pwrite(file& filp, const std::string& data, loff_t pos) {
  UserBuffer ub(data);
  filp.f_pos = pos;
  return scull_write(&filp, ub.ptr(), ub.size(), &filp.f_pos);
}

// pread of `count` bytes at `pos`; the bytes read go to *out.
ssize_t Pread(file& filp, size_t count, loff_t pos, std::string* out = nullptr) {
  UserBuffer ub(count);
  filp.f_pos = pos;
  const ssize_t n = scull_read(&filp, ub.ptr(), count, &filp.f_pos);
  if (out != nullptr) *out = n > 0 ? ub.str(static_cast<size_t>(n)) : std::string();
  return n;
}

template <unsigned Bugs = 0, bool Filled = false>
struct Scenario {
  using D = Dev<Bugs, Filled>;
  explicit Scenario(std::string n, uint32_t nd = kNondetNone) : name(std::move(n)), nondet(nd) {}

  std::string name;
  uint32_t nondet;
  std::vector<std::pair<std::string, std::function<void(D&)>>> tasks;
  std::function<void(D&)> check;

  Scenario& Task(std::string task, std::function<void(D&)> body) {
    tasks.emplace_back(std::move(task), std::move(body));
    return *this;
  }

  // Runs the scenario exhaustively; module exit after `check`.
  Result Run() const {
    Model m(name);
    auto f = m.Fixture<D>();
    m.Expect(Verdict::kClean).Enable(nondet);
    int cpu = 0;
    for (const auto& [task, body] : tasks) f.Task(task, cpu++ % 2, body);
    auto final_check = check;
    f.Check([final_check](D& d) {
      if (final_check) final_check(d);
      // Inv 6: every path released the semaphore exactly once.
      KMC_ASSERT(down_trylock(&d.dev->sem) == 0);
      KMC_ASSERT(down_trylock(&d.dev->sem) == 1);
      up(&d.dev->sem);
      scull_cleanup_module(&d.mod);
    });
    return CheckModel(m, RunOptions{});
  }
};

// ---------------------------------------------------------------------------
// The bug scenarios with the bug bit cleared: all clean.

TEST(ScullFixed, LockedWritersDoNotRace) {  // B1 cleared
  Scenario<> s("fixed/locked_write");
  for (const char* data : {"AAAA", "BBBB"}) {
    s.Task(data, [data](auto& d) {
      file filp = Open(d, O_RDWR);
      KMC_ASSERT(Pwrite(filp, data, 0) == 4);
    });
  }
  s.check = [](auto& d) { KMC_ASSERT(d.dev->size.get() == 4); };
  EXPECT_CLEAN(s.Run());
}

TEST(ScullFixed, FaultPathUnlocksOnce) {  // B2 and B3 cleared
  Scenario<> s("fixed/fault_path", kUserFault);
  s.Task("writer", [](auto& d) {
    file filp = Open(d, O_RDWR);
    const ssize_t n = Pwrite(filp, "abcd", 0);
    KMC_ASSERT(n == 4 || n == -EFAULT);
    KMC_ASSERT(n == 4 || filp.f_pos == 0);  // B9: a failed copy leaves f_pos alone
  });
  s.Task("writer1", [](auto& d) {
    file filp = Open(d, O_RDWR);
    const ssize_t n = Pwrite(filp, "ABCD", 4);
    KMC_ASSERT(n == 4 || n == -EFAULT);
  });
  s.Task("reader", [](auto& d) {
    file filp = Open(d, O_RDONLY);
    const ssize_t n = Pread(filp, 4, 0);
    KMC_ASSERT(n == 0 || n == 4 || n == -EFAULT);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullFixed, LockedTrimWhileReading) {  // B4 and B5 cleared
  Scenario<0, true> s("fixed/locked_trim");
  s.Task("truncater", [](auto& d) { Open(d, O_WRONLY); });
  s.Task("reader", [](auto& d) {
    file filp = Open(d, O_RDONLY);
    std::string got;
    const ssize_t n = Pread(filp, 4, 0, &got);
    KMC_ASSERT(n == 0 || (n == 4 && (got == "data" || got == "DATA")));
  });
  s.Task("writer", [](auto& d) {
    file filp = Open(d, O_RDWR);
    KMC_ASSERT(Pwrite(filp, "DATA", 0) == 4);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullFixed, SemaphoreAcrossUserCopies) {  // the spinlock variant cleared
  Scenario<0, true> s("fixed/semaphore");
  s.Task("reader", [](auto& d) {
    file filp = Open(d, O_RDONLY);
    KMC_ASSERT(Pread(filp, 4, 0) == 4);
  });
  s.Task("writer", [](auto& d) {
    file filp = Open(d, O_RDWR);
    KMC_ASSERT(Pwrite(filp, "DATA", 0) == 4);
  });
  EXPECT_CLEAN(s.Run());
}

// ---------------------------------------------------------------------------
// Unit tests of the driver logic (one task each).

TEST(ScullUnit, LlseekWhence) {
  Scenario<0, true> s("unit/llseek");  // size 4
  s.Task("t", [](auto& d) {
    file filp = Open(d, O_RDONLY);
    KMC_ASSERT(scull_llseek(&filp, 3, 0) == 3 && filp.f_pos == 3);    // SEEK_SET
    KMC_ASSERT(scull_llseek(&filp, 2, 1) == 5 && filp.f_pos == 5);    // SEEK_CUR
    KMC_ASSERT(scull_llseek(&filp, -1, 2) == 3 && filp.f_pos == 3);   // SEEK_END
    KMC_ASSERT(scull_llseek(&filp, 100, 2) == 104);                   // no upper bound
    KMC_ASSERT(scull_llseek(&filp, 0, 3) == -EINVAL && filp.f_pos == 104);
    KMC_ASSERT(scull_llseek(&filp, -1, 0) == -EINVAL && filp.f_pos == 104);
    KMC_ASSERT(scull_llseek(&filp, -105, 1) == -EINVAL);
    KMC_ASSERT(scull_llseek(&filp, -5, 2) == -EINVAL && filp.f_pos == 104);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, IoctlValidationOrder) {
  Scenario<> s("unit/ioctl_validation");
  s.Task("user", [](auto& d) {
    SetCurrentCredentials(1000, 1000, false, false);
    file filp = Open(d, O_RDONLY);
    // Wrong magic, then a number past SCULL_IOC_MAXNR: -ENOTTY, before any
    // privilege check.
    KMC_ASSERT(scull_ioctl(&filp, _IO('j', 3), 8) == -ENOTTY);
    KMC_ASSERT(scull_ioctl(&filp, _IO(SCULL_IOC_MAGIC, 15), 8) == -ENOTTY);
    KMC_ASSERT(scull_ioctl(&filp, _IOW('j', 1, int), 0) == -ENOTTY);
    // Privileged commands without CAP_SYS_ADMIN.
    int v = 7;
    const unsigned long p = reinterpret_cast<unsigned long>(&v);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCSQUANTUM, p) == -EPERM);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCSQSET, p) == -EPERM);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCTQUANTUM, 8) == -EPERM);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCTQSET, 8) == -EPERM);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCXQUANTUM, p) == -EPERM);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCXQSET, p) == -EPERM);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCHQUANTUM, 8) == -EPERM);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCHQSET, 8) == -EPERM);
    KMC_ASSERT(v == 7);
    // Unprivileged commands.
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCQQUANTUM, 0) == kQuantum);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCQQSET, 0) == kQset);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCGQUANTUM, p) == 0 && v == kQuantum);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCGQSET, p) == 0 && v == kQset);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCGQSET, 0) == -EFAULT);  // NULL
    KMC_ASSERT(scull_ioctl(&filp, SCULL_P_IOCTSIZE, 64) == 0);     // B7: no check
    KMC_ASSERT(scull_ioctl(&filp, SCULL_P_IOCQSIZE, 0) == 64);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCRESET, 0) == 0);        // B7: no check
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCQQUANTUM, 0) == SCULL_QUANTUM);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCQQSET, 0) == SCULL_QSET);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, IoctlCommandsWithCapSysAdmin) {
  Scenario<> s("unit/ioctl_admin");
  s.Task("root", [](auto& d) {
    SetCurrentCredentials(0, 0, false, true);
    file filp = Open(d, O_RDONLY);
    int v = 0;
    const unsigned long p = reinterpret_cast<unsigned long>(&v);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCTQUANTUM, 8) == 0);          // Tell
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCQQUANTUM, 0) == 8);          // Query
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCHQUANTUM, 16) == 8);         // sHift
    v = 32;
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCSQUANTUM, p) == 0);          // Set
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCGQUANTUM, p) == 0 && v == 32);  // Get
    v = 4;
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCXQUANTUM, p) == 0 && v == 32);  // eXchange
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCTQSET, 3) == 0);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCHQSET, 5) == 3);
    v = 6;
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCXQSET, p) == 0 && v == 5);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCQQSET, 0) == 6);
    // A faulting Set stores 0, as the kernel's __get_user() does.
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCSQSET, 0) == -EFAULT);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCQQSET, 0) == 0);
    KMC_ASSERT(scull_ioctl(&filp, SCULL_IOCTQSET, 6) == 0);
    // The device picks the globals up only when it is trimmed.
    KMC_ASSERT(d.dev->quantum.get() == kQuantum && d.dev->qset.get() == kQset);
    Open(d, O_WRONLY);
    KMC_ASSERT(d.dev->quantum.get() == 4 && d.dev->qset.get() == 6);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, IoctlExchangeFaults) {
  // X: the old value is written back only when reading the new one worked.
  Scenario<> s("unit/ioctl_exchange_fault", kUserFault);
  s.Task("root", [](auto& d) {
    SetCurrentCredentials(0, 0, false, true);
    file filp = Open(d, O_RDONLY);
    int v = 9;
    const long r = scull_ioctl(&filp, SCULL_IOCXQUANTUM, reinterpret_cast<unsigned long>(&v));
    KMC_ASSERT((r == 0 && v == kQuantum && scull_ioctl(&filp, SCULL_IOCQQUANTUM, 0) == 9) ||
               (r == -EFAULT && v == 9));
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, ReadWriteGeometryAndHoles) {
  Scenario<> s("unit/geometry");
  s.Task("t", [](auto& d) {
    file filp = Open(d, O_RDWR);
    std::string got;
    KMC_ASSERT(Pread(filp, 4, 0) == 0);                          // empty: EOF
    KMC_ASSERT(Pwrite(filp, "ABCDEF", 0) == 4);                  // one quantum at most
    KMC_ASSERT(filp.f_pos == 4 && d.dev->size.get() == 4);
    KMC_ASSERT(Pwrite(filp, "ef", 2) == 2);                      // overwrite inside
    KMC_ASSERT(d.dev->size.get() == 4);                          // size never shrinks
    KMC_ASSERT(Pread(filp, 10, 0, &got) == 4 && got == "ABef");  // clipped to size
    KMC_ASSERT(filp.f_pos == 4);
    KMC_ASSERT(Pread(filp, 4, 4) == 0);                          // EOF
    KMC_ASSERT(Pwrite(filp, "xy", 9) == 2);                      // node 1, past a hole
    KMC_ASSERT(d.dev->size.get() == 11);
    KMC_ASSERT(Pread(filp, 4, 0, &got) == 4 && got == "ABef");   // node 0 untouched
    KMC_ASSERT(Pread(filp, 4, 4) == 0 && filp.f_pos == 4);       // a hole reads as EOF
    KMC_ASSERT(Pread(filp, 8, 8, &got) == 3 && got.substr(1) == "xy");  // clipped to size
    KMC_ASSERT(Pread(filp, 8, 10, &got) == 1 && got == "y");
    KMC_ASSERT(Pwrite(filp, "wxyz", 6) == 2 && filp.f_pos == 8);  // clipped at the quantum
    KMC_ASSERT(Pread(filp, 8, 5, &got) == 3 && got.substr(1) == "wx");
    // Open for reading keeps the data; write-only open trims it.
    Open(d, O_RDONLY);
    KMC_ASSERT(d.dev->size.get() == 11);
    Open(d, O_RDWR);
    KMC_ASSERT(d.dev->size.get() == 11);
    Open(d, O_WRONLY);
    KMC_ASSERT(d.dev->size.get() == 0 && d.dev->data.get() == nullptr);
    KMC_ASSERT(Pread(filp, 4, 0) == 0);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, ReadFollowAllocatesNodes) {
  // scull_follow() allocates missing list nodes on the read path too
  // (docs/DRIVERS.md, scull behaviour); module exit frees them.
  Scenario<> s("unit/read_follow");
  s.Task("t", [](auto& d) {
    file filp = Open(d, O_RDWR);
    std::string got;
    KMC_ASSERT(Pwrite(filp, "z", 23) == 1);  // node 2; nodes 0 and 1 stay empty
    KMC_ASSERT(Pread(filp, 4, 0) == 0);      // node 0 has no array: a hole
    scull_qset* node0 = d.dev->data.get();
    KMC_ASSERT(node0 != nullptr && node0->data.get() == nullptr);
    scull_qset* node1 = node0->next.get();
    KMC_ASSERT(node1 != nullptr && node1->data.get() == nullptr);
    scull_qset* node2 = node1->next.get();
    KMC_ASSERT(node2 != nullptr && node2->next.get() == nullptr);
    KMC_ASSERT(node2->data.get() != nullptr && node2->data.get()[0].get() == nullptr);
    KMC_ASSERT(Pread(filp, 4, 23, &got) == 1 && got == "z");
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, AllocationFailuresLeakNothing) {
  Scenario<> s("unit/alloc_failure", kAllocFailure);
  s.Task("t", [](auto& d) {
    file filp = Open(d, O_RDWR);
    const ssize_t n = Pwrite(filp, "abcd", 8);
    KMC_ASSERT(n == 4 || n == -ENOMEM);
    KMC_ASSERT(n == 4 ? d.dev->size.get() == 12 : d.dev->size.get() == 0);
    KMC_ASSERT(filp.f_pos == (n == 4 ? 12 : 8));
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullFixed, CheckedKmallocFailsCleanly) {  // B10 cleared
  Scenario<> s("fixed/checked_kmalloc", kAllocFailure);
  s.Task("writer", [](auto& d) {
    file filp = Open(d, O_WRONLY);
    const ssize_t n = Pwrite(filp, "abcd", 0);
    KMC_ASSERT(n == 4 || n == -ENOMEM);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, PartialCopiesFailWholly) {
  Scenario<0, true> s("unit/user_fault", kUserFault);
  s.Task("t", [](auto& d) {
    file filp = Open(d, O_RDWR);
    std::string got;
    const ssize_t r = Pread(filp, 4, 0, &got);
    KMC_ASSERT((r == 4 && got == "data" && filp.f_pos == 4) || (r == -EFAULT && filp.f_pos == 0));
    const ssize_t w = Pwrite(filp, "more", 4);
    KMC_ASSERT((w == 4 && filp.f_pos == 8 && d.dev->size.get() == 8) ||
               (w == -EFAULT && filp.f_pos == 4 && d.dev->size.get() == 4));
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, SignalsGiveErestartsys) {
  Scenario<> s("unit/signals", kSignals);
  for (const char* task : {"writer0", "writer1"}) {
    s.Task(task, [](auto& d) {
      inode ino = scull_inode(&d.mod, 0);
      file filp = make_file(O_WRONLY);
      const int err = scull_open(&ino, &filp);  // trims, under the lock
      KMC_ASSERT(err == 0 || err == -ERESTARTSYS);
      if (err) return;
      const ssize_t n = Pwrite(filp, "abcd", 0);
      KMC_ASSERT(n == 4 || n == -ERESTARTSYS);
    });
  }
  EXPECT_CLEAN(s.Run());
}

}  // namespace
}  // namespace kmc
