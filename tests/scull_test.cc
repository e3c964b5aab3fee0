// Tests of the scull module in kernel C (drivers/scull/main.c) and its
// models (models/scull_models.cc).
//
//   * one test per registered scull model: its verdict, and for a failing
//     model that replay prints the same report byte for byte;
//   * the seeded-bug scenarios run again with the bug bit cleared must be
//     clean, so each model fails because of its bug and nothing else;
//   * unit tests of the driver logic (llseek, ioctl, read/write geometry,
//     trim on open, error paths), each run as the task of a throwaway model
//     that is not registered (it does not show up in `kmc list`): the module
//     is loaded with insmod and driven through kmc::vfs.

#include <fcntl.h>

#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "drivers/scull/scull_view.h"
#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/runner.h"
#include "sync/vfs.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

namespace sc = ::kmc::scull;
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
  EXPECT_GT(r.executions, 100u);  // 584: the bounded passes, then the reduced search
}

TEST(ScullModels, UnlockedWrite) {
  ExpectReplayReproduces("scull/unlocked_write");
  Result r = ExpectMatch("scull/unlocked_write");
  EXPECT_TRUE(Contains(r.report, "drivers/scull/main.c")) << r.report;
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
                            "drivers/scull/main.c:",
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
  EXPECT_TRUE(Contains(r.report, "RIP: scull_write (memset at drivers/scull/main.c:")) << r.report;
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
  Dev() {
    char params[96];
    std::snprintf(params, sizeof params,
                  "scull_nr_devs=1 scull_quantum=%d scull_qset=%d scull_bugs=%#x", kQuantum, kQset,
                  Bugs);
    BUG_ON(insmod("scull", params) != 0);
    if (Filled) {  // "data" in the first quantum, written at load time
      vfs::File* filp = vfs::open(vfs::DeviceNumber("scull"), O_WRONLY);
      BUG_ON(filp == nullptr);
      UserBuffer ub(std::string("data"));
      BUG_ON(vfs::write(filp, ub.ptr(), 4) != 4);
      vfs::close(filp);
    }
  }
  // scull0 (model code is not instrumented: read it from one task or a check).
  static sc::scull_dev& dev() { return sc::scull_devices[0]; }
};

// open(2) of scull0; the file stays open until the end of the execution.
vfs::File* Open(unsigned flags) {
  int err = 0;
  vfs::File* filp = vfs::open(vfs::DeviceNumber("scull"), flags, &err);
  KMC_ASSERT(filp != nullptr && err == 0);
  return filp;
}

long Pwrite(vfs::File* filp, const std::string& data, long long pos) {
  UserBuffer ub(data);
  filp->f_pos = pos;
  return vfs::write(filp, ub.ptr(), ub.size());
}

// pread of `count` bytes at `pos`; the bytes read go to *out.
long Pread(vfs::File* filp, size_t count, long long pos, std::string* out = nullptr) {
  UserBuffer ub(count);
  filp->f_pos = pos;
  const long n = vfs::read(filp, ub.ptr(), count);
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

  // Runs the scenario exhaustively; module exit (rmmod) after `check`.
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
      auto* sem = reinterpret_cast<kernel::semaphore*>(&d.dev().sem);
      KMC_ASSERT(kernel::down_trylock(sem) == 0);
      KMC_ASSERT(kernel::down_trylock(sem) == 1);
      kernel::up(sem);
    });
    return CheckModel(m, RunOptions{});
  }
};

// ---------------------------------------------------------------------------
// The bug scenarios with the bug bit cleared: all clean.

TEST(ScullFixed, LockedWritersDoNotRace) {  // B1 cleared
  Scenario<> s("fixed/locked_write");
  for (const char* data : {"AAAA", "BBBB"}) {
    s.Task(data, [data](auto&) {
      vfs::File* filp = Open(O_RDWR);
      KMC_ASSERT(Pwrite(filp, data, 0) == 4);
    });
  }
  s.check = [](auto& d) { KMC_ASSERT(d.dev().size == 4); };
  EXPECT_CLEAN(s.Run());
}

