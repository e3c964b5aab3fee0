// kmc: the VFS structures a character driver sees (include/linux/fs.h).
//
// Only what the modelled drivers use: struct file with its flags, mode and
// position, struct inode with the cdev that leads to the device, and
// container_of().

#ifndef KMC_SYNC_FS_H_
#define KMC_SYNC_FS_H_

#include <fcntl.h>

#include <cstddef>

#include "sync/types.h"

namespace kmc::kernel {

struct cdev {
  unsigned dev;
};

struct inode {
  struct cdev* i_cdev;
  unsigned i_rdev;
};

// One open file. A model's task usually owns its struct file; tasks sharing
// one (threads, fork) share f_pos.
struct file {
  unsigned f_flags = O_RDWR;  // O_ACCMODE bits, O_NONBLOCK
  unsigned f_mode = FMODE_READ | FMODE_WRITE;
  loff_t f_pos = 0;
  void* private_data = nullptr;
  // Opaque per-open pointer a model may use (e.g. the controlling tty).
  const void* f_owner_key = nullptr;
};

// Opens with the given O_* flags: f_mode follows the access mode.
inline file make_file(unsigned flags) {
  file f;
  f.f_flags = flags;
  const unsigned acc = flags & O_ACCMODE;
  f.f_mode = (acc == O_RDONLY ? FMODE_READ : acc == O_WRONLY ? FMODE_WRITE
                                                            : FMODE_READ | FMODE_WRITE);
  return f;
}

}  // namespace kmc::kernel

#define container_of(ptr, type, member) \
  (reinterpret_cast<type*>(reinterpret_cast<char*>(ptr) - offsetof(type, member)))

#endif  // KMC_SYNC_FS_H_
