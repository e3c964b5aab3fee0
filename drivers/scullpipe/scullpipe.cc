// scullpipe: pipe.c of LDD3, the fifo driver for scull, over the kmc kernel
// API.
//
// Read it next to martinezjavier/ldd3 scull/pipe.c (the semaphore version of
// LDD3-orig): the functions, their order, the variable names and the
// comments follow the C original. Reads of lock-protected fields are written
// `dev->rp.get()` rather than `dev->rp` so that a report names the exact
// line of the read; writes (`dev->rp = ...`) record their line by
// themselves. Shared<char *> has no pointer `+=`, so `dev->rp += count` is
// spelled `dev->rp = dev->rp.get() + count`.
//
// Seeded bugs: every place where a SCULL_P_BUG_* bit changes the original
// logic is an `if (dev->bugs & SCULL_P_BUG_...)` marked with a `BUG PBn`
// comment. With dev->bugs == 0 the code is LDD3's.

#include "drivers/scullpipe/scullpipe.h"

namespace kmc::drivers::scullpipe {

namespace {

// LDD3's debugging printk, compiled out (SCULL_DEBUG unset).
#define PDEBUG(...) \
  do {              \
  } while (0)

// fs/open.c: clears FMODE_LSEEK/PREAD/PWRITE; kmc's struct file has none.
int nonseekable_open(struct inode *inode, struct file *filp) {
  (void)inode;
  (void)filp;
  return 0;
}

// fs/fcntl.c. kmc has no fasync: no file is ever on a fasync list, so
// async_queue stays NULL and kill_fasync() is never reached.
int fasync_helper(int fd, struct file *filp, int on, Shared<struct fasync_struct *> *fapp) {
  (void)fd;
  (void)filp;
  (void)on;
  (void)fapp;
  return 0;
}
void kill_fasync(Shared<struct fasync_struct *> *fp, int sig, int band) {
  (void)fp;
  (void)sig;
  (void)band;
}
constexpr int SIGIO = 29;
constexpr int POLL_IN = 1;

int scull_p_fasync(int fd, struct file *filp, int mode);

// spacefree() for the re-check that scull_getwritespace() makes after
// prepare_to_wait(), without dev->sem. The C reads the fields plainly. The
// pointers move under the other tasks' feet all the time (readers move rp,
// other writers wp): those lockless reads are marked READ_ONCE, as the
// engine treats a wait_event() condition, so they are a hint and not a data
// race. buffersize changes only in scull_p_open() and stays a plain read: a
// concurrent open is a real race with this re-check. The result is only a
// hint: the loop re-tests spacefree() under the lock.
int spacefree_lockless(struct scull_pipe *dev) {
  char *rp = READ_ONCE(dev->rp);
  char *wp = READ_ONCE(dev->wp);
  int buffersize = dev->buffersize.get();

  if (rp == wp) return buffersize - 1;
  return ((rp + buffersize - wp) % buffersize) - 1;
}

}  // namespace

// Open and close

int scull_p_open(struct inode *inode, struct file *filp) {
  struct scull_pipe *dev;

  dev = container_of(inode->i_cdev, struct scull_pipe, cdev);
  filp->private_data = dev;
  // kmc: the global (main.c's, set by the SCULL_P_IOCTSIZE ioctl, no lock)
  Shared<int> &scull_p_buffer = dev->owner->scull->scull_p_buffer;

  if (down_interruptible(&dev->sem)) return -ERESTARTSYS;
  if (!dev->buffer.get()) {
    // allocate the buffer
    dev->buffer = kmalloc(scull_p_buffer, GFP_KERNEL);
    if (!dev->buffer.get()) {
      up(&dev->sem);
      return -ENOMEM;
    }
  }
  dev->buffersize = scull_p_buffer;
  dev->end = dev->buffer.get() + dev->buffersize.get();
  dev->rp = dev->wp = dev->buffer.get();  // rd and wr from the beginning

  // use f_mode,not  f_flags: it's cleaner (fs/open.c tells why)
  if (filp->f_mode & FMODE_READ) dev->nreaders++;
  if (filp->f_mode & FMODE_WRITE) dev->nwriters++;
  up(&dev->sem);

  return nonseekable_open(inode, filp);
}

int scull_p_release(struct inode *inode, struct file *filp) {
  struct scull_pipe *dev = static_cast<struct scull_pipe *>(filp->private_data);
  (void)inode;

  // remove this filp from the asynchronously notified filp's
  scull_p_fasync(-1, filp, 0);
  down(&dev->sem);
  if (filp->f_mode & FMODE_READ) dev->nreaders--;
  if (filp->f_mode & FMODE_WRITE) dev->nwriters--;
  if (dev->nreaders.get() + dev->nwriters.get() == 0) {
    kfree(dev->buffer.get());
    dev->buffer = nullptr;  // the other fields are not checked on open
  }
  up(&dev->sem);
  return 0;
}

// Data management: read and write

ssize_t scull_p_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos) {
  struct scull_pipe *dev = static_cast<struct scull_pipe *>(filp->private_data);
  (void)f_pos;

  if (down_interruptible(&dev->sem)) return -ERESTARTSYS;

  while (dev->rp.get() == dev->wp.get()) {  // nothing to read
    if (!(dev->bugs & SCULL_P_BUG_SLEEP_HOLDING_LOCK))
      up(&dev->sem);  // release the lock
    // BUG PB5: otherwise dev->sem stays held across the sleep below
    if (filp->f_flags & O_NONBLOCK) return -EAGAIN;
    PDEBUG("\"%s\" reading: going to sleep\n", current->comm);
    if (wait_event_interruptible(dev->inq, (dev->rp != dev->wp)))
      return -ERESTARTSYS;  // signal: tell the fs layer to handle it
    // otherwise loop, but first reacquire the lock (BUG PB5: it still holds it)
    if (!(dev->bugs & SCULL_P_BUG_SLEEP_HOLDING_LOCK) && down_interruptible(&dev->sem))
      return -ERESTARTSYS;
    if (dev->bugs & SCULL_P_BUG_IF_NOT_WHILE)
      break;  // BUG PB2: `if`, not `while`: no re-test of rp == wp under the lock
  }
  // ok, data is there, return something
  if (dev->wp.get() > dev->rp.get())
    count = min(count, (size_t)(dev->wp.get() - dev->rp.get()));
  else  // the write pointer has wrapped, return data up to dev->end
    count = min(count, (size_t)(dev->end.get() - dev->rp.get()));
  if (copy_to_user(buf, dev->rp.get(), count)) {
    up(&dev->sem);
    return -EFAULT;
  }
  dev->rp = dev->rp.get() + count;
  if (dev->rp.get() == dev->end.get()) dev->rp = dev->buffer.get();  // wrapped
  up(&dev->sem);

  // finally, awake any writers and return
  wake_up_interruptible(&dev->outq);
  PDEBUG("\"%s\" did read %li bytes\n", current->comm, (long)count);
  return count;
}

