// SPDX-License-Identifier: GPL-2.0
/*
 * main.c -- the bare scull char module (scull0..N-1), written for kmc after
 * LDD3's scull/main.c (chapters 3 and 5, the semaphore version): the same
 * functions in the same order, with the same names, so the two read side by
 * side. Behaviour and locking rules: docs/DRIVERS.md, scull.
 *
 * Seeded bugs are bits of the parameter scull_bugs (scull.h); each place
 * where one changes the code is marked `BUG Bn`. With scull_bugs=0 the code
 * is LDD3's with one fix: read and write copy dev->quantum and dev->qset
 * after taking the lock (LDD3 copies them before: that is B5).
 *
 * Parameters: scull_major, scull_minor, scull_nr_devs, scull_quantum,
 * scull_qset, scull_bugs.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/init.h>
#include <linux/kernel.h>	/* printk(), container_of() */
#include <linux/slab.h>		/* kmalloc() */
#include <linux/fs.h>		/* everything... */
#include <linux/errno.h>	/* error codes */
#include <linux/types.h>	/* size_t */
#include <linux/fcntl.h>	/* O_ACCMODE */
#include <linux/cdev.h>
#include <linux/semaphore.h>
#include <linux/spinlock.h>
#include <linux/capability.h>
#include <linux/uaccess.h>	/* copy_*_user */

#include "scull.h"		/* local definitions */

/* Parameters which can be set at load time. */
int scull_major = SCULL_MAJOR;
int scull_minor;
int scull_nr_devs = SCULL_NR_DEVS;	/* number of bare scull devices */
int scull_quantum = SCULL_QUANTUM;
int scull_qset = SCULL_QSET;
unsigned int scull_bugs;		/* SCULL_BUG_* bits */

module_param(scull_major, int, S_IRUGO);
module_param(scull_minor, int, S_IRUGO);
module_param(scull_nr_devs, int, S_IRUGO);
module_param(scull_quantum, int, S_IRUGO);
module_param(scull_qset, int, S_IRUGO);
module_param(scull_bugs, uint, S_IRUGO);
MODULE_PARM_DESC(scull_bugs, "seeded bugs, SCULL_BUG_* bits (docs/DRIVERS.md)");

MODULE_AUTHOR("kmc");
MODULE_LICENSE("Dual BSD/GPL");

struct scull_dev *scull_devices;	/* allocated in scull_init_module */

/*
 * Empty out the scull device; must be called with the device semaphore
 * held (or with no user left, as at module exit).
 */
int scull_trim(struct scull_dev *dev)
{
	struct scull_qset *next, *dptr;
	int qset = dev->qset;	/* "dev" is not-null */
	int i;

	for (dptr = dev->data; dptr; dptr = next) {	/* all the list items */
		if (dptr->data) {
			for (i = 0; i < qset; i++)
				kfree(dptr->data[i]);
			kfree(dptr->data);
			dptr->data = NULL;
		}
		next = dptr->next;
		kfree(dptr);
	}
	dev->size = 0;
	dev->quantum = scull_quantum;
	dev->qset = scull_qset;
	dev->data = NULL;
	return 0;
}

/* Open and close */

int scull_open(struct inode *inode, struct file *filp)
{
	struct scull_dev *dev;	/* device information */

	dev = container_of(inode->i_cdev, struct scull_dev, cdev);
	filp->private_data = dev;	/* for other methods */

	/* a write-only open truncates the device to length 0 */
	if ((filp->f_flags & O_ACCMODE) == O_WRONLY) {
		if (scull_bugs & SCULL_BUG_UNLOCKED_TRIM) {
			scull_trim(dev);	/* BUG B4: no device lock */
			return 0;
		}
		if (scull_bugs & SCULL_BUG_SPINLOCK) {
			spin_lock(&dev->lock);	/* BUG PB8: a spinlock */
			scull_trim(dev);
			spin_unlock(&dev->lock);
			return 0;
		}
		if (down_interruptible(&dev->sem))
			return -ERESTARTSYS;
		scull_trim(dev);	/* ignore errors */
		up(&dev->sem);
	}
	return 0;		/* success */
}

int scull_release(struct inode *inode, struct file *filp)
{
	return 0;
}

/* Follow the list, allocating the missing nodes on the way. */
static struct scull_qset *scull_follow(struct scull_dev *dev, int n)
{
	struct scull_qset *qs = dev->data;

