// Models of examples/scullsingle/scullsingle.c.

#include <fcntl.h>

#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

namespace {

using namespace kmc;  // NOLINT

struct Fx {
  int opened = 0;  // opens that succeeded, counted by the model
  explicit Fx(const char* params) { KMC_ASSERT(insmod("scullsingle", params) == 0); }
};
struct AtomicFx : Fx {
  AtomicFx() : Fx("") {}
};
struct PlainFlagFx : Fx {
  PlainFlagFx() : Fx("busy_flag=1") {}
};

// Opens the device, writes and reads back while holding it, closes it.
template <class F>
void User(F& x) {
  int err = 0;
  vfs::File* filp = vfs::open(vfs::DeviceNumber("scullsingle"), O_RDWR, &err);
  if (filp == nullptr) {
    KMC_ASSERT(err == -EBUSY);
    return;
  }
  ++x.opened;
  KMC_ASSERT(x.opened == 1);  // single open: nobody else holds it
  UserBuffer out("hi");
  KMC_ASSERT(vfs::write(filp, out.ptr(), out.size()) == 2);
  --x.opened;
  vfs::close(filp);
}

template <class F>
void TwoUsers(Model& m) {
  auto f = m.Fixture<F>();
  f.Task("user0", 0, [](F& x) { User(x); });
  f.Task("user1", 1, [](F& x) { User(x); });
}

KMC_MODEL("scullsingle/two_users") {
  m.Describe("two processes open the single-open device; one gets -EBUSY or waits its turn");
  m.Expect(Verdict::kClean);
  TwoUsers<AtomicFx>(m);
}

KMC_MODEL("scullsingle/plain_busy_flag") {
  m.Describe("busy_flag=1: the busy flag is tested and set without a lock");
  m.Expect(Verdict::kDataRace);
  TwoUsers<PlainFlagFx>(m);
}

}  // namespace
