// asgn1: a virtual RAM disk on a page list (COSC440 assignment 1), over the
// kmc kernel API. Read it next to the skeleton asgn1.c (A1-SKEL): the
// functions, their order and the "COMPLETE ME" steps follow it, completed as
// docs/DRIVERS.md (asgn1 behaviour) describes, with the corrected locking of
// "asgn1 locking rules" there (see asgn1.h).
//
// Seeded bugs: every place where an A1_BUG_* bit changes the corrected logic
// is an `if (dev->bugs & A1_BUG_...)` marked with a `BUG A1-Bn` comment.
// Reads of fields the lock protects are written `.get()` so that a report
// names the exact line.

#include "drivers/asgn1/asgn1.h"

#include <cstdio>

namespace kmc::drivers::asgn1 {

namespace {

#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif

// num_pages and data_size change only here, inside a seqlock write section,
// with dev->lock held: a /proc reader sees both values of one update or
// retries (docs/DRIVERS.md, asgn1 locking rules: unprotected, they were torn).
void set_stats(struct asgn1_dev_t *dev, int num_pages, size_t data_size) {
  write_seqlock(&dev->stats_lock);
  dev->num_pages = num_pages;
  dev->data_size = data_size;
  write_sequnlock(&dev->stats_lock);
}

// vm_ops: count the live user mappings of the pages (the A1-B6 fix).
void asgn1_vma_open(struct vm_area_struct *vma) {
  struct asgn1_dev_t *dev = static_cast<struct asgn1_dev_t *>(vma->vm_private_data);
  mutex_lock(&dev->lock);
  dev->nmaps = dev->nmaps.get() + 1;
  mutex_unlock(&dev->lock);
}

void asgn1_vma_close(struct vm_area_struct *vma) {
  struct asgn1_dev_t *dev = static_cast<struct asgn1_dev_t *>(vma->vm_private_data);
  mutex_lock(&dev->lock);
  dev->nmaps = dev->nmaps.get() - 1;
  mutex_unlock(&dev->lock);
}

const struct vm_operations_struct asgn1_vm_ops = {asgn1_vma_open, asgn1_vma_close};

}  // namespace

// This function frees all memory pages held by the module.
void free_memory_pages(struct asgn1_dev_t *dev) {
  struct page_node *curr, *tmp;

  // COMPLETE ME
  // Loop through the entire page list {
  //   if (node has a page) { free the page }
  //   remove the node from the page list
  //   free the node
  // }
  // reset device data size, and num_pages
  list_for_each_entry_safe(curr, tmp, &dev->mem_list, list) {
    if (dev->bugs & A1_BUG_KFREE_PAGE_FIELD) {
      kfree(&curr->page);  // BUG A1-B12: frees an address inside the node, not the page
    } else if (curr->page.get() != nullptr) {
      __free_page(curr->page.get());
    }
    list_del(&curr->list);
    kfree(curr);
  }
  set_stats(dev, 0, 0);
}

// This function opens the virtual disk, if it is opened in the write-only
// mode, all memory pages will be freed.
int asgn1_open(struct inode *inode, struct file *filp) {
  struct asgn1_dev_t *dev = container_of(inode->i_cdev, struct asgn1_dev_t, cdev);

  // COMPLETE ME
  // Increment process count, if exceeds max_nprocs, return -EBUSY
  //
  // if opened in write-only mode, free all memory pages
  if (dev->bugs & A1_BUG_CHECK_THEN_INCREMENT) {
    // BUG A1-B1: the check and the increment are two separate steps.
    if (atomic_read(&dev->nprocs) >= atomic_read(&dev->max_nprocs)) return -EBUSY;
    atomic_inc(&dev->nprocs);
  } else if (atomic_inc_return(&dev->nprocs) > atomic_read(&dev->max_nprocs)) {
    if (!(dev->bugs & A1_BUG_NO_UNDO_ON_EBUSY)) {
      atomic_dec(&dev->nprocs);
    }  // else BUG A1-B2: the failed opener's increment is never undone
    return -EBUSY;
  }

  if ((filp->f_flags & O_ACCMODE) == O_WRONLY) {
    if (dev->bugs & A1_BUG_UNLOCKED_FREE) {
      free_memory_pages(dev);  // BUG A1-B5: frees the list without the lock
    } else {
      if (mutex_lock_interruptible(&dev->lock)) {
        atomic_dec(&dev->nprocs);
        return -ERESTARTSYS;
      }
      if (dev->nmaps.get() > 0 && !(dev->bugs & A1_BUG_FREE_WHILE_MAPPED)) {
        // The pages are mapped into user space: freeing them would leave a
        // dangling mapping (remap_pfn_range took no reference).
        mutex_unlock(&dev->lock);
        atomic_dec(&dev->nprocs);
        return -EBUSY;
      }  // else BUG A1-B6: frees pages that are still mapped
      free_memory_pages(dev);
      mutex_unlock(&dev->lock);
    }
  }
  filp->private_data = dev;
  return 0;  // success
}

// This function releases the virtual disk, but nothing needs to be done in
// this case.
int asgn1_release(struct inode *inode, struct file *filp) {
  (void)inode;
  struct asgn1_dev_t *dev = static_cast<struct asgn1_dev_t *>(filp->private_data);
  // COMPLETE ME
  // decrement process count
  atomic_dec(&dev->nprocs);
  return 0;
}

// This function reads contents of the virtual disk and writes to the user.
ssize_t asgn1_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos) {
  struct asgn1_dev_t *dev = static_cast<struct asgn1_dev_t *>(filp->private_data);
  size_t size_read = 0;        // size read from virtual disk in this function
  size_t begin_offset;         // the offset from the beginning of a page to start reading
  long begin_page_no = *f_pos / PAGE_SIZE;  // the first page which contains the requested data
  long curr_page_no = 0;       // the current page number
  size_t curr_size_read;       // size read from the virtual disk in this round
  size_t size_to_be_read;      // size to be read in the current round in while loop
  size_t size_not_read;        // what copy_to_user could not copy
  bool fault = false;
  struct page_node *curr;

  // COMPLETE ME
  // check f_pos, if beyond data_size, return 0
  //
  // Traverse the list, once the first requested page is reached,
  //   - use copy_to_user to copy the data to the user-space buf page by page
  //   - you also need to work out the start / end offset within a page
  //   - Also needs to handle the situation where copy_to_user copy less
  //       data than requested, and
  //       copy_to_user should be called again to copy the rest of the
  //       unprocessed data, and the second and subsequent calls still
  //       need to check whether copy_to_user copies all data requested.
  //       This is best done by a while / do-while loop.
  //
  // if end of data area of ramdisk reached before copying the requested
  //   return the size copied to the user space so far
  if (mutex_lock_interruptible(&dev->lock)) return -ERESTARTSYS;
  if (*f_pos >= static_cast<loff_t>(dev->data_size.get())) goto out;
  if (count > dev->data_size.get() - *f_pos) count = dev->data_size.get() - *f_pos;

  list_for_each_entry(curr, &dev->mem_list, list) {
    if (curr_page_no < begin_page_no) {
      curr_page_no++;
      continue;
    }
    begin_offset = (*f_pos + size_read) % PAGE_SIZE;
    size_to_be_read = min(PAGE_SIZE - begin_offset, count - size_read);
    do {
      size_not_read = copy_to_user(
          buf + size_read, static_cast<char *>(page_address(curr->page.get())) + begin_offset,
          size_to_be_read);
      curr_size_read = size_to_be_read - size_not_read;
      size_read += curr_size_read;
      begin_offset += curr_size_read;
      size_to_be_read = size_not_read;
      if (curr_size_read == 0 && size_not_read > 0) {
        fault = true;  // no progress: give up rather than retry forever (A1-B10)
        goto out;
      }
    } while (size_to_be_read > 0);
    curr_page_no++;
    if (size_read == count) break;
  }

out:
  *f_pos += size_read;
  mutex_unlock(&dev->lock);
  if (fault && size_read == 0) return -EFAULT;
  return size_read;
}

