// SPDX-License-Identifier: GPL-2.0
/*
 * asgn2.c: COSC440 assignment 2, an interrupt-driven reader of the course's
 * dummy GPIO device (docs/DRIVERS.md, asgn2). No single original exists:
 * the driver is reconstructed from the course's dummy-GPIO interface
 * (gpio.h) and several student drivers; where those differ, the choice made
 * here is marked [variant].
 *
 * Data path:
 *
 *   half-byte interrupt (hardirq, dummyport_interrupt)   two per byte, the
 *     -> circular buffer (cb_lock)                       most significant first
 *     -> tasklet (softirq, asgn2_do_tasklet)
 *     -> page queue (pq_lock; pages from alloc_page(GFP_ATOMIC))
 *     -> read() (process context, sleeps on read_wq)    one file per open,
 *                                                       '\0' ends a file
 *
 * Locks and contexts (docs/DRIVERS.md, asgn2 locking rules):
 *   cb_lock  hardirq: spin_lock (interrupts are off already); softirq:
 *            spin_lock_irqsave (the top half may interrupt the tasklet).
 *   pq_lock  softirq: spin_lock; process: spin_lock_bh (the tasklet may run
 *            at irq exit on the reader's CPU). Never taken in hardirq.
 *   The two are never nested: the tasklet drops cb_lock before it takes
 *   pq_lock. Nothing sleeps under either: the tasklet allocates with
 *   GFP_ATOMIC, and read() copies to the user from a bounce buffer after
 *   spin_unlock_bh().
 *
 * [variant] choices:
 *   - the circular buffer is start/count over cb_size kmalloc'd bytes; a
 *     byte that finds it full is dropped and counted (cb_dropped);
 *   - the tasklet drains every byte the buffer holds, appends them under
 *     pq_lock, counts each '\0' as a finished file, then wakes read_wq;
 *   - read() waits until the queue holds any data (not a whole file), copies
 *     up to the next '\0' (consumed, never returned) and marks its open
 *     finished: later reads on that open return 0;
 *   - open is read-only (-EACCES otherwise) and admits max_nprocs (1)
 *     readers without blocking (-EBUSY); release keeps the rest of a
 *     partially read file for the next open.
 *
 * Parameters: asgn2_major (0: dynamic), cb_size (bytes of the circular
 * buffer, 1..16), page_bytes (bytes used of each page; a small value makes
 * a short stream cross pages), bugs (seeded bugs, below; 0: correct).
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/types.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/spinlock.h>
#include <linux/interrupt.h>
#include <linux/atomic.h>
#include <linux/uaccess.h>
#include "gpio.h"

#define MYDEV_NAME "asgn2"
#define ASGN2_CB_MAX 16		/* the largest circular buffer */
#define ASGN2_READ_CHUNK 16	/* bytes one read() moves at most */

/*
 * Seeded bugs (docs/DRIVERS.md, asgn2 seeded bugs), bits of `bugs`, each
 * marked BUG where it changes the code:
 *
 * A2-B1: the top half and the tasklet share the circular buffer without
 * cb_lock: a handler on one CPU pushes while the tasklet pops on another,
 * and cb_count/cb_start updates are lost.
 */
#define ASGN2_BUG_UNLOCKED_CB		0x1
/*
 * A2-B6: the tasklet moves one byte per run. Schedules that arrive while it
 * is pending coalesce, so bytes are stranded in the circular buffer; when
 * the stranded byte is a file's '\0', the reader sleeps forever.
 */
#define ASGN2_BUG_ONE_BYTE_PER_TASKLET	0x2
/*
 * A2-B12: module exit frees the circular buffer and the pages before it
 * frees the interrupt, and never kills the tasklet: a late interrupt or
 * tasklet writes into freed memory.
 */
#define ASGN2_BUG_TEARDOWN_ORDER	0x4
/*
 * A2-B2, in the bottom half: the tasklet takes cb_lock with plain
 * spin_lock(). Softirqs run with interrupts on, so the top half can
 * interrupt the tasklet on its CPU while it holds cb_lock, and spins on it
 * forever.
 */
#define ASGN2_BUG_TASKLET_PLAIN_CB_LOCK	0x8

static int asgn2_major;
static int cb_size = ASGN2_CB_MAX;
static int page_bytes = PAGE_SIZE;
static unsigned int bugs;
module_param(asgn2_major, int, S_IRUGO);
module_param(cb_size, int, S_IRUGO);
MODULE_PARM_DESC(cb_size, "bytes of the circular buffer (1..16)");
module_param(page_bytes, int, S_IRUGO);
MODULE_PARM_DESC(page_bytes, "bytes used of each page of the queue (1..PAGE_SIZE)");
module_param(bugs, uint, S_IRUGO);
MODULE_PARM_DESC(bugs, "BUG: seeded bugs (a mask of ASGN2_BUG_*; 0: the correct driver)");

