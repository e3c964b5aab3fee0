// Models of scullpriv on RCU (drivers/scullpriv_rcu; LDD3's per-tty cloned
// scull device, docs/DRIVERS.md, with an RCU lookup and a device freed after
// a grace period when its last user goes).

#include <string>

#include "drivers/scull/scull_cxx.h"
#include "drivers/scullpriv_rcu/scullpriv_rcu.h"
#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;                  // NOLINT: kernel spelling
using namespace kmc::drivers::scullpriv_rcu;  // NOLINT: driver spelling

// scullpriv loaded; process "holder" already has /dev/scullpriv open on
// tty1 (it created the device at insmod time, in the fixture).
struct PrivFixture {
  kmc::drivers::scull::scull_module scull;  // scull's globals
  scullpriv_module mod;
  tty_struct tty1{1};  // the controlling tty both processes share
  file holder_file;

  PrivFixture() {
    scull.scull_quantum = 4;
    scull.scull_qset = 2;
    mod.scull = &scull;
    BUG_ON(scullpriv_init(&mod) != 0);
    inode ino = scullpriv_inode(&mod);
    holder_file = make_file(O_RDWR);
    holder_file.f_owner_key = &tty1;
    BUG_ON(scull_c_open(&ino, &holder_file) != 0);
  }
};

KMC_MODEL("scullpriv/rcu_lookup") {
  auto f = m.Fixture<PrivFixture>();
  m.Describe("the last user of a tty's device closes it (list_del_rcu, synchronize_rcu, free) "
             "while another process on the same tty opens /dev/scullpriv: the lookup under "
             "rcu_read_lock() either takes a reference first or misses and creates a new "
             "device; it never touches a freed device, and nothing leaks");
  m.Expect(Verdict::kClean);
  f.Task("holder", 0, [](PrivFixture &x) {
    inode ino = scullpriv_inode(&x.mod);
    KMC_ASSERT(scull_c_release(&ino, &x.holder_file) == 0);
  });
  f.Task("opener", 1, [](PrivFixture &x) {
    inode ino = scullpriv_inode(&x.mod);
    file filp = make_file(O_RDONLY);
    filp.f_owner_key = &x.tty1;
    KMC_ASSERT(scull_c_open(&ino, &filp) == 0);
    auto *dev = static_cast<kmc::drivers::scull::scull_dev *>(filp.private_data);
    KMC_ASSERT(dev->quantum.get() == 4);  // initialized before it was listed
    KMC_ASSERT(scull_c_release(&ino, &filp) == 0);
  });
  f.Check([](PrivFixture &x) {
    KMC_ASSERT(list_empty(&x.mod.scull_c_list));  // the last user freed it
    scullpriv_cleanup(&x.mod);
  });
}

}  // namespace
}  // namespace kmc::models
