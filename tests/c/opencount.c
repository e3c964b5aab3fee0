// SPDX-License-Identifier: GPL-2.0
/*
 * opencount: a test module that counts opens in a global and a static, to
 * prove that kmc restores a module's globals and statics to their load-time
 * image before every execution. ioctl(OPENCOUNT_GET) returns the count.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#define OPENCOUNT_GET 0x4f01

static int opens;			/* a global in .bss */
static int initial_marker = 42;		/* a global in .data */
static DEFINE_MUTEX(count_lock);
static struct cdev oc_cdev;
static dev_t oc_dev;

static int oc_open(struct inode *inode, struct file *filp)
{
	static int calls;		/* a function-local static */
	int r;

	mutex_lock(&count_lock);
	calls++;
	opens++;
	r = calls == opens ? 0 : -EIO;
	mutex_unlock(&count_lock);
	return r;
}

static int oc_release(struct inode *inode, struct file *filp)
{
	return 0;
}

static long oc_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	long n;

	if (cmd != OPENCOUNT_GET)
		return -ENOTTY;
	mutex_lock(&count_lock);
	n = opens;
	mutex_unlock(&count_lock);
	return n;
}

static const struct file_operations oc_fops = {
	.owner = THIS_MODULE,
	.open = oc_open,
	.release = oc_release,
	.unlocked_ioctl = oc_ioctl,
};

static int __init oc_init(void)
{
	int r;

	if (opens != 0 || initial_marker != 42)
		return -EINVAL;	/* state survived from an earlier execution */
	initial_marker = 0;
	r = alloc_chrdev_region(&oc_dev, 0, 1, "opencount");
	if (r < 0)
		return r;
	cdev_init(&oc_cdev, &oc_fops);
	return cdev_add(&oc_cdev, oc_dev, 1);
}

static void __exit oc_exit(void)
{
	cdev_del(&oc_cdev);
	unregister_chrdev_region(oc_dev, 1);
}

module_init(oc_init);
module_exit(oc_exit);
MODULE_LICENSE("GPL");
