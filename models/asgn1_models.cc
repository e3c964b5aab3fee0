// Models of asgn1, the COSC440 assignment 1 RAM disk on a page list
// (drivers/asgn1/asgn1.c, docs/DRIVERS.md, asgn1): the corrected driver
// under concurrent use (clean, explored exhaustively), and one scenario per
// seeded bug ("asgn1 seeded bugs" there).
//
// The driver is the C module: the fixture constructor loads it with
// insmod("asgn1", "bugs=...") and sets max_nprocs through its ioctl (2
// unless a model says otherwise); tasks reach it as user space does, through
// kmc::vfs (open, read, write, llseek, mmap, close, and /proc/asgn1). The
// final check runs after every task, reads the device state through
// asgn1.h and checks the asgn1 invariants of docs/DRIVERS.md; module exit
// then frees every page and node: anything left is a kmemleak report.

#include <fcntl.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "drivers/asgn1/asgn1.h"
#include "sync/kernel.h"
#include "sync/mm.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

namespace kmc::models {
namespace {

using kmc::cabi::asgn1_device;
using kmc::kernel::atomic_t;
using kmc::kernel::PAGE_SIZE;

// TEM_SET_NPROC = _IOW('k', SET_NPROC_OP, int), as user space spells it.
constexpr unsigned kSetNproc = (1u << 30) | (sizeof(int) << 16) | (MYIOC_TYPE << 8) | SET_NPROC_OP;

// The driver's atomic_t seen by the model (the same layout).
atomic_t *Atomic(cabi::atomic_t *v) { return reinterpret_cast<atomic_t *>(v); }

// Engine workaround (docs/ARCHITECTURE.md, atomic cells): two stores at
// module init give the model's ghost atomic real records.
void GiveRealStores(atomic_t *v) {
  kernel::atomic_inc(v);
  kernel::atomic_dec(v);
}

enum Preload { kEmpty, kXyz };

// open(2) of the device; returns the file, or nullptr with *err = -errno.
vfs::File *Open(unsigned flags, int *err = nullptr) {
  return vfs::open(vfs::DeviceNumber(MYDEV_NAME), flags, err);
}

void Close(vfs::File *filp) { KMC_ASSERT(vfs::close(filp) == 0); }

// pwrite(2): the position is the caller's.
long Pwrite(vfs::File *filp, const std::string &data, long long pos) {
  UserBuffer ub(data);
  filp->f_pos = pos;
  return vfs::write(filp, ub.ptr(), ub.size());
}

// pread(2) of up to n bytes at pos; returns what was read (empty at EOF).
std::string Pread(vfs::File *filp, size_t n, long long pos) {
  UserBuffer ub(n);
  filp->f_pos = pos;
  const long r = vfs::read(filp, ub.ptr(), ub.size());
  KMC_ASSERT(r >= 0);
  return ub.str(static_cast<size_t>(r));
}

// asgn1 loaded with `Bugs` seeded and max_nprocs = MaxNprocs; with kXyz,
// "xyz" is at offset 0 (one page).
template <unsigned Bugs, int MaxNprocs = 2, Preload Data = kEmpty>
struct Asgn1 {
  atomic_t holders = ATOMIC_INIT(0);  // ghost: files open right now

