// SPDX-License-Identifier: GPL-2.0
/*
 * asgn1: a virtual RAM disk on a list of pages (COSC440 assignment 1).
 *
 * Read it next to the course skeleton asgn1.c: the functions, their order
 * and the "COMPLETE ME" steps follow it, completed as docs/DRIVERS.md
 * (asgn1 behaviour) describes. The skeleton has no lock; this driver adds
 * the corrected locking of docs/DRIVERS.md (asgn1 locking rules):
 *   - one sleeping lock, dev->lock, held across the list walks, page
 *     allocation, the num_pages/data_size updates, the free on a write-only
 *     open, mmap's walk and remap_pfn_range(), and lseek's read of num_pages;
 *   - admission with atomic_inc_return(&nprocs), undone on -EBUSY;
 *   - num_pages and data_size published to the lockless /proc reader
 *     through a seqlock (dev->stats_lock), so it never sees a torn pair;
 *   - live user mappings counted (vm_ops open/close): a write-only open
 *     refuses (-EBUSY) to free pages that are still mapped, because
 *     remap_pfn_range() takes no page reference.
 *
 * Parameters: bugs (the A1_BUG_* bits of asgn1.h; 0: the corrected
 * driver). Each seeded bug is an `if (bugs & A1_BUG_...)` marked
 * `BUG A1-Bn` below. max_nprocs starts at 1; the TEM_SET_NPROC ioctl sets it.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/cdev.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "asgn1.h"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("COSC440 asgn1: a RAM disk on a page list");

static int asgn1_major;			/* 0: dynamic */
static int asgn1_minor;
static int asgn1_dev_count = 1;
static unsigned int bugs;		/* A1_BUG_* bits, asgn1.h */
module_param(bugs, uint, 0444);
MODULE_PARM_DESC(bugs, "seeded bugs (A1_BUG_* bits of asgn1.h); 0: corrected driver");

struct asgn1_dev_t asgn1_device;

/*
 * num_pages and data_size change only here, inside a seqlock write section,
 * with dev->lock held: a /proc reader sees both values of one update.
 */
static void set_stats(struct asgn1_dev_t *dev, int num_pages, size_t data_size)
{
	write_seqlock(&dev->stats_lock);
	dev->num_pages = num_pages;
	dev->data_size = data_size;
	write_sequnlock(&dev->stats_lock);
}

/* This function frees all memory pages held by the module. */
static void free_memory_pages(struct asgn1_dev_t *dev)
{
	page_node *curr, *tmp;

	/*
	 * Loop through the entire page list: free the page of each node,
	 * unlink the node, free it; then reset data_size and num_pages.
	 */
	list_for_each_entry_safe(curr, tmp, &dev->mem_list, list) {
		if (bugs & A1_BUG_KFREE_PAGE_FIELD)
			kfree(&curr->page); /* BUG A1-B12: an address inside the node */
		else if (curr->page)
			__free_page(curr->page);
		list_del(&curr->list);
		kfree(curr);
	}
	set_stats(dev, 0, 0);
}

/*
 * This function opens the virtual disk; if it is opened in the write-only
 * mode, all memory pages are freed.
 */
static int asgn1_open(struct inode *inode, struct file *filp)
{
	struct asgn1_dev_t *dev = container_of(inode->i_cdev, struct asgn1_dev_t, cdev);

	/* Increment the process count; beyond max_nprocs, return -EBUSY. */
	if (bugs & A1_BUG_CHECK_THEN_INCREMENT) {
		/* BUG A1-B1: the check and the increment are two steps */
		if (atomic_read(&dev->nprocs) >= atomic_read(&dev->max_nprocs))
			return -EBUSY;
		atomic_inc(&dev->nprocs);
	} else if (atomic_inc_return(&dev->nprocs) > atomic_read(&dev->max_nprocs)) {
		if (!(bugs & A1_BUG_NO_UNDO_ON_EBUSY))
			atomic_dec(&dev->nprocs);
		/* else BUG A1-B2: the refused opener's increment stays */
		return -EBUSY;
	}

	/* If opened in write-only mode, free all memory pages. */
	if ((filp->f_flags & O_ACCMODE) == O_WRONLY) {
		if (bugs & A1_BUG_UNLOCKED_FREE) {
			free_memory_pages(dev); /* BUG A1-B5: without the lock */
		} else {
			if (mutex_lock_interruptible(&dev->lock)) {
				atomic_dec(&dev->nprocs);
				return -ERESTARTSYS;
			}
			if (dev->nmaps > 0 && !(bugs & A1_BUG_FREE_WHILE_MAPPED)) {
				/*
				 * Mapped into user space: freeing the pages
				 * would leave a dangling mapping.
				 */
				mutex_unlock(&dev->lock);
				atomic_dec(&dev->nprocs);
				return -EBUSY;
			} /* else BUG A1-B6: frees pages that are still mapped */
			free_memory_pages(dev);
			mutex_unlock(&dev->lock);
		}
	}
	filp->private_data = dev;
	return 0;
}