/* One page of the page queue. */
struct page_node {
	struct list_head list;
	struct page *page;
};

typedef struct asgn2_dev_t {
	dev_t dev;
	struct cdev cdev;

	/* The top half's own (hardirq only). */
	bool msb_phase;		/* the next half-byte is the high one */
	u8 hi;			/* the high half of the byte being assembled */

	/* The circular buffer, under cb_lock. */
	spinlock_t cb_lock;
	u8 *cb_buf;		/* cb_size bytes */
	int cb_start;		/* the oldest byte */
	int cb_count;		/* bytes held */
	unsigned int cb_dropped;	/* bytes lost to a full buffer */

	/* The page queue, under pq_lock. */
	spinlock_t pq_lock;
	struct list_head mem_list;	/* pages, oldest first */
	int num_pages;
	size_t head_off;	/* the next byte to read in the first page */
	size_t tail_off;	/* the next byte to write in the last page */
	size_t data_size;	/* bytes queued, '\0's included */
	int file_ends;		/* '\0's queued: complete files */
	unsigned int pq_dropped;	/* bytes lost to a failed GFP_ATOMIC allocation */

	/* Readers. */
	atomic_t nprocs;
	int max_nprocs;
	wait_queue_head_t read_wq;
} asgn2_dev;

/* What one open has done: read its file. */
struct asgn2_file {
	bool finished;
};

static asgn2_dev asgn2_device;

static void asgn2_do_tasklet(unsigned long data);
static DECLARE_TASKLET_OLD(asgn2_tasklet, asgn2_do_tasklet);

/* ---- the circular buffer (cb_lock held, except under BUG A2-B1) ---- */

static void cb_push(u8 c)
{
	asgn2_dev *dev = &asgn2_device;

	if (dev->cb_count == cb_size) {	/* full: drop the new byte */
		dev->cb_dropped++;
		return;
	}
	dev->cb_buf[(dev->cb_start + dev->cb_count) % cb_size] = c;
	dev->cb_count++;
}

static bool cb_pop(u8 *c)
{
	asgn2_dev *dev = &asgn2_device;

	if (dev->cb_count == 0)
		return false;
	*c = dev->cb_buf[dev->cb_start];
	dev->cb_start = (dev->cb_start + 1) % cb_size;
	dev->cb_count--;
	return true;
}

/* ---- the page queue (pq_lock held) ---- */

/*
 * Appends one byte at the tail, starting a new page when the last one is
 * full. Return: 0, or -ENOMEM (GFP_ATOMIC failed; the byte is lost).
 */
static int pq_append(u8 c)
{
	asgn2_dev *dev = &asgn2_device;
	struct page_node *tail;
	u8 *addr;

	if (list_empty(&dev->mem_list) || dev->tail_off == page_bytes) {
		tail = kmalloc(sizeof(*tail), GFP_ATOMIC);
		if (!tail)
			return -ENOMEM;
		tail->page = alloc_page(GFP_ATOMIC);
		if (!tail->page) {
			kfree(tail);
			return -ENOMEM;
		}
		list_add_tail(&tail->list, &dev->mem_list);
		dev->tail_off = 0;
		dev->num_pages++;
	}
	tail = list_last_entry(&dev->mem_list, struct page_node, list);
	addr = page_address(tail->page);
	addr[dev->tail_off] = c;
	dev->tail_off++;
	dev->data_size++;
	if (c == '\0')
		dev->file_ends++;
	return 0;
}

/* Frees the first page, which has been read to its end. */
static void pq_free_head(void)
{
	asgn2_dev *dev = &asgn2_device;
	struct page_node *head = list_first_entry(&dev->mem_list, struct page_node, list);

	list_del(&head->list);
	if (list_empty(&dev->mem_list))
		dev->tail_off = 0;
	dev->head_off = 0;
	__free_page(head->page);
	kfree(head);
	dev->num_pages--;
}

/*
 * Frees every page (module exit), checking on the way that the queue's
 * accounting adds up: data_size is the sum over the pages of the bytes
 * between the read and the write offsets, num_pages the length of the list.
 */
