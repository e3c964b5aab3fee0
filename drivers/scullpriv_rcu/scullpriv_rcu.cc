// scullpriv on RCU: LDD3 access.c's cloned device (scull_c_open,
// scull_c_release, scull_c_lookfor_device) with a read-mostly device list.
// See scullpriv_rcu.h for the design; the names follow access.c.

#include "drivers/scullpriv_rcu/scullpriv_rcu.h"

namespace kmc::drivers::scullpriv_rcu {

namespace {

using kmc::drivers::scull::scull_trim;  // NOLINT

// atomic_inc_not_zero(): the kernel's generic fallback
// (include/linux/atomic/atomic-arch-fallback.h), a cmpxchg loop. Spelled out
// because kmc's atomic_add_unless() is a load followed by an unconditional
// add: under weak memory the load may return a stale nonzero count and the
// add then revives a device whose last user already dropped it.
bool scull_c_tryget(atomic_t *users) {
  int c = atomic_read(users);
  do {
    if (c == 0) return false;
    const int old = atomic_cmpxchg(users, c, c + 1);
    if (old == c) return true;
    c = old;
  } while (true);
}

struct scullpriv_module *module_of(struct inode *inode) {
  struct scull_dev *placeholder = container_of(inode->i_cdev, struct scull_dev, cdev);
  return container_of(placeholder, struct scullpriv_module, scull_c_device);
}

// The fast path: find the tty's device under rcu_read_lock() and take a
// reference, unless its last user is already freeing it (users == 0).
struct scull_listitem *scull_c_get(struct scullpriv_module *mod, dev_t key) {
  struct scull_listitem *lptr;

  rcu_read_lock();
  list_for_each_entry_rcu(lptr, &mod->scull_c_list, list) {
    if (lptr->key.get() == key && scull_c_tryget(&lptr->users)) {
      rcu_read_unlock();
      return lptr;
    }
  }
  rcu_read_unlock();
  return nullptr;
}

// Look for a device or create one (with a reference for the caller).
struct scull_listitem *scull_c_lookfor_device(struct scullpriv_module *mod, dev_t key) {
  struct scull_listitem *lptr, *fresh;

  lptr = scull_c_get(mod, key);
  if (lptr) return lptr;

  // not found: allocate outside the spinlock (GFP_KERNEL may sleep; P1)
  fresh = kzalloc(sizeof(struct scull_listitem), GFP_KERNEL);
  if (!fresh) return nullptr;

  // initialize the device before anybody can see it
  fresh->key = key;
  fresh->device.owner = mod->scull;
  scull_trim(&fresh->device);  // initialize it
  sema_init(&fresh->device.sem, 1);
  atomic_set(&fresh->users, 1);

  // search again under the lock: another opener of the tty may have won (P3)
  spin_lock(&mod->scull_c_lock);
  list_for_each_entry(lptr, &mod->scull_c_list, list) {
    if (lptr->key.get() == key && scull_c_tryget(&lptr->users)) {
      spin_unlock(&mod->scull_c_lock);
      kfree(fresh);  // nothing allocated in it yet
      return lptr;
    }
  }
  // place it in the list: list_add_rcu() publishes the initialized item
  list_add_rcu(&fresh->list, &mod->scull_c_list);
  spin_unlock(&mod->scull_c_lock);
  return fresh;
}

// Drops a reference; the last user unlinks the device and frees it once no
// lookup can still be looking at it.
void scull_c_put(struct scullpriv_module *mod, struct scull_listitem *lptr) {
  if (!atomic_dec_and_test(&lptr->users)) return;
  spin_lock(&mod->scull_c_lock);
  list_del_rcu(&lptr->list);
  spin_unlock(&mod->scull_c_lock);
  synchronize_rcu();  // wait for the lookups that may have found it
  scull_trim(&lptr->device);  // nobody can reach it: no lock needed
  kfree(lptr);
}

}  // namespace

int scull_c_open(struct inode *inode, struct file *filp) {
  struct scullpriv_module *mod = module_of(inode);
  struct scull_listitem *lptr;
  struct scull_dev *dev;
  const struct tty_struct *tty = static_cast<const struct tty_struct *>(filp->f_owner_key);
  dev_t key;

  if (!tty) return -EINVAL;  // no controlling tty
  key = tty_devnum(tty);

  // look for a scullc device in the list
  lptr = scull_c_lookfor_device(mod, key);
  if (!lptr) return -ENOMEM;
  dev = &lptr->device;

  // then, everything else is copied from the bare scull device
  if ((filp->f_flags & O_ACCMODE) == O_WRONLY) {
    if (down_interruptible(&dev->sem)) {  // trim under the device lock (P4)
      scull_c_put(mod, lptr);
      return -ERESTARTSYS;
    }
    scull_trim(dev);
    up(&dev->sem);
  }
  filp->private_data = dev;
  return 0;  // success
}

int scull_c_release(struct inode *inode, struct file *filp) {
  struct scull_dev *dev = static_cast<struct scull_dev *>(filp->private_data);
  scull_c_put(module_of(inode), container_of(dev, struct scull_listitem, device));
  return 0;
}

int scullpriv_init(struct scullpriv_module *mod) {
  INIT_LIST_HEAD(&mod->scull_c_list);
  spin_lock_init(&mod->scull_c_lock);
  mod->scull_c_device.owner = mod->scull;
  mod->scull_c_device.cdev.dev = 1;  // MKDEV(scull_major, scull_minor + SCULL_NR_DEVS + 3)
  sema_init(&mod->scull_c_device.sem, 1);
  scull_trim(&mod->scull_c_device);
  return 0;
}

void scullpriv_cleanup(struct scullpriv_module *mod) {
  struct scull_listitem *lptr, *next;

  // And all the cloned devices
  list_for_each_entry_safe(lptr, next, &mod->scull_c_list, list) {
    list_del(&lptr->list);
    scull_trim(&lptr->device);
    kfree(lptr);
  }
  scull_trim(&mod->scull_c_device);
}

}  // namespace kmc::drivers::scullpriv_rcu
