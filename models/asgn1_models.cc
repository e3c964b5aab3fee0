// Models of asgn1, the COSC440 assignment 1 RAM disk on a page list
// (drivers/asgn1, docs/DRIVERS.md, asgn1): the corrected
// driver under concurrent use (clean, explored exhaustively), and one
// scenario per seeded bug ("asgn1 seeded bugs" there).
//
// The fixture constructor is insmod (asgn1_init_module, max_nprocs = 2
// unless a model says otherwise); the final check runs after every task,
// checks the asgn1 invariants of docs/DRIVERS.md and unloads the module, which frees
// every page and node: anything left is a kmemleak report.

#include <cstdio>
#include <cstring>
#include <string>

#include "drivers/asgn1/asgn1.h"
#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;          // NOLINT: kernel spelling
using namespace kmc::drivers::asgn1;  // NOLINT: driver spelling

// Engine workaround (see docs/RCU_SEQLOCK.md, "Known engine issue"): an
// atomic whose engine cell is created lazily during the run starts with an
// initial record whose Relacy bookkeeping is uninitialized, so whether a task
// may still read that initial value depends on leftover memory, and a replay
// can take another path. Two stores at module init (after which every task
// is synchronized) give the cell real records; the value is unchanged.
void GiveRealStores(atomic_t *v) {
  atomic_inc(v);
  atomic_dec(v);
}

enum Preload { kEmpty, kXyz };

// asgn1 loaded with `Bugs` seeded; with kXyz, "xyz" is at offset 0 (one page).
template <unsigned Bugs, int MaxNprocs = 2, Preload Data = kEmpty>
struct Asgn1 {
  asgn1_dev_t dev{};
  atomic_t holders = ATOMIC_INIT(0);  // ghost: files open right now

  Asgn1() {
    BUG_ON(asgn1_init_module(&dev, Bugs, MaxNprocs) != 0);
    GiveRealStores(&dev.nprocs);
    GiveRealStores(&dev.max_nprocs);
    GiveRealStores(&holders);
    if (Data != kEmpty) {
      file filp = make_file(O_RDWR);
      inode ino = asgn1_inode(&dev);
      BUG_ON(asgn1_open(&ino, &filp) != 0);
      UserBuffer ub(std::string("xyz"));
      BUG_ON(asgn1_write(&filp, ub.ptr(), ub.size(), &filp.f_pos) != 3);
      BUG_ON(asgn1_release(&ino, &filp) != 0);
    }
  }
};

// open(2); returns asgn1_open()'s result.
template <class F>
int Open(F &a, file &filp, unsigned flags) {
  inode ino = asgn1_inode(&a.dev);
  filp = make_file(flags);
  return asgn1_open(&ino, &filp);
}

template <class F>
void Close(F &a, file &filp) {
  inode ino = asgn1_inode(&a.dev);
  KMC_ASSERT(asgn1_release(&ino, &filp) == 0);
}

ssize_t Pwrite(file &filp, const std::string &data, loff_t pos) {
  UserBuffer ub(data);
  filp.f_pos = pos;
  return asgn1_write(&filp, ub.ptr(), ub.size(), &filp.f_pos);
}

// pread(2) of up to n bytes at pos; returns what was read (empty at EOF).
std::string Pread(file &filp, size_t n, loff_t pos) {
  UserBuffer ub(n);
  filp.f_pos = pos;
  const ssize_t r = asgn1_read(&filp, ub.ptr(), ub.size(), &filp.f_pos);
  KMC_ASSERT(r >= 0);
  return ub.str(static_cast<size_t>(r));
}

// The length of the page list (final checks, nothing runs concurrently).
template <class F>
int ListLength(F &a) {
  int n = 0;
  page_node *pos;
  list_for_each_entry(pos, &a.dev.mem_list, list) n += 1;
  return n;
}

