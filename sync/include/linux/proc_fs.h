/* kmc: <linux/proc_fs.h>: /proc entries a model can read.
 *
 * proc_create() registers /proc/<name> with its struct proc_ops; a model
 * opens it with kmc::vfs::open("/proc/<name>", O_RDONLY) (sync/vfs.h) and
 * reads it with kmc::vfs::read(), which call proc_open, proc_read, ... as
 * the VFS does. Only entries at the /proc root are modelled (parent NULL):
 * proc_mkdir() is a compile error. */
#ifndef _KMC_LINUX_PROC_FS_H
#define _KMC_LINUX_PROC_FS_H
#include <linux/types.h>
#include <linux/fs.h>

struct seq_file;
#define proc_create(name, mode, parent, ops) \
  kmc_c_proc_create((name), (mode), (parent), (ops), (void *)0, KMC_LOC)
#define proc_create_data(name, mode, parent, ops, data) \
  kmc_c_proc_create((name), (mode), (parent), (ops), (data), KMC_LOC)
#define proc_create_single(name, mode, parent, show) \
  kmc_c_proc_create_single((name), (mode), (parent), (show), (void *)0, KMC_LOC)
#define proc_create_single_data(name, mode, parent, show, data) \
  kmc_c_proc_create_single((name), (mode), (parent), (show), (data), KMC_LOC)
#define remove_proc_entry(name, parent) kmc_c_remove_proc_entry((name), (parent), KMC_LOC)
#define proc_remove(e) kmc_c_proc_remove((e), KMC_LOC)
/* The data of proc_create_data() (the inode's i_private). */
static inline void *pde_data(const struct inode *inode) { return inode->i_private; }
#define PDE_DATA(inode) pde_data(inode)
struct proc_dir_entry *proc_mkdir(const char *name, struct proc_dir_entry *parent)
    __attribute__((error("kmc: proc_mkdir is not modelled (entries at the /proc root only); see docs/CHECK_YOUR_DRIVER.md")));
#endif
