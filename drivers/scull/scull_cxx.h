// scull: the bare scull char driver of LDD3 (chapter 3 and 5), re-modelled
// over the kmc kernel API.
//
// Reads side by side with martinezjavier/ldd3 scull/scull.h and scull/main.c
// (LDD3-orig: the device lock is `struct semaphore sem`, taken with
// down_interruptible()/up()). Behaviour: docs/DRIVERS.md, scull.
//
// Differences from the C original, all forced by the model checker:
//   * The module globals (scull_quantum, scull_qset, scull_devices, ...) live
//     in a struct scull_module that the model owns, one per execution; each
//     device points back to it (dev->owner, the counterpart of THIS_MODULE).
//   * Fields the device lock protects are Shared<T> (race- and
//     use-after-free-checked), as are the unprotected globals ioctl writes.
//   * A quantum set's pointer array (`void **data`) is an array of
//     Shared<char *> slots, so the check-then-allocate of a slot is checked.
//   * Each device carries a bug mask. With dev->bugs == 0 the driver is
//     correct; each SCULL_BUG_* bit seeds one classic bug (docs/DRIVERS.md, scull seeded bugs) at
//     the place marked `BUG Bn` in scull.cc.

#ifndef KMC_DRIVERS_SCULL_SCULL_CXX_H_
#define KMC_DRIVERS_SCULL_SCULL_CXX_H_

#include <linux/ioctl.h>  // _IO, _IOW, _IOC_TYPE, ... (as in the C header)

#include "sync/kernel.h"

namespace kmc::drivers::scull {

using namespace kmc::kernel;  // NOLINT: kernel spelling

inline constexpr int SCULL_MAJOR = 0;  // dynamic major by default
inline constexpr int SCULL_NR_DEVS = 4;  // scull0 through scull3
inline constexpr int SCULL_P_NR_DEVS = 4;  // scullpipe0 through scullpipe3

// The bare device is a variable-length region of memory: a linked list of
// quantum sets, each an array of SCULL_QSET pointers to SCULL_QUANTUM bytes.
inline constexpr int SCULL_QUANTUM = 4000;
inline constexpr int SCULL_QSET = 1000;

// The pipe device is a simple circular buffer. Here its default size.
inline constexpr int SCULL_P_BUFFER = 4000;

// Seeded bugs (docs/DRIVERS.md, scull seeded bugs), one bit each in scull_dev::bugs.
enum : unsigned {
  // B1: scull_write() runs without the device lock; two writers both find a
  // NULL slot and both allocate (the book's memory-leak race).
  SCULL_BUG_UNLOCKED_WRITE = 1u << 0,
  // B2: scull_write()'s -EFAULT path returns without up().
  SCULL_BUG_MISSING_UP_ON_FAULT = 1u << 1,
  // B3: scull_write()'s -EFAULT path calls up() and then up() again at out:.
  SCULL_BUG_DOUBLE_UP = 1u << 2,
  // B4: scull_open() trims a write-only open without the device lock
  // (SEED-002's chapter-3 listing; docs/DRIVERS.md, Sources).
  SCULL_BUG_UNLOCKED_TRIM = 1u << 3,
  // B5: read/write snapshot dev->quantum and dev->qset before taking the
  // lock. This is what LDD3 itself does; the default takes them under it.
  SCULL_BUG_SNAPSHOT_BEFORE_LOCK = 1u << 4,
  // PB8-style: the device is guarded by a spinlock_t (dev->lock) instead of
  // the semaphore, held across allocations and user copies.
  SCULL_BUG_SPINLOCK = 1u << 5,
  // scull_write() does not check the kmalloc() of a quantum set's pointer
  // array; when it fails, memset() writes through NULL.
  SCULL_BUG_UNCHECKED_KMALLOC = 1u << 6,
};

// One slot of a quantum set's pointer array: a quantum of dev->quantum
// bytes, or NULL (`void *` in LDD3).
using scull_qptr = Shared<char *>;

// Representation of scull quantum sets.
struct scull_qset {
  Shared<scull_qptr *> data;  // void **data: dev->qset slots, or NULL
  Shared<struct scull_qset *> next;
};

struct scull_module;

struct scull_dev {
  Shared<struct scull_qset *> data;  // Pointer to first quantum set
  Shared<int> quantum;               // the current quantum size
  Shared<int> qset;                  // the current array size
  Shared<unsigned long> size;        // amount of data stored here
  unsigned int access_key;           // used by sculluid and scullpriv
  struct semaphore sem;              // mutual exclusion semaphore
  struct cdev cdev;                  // Char device structure
  // kmc additions.
  spinlock_t lock;                   // the lock SCULL_BUG_SPINLOCK uses instead of sem
  unsigned bugs;                     // SCULL_BUG_* bits seeded in this device
  struct scull_module *owner;        // THIS_MODULE: where the globals live
};

// The module's globals and load-time parameters (module_param in LDD3). A
// model owns one per execution; set the parameters, then call
// scull_init_module(), as `insmod scull.ko scull_quantum=4` would.
struct scull_module {
  int scull_major = SCULL_MAJOR;
  int scull_minor = 0;
  int scull_nr_devs = SCULL_NR_DEVS;  // number of bare scull devices
  // Written by ioctl with no lock (docs/DRIVERS.md, scull locking rules), read by trim.
  Shared<int> scull_quantum{SCULL_QUANTUM};
  Shared<int> scull_qset{SCULL_QSET};
  Shared<int> scull_p_buffer{SCULL_P_BUFFER};  // pipe.c
  struct scull_dev *scull_devices = nullptr;   // allocated in scull_init_module
  // kmc: the SCULL_BUG_* bits scull_init_module() seeds in every device.
  unsigned scull_bugs = 0;
};

// Prototypes for shared functions.
int scull_trim(struct scull_dev *dev);
struct scull_qset *scull_follow(struct scull_dev *dev, int n);

int scull_open(struct inode *inode, struct file *filp);
int scull_release(struct inode *inode, struct file *filp);
ssize_t scull_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos);
ssize_t scull_write(struct file *filp, const char __user *buf, size_t count, loff_t *f_pos);
loff_t scull_llseek(struct file *filp, loff_t off, int whence);
long scull_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);
// The same ioctl with the module given directly, for files whose
// private_data is not a scull_dev (scullpipe shares scull_ioctl in LDD3).
long scull_ioctl(struct scull_module *mod, unsigned int cmd, unsigned long arg);

