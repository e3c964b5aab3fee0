// kmc: the VFS side of a C driver: device numbers, open files, and the
// system calls a model's tasks make on them.
//
// A module registers its devices with alloc_chrdev_region()/cdev_add() or
// register_chrdev(); a model then opens a device by its number, as user
// space opens a device node, and calls the driver through the registered
// struct file_operations, as the VFS does:
//
//   struct Fx { Fx() { kmc::insmod("sleepy"); } };
//   f.Task("reader", 0, [](Fx&) {
//     kmc::vfs::File* filp = kmc::vfs::open(kmc::vfs::DeviceNumber("sleepy"), O_RDONLY);
//     char buf[4];
//     kmc::vfs::read(filp, buf, sizeof buf);
//     kmc::vfs::close(filp);
//   });
//
// open() finds the cdev that covers the number, creates the device's inode
// (one per number per execution) and a struct file (f_flags, f_mode,
// f_pos = 0, f_op), and calls fops->open. Two tasks may share one open file
// (threads or fork): read/write/llseek then share f_pos, which the VFS
// copies in and out around each call without a lock, as for character
// devices in the kernel. close() calls fops->release. /proc entries
// (proc_create) are opened by path and read the same way. Files still open at
// the end of an execution are closed (release runs) before module exit.
// Buffers passed to read/write are user memory: the driver must use
// copy_to_user/copy_from_user, and they are not race-checked.

#ifndef KMC_SYNC_VFS_H_
#define KMC_SYNC_VFS_H_

#include <fcntl.h>

#include <cstddef>
#include <source_location>
#include <string>

#include "sync/include/kmc/abi.h"

namespace kmc::vfs {

using File = cabi::file;
using Loc = std::source_location;

// MKDEV/MAJOR/MINOR as in <linux/kdev_t.h>.
constexpr unsigned MKDEV(unsigned major, unsigned minor) { return (major << 20) | minor; }
constexpr unsigned MAJOR(unsigned dev) { return dev >> 20; }
constexpr unsigned MINOR(unsigned dev) { return dev & ((1u << 20) - 1); }

// The number of minor `minor` of the region or chrdev registered as `name`
// in this execution (0 when none: open() then fails with -ENXIO).
unsigned DeviceNumber(const std::string& name, unsigned minor = 0);

// Opens device `dev` with O_* flags. Returns the file, or nullptr with
// *error set to open's -errno (error may be null).
File* open(unsigned dev, unsigned flags, int* error = nullptr, const Loc& loc = Loc::current());
// Opens a /proc entry a module registered with proc_create():
// open("/proc/asgn1", O_RDONLY). Returns the file, or nullptr with *error
// set (-ENOENT: no such entry, -EACCES: the entry's mode forbids it, or
// proc_open's -errno). read/llseek/close then call its proc_ops.
File* open(const std::string& path, unsigned flags, int* error = nullptr,
           const Loc& loc = Loc::current());
// Return: fops->release's result (0 without one).
int close(File* filp, const Loc& loc = Loc::current());
// Return: bytes read/written or -errno (-EINVAL without the operation).
long read(File* filp, void* buf, size_t count, const Loc& loc = Loc::current());
long write(File* filp, const void* buf, size_t count, const Loc& loc = Loc::current());
long long llseek(File* filp, long long offset, int whence, const Loc& loc = Loc::current());
long ioctl(File* filp, unsigned cmd, unsigned long arg, const Loc& loc = Loc::current());
// The poll mask; `queued` receives how many wait queues poll_wait() registered.
unsigned poll(File* filp, int* queued = nullptr, const Loc& loc = Loc::current());
// mmap(2) of `vma` (see kmc::UserMapping in sync/mm.h for building one).
int mmap(File* filp, void* vma, const Loc& loc = Loc::current());

}  // namespace kmc::vfs

#endif  // KMC_SYNC_VFS_H_
