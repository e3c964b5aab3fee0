// scull_access: access.c of LDD3, the files with access control on open,
// over the kmc kernel API.
//
// Read it next to martinezjavier/ldd3 scull/access.c: the functions, their
// order, the variable names and the comments follow the C original. The
// statics of access.c are fields of struct scull_access_module (`mod->`);
// each open/release finds the module from its inode. Reads of
// lock-protected fields are written `.get()` so that a report names the
// exact line.
//
// Seeded bugs: every place where a SCULL_A_BUG_* bit changes the original
// logic is an `if (mod->bugs & SCULL_A_BUG_...)` marked with a `BUG <id>`
// comment. With mod->bugs == 0 the code is LDD3's, P1 included.

#include "drivers/scull_access/access.h"

namespace kmc::drivers::scull_access {

using scull::scull_trim;

namespace {

// LDD3's debugging printk, compiled out (SCULL_DEBUG unset).
#define PDEBUG(...) \
  do {              \
  } while (0)

}  // namespace

// These devices fall back on the main scull operations. They only
// differ in the implementation of open() and close()

// ************************************************************************
//
// The first device is the single-open one,
//  it has an hw structure and an open count

int scull_s_open(struct inode *inode, struct file *filp) {
  struct scull_access_module *mod =
      container_of(inode->i_cdev, struct scull_access_module, scull_s_device.cdev);
  struct scull_dev *dev = &mod->scull_s_device;  // device information

  if (mod->bugs & SCULL_A_BUG_S1_TEST_THEN_DEC) {
    // BUG S1: test, then decrement: two steps, and both openers see 1
    if (atomic_read(&mod->scull_s_available) != 1) return -EBUSY;
    atomic_dec(&mod->scull_s_available);
  } else if (!atomic_dec_and_test(&mod->scull_s_available)) {
    atomic_inc(&mod->scull_s_available);
    return -EBUSY;  // already open
  }

  // then, everything else is copied from the bare scull device
  if ((filp->f_flags & O_ACCMODE) == O_WRONLY) scull_trim(dev);
  filp->private_data = dev;
  return 0;  // success
}

int scull_s_release(struct inode *inode, struct file *filp) {
  struct scull_access_module *mod =
      container_of(inode->i_cdev, struct scull_access_module, scull_s_device.cdev);
  (void)filp;

  atomic_inc(&mod->scull_s_available);  // release the device
  return 0;
}

// ************************************************************************
//
// Next, the "uid" device. It can be opened multiple times by the
// same user, but access is denied to other users if the device is open

int scull_u_open(struct inode *inode, struct file *filp) {
  struct scull_access_module *mod =
      container_of(inode->i_cdev, struct scull_access_module, scull_u_device.cdev);
  struct scull_dev *dev = &mod->scull_u_device;  // device information

  spin_lock(&mod->scull_u_lock);
  if (mod->scull_u_count.get() &&
      !uid_eq(mod->scull_u_owner.get(), current_uid()) &&   // allow user
      !uid_eq(mod->scull_u_owner.get(), current_euid()) &&  // allow whoever did su
      !capable(CAP_DAC_OVERRIDE)) {                         // still allow root
    spin_unlock(&mod->scull_u_lock);
    return -EBUSY;  // -EPERM would confuse the user
  }

  if (mod->bugs & SCULL_A_BUG_U1_SPLIT_CRITICAL_SECTION) {
    // BUG U1: the test above and the claim below in two critical sections
    spin_unlock(&mod->scull_u_lock);
    spin_lock(&mod->scull_u_lock);
  }
  if (mod->scull_u_count.get() == 0) mod->scull_u_owner = current_uid();  // grab it

  mod->scull_u_count++;
  spin_unlock(&mod->scull_u_lock);

  // then, everything else is copied from the bare scull device

  if ((filp->f_flags & O_ACCMODE) == O_WRONLY) scull_trim(dev);
  filp->private_data = dev;
  return 0;  // success
}

int scull_u_release(struct inode *inode, struct file *filp) {
  struct scull_access_module *mod =
      container_of(inode->i_cdev, struct scull_access_module, scull_u_device.cdev);
  (void)filp;

  spin_lock(&mod->scull_u_lock);
  mod->scull_u_count--;  // nothing else
  spin_unlock(&mod->scull_u_lock);
  return 0;
}

// ************************************************************************
//
// Next, the device with blocking-open based on uid

static int scull_w_available(struct scull_access_module *mod) {
  return mod->scull_w_count.get() == 0 ||
         uid_eq(mod->scull_w_owner.get(), current_uid()) ||
         uid_eq(mod->scull_w_owner.get(), current_euid()) ||
         capable(CAP_DAC_OVERRIDE);
}

int scull_w_open(struct inode *inode, struct file *filp) {
  struct scull_access_module *mod =
      container_of(inode->i_cdev, struct scull_access_module, scull_w_device.cdev);
  struct scull_dev *dev = &mod->scull_w_device;  // device information

  spin_lock(&mod->scull_w_lock);
  while (!scull_w_available(mod)) {
    spin_unlock(&mod->scull_w_lock);
    if (filp->f_flags & O_NONBLOCK) return -EAGAIN;
    if (mod->bugs & SCULL_A_BUG_W3_LOST_WAKEUP) {
      // BUG W3: no check after queueing; the last one was made under the
      // spinlock, so a release between spin_unlock() and prepare_to_wait()
      // wakes nobody
      DEFINE_WAIT(wait);
      prepare_to_wait(&mod->scull_w_wait, &wait, TASK_INTERRUPTIBLE);
      schedule();
      finish_wait(&mod->scull_w_wait, &wait);
      if (signal_pending(current)) return -ERESTARTSYS;
    } else if (wait_event_interruptible(mod->scull_w_wait, scull_w_available(mod))) {
      return -ERESTARTSYS;  // tell the fs layer to handle it
    }
    spin_lock(&mod->scull_w_lock);
    if (mod->bugs & SCULL_A_BUG_W1_IF_NOT_WHILE)
      break;  // BUG W1: `if`, not `while`: no re-test under the lock after waking
  }
  if (mod->scull_w_count.get() == 0) mod->scull_w_owner = current_uid();  // grab it
  mod->scull_w_count++;
  spin_unlock(&mod->scull_w_lock);

  // then, everything else is copied from the bare scull device
  if ((filp->f_flags & O_ACCMODE) == O_WRONLY) scull_trim(dev);
  filp->private_data = dev;
  return 0;  // success
}

int scull_w_release(struct inode *inode, struct file *filp) {
  struct scull_access_module *mod =
      container_of(inode->i_cdev, struct scull_access_module, scull_w_device.cdev);
  int temp;
  (void)filp;

  spin_lock(&mod->scull_w_lock);
  mod->scull_w_count--;
  temp = mod->scull_w_count.get();
  spin_unlock(&mod->scull_w_lock);

  if (temp == 0) wake_up_interruptible_sync(&mod->scull_w_wait);  // awake other uid's
  return 0;
}

// ************************************************************************
//
// Finally the `cloned' private device. This is trickier because it
// involves list management, and dynamic allocation.

// Look for a device or create one if missing
static struct scull_dev *scull_c_lookfor_device(struct scull_access_module *mod, dev_t key) {
  struct scull_listitem *lptr;

