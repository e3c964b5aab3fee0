// scullpipe: the blocking FIFO of LDD3 chapter 6 (scull/pipe.c), re-modelled
// over the kmc kernel API.
//
// Reads side by side with martinezjavier/ldd3 scull/pipe.c in its semaphore
// version (LDD3-orig: `struct semaphore sem`, down_interruptible()/up(); the
// maintained port has the same logic over a struct mutex). Behaviour:
// docs/DRIVERS.md, scullpipe.
//
// Differences from the C original, all forced by the model checker:
//   * The module globals live in struct scull_p_module, which a model owns
//     (one per execution). scull_p_buffer is main.c's global (the
//     SCULL_P_IOCTSIZE ioctl of scull sets it), so it stays in
//     scull::scull_module and the pipe module points to it.
//   * Fields dev->sem protects are Shared<T> (race- and use-after-free
//     checked). The buffer is kmalloc'd raw memory; copy_to_user and
//     copy_from_user check it (bounds, lifetime, races).
//   * scull_getwritespace() re-checks spacefree() after prepare_to_wait()
//     without the lock. The C reads dev->rp/dev->wp plainly there; kmc marks
//     those lockless reads READ_ONCE (spacefree_lockless() in scullpipe.cc),
//     which is what the engine does by itself for a wait_event() condition
//     (the engine flags a plain lockless read outside wait_event() as a
//     data race).
//   * fasync has no kmc counterpart: nothing registers, async_queue stays
//     NULL.
//   * Each device carries a bug mask (SCULL_P_BUG_* below). With
//     dev->bugs == 0 the driver is LDD3's; each bit seeds one classic bug of
//     docs/DRIVERS.md (scullpipe seeded bugs) at the places marked `BUG PBn` in scullpipe.cc.
//   * scull_p_read_seed002() is scull_p_read as SEED-002's reading notes
//     print it (two up()s, no return after the second down_interruptible()).

#ifndef KMC_DRIVERS_SCULLPIPE_SCULLPIPE_H_
#define KMC_DRIVERS_SCULLPIPE_SCULLPIPE_H_

#include "drivers/scull/scull_cxx.h"  // SCULL_P_NR_DEVS, SCULL_P_BUFFER, scull_module
#include "sync/kernel.h"

namespace kmc::drivers::scullpipe {

using namespace kmc::kernel;  // NOLINT: kernel spelling

// Seeded bugs (docs/DRIVERS.md, scullpipe seeded bugs), one bit each in scull_pipe::bugs.
enum : unsigned {
  // PB2: scull_p_read() tests `rp == wp` with `if`, not `while`: after a
  // wake-up it does not re-test under the lock, so a reader that lost the
  // race for the data reads an empty buffer.
  SCULL_P_BUG_IF_NOT_WHILE = 1u << 0,
  // PB3: scull_getwritespace() drops the re-check of spacefree() after
  // prepare_to_wait(): a reader that frees space between up() and
  // prepare_to_wait() wakes nobody, and the writer sleeps with space free.
  SCULL_P_BUG_LOST_WAKEUP = 1u << 1,
  // PB4: scull_p_write() wakes the readers before the data and wp are
  // published; a reader wakes, sees an empty pipe and sleeps again. The
  // wake-up sits before down_interruptible(): kmc switches tasks only at
  // kernel primitives, and between down_interruptible() and `dev->wp = ...`
  // there is none (user copies and plain accesses are not scheduling
  // points), so a wake-up placed right before the copy could never be seen
  // early.
  SCULL_P_BUG_WAKE_BEFORE_PUBLISH = 1u << 2,
  // PB5: scull_p_read() sleeps on inq without releasing dev->sem; the
  // writer that would wake it cannot take the lock.
  SCULL_P_BUG_SLEEP_HOLDING_LOCK = 1u << 3,
  // PB7: scull_p_write() up()s after scull_getwritespace() failed, which
  // already released the lock: the semaphore count goes to 2.
  SCULL_P_BUG_DOUBLE_UNLOCK = 1u << 4,
};

struct fasync_struct;  // fasync: no kmc counterpart (never allocated)
struct scull_p_module;

struct scull_pipe {
  wait_queue_head_t inq, outq;              // read and write queues
  Shared<char *> buffer, end;               // begin of buf, end of buf
  Shared<int> buffersize;                   // used in pointer arithmetic
  Shared<char *> rp, wp;                    // where to read, where to write
  Shared<int> nreaders, nwriters;           // number of openings for r/w
  Shared<struct fasync_struct *> async_queue;  // asynchronous readers
  struct semaphore sem;                     // mutual exclusion semaphore
  struct cdev cdev;                         // Char device structure
  // kmc additions.
  unsigned bugs;                            // SCULL_P_BUG_* bits seeded in this device
  struct scull_p_module *owner;             // THIS_MODULE: where the globals live
};

// pipe.c's globals and load-time parameters. A model owns one per execution:
// set the parameters and `scull`, then call scull_p_init().
struct scull_p_module {
  int scull_p_nr_devs = scull::SCULL_P_NR_DEVS;  // number of pipe devices
  unsigned scull_p_devno = 0;                    // Our first device number
  struct scull_pipe *scull_p_devices = nullptr;  // allocated in scull_p_init
  // main.c's globals; scull_p_buffer (the buffer size for future opens)
  // lives there because scull's ioctl sets it.
  struct scull::scull_module *scull = nullptr;
  // kmc: the SCULL_P_BUG_* bits scull_p_init() seeds in every device.
  unsigned scull_p_bugs = 0;
};

// The file operations (scull_pipe_fops; llseek is no_llseek and ioctl is
// scull's, neither is modelled here).
int scull_p_open(struct inode *inode, struct file *filp);
int scull_p_release(struct inode *inode, struct file *filp);
ssize_t scull_p_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos);
ssize_t scull_p_write(struct file *filp, const char __user *buf, size_t count, loff_t *f_pos);
unsigned int scull_p_poll(struct file *filp, poll_table *wait);

// SEED-002's scull_p_read, verbatim (docs/DRIVERS.md, Sources): it
// up()s twice when the pipe is empty, and nothing follows the second
// down_interruptible(). Not LDD3's code; the model scullpipe/seed_read.
ssize_t scull_p_read_seed002(struct file *filp, char __user *buf, size_t count, loff_t *f_pos);

// How much space is free? (dev->sem held.)
int spacefree(struct scull_pipe *dev);

// Module init/exit. scull_p_init() returns how many devices it set up (0 when
// the device array could not be allocated). scull_p_cleanup() frees every
// buffer and the device array; it never fails.
int scull_p_init(struct scull_p_module *mod, unsigned firstdev);
void scull_p_cleanup(struct scull_p_module *mod);

// The inode of scullpipe<index>, for a model's open().
inline struct inode scull_p_inode(struct scull_p_module *mod, int index) {
  struct scull_pipe *dev = &mod->scull_p_devices[index];
  return inode{&dev->cdev, dev->cdev.dev};
}

}  // namespace kmc::drivers::scullpipe

#endif  // KMC_DRIVERS_SCULLPIPE_SCULLPIPE_H_