// Wait for space for writing; caller must hold device semaphore.  On
// error the semaphore will be released before returning.
static int scull_getwritespace(struct scull_pipe *dev, struct file *filp) {
  while (spacefree(dev) == 0) {  // full
    DEFINE_WAIT(wait);

    up(&dev->sem);
    if (filp->f_flags & O_NONBLOCK) return -EAGAIN;
    PDEBUG("\"%s\" writing: going to sleep\n", current->comm);
    prepare_to_wait(&dev->outq, &wait, TASK_INTERRUPTIBLE);
    if (dev->bugs & SCULL_P_BUG_LOST_WAKEUP)
      schedule();  // BUG PB3: no re-check: space freed before prepare_to_wait() woke nobody
    else if (spacefree_lockless(dev) == 0)
      schedule();
    finish_wait(&dev->outq, &wait);
    if (signal_pending(current)) return -ERESTARTSYS;  // signal: tell the fs layer to handle it
    if (down_interruptible(&dev->sem)) return -ERESTARTSYS;
  }
  return 0;
}

// How much space is free?
int spacefree(struct scull_pipe *dev) {
  if (dev->rp.get() == dev->wp.get()) return dev->buffersize.get() - 1;
  return ((dev->rp.get() + dev->buffersize.get() - dev->wp.get()) % dev->buffersize.get()) - 1;
}