/* This function releases the virtual disk: decrement the process count. */
static int asgn1_release(struct inode *inode, struct file *filp)
{
	struct asgn1_dev_t *dev = filp->private_data;

	atomic_dec(&dev->nprocs);
	return 0;
}

/* This function reads contents of the virtual disk and writes to the user. */
static ssize_t asgn1_read(struct file *filp, char __user *buf, size_t count,
			  loff_t *f_pos)
{
	struct asgn1_dev_t *dev = filp->private_data;
	size_t size_read = 0;		/* size read from the disk in this call */
	size_t begin_offset;		/* where to start reading in a page */
	long begin_page_no = *f_pos / PAGE_SIZE; /* the first page to read */
	long curr_page_no = 0;		/* the current page number */
	size_t curr_size_read;		/* size read in this round */
	size_t size_to_be_read;		/* size to read in this round */
	size_t size_not_read;		/* what copy_to_user() left */
	bool fault = false;
	page_node *curr;

	/*
	 * Check f_pos: at or past data_size, return 0. Walk the list to the
	 * first requested page, then copy page by page with copy_to_user(),
	 * calling it again for whatever a short copy left (a do-while loop),
	 * and stop when a call makes no progress. At the end of the data,
	 * return what was copied so far.
	 */
	if (mutex_lock_interruptible(&dev->lock))
		return -ERESTARTSYS;
	if (*f_pos >= dev->data_size)
		goto out;
	if (count > dev->data_size - *f_pos)
		count = dev->data_size - *f_pos;

	list_for_each_entry(curr, &dev->mem_list, list) {
		if (curr_page_no < begin_page_no) {
			curr_page_no++;
			continue;
		}
		begin_offset = (*f_pos + size_read) % PAGE_SIZE;
		size_to_be_read = min_t(size_t, PAGE_SIZE - begin_offset, count - size_read);
		do {
			size_not_read = copy_to_user(buf + size_read,
						     page_address(curr->page) + begin_offset,
						     size_to_be_read);
			curr_size_read = size_to_be_read - size_not_read;
			size_read += curr_size_read;
			begin_offset += curr_size_read;
			size_to_be_read = size_not_read;
			if (curr_size_read == 0 && size_not_read > 0) {
				fault = true; /* no progress: give up (A1-B10) */
				goto out;
			}
		} while (size_to_be_read > 0);
		curr_page_no++;
		if (size_read == count)
			break;
	}

out:
	*f_pos += size_read;
	mutex_unlock(&dev->lock);
	if (fault && size_read == 0)
		return -EFAULT;
	return size_read;
}

/* This function writes from the user buffer to the virtual disk. */
static ssize_t asgn1_write(struct file *filp, const char __user *buf,
			   size_t count, loff_t *f_pos)
{
	struct asgn1_dev_t *dev = filp->private_data;
	size_t orig_f_pos = *f_pos;	/* the original file position */
	size_t size_written = 0;	/* size written in this call */
	size_t begin_offset;		/* where to start writing in a page */
	long begin_page_no = *f_pos / PAGE_SIZE; /* the first page to write */
	long curr_page_no = 0;		/* the current page number */
	size_t curr_size_written;	/* size written in this round */
	size_t size_to_be_written;	/* size to write in this round */
	size_t size_not_written;	/* what copy_from_user() left */
	ssize_t retval = 0;		/* the error when nothing was written */
	struct list_head *ptr;
	page_node *curr;

	/*
	 * Walk the list to the first page, adding nodes and pages as needed;
	 * then write page by page, calling copy_from_user() again for what a
	 * short copy left (a do-while loop).
	 */
	if (bugs & A1_BUG_UNLOCKED_WRITE) {
		/* BUG A1-B8: no lock: two appenders both find the list's end */
	} else if (mutex_lock_interruptible(&dev->lock)) {
		return -ERESTARTSYS;
	}

	ptr = dev->mem_list.next;
	while (size_written < count) {
		if (ptr == &dev->mem_list) {
			/* not enough pages: add one */
			curr = kmalloc(sizeof(page_node), GFP_KERNEL);
			if (!curr) {
				retval = -ENOMEM;
				break;
			}
			curr->page = alloc_page(GFP_KERNEL);
			if (!curr->page) {
				if (!(bugs & A1_BUG_NODE_LEAK))
					kfree(curr);
				/* else BUG A1-B11: the node leaks */
				retval = -ENOMEM;
				break;
			}
			list_add_tail(&curr->list, &dev->mem_list);
			set_stats(dev, dev->num_pages + 1, dev->data_size);
			ptr = dev->mem_list.prev;
		}
		if (curr_page_no < begin_page_no) { /* skip to the first page */
			ptr = ptr->next;
			curr_page_no++;
			continue;
		}
		curr = list_entry(ptr, page_node, list);
		begin_offset = (orig_f_pos + size_written) % PAGE_SIZE;
		size_to_be_written = min_t(size_t, PAGE_SIZE - begin_offset,
					   count - size_written);
		do {
			size_not_written = copy_from_user(page_address(curr->page) + begin_offset,
							  buf + size_written,
							  size_to_be_written);
			curr_size_written = size_to_be_written - size_not_written;
			size_written += curr_size_written;
			begin_offset += curr_size_written;
			size_to_be_written = size_not_written;
			if (curr_size_written == 0 && size_not_written > 0) {
				retval = -EFAULT; /* no progress: stop (A1-B10) */
				goto done;
			}
		} while (size_to_be_written > 0);
		curr_page_no++;
		ptr = ptr->next;
	}

done:
	if (size_written > 0) {
		*f_pos = orig_f_pos + size_written;
		set_stats(dev, dev->num_pages,
			  max_t(size_t, dev->data_size, *f_pos));
	}
	if (!(bugs & A1_BUG_UNLOCKED_WRITE))
		mutex_unlock(&dev->lock);
	return size_written > 0 ? (ssize_t)size_written : retval;
}