	/* Allocate first qset explicitly if need be */
	if (!qs) {
		qs = dev->data = kmalloc(sizeof(struct scull_qset), GFP_KERNEL);
		if (qs == NULL)
			return NULL;	/* Never mind */
		memset(qs, 0, sizeof(struct scull_qset));
	}

	/* Then follow the list */
	while (n--) {
		if (!qs->next) {
			qs->next = kmalloc(sizeof(struct scull_qset), GFP_KERNEL);
			if (qs->next == NULL)
				return NULL;	/* Never mind */
			memset(qs->next, 0, sizeof(struct scull_qset));
		}
		qs = qs->next;
		continue;
	}
	return qs;
}

/* Take and release the device lock: dev->sem, or dev->lock for PB8. */
static int scull_lock(struct scull_dev *dev)
{
	if (scull_bugs & SCULL_BUG_SPINLOCK) {
		spin_lock(&dev->lock);	/* BUG PB8: held across sleeps */
		return 0;
	}
	return down_interruptible(&dev->sem);
}

static void scull_unlock(struct scull_dev *dev)
{
	if (scull_bugs & SCULL_BUG_SPINLOCK)
		spin_unlock(&dev->lock);
	else
		up(&dev->sem);
}

/* Data management: read and write */

ssize_t scull_read(struct file *filp, char __user *buf, size_t count,
		   loff_t *f_pos)
{
	struct scull_dev *dev = filp->private_data;
	struct scull_qset *dptr;	/* the first listitem */
	int quantum = 0, qset = 0;
	int itemsize;		/* how many bytes in the listitem */
	int item, s_pos, q_pos, rest;
	ssize_t retval = 0;

	if (scull_bugs & SCULL_BUG_SNAPSHOT_BEFORE_LOCK) {
		quantum = dev->quantum;	/* BUG B5 (LDD3's code): no lock yet */
		qset = dev->qset;
	}
	if (scull_lock(dev))
		return -ERESTARTSYS;
	if (!(scull_bugs & SCULL_BUG_SNAPSHOT_BEFORE_LOCK)) {
		quantum = dev->quantum;
		qset = dev->qset;
	}
	itemsize = quantum * qset;

	if (*f_pos >= dev->size)
		goto out;
	if (*f_pos + count > dev->size)
		count = dev->size - *f_pos;

	/* find listitem, qset index, and offset in the quantum */
	item = (long)*f_pos / itemsize;
	rest = (long)*f_pos % itemsize;
	s_pos = rest / quantum;
	q_pos = rest % quantum;

	/* follow the list up to the right position (defined elsewhere) */
	dptr = scull_follow(dev, item);

	if (dptr == NULL || !dptr->data || !dptr->data[s_pos])
		goto out;	/* don't fill holes */

	/* read only up to the end of this quantum */
	if (count > quantum - q_pos)
		count = quantum - q_pos;

	if (copy_to_user(buf, dptr->data[s_pos] + q_pos, count)) {
		retval = -EFAULT;
		goto out;
	}
	*f_pos += count;
	retval = count;

out:
	scull_unlock(dev);
	return retval;
}

