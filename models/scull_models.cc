// Models of scull, LDD3's bare char driver in kernel C (drivers/scull/main.c,
// spec: docs/DRIVERS.md, scull): one clean scenario checked exhaustively, and
// one scenario per seeded bug (B1..B6, B10 and PB8, "scull seeded bugs" there).
//
// Every model loads the module as `insmod scull.ko scull_nr_devs=1
// scull_quantum=4 scull_qset=2 scull_bugs=...` (one list node covers 8
// bytes), so a few short writes already allocate nodes, pointer arrays and
// quanta, and reaches scull0 through kmc::vfs as user space does. The module
// is unloaded after the final check (module exit trims the device):
// everything the driver allocated must be freed again by then.

#include <fcntl.h>

#include <cstdio>
#include <string>

#include "drivers/scull/scull_view.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

namespace kmc::models {
namespace {

namespace sc = ::kmc::scull;

constexpr int kQuantum = 4;
constexpr int kQset = 2;

// insmod's parameters: one device of the tiny geometry, `bugs` seeded.
std::string ScullParams(unsigned bugs) {
  char params[96];
  std::snprintf(params, sizeof params, "scull_nr_devs=1 scull_quantum=%d scull_qset=%d scull_bugs=%#x",
                kQuantum, kQset, bugs);
  return params;
}

void Preload(const std::string& data);

// scull loaded with `Bugs` (SCULL_BUG_* of drivers/scull/scull.h); with
// `Filled`, scull0 already holds "data" (one quantum) when the tasks start.
template <unsigned Bugs, bool Filled = false>
struct Scull {
  Scull() {
    KMC_ASSERT(insmod("scull", ScullParams(Bugs)) == 0);
    if (Filled) Preload("data");
  }
  // scull0's struct scull_dev (read it only where no task runs).
  static sc::scull_dev& dev() { return sc::scull_devices[0]; }
};

// open(2) of scull0 with `flags`.
vfs::File* Open(unsigned flags) {
  int err = 0;
  vfs::File* filp = vfs::open(vfs::DeviceNumber("scull"), flags, &err);
  KMC_ASSERT(filp != nullptr && err == 0);
  return filp;
}

void Close(vfs::File* filp) { KMC_ASSERT(vfs::close(filp) == 0); }

// pwrite(2): one write at `pos`.
long Pwrite(vfs::File* filp, const std::string& data, long long pos) {
  UserBuffer ub(data);
  filp->f_pos = pos;
  return vfs::write(filp, ub.ptr(), ub.size());
}

// The whole device content, read from offset 0 as `cat` would (used by the
// final checks, where nothing runs concurrently).
std::string Cat() {
  vfs::File* filp = Open(O_RDONLY);
  std::string out;
  for (;;) {
    UserBuffer ub(16);
    const long n = vfs::read(filp, ub.ptr(), ub.size());
    KMC_ASSERT(n >= 0);
    if (n == 0) break;
    out += ub.str(static_cast<size_t>(n));
  }
  Close(filp);
  return out;
}

// Fills scull0 at module load (setup runs alone, so the lock is free).
void Preload(const std::string& data) {
  vfs::File* filp = Open(O_WRONLY);
  while (filp->f_pos < static_cast<long long>(data.size())) {
    UserBuffer ub(data.substr(static_cast<size_t>(filp->f_pos)));
    BUG_ON(vfs::write(filp, ub.ptr(), ub.size()) <= 0);
  }
  Close(filp);
}

// ---------------------------------------------------------------------------
// The clean driver: two writers and a reader.
//
// writer0 writes "ABCD" at 0 and "IJKL" at 8 (second list node); writer1
// writes "wxyzuv" at 2, which takes two calls because a write never crosses a
// quantum: "wx" at 2..3 (overlapping writer0's "CD") and "yzuv" at 4..7. The
// reader reads from 0 twice, concurrently.

constexpr char kUnwritten = 0x5a;  // kmalloc poison: a quantum byte never written

// The bytes a reader may see at `off`: what writer0 or writer1 writes there,
// or poison when the quantum exists but that byte was not written yet.
bool Plausible(size_t off, char c) {
  static constexpr const char* kWriter0 = "ABCD____IJKL";
  static constexpr const char* kWriter1 = "__wxyzuv____";
  if (off >= 12) return false;
  return c == kUnwritten || c == kWriter0[off] || c == kWriter1[off];
}

using Clean = Scull<0>;

KMC_MODEL("scull/writers_and_reader") {
  auto f = m.Fixture<Clean>();
  m.Describe("clean scull: two writers and a reader on one device; data integrity, no leak");
  m.Expect(Verdict::kClean);
  f.Task("writer0", 0, [](Clean&) {
    vfs::File* filp = Open(O_RDWR);
    KMC_ASSERT(Pwrite(filp, "ABCD", 0) == 4);
    KMC_ASSERT(Pwrite(filp, "IJKL", 8) == 4);
    Close(filp);
  });
  f.Task("writer1", 1, [](Clean&) {
    vfs::File* filp = Open(O_RDWR);
    KMC_ASSERT(Pwrite(filp, "wxyzuv", 2) == 2);  // clipped at the quantum's end
    KMC_ASSERT(Pwrite(filp, "yzuv", 4) == 4);
    Close(filp);
  });
  f.Task("reader", 1, [](Clean&) {
    vfs::File* filp = Open(O_RDONLY);
    for (int call = 0; call < 2; ++call) {
      const long long pos = filp->f_pos;
      UserBuffer ub(8, '.');
      const long n = vfs::read(filp, ub.ptr(), ub.size());
      // Inv 5: 0 (EOF or hole) or 1..min(count, quantum - q_pos) bytes.
      KMC_ASSERT(n >= 0 && n <= kQuantum - pos % kQuantum);
      KMC_ASSERT(filp->f_pos == pos + n);
      for (long i = 0; i < n; ++i) KMC_ASSERT(Plausible(pos + i, ub[i]));
      // Each write is atomic under the lock: offsets 2..3 hold one writer's pair.
      if (pos == 0 && n == 4) {
        const std::string mid = ub.str(4).substr(2);
        KMC_ASSERT(mid == "CD" || mid == "wx" || mid == std::string(2, kUnwritten));
      }
      if (n == 0) break;
    }
    Close(filp);
  });
  f.Check([](Clean& s) {
    // Inv 4/8: the device holds exactly what the writers wrote; "CD" and "wx"
    // land on the same bytes, so the one written last wins.
    KMC_ASSERT(s.dev().size == 12);
    // Inv 6: the lock was released on every path.
    auto* sem = reinterpret_cast<kernel::semaphore*>(&s.dev().sem);
    KMC_ASSERT(kernel::down_trylock(sem) == 0);
    kernel::up(sem);
    const std::string data = Cat();
    KMC_ASSERT(data == "ABCDyzuvIJKL" || data == "ABwxyzuvIJKL");
  });
}

// ---------------------------------------------------------------------------
// B1: write without the lock. The unordered plain accesses to the list and
// its slots are the race that allows the book's leak.

using UnlockedWrite = Scull<SCULL_BUG_UNLOCKED_WRITE>;

KMC_MODEL("scull/unlocked_write") {
  auto f = m.Fixture<UnlockedWrite>();
  m.Describe("B1: scull_write without the device lock; two writers race to allocate one quantum");
  m.Expect({Verdict::kMemoryLeak, Verdict::kDataRace});
  auto writer = [](const char* data) {
    return [data](UnlockedWrite&) {
      vfs::File* filp = Open(O_RDWR);
      KMC_ASSERT(Pwrite(filp, data, 0) == 4);
      Close(filp);
    };
  };
  f.Task("writer0", 0, writer("AAAA"));
  f.Task("writer1", 1, writer("BBBB"));
}

// B1 executed (fine-grained interleaving, Model::FineGrained): every plain
// access is a scheduling point, so a writer can be preempted between seeing
// a NULL slot and storing its new allocation. The writes run inside
// data_race() (KCSAN's mark for a known race) so that the race itself is
// not reported and the execution goes on to its consequence: both writers
// allocate, the second store wins, and kmemleak finds the loser's block at
// module exit. Without data_race() the race is still reported first, as by
// scull/unlocked_write (`kmc check scull/unlocked_write --fine_grained
// --suppressions=FILE` with `race:scull_*` also ends in the leak).
KMC_MODEL("scull/unlocked_write_fine_grained") {
  auto f = m.Fixture<UnlockedWrite>();
  m.Describe("B1 executed: scull_write without the device lock, with plain accesses as "
             "scheduling points and the race marked data_race(); both writers allocate the "
             "same quantum and one allocation leaks");
  m.Expect(Verdict::kMemoryLeak);
  m.FineGrained();
  auto writer = [](const char* data) {
    return [data](UnlockedWrite&) {
      vfs::File* filp = Open(O_RDWR);
      KMC_ASSERT(data_race(Pwrite(filp, data, 0)) == 4);
      Close(filp);
    };
  };
  f.Task("writer0", 0, writer("AAAA"));
  f.Task("writer1", 1, writer("BBBB"));
}

// ---------------------------------------------------------------------------
// B2: the -EFAULT path of write forgets up().

using MissingUp = Scull<SCULL_BUG_MISSING_UP_ON_FAULT>;

KMC_MODEL("scull/missing_up_on_fault") {
  auto f = m.Fixture<MissingUp>();
  m.Describe("B2: scull_write returns -EFAULT without up(); the next operation sleeps forever");
  m.Expect(Verdict::kDeadlock);
  m.Enable(kUserFault);
  f.Task("writer", 0, [](MissingUp&) {
    vfs::File* filp = Open(O_RDWR);
    const long n = Pwrite(filp, "abcd", 0);
    KMC_ASSERT(n == 4 || n == -EFAULT);
    Close(filp);
  });
  f.Task("reader", 1, [](MissingUp&) {
    vfs::File* filp = Open(O_RDONLY);
    UserBuffer ub(4);
    const long n = vfs::read(filp, ub.ptr(), ub.size());
    KMC_ASSERT(n == 0 || n == 4 || n == -EFAULT);
    Close(filp);
  });
}

// ---------------------------------------------------------------------------
// B4: a write-only open trims without the lock while a reader reads.

using UnlockedTrim = Scull<SCULL_BUG_UNLOCKED_TRIM, /*Filled=*/true>;

KMC_MODEL("scull/unlocked_trim") {
  auto f = m.Fixture<UnlockedTrim>();
  m.Describe("B4: open(O_WRONLY) trims without the device lock while a reader reads");
  m.Expect({Verdict::kUseAfterFree, Verdict::kDataRace});
  f.Task("truncater", 0, [](UnlockedTrim&) {
    vfs::File* filp = Open(O_WRONLY);  // trims
    Close(filp);
  });
  f.Task("reader", 1, [](UnlockedTrim&) {
    vfs::File* filp = Open(O_RDONLY);
    UserBuffer ub(4);
    const long n = vfs::read(filp, ub.ptr(), ub.size());
    KMC_ASSERT(n == 0 || (n == 4 && ub.str(4) == "data"));
    Close(filp);
  });
}

// ---------------------------------------------------------------------------
// A spinlock instead of the semaphore, held across user copies
// (docs/DRIVERS.md: scullpipe's PB8, here on scull).

using Spinlocked = Scull<SCULL_BUG_SPINLOCK, /*Filled=*/true>;

KMC_MODEL("scull/sleep_under_spinlock") {
  auto f = m.Fixture<Spinlocked>();
  m.Describe("scull guarded by a spinlock_t: copy_to_user/copy_from_user sleep in atomic context");
  m.Expect(Verdict::kInvalidContext);
  f.Task("reader", 0, [](Spinlocked&) {
    vfs::File* filp = Open(O_RDONLY);
    UserBuffer ub(4);
    KMC_ASSERT(vfs::read(filp, ub.ptr(), ub.size()) == 4);
    Close(filp);
  });
  f.Task("writer", 1, [](Spinlocked&) {
    vfs::File* filp = Open(O_RDWR);
    KMC_ASSERT(Pwrite(filp, "DATA", 0) == 4);
    Close(filp);
  });
}

// ---------------------------------------------------------------------------
// B10: an unchecked kmalloc() in scull_write; with allocation failures
// explored, the memset() of the missing array is a NULL dereference.

using UncheckedKmalloc = Scull<SCULL_BUG_UNCHECKED_KMALLOC>;

KMC_MODEL("scull/unchecked_kmalloc") {
  auto f = m.Fixture<UncheckedKmalloc>();
  m.Describe("B10: scull_write does not check kmalloc(); a failed allocation is written through");
  m.Expect(Verdict::kKernelOops);
  m.Enable(kAllocFailure);
  f.Task("writer", 0, [](UncheckedKmalloc&) {
    vfs::File* filp = Open(O_WRONLY);
    const long n = Pwrite(filp, "abcd", 0);
    KMC_ASSERT(n == 4 || n == -ENOMEM);
    Close(filp);
  });
}

// ---------------------------------------------------------------------------
// B3: the -EFAULT path of write calls up() twice.

using DoubleUp = Scull<SCULL_BUG_DOUBLE_UP>;

KMC_MODEL("scull/double_up") {
  auto f = m.Fixture<DoubleUp>();
  m.Describe("B3: scull_write's -EFAULT path up()s twice; the semaphore then admits two tasks");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  m.Enable(kUserFault);
  f.Task("writer0", 0, [](DoubleUp&) {
    vfs::File* filp = Open(O_RDWR);
    const long n = Pwrite(filp, "abcd", 0);
    KMC_ASSERT(n == 4 || n == -EFAULT);
    Close(filp);
  });
  f.Task("writer1", 1, [](DoubleUp&) {
    vfs::File* filp = Open(O_RDWR);
    const long n = Pwrite(filp, "ABCD", 4);
    KMC_ASSERT(n == 4 || n == -EFAULT);
    Close(filp);
  });
  f.Task("reader", 1, [](DoubleUp&) {
    vfs::File* filp = Open(O_RDONLY);
    UserBuffer ub(4);
    const long n = vfs::read(filp, ub.ptr(), ub.size());
    KMC_ASSERT(n >= 0 || n == -EFAULT);
    Close(filp);
  });
}

// ---------------------------------------------------------------------------
// B5 (present in LDD3): read/write copy quantum/qset before the lock, while a
// write-only open's trim rewrites them under it.

using EarlySnapshot = Scull<SCULL_BUG_SNAPSHOT_BEFORE_LOCK, /*Filled=*/true>;

KMC_MODEL("scull/snapshot_before_lock") {
  auto f = m.Fixture<EarlySnapshot>();
  m.Describe("B5: scull_write reads dev->quantum/qset before the lock, racing a trim (as in LDD3)");
  m.Expect(Verdict::kDataRace);
  f.Task("truncater", 0, [](EarlySnapshot&) {
    vfs::File* filp = Open(O_WRONLY);  // trims under the lock
    Close(filp);
  });
  f.Task("writer", 1, [](EarlySnapshot&) {
    vfs::File* filp = Open(O_RDWR);
    KMC_ASSERT(Pwrite(filp, "DATA", 0) == 4);
    Close(filp);
  });
}

// ---------------------------------------------------------------------------
// B6: SCULL_IOCXQUANTUM is not atomic (.unlocked_ioctl, LDD3-port).

struct Exchange : Scull<0> {
  kernel::Shared<int> old[2];  // what each task's exchange returned
};

KMC_MODEL("scull/ioctl_exchange") {
  auto f = m.Fixture<Exchange>();
  m.Describe("B6: two concurrent SCULL_IOCXQUANTUM exchanges are not atomic");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  auto exchanger = [](int index, int value) {
    return [index, value](Exchange& s) {
      SetCurrentCredentials(0, 0, false, /*cap_sys_admin=*/true);
      vfs::File* filp = Open(O_RDONLY);
      int v = value;
      KMC_ASSERT(vfs::ioctl(filp, SCULL_IOCXQUANTUM, reinterpret_cast<unsigned long>(&v)) == 0);
      s.old[index] = v;
      Close(filp);
    };
  };
  f.Task("admin0", 0, exchanger(0, 10));
  f.Task("admin1", 1, exchanger(1, 20));
  f.Check([](Exchange& s) {
    // Linearizable exchanges: one saw the initial value, the other the first's.
    const int q = sc::scull_quantum;
    KMC_ASSERT((s.old[0] == kQuantum && s.old[1] == 10 && q == 20) ||
               (s.old[1] == kQuantum && s.old[0] == 20 && q == 10));
  });
}

}  // namespace
}  // namespace kmc::models
