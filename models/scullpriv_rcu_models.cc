// Models of scullpriv on RCU (drivers/scull/priv_rcu.c, a file of the C
// module scull; LDD3's per-tty cloned scull device, docs/DRIVERS.md, with an
// RCU lookup and a device freed after a grace period when its last user
// goes).

#include <fcntl.h>

#include <string>

#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

namespace kmc::models {
namespace {

constexpr unsigned kTty1 = 0x8801;  // the controlling tty both processes share

vfs::File* OpenPriv(unsigned flags) {
  int err = 0;
  vfs::File* filp = vfs::open(vfs::DeviceNumber("scullpriv_rcu"), flags, &err);
  KMC_ASSERT(err == 0 && filp != nullptr);
  return filp;
}

// scull loaded; process "holder" already has /dev/scullpriv_rcu open on
// tty1 (it created the device at insmod time, in the fixture) and wrote "x".
struct PrivFixture {
  vfs::File* holder_file = nullptr;

  PrivFixture() {
    KMC_ASSERT(insmod("scull", "scull_nr_devs=1 scull_quantum=4 scull_qset=2") == 0);
    SetCurrentTty(kTty1);
    holder_file = OpenPriv(O_RDWR);
    UserBuffer ub(std::string("x"));
    KMC_ASSERT(vfs::write(holder_file, ub.ptr(), 1) == 1);
  }
};

KMC_MODEL("scullpriv/rcu_lookup") {
  auto f = m.Fixture<PrivFixture>();
  m.Describe("the last user of a tty's device closes it (list_del_rcu, synchronize_rcu, free) "
             "while another process on the same tty opens /dev/scullpriv: the lookup under "
             "rcu_read_lock() either takes a reference first or misses and creates a new "
             "device; it never touches a freed device, and nothing leaks");
  m.Expect(Verdict::kClean);
  f.Task("holder", 0, [](PrivFixture& x) { KMC_ASSERT(vfs::close(x.holder_file) == 0); });
  f.Task("opener", 1, [](PrivFixture&) {
    SetCurrentTty(kTty1);
    vfs::File* filp = OpenPriv(O_RDWR);
    // The device's quantum (4) was set before it was listed: a write stops
    // at the quantum's end.
    UserBuffer ub(std::string("abcdef"));
    filp->f_pos = 0;
    KMC_ASSERT(vfs::write(filp, ub.ptr(), ub.size()) == 4);
    KMC_ASSERT(vfs::close(filp) == 0);
  });
  f.Check([](PrivFixture&) {
    // The last user freed the tty's device: a new open gets a fresh, empty
    // one (a device kept alive would still hold "x" or "abcd").
    SetCurrentTty(kTty1);
    vfs::File* filp = OpenPriv(O_RDONLY);
    UserBuffer ub(4);
    KMC_ASSERT(vfs::read(filp, ub.ptr(), ub.size()) == 0);
    KMC_ASSERT(vfs::close(filp) == 0);
  });
}

}  // namespace
}  // namespace kmc::models