static void pq_free_all(void)
{
	asgn2_dev *dev = &asgn2_device;
	struct page_node *node, *next;
	size_t bytes = 0;
	int pages = 0;

	spin_lock_bh(&dev->pq_lock);
	list_for_each_entry_safe(node, next, &dev->mem_list, list) {
		size_t from = pages == 0 ? dev->head_off : 0;
		size_t to = &next->list == &dev->mem_list ? dev->tail_off : page_bytes;

		WARN_ON(from > to || to > page_bytes);
		bytes += to - from;
		pages++;
		list_del(&node->list);
		__free_page(node->page);
		kfree(node);
	}
	WARN_ON(bytes != dev->data_size);
	WARN_ON(pages != dev->num_pages);
	dev->num_pages = 0;
	dev->head_off = 0;
	dev->tail_off = 0;
	dev->data_size = 0;
	dev->file_ends = 0;
	spin_unlock_bh(&dev->pq_lock);
}

/* ---- the top half and the bottom half ---- */

/*
 * Hardirq: one half-byte per interrupt, the high one first. Never sleeps,
 * allocates, or takes pq_lock.
 */
irqreturn_t dummyport_interrupt(int irq, void *dev_id)
{
	asgn2_dev *dev = &asgn2_device;
	u8 half = read_half_byte();
	u8 byte;

	if (dev->msb_phase) {
		dev->hi = half;
		dev->msb_phase = false;
		return IRQ_HANDLED;
	}
	dev->msb_phase = true;
	byte = (dev->hi << 4) | half;

	if (bugs & ASGN2_BUG_UNLOCKED_CB) {
		cb_push(byte);	/* BUG A2-B1: no cb_lock */
	} else {
		spin_lock(&dev->cb_lock);	/* interrupts are off: the plain form */
		cb_push(byte);
		spin_unlock(&dev->cb_lock);
	}
	tasklet_schedule(&asgn2_tasklet);
	return IRQ_HANDLED;
}

/*
 * Softirq: moves everything the circular buffer holds to the page queue,
 * then wakes the readers. Schedules that arrive while it is pending
 * coalesce, so it must drain completely; one that arrives while it runs
 * schedules it again.
 */
static void asgn2_do_tasklet(unsigned long data)
{
	asgn2_dev *dev = &asgn2_device;
	u8 bytes[ASGN2_CB_MAX];
	unsigned long flags;
	int want = ASGN2_CB_MAX;
	int n = 0;
	int i;

	if (bugs & ASGN2_BUG_ONE_BYTE_PER_TASKLET)
		want = 1;	/* BUG A2-B6: one byte per run */

	if (bugs & ASGN2_BUG_UNLOCKED_CB) {
		while (n < want && cb_pop(&bytes[n]))	/* BUG A2-B1: no cb_lock */
			n++;
	} else if (bugs & ASGN2_BUG_TASKLET_PLAIN_CB_LOCK) {
		spin_lock(&dev->cb_lock);	/* BUG A2-B2: interrupts stay on */
		while (n < want && cb_pop(&bytes[n]))
			n++;
		spin_unlock(&dev->cb_lock);
	} else {
		spin_lock_irqsave(&dev->cb_lock, flags);	/* the top half may interrupt us */
		while (n < want && cb_pop(&bytes[n]))
			n++;
		spin_unlock_irqrestore(&dev->cb_lock, flags);
	}
	if (n == 0)
		return;

	spin_lock(&dev->pq_lock);
	for (i = 0; i < n; i++) {
		if (pq_append(bytes[i]) < 0) {
			dev->pq_dropped += n - i;
			break;
		}
	}
	spin_unlock(&dev->pq_lock);
	wake_up_interruptible(&dev->read_wq);
}

/* ---- file operations ---- */

/*
 * Return: 0; -EACCES for a write mode; -EBUSY when max_nprocs readers have
 * it open; -ENOMEM. Context: process, may sleep.
 */
