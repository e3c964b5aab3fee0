/* SPDX-License-Identifier: GPL-2.0 */
/*
 * asgn1.h: the structures of the asgn1 RAM disk (asgn1.c) and its seeded
 * bugs. The course skeleton keeps these structures inside asgn1.c; they sit
 * here so that kmc's models can read the device state in their final
 * checks (C++ sees the same layout through kmc's C ABI, below).
 *
 * Lock order: dev->lock (mutex), then dev->stats_lock (a seqlock, held only
 * around the stores of num_pages and data_size).
 */
#ifndef _ASGN1_H
#define _ASGN1_H

#define MYDEV_NAME "asgn1"
#define MYIOC_TYPE 'k'
#define SET_NPROC_OP 1

/*
 * Seeded bugs: the bits of the module parameter `bugs` (asgn1.c). Each one
 * restores a classic bug of docs/DRIVERS.md (asgn1 seeded bugs) at the place
 * marked `BUG A1-Bn` in asgn1.c; bugs=0 is the corrected driver.
 */
/* A1-B1: open tests nprocs against max_nprocs, then increments separately. */
#define A1_BUG_CHECK_THEN_INCREMENT 0x01
/* A1-B2: a refused open (-EBUSY) does not undo its increment of nprocs. */
#define A1_BUG_NO_UNDO_ON_EBUSY 0x02
/* A1-B5: a write-only open frees the page list without the lock. */
#define A1_BUG_UNLOCKED_FREE 0x04
/* A1-B6: a write-only open frees pages still mapped into user space. */
#define A1_BUG_FREE_WHILE_MAPPED 0x08
/* A1-B8: write runs without the lock. */
#define A1_BUG_UNLOCKED_WRITE 0x10
/* A1-B11: the node leaks when alloc_page() fails after its kmalloc. */
#define A1_BUG_NODE_LEAK 0x20
/* A1-B12: free_memory_pages() calls kfree(&node->page). */
#define A1_BUG_KFREE_PAGE_FIELD 0x40

#ifdef __cplusplus
/* kmc's models: the kernel objects with their C layout (kmc::cabi). */
#include "sync/include/kmc/abi.h"
namespace kmc::cabi {
typedef kmc_dev_t dev_t;
extern "C" {
#else
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/list.h>
#include <linux/cdev.h>
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>

#define TEM_SET_NPROC _IOW(MYIOC_TYPE, SET_NPROC_OP, int)
#endif

/* The node structure for the memory page linked list. */
struct page_node_rec {
	struct list_head list;
	struct page *page;
};
typedef struct page_node_rec page_node;

struct asgn1_dev_t {
	dev_t dev;			/* the device */
	struct cdev cdev;		/* embedded: kmc does not model cdev_alloc() */
	struct list_head mem_list;	/* the page list */
	int num_pages;			/* number of memory pages this module holds */
	size_t data_size;		/* total data size in this module */
	atomic_t nprocs;		/* processes accessing this device */
	atomic_t max_nprocs;		/* max processes accessing this device */
	/* The corrected driver's additions (docs/DRIVERS.md, asgn1 locking). */
	struct mutex lock;		/* mem_list, num_pages, data_size, pages, nmaps */
	seqlock_t stats_lock;		/* num_pages/data_size for /proc */
	int nmaps;			/* live user mappings (under lock) */
};

extern struct asgn1_dev_t asgn1_device;

#ifdef __cplusplus
}  /* extern "C" */
}  /* namespace kmc::cabi */
#endif

#endif /* _ASGN1_H */
