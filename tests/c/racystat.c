// SPDX-License-Identifier: GPL-2.0
/*
 * racystat: a statistic updated under a mutex at every open and read by
 * ioctl(RACYSTAT_PEEK) without the lock, on purpose.
 *   bug=0: the read is annotated data_race(), as the kernel does;
 *   bug=1: the same read without the annotation (a data race).
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/mutex.h>
#include <linux/compiler.h>

#define RACYSTAT_PEEK 0x5201

static int bug;
module_param(bug, int, 0444);

static long opens;
static DEFINE_MUTEX(stat_lock);
static struct cdev rs_cdev;
static dev_t rs_dev;

static int rs_open(struct inode *inode, struct file *filp)
{
	mutex_lock(&stat_lock);
	opens++;
	mutex_unlock(&stat_lock);
	return 0;
}

static int rs_release(struct inode *inode, struct file *filp)
{
	return 0;
}

static long rs_peek(void)
{
	if (bug)
		return opens;		/* the bug: an unannotated racy read */
	return data_race(opens);	/* a statistic: racy on purpose */
}

static long rs_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	if (cmd != RACYSTAT_PEEK)
		return -ENOTTY;
	return rs_peek();
}

static const struct file_operations rs_fops = {
	.owner = THIS_MODULE,
	.open = rs_open,
	.release = rs_release,
	.unlocked_ioctl = rs_ioctl,
};

static int __init rs_init(void)
{
	int r = alloc_chrdev_region(&rs_dev, 0, 1, "racystat");

	if (r < 0)
		return r;
	cdev_init(&rs_cdev, &rs_fops);
	return cdev_add(&rs_cdev, rs_dev, 1);
}

static void __exit rs_exit(void)
{
	cdev_del(&rs_cdev);
	unregister_chrdev_region(rs_dev, 1);
}

module_init(rs_init);
module_exit(rs_exit);
MODULE_LICENSE("GPL");
