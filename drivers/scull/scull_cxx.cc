// scull: main.c of LDD3, the bare scull char module, over the kmc kernel API.
//
// Read it next to martinezjavier/ldd3 scull/main.c (the semaphore version of
// LDD3-orig): the functions, their order, the variable names and the
// comments follow the C original. Reads of lock-protected fields are written
// `dev->size.get()` rather than `dev->size` so that a report names the exact
// line of the read; writes (`dev->size = 0`) record their line by themselves.
//
// Seeded bugs: every place where a SCULL_BUG_* bit changes the original logic
// is an `if (dev->bugs & SCULL_BUG_...)` marked with a `BUG Bn` comment. With
// dev->bugs == 0 the code is LDD3's, plus one fix: read and write take their
// quantum/qset snapshot under the lock (B5 is the LDD3 behaviour).

#include "drivers/scull/scull_cxx.h"

namespace kmc::drivers::scull {

namespace {

// kmc has no access_ok(). In the kernel it only checks that the range lies
// below TASK_SIZE, which every address a model passes (NULL included) does.
bool access_ok(const void __user *addr, unsigned long size) {
  (void)addr;
  (void)size;
  return true;
}

// LDD3 reads straight into the global: `__get_user(scull_quantum, ptr)`.
// The kernel's get_user() stores 0 in its destination when the access
// faults (kmc's leaves it alone), so a faulting S or X ioctl zeroes the
// global, as in the kernel.
int get_user_global(Shared<int> &global, int __user *ptr, const Loc &loc = Loc::current()) {
  int val = 0;
  int err = get_user_impl(val, ptr, loc);
  global.set(err ? 0 : val, loc);
  return err;
}

}  // namespace

// Empty out the scull device; must be called with the device semaphore held.
int scull_trim(struct scull_dev *dev) {
  struct scull_qset *next, *dptr;
  int qset = dev->qset.get();  // "dev" is not-null
  int i;

  for (dptr = dev->data.get(); dptr; dptr = next) {  // all the list items
    if (dptr->data.get()) {
      for (i = 0; i < qset; i++) kfree(dptr->data.get()[i].get());
      kfree(dptr->data.get());
      dptr->data = nullptr;
    }
    next = dptr->next.get();
    kfree(dptr);
  }
  dev->size = 0;
  dev->quantum = dev->owner->scull_quantum.get();
  dev->qset = dev->owner->scull_qset.get();
  dev->data = nullptr;
  return 0;
}

// Open and close

int scull_open(struct inode *inode, struct file *filp) {
  struct scull_dev *dev;  // device information

  dev = container_of(inode->i_cdev, struct scull_dev, cdev);
  filp->private_data = dev;  // for other methods

  // now trim to 0 the length of the device if open was write-only
  if ((filp->f_flags & O_ACCMODE) == O_WRONLY) {
    if (dev->bugs & SCULL_BUG_UNLOCKED_TRIM) {
      scull_trim(dev);  // BUG B4: trims without the device lock
      return 0;
    }
    if (dev->bugs & SCULL_BUG_SPINLOCK) {
      spin_lock(&dev->lock);  // BUG (sleep_under_spinlock): spinlock, not semaphore
      scull_trim(dev);
      spin_unlock(&dev->lock);
      return 0;
    }
    if (down_interruptible(&dev->sem)) return -ERESTARTSYS;
    scull_trim(dev);  // ignore errors
    up(&dev->sem);
  }
  return 0;  // success
}

int scull_release(struct inode *inode, struct file *filp) {
  (void)inode;
  (void)filp;
  return 0;
}

// Follow the list
struct scull_qset *scull_follow(struct scull_dev *dev, int n) {
  struct scull_qset *qs = dev->data.get();

  // Allocate first qset explicitly if need be
  if (!qs) {
    qs = kmalloc(sizeof(struct scull_qset), GFP_KERNEL);
    dev->data = qs;
    if (qs == nullptr) return nullptr;  // Never mind
    kmc_memset(qs, 0, sizeof(struct scull_qset));
  }

