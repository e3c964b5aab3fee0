// asgn1: the COSC440 assignment 1 virtual RAM disk on a page list,
// re-modelled over the kmc kernel API. Behaviour: docs/DRIVERS.md, asgn1
// (A1-SPEC, the A1-SKEL skeleton and its "COMPLETE ME" comments,
// SEED-000/001 for the page list and the per-page remap_pfn_range mmap; the labels are
// explained under "Sources" there).
//
// Read it next to the skeleton asgn1.c: struct asgn1_dev_t and page_node,
// the operations and their names follow it. This is the corrected model of
// docs/DRIVERS.md, asgn1 locking rules:
//   * one sleeping lock, dev->lock (the L_a1 mutex; temp.c's semaphore), held
//     across list traversal, page allocation, num_pages/data_size updates,
//     the free on a write-only open, mmap's walk and remap_pfn_range(), and
//     lseek's read of num_pages;
//   * admission with atomic_inc_return(&nprocs) and an undo on -EBUSY;
//   * the statistics num_pages/data_size are published to the lockless
//     /proc reader through a seqlock (dev->stats_lock), so a reader never
//     sees a torn pair (data_size > num_pages * PAGE_SIZE);
//   * mmap counts live mappings (vm_ops open/close) and a write-only open
//     refuses (-EBUSY) to free pages that are still mapped (the A1-B6 fix:
//     remap_pfn_range takes no page references).
//
// Lock order: dev->lock (mutex), then dev->stats_lock (a seqlock: a
// spinlock held only around the stores of the two statistics).
//
// Seeded bugs: each A1_BUG_* bit of dev->bugs restores one classic bug of
// docs/DRIVERS.md (asgn1 seeded bugs) at the place marked `BUG A1-Bn` in asgn1.c. With bugs == 0
// the driver is the corrected model.

#ifndef KMC_DRIVERS_ASGN1_ASGN1_H_
#define KMC_DRIVERS_ASGN1_ASGN1_H_

#include <linux/ioctl.h>  // _IOW, _IOC_TYPE, _IOC_NR

#include "sync/kernel.h"

namespace kmc::drivers::asgn1 {

using namespace kmc::kernel;  // NOLINT: kernel spelling

#define MYDEV_NAME "asgn1"
#define MYIOC_TYPE 'k'
#define SET_NPROC_OP 1
#define TEM_SET_NPROC _IOW(MYIOC_TYPE, SET_NPROC_OP, int)

// Seeded bugs (docs/DRIVERS.md, asgn1 seeded bugs), one bit each in asgn1_dev_t::bugs.
enum : unsigned {
  // A1-B1: open reads nprocs, compares it with max_nprocs, then increments
  // in a separate step: two openers both pass.
  A1_BUG_CHECK_THEN_INCREMENT = 1u << 0,
  // A1-B2: open increments, then checks, and returns -EBUSY without undoing
  // the increment: the count leaks and the device refuses everyone.
  A1_BUG_NO_UNDO_ON_EBUSY = 1u << 1,
  // A1-B5: a write-only open frees the page list without the lock, while
  // another process may be in read, write or mmap.
  A1_BUG_UNLOCKED_FREE = 1u << 2,
  // A1-B6: a write-only open frees pages that are still mapped into user
  // space (the design of A1-SPEC: remap_pfn_range takes no reference).
  A1_BUG_FREE_WHILE_MAPPED = 1u << 3,
  // A1-B8: write runs without the lock: two appenders race on the list,
  // num_pages and data_size.
  A1_BUG_UNLOCKED_WRITE = 1u << 4,
  // A1-B11: when alloc_page() fails after the node was kmalloc'ed, write
  // returns without freeing the node.
  A1_BUG_NODE_LEAK = 1u << 5,
  // A1-B12: free_memory_pages() calls kfree(&node->page) instead of
  // __free_page(node->page).
  A1_BUG_KFREE_PAGE_FIELD = 1u << 6,
};

// The node structure for the memory page linked list (struct page_node_rec).
struct page_node {
  struct list_head list;
  Shared<struct page *> page;
};
using page_node_rec = page_node;

struct asgn1_dev_t {
  dev_t dev;                 // the device number
  struct cdev cdev;          // the cdev (the skeleton keeps a cdev *)
  struct list_head mem_list; // the page list
  Shared<int> num_pages;     // number of memory pages this module currently holds
  Shared<size_t> data_size;  // total data size in this module
  atomic_t nprocs;           // number of processes accessing this device
  atomic_t max_nprocs;       // max number of processes accessing this device
  // kmc: the corrected model's additions.
  struct mutex lock;         // L_a1: mem_list, num_pages, data_size, page contents, nmaps
  seqlock_t stats_lock;      // publishes num_pages/data_size to /proc
  Shared<int> nmaps;         // live user mappings of the pages (under lock)
  unsigned bugs;             // A1_BUG_* bits seeded in this device
};

// File operations.
int asgn1_open(struct inode *inode, struct file *filp);
int asgn1_release(struct inode *inode, struct file *filp);
ssize_t asgn1_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos);
ssize_t asgn1_write(struct file *filp, const char __user *buf, size_t count, loff_t *f_pos);
loff_t asgn1_lseek(struct file *file, loff_t offset, int cmd);
long asgn1_ioctl(struct file *filp, unsigned cmd, unsigned long arg);
int asgn1_mmap(struct file *filp, struct vm_area_struct *vma);

// /proc/asgn1: formats "num_pages = N\ndata_size = N\nnprocs = N\n
// max_nprocs = N\n" into buf (a snprintf, like the skeleton's read_proc).
// Returns the length. Lockless: the two statistics come from
// asgn1_read_stats(), the process counts from atomic_read().
int asgn1_read_procmem(struct asgn1_dev_t *dev, char *buf, size_t size);
// The statistics pair, read in a seqlock read section: a consistent
// snapshot of one moment (never a num_pages from before an update with a
// data_size from after it).
void asgn1_read_stats(struct asgn1_dev_t *dev, int *num_pages, size_t *data_size);

// Frees every page and node of the list; data_size = num_pages = 0.
// Callers hold dev->lock (module exit runs alone).
void free_memory_pages(struct asgn1_dev_t *dev);

// Module init/exit. asgn1_init_module() sets nprocs = 0 and max_nprocs (1 in
// the completions seen), the list, the lock and the seqlock; `bugs` seeds
// A1_BUG_* bits. asgn1_exit_module() frees all memory.
int asgn1_init_module(struct asgn1_dev_t *dev, unsigned bugs = 0, int max_nprocs = 1);
void asgn1_exit_module(struct asgn1_dev_t *dev);

// The inode of the device, for a model's open().
inline struct inode asgn1_inode(struct asgn1_dev_t *dev) {
  return inode{&dev->cdev, dev->cdev.dev};
}

}  // namespace kmc::drivers::asgn1

#endif  // KMC_DRIVERS_ASGN1_ASGN1_H_
