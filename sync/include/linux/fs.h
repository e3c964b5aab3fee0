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

struct fasync_struct;
int fasync_helper(int fd, struct file *filp, int on, struct fasync_struct **fapp)
    __attribute__((error("kmc: fasync_helper is not modelled (no signals to user space); see docs/CHECK_YOUR_DRIVER.md")));
void kill_fasync(struct fasync_struct **fp, int sig, int band)
    __attribute__((error("kmc: kill_fasync is not modelled (no signals to user space); see docs/CHECK_YOUR_DRIVER.md")));
#define SIGIO 29
#define POLL_IN 1
#define POLL_OUT 2
#endif