  list_for_each_entry(lptr, &mod->scull_c_list, list) {
    if (lptr->key == key) return &(lptr->device);
  }

  // not found
  if (mod->bugs & SCULL_A_FIX_P1)
    lptr = kmalloc(sizeof(struct scull_listitem), GFP_ATOMIC);  // P1 fixed: does not sleep
  else  // BUG P1 (in LDD3 itself): GFP_KERNEL may sleep, and scull_c_lock is held
    lptr = kmalloc(sizeof(struct scull_listitem), GFP_KERNEL);
  if (!lptr) return nullptr;

  // initialize the device
  kmc_memset(lptr, 0, sizeof(struct scull_listitem));
  lptr->key = key;
  lptr->device.owner = mod->scull;  // kmc: THIS_MODULE, where scull_trim finds the globals
  scull_trim(&(lptr->device));      // initialize it
  sema_init(&(lptr->device.sem), 1);

  // place it in the list
  list_add(&lptr->list, &mod->scull_c_list);

  return &(lptr->device);
}

int scull_c_open(struct inode *inode, struct file *filp) {
  struct scull_access_module *mod =
      container_of(inode->i_cdev, struct scull_access_module, scull_c_device.cdev);
  struct scull_dev *dev;
  dev_t key;
  // current->signal->tty (kmc: the model passes it in f_owner_key)
  const struct tty_struct *tty = static_cast<const struct tty_struct *>(filp->f_owner_key);

  if (!tty) {
    PDEBUG("Process \"%s\" has no ctl tty\n", current->comm);
    return -EINVAL;
  }
  key = tty_devnum(tty);

  // look for a scullc device in the list
  spin_lock(&mod->scull_c_lock);
  dev = scull_c_lookfor_device(mod, key);
  spin_unlock(&mod->scull_c_lock);

  if (!dev) return -ENOMEM;

  // then, everything else is copied from the bare scull device
  if ((filp->f_flags & O_ACCMODE) == O_WRONLY) scull_trim(dev);
  filp->private_data = dev;
  return 0;  // success
}

int scull_c_release(struct inode *inode, struct file *filp) {
  (void)inode;
  (void)filp;
  // Nothing to do, because the device is persistent.
  // A `real' cloned device should be freed on last close
  return 0;
}

// ************************************************************************
//
// And the init and cleanup functions come last

namespace {

struct scull_adev_info {
  const char *name;
  struct scull_dev *sculldev;
};

// scull_access_devs[]: the devices of `mod`, in minor order.
void scull_access_devs(struct scull_access_module *mod,
                       struct scull_adev_info devs[SCULL_N_ADEVS]) {
  devs[SCULL_A_SINGLE] = {"scullsingle", &mod->scull_s_device};
  devs[SCULL_A_UID] = {"sculluid", &mod->scull_u_device};
  devs[SCULL_A_WUID] = {"scullwuid", &mod->scull_w_device};
  devs[SCULL_A_PRIV] = {"sullpriv", &mod->scull_c_device};  // sic, as in LDD3
}

// Set up a single device.
void scull_access_setup(struct scull_access_module *mod, unsigned devno,
                        struct scull_adev_info *devinfo) {
  struct scull_dev *dev = devinfo->sculldev;