// This function writes from the user buffer to the virtual disk of this
// module.
ssize_t asgn1_write(struct file *filp, const char __user *buf, size_t count, loff_t *f_pos) {
  struct asgn1_dev_t *dev = static_cast<struct asgn1_dev_t *>(filp->private_data);
  size_t orig_f_pos = *f_pos;  // the original file position
  size_t size_written = 0;     // size written to virtual disk in this function
  size_t begin_offset;         // the offset from the beginning of a page to start writing
  long begin_page_no = *f_pos / PAGE_SIZE;  // the first page this function should start writing to
  long curr_page_no = 0;       // the current page number
  size_t curr_size_written;    // size written to virtual disk in this round
  size_t size_to_be_written;   // size to be read in the current round in while loop
  size_t size_not_written;     // what copy_from_user could not copy
  ssize_t retval = 0;          // the error when nothing was written
  struct list_head *ptr;
  struct page_node *curr;

  // COMPLETE ME
  // Traverse the list until the first page reached, and add nodes if necessary
  //
  // Then write the data page by page, remember to handle the situation
  //   when copy_from_user() writes less than the amount you requested.
  //   a while loop / do-while loop is recommended to handle this situation.
  if (dev->bugs & A1_BUG_UNLOCKED_WRITE) {
    // BUG A1-B8: no lock: two appenders both find the end of the list
  } else if (mutex_lock_interruptible(&dev->lock)) {
    return -ERESTARTSYS;
  }

  ptr = dev->mem_list.next.get();
  while (size_written < count) {
    if (ptr == &dev->mem_list) {
      // not enough page, so add page
      curr = kmalloc(sizeof(struct page_node), GFP_KERNEL);
      if (curr == nullptr) {
        retval = -ENOMEM;
        break;
      }
      curr->page = alloc_page(GFP_KERNEL);
      if (curr->page.get() == nullptr) {
        if (!(dev->bugs & A1_BUG_NODE_LEAK)) {
          kfree(curr);
        }  // else BUG A1-B11: the node leaks
        retval = -ENOMEM;
        break;
      }
      list_add_tail(&curr->list, &dev->mem_list);
      set_stats(dev, dev->num_pages.get() + 1, dev->data_size.get());
      ptr = dev->mem_list.prev.get();
    }
    if (curr_page_no < begin_page_no) {  // skip to the first page to write
      ptr = ptr->next.get();
      curr_page_no++;
      continue;
    }
    curr = list_entry(ptr, struct page_node, list);
    begin_offset = (orig_f_pos + size_written) % PAGE_SIZE;
    size_to_be_written = min(PAGE_SIZE - begin_offset, count - size_written);
    do {
      size_not_written = copy_from_user(
          static_cast<char *>(page_address(curr->page.get())) + begin_offset, buf + size_written,
          size_to_be_written);
      curr_size_written = size_to_be_written - size_not_written;
      size_written += curr_size_written;
      begin_offset += curr_size_written;
      size_to_be_written = size_not_written;
      if (curr_size_written == 0 && size_not_written > 0) {
        retval = -EFAULT;  // no progress: stop (A1-B10)
        goto done;
      }
    } while (size_to_be_written > 0);
    curr_page_no++;
    ptr = ptr->next.get();
  }

done:
  if (size_written > 0) {
    *f_pos = orig_f_pos + size_written;
    set_stats(dev, dev->num_pages.get(),
              max(dev->data_size.get(), static_cast<size_t>(*f_pos)));
  }
  if (!(dev->bugs & A1_BUG_UNLOCKED_WRITE)) mutex_unlock(&dev->lock);
  return size_written > 0 ? static_cast<ssize_t>(size_written) : retval;
}

