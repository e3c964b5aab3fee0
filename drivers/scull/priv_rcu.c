// SPDX-License-Identifier: GPL-2.0
/*
 * priv_rcu.c -- scullpriv on RCU, a kmc variant of access.c's cloned
 * device (docs/DRIVERS.md, scullpriv on RCU): one private scull device per
 * controlling tty, with a read-mostly device list.
 *
 *  - open looks the tty's device up under rcu_read_lock() with
 *    list_for_each_entry_rcu() and takes a reference, unless the device's
 *    last user is already freeing it (users == 0: never revived);
 *  - a miss allocates a new device with GFP_KERNEL outside any lock (the P1
 *    fix), then inserts it with list_add_rcu() under scull_r_lock after
 *    searching again (P3: no duplicate for one key);
 *  - release drops the reference; the last user unlinks the device with
 *    list_del_rcu() under scull_r_lock, waits for a grace period
 *    (synchronize_rcu()) and frees it, so a lookup that found it never
 *    touches freed memory. LDD3's scullpriv keeps its devices until unload;
 *    its comment says a real clone device would be freed on last close,
 *    which is this;
 *  - a write-only open trims the device under its semaphore (P4/U3 fixed).
 *
 * Locking: scull_r_lock (spinlock) serializes list updates; readers hold
 * rcu_read_lock() only. No lock is nested in another.
 * The device is the region "scullpriv_rcu" (one minor), after access.c's.
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
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/semaphore.h>
#include <linux/rculist.h>
#include <linux/rcupdate.h>

#include "scull.h"	/* local definitions */

/* A device and its key; users counts the opens holding it (0: dying). */
struct scull_r_item {
	struct scull_dev device;
	dev_t key;
	struct list_head list;
	atomic_t users;
};

static LIST_HEAD(scull_r_list);
static DEFINE_SPINLOCK(scull_r_lock);
static struct cdev scull_r_cdev;
static dev_t scull_r_devno;

/*
 * atomic_inc_not_zero() as the kernel's generic fallback writes it: a
 * cmpxchg loop, so a device whose count reached 0 is never revived.
 */
static bool scull_r_tryget(atomic_t *users)
{
	int c = atomic_read(users);

	do {
		int old;

		if (c == 0)
			return false;
		old = atomic_cmpxchg(users, c, c + 1);
		if (old == c)
			return true;
		c = old;
	} while (1);
}

/* The fast path: the tty's device under rcu_read_lock(), with a reference. */
static struct scull_r_item *scull_r_get(dev_t key)
{
	struct scull_r_item *lptr;

	rcu_read_lock();
	list_for_each_entry_rcu(lptr, &scull_r_list, list) {
		if (lptr->key == key && scull_r_tryget(&lptr->users)) {
			rcu_read_unlock();
			return lptr;
		}
	}
	rcu_read_unlock();
	return NULL;
}

/* Look for a device or create one (with a reference for the caller). */
static struct scull_r_item *scull_r_lookfor_device(dev_t key)
{
	struct scull_r_item *lptr, *fresh;

	lptr = scull_r_get(key);
	if (lptr)
		return lptr;

	/* not found: allocate outside the spinlock (GFP_KERNEL may sleep) */
	fresh = kzalloc(sizeof(struct scull_r_item), GFP_KERNEL);
	if (!fresh)
		return NULL;

	/* initialize the device before anybody can see it */
	fresh->key = key;
	scull_trim(&fresh->device);	/* initialize it */
	sema_init(&fresh->device.sem, 1);
	spin_lock_init(&fresh->device.lock);
	atomic_set(&fresh->users, 1);

	/* search again under the lock: another opener may have won (P3) */
	spin_lock(&scull_r_lock);
	list_for_each_entry(lptr, &scull_r_list, list) {
		if (lptr->key == key && scull_r_tryget(&lptr->users)) {
			spin_unlock(&scull_r_lock);
			kfree(fresh);	/* nothing allocated in it yet */
			return lptr;
		}
	}
	/* list_add_rcu() publishes the initialized item */
	list_add_rcu(&fresh->list, &scull_r_list);
	spin_unlock(&scull_r_lock);
	return fresh;
}

/* Drops a reference; the last user unlinks and frees after a grace period. */
static void scull_r_put(struct scull_r_item *lptr)
{
	if (!atomic_dec_and_test(&lptr->users))
		return;
	spin_lock(&scull_r_lock);
	list_del_rcu(&lptr->list);
	spin_unlock(&scull_r_lock);
	synchronize_rcu();	/* wait for the lookups that may have found it */
	scull_trim(&lptr->device);	/* nobody can reach it: no lock needed */
	kfree(lptr);
}

static int scull_r_open(struct inode *inode, struct file *filp)
{
	struct scull_r_item *lptr;
	struct scull_dev *dev;

	if (!current->signal->tty)
		return -EINVAL;	/* no controlling tty */

	lptr = scull_r_lookfor_device(tty_devnum(current->signal->tty));
	if (!lptr)
		return -ENOMEM;
	dev = &lptr->device;

	/* then, everything else is the bare scull device's */
	if ((filp->f_flags & O_ACCMODE) == O_WRONLY) {
		if (down_interruptible(&dev->sem)) {	/* trim locked (P4) */
			scull_r_put(lptr);
			return -ERESTARTSYS;
		}
		scull_trim(dev);
		up(&dev->sem);
	}
	filp->private_data = dev;
	return 0;	/* success */
}

static int scull_r_release(struct inode *inode, struct file *filp)
{
	struct scull_dev *dev = filp->private_data;

	scull_r_put(container_of(dev, struct scull_r_item, device));
	return 0;
}

static const struct file_operations scull_r_fops = {
	.owner =		THIS_MODULE,
	.llseek =		scull_llseek,
	.read =			scull_read,
	.write =		scull_write,
	.unlocked_ioctl =	scull_ioctl,
	.open =			scull_r_open,
	.release =		scull_r_release,
};

int scull_priv_rcu_init(dev_t firstdev)
{
	int err;

	err = register_chrdev_region(firstdev, 1, "scullpriv_rcu");
	if (err < 0) {
		printk(KERN_WARNING "scullpriv_rcu: device number registration failed\n");
		return 0;
	}
	scull_r_devno = firstdev;
	cdev_init(&scull_r_cdev, &scull_r_fops);
	scull_r_cdev.owner = THIS_MODULE;
	err = cdev_add(&scull_r_cdev, firstdev, 1);
	if (err)
		printk(KERN_NOTICE "Error %d adding scullpriv_rcu\n", err);
	return 1;
}

/* Module exit: no user is left; unlink, trim and free every device. */
void scull_priv_rcu_cleanup(void)
{
	struct scull_r_item *lptr, *next;

	cdev_del(&scull_r_cdev);
	list_for_each_entry_safe(lptr, next, &scull_r_list, list) {
		list_del(&lptr->list);
		scull_trim(&lptr->device);
		kfree(lptr);
	}
	if (scull_r_devno)
		unregister_chrdev_region(scull_r_devno, 1);
}