  // Initialize the device structure
  dev->quantum = mod->scull->scull_quantum.get();
  dev->qset = mod->scull->scull_qset.get();
  sema_init(&dev->sem, 1);
  // kmc: scull's additions to struct scull_dev
  spin_lock_init(&dev->lock);
  dev->owner = mod->scull;
  dev->bugs = mod->scull->scull_bugs;

  // Do the cdev stuff (cdev_init/cdev_add: only the number is recorded).
  dev->cdev.dev = devno;
}

}  // namespace

int scull_access_init(struct scull_access_module *mod, unsigned firstdev) {
  struct scull_adev_info devs[SCULL_N_ADEVS];
  int i;

  // Get our number space (register_chrdev_region: no kmc counterpart)
  mod->scull_a_firstdev = firstdev;

  // Set up each device.
  scull_access_devs(mod, devs);
  for (i = 0; i < SCULL_N_ADEVS; i++) scull_access_setup(mod, firstdev + i, devs + i);
  return SCULL_N_ADEVS;
}

// This is called by cleanup_module or on failure.
// It is required to never fail, even if nothing was initialized first
void scull_access_cleanup(struct scull_access_module *mod) {
  struct scull_adev_info devs[SCULL_N_ADEVS];
  struct scull_listitem *lptr, *next;
  int i;

  // Clean up the static devs
  scull_access_devs(mod, devs);
  for (i = 0; i < SCULL_N_ADEVS; i++) {
    // cdev_del: no kmc counterpart
    scull_trim(devs[i].sculldev);
  }

  // And all the cloned devices
  list_for_each_entry_safe(lptr, next, &mod->scull_c_list, list) {
    list_del(&lptr->list);
    scull_trim(&(lptr->device));
    kfree(lptr);
  }

  // Free up our number space (unregister_chrdev_region: no kmc counterpart)
}

struct inode scull_a_inode(struct scull_access_module *mod, int which) {
  struct scull_adev_info devs[SCULL_N_ADEVS];

  scull_access_devs(mod, devs);
  struct scull_dev *dev = devs[which].sculldev;
  return inode{&dev->cdev, dev->cdev.dev};
}

}  // namespace kmc::drivers::scull_access
