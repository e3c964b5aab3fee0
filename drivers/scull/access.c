// SPDX-License-Identifier: GPL-2.0
/*
 * access.c -- the scull devices with access control on open, written for
 * kmc after LDD3's scull/access.c (chapter 6): scullsingle (one open at a
 * time), sculluid (one user at a time, -EBUSY), scullwuid (one user at a
 * time, blocking open) and scullpriv (a private device per controlling
 * tty). They are bare scull devices: read, write, llseek and ioctl are
 * main.c's; only open and release differ. Behaviour and locking rules:
 * docs/DRIVERS.md, scull access-control devices.
 *
 * Seeded bugs are bits of the parameter access_bugs (SCULL_A_BUG_* in
 * scull.h), marked `BUG <id>` where they change the code. With
 * access_bugs=0 the code is LDD3's, which includes P1: scullpriv allocates
 * with GFP_KERNEL while holding a spinlock (SCULL_A_FIX_P1 fixes it).
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/fs.h>
#include <linux/errno.h>
#include <linux/types.h>
#include <linux/fcntl.h>
#include <linux/cdev.h>
#include <linux/tty.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/semaphore.h>
#include <linux/wait.h>

#include "scull.h"	/* local definitions */

static unsigned int access_bugs;	/* SCULL_A_BUG_* and SCULL_A_FIX_* bits */
module_param(access_bugs, uint, S_IRUGO);
MODULE_PARM_DESC(access_bugs, "seeded bugs of access.c, SCULL_A_* bits (docs/DRIVERS.md)");

static dev_t scull_a_firstdev;	/* where our range begins */

/*
 * These devices fall back on the main scull operations. They only differ
 * in the implementation of open() and close().
 */

/************************************************************************
 *
 * The first device is the single-open one; it has a device structure
 * and an availability count.
 */

static struct scull_dev scull_s_device;
static atomic_t scull_s_available = ATOMIC_INIT(1);

static int scull_s_open(struct inode *inode, struct file *filp)
{
	struct scull_dev *dev = &scull_s_device;	/* device information */

	if (access_bugs & SCULL_A_BUG_S1_TEST_THEN_DEC) {
		/* BUG S1: test, then decrement: both openers may see 1 */
		if (atomic_read(&scull_s_available) != 1)
			return -EBUSY;
		atomic_dec(&scull_s_available);
	} else if (!atomic_dec_and_test(&scull_s_available)) {
		atomic_inc(&scull_s_available);
		return -EBUSY;	/* already open */
	}

	/* then, everything else is the bare scull device's */
	if ((filp->f_flags & O_ACCMODE) == O_WRONLY)
		scull_trim(dev);
	filp->private_data = dev;
	return 0;	/* success */
}

static int scull_s_release(struct inode *inode, struct file *filp)
{
	atomic_inc(&scull_s_available);	/* release the device */
	return 0;
}

/************************************************************************
 *
 * Next, the "uid" device. It can be opened multiple times by the same
 * user, but access is denied to other users while the device is open.
 */

static struct scull_dev scull_u_device;
static int scull_u_count;	/* initialized to 0 by default */
static kuid_t scull_u_owner;	/* initialized to 0 by default */
static DEFINE_SPINLOCK(scull_u_lock);

static int scull_u_open(struct inode *inode, struct file *filp)
{
	struct scull_dev *dev = &scull_u_device;	/* device information */

	spin_lock(&scull_u_lock);
	if (scull_u_count &&
	    !uid_eq(scull_u_owner, current_uid()) &&	/* allow user */
	    !uid_eq(scull_u_owner, current_euid()) &&	/* allow whoever did su */
	    !capable(CAP_DAC_OVERRIDE)) {		/* still allow root */
		spin_unlock(&scull_u_lock);
		return -EBUSY;	/* -EPERM would confuse the user */
	}

	if (access_bugs & SCULL_A_BUG_U1_SPLIT_CRITICAL_SECTION) {
		/* BUG U1: the test above and the claim below are apart */
		spin_unlock(&scull_u_lock);
		spin_lock(&scull_u_lock);
	}
	if (scull_u_count == 0)
		scull_u_owner = current_uid();	/* grab it */

	scull_u_count++;
	spin_unlock(&scull_u_lock);

	/* then, everything else is the bare scull device's */
	if ((filp->f_flags & O_ACCMODE) == O_WRONLY)
		scull_trim(dev);
	filp->private_data = dev;
	return 0;	/* success */
}