  // Then follow the list
  while (n--) {
    if (!qs->next.get()) {
      qs->next = kmalloc(sizeof(struct scull_qset), GFP_KERNEL);
      if (qs->next.get() == nullptr) return nullptr;  // Never mind
      kmc_memset(qs->next.get(), 0, sizeof(struct scull_qset));
    }
    qs = qs->next.get();
    continue;
  }
  return qs;
}

// Data management: read and write

ssize_t scull_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos) {
  struct scull_dev *dev = static_cast<struct scull_dev *>(filp->private_data);
  struct scull_qset *dptr;  // the first listitem
  int quantum = 0, qset = 0;
  int itemsize;  // how many bytes in the listitem
  int item, s_pos, q_pos, rest;
  ssize_t retval = 0;

  if (dev->bugs & SCULL_BUG_SNAPSHOT_BEFORE_LOCK) {
    quantum = dev->quantum.get();  // BUG B5 (as in LDD3): read before the lock
    qset = dev->qset.get();
  }
  if (dev->bugs & SCULL_BUG_SPINLOCK)
    spin_lock(&dev->lock);  // BUG (sleep_under_spinlock): spinlock, not semaphore
  else if (down_interruptible(&dev->sem))
    return -ERESTARTSYS;
  if (!(dev->bugs & SCULL_BUG_SNAPSHOT_BEFORE_LOCK)) {
    quantum = dev->quantum.get();
    qset = dev->qset.get();
  }
  itemsize = quantum * qset;

  if (*f_pos >= static_cast<loff_t>(dev->size.get())) goto out;
  if (*f_pos + count > dev->size.get()) count = dev->size.get() - *f_pos;

  // find listitem, qset index, and offset in the quantum
  item = static_cast<long>(*f_pos) / itemsize;
  rest = static_cast<long>(*f_pos) % itemsize;
  s_pos = rest / quantum;
  q_pos = rest % quantum;

  // follow the list up to the right position (defined elsewhere)
  dptr = scull_follow(dev, item);

  if (dptr == nullptr || !dptr->data.get() || !dptr->data.get()[s_pos].get())
    goto out;  // don't fill holes

  // read only up to the end of this quantum
  if (count > static_cast<size_t>(quantum - q_pos)) count = quantum - q_pos;

  if (copy_to_user(buf, dptr->data.get()[s_pos].get() + q_pos, count)) {
    retval = -EFAULT;
    goto out;
  }
  *f_pos += count;
  retval = count;

out:
  if (dev->bugs & SCULL_BUG_SPINLOCK)
    spin_unlock(&dev->lock);
  else
    up(&dev->sem);
  return retval;
}

ssize_t scull_write(struct file *filp, const char __user *buf, size_t count, loff_t *f_pos) {
  struct scull_dev *dev = static_cast<struct scull_dev *>(filp->private_data);
  struct scull_qset *dptr;
  int quantum = 0, qset = 0;
  int itemsize;
  int item, s_pos, q_pos, rest;
  ssize_t retval = -ENOMEM;  // value used in "goto out" statements

  if (dev->bugs & SCULL_BUG_SNAPSHOT_BEFORE_LOCK) {
    quantum = dev->quantum.get();  // BUG B5 (as in LDD3): read before the lock
    qset = dev->qset.get();
  }
  if (dev->bugs & SCULL_BUG_UNLOCKED_WRITE) {
    // BUG B1: no lock: the check-then-allocate of a slot below races
  } else if (dev->bugs & SCULL_BUG_SPINLOCK) {
    spin_lock(&dev->lock);  // BUG (sleep_under_spinlock): spinlock, not semaphore
  } else if (down_interruptible(&dev->sem)) {
    return -ERESTARTSYS;
  }
  if (!(dev->bugs & SCULL_BUG_SNAPSHOT_BEFORE_LOCK)) {
    quantum = dev->quantum.get();
    qset = dev->qset.get();
  }
  itemsize = quantum * qset;

  // find listitem, qset index and offset in the quantum
  item = static_cast<long>(*f_pos) / itemsize;
  rest = static_cast<long>(*f_pos) % itemsize;
  s_pos = rest / quantum;
  q_pos = rest % quantum;

  // follow the list up to the right position
  dptr = scull_follow(dev, item);
  if (dptr == nullptr) goto out;
  if (!dptr->data.get()) {
    dptr->data = kmalloc(qset * sizeof(scull_qptr), GFP_KERNEL);
    // BUG B10: the failed allocation goes unnoticed
    if (!(dev->bugs & SCULL_BUG_UNCHECKED_KMALLOC) && !dptr->data.get()) goto out;
    kmc_memset(dptr->data.get(), 0, qset * sizeof(scull_qptr));
  }
  if (!dptr->data.get()[s_pos].get()) {
    dptr->data.get()[s_pos] = kmalloc(quantum, GFP_KERNEL);
    if (!dptr->data.get()[s_pos].get()) goto out;
  }
  // write only up to the end of this quantum
  if (count > static_cast<size_t>(quantum - q_pos)) count = quantum - q_pos;

  if (copy_from_user(dptr->data.get()[s_pos].get() + q_pos, buf, count)) {
    retval = -EFAULT;
    if (dev->bugs & SCULL_BUG_MISSING_UP_ON_FAULT)
      return retval;  // BUG B2: returns with dev->sem still held
    if (dev->bugs & SCULL_BUG_DOUBLE_UP)
      up(&dev->sem);  // BUG B3: unlocks here, and again at out:
    goto out;
  }
  *f_pos += count;
  retval = count;

  // update the size
  if (static_cast<loff_t>(dev->size.get()) < *f_pos) dev->size = *f_pos;

out:
  if (dev->bugs & SCULL_BUG_UNLOCKED_WRITE) {
    // BUG B1: nothing to unlock
  } else if (dev->bugs & SCULL_BUG_SPINLOCK) {
    spin_unlock(&dev->lock);
  } else {
    up(&dev->sem);
  }
  return retval;
}