// This function seeks: SEEK_SET, SEEK_CUR or SEEK_END, clamped to the buffer
// (num_pages * PAGE_SIZE, as in the skeleton).
loff_t asgn1_lseek(struct file *file, loff_t offset, int cmd) {
  struct asgn1_dev_t *dev = static_cast<struct asgn1_dev_t *>(file->private_data);
  loff_t testpos;
  loff_t buffer_size;

  if (mutex_lock_interruptible(&dev->lock)) return -ERESTARTSYS;
  buffer_size = static_cast<loff_t>(dev->num_pages.get()) * PAGE_SIZE;

  // COMPLETE ME
  // set testpos according to the command
  //
  // if testpos larger than buffer_size, set testpos to buffer_size
  //
  // if testpos smaller than 0, set testpos to 0
  //
  // set file->f_pos to testpos
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
  if (testpos > buffer_size) testpos = buffer_size;
  if (testpos < 0) testpos = 0;
  file->f_pos = testpos;
  mutex_unlock(&dev->lock);
  return testpos;
}

// The ioctl function, which is used to set the maximum number of processes
// that can access the device.
long asgn1_ioctl(struct file *filp, unsigned cmd, unsigned long arg) {
  struct asgn1_dev_t *dev = static_cast<struct asgn1_dev_t *>(filp->private_data);
  int nr;
  int new_nprocs;
  int result;

  // COMPLETE ME
  // check whether cmd is for our device, if not for us, return -EINVAL
  //
  // get command, and if command is SET_NPROC_OP, then get the data, and
  // set max_nprocs accordingly, don't forget to check validity of the
  // value before setting max_nprocs
  if (_IOC_TYPE(cmd) != MYIOC_TYPE) return -EINVAL;
  nr = _IOC_NR(cmd);
  switch (nr) {
    case SET_NPROC_OP:
      result = get_user(new_nprocs, reinterpret_cast<int __user *>(arg));
      if (result) return -EFAULT;
      if (new_nprocs < 1) return -EINVAL;
      atomic_set(&dev->max_nprocs, new_nprocs);
      return 0;
  }
  return -ENOTTY;
}

