// SPDX-License-Identifier: GPL-2.0
/*
 * pipe.c -- scullpipe, the blocking FIFO devices of scull (LDD3 chapter 6).
 *
 * Written for kmc after the book's scull/pipe.c in its semaphore version
 * (struct semaphore, down_interruptible()/up()); the functions, their order
 * and the field names follow it, so the two read side by side. The same file
 * builds as a kmc module (drivers/scull/BUILD.bazel) and, with
 * tools/kbuild.sh, as a real kernel module. Behaviour, locking rules and the
 * seeded bugs are described in docs/DRIVERS.md (scullpipe).
 *
 * Parameters (besides the book's scull_p_nr_devs and scull_p_buffer):
 *   pipe_bugs       seeded bugs, bit n for bug PBn of docs/DRIVERS.md; each
 *                   change is marked `BUG PBn` below (0: the book's code).
 *   pipe_seed_read  1: read() is scull_p_read_seed002(), the read as the
 *                   reading notes print it (two up()s on an empty pipe).
 *
 * The lockless re-check of spacefree() in scull_getwritespace() reads
 * dev->rp and dev->wp plainly, as the book does: it is the condition of an
 * open-coded wait (prepare_to_wait(), test, schedule()); see
 * docs/DRIVERS.md (scullpipe, "the re-check") for how kmc treats it.
 */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>	/* printk(), min() */
#include <linux/slab.h>		/* kmalloc() */
#include <linux/string.h>	/* memset() */
#include <linux/fs.h>
#include <linux/errno.h>
#include <linux/types.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/cdev.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/wait.h>
#include <linux/semaphore.h>
#include <linux/uaccess.h>

#include "scull.h"		/* SCULL_P_*, scull_ioctl() */

#ifdef SCULL_DEBUG
#define PDEBUG(fmt, args...) printk(KERN_DEBUG "scull: " fmt, ## args)
#else
#define PDEBUG(fmt, args...) do { } while (0)
#endif

struct scull_pipe {
	wait_queue_head_t inq, outq;	/* readers wait on inq, writers on outq */
	char *buffer, *end;		/* the ring: [buffer, end) */
	int buffersize;			/* end - buffer */
	char *rp, *wp;			/* next byte to read, next to write */
	int nreaders, nwriters;		/* open files with FMODE_READ/WRITE */
	struct fasync_struct *async_queue; /* files that asked for SIGIO */
	struct semaphore sem;		/* protects all of the above but the queues */
	struct cdev cdev;
};

/* Parameters */
static int scull_p_nr_devs = SCULL_P_NR_DEVS;	/* number of pipe devices */
int scull_p_buffer = SCULL_P_BUFFER;		/* buffer size for the next open */
dev_t scull_p_devno;				/* first pipe device number */
static int pipe_bugs;
static int pipe_seed_read;

module_param(scull_p_nr_devs, int, 0);
module_param(scull_p_buffer, int, 0);
module_param(pipe_bugs, int, 0);
MODULE_PARM_DESC(pipe_bugs, "seeded bugs: bit n seeds PBn (docs/DRIVERS.md)");
module_param(pipe_seed_read, int, 0);
MODULE_PARM_DESC(pipe_seed_read, "1: read() as the reading notes print it");

#define PB(n) (pipe_bugs & (1 << (n)))

static struct scull_pipe *scull_p_devices;

static int scull_p_fasync(int fd, struct file *filp, int mode);
static int spacefree(struct scull_pipe *dev);

/* Open and close */

