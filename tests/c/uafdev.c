// SPDX-License-Identifier: GPL-2.0
/*
 * uafdev: a test module with memory bugs behind module parameters.
 *   bug=1: release frees the device buffer every open shares (use after
 *          free through the plain pointer dev->buf on the next read);
 *   bug=2: read indexes one byte past the kmalloc'd buffer (out of bounds).
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define UAF_SIZE 16

struct uaf_dev {
	char *buf;
	int size;
	struct cdev cdev;
};

static int bug;
module_param(bug, int, 0444);

static struct uaf_dev *dev;
static dev_t uaf_devno;

static int uaf_open(struct inode *inode, struct file *filp)
{
	filp->private_data = container_of(inode->i_cdev, struct uaf_dev, cdev);
	return 0;
}

static int uaf_release(struct inode *inode, struct file *filp)
{
	struct uaf_dev *d = filp->private_data;

	if (bug == 1)
		kfree(d->buf);	/* the bug: other opens still use it */
	return 0;
}

static ssize_t uaf_read(struct file *filp, char __user *ubuf, size_t count, loff_t *pos)
{
	struct uaf_dev *d = filp->private_data;
	char c = d->buf[bug == 2 ? d->size : 0];

	if (copy_to_user(ubuf, &c, 1))
		return -EFAULT;
	return 1;
}

static const struct file_operations uaf_fops = {
	.owner = THIS_MODULE,
	.open = uaf_open,
	.release = uaf_release,
	.read = uaf_read,
};

static int __init uaf_init(void)
{
	int r = alloc_chrdev_region(&uaf_devno, 0, 1, "uafdev");

	if (r < 0)
		return r;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->buf = kzalloc(UAF_SIZE, GFP_KERNEL);
	dev->size = UAF_SIZE;
	cdev_init(&dev->cdev, &uaf_fops);
	return cdev_add(&dev->cdev, uaf_devno, 1);
}

static void __exit uaf_exit(void)
{
	cdev_del(&dev->cdev);
	if (bug != 1)
		kfree(dev->buf);
	kfree(dev);
	unregister_chrdev_region(uaf_devno, 1);
}

module_init(uaf_init);
module_exit(uaf_exit);
MODULE_LICENSE("GPL");
