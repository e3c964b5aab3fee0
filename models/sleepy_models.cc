// Models of drivers/sleepy/sleepy.c, a C driver checked as written: loaded
// per execution with insmod(), reached through its file_operations.

#include <fcntl.h>

#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

namespace kmc::models {
namespace {

// Readers that got a wake-up (read returned 0) and writes made, counted by
// the model itself (not driver memory).
struct SleepyFx {
  int consumed = 0;
  int writes = 0;
  explicit SleepyFx(const char* params) { KMC_ASSERT(insmod("sleepy", params) == 0); }
};
struct BookFx : SleepyFx {
  BookFx() : SleepyFx("") {}
};
struct FixedFx : SleepyFx {
  FixedFx() : SleepyFx("fixed=1") {}
};

void Reader(SleepyFx& x) {
  vfs::File* filp = vfs::open(vfs::DeviceNumber("sleepy"), O_RDONLY);
  KMC_ASSERT(filp != nullptr);
  char c;
  if (vfs::read(filp, &c, 1) == 0) ++x.consumed;
  vfs::close(filp);
}

void Writer(SleepyFx& x) {
  vfs::File* filp = vfs::open(vfs::DeviceNumber("sleepy"), O_WRONLY);
  KMC_ASSERT(filp != nullptr);
  const char c = 'x';
  KMC_ASSERT(vfs::write(filp, &c, 1) == 1);
  ++x.writes;
  vfs::close(filp);
}

template <class F>
void ReaderAndWriter(Model& m) {
  auto f = m.Fixture<F>();
  f.Task("reader", 0, [](F& x) { Reader(x); });
  f.Task("writer", 1, [](F& x) { Writer(x); });
  f.Check([](F& x) { KMC_ASSERT(x.consumed == 1 && x.writes == 1); });
}

KMC_MODEL("sleepy/reader_and_writer") {
  m.Describe("the book's sleepy device: a reader that finds the flag already set resets it "
             "without a lock while the writer sets it: a data race on `flag`");
  m.Expect(Verdict::kDataRace);
  ReaderAndWriter<BookFx>(m);
}

KMC_MODEL("sleepy/fixed") {
  m.Describe("sleepy with fixed=1: the flag is set, tested and reset under a spinlock");
  m.Expect(Verdict::kClean);
  ReaderAndWriter<FixedFx>(m);
}

}  // namespace
}  // namespace kmc::models