// Invariants 1 and 2 of docs/DRIVERS.md (asgn1 invariants), then module exit.
template <class F>
void CheckAndUnload(F &a) {
  KMC_ASSERT(a.dev.num_pages == ListLength(a));
  KMC_ASSERT(a.dev.data_size <= static_cast<size_t>(a.dev.num_pages) * PAGE_SIZE);
  KMC_ASSERT(atomic_read(&a.dev.nprocs) == 0);
  asgn1_exit_module(&a.dev);
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
  f.Task("writer", 0, [](Clean &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_RDWR) == 0);
    KMC_ASSERT(Pwrite(filp, "abc", PAGE_SIZE - 1) == 3);
    Close(a, filp);
  });
  f.Task("reader", 1, [](Clean &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_RDONLY) == 0);
    const std::string got = Pread(filp, 4, PAGE_SIZE - 1);
    KMC_ASSERT(got.empty() || got == "abc");
    const loff_t end = asgn1_lseek(&filp, 0, SEEK_END);
    KMC_ASSERT(end == 0 || end == static_cast<loff_t>(2 * PAGE_SIZE));
    Close(a, filp);
  });
  f.Check([](Clean &a) {
    KMC_ASSERT(a.dev.num_pages == 2 && a.dev.data_size == PAGE_SIZE + 2);
    CheckAndUnload(a);
  });
}

// Admission: every open that succeeded counts itself in the ghost `holders`
// while it holds the device.
template <class F>
void Opener(F &a) {
  file filp;
  if (Open(a, filp, O_RDONLY) != 0) return;  // -EBUSY
  KMC_ASSERT(atomic_inc_return(&a.holders) <= atomic_read(&a.dev.max_nprocs));
  atomic_dec(&a.holders);
  Close(a, filp);
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
    file filp;
    KMC_ASSERT(Open(a, filp, O_RDONLY) == 0);  // the device is free again
    Close(a, filp);
    CheckAndUnload(a);
  });
}

// /proc: "key = value" of asgn1_read_procmem()'s text.
int ParseStat(const char *text, const char *key) {
  const char *p = std::strstr(text, key);
  KMC_ASSERT(p != nullptr);
  int v = -1;
  KMC_ASSERT(std::sscanf(p + std::strlen(key), " = %d", &v) == 1);
  return v;
}

using Filled = Asgn1<0, 2, kXyz>;

KMC_MODEL("asgn1/proc_stats") {
  auto f = m.Fixture<Filled>();
  m.Describe("a /proc reader reads num_pages and data_size through the seqlock while a "
             "write-only open frees the disk's page: it never sees data_size > "
             "num_pages * PAGE_SIZE (a torn pair: the free sets num_pages first)");
  m.Expect(Verdict::kClean);
  f.Task("truncater", 0, [](Filled &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_WRONLY) == 0);  // frees every page: num_pages = data_size = 0
    Close(a, filp);
  });
  f.Task("proc", 1, [](Filled &a) {
    int num_pages;
    size_t data_size;
    asgn1_read_stats(&a.dev, &num_pages, &data_size);  // what /proc/asgn1 prints
    KMC_ASSERT(num_pages == 0 || num_pages == 1);
    KMC_ASSERT(data_size <= static_cast<size_t>(num_pages) * PAGE_SIZE);
  });
  f.Check([](Filled &a) {
    char buf[128];
    asgn1_read_procmem(&a.dev, buf, sizeof(buf));
    KMC_ASSERT(ParseStat(buf, "num_pages") == 0 && ParseStat(buf, "data_size") == 0);
    KMC_ASSERT(ParseStat(buf, "nprocs") == 0 && ParseStat(buf, "max_nprocs") == 2);
    CheckAndUnload(a);
  });
}

// The user process that maps the RAM disk and reads it through the mapping.
template <class F>
void Mapper(F &a) {
  file filp;
  KMC_ASSERT(Open(a, filp, O_RDONLY) == 0);
  vm_area_struct vma = UserMapping::Vma(PAGE_SIZE);
  const int r = asgn1_mmap(&filp, &vma);
  if (r == 0) {
    const int c = UserMapping::read_byte(&vma, 1);
    KMC_ASSERT(c == 'y');
    UserMapping::munmap(&vma);
  } else {
    KMC_ASSERT(r == -EINVAL);  // the pages were freed before mmap
  }
  Close(a, filp);
}

KMC_MODEL("asgn1/mmap_then_read") {
  auto f = m.Fixture<Filled>();
  m.Describe("a process mmaps the RAM disk (per-page remap_pfn_range) and reads through the "
             "mapping while another opens it write-only: the open frees the pages only when "
             "nothing maps them, and fails with -EBUSY otherwise");
  m.Expect(Verdict::kClean);
  f.Task("mapper", 0, Mapper<Filled>);
  f.Task("truncater", 1, [](Filled &a) {
    file filp;
    const int r = Open(a, filp, O_WRONLY);
    KMC_ASSERT(r == 0 || r == -EBUSY);
    if (r == 0) Close(a, filp);
  });
  f.Check([](Filled &a) {
    KMC_ASSERT(a.dev.nmaps == 0);
    CheckAndUnload(a);
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
  f.Check(CheckAndUnload<CheckThenIncrement>);
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
    file filp;
    KMC_ASSERT(Open(a, filp, O_RDONLY) == 0);  // everyone has closed: the device is free
    Close(a, filp);
    CheckAndUnload(a);
  });
}

