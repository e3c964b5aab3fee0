// SPDX-License-Identifier: GPL-2.0
/*
 * sleepy: the blocking-I/O demo device. A read sleeps until somebody writes;
 * a write wakes the sleeping readers. Written fresh for kmc after the
 * book's description of its "sleepy" example.
 *
 * The wake-up flag is reset by the woken reader without any lock, as in the
 * book. Two readers woken by one write can both see the flag set (and a
 * reader can reset the flag while a writer sets it): the accesses to `flag`
 * race. With fixed=1 the flag is tested and reset under a spinlock, so only
 * one reader consumes each write.
 *
 * Parameters: sleepy_major (0: dynamic), fixed (0: the book's code).
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

static int sleepy_major;
static int fixed;
module_param(sleepy_major, int, S_IRUGO);
module_param(fixed, int, S_IRUGO);
MODULE_PARM_DESC(fixed, "test and reset the wake-up flag under a lock");

static DECLARE_WAIT_QUEUE_HEAD(wq);
static DEFINE_SPINLOCK(flag_lock);
static int flag;
static struct cdev sleepy_cdev;
static dev_t sleepy_dev;

/* Consumes one wake-up; returns 1 when this reader got it. */
static int sleepy_take_flag(void)
{
	int got = 0;

	if (!fixed) {
		flag = 0;	/* the book's reset: no lock */
		return 1;
	}
	spin_lock(&flag_lock);
	if (flag) {
		flag = 0;
		got = 1;
	}
	spin_unlock(&flag_lock);
	return got;
}

static ssize_t sleepy_read(struct file *filp, char __user *buf, size_t count,
			   loff_t *pos)
{
	pr_debug("process %i (%s) going to sleep\n", current->pid, current->comm);
	do {
		if (wait_event_interruptible(wq, flag != 0))
			return -ERESTARTSYS;
	} while (!sleepy_take_flag());
	pr_debug("awoken %i (%s)\n", current->pid, current->comm);
	return 0;	/* EOF */
}

static ssize_t sleepy_write(struct file *filp, const char __user *buf,
			    size_t count, loff_t *pos)
{
	pr_debug("process %i (%s) awakening the readers...\n", current->pid,
		 current->comm);
	if (fixed) {
		spin_lock(&flag_lock);
		flag = 1;
		spin_unlock(&flag_lock);
	} else {
		flag = 1;
	}
	wake_up_interruptible(&wq);
	return count;	/* succeed, to avoid retrial */
}

static const struct file_operations sleepy_fops = {
	.owner = THIS_MODULE,
	.read = sleepy_read,
	.write = sleepy_write,
	.llseek = noop_llseek,
};

static int __init sleepy_init(void)
{
	int result;

	if (sleepy_major) {
		sleepy_dev = MKDEV(sleepy_major, 0);
		result = register_chrdev_region(sleepy_dev, 1, "sleepy");
	} else {
		result = alloc_chrdev_region(&sleepy_dev, 0, 1, "sleepy");
	}
	if (result < 0)
		return result;
	cdev_init(&sleepy_cdev, &sleepy_fops);
	sleepy_cdev.owner = THIS_MODULE;
	result = cdev_add(&sleepy_cdev, sleepy_dev, 1);
	if (result < 0) {
		unregister_chrdev_region(sleepy_dev, 1);
		return result;
	}
	return 0;
}

static void __exit sleepy_exit(void)
{
	cdev_del(&sleepy_cdev);
	unregister_chrdev_region(sleepy_dev, 1);
}

module_init(sleepy_init);
module_exit(sleepy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("readers sleep until a writer wakes them");