static int asgn2_open(struct inode *inode, struct file *filp)
{
	asgn2_dev *dev = &asgn2_device;
	struct asgn2_file *af;

	if ((filp->f_flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;	/* a read-only device */
	if (atomic_inc_return(&dev->nprocs) > dev->max_nprocs) {
		atomic_dec(&dev->nprocs);
		return -EBUSY;
	}
	af = kmalloc(sizeof(*af), GFP_KERNEL);
	if (!af) {
		atomic_dec(&dev->nprocs);
		return -ENOMEM;
	}
	af->finished = false;
	filp->private_data = af;
	return 0;
}

static int asgn2_release(struct inode *inode, struct file *filp)
{
	asgn2_dev *dev = &asgn2_device;

	kfree(filp->private_data);
	atomic_dec(&dev->nprocs);
	return 0;
}

/*
 * Return: the bytes of the current file copied (never its '\0'); 0 once
 * this open has read its file (or for an empty file); -ERESTARTSYS on a
 * signal while waiting; -EFAULT. Context: process, may sleep.
 */
static ssize_t asgn2_read(struct file *filp, char __user *buf, size_t count,
			  loff_t *f_pos)
{
	asgn2_dev *dev = &asgn2_device;
	struct asgn2_file *af = filp->private_data;
	char kbuf[ASGN2_READ_CHUNK];	/* bounce buffer: no user copy under pq_lock */
	bool eof = false;
	size_t n = 0;

	if (af->finished)
		return 0;	/* one file per open */
	if (wait_event_interruptible(dev->read_wq, dev->data_size > 0))
		return -ERESTARTSYS;

	count = min(count, sizeof(kbuf));
	spin_lock_bh(&dev->pq_lock);	/* the tasklet may run at irq exit here */
	while (n < count && dev->data_size > 0) {
		struct page_node *head =
			list_first_entry(&dev->mem_list, struct page_node, list);
		u8 *addr = page_address(head->page);
		char c = addr[dev->head_off];

		dev->head_off++;
		dev->data_size--;
		if (dev->head_off == page_bytes)
			pq_free_head();	/* only the first page, only when read */
		if (c == '\0') {	/* the end of this open's file */
			dev->file_ends--;
			eof = true;
			break;
		}
		kbuf[n++] = c;
	}
	spin_unlock_bh(&dev->pq_lock);

	if (eof)
		af->finished = true;
	if (n > 0 && copy_to_user(buf, kbuf, n))
		return -EFAULT;
	*f_pos += n;
	return n;
}

static const struct file_operations asgn2_fops = {
	.owner = THIS_MODULE,
	.read = asgn2_read,
	.open = asgn2_open,
	.release = asgn2_release,
	.llseek = no_llseek,
};

/* ---- module init and exit ---- */

static int __init asgn2_init_module(void)
{
	asgn2_dev *dev = &asgn2_device;
	int result;

	if (cb_size < 1 || cb_size > ASGN2_CB_MAX || page_bytes < 1 ||
	    page_bytes > PAGE_SIZE)
		return -EINVAL;

	dev->cb_buf = kmalloc(cb_size, GFP_KERNEL);
	if (!dev->cb_buf)
		return -ENOMEM;
	dev->msb_phase = true;
	INIT_LIST_HEAD(&dev->mem_list);
	spin_lock_init(&dev->cb_lock);
	spin_lock_init(&dev->pq_lock);
	init_waitqueue_head(&dev->read_wq);
	atomic_set(&dev->nprocs, 0);
	dev->max_nprocs = 1;

	if (asgn2_major) {
		dev->dev = MKDEV(asgn2_major, 0);
		result = register_chrdev_region(dev->dev, 1, MYDEV_NAME);
	} else {
		result = alloc_chrdev_region(&dev->dev, 0, 1, MYDEV_NAME);
	}
	if (result < 0)
		goto fail_buffer;
	cdev_init(&dev->cdev, &asgn2_fops);
	dev->cdev.owner = THIS_MODULE;
	result = cdev_add(&dev->cdev, dev->dev, 1);
	if (result < 0)
		goto fail_region;

	/* Last: from here on interrupts arrive. */
	result = gpio_dummy_init();
	if (result)
		goto fail_cdev;
	pr_info("asgn2: loaded, major %d\n", MAJOR(dev->dev));
	return 0;

fail_cdev:
	cdev_del(&dev->cdev);
fail_region:
	unregister_chrdev_region(dev->dev, 1);
fail_buffer:
	kfree(dev->cb_buf);
	dev->cb_buf = NULL;
	return result;
}

static void __exit asgn2_exit_module(void)
{
	asgn2_dev *dev = &asgn2_device;

	if (bugs & ASGN2_BUG_TEARDOWN_ORDER) {
		/* BUG A2-B12: memory first, the interrupt after, no tasklet_kill(). */
		kfree(dev->cb_buf);
		pq_free_all();
		gpio_dummy_exit();
	} else {
		gpio_dummy_exit();		/* 1. no top half starts or still runs */
		tasklet_kill(&asgn2_tasklet);	/* 2. nor a bottom half */
		WARN_ON(dev->cb_count != 0);	/* the last run drained the buffer */
		pq_free_all();			/* 3. the pages */
		kfree(dev->cb_buf);
		dev->cb_buf = NULL;
	}
	cdev_del(&dev->cdev);
	unregister_chrdev_region(dev->dev, 1);
	WARN_ON(atomic_read(&dev->nprocs) != 0);
	if (dev->cb_dropped || dev->pq_dropped)
		pr_warn("asgn2: %u bytes dropped (buffer full), %u (out of memory)\n",
			dev->cb_dropped, dev->pq_dropped);
}

module_init(asgn2_init_module);
module_exit(asgn2_exit_module);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("COSC440 asgn2: an interrupt-driven reader of a dummy GPIO device");