static int scull_p_open(struct inode *inode, struct file *filp)
{
	struct scull_pipe *dev;

	dev = container_of(inode->i_cdev, struct scull_pipe, cdev);
	filp->private_data = dev;

	if (down_interruptible(&dev->sem))
		return -ERESTARTSYS;
	if (!dev->buffer) {
		/* first open: allocate the ring */
		dev->buffer = kmalloc(scull_p_buffer, GFP_KERNEL);
		if (!dev->buffer) {
			up(&dev->sem);
			return -ENOMEM;
		}
	}
	/* every open restarts the ring (and takes the current size) */
	dev->buffersize = scull_p_buffer;
	dev->end = dev->buffer + dev->buffersize;
	dev->rp = dev->wp = dev->buffer;

	/* count by f_mode, which says what the file may do, not by f_flags */
	if (filp->f_mode & FMODE_READ)
		dev->nreaders++;
	if (filp->f_mode & FMODE_WRITE)
		dev->nwriters++;
	up(&dev->sem);

	return nonseekable_open(inode, filp);
}

static int scull_p_release(struct inode *inode, struct file *filp)
{
	struct scull_pipe *dev = filp->private_data;

	/* take this file off the SIGIO list first */
	scull_p_fasync(-1, filp, 0);
	down(&dev->sem);
	if (filp->f_mode & FMODE_READ)
		dev->nreaders--;
	if (filp->f_mode & FMODE_WRITE)
		dev->nwriters--;
	if (dev->nreaders + dev->nwriters == 0) {
		kfree(dev->buffer);
		dev->buffer = NULL; /* open sets the other fields again */
	}
	up(&dev->sem);
	return 0;
}

/* Data management: read and write */

static ssize_t scull_p_read_seed002(struct file *filp, char __user *buf,
				    size_t count, loff_t *f_pos);

static ssize_t scull_p_read(struct file *filp, char __user *buf, size_t count,
			    loff_t *f_pos)
{
	struct scull_pipe *dev = filp->private_data;

	if (pipe_seed_read)
		return scull_p_read_seed002(filp, buf, count, f_pos);

	if (down_interruptible(&dev->sem))
		return -ERESTARTSYS;

	while (dev->rp == dev->wp) { /* empty */
		if (!PB(5))
			up(&dev->sem); /* never sleep holding the lock */
		/* BUG PB5: otherwise dev->sem stays held across the sleep */
		if (filp->f_flags & O_NONBLOCK)
			return -EAGAIN;
		PDEBUG("\"%s\" reading: going to sleep\n", current->comm);
		if (wait_event_interruptible(dev->inq, (dev->rp != dev->wp)))
			return -ERESTARTSYS; /* a signal: let the VFS restart us */
		/* woken: take the lock again and test again */
		if (!PB(5) && down_interruptible(&dev->sem))
			return -ERESTARTSYS;
		if (PB(2))
			break; /* BUG PB2: `if`, not `while`: no re-test under the lock */
	}
	/* data is there: copy one contiguous piece */
	if (dev->wp > dev->rp)
		count = min(count, (size_t)(dev->wp - dev->rp));
	else /* the data wraps: up to the end of the ring only */
		count = min(count, (size_t)(dev->end - dev->rp));
	if (copy_to_user(buf, dev->rp, count)) {
		up(&dev->sem);
		return -EFAULT;
	}
	dev->rp += count;
	if (dev->rp == dev->end)
		dev->rp = dev->buffer; /* wrap */
	up(&dev->sem);

	/* room was made: wake the writers */
	wake_up_interruptible(&dev->outq);
	PDEBUG("\"%s\" did read %li bytes\n", current->comm, (long)count);
	return count;
}

/*
 * Wait until the ring has room. Called with dev->sem held; returns 0 with it
 * held, or an error with it released.
 */
static int scull_getwritespace(struct scull_pipe *dev, struct file *filp)
{
	while (spacefree(dev) == 0) { /* full */
		DEFINE_WAIT(wait);

		up(&dev->sem);
		if (filp->f_flags & O_NONBLOCK)
			return -EAGAIN;
		PDEBUG("\"%s\" writing: going to sleep\n", current->comm);
		prepare_to_wait(&dev->outq, &wait, TASK_INTERRUPTIBLE);
		/*
		 * Test again now that we are on the queue: a reader that made
		 * room after up() above woke nobody.
		 */
		if (PB(3))
			schedule(); /* BUG PB3: no re-test: that wake-up is lost */
		else if (spacefree(dev) == 0)
			schedule();
		finish_wait(&dev->outq, &wait);
		if (signal_pending(current))
			return -ERESTARTSYS; /* a signal: let the VFS restart us */
		if (down_interruptible(&dev->sem))
			return -ERESTARTSYS;
	}
	return 0;
}