using UnlockedFree = Asgn1<A1_BUG_UNLOCKED_FREE, 2, kXyz>;

KMC_MODEL("asgn1/free_while_reading") {
  auto f = m.Fixture<UnlockedFree>();
  m.Describe("A1-B5: a write-only open frees the page list without the lock while a reader "
             "walks it and copies from a page");
  m.Expect({Verdict::kUseAfterFree, Verdict::kDataRace});
  f.Task("reader", 0, [](UnlockedFree &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_RDONLY) == 0);
    const std::string got = Pread(filp, 3, 0);
    KMC_ASSERT(got.empty() || got == "xyz");
    Close(a, filp);
  });
  f.Task("truncater", 1, [](UnlockedFree &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_WRONLY) == 0);
    Close(a, filp);
  });
  f.Check(CheckAndUnload<UnlockedFree>);
}

using FreeWhileMapped = Asgn1<A1_BUG_FREE_WHILE_MAPPED, 2, kXyz>;

KMC_MODEL("asgn1/free_while_mapped") {
  auto f = m.Fixture<FreeWhileMapped>();
  m.Describe("A1-B6: a write-only open frees the pages while a process still maps them "
             "(remap_pfn_range took no reference); the process then reads through its mapping");
  m.Expect(Verdict::kUseAfterFree);
  f.Task("mapper", 0, Mapper<FreeWhileMapped>);
  f.Task("truncater", 1, [](FreeWhileMapped &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_WRONLY) == 0);
    Close(a, filp);
  });
  f.Check(CheckAndUnload<FreeWhileMapped>);
}

using UnlockedWrite = Asgn1<A1_BUG_UNLOCKED_WRITE>;

KMC_MODEL("asgn1/concurrent_append") {
  auto f = m.Fixture<UnlockedWrite>();
  m.Describe("A1-B8: write without the lock: two writers appending to the empty disk both add "
             "a page at the tail; the list, num_pages and data_size race");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  auto writer = [](UnlockedWrite &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_RDWR) == 0);
    KMC_ASSERT(Pwrite(filp, "a", 0) == 1);
    Close(a, filp);
  };
  f.Task("writer0", 0, writer);
  f.Task("writer1", 1, writer);
  f.Check([](UnlockedWrite &a) {
    KMC_ASSERT(a.dev.num_pages == 1 && a.dev.data_size == 1);
    CheckAndUnload(a);
  });
}

using NodeLeak = Asgn1<A1_BUG_NODE_LEAK>;

KMC_MODEL("asgn1/node_leak_on_page_failure") {
  auto f = m.Fixture<NodeLeak>();
  m.Describe("A1-B11: alloc_page() fails after the page node was kmalloc'ed and write returns "
             "-ENOMEM without freeing the node (allocation failures explored)");
  m.Expect(Verdict::kMemoryLeak);
  m.Enable(kAllocFailure);
  f.Task("writer", 0, [](NodeLeak &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_RDWR) == 0);
    const ssize_t r = Pwrite(filp, "a", 0);
    KMC_ASSERT(r == 1 || r == -ENOMEM);
    Close(a, filp);
  });
  f.Check(CheckAndUnload<NodeLeak>);
}

using KfreePageField = Asgn1<A1_BUG_KFREE_PAGE_FIELD, 2, kXyz>;

KMC_MODEL("asgn1/kfree_of_page_field") {
  auto f = m.Fixture<KfreePageField>();
  m.Describe("A1-B12: free_memory_pages() calls kfree(&node->page): it frees an address inside "
             "the node, and the page itself is never freed");
  m.Expect({Verdict::kInvalidFree, Verdict::kMemoryLeak});
  f.Task("truncater", 0, [](KfreePageField &a) {
    file filp;
    KMC_ASSERT(Open(a, filp, O_WRONLY) == 0);
    Close(a, filp);
  });
  f.Check(CheckAndUnload<KfreePageField>);
}

}  // namespace
}  // namespace kmc::models