// Maps the ramdisk into user space, page by page: the pages are not
// contiguous, so each is mapped with its own remap_pfn_range() (SEED-000;
// docs/DRIVERS.md, Sources).
int asgn1_mmap(struct file *filp, struct vm_area_struct *vma) {
  struct asgn1_dev_t *dev = static_cast<struct asgn1_dev_t *>(filp->private_data);
  unsigned long pfn;
  unsigned long offset = vma->vm_pgoff << PAGE_SHIFT;
  unsigned long len = vma->vm_end - vma->vm_start;
  unsigned long ramdisk_size;
  unsigned long index = 0;
  struct page_node *curr;

  // COMPLETE ME
  // check offset and len
  //
  // loop through the entire page list, once the first requested page
  //   reached, add each page with remap_pfn_range one by one
  //   up to the last requested page
  if (mutex_lock_interruptible(&dev->lock)) return -ERESTARTSYS;
  ramdisk_size = static_cast<unsigned long>(dev->num_pages.get()) * PAGE_SIZE;
  if (offset + len > ramdisk_size) {
    mutex_unlock(&dev->lock);
    return -EINVAL;
  }
  list_for_each_entry(curr, &dev->mem_list, list) {
    if (index >= vma->vm_pgoff && index < vma->vm_pgoff + len / PAGE_SIZE) {
      pfn = page_to_pfn(curr->page.get());
      if (remap_pfn_range(vma, vma->vm_start + (index - vma->vm_pgoff) * PAGE_SIZE, pfn,
                          PAGE_SIZE, vma->vm_page_prot)) {
        mutex_unlock(&dev->lock);
        return -EAGAIN;
      }
    }
    index++;
  }
  vma->vm_ops = &asgn1_vm_ops;
  vma->vm_private_data = dev;
  dev->nmaps = dev->nmaps.get() + 1;  // vm_ops->open is not called for the first mapping
  mutex_unlock(&dev->lock);
  return 0;
}

// The statistics pair, read without the device lock: a seqlock read
// section, retried until no update overlapped it.
void asgn1_read_stats(struct asgn1_dev_t *dev, int *num_pages, size_t *data_size) {
  unsigned seq;

  do {
    seq = read_seqbegin(&dev->stats_lock);
    *num_pages = READ_ONCE(dev->num_pages);
    *data_size = READ_ONCE(dev->data_size);
  } while (read_seqretry(&dev->stats_lock, seq));
}

// /proc/asgn1 (read_proc): the statistics and the process counts.
int asgn1_read_procmem(struct asgn1_dev_t *dev, char *buf, size_t size) {
  int num_pages;
  size_t data_size;

  asgn1_read_stats(dev, &num_pages, &data_size);
  return std::snprintf(buf, size, "num_pages = %d\ndata_size = %zu\nnprocs = %d\nmax_nprocs = %d\n",
                       num_pages, data_size, atomic_read(&dev->nprocs),
                       atomic_read(&dev->max_nprocs));
}

// Initialise the module and create the master device.
int asgn1_init_module(struct asgn1_dev_t *dev, unsigned bugs, int max_nprocs) {
  // COMPLETE ME
  // set nprocs and max_nprocs of the device
  //
  // allocate major number
  // allocate cdev, and set ops and owner field
  // add cdev
  // initialize the page list
  // create proc entries
  // create class and device
  // (kmc: no chrdev region, cdev, proc entry, class or device to create:
  // the model calls the file operations directly, so nothing can fail.)
  dev->bugs = bugs;
  atomic_set(&dev->nprocs, 0);
  atomic_set(&dev->max_nprocs, max_nprocs);
  dev->dev = 0;  // MKDEV(asgn1_major = 0 (dynamic), asgn1_minor = 0)
  dev->cdev.dev = static_cast<unsigned>(dev->dev);
  INIT_LIST_HEAD(&dev->mem_list);
  mutex_init(&dev->lock);
  seqlock_init(&dev->stats_lock);
  // Marked stores: real initial stores the /proc reader may read.
  WRITE_ONCE(dev->num_pages, 0);
  WRITE_ONCE(dev->data_size, 0);
  dev->nmaps = 0;
  return 0;
}

// Finalise the module: free all memory (no process can hold the device).
void asgn1_exit_module(struct asgn1_dev_t *dev) { free_memory_pages(dev); }

}  // namespace kmc::drivers::asgn1