/*
 * Seek: SEEK_SET, SEEK_CUR or SEEK_END, clamped to the buffer size
 * num_pages * PAGE_SIZE (as in the skeleton).
 */
static loff_t asgn1_lseek(struct file *file, loff_t offset, int cmd)
{
	struct asgn1_dev_t *dev = file->private_data;
	loff_t testpos;
	loff_t buffer_size;

	if (mutex_lock_interruptible(&dev->lock))
		return -ERESTARTSYS;
	buffer_size = (loff_t)dev->num_pages * PAGE_SIZE;

	switch (cmd) {
	case SEEK_SET:
		testpos = offset;
		break;
	case SEEK_CUR:
		testpos = file->f_pos + offset;
		break;
	case SEEK_END:
		testpos = buffer_size + offset;
		break;
	default:
		mutex_unlock(&dev->lock);
		return -EINVAL;
	}
	if (testpos > buffer_size)
		testpos = buffer_size;
	if (testpos < 0)
		testpos = 0;
	file->f_pos = testpos;
	mutex_unlock(&dev->lock);
	return testpos;
}

/*
 * The ioctl function, which sets the maximum number of processes that can
 * access the device. Only the type and the number of cmd are compared.
 */
static long asgn1_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct asgn1_dev_t *dev = filp->private_data;
	int nr;
	int new_nprocs;
	int result;

	if (_IOC_TYPE(cmd) != MYIOC_TYPE)
		return -EINVAL;
	nr = _IOC_NR(cmd);
	switch (nr) {
	case SET_NPROC_OP:
		result = get_user(new_nprocs, (int __user *)arg);
		if (result)
			return -EFAULT;
		if (new_nprocs < 1)
			return -EINVAL;
		atomic_set(&dev->max_nprocs, new_nprocs);
		return 0;
	}
	return -ENOTTY;
}

/* vm_ops: count the live user mappings of the pages (the A1-B6 fix). */
static void asgn1_vma_open(struct vm_area_struct *vma)
{
	struct asgn1_dev_t *dev = vma->vm_private_data;

	mutex_lock(&dev->lock);
	dev->nmaps++;
	mutex_unlock(&dev->lock);
}

static void asgn1_vma_close(struct vm_area_struct *vma)
{
	struct asgn1_dev_t *dev = vma->vm_private_data;

	mutex_lock(&dev->lock);
	dev->nmaps--;
	mutex_unlock(&dev->lock);
}

static const struct vm_operations_struct asgn1_vm_ops = {
	.open = asgn1_vma_open,
	.close = asgn1_vma_close,
};

/*
 * Maps the RAM disk into user space, page by page: the pages are not
 * contiguous, so each gets its own remap_pfn_range().
 */