// The ioctl() implementation

long scull_ioctl(struct file *filp, unsigned int cmd, unsigned long arg) {
  // scull_quantum and friends are globals in LDD3; here they live in the
  // module that owns the device.
  return scull_ioctl(static_cast<struct scull_dev *>(filp->private_data)->owner, cmd, arg);
}

long scull_ioctl(struct scull_module *mod, unsigned int cmd, unsigned long arg) {
  int __user *uarg = reinterpret_cast<int __user *>(arg);
  int err = 0, tmp;
  int retval = 0;

  // extract the type and number bitfields, and don't decode
  // wrong cmds: return ENOTTY (inappropriate ioctl) before access_ok()
  if (_IOC_TYPE(cmd) != SCULL_IOC_MAGIC) return -ENOTTY;
  if (_IOC_NR(cmd) > SCULL_IOC_MAXNR) return -ENOTTY;

  // the direction is a bitmask, and VERIFY_WRITE catches R/W
  // transfers. `Type' is user-oriented, while
  // access_ok is kernel-oriented, so the concept of "read" and
  // "write" is reversed
  if (_IOC_DIR(cmd) & _IOC_READ)
    err = !access_ok(uarg, _IOC_SIZE(cmd));
  else if (_IOC_DIR(cmd) & _IOC_WRITE)
    err = !access_ok(uarg, _IOC_SIZE(cmd));
  if (err) return -EFAULT;

  switch (cmd) {
    case SCULL_IOCRESET:
      mod->scull_quantum = SCULL_QUANTUM;
      mod->scull_qset = SCULL_QSET;
      break;

    case SCULL_IOCSQUANTUM:  // Set: arg points to the value
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      retval = get_user_global(mod->scull_quantum, uarg);
      break;

    case SCULL_IOCTQUANTUM:  // Tell: arg is the value
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      mod->scull_quantum = arg;
      break;

    case SCULL_IOCGQUANTUM:  // Get: arg is pointer to result
      retval = put_user(mod->scull_quantum.get(), uarg);
      break;

    case SCULL_IOCQQUANTUM:  // Query: return it (it's positive)
      return mod->scull_quantum.get();

    case SCULL_IOCXQUANTUM:  // eXchange: use arg as pointer
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      tmp = mod->scull_quantum.get();
      retval = get_user_global(mod->scull_quantum, uarg);
      if (retval == 0) retval = put_user(tmp, uarg);
      break;

    case SCULL_IOCHQUANTUM:  // sHift: like Tell + Query
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      tmp = mod->scull_quantum.get();
      mod->scull_quantum = arg;
      return tmp;

    case SCULL_IOCSQSET:
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      retval = get_user_global(mod->scull_qset, uarg);
      break;

    case SCULL_IOCTQSET:
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      mod->scull_qset = arg;
      break;

    case SCULL_IOCGQSET:
      retval = put_user(mod->scull_qset.get(), uarg);
      break;

    case SCULL_IOCQQSET:
      return mod->scull_qset.get();

    case SCULL_IOCXQSET:
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      tmp = mod->scull_qset.get();
      retval = get_user_global(mod->scull_qset, uarg);
      if (retval == 0) retval = put_user(tmp, uarg);
      break;

    case SCULL_IOCHQSET:
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      tmp = mod->scull_qset.get();
      mod->scull_qset = arg;
      return tmp;

    // The following two change the buffer size for scullpipe.
    // The scullpipe device uses this same ioctl method, just to
    // write less code. Actually, it's the same driver, isn't it?

    case SCULL_P_IOCTSIZE:
      mod->scull_p_buffer = arg;
      break;

    case SCULL_P_IOCQSIZE:
      return mod->scull_p_buffer.get();

    default:  // redundant, as cmd was checked against MAXNR
      return -ENOTTY;
  }
  return retval;
}

