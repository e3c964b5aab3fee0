// Models of examples/complete/complete.c: readers sleep in
// wait_for_completion() until a writer's complete() lets one of them go.

#include <fcntl.h>

#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

namespace {

using namespace kmc;  // NOLINT

struct Fx {
  int woken = 0;    // reads that returned 0 (end of file) after a write
  int written = 0;  // writes that consumed their whole buffer
  explicit Fx(const char* params) { KMC_ASSERT(insmod("complete", params) == 0); }
};
struct FixedFx : Fx {
  FixedFx() : Fx("") {}
};
struct ReinitFx : Fx {
  ReinitFx() : Fx("bugs=1") {}
};

template <class F>
void Reader(F& x) {
  vfs::File* filp = vfs::open(vfs::DeviceNumber("complete"), O_RDONLY);
  KMC_ASSERT(filp != nullptr);
  UserBuffer buf(4);
  KMC_ASSERT(vfs::read(filp, buf.ptr(), buf.size()) == 0);  // sleeps until a write
  ++x.woken;
  vfs::close(filp);
}

template <class F>
void Writer(F& x) {
  vfs::File* filp = vfs::open(vfs::DeviceNumber("complete"), O_WRONLY);
  KMC_ASSERT(filp != nullptr);
  UserBuffer buf("go");
  KMC_ASSERT(vfs::write(filp, buf.ptr(), buf.size()) == 2);
  ++x.written;
  vfs::close(filp);
}

// n readers and n writers on two CPUs; every reader must be woken, once.
template <class F>
void ReadersAndWriters(Model& m, int n) {
  auto f = m.Fixture<F>();
  static const char* const kReaders[] = {"reader0", "reader1"};
  static const char* const kWriters[] = {"writer0", "writer1"};
  for (int i = 0; i < n; ++i) {
    f.Task(kReaders[i], 0, [](F& x) { Reader(x); });
    f.Task(kWriters[i], 1, [](F& x) { Writer(x); });
  }
  f.Check([n](F& x) {
    KMC_ASSERT(x.written == n);
    KMC_ASSERT(x.woken == n);  // one reader let go per write, none lost
  });
}

KMC_MODEL("complete/reader_and_writer") {
  m.Describe("a reader sleeps until a writer completes; the read returns 0");
  m.Expect(Verdict::kClean);
  ReadersAndWriters<FixedFx>(m, 1);
}

KMC_MODEL("complete/two_readers_two_writers") {
  m.Describe("two readers, two writers: each write lets exactly one reader go");
  m.Expect(Verdict::kClean);
  ReadersAndWriters<FixedFx>(m, 2);
}

KMC_MODEL("complete/reinit_loses_wakeup") {
  m.Describe("bugs=1: a woken reader re-arms the completion and throws away a "
             "second writer's complete(); the other reader sleeps forever");
  m.Expect(Verdict::kDeadlock);
  ReadersAndWriters<ReinitFx>(m, 2);
}

KMC_MODEL("complete/reader_without_writer") {
  m.Describe("a reader and no writer: wait_for_completion() is uninterruptible, "
             "so the reader stays asleep (a D-state task in the kernel)");
  m.Expect(Verdict::kDeadlock);
  auto f = m.Fixture<FixedFx>();
  f.Task("reader0", 0, [](FixedFx& x) { Reader(x); });
}

}  // namespace