/* Free bytes in the ring; one slot always stays empty (full != empty). */
static int spacefree(struct scull_pipe *dev)
{
	if (dev->rp == dev->wp)
		return dev->buffersize - 1;
	return ((dev->rp + dev->buffersize - dev->wp) % dev->buffersize) - 1;
}

static ssize_t scull_p_write(struct file *filp, const char __user *buf,
			     size_t count, loff_t *f_pos)
{
	struct scull_pipe *dev = filp->private_data;
	int result;

	/*
	 * BUG PB4: wake the readers before the data is there. It sits before
	 * the lock because kmc switches tasks at kernel calls only: between
	 * down_interruptible() and the update of wp there is none, so a
	 * wake-up placed right before the copy could never be seen early.
	 */
	if (PB(4))
		wake_up_interruptible(&dev->inq);
	if (down_interruptible(&dev->sem))
		return -ERESTARTSYS;

	/* wait for room */
	result = scull_getwritespace(dev, filp);
	if (result) {
		if (PB(7))
			up(&dev->sem); /* BUG PB7: getwritespace already released it */
		return result; /* dev->sem was released */
	}

	/* room is there: take what fits in one contiguous piece */
	count = min(count, (size_t)spacefree(dev));
	if (dev->wp >= dev->rp)
		count = min(count, (size_t)(dev->end - dev->wp)); /* up to the end */
	else /* wp has wrapped: up to rp - 1 */
		count = min(count, (size_t)(dev->rp - dev->wp - 1));
	PDEBUG("Going to accept %li bytes to %p from %p\n", (long)count, dev->wp, buf);
	if (copy_from_user(dev->wp, buf, count)) {
		up(&dev->sem);
		return -EFAULT;
	}
	dev->wp += count;
	if (dev->wp == dev->end)
		dev->wp = dev->buffer; /* wrap */
	up(&dev->sem);

	/* data was added: wake the readers (read() and poll()) */
	if (!PB(4))
		wake_up_interruptible(&dev->inq);

	/* and tell the files that asked for SIGIO */
	if (dev->async_queue)
		kill_fasync(&dev->async_queue, SIGIO, POLL_IN);
	PDEBUG("\"%s\" did write %li bytes\n", current->comm, (long)count);
	return count;
}

static __poll_t scull_p_poll(struct file *filp, poll_table *wait)
{
	struct scull_pipe *dev = filp->private_data;
	__poll_t mask = 0;

	/*
	 * The ring is empty when rp == wp and full when wp is one slot
	 * behind rp (spacefree() == 0).
	 */
	down(&dev->sem);
	poll_wait(filp, &dev->inq, wait);
	poll_wait(filp, &dev->outq, wait);
	if (dev->rp != dev->wp)
		mask |= POLLIN | POLLRDNORM;	/* readable */
	if (spacefree(dev))
		mask |= POLLOUT | POLLWRNORM;	/* writable */
	up(&dev->sem);
	return mask;
}

static int scull_p_fasync(int fd, struct file *filp, int mode)
{
	struct scull_pipe *dev = filp->private_data;

	return fasync_helper(fd, filp, mode, &dev->async_queue);
}

/*
 * scull_p_read() as the reading notes print it, not the book's code: on an
 * empty pipe it up()s twice, and nothing follows the second
 * down_interruptible() (the notes' `if` has an empty body). Selected by
 * pipe_seed_read=1; model scullpipe/seed_read.
 */