ssize_t scull_write(struct file *filp, const char __user *buf, size_t count,
		    loff_t *f_pos)
{
	struct scull_dev *dev = filp->private_data;
	struct scull_qset *dptr;
	int quantum = 0, qset = 0;
	int itemsize;
	int item, s_pos, q_pos, rest;
	ssize_t retval = -ENOMEM;	/* value used in "goto out" statements */

	if (scull_bugs & SCULL_BUG_SNAPSHOT_BEFORE_LOCK) {
		quantum = dev->quantum;	/* BUG B5 (LDD3's code): no lock yet */
		qset = dev->qset;
	}
	if (scull_bugs & SCULL_BUG_UNLOCKED_WRITE)
		;	/* BUG B1: the check-then-allocate below runs unlocked */
	else if (scull_lock(dev))
		return -ERESTARTSYS;
	if (!(scull_bugs & SCULL_BUG_SNAPSHOT_BEFORE_LOCK)) {
		quantum = dev->quantum;
		qset = dev->qset;
	}
	itemsize = quantum * qset;

	/* find listitem, qset index and offset in the quantum */
	item = (long)*f_pos / itemsize;
	rest = (long)*f_pos % itemsize;
	s_pos = rest / quantum;
	q_pos = rest % quantum;

	/* follow the list up to the right position */
	dptr = scull_follow(dev, item);
	if (dptr == NULL)
		goto out;
	if (!dptr->data) {
		dptr->data = kmalloc(qset * sizeof(char *), GFP_KERNEL);
		/* BUG B10: a failed allocation goes unnoticed */
		if (!(scull_bugs & SCULL_BUG_UNCHECKED_KMALLOC) && !dptr->data)
			goto out;
		memset(dptr->data, 0, qset * sizeof(char *));
	}
	if (!dptr->data[s_pos]) {
		dptr->data[s_pos] = kmalloc(quantum, GFP_KERNEL);
		if (!dptr->data[s_pos])
			goto out;
	}
	/* write only up to the end of this quantum */
	if (count > quantum - q_pos)
		count = quantum - q_pos;

	if (copy_from_user(dptr->data[s_pos] + q_pos, buf, count)) {
		retval = -EFAULT;
		if (scull_bugs & SCULL_BUG_MISSING_UP_ON_FAULT)
			return retval;	/* BUG B2: dev->sem stays held */
		if (scull_bugs & SCULL_BUG_DOUBLE_UP)
			up(&dev->sem);	/* BUG B3: and again at out: */
		goto out;
	}
	*f_pos += count;
	retval = count;

	/* update the size */
	if (dev->size < *f_pos)
		dev->size = *f_pos;

out:
	if (!(scull_bugs & SCULL_BUG_UNLOCKED_WRITE))	/* BUG B1: no unlock */
		scull_unlock(dev);
	return retval;
}

/* The ioctl() implementation */

long scull_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	int err = 0, tmp;
	int retval = 0;

	/*
	 * Check the type and number bitfields first, and answer -ENOTTY
	 * (inappropriate ioctl) for wrong commands before access_ok().
	 */
	if (_IOC_TYPE(cmd) != SCULL_IOC_MAGIC)
		return -ENOTTY;
	if (_IOC_NR(cmd) > SCULL_IOC_MAXNR)
		return -ENOTTY;

	/*
	 * The direction is user-oriented (_IOC_READ: the user reads, so the
	 * kernel writes), access_ok() only checks the range either way.
	 */
	if (_IOC_DIR(cmd) & _IOC_READ)
		err = !access_ok((void __user *)arg, _IOC_SIZE(cmd));
	else if (_IOC_DIR(cmd) & _IOC_WRITE)
		err = !access_ok((void __user *)arg, _IOC_SIZE(cmd));
	if (err)
		return -EFAULT;

	switch (cmd) {

	case SCULL_IOCRESET:
		scull_quantum = SCULL_QUANTUM;
		scull_qset = SCULL_QSET;
		break;

	case SCULL_IOCSQUANTUM: /* Set: arg points to the value */
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		retval = __get_user(scull_quantum, (int __user *)arg);
		break;

	case SCULL_IOCTQUANTUM: /* Tell: arg is the value */
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		scull_quantum = arg;
		break;

	case SCULL_IOCGQUANTUM: /* Get: arg is pointer to result */
		retval = __put_user(scull_quantum, (int __user *)arg);
		break;

	case SCULL_IOCQQUANTUM: /* Query: return it (it's positive) */
		return scull_quantum;

	case SCULL_IOCXQUANTUM: /* eXchange: use arg as pointer */
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		tmp = scull_quantum;
		retval = __get_user(scull_quantum, (int __user *)arg);
		if (retval == 0)
			retval = __put_user(tmp, (int __user *)arg);
		break;

	case SCULL_IOCHQUANTUM: /* sHift: like Tell + Query */
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		tmp = scull_quantum;
		scull_quantum = arg;
		return tmp;

	case SCULL_IOCSQSET:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		retval = __get_user(scull_qset, (int __user *)arg);
		break;

	case SCULL_IOCTQSET:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		scull_qset = arg;
		break;

	case SCULL_IOCGQSET:
		retval = __put_user(scull_qset, (int __user *)arg);
		break;

	case SCULL_IOCQQSET:
		return scull_qset;

	case SCULL_IOCXQSET:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		tmp = scull_qset;
		retval = __get_user(scull_qset, (int __user *)arg);
		if (retval == 0)
			retval = put_user(tmp, (int __user *)arg);
		break;

	case SCULL_IOCHQSET:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		tmp = scull_qset;
		scull_qset = arg;
		return tmp;

	/*
	 * The pipe devices (pipe.c) share this method: the size of the
	 * buffer the next open allocates.
	 */
	case SCULL_P_IOCTSIZE:
		scull_p_buffer = arg;
		break;

	case SCULL_P_IOCQSIZE:
		return scull_p_buffer;

	default:  /* redundant, as cmd was checked against MAXNR */
		return -ENOTTY;
	}
	return retval;
}