// The "extended" operations -- only seek

loff_t scull_llseek(struct file *filp, loff_t off, int whence) {
  struct scull_dev *dev = static_cast<struct scull_dev *>(filp->private_data);
  loff_t newpos;

  switch (whence) {
    case 0:  // SEEK_SET
      newpos = off;
      break;

    case 1:  // SEEK_CUR
      newpos = filp->f_pos + off;
      break;

    case 2:  // SEEK_END
      newpos = static_cast<loff_t>(dev->size.get()) + off;  // B8: no lock
      break;

    default:  // can't happen
      return -EINVAL;
  }
  if (newpos < 0) return -EINVAL;
  filp->f_pos = newpos;
  return newpos;
}

// Finally, the module stuff

// The cleanup function is used to handle initialization failures as well.
// Thefore, it must be careful to work correctly even if some of the items
// have not been initialized
void scull_cleanup_module(struct scull_module *mod) {
  int i;

  // Get rid of our char dev entries (cdev_del: no kmc counterpart)
  if (mod->scull_devices) {
    for (i = 0; i < mod->scull_nr_devs; i++) scull_trim(mod->scull_devices + i);
    kfree(mod->scull_devices);
    mod->scull_devices = nullptr;
  }
  // unregister_chrdev_region, scull_p_cleanup, scull_access_cleanup: the
  // pipe and access devices are separate kmc drivers.
}

// Set up the char_dev structure for this device (cdev_init/cdev_add have no
// kmc counterpart: only the device number is recorded).
static void scull_setup_cdev(struct scull_module *mod, struct scull_dev *dev, int index) {
  dev->cdev.dev = (static_cast<unsigned>(mod->scull_major) << 20) |
                  static_cast<unsigned>(mod->scull_minor + index);
}

int scull_init_module(struct scull_module *mod) {
  int result, i;

  // register_chrdev_region/alloc_chrdev_region: no kmc counterpart.

  // allocate the devices -- we can't have them static, as the number
  // can be specified at load time
  mod->scull_devices = kmalloc(mod->scull_nr_devs * sizeof(struct scull_dev), GFP_KERNEL);
  if (!mod->scull_devices) {
    result = -ENOMEM;
    goto fail;  // Make this more graceful
  }
  kmc_memset(mod->scull_devices, 0, mod->scull_nr_devs * sizeof(struct scull_dev));

  // Initialize each device.
  for (i = 0; i < mod->scull_nr_devs; i++) {
    struct scull_dev *dev = &mod->scull_devices[i];
    dev->quantum = mod->scull_quantum.get();
    dev->qset = mod->scull_qset.get();
    sema_init(&dev->sem, 1);
    spin_lock_init(&dev->lock);
    dev->owner = mod;
    dev->bugs = mod->scull_bugs;
    scull_setup_cdev(mod, dev, i);
  }
  return 0;  // succeed

fail:
  scull_cleanup_module(mod);
  return result;
}

}  // namespace kmc::drivers::scull
