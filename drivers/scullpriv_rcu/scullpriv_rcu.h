// scullpriv on RCU: a variant of LDD3's scullpriv (access.c, "cloned on
// open": one private scull device per controlling tty; docs/DRIVERS.md) whose
// device list is read-mostly:
//   * open looks the tty's device up under rcu_read_lock() with
//     list_for_each_entry_rcu() and takes a reference (atomic_inc_not_zero:
//     a device whose last user is leaving is not revived);
//   * a miss allocates a new device with GFP_KERNEL outside any lock (the P1
//     fix), then inserts it with list_add_rcu() under scull_c_lock after
//     searching again (P3: no duplicate for one key);
//   * release drops the reference; the last user unlinks the device with
//     list_del_rcu() under scull_c_lock, waits for a grace period
//     (synchronize_rcu()) and frees it, so a concurrent lookup that found it
//     never touches freed memory. The
//     real scullpriv never frees a device before module unload; its comment
//     says a real clone device would be freed on last close, which is this.
//   * a write-only open trims the device under its semaphore (P4/U3 fixed).
// Read, write, llseek and ioctl are scull's (drivers/scull), as in LDD3.
//
// Locking: scull_c_lock (spinlock) serializes list updates; readers hold
// rcu_read_lock() only. Lock order: none nested (scull_c_lock is never held
// with a device semaphore).

#ifndef KMC_DRIVERS_SCULLPRIV_RCU_SCULLPRIV_RCU_H_
#define KMC_DRIVERS_SCULLPRIV_RCU_SCULLPRIV_RCU_H_

#include "drivers/scull/scull_cxx.h"
#include "sync/kernel.h"

namespace kmc::drivers::scullpriv_rcu {

using namespace kmc::kernel;               // NOLINT: kernel spelling
using kmc::drivers::scull::scull_dev;      // NOLINT
using kmc::drivers::scull::scull_module;   // NOLINT

// The controlling tty of a process (current->signal->tty). kmc has no
// current->signal: a model passes it in filp->f_owner_key (NULL: no tty).
struct tty_struct {
  dev_t devnum;
};
inline dev_t tty_devnum(const struct tty_struct *tty) { return tty->devnum; }

// The clone-specific data structure includes a key field.
struct scull_listitem {
  struct scull_dev device;
  Shared<dev_t> key;
  struct list_head list;
  atomic_t users;  // opens holding the device; 0: being freed
};

// access.c's statics for the cloned devices. A model owns one per
// execution: set `scull` (the globals quantum/qset), then scullpriv_init().
struct scullpriv_module {
  struct scull_module *scull = nullptr;  // scull's globals (quantum, qset)
  struct list_head scull_c_list;         // the devices, one per tty key
  spinlock_t scull_c_lock;               // serializes updates of the list
  struct scull_dev scull_c_device;       // the placeholder device: its cdev opens us
};

int scullpriv_init(struct scullpriv_module *mod);
// Unlinks, trims and frees every device still listed (no user is left).
void scullpriv_cleanup(struct scullpriv_module *mod);

int scull_c_open(struct inode *inode, struct file *filp);
int scull_c_release(struct inode *inode, struct file *filp);

// The inode of /dev/scullpriv, for a model's open().
inline struct inode scullpriv_inode(struct scullpriv_module *mod) {
  return inode{&mod->scull_c_device.cdev, mod->scull_c_device.cdev.dev};
}

}  // namespace kmc::drivers::scullpriv_rcu

#endif  // KMC_DRIVERS_SCULLPRIV_RCU_SCULLPRIV_RCU_H_