// Module init/exit. scull_init_module() returns 0 or -ENOMEM (the device
// array could not be allocated; nothing is left allocated then).
// scull_cleanup_module() trims every device without its lock (there can be
// no users left) and frees the device array.
int scull_init_module(struct scull_module *mod);
void scull_cleanup_module(struct scull_module *mod);

// The inode of scull<minor index>, for a model's open() (the VFS finds it
// from the device number).
inline struct inode scull_inode(struct scull_module *mod, int index) {
  struct scull_dev *dev = &mod->scull_devices[index];
  return inode{&dev->cdev, dev->cdev.dev};
}

// Ioctl definitions.

// Use 'k' as magic number
#define SCULL_IOC_MAGIC 'k'

#define SCULL_IOCRESET _IO(SCULL_IOC_MAGIC, 0)

// S means "Set" through a ptr,
// T means "Tell" directly with the argument value
// G means "Get": reply by setting through a pointer
// Q means "Query": response is on the return value
// X means "eXchange": switch G and S atomically
// H means "sHift": switch T and Q atomically
#define SCULL_IOCSQUANTUM _IOW(SCULL_IOC_MAGIC, 1, int)
#define SCULL_IOCSQSET _IOW(SCULL_IOC_MAGIC, 2, int)
#define SCULL_IOCTQUANTUM _IO(SCULL_IOC_MAGIC, 3)
#define SCULL_IOCTQSET _IO(SCULL_IOC_MAGIC, 4)
#define SCULL_IOCGQUANTUM _IOR(SCULL_IOC_MAGIC, 5, int)
#define SCULL_IOCGQSET _IOR(SCULL_IOC_MAGIC, 6, int)
#define SCULL_IOCQQUANTUM _IO(SCULL_IOC_MAGIC, 7)
#define SCULL_IOCQQSET _IO(SCULL_IOC_MAGIC, 8)
#define SCULL_IOCXQUANTUM _IOWR(SCULL_IOC_MAGIC, 9, int)
#define SCULL_IOCXQSET _IOWR(SCULL_IOC_MAGIC, 10, int)
#define SCULL_IOCHQUANTUM _IO(SCULL_IOC_MAGIC, 11)
#define SCULL_IOCHQSET _IO(SCULL_IOC_MAGIC, 12)

// The other entities only have "Tell" and "Query".
#define SCULL_P_IOCTSIZE _IO(SCULL_IOC_MAGIC, 13)
#define SCULL_P_IOCQSIZE _IO(SCULL_IOC_MAGIC, 14)

#define SCULL_IOC_MAXNR 14

}  // namespace kmc::drivers::scull

#endif  // KMC_DRIVERS_SCULL_SCULL_CXX_H_