ssize_t scull_p_write(struct file *filp, const char __user *buf, size_t count, loff_t *f_pos) {
  struct scull_pipe *dev = static_cast<struct scull_pipe *>(filp->private_data);
  int result;
  (void)f_pos;

  if (dev->bugs & SCULL_P_BUG_WAKE_BEFORE_PUBLISH)
    wake_up_interruptible(&dev->inq);  // BUG PB4: wakes the readers before the data is there
                                       // (before the lock: see SCULL_P_BUG_WAKE_BEFORE_PUBLISH)
  if (down_interruptible(&dev->sem)) return -ERESTARTSYS;

  // Make sure there's space to write
  result = scull_getwritespace(dev, filp);
  if (result) {
    if (dev->bugs & SCULL_P_BUG_DOUBLE_UNLOCK)
      up(&dev->sem);  // BUG PB7: scull_getwritespace() already released it
    return result;    // scull_getwritespace called up(&dev->sem)
  }

  // ok, space is there, accept something
  count = min(count, (size_t)spacefree(dev));
  if (dev->wp.get() >= dev->rp.get())
    count = min(count, (size_t)(dev->end.get() - dev->wp.get()));  // to end-of-buf
  else  // the write pointer has wrapped, fill up to rp-1
    count = min(count, (size_t)(dev->rp.get() - dev->wp.get() - 1));
  PDEBUG("Going to accept %li bytes to %p from %p\n", (long)count, dev->wp, buf);
  if (copy_from_user(dev->wp.get(), buf, count)) {
    up(&dev->sem);
    return -EFAULT;
  }
  dev->wp = dev->wp.get() + count;
  if (dev->wp.get() == dev->end.get()) dev->wp = dev->buffer.get();  // wrapped
  up(&dev->sem);

  // finally, awake any reader (BUG PB4: not here, it woke them at the start)
  if (!(dev->bugs & SCULL_P_BUG_WAKE_BEFORE_PUBLISH))
    wake_up_interruptible(&dev->inq);  // blocked in read() and select()

  // and signal asynchronous readers, explained late in chapter 5
  if (dev->async_queue.get()) kill_fasync(&dev->async_queue, SIGIO, POLL_IN);
  PDEBUG("\"%s\" did write %li bytes\n", current->comm, (long)count);
  return count;
}

unsigned int scull_p_poll(struct file *filp, poll_table *wait) {
  struct scull_pipe *dev = static_cast<struct scull_pipe *>(filp->private_data);
  unsigned int mask = 0;

  // The buffer is circular; it is considered full
  // if "wp" is right behind "rp" and empty if the
  // two are equal.
  down(&dev->sem);
  poll_wait(filp, &dev->inq, wait);
  poll_wait(filp, &dev->outq, wait);
  if (dev->rp.get() != dev->wp.get()) mask |= POLLIN | POLLRDNORM;  // readable
  if (spacefree(dev)) mask |= POLLOUT | POLLWRNORM;                 // writable
  up(&dev->sem);
  return mask;
}

namespace {

int scull_p_fasync(int fd, struct file *filp, int mode) {
  struct scull_pipe *dev = static_cast<struct scull_pipe *>(filp->private_data);

  return fasync_helper(fd, filp, mode, &dev->async_queue);
}

}  // namespace