static ssize_t scull_p_read_seed002(struct file *filp, char __user *buf,
				    size_t count, loff_t *f_pos)
{
	struct scull_pipe *dev = filp->private_data;

	if (down_interruptible(&dev->sem))
		return -ERESTARTSYS;

	while (dev->rp == dev->wp) { /* empty */
		up(&dev->sem);
		up(&dev->sem);
		if (filp->f_flags & O_NONBLOCK)
			return -EAGAIN;
		PDEBUG("\"%s\" reading: going to sleep\n", current->comm);
		if (wait_event_interruptible(dev->inq, (dev->rp != dev->wp)))
			return -ERESTARTSYS;
		if (down_interruptible(&dev->sem)) {
			/* (empty in the notes) */
		}
	}

	if (dev->wp > dev->rp)
		count = min(count, (size_t)(dev->wp - dev->rp));
	else
		count = min(count, (size_t)(dev->end - dev->rp));
	if (copy_to_user(buf, dev->rp, count)) {
		up(&dev->sem);
		return -EFAULT;
	}
	dev->rp += count;
	if (dev->rp == dev->end)
		dev->rp = dev->buffer;
	up(&dev->sem);
	wake_up_interruptible(&dev->outq);
	PDEBUG("\"%s\" did read %li bytes\n", current->comm, (long)count);
	return count;
}

/* The file operations of the pipe devices */
static const struct file_operations scull_pipe_fops = {
	.owner =	THIS_MODULE,
	.llseek =	no_llseek,
	.read =		scull_p_read,
	.write =	scull_p_write,
	.poll =		scull_p_poll,
	.unlocked_ioctl = scull_ioctl,
	.open =		scull_p_open,
	.release =	scull_p_release,
	.fasync =	scull_p_fasync,
};

/* Set up the cdev of pipe device `index`. */
static void scull_p_setup_cdev(struct scull_pipe *dev, int index)
{
	int err, devno = scull_p_devno + index;

	cdev_init(&dev->cdev, &scull_pipe_fops);
	dev->cdev.owner = THIS_MODULE;
	err = cdev_add(&dev->cdev, devno, 1);
	/* fail gracefully if need be */
	if (err)
		printk(KERN_NOTICE "Error %d adding scullpipe%d", err, index);
}

/*
 * Set up the pipe devices from device number firstdev on; return how many
 * numbers they took (0 when nothing could be set up).
 */
int scull_p_init(dev_t firstdev)
{
	int i, result;

	result = register_chrdev_region(firstdev, scull_p_nr_devs, "scullp");
	if (result < 0) {
		printk(KERN_NOTICE "Unable to get scullp region, error %d\n", result);
		return 0;
	}
	scull_p_devno = firstdev;
	scull_p_devices = kmalloc(scull_p_nr_devs * sizeof(struct scull_pipe), GFP_KERNEL);
	if (scull_p_devices == NULL) {
		unregister_chrdev_region(firstdev, scull_p_nr_devs);
		return 0;
	}
	memset(scull_p_devices, 0, scull_p_nr_devs * sizeof(struct scull_pipe));
	for (i = 0; i < scull_p_nr_devs; i++) {
		struct scull_pipe *dev = scull_p_devices + i;

		init_waitqueue_head(&dev->inq);
		init_waitqueue_head(&dev->outq);
		sema_init(&dev->sem, 1);
		scull_p_setup_cdev(dev, i);
	}
	return scull_p_nr_devs;
}

/*
 * Undo scull_p_init(): module exit, or a failed init. Never fails, even
 * when nothing was set up.
 */
void scull_p_cleanup(void)
{
	int i;

	if (!scull_p_devices)
		return; /* nothing else to release */

	for (i = 0; i < scull_p_nr_devs; i++) {
		cdev_del(&scull_p_devices[i].cdev);
		kfree(scull_p_devices[i].buffer);
	}
	kfree(scull_p_devices);
	unregister_chrdev_region(scull_p_devno, scull_p_nr_devs);
	scull_p_devices = NULL; /* pedantic */
}