/* The "extended" operations -- only seek */

loff_t scull_llseek(struct file *filp, loff_t off, int whence)
{
	struct scull_dev *dev = filp->private_data;
	loff_t newpos;

	switch (whence) {
	case 0: /* SEEK_SET */
		newpos = off;
		break;

	case 1: /* SEEK_CUR */
		newpos = filp->f_pos + off;
		break;

	case 2: /* SEEK_END: reads dev->size without the lock (B8) */
		newpos = dev->size + off;
		break;

	default: /* can't happen */
		return -EINVAL;
	}
	if (newpos < 0)
		return -EINVAL;
	filp->f_pos = newpos;
	return newpos;
}

static const struct file_operations scull_fops = {
	.owner =		THIS_MODULE,
	.llseek =		scull_llseek,
	.read =			scull_read,
	.write =		scull_write,
	.unlocked_ioctl =	scull_ioctl,
	.open =			scull_open,
	.release =		scull_release,
};

/* Finally, the module stuff */

/*
 * The cleanup function is used to handle initialization failures as well,
 * so it copes with items that were never set up.
 */
static void scull_cleanup_module(void)
{
	int i;
	dev_t devno = MKDEV(scull_major, scull_minor);

	/* Get rid of our char dev entries */
	if (scull_devices) {
		for (i = 0; i < scull_nr_devs; i++) {
			scull_trim(scull_devices + i);	/* no users: no lock */
			cdev_del(&scull_devices[i].cdev);
		}
		kfree(scull_devices);
		scull_devices = NULL;
	}

	/* cleanup_module is never called if registering failed */
	unregister_chrdev_region(devno, scull_nr_devs);

	/* and call the cleanup functions for friend devices */
	scull_p_cleanup();
	scull_access_cleanup();
	scull_priv_rcu_cleanup();
}

/* Set up the char_dev structure for this device. */
static void scull_setup_cdev(struct scull_dev *dev, int index)
{
	int err, devno = MKDEV(scull_major, scull_minor + index);

	cdev_init(&dev->cdev, &scull_fops);
	dev->cdev.owner = THIS_MODULE;
	err = cdev_add(&dev->cdev, devno, 1);
	/* Fail gracefully if need be */
	if (err)
		printk(KERN_NOTICE "Error %d adding scull%d", err, index);
}

static int __init scull_init_module(void)
{
	int result, i;
	dev_t devno = 0;

	/*
	 * Get a range of minor numbers to work with, asking for a dynamic
	 * major unless directed otherwise at load time.
	 */
	if (scull_major) {
		devno = MKDEV(scull_major, scull_minor);
		result = register_chrdev_region(devno, scull_nr_devs, "scull");
	} else {
		result = alloc_chrdev_region(&devno, scull_minor, scull_nr_devs,
					     "scull");
		scull_major = MAJOR(devno);
	}
	if (result < 0) {
		printk(KERN_WARNING "scull: can't get major %d\n", scull_major);
		return result;
	}

	/*
	 * allocate the devices -- we can't have them static, as the number
	 * can be specified at load time
	 */
	scull_devices = kmalloc(scull_nr_devs * sizeof(struct scull_dev),
				GFP_KERNEL);
	if (!scull_devices) {
		result = -ENOMEM;
		goto fail;	/* Make this more graceful */
	}
	memset(scull_devices, 0, scull_nr_devs * sizeof(struct scull_dev));

	/* Initialize each device. */
	for (i = 0; i < scull_nr_devs; i++) {
		struct scull_dev *dev = &scull_devices[i];

		dev->quantum = scull_quantum;
		dev->qset = scull_qset;
		sema_init(&dev->sem, 1);
		spin_lock_init(&dev->lock);
		scull_setup_cdev(dev, i);
	}

	/* The pipes and the access devices follow the bare ones. */
	devno = MKDEV(scull_major, scull_minor + scull_nr_devs);
	devno += scull_p_init(devno);
	devno += scull_access_init(devno);
	devno += scull_priv_rcu_init(devno);

	return 0;	/* succeed */

fail:
	scull_cleanup_module();
	return result;
}

module_init(scull_init_module);
module_exit(scull_cleanup_module);