// scull_p_read as SEED-002 prints it (the reading notes' "Blocking I/O"; see
// docs/DRIVERS.md, Sources), line for line. Two defects against pipe.c: the empty-pipe loop
// up()s twice, and nothing follows the second down_interruptible() (the
// seed's `if` has no statement before the closing brace; the nearest legal
// reading is an empty one). Not seeded by a bit: it is a different text.
ssize_t scull_p_read_seed002(struct file *filp, char __user *buf, size_t count, loff_t *f_pos) {
  struct scull_pipe *dev = static_cast<struct scull_pipe *>(filp->private_data);
  (void)f_pos;

  if (down_interruptible(&dev->sem)) return -ERESTARTSYS;

  while (dev->rp.get() == dev->wp.get()) {  // nothing to read
    up(&dev->sem);  // release the lock
    up(&dev->sem);  // release the lock
    if (filp->f_flags & O_NONBLOCK) return -EAGAIN;
    PDEBUG("\"%s\" reading: going to sleep\n", current->comm);
    if (wait_event_interruptible(dev->inq, (dev->rp != dev->wp)))
      return -ERESTARTSYS;  // signal: tell the fs layer to handle it
    // otherwise loop, but first reacquire the lock
    if (down_interruptible(&dev->sem)) {
      // (the seed has no statement here)
    }
  }

  // ok, data is there, return something
  if (dev->wp.get() > dev->rp.get())
    count = min(count, (size_t)(dev->wp.get() - dev->rp.get()));
  else  // the write pointer has wrapped, return data up to dev->end
    count = min(count, (size_t)(dev->end.get() - dev->rp.get()));
  if (copy_to_user(buf, dev->rp.get(), count)) {
    up(&dev->sem);
    return -EFAULT;
  }
  dev->rp = dev->rp.get() + count;
  if (dev->rp.get() == dev->end.get()) dev->rp = dev->buffer.get();  // wrapped
  up(&dev->sem);
  // finally, awake any writers and return
  wake_up_interruptible(&dev->outq);
  PDEBUG("\"%s\" did read %li bytes\n", current->comm, (long)count);
  return count;
}

// Set up a cdev entry (cdev_init/cdev_add have no kmc counterpart: only the
// device number is recorded).
static void scull_p_setup_cdev(struct scull_p_module *mod, struct scull_pipe *dev, int index) {
  unsigned devno = mod->scull_p_devno + index;

  dev->cdev.dev = devno;
}

// Initialize the pipe devs; return how many we did.
int scull_p_init(struct scull_p_module *mod, unsigned firstdev) {
  int i;

  // register_chrdev_region: no kmc counterpart.
  mod->scull_p_devno = firstdev;
  mod->scull_p_devices = kmalloc(mod->scull_p_nr_devs * sizeof(struct scull_pipe), GFP_KERNEL);
  if (mod->scull_p_devices == nullptr) return 0;
  kmc_memset(mod->scull_p_devices, 0, mod->scull_p_nr_devs * sizeof(struct scull_pipe));
  for (i = 0; i < mod->scull_p_nr_devs; i++) {
    struct scull_pipe *dev = &mod->scull_p_devices[i];
    init_waitqueue_head(&dev->inq);
    init_waitqueue_head(&dev->outq);
    sema_init(&dev->sem, 1);
    dev->owner = mod;
    dev->bugs = mod->scull_p_bugs;
    scull_p_setup_cdev(mod, dev, i);
  }
  return mod->scull_p_nr_devs;
}

// This is called by cleanup_module or on failure.
// It is required to never fail, even if nothing was initialized first
void scull_p_cleanup(struct scull_p_module *mod) {
  int i;

  if (!mod->scull_p_devices) return;  // nothing else to release

  for (i = 0; i < mod->scull_p_nr_devs; i++) {
    // cdev_del: no kmc counterpart
    kfree(mod->scull_p_devices[i].buffer.get());
  }
  kfree(mod->scull_p_devices);
  // unregister_chrdev_region: no kmc counterpart
  mod->scull_p_devices = nullptr;  // pedantic
}

}  // namespace kmc::drivers::scullpipe