TEST(ScullFixed, FaultPathUnlocksOnce) {  // B2 and B3 cleared
  Scenario<> s("fixed/fault_path", kUserFault);
  s.Task("writer", [](auto&) {
    vfs::File* filp = Open(O_RDWR);
    const long n = Pwrite(filp, "abcd", 0);
    KMC_ASSERT(n == 4 || n == -EFAULT);
    KMC_ASSERT(n == 4 || filp->f_pos == 0);  // B9: a failed copy leaves f_pos alone
  });
  s.Task("writer1", [](auto&) {
    vfs::File* filp = Open(O_RDWR);
    const long n = Pwrite(filp, "ABCD", 4);
    KMC_ASSERT(n == 4 || n == -EFAULT);
  });
  s.Task("reader", [](auto&) {
    vfs::File* filp = Open(O_RDONLY);
    const long n = Pread(filp, 4, 0);
    KMC_ASSERT(n == 0 || n == 4 || n == -EFAULT);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullFixed, LockedTrimWhileReading) {  // B4 and B5 cleared
  Scenario<0, true> s("fixed/locked_trim");
  s.Task("truncater", [](auto&) { Open(O_WRONLY); });
  s.Task("reader", [](auto&) {
    vfs::File* filp = Open(O_RDONLY);
    std::string got;
    const long n = Pread(filp, 4, 0, &got);
    KMC_ASSERT(n == 0 || (n == 4 && (got == "data" || got == "DATA")));
  });
  s.Task("writer", [](auto&) {
    vfs::File* filp = Open(O_RDWR);
    KMC_ASSERT(Pwrite(filp, "DATA", 0) == 4);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullFixed, SemaphoreAcrossUserCopies) {  // the spinlock variant cleared
  Scenario<0, true> s("fixed/semaphore");
  s.Task("reader", [](auto&) {
    vfs::File* filp = Open(O_RDONLY);
    KMC_ASSERT(Pread(filp, 4, 0) == 4);
  });
  s.Task("writer", [](auto&) {
    vfs::File* filp = Open(O_RDWR);
    KMC_ASSERT(Pwrite(filp, "DATA", 0) == 4);
  });
  EXPECT_CLEAN(s.Run());
}

// ---------------------------------------------------------------------------
// Unit tests of the driver logic (one task each).

TEST(ScullUnit, LlseekWhence) {
  Scenario<0, true> s("unit/llseek");  // size 4
  s.Task("t", [](auto&) {
    vfs::File* filp = Open(O_RDONLY);
    KMC_ASSERT(vfs::llseek(filp, 3, 0) == 3 && filp->f_pos == 3);    // SEEK_SET
    KMC_ASSERT(vfs::llseek(filp, 2, 1) == 5 && filp->f_pos == 5);    // SEEK_CUR
    KMC_ASSERT(vfs::llseek(filp, -1, 2) == 3 && filp->f_pos == 3);   // SEEK_END
    KMC_ASSERT(vfs::llseek(filp, 100, 2) == 104);                   // no upper bound
    KMC_ASSERT(vfs::llseek(filp, 0, 3) == -EINVAL && filp->f_pos == 104);
    KMC_ASSERT(vfs::llseek(filp, -1, 0) == -EINVAL && filp->f_pos == 104);
    KMC_ASSERT(vfs::llseek(filp, -105, 1) == -EINVAL);
    KMC_ASSERT(vfs::llseek(filp, -5, 2) == -EINVAL && filp->f_pos == 104);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, IoctlValidationOrder) {
  Scenario<> s("unit/ioctl_validation");
  s.Task("user", [](auto&) {
    SetCurrentCredentials(1000, 1000, false, false);
    vfs::File* filp = Open(O_RDONLY);
    // Wrong magic, then a number past SCULL_IOC_MAXNR: -ENOTTY, before any
    // privilege check.
    KMC_ASSERT(vfs::ioctl(filp, _IO('j', 3), 8) == -ENOTTY);
    KMC_ASSERT(vfs::ioctl(filp, _IO(SCULL_IOC_MAGIC, 15), 8) == -ENOTTY);
    KMC_ASSERT(vfs::ioctl(filp, _IOW('j', 1, int), 0) == -ENOTTY);
    // Privileged commands without CAP_SYS_ADMIN.
    int v = 7;
    const unsigned long p = reinterpret_cast<unsigned long>(&v);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCSQUANTUM, p) == -EPERM);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCSQSET, p) == -EPERM);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCTQUANTUM, 8) == -EPERM);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCTQSET, 8) == -EPERM);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCXQUANTUM, p) == -EPERM);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCXQSET, p) == -EPERM);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCHQUANTUM, 8) == -EPERM);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCHQSET, 8) == -EPERM);
    KMC_ASSERT(v == 7);
    // Unprivileged commands.
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCQQUANTUM, 0) == kQuantum);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCQQSET, 0) == kQset);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCGQUANTUM, p) == 0 && v == kQuantum);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCGQSET, p) == 0 && v == kQset);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCGQSET, 0) == -EFAULT);  // NULL
    // SCULL_P_IOCTSIZE/SCULL_P_IOCQSIZE, the pipe devices' cases of this
    // ioctl (B7: no privilege check): the size of the next pipe buffer.
    KMC_ASSERT(vfs::ioctl(filp, SCULL_P_IOCQSIZE, 0) == SCULL_P_BUFFER);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_P_IOCTSIZE, 64) == 0);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_P_IOCQSIZE, 0) == 64);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCRESET, 0) == 0);        // B7: no check
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCQQUANTUM, 0) == SCULL_QUANTUM);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCQQSET, 0) == SCULL_QSET);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, IoctlCommandsWithCapSysAdmin) {
  Scenario<> s("unit/ioctl_admin");
  s.Task("root", [](auto& d) {
    SetCurrentCredentials(0, 0, false, true);
    vfs::File* filp = Open(O_RDONLY);
    int v = 0;
    const unsigned long p = reinterpret_cast<unsigned long>(&v);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCTQUANTUM, 8) == 0);          // Tell
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCQQUANTUM, 0) == 8);          // Query
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCHQUANTUM, 16) == 8);         // sHift
    v = 32;
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCSQUANTUM, p) == 0);          // Set
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCGQUANTUM, p) == 0 && v == 32);  // Get
    v = 4;
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCXQUANTUM, p) == 0 && v == 32);  // eXchange
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCTQSET, 3) == 0);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCHQSET, 5) == 3);
    v = 6;
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCXQSET, p) == 0 && v == 5);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCQQSET, 0) == 6);
    // A NULL Set is -EFAULT; kmc's access_ok() rejects NULL before
    // __get_user() runs, so the global keeps its value (the kernel's
    // access_ok() passes NULL and __get_user() then stores 0: see
    // IoctlExchangeFaults for a faulting __get_user()).
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCSQSET, 0) == -EFAULT);
    KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCQQSET, 0) == 6);
    // The device picks the globals up only when it is trimmed.
    KMC_ASSERT(d.dev().quantum == kQuantum && d.dev().qset == kQset);
    Open(O_WRONLY);
    KMC_ASSERT(d.dev().quantum == 4 && d.dev().qset == 6);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, IoctlExchangeFaults) {
  // X: the old value is written back only when reading the new one worked.
  Scenario<> s("unit/ioctl_exchange_fault", kUserFault);
  s.Task("root", [](auto&) {
    SetCurrentCredentials(0, 0, false, true);
    vfs::File* filp = Open(O_RDONLY);
    int v = 9;
    const long r = vfs::ioctl(filp, SCULL_IOCXQUANTUM, reinterpret_cast<unsigned long>(&v));
    const long q = vfs::ioctl(filp, SCULL_IOCQQUANTUM, 0);
    // A faulting __get_user() stores 0 in the global, as the kernel's does; a
    // faulting __put_user() leaves the new value in place.
    KMC_ASSERT((r == 0 && v == kQuantum && q == 9) || (r == -EFAULT && v == 9 && (q == 0 || q == 9)));
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, ReadWriteGeometryAndHoles) {
  Scenario<> s("unit/geometry");
  s.Task("t", [](auto& d) {
    vfs::File* filp = Open(O_RDWR);
    std::string got;
    KMC_ASSERT(Pread(filp, 4, 0) == 0);                          // empty: EOF
    KMC_ASSERT(Pwrite(filp, "ABCDEF", 0) == 4);                  // one quantum at most
    KMC_ASSERT(filp->f_pos == 4 && d.dev().size == 4);
    KMC_ASSERT(Pwrite(filp, "ef", 2) == 2);                      // overwrite inside
    KMC_ASSERT(d.dev().size == 4);                          // size never shrinks
    KMC_ASSERT(Pread(filp, 10, 0, &got) == 4 && got == "ABef");  // clipped to size
    KMC_ASSERT(filp->f_pos == 4);
    KMC_ASSERT(Pread(filp, 4, 4) == 0);                          // EOF
    KMC_ASSERT(Pwrite(filp, "xy", 9) == 2);                      // node 1, past a hole
    KMC_ASSERT(d.dev().size == 11);
    KMC_ASSERT(Pread(filp, 4, 0, &got) == 4 && got == "ABef");   // node 0 untouched
    KMC_ASSERT(Pread(filp, 4, 4) == 0 && filp->f_pos == 4);       // a hole reads as EOF
    KMC_ASSERT(Pread(filp, 8, 8, &got) == 3 && got.substr(1) == "xy");  // clipped to size
    KMC_ASSERT(Pread(filp, 8, 10, &got) == 1 && got == "y");
    KMC_ASSERT(Pwrite(filp, "wxyz", 6) == 2 && filp->f_pos == 8);  // clipped at the quantum
    KMC_ASSERT(Pread(filp, 8, 5, &got) == 3 && got.substr(1) == "wx");
    // Open for reading keeps the data; write-only open trims it.
    Open(O_RDONLY);
    KMC_ASSERT(d.dev().size == 11);
    Open(O_RDWR);
    KMC_ASSERT(d.dev().size == 11);
    Open(O_WRONLY);
    KMC_ASSERT(d.dev().size == 0 && d.dev().data == nullptr);
    KMC_ASSERT(Pread(filp, 4, 0) == 0);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, ReadFollowAllocatesNodes) {
  // scull_follow() allocates missing list nodes on the read path too
  // (docs/DRIVERS.md, scull behaviour); module exit frees them.
  Scenario<> s("unit/read_follow");
  s.Task("t", [](auto& d) {
    vfs::File* filp = Open(O_RDWR);
    std::string got;
    KMC_ASSERT(Pwrite(filp, "z", 23) == 1);  // node 2; nodes 0 and 1 stay empty
    KMC_ASSERT(Pread(filp, 4, 0) == 0);      // node 0 has no array: a hole
    struct sc::scull_qset* node0 = d.dev().data;
    KMC_ASSERT(node0 != nullptr && node0->data == nullptr);
    struct sc::scull_qset* node1 = node0->next;
    KMC_ASSERT(node1 != nullptr && node1->data == nullptr);
    struct sc::scull_qset* node2 = node1->next;
    KMC_ASSERT(node2 != nullptr && node2->next == nullptr);
    KMC_ASSERT(node2->data != nullptr && node2->data[0] == nullptr);
    KMC_ASSERT(Pread(filp, 4, 23, &got) == 1 && got == "z");
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, AllocationFailuresLeakNothing) {
  Scenario<> s("unit/alloc_failure", kAllocFailure);
  s.Task("t", [](auto& d) {
    vfs::File* filp = Open(O_RDWR);
    const long n = Pwrite(filp, "abcd", 8);
    KMC_ASSERT(n == 4 || n == -ENOMEM);
    KMC_ASSERT(n == 4 ? d.dev().size == 12 : d.dev().size == 0);
    KMC_ASSERT(filp->f_pos == (n == 4 ? 12 : 8));
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullFixed, CheckedKmallocFailsCleanly) {  // B10 cleared
  Scenario<> s("fixed/checked_kmalloc", kAllocFailure);
  s.Task("writer", [](auto&) {
    vfs::File* filp = Open(O_WRONLY);
    const long n = Pwrite(filp, "abcd", 0);
    KMC_ASSERT(n == 4 || n == -ENOMEM);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, PartialCopiesFailWholly) {
  Scenario<0, true> s("unit/user_fault", kUserFault);
  s.Task("t", [](auto& d) {
    vfs::File* filp = Open(O_RDWR);
    std::string got;
    const long r = Pread(filp, 4, 0, &got);
    KMC_ASSERT((r == 4 && got == "data" && filp->f_pos == 4) || (r == -EFAULT && filp->f_pos == 0));
    const long w = Pwrite(filp, "more", 4);
    KMC_ASSERT((w == 4 && filp->f_pos == 8 && d.dev().size == 8) ||
               (w == -EFAULT && filp->f_pos == 4 && d.dev().size == 4));
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullUnit, SignalsGiveErestartsys) {
  Scenario<> s("unit/signals", kSignals);
  for (const char* task : {"writer0", "writer1"}) {
    s.Task(task, [](auto&) {
      int err = 0;
      vfs::File* filp = vfs::open(vfs::DeviceNumber("scull"), O_WRONLY, &err);  // trims, locked
      KMC_ASSERT(err == 0 || err == -ERESTARTSYS);
      if (err) return;
      const long n = Pwrite(filp, "abcd", 0);
      KMC_ASSERT(n == 4 || n == -ERESTARTSYS);
    });
  }
  EXPECT_CLEAN(s.Run());
}

}  // namespace
}  // namespace kmc