static int scull_u_release(struct inode *inode, struct file *filp)
{
	spin_lock(&scull_u_lock);
	scull_u_count--;	/* nothing else */
	spin_unlock(&scull_u_lock);
	return 0;
}

/************************************************************************
 *
 * Next, the device with blocking open based on uid.
 */

static struct scull_dev scull_w_device;
static int scull_w_count;	/* initialized to 0 by default */
static kuid_t scull_w_owner;	/* initialized to 0 by default */
static DECLARE_WAIT_QUEUE_HEAD(scull_w_wait);
static DEFINE_SPINLOCK(scull_w_lock);

static inline int scull_w_available(void)
{
	return scull_w_count == 0 ||
		uid_eq(scull_w_owner, current_uid()) ||
		uid_eq(scull_w_owner, current_euid()) ||
		capable(CAP_DAC_OVERRIDE);
}

static int scull_w_open(struct inode *inode, struct file *filp)
{
	struct scull_dev *dev = &scull_w_device;	/* device information */

	spin_lock(&scull_w_lock);
	while (!scull_w_available()) {
		spin_unlock(&scull_w_lock);
		if (filp->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (access_bugs & SCULL_A_BUG_W3_LOST_WAKEUP) {
			/*
			 * BUG W3: no check after queueing; the last one was
			 * made under the spinlock, so a release between
			 * spin_unlock() and prepare_to_wait() wakes nobody.
			 */
			DEFINE_WAIT(wait);

			prepare_to_wait(&scull_w_wait, &wait, TASK_INTERRUPTIBLE);
			schedule();
			finish_wait(&scull_w_wait, &wait);
			if (signal_pending(current))
				return -ERESTARTSYS;
		} else if (wait_event_interruptible(scull_w_wait,
						    scull_w_available())) {
			return -ERESTARTSYS;	/* tell the fs layer */
		}
		spin_lock(&scull_w_lock);
		if (access_bugs & SCULL_A_BUG_W1_IF_NOT_WHILE)
			break;	/* BUG W1: no re-test under the lock */
	}
	if (scull_w_count == 0)
		scull_w_owner = current_uid();	/* grab it */
	scull_w_count++;
	spin_unlock(&scull_w_lock);

	/* then, everything else is the bare scull device's */
	if ((filp->f_flags & O_ACCMODE) == O_WRONLY)
		scull_trim(dev);
	filp->private_data = dev;
	return 0;	/* success */
}

static int scull_w_release(struct inode *inode, struct file *filp)
{
	int temp;

	spin_lock(&scull_w_lock);
	scull_w_count--;
	temp = scull_w_count;
	spin_unlock(&scull_w_lock);

	if (temp == 0)
		wake_up_interruptible_sync(&scull_w_wait); /* awake other uids */
	return 0;
}

/************************************************************************
 *
 * Finally the "cloned" private device. This is trickier because it
 * involves list management and dynamic allocation.
 */

/* The clone-specific data structure includes a key field */
struct scull_listitem {
	struct scull_dev device;
	dev_t key;
	struct list_head list;
};

/* The list of devices, and a lock to protect it */
static LIST_HEAD(scull_c_list);
static DEFINE_SPINLOCK(scull_c_lock);

/* A placeholder scull_dev which really just holds the cdev stuff. */
static struct scull_dev scull_c_device;

/* Look for a device or create one if missing; called with scull_c_lock */
static struct scull_dev *scull_c_lookfor_device(dev_t key)
{
	struct scull_listitem *lptr;

	list_for_each_entry(lptr, &scull_c_list, list) {
		if (lptr->key == key)
			return &(lptr->device);
	}

	/* not found */
	if (access_bugs & SCULL_A_FIX_P1)
		lptr = kmalloc(sizeof(struct scull_listitem), GFP_ATOMIC);
	else	/* BUG P1 (LDD3's code): may sleep, scull_c_lock is held */
		lptr = kmalloc(sizeof(struct scull_listitem), GFP_KERNEL);
	if (!lptr)
		return NULL;

	/* initialize the device */
	memset(lptr, 0, sizeof(struct scull_listitem));
	lptr->key = key;
	scull_trim(&(lptr->device));	/* initialize it */
	sema_init(&(lptr->device.sem), 1);
	spin_lock_init(&(lptr->device.lock));

	/* place it in the list */
	list_add(&lptr->list, &scull_c_list);

	return &(lptr->device);
}

static int scull_c_open(struct inode *inode, struct file *filp)
{
	struct scull_dev *dev;
	dev_t key;

	if (!current->signal->tty) {
		pr_debug("Process \"%s\" has no ctl tty\n", current->comm);
		return -EINVAL;
	}
	key = tty_devnum(current->signal->tty);

	/* look for a scullc device in the list */
	spin_lock(&scull_c_lock);
	dev = scull_c_lookfor_device(key);
	spin_unlock(&scull_c_lock);

	if (!dev)
		return -ENOMEM;

	/* then, everything else is the bare scull device's */
	if ((filp->f_flags & O_ACCMODE) == O_WRONLY)
		scull_trim(dev);
	filp->private_data = dev;
	return 0;	/* success */
}

static int scull_c_release(struct inode *inode, struct file *filp)
{
	/*
	 * Nothing to do, because the device is persistent. A "real" cloned
	 * device should be freed on last close (drivers/scullpriv_rcu).
	 */
	return 0;
}

/************************************************************************
 *
 * And the init and cleanup functions come last
 */

#define SCULL_A_FOPS(open_fn, release_fn)			\
	{							\
		.owner =		THIS_MODULE,		\
		.llseek =		scull_llseek,		\
		.read =			scull_read,		\
		.write =		scull_write,		\
		.unlocked_ioctl =	scull_ioctl,		\
		.open =			open_fn,		\
		.release =		release_fn,		\
	}

static const struct file_operations scull_sngl_fops =
	SCULL_A_FOPS(scull_s_open, scull_s_release);
static const struct file_operations scull_user_fops =
	SCULL_A_FOPS(scull_u_open, scull_u_release);
static const struct file_operations scull_wusr_fops =
	SCULL_A_FOPS(scull_w_open, scull_w_release);
static const struct file_operations scull_priv_fops =
	SCULL_A_FOPS(scull_c_open, scull_c_release);

static struct scull_adev_info {
	char *name;
	struct scull_dev *sculldev;
	const struct file_operations *fops;
} scull_access_devs[] = {
	{ "scullsingle", &scull_s_device, &scull_sngl_fops },
	{ "sculluid", &scull_u_device, &scull_user_fops },
	{ "scullwuid", &scull_w_device, &scull_wusr_fops },
	{ "sullpriv", &scull_c_device, &scull_priv_fops }	/* sic, LDD3 */
};
#define SCULL_N_ADEVS 4

/* Set up a single device. */
static void scull_access_setup(dev_t devno, struct scull_adev_info *devinfo)
{
	struct scull_dev *dev = devinfo->sculldev;
	int err;

	/* Initialize the device structure */
	dev->quantum = scull_quantum;
	dev->qset = scull_qset;
	sema_init(&dev->sem, 1);
	spin_lock_init(&dev->lock);

	/* Do the cdev stuff. */
	cdev_init(&dev->cdev, devinfo->fops);
	dev->cdev.owner = THIS_MODULE;
	err = cdev_add(&dev->cdev, devno, 1);
	/* Fail gracefully if need be */
	if (err)
		printk(KERN_NOTICE "Error %d adding %s\n", err, devinfo->name);
	else
		printk(KERN_NOTICE "%s registered at %x\n", devinfo->name, devno);
}

int scull_access_init(dev_t firstdev)
{
	int result, i;

	/* Get our number space */
	result = register_chrdev_region(firstdev, SCULL_N_ADEVS, "sculla");
	if (result < 0) {
		printk(KERN_WARNING "sculla: device number registration failed\n");
		return 0;
	}
	scull_a_firstdev = firstdev;

	/* Set up each device. */
	for (i = 0; i < SCULL_N_ADEVS; i++)
		scull_access_setup(firstdev + i, scull_access_devs + i);
	return SCULL_N_ADEVS;
}

/*
 * This is called by cleanup_module or on failure. It is required to
 * never fail, even if nothing was initialized first.
 */
void scull_access_cleanup(void)
{
	struct scull_listitem *lptr, *next;
	int i;

	/* Clean up the static devs */
	for (i = 0; i < SCULL_N_ADEVS; i++) {
		struct scull_dev *dev = scull_access_devs[i].sculldev;

		cdev_del(&dev->cdev);
		scull_trim(scull_access_devs[i].sculldev);
	}

	/* And all the cloned devices */
	list_for_each_entry_safe(lptr, next, &scull_c_list, list) {
		list_del(&lptr->list);
		scull_trim(&(lptr->device));
		kfree(lptr);
	}

	/* Free up our number space */
	unregister_chrdev_region(scull_a_firstdev, SCULL_N_ADEVS);
}