  Asgn1() {
    char params[32];
    std::snprintf(params, sizeof params, "bugs=%#x", Bugs);
    KMC_ASSERT(insmod("asgn1", params) == 0);
    GiveRealStores(&holders);
    if (MaxNprocs != 1) {
      vfs::File *filp = Open(O_RDONLY);
      KMC_ASSERT(filp != nullptr);
      UserBuffer n(sizeof(int));
      const int v = MaxNprocs;
      std::memcpy(n.ptr(), &v, sizeof v);
      KMC_ASSERT(vfs::ioctl(filp, kSetNproc, reinterpret_cast<unsigned long>(n.ptr())) == 0);
      Close(filp);
    }
    if (Data != kEmpty) {
      vfs::File *filp = Open(O_RDWR);
      KMC_ASSERT(filp != nullptr);
      KMC_ASSERT(Pwrite(filp, "xyz", 0) == 3);
      Close(filp);
    }
  }
};

// The length of the page list (final checks, nothing runs concurrently).
int ListLength() {
  int n = 0;
  for (const cabi::list_head *p = asgn1_device.mem_list.next; p != &asgn1_device.mem_list;
       p = p->next) {
    n += 1;
  }
  return n;
}

// /proc/asgn1: "key = value" of its text.
int ParseStat(const std::string &text, const char *key) {
  const char *p = std::strstr(text.c_str(), key);
  KMC_ASSERT(p != nullptr);
  int v = -1;
  KMC_ASSERT(std::sscanf(p + std::strlen(key), " = %d", &v) == 1);
  return v;
}

// cat /proc/asgn1.
std::string ReadProc() {
  vfs::File *filp = vfs::open("/proc/" MYDEV_NAME, O_RDONLY);
  KMC_ASSERT(filp != nullptr);
  UserBuffer ub(128);
  const long r = vfs::read(filp, ub.ptr(), ub.size());
  KMC_ASSERT(r > 0);
  KMC_ASSERT(vfs::close(filp) == 0);
  return ub.str(static_cast<size_t>(r));
}

// Invariants 1 to 3 of docs/DRIVERS.md (asgn1 invariants); module exit
// follows the check.
template <class F>
void CheckInvariants(F &) {
  KMC_ASSERT(asgn1_device.num_pages == ListLength());
  KMC_ASSERT(asgn1_device.data_size <= static_cast<size_t>(asgn1_device.num_pages) * PAGE_SIZE);
  KMC_ASSERT(kernel::atomic_read(Atomic(&asgn1_device.nprocs)) == 0);
}

// ---------------------------------------------------------------------------
// Clean models.

using Clean = Asgn1<0>;

KMC_MODEL("asgn1/writer_and_reader") {
  auto f = m.Fixture<Clean>();
  m.Describe("corrected asgn1: a writer writes across a page boundary (two pages allocated on "
             "demand) while a reader reads there and seeks to the end; with the lock the reader "
             "sees all of the write or none of it");
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, [](Clean &) {
    vfs::File *filp = Open(O_RDWR);
    KMC_ASSERT(filp != nullptr);
    KMC_ASSERT(Pwrite(filp, "abc", PAGE_SIZE - 1) == 3);
    Close(filp);
  });
  f.Task("reader", 1, [](Clean &) {
    vfs::File *filp = Open(O_RDONLY);
    KMC_ASSERT(filp != nullptr);
    const std::string got = Pread(filp, 4, PAGE_SIZE - 1);
    KMC_ASSERT(got.empty() || got == "abc");
    const long long end = vfs::llseek(filp, 0, SEEK_END);
    KMC_ASSERT(end == 0 || end == static_cast<long long>(2 * PAGE_SIZE));
    Close(filp);
  });
  f.Check([](Clean &a) {
    KMC_ASSERT(asgn1_device.num_pages == 2 && asgn1_device.data_size == PAGE_SIZE + 2);
    CheckInvariants(a);
  });
}

// Admission: every open that succeeded counts itself in the ghost `holders`
// while it holds the device.
template <class F>
void Opener(F &a) {
  vfs::File *filp = Open(O_RDONLY);
  if (filp == nullptr) return;  // -EBUSY
  KMC_ASSERT(kernel::atomic_inc_return(&a.holders) <=
             kernel::atomic_read(Atomic(&asgn1_device.max_nprocs)));
  kernel::atomic_dec(&a.holders);
  Close(filp);
}

using OneUser = Asgn1<0, 1>;

KMC_MODEL("asgn1/admission") {
  auto f = m.Fixture<OneUser>();
  m.Describe("max_nprocs = 1 and three openers: atomic_inc_return() admits at most one holder "
             "at a time, and a refused opener leaves nprocs as it was");
  m.Expect(Verdict::kClean);
  f.Task("opener0", 0, Opener<OneUser>);
  f.Task("opener1", 1, Opener<OneUser>);
  f.Task("opener2", 0, Opener<OneUser>);
  f.Check([](OneUser &a) {
    vfs::File *filp = Open(O_RDONLY);
    KMC_ASSERT(filp != nullptr);  // the device is free again
    Close(filp);
    CheckInvariants(a);
  });
}

using Filled = Asgn1<0, 2, kXyz>;

KMC_MODEL("asgn1/proc_stats") {
  auto f = m.Fixture<Filled>();
  m.Describe("a reader of /proc/asgn1 (num_pages and data_size read through the seqlock) while "
             "a write-only open frees the disk's page: it never sees data_size > "
             "num_pages * PAGE_SIZE (a torn pair: the free sets num_pages first)");
  m.Expect(Verdict::kClean);
  f.Task("truncater", 0, [](Filled &) {
    vfs::File *filp = Open(O_WRONLY);  // frees every page: num_pages = data_size = 0
    KMC_ASSERT(filp != nullptr);
    Close(filp);
  });
  f.Task("proc", 1, [](Filled &) {
    const std::string text = ReadProc();
    const int num_pages = ParseStat(text, "num_pages");
    const int data_size = ParseStat(text, "data_size");
    KMC_ASSERT(num_pages == 0 || num_pages == 1);
    KMC_ASSERT(static_cast<size_t>(data_size) <= static_cast<size_t>(num_pages) * PAGE_SIZE);
  });
  f.Check([](Filled &a) {
    const std::string text = ReadProc();
    KMC_ASSERT(ParseStat(text, "num_pages") == 0 && ParseStat(text, "data_size") == 0);
    KMC_ASSERT(ParseStat(text, "nprocs") == 0 && ParseStat(text, "max_nprocs") == 2);
    CheckInvariants(a);
  });
}

// The user process that maps the RAM disk and reads it through the mapping.
void Mapper() {
  vfs::File *filp = Open(O_RDONLY);
  KMC_ASSERT(filp != nullptr);
  kernel::vm_area_struct vma = UserMapping::Vma(PAGE_SIZE);
  const int r = vfs::mmap(filp, &vma);
  if (r == 0) {
    const int c = UserMapping::read_byte(&vma, 1);
    KMC_ASSERT(c == 'y');
    UserMapping::munmap(&vma);
  } else {
    KMC_ASSERT(r == -EINVAL);  // the pages were freed before mmap
  }
  Close(filp);
}

KMC_MODEL("asgn1/mmap_then_read") {
  auto f = m.Fixture<Filled>();
  m.Describe("a process mmaps the RAM disk (per-page remap_pfn_range) and reads through the "
             "mapping while another opens it write-only: the open frees the pages only when "
             "nothing maps them, and fails with -EBUSY otherwise");
  m.Expect(Verdict::kClean);
  f.Task("mapper", 0, [](Filled &) { Mapper(); });
  f.Task("truncater", 1, [](Filled &) {
    int err = 0;
    vfs::File *filp = Open(O_WRONLY, &err);
    KMC_ASSERT(filp != nullptr || err == -EBUSY);
    if (filp != nullptr) Close(filp);
  });
  f.Check([](Filled &a) {
    KMC_ASSERT(asgn1_device.nmaps == 0);
    CheckInvariants(a);
  });
}

// ---------------------------------------------------------------------------
// Seeded bugs.

using CheckThenIncrement = Asgn1<A1_BUG_CHECK_THEN_INCREMENT, 1>;

KMC_MODEL("asgn1/check_then_increment") {
  auto f = m.Fixture<CheckThenIncrement>();
  m.Describe("A1-B1: open reads nprocs, compares it with max_nprocs = 1 and increments in a "
             "separate step: two openers both get in");
  m.Expect(Verdict::kAssertionFailed);
  f.Task("opener0", 0, Opener<CheckThenIncrement>);
  f.Task("opener1", 1, Opener<CheckThenIncrement>);
  f.Check(CheckInvariants<CheckThenIncrement>);
}

using NoUndo = Asgn1<A1_BUG_NO_UNDO_ON_EBUSY, 1>;

KMC_MODEL("asgn1/no_undo_on_ebusy") {
  auto f = m.Fixture<NoUndo>();
  m.Describe("A1-B2: a refused open (-EBUSY) does not undo its increment of nprocs: once every "
             "holder has closed, nobody can open the device any more");
  m.Expect(Verdict::kAssertionFailed);
  f.Task("opener0", 0, Opener<NoUndo>);
  f.Task("opener1", 1, Opener<NoUndo>);
  f.Check([](NoUndo &a) {
    vfs::File *filp = Open(O_RDONLY);
    KMC_ASSERT(filp != nullptr);  // everyone has closed: the device is free
    Close(filp);
    CheckInvariants(a);
  });
}

using UnlockedFree = Asgn1<A1_BUG_UNLOCKED_FREE, 2, kXyz>;

KMC_MODEL("asgn1/free_while_reading") {
  auto f = m.Fixture<UnlockedFree>();
  m.Describe("A1-B5: a write-only open frees the page list without the lock while a reader "
             "walks it and copies from a page");
  m.Expect({Verdict::kUseAfterFree, Verdict::kDataRace});
  f.Task("reader", 0, [](UnlockedFree &) {
    vfs::File *filp = Open(O_RDONLY);
    KMC_ASSERT(filp != nullptr);
    const std::string got = Pread(filp, 3, 0);
    KMC_ASSERT(got.empty() || got == "xyz");
    Close(filp);
  });
  f.Task("truncater", 1, [](UnlockedFree &) {
    vfs::File *filp = Open(O_WRONLY);
    KMC_ASSERT(filp != nullptr);
    Close(filp);
  });
  f.Check(CheckInvariants<UnlockedFree>);
}

using FreeWhileMapped = Asgn1<A1_BUG_FREE_WHILE_MAPPED, 2, kXyz>;

KMC_MODEL("asgn1/free_while_mapped") {
  auto f = m.Fixture<FreeWhileMapped>();
  m.Describe("A1-B6: a write-only open frees the pages while a process still maps them "
             "(remap_pfn_range took no reference); the process then reads through its mapping");
  m.Expect(Verdict::kUseAfterFree);
  f.Task("mapper", 0, [](FreeWhileMapped &) { Mapper(); });
  f.Task("truncater", 1, [](FreeWhileMapped &) {
    vfs::File *filp = Open(O_WRONLY);
    KMC_ASSERT(filp != nullptr);
    Close(filp);
  });
  f.Check(CheckInvariants<FreeWhileMapped>);
}

using UnlockedWrite = Asgn1<A1_BUG_UNLOCKED_WRITE>;

KMC_MODEL("asgn1/concurrent_append") {
  auto f = m.Fixture<UnlockedWrite>();
  m.Describe("A1-B8: write without the lock: two writers appending to the empty disk both add "
             "a page at the tail; the list, num_pages and data_size race");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  auto writer = [](UnlockedWrite &) {
    vfs::File *filp = Open(O_RDWR);
    KMC_ASSERT(filp != nullptr);
    KMC_ASSERT(Pwrite(filp, "a", 0) == 1);
    Close(filp);
  };
  f.Task("writer0", 0, writer);
  f.Task("writer1", 1, writer);
  f.Check([](UnlockedWrite &a) {
    KMC_ASSERT(asgn1_device.num_pages == 1 && asgn1_device.data_size == 1);
    CheckInvariants(a);
  });
}

using NodeLeak = Asgn1<A1_BUG_NODE_LEAK>;

KMC_MODEL("asgn1/node_leak_on_page_failure") {
  auto f = m.Fixture<NodeLeak>();
  m.Describe("A1-B11: alloc_page() fails after the page node was kmalloc'ed and write returns "
             "-ENOMEM without freeing the node (allocation failures explored)");
  m.Expect(Verdict::kMemoryLeak);
  m.Enable(kAllocFailure);
  f.Task("writer", 0, [](NodeLeak &) {
    vfs::File *filp = Open(O_RDWR);
    KMC_ASSERT(filp != nullptr);
    const long r = Pwrite(filp, "a", 0);
    KMC_ASSERT(r == 1 || r == -ENOMEM);
    Close(filp);
  });
  f.Check(CheckInvariants<NodeLeak>);
}

using KfreePageField = Asgn1<A1_BUG_KFREE_PAGE_FIELD, 2, kXyz>;

KMC_MODEL("asgn1/kfree_of_page_field") {
  auto f = m.Fixture<KfreePageField>();
  m.Describe("A1-B12: free_memory_pages() calls kfree(&node->page): it frees an address inside "
             "the node, and the page itself is never freed");
  m.Expect({Verdict::kInvalidFree, Verdict::kMemoryLeak});
  f.Task("truncater", 0, [](KfreePageField &) {
    vfs::File *filp = Open(O_WRONLY);
    KMC_ASSERT(filp != nullptr);
    Close(filp);
  });
  f.Check(CheckInvariants<KfreePageField>);
}

}  // namespace
}  // namespace kmc::models
