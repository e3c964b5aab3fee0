// scull_access: the access-control devices of LDD3 chapter 6 (scull/access.c),
// re-modelled over the kmc kernel API: scullsingle (one open at a time),
// sculluid (one user at a time, -EBUSY), scullwuid (one user at a time,
// blocking open) and scullpriv (a private device per controlling tty).
//
// Reads side by side with martinezjavier/ldd3 scull/access.c. Behaviour:
// docs/DRIVERS.md, scull access-control devices. The devices are bare scull devices
// (struct scull_dev): read, write, llseek and ioctl are scull's
// (//drivers/scull); only open and release are defined here.
//
// Differences from the C original, all forced by the model checker:
//   * The file-scope statics of access.c (the four devices, the counters,
//     owners, spinlocks, the wait queue and the clone list) live in struct
//     scull_access_module, which a model owns (one per execution). An open
//     method finds it from its inode with container_of, as the C finds its
//     static device. main.c's globals (scull_quantum, scull_qset), which
//     scull_trim() copies into a device, stay in scull::scull_module; every
//     device's `owner` points there.
//   * Fields a lock protects are Shared<T>; scull_s_available is an atomic_t.
//   * kmc has no current->signal->tty: a model passes the controlling tty
//     of the opening process in filp->f_owner_key (a struct tty_struct, or
//     NULL for no tty).
//   * Bug mask: scull_access_module::bugs. With 0 the code is LDD3's, which
//     includes P1 (scullpriv allocates with GFP_KERNEL under a spinlock).
//     Each SCULL_A_BUG_* bit seeds one classic bug (docs/DRIVERS.md, scull access-control
//     seeded bugs) at the
//     places marked `BUG <id>` in access.cc; SCULL_A_FIX_P1 fixes P1.

#ifndef KMC_DRIVERS_SCULL_ACCESS_ACCESS_H_
#define KMC_DRIVERS_SCULL_ACCESS_ACCESS_H_

#include "drivers/scull/scull_cxx.h"
#include "sync/kernel.h"

namespace kmc::drivers::scull_access {

using namespace kmc::kernel;  // NOLINT: kernel spelling
using scull::scull_dev;
using scull::scull_module;

// Seeded bugs and fixes, one bit each in scull_access_module::bugs.
enum : unsigned {
  // S1: scull_s_open() tests scull_s_available and decrements it in two
  // steps (atomic_read, then atomic_dec): two openers both see 1.
  SCULL_A_BUG_S1_TEST_THEN_DEC = 1u << 0,
  // U1: scull_u_open() tests the owner under scull_u_lock, unlocks, relocks
  // and only then claims: two users both pass the test.
  SCULL_A_BUG_U1_SPLIT_CRITICAL_SECTION = 1u << 1,
  // W1: scull_w_open() does not re-test scull_w_available() under
  // scull_w_lock after waking (`if`, not `while`).
  SCULL_A_BUG_W1_IF_NOT_WHILE = 1u << 2,
  // W3: scull_w_open() sleeps with prepare_to_wait()/schedule() without
  // re-checking after queueing: its only check is the one made under the
  // spinlock, before the unlock, so a release in between wakes nobody.
  SCULL_A_BUG_W3_LOST_WAKEUP = 1u << 3,
  // Not a bug: P1's fix. scull_c_lookfor_device() allocates with
  // GFP_ATOMIC (as a transcription of the 2nd edition does), so scullpriv
  // can be exercised past P1.
  SCULL_A_FIX_P1 = 1u << 4,
};

// The controlling tty of a process (current->signal->tty).
struct tty_struct {
  dev_t devnum;
};
inline dev_t tty_devnum(const struct tty_struct *tty) { return tty->devnum; }

// The clone-specific data structure includes a key field
struct scull_listitem {
  struct scull_dev device;
  dev_t key;
  struct list_head list;
};

// access.c's statics and this kmc module's parameters. A model owns one per
// execution: set `scull` (and `bugs`), then call scull_access_init().
struct scull_access_module {
  struct scull_module *scull = nullptr;  // main.c's globals (scull_quantum, scull_qset)
  unsigned bugs = 0;                     // SCULL_A_BUG_* / SCULL_A_FIX_* bits
  unsigned scull_a_firstdev = 0;         // Where our range begins

  // The first device is the single-open one,
  // it has an hw structure and an open count
  struct scull_dev scull_s_device{};
  atomic_t scull_s_available = ATOMIC_INIT(1);

  // Next, the "uid" device. It can be opened multiple times by the
  // same user, but access is denied to other users if the device is open
  struct scull_dev scull_u_device{};
  Shared<int> scull_u_count;  // initialized to 0 by default
  Shared<kuid_t> scull_u_owner{kuid_t{0}};
  DEFINE_SPINLOCK(scull_u_lock);

  // Next, the device with blocking-open based on uid
  struct scull_dev scull_w_device{};
  Shared<int> scull_w_count;  // initialized to 0 by default
  Shared<kuid_t> scull_w_owner{kuid_t{0}};
  DECLARE_WAIT_QUEUE_HEAD(scull_w_wait);
  DEFINE_SPINLOCK(scull_w_lock);

  // Finally the `cloned' private device.
  // The list of devices, and a lock to protect it
  LIST_HEAD(scull_c_list);
  DEFINE_SPINLOCK(scull_c_lock);
  // A placeholder scull_dev which really just holds the cdev stuff.
  struct scull_dev scull_c_device{};
};

// The devices, in the order of scull_access_devs[] (the minor offsets).
enum { SCULL_A_SINGLE = 0, SCULL_A_UID = 1, SCULL_A_WUID = 2, SCULL_A_PRIV = 3 };
inline constexpr int SCULL_N_ADEVS = 4;

// open and release of each device (the other file operations are scull's:
// scull_read, scull_write, scull_llseek, scull_ioctl).
int scull_s_open(struct inode *inode, struct file *filp);
int scull_s_release(struct inode *inode, struct file *filp);
int scull_u_open(struct inode *inode, struct file *filp);
int scull_u_release(struct inode *inode, struct file *filp);
int scull_w_open(struct inode *inode, struct file *filp);
int scull_w_release(struct inode *inode, struct file *filp);
int scull_c_open(struct inode *inode, struct file *filp);
int scull_c_release(struct inode *inode, struct file *filp);

// Module init/exit. scull_access_init() returns SCULL_N_ADEVS.
// scull_access_cleanup() trims the static devices and unlinks, trims and
// frees every cloned device; it never fails.
int scull_access_init(struct scull_access_module *mod, unsigned firstdev);
void scull_access_cleanup(struct scull_access_module *mod);

// The inode of device `which` (SCULL_A_*), for a model's open().
struct inode scull_a_inode(struct scull_access_module *mod, int which);

}  // namespace kmc::drivers::scull_access

#endif  // KMC_DRIVERS_SCULL_ACCESS_ACCESS_H_
