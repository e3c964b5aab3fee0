// SPDX-License-Identifier: GPL-2.0
/*
 * scullsingle: a single-open memory device, written from the book's
 * description of the access-control devices (access.c): only one process at
 * a time may hold the device open; others get -EBUSY. The open file keeps a
 * small buffer that read and write share under a mutex.
 *
 * busy_flag=1 replaces the atomic counter with a plain flag tested and set
 * without a lock (the classic check-then-act race).
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/mutex.h>
#include <linux/atomic.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define SCULLSINGLE_SIZE 64

static int busy_flag;
module_param(busy_flag, int, 0444);

static atomic_t scull_s_available = ATOMIC_INIT(1);
static int scull_s_busy;		/* busy_flag=1: the plain flag */
static DEFINE_MUTEX(scull_s_mutex);
static char *scull_s_data;
static size_t scull_s_len;
static struct cdev scull_s_cdev;
static dev_t scull_s_dev;

static int scull_s_open(struct inode *inode, struct file *filp)
{
	if (busy_flag) {
		if (scull_s_busy)
			return -EBUSY;
		scull_s_busy = 1;
		return 0;
	}
	if (!atomic_dec_and_test(&scull_s_available)) {
		atomic_inc(&scull_s_available);
		return -EBUSY;	/* already open */
	}
	return 0;
}

static int scull_s_release(struct inode *inode, struct file *filp)
{
	if (busy_flag)
		scull_s_busy = 0;
	else
		atomic_inc(&scull_s_available);
	return 0;
}

static ssize_t scull_s_read(struct file *filp, char __user *buf, size_t count,
			    loff_t *f_pos)
{
	ssize_t ret = 0;

	if (mutex_lock_interruptible(&scull_s_mutex))
		return -ERESTARTSYS;
	if (*f_pos >= scull_s_len)
		goto out;
	if (count > scull_s_len - *f_pos)
		count = scull_s_len - *f_pos;
	if (copy_to_user(buf, scull_s_data + *f_pos, count)) {
		ret = -EFAULT;
		goto out;
	}
	*f_pos += count;
	ret = count;
out:
	mutex_unlock(&scull_s_mutex);
	return ret;
}

static ssize_t scull_s_write(struct file *filp, const char __user *buf,
			     size_t count, loff_t *f_pos)
{
	ssize_t ret = -ENOSPC;

	if (mutex_lock_interruptible(&scull_s_mutex))
		return -ERESTARTSYS;
	if (*f_pos >= SCULLSINGLE_SIZE)
		goto out;
	if (count > SCULLSINGLE_SIZE - *f_pos)
		count = SCULLSINGLE_SIZE - *f_pos;
	if (copy_from_user(scull_s_data + *f_pos, buf, count)) {
		ret = -EFAULT;
		goto out;
	}
	*f_pos += count;
	if (scull_s_len < *f_pos)
		scull_s_len = *f_pos;
	ret = count;
out:
	mutex_unlock(&scull_s_mutex);
	return ret;
}

static const struct file_operations scull_s_fops = {
	.owner = THIS_MODULE,
	.open = scull_s_open,
	.release = scull_s_release,
	.read = scull_s_read,
	.write = scull_s_write,
	.llseek = no_llseek,
};

static int __init scull_s_init(void)
{
	int r = alloc_chrdev_region(&scull_s_dev, 0, 1, "scullsingle");

	if (r < 0)
		return r;
	scull_s_data = kzalloc(SCULLSINGLE_SIZE, GFP_KERNEL);
	if (!scull_s_data) {
		unregister_chrdev_region(scull_s_dev, 1);
		return -ENOMEM;
	}
	cdev_init(&scull_s_cdev, &scull_s_fops);
	scull_s_cdev.owner = THIS_MODULE;
	r = cdev_add(&scull_s_cdev, scull_s_dev, 1);
	if (r < 0) {
		kfree(scull_s_data);
		unregister_chrdev_region(scull_s_dev, 1);
	}
	return r;
}

static void __exit scull_s_exit(void)
{
	cdev_del(&scull_s_cdev);
	kfree(scull_s_data);
	unregister_chrdev_region(scull_s_dev, 1);
}

module_init(scull_s_init);
module_exit(scull_s_exit);
MODULE_LICENSE("GPL");
