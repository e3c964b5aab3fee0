/* kmc: <linux/fs.h>: struct file, struct inode, struct file_operations,
 * character-device numbers. A model reaches a driver through its
 * file_operations (sync/vfs.h): open finds the cdev by dev_t and calls
 * fops->open(inode, file) as the VFS does. */
#ifndef _KMC_LINUX_FS_H
#define _KMC_LINUX_FS_H
#include <linux/types.h>
#include <linux/kdev_t.h>
#include <linux/fcntl.h>
#include <linux/wait.h>
#include <linux/errno.h>

#define FMODE_READ 0x1u
#define FMODE_WRITE 0x2u
#define FMODE_LSEEK 0x4u
#define FMODE_PREAD 0x8u
#define FMODE_PWRITE 0x10u
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

static inline unsigned iminor(const struct inode *inode) { return MINOR(inode->i_rdev); }
static inline unsigned imajor(const struct inode *inode) { return MAJOR(inode->i_rdev); }
static inline struct inode *file_inode(const struct file *f) { return f->f_inode; }

#define alloc_chrdev_region(dev, first, count, name) \
  kmc_c_alloc_chrdev_region((dev), (first), (count), (name), KMC_LOC)
#define register_chrdev_region(first, count, name) \
  kmc_c_register_chrdev_region((first), (count), (name), KMC_LOC)
#define unregister_chrdev_region(first, count) \
  kmc_c_unregister_chrdev_region((first), (count), KMC_LOC)
#define register_chrdev(major, name, fops) kmc_c_register_chrdev((major), (name), (fops), KMC_LOC)
#define unregister_chrdev(major, name) kmc_c_unregister_chrdev((major), (name), KMC_LOC)

/* A device that does not support seeking (clears FMODE_LSEEK/PREAD/PWRITE). */
static inline int nonseekable_open(struct inode *inode, struct file *filp) {
  (void)inode;
  filp->f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
  return 0;
}
static inline loff_t no_llseek(struct file *f, loff_t off, int whence) {
  (void)f; (void)off; (void)whence;
  return -ESPIPE;
}
static inline loff_t noop_llseek(struct file *f, loff_t off, int whence) {
  (void)off; (void)whence;
  return f->f_pos;
}

/* fasync: fasync_helper() adds a file to (on != 0) or removes it from the
 * list *fapp (returns 1 when it changed the list, 0 when not, -ENOMEM);
 * kill_fasync() sends the signal to every file on the list (kmc records it
 * in the trace: there is no user space to deliver it to). */
#define fasync_helper(fd, filp, on, fapp) kmc_c_fasync_helper((fd), (filp), (on), (fapp), KMC_LOC)
#define kill_fasync(fp, sig, band) kmc_c_kill_fasync((fp), (sig), (band), KMC_LOC)
#define SIGIO 29
#define POLL_IN 1
#define POLL_OUT 2
#endif