static int asgn1_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct asgn1_dev_t *dev = filp->private_data;
	unsigned long pfn;
	unsigned long offset = vma->vm_pgoff << PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long ramdisk_size;
	unsigned long index = 0;
	page_node *curr;

	/*
	 * Check offset and len; walk the page list and map each requested
	 * page with remap_pfn_range().
	 */
	if (mutex_lock_interruptible(&dev->lock))
		return -ERESTARTSYS;
	ramdisk_size = (unsigned long)dev->num_pages * PAGE_SIZE;
	if (offset + len > ramdisk_size) {
		mutex_unlock(&dev->lock);
		return -EINVAL;
	}
	list_for_each_entry(curr, &dev->mem_list, list) {
		if (index >= vma->vm_pgoff && index < vma->vm_pgoff + len / PAGE_SIZE) {
			pfn = page_to_pfn(curr->page);
			if (remap_pfn_range(vma, vma->vm_start + (index - vma->vm_pgoff) * PAGE_SIZE,
					    pfn, PAGE_SIZE, vma->vm_page_prot)) {
				mutex_unlock(&dev->lock);
				return -EAGAIN;
			}
		}
		index++;
	}
	vma->vm_ops = &asgn1_vm_ops;
	vma->vm_private_data = dev;
	dev->nmaps++;	/* vm_ops->open is not called for the first mapping */
	mutex_unlock(&dev->lock);
	return 0;
}

/*
 * /proc/asgn1: the statistics and the process counts, without the device
 * lock. The num_pages/data_size pair is read in a seqlock read section,
 * retried until no update overlapped it.
 */
static int asgn1_proc_show(struct seq_file *m, void *v)
{
	struct asgn1_dev_t *dev = &asgn1_device;
	unsigned int seq;
	int num_pages;
	size_t data_size;

	do {
		seq = read_seqbegin(&dev->stats_lock);
		num_pages = READ_ONCE(dev->num_pages);
		data_size = READ_ONCE(dev->data_size);
	} while (read_seqretry(&dev->stats_lock, seq));

	seq_printf(m, "num_pages = %d\ndata_size = %zu\nnprocs = %d\nmax_nprocs = %d\n",
		   num_pages, data_size, atomic_read(&dev->nprocs),
		   atomic_read(&dev->max_nprocs));
	return 0;
}

static int asgn1_proc_open(struct inode *inode, struct file *file)
{
	return single_open(file, asgn1_proc_show, NULL);
}

static const struct proc_ops asgn1_proc_ops = {
	.proc_open = asgn1_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static const struct file_operations asgn1_fops = {
	.owner = THIS_MODULE,
	.read = asgn1_read,
	.write = asgn1_write,
	.unlocked_ioctl = asgn1_ioctl,
	.open = asgn1_open,
	.mmap = asgn1_mmap,
	.release = asgn1_release,
	.llseek = asgn1_lseek,
};

/*
 * Initialise the module and create the master device. (The skeleton also
 * creates a class and a device node for udev; kmc's models open the device
 * by its number, so this driver leaves the node to mknod.)
 */
static int __init asgn1_init_module(void)
{
	struct asgn1_dev_t *dev = &asgn1_device;
	int result;

	atomic_set(&dev->nprocs, 0);
	atomic_set(&dev->max_nprocs, 1);

	if (asgn1_major) {
		dev->dev = MKDEV(asgn1_major, asgn1_minor);
		result = register_chrdev_region(dev->dev, asgn1_dev_count, MYDEV_NAME);
	} else {
		result = alloc_chrdev_region(&dev->dev, asgn1_minor, asgn1_dev_count,
					     MYDEV_NAME);
	}
	if (result < 0) {
		pr_warn("asgn1: can't get major number\n");
		return result;
	}
	asgn1_major = MAJOR(dev->dev);

	INIT_LIST_HEAD(&dev->mem_list);
	mutex_init(&dev->lock);
	seqlock_init(&dev->stats_lock);
	set_stats(dev, 0, 0);
	dev->nmaps = 0;

	cdev_init(&dev->cdev, &asgn1_fops);
	dev->cdev.owner = THIS_MODULE;
	result = cdev_add(&dev->cdev, dev->dev, asgn1_dev_count);
	if (result < 0) {
		pr_warn("asgn1: cdev_add failed\n");
		goto fail_cdev;
	}

	if (!proc_create(MYDEV_NAME, 0444, NULL, &asgn1_proc_ops)) {
		pr_warn("asgn1: can't create /proc/%s\n", MYDEV_NAME);
		result = -ENOMEM;
		goto fail_proc;
	}

	pr_info("asgn1: driver installed, major %d\n", asgn1_major);
	return 0;

	/* cleanup, in reverse order of allocation */
fail_proc:
	cdev_del(&dev->cdev);
fail_cdev:
	unregister_chrdev_region(dev->dev, asgn1_dev_count);
	return result;
}

/* Finalise the module: in reverse order of init; free all memory. */
static void __exit asgn1_exit_module(void)
{
	struct asgn1_dev_t *dev = &asgn1_device;

	remove_proc_entry(MYDEV_NAME, NULL);
	cdev_del(&dev->cdev);
	free_memory_pages(dev);
	unregister_chrdev_region(dev->dev, asgn1_dev_count);
	pr_info("asgn1: driver removed\n");
}

module_init(asgn1_init_module);
module_exit(asgn1_exit_module);
