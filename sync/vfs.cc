// kmc: character-device registry and the VFS calls of models (sync/vfs.h).

#include "sync/vfs.h"

#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sync/internal/c_loc.h"
#include "sync/internal/runtime.h"
#include "sync/wait.h"

namespace kmc::vfs {
namespace {

using internal::Runtime;

constexpr unsigned kFmodeRead = 0x1, kFmodeWrite = 0x2, kFmodeLseek = 0x4, kFmodePread = 0x8,
                   kFmodePwrite = 0x10;
constexpr unsigned kDynamicMajorTop = 254;  // the kernel allocates from 254 down

struct Region {
  unsigned first;
  unsigned count;
  std::string name;
  const cabi::file_operations* fops;  // register_chrdev(); null for regions
};

// A /proc entry (proc_create): its file_operations are made from the
// proc_ops (same member types); its inode carries the entry's data.
struct ProcEntry {
  std::string name;
  unsigned mode;
  const cabi::proc_ops* ops;                    // null for proc_create_single
  int (*show)(cabi::seq_file*, void*);          // proc_create_single
  cabi::file_operations fops{};
  cabi::inode inode{};
  const cabi::kmc_loc* loc;
  bool removed = false;
};

struct OpenFile {
  std::unique_ptr<cabi::file> file;
  bool closed = false;
};

// Everything the VFS holds for one execution.
struct VfsState {
  uint32_t epoch = 0;
  std::vector<Region> regions;
  std::map<unsigned, cabi::cdev*> cdevs;  // first number of each cdev_add
  std::map<unsigned, std::unique_ptr<cabi::inode>> inodes;
  std::vector<std::unique_ptr<OpenFile>> files;
  std::vector<std::unique_ptr<ProcEntry>> procs;  // removed ones stay (open files)
  unsigned next_major = kDynamicMajorTop;
  bool closing_registered = false;
};

VfsState& State() {
  static VfsState* s = new VfsState();
  const uint32_t e = Runtime::Get().epoch();
  if (s->epoch != e) {
    // Files of an execution that failed are dropped without release.
    *s = VfsState{};
    s->epoch = e;
  }
  return *s;
}

bool Overlaps(const VfsState& s, unsigned first, unsigned count) {
  for (const Region& r : s.regions) {
    if (first < r.first + r.count && r.first < first + count) return true;
  }
  return false;
}

const cabi::file_operations* FindFops(VfsState& s, unsigned dev, cabi::cdev** cdev) {
  *cdev = nullptr;
  auto it = s.cdevs.upper_bound(dev);
  if (it != s.cdevs.begin()) {
    --it;
    cabi::cdev* c = it->second;
    if (dev < c->dev + c->count) {
      *cdev = c;
      return c->ops;
    }
  }
  for (const Region& r : s.regions) {
    if (r.fops != nullptr && dev >= r.first && dev < r.first + r.count) return r.fops;
  }
  return nullptr;
}

OpenFile* Find(File* filp) {
  for (auto& f : State().files) {
    if (f->file.get() == filp && !f->closed) return f.get();
  }
  return nullptr;
}

void CheckOpen(File* filp, const char* call, const Loc& loc) {
  if (filp == nullptr || Find(filp) == nullptr) {
    Runtime::Get().Fail(Verdict::kModelError,
                        std::string("kmc: ") + call + " on a file that is not open",
                        std::string("the model called vfs::") + call + " at " +
                            internal::FormatLoc(loc) + " with a closed or unknown file\n",
                        loc);
  }
}

int Release(OpenFile& f) {
  f.closed = true;
  cabi::file* filp = f.file.get();
  if (filp->f_op != nullptr && filp->f_op->release != nullptr) {
    return filp->f_op->release(filp->f_inode, filp);
  }
  return 0;
}

}  // namespace

unsigned DeviceNumber(const std::string& name, unsigned minor) {
  for (const Region& r : State().regions) {
    if (r.name == name && minor < r.count) return r.first + minor;
  }
  return 0;
}

namespace {

// The struct file of an open: f_op = fops, then fops->open.
File* OpenInode(cabi::inode* inode, const cabi::file_operations* fops, unsigned flags,
                int* error) {
  VfsState& s = State();
  Runtime& rt = Runtime::Get();
  auto of = std::make_unique<OpenFile>();
  of->file = std::make_unique<cabi::file>();
  cabi::file* filp = of->file.get();
  filp->f_inode = inode;
  filp->f_op = fops;
  filp->f_flags = flags;
  const unsigned acc = flags & O_ACCMODE;
  // OPEN_FMODE(): access mode 3 gives neither FMODE_READ nor FMODE_WRITE.
  filp->f_mode = (acc == O_RDONLY   ? kFmodeRead
                  : acc == O_WRONLY ? kFmodeWrite
                  : acc == O_RDWR   ? kFmodeRead | kFmodeWrite
                                    : 0u) |
                 kFmodeLseek | kFmodePread | kFmodePwrite;
  filp->f_pos = 0;
  filp->__owner_key = nullptr;
  OpenFile* mine = of.get();
  s.files.push_back(std::move(of));
  if (!s.closing_registered) {
    s.closing_registered = true;
    // Files left open are closed when the process exits: before module exit.
    rt.AtExecutionEnd([] {
      for (auto& f : State().files) {
        if (!f->closed) Release(*f);
      }
    });
  }
  if (fops->open != nullptr) {
    const int r = fops->open(filp->f_inode, filp);
    if (r != 0) {
      mine->closed = true;  // fops->open may sleep: other opens came after it
      if (error) *error = r;
      return nullptr;
    }
  }
  return filp;
}

ProcEntry* FindProc(VfsState& s, const std::string& name) {
  for (auto& e : s.procs) {
    if (!e->removed && e->name == name) return e.get();
  }
  return nullptr;
}

// proc_create_single()'s open: single_open() with the entry's show.
int ProcSingleOpen(cabi::inode* inode, cabi::file* filp) {
  for (auto& e : State().procs) {
    if (&e->inode == inode) return cabi::kmc_c_single_open(filp, e->show, inode->i_private, e->loc);
  }
  return -ENOENT;
}

}  // namespace

File* open(unsigned dev, unsigned flags, int* error, const Loc& loc) {
  VfsState& s = State();
  Runtime& rt = Runtime::Get();
  if (error) *error = 0;
  cabi::cdev* cdev = nullptr;
  const cabi::file_operations* fops = FindFops(s, dev, &cdev);
  rt.Note(
      [&] {
        return "open(" + std::to_string(MAJOR(dev)) + ":" + std::to_string(MINOR(dev)) + ")";
      },
      loc);
  if (fops == nullptr) {
    if (error) *error = -ENXIO;
    return nullptr;
  }
  auto& inode = s.inodes[dev];
  if (!inode) {
    inode = std::make_unique<cabi::inode>();
    inode->i_rdev = dev;
  }
  inode->i_cdev = cdev;
  return OpenInode(inode.get(), fops, flags, error);
}

File* open(const std::string& path, unsigned flags, int* error, const Loc& loc) {
  VfsState& s = State();
  if (error) *error = 0;
  Runtime::Get().Note([&] { return "open(" + path + ")"; }, loc);
  const std::string proc = "/proc/";
  ProcEntry* e = path.rfind(proc, 0) == 0 ? FindProc(s, path.substr(proc.size())) : nullptr;
  if (e == nullptr) {
    if (error) *error = -ENOENT;
    return nullptr;
  }
  const unsigned acc = flags & O_ACCMODE;
  const unsigned mode = e->mode == 0 ? 0444 : e->mode;
  if ((acc != O_WRONLY && !(mode & 0444)) || (acc != O_RDONLY && !(mode & 0222))) {
    if (error) *error = -EACCES;
    return nullptr;
  }
  return OpenInode(&e->inode, &e->fops, flags, error);
}

int close(File* filp, const Loc& loc) {
  CheckOpen(filp, "close", loc);
  return Release(*Find(filp));
}

long read(File* filp, void* buf, size_t count, const Loc& loc) {
  CheckOpen(filp, "read", loc);
  if (!(filp->f_mode & kFmodeRead)) return -EBADF;
  if (filp->f_op->read == nullptr) return -EINVAL;
  cabi::kmc_loff_t pos = filp->f_pos;
  const long r = filp->f_op->read(filp, static_cast<char*>(buf), count, &pos);
  filp->f_pos = pos;
  return r;
}

long write(File* filp, const void* buf, size_t count, const Loc& loc) {
  CheckOpen(filp, "write", loc);
  if (!(filp->f_mode & kFmodeWrite)) return -EBADF;
  if (filp->f_op->write == nullptr) return -EINVAL;
  cabi::kmc_loff_t pos = filp->f_pos;
  const long r = filp->f_op->write(filp, static_cast<const char*>(buf), count, &pos);
  filp->f_pos = pos;
  return r;
}

long long llseek(File* filp, long long offset, int whence, const Loc& loc) {
  CheckOpen(filp, "llseek", loc);
  if (filp->f_op->llseek == nullptr) {
    // default_llseek without the driver's help: SEEK_SET/SEEK_CUR only.
    if (!(filp->f_mode & kFmodeLseek)) return -ESPIPE;
    long long pos = whence == 0 ? offset : whence == 1 ? filp->f_pos + offset : -1;
    if (pos < 0) return -EINVAL;
    filp->f_pos = pos;
    return pos;
  }
  return filp->f_op->llseek(filp, offset, whence);
}

long ioctl(File* filp, unsigned cmd, unsigned long arg, const Loc& loc) {
  CheckOpen(filp, "ioctl", loc);
  if (filp->f_op->unlocked_ioctl == nullptr) return -ENOTTY;
  return filp->f_op->unlocked_ioctl(filp, cmd, arg);
}

unsigned poll(File* filp, int* queued, const Loc& loc) {
  CheckOpen(filp, "poll", loc);
  kernel::poll_table table;
  unsigned mask = 0x1 | 0x4 | 0x40 | 0x100;  // DEFAULT_POLLMASK
  if (filp->f_op->poll != nullptr) {
    mask = filp->f_op->poll(filp, reinterpret_cast<cabi::poll_table_struct*>(&table));
  }
  if (queued) *queued = table.queued;
  return mask;
}

int mmap(File* filp, void* vma, const Loc& loc) {
  CheckOpen(filp, "mmap", loc);
  if (filp->f_op->mmap == nullptr) return -ENODEV;
  return filp->f_op->mmap(filp, static_cast<cabi::vm_area_struct*>(vma));
}

}  // namespace kmc::vfs

// ---------------------------------------------------------------------------
// C entry points (<linux/fs.h>, <linux/cdev.h>).

namespace kmc::cabi {
extern "C" {

using vfs::Region;

int kmc_c_alloc_chrdev_region(kmc_dev_t* dev, unsigned first, unsigned count, const char* name,
                              kmc_loc_t loc) {
  (void)loc;
  vfs::VfsState& s = vfs::State();
  while (s.next_major > 0 && vfs::Overlaps(s, vfs::MKDEV(s.next_major, 0), 1u << 20)) {
    --s.next_major;
  }
  if (s.next_major == 0) return -EBUSY;
  const unsigned major = s.next_major--;
  s.regions.push_back(Region{vfs::MKDEV(major, first), count, name, nullptr});
  *dev = vfs::MKDEV(major, first);
  return 0;
}

int kmc_c_register_chrdev_region(kmc_dev_t first, unsigned count, const char* name,
                                 kmc_loc_t loc) {
  (void)loc;
  vfs::VfsState& s = vfs::State();
  if (vfs::Overlaps(s, first, count)) return -EBUSY;
  s.regions.push_back(Region{first, count, name, nullptr});
  return 0;
}

void kmc_c_unregister_chrdev_region(kmc_dev_t first, unsigned count, kmc_loc_t loc) {
  (void)loc;
  auto& regions = vfs::State().regions;
  for (auto it = regions.begin(); it != regions.end(); ++it) {
    if (it->first == first && it->count == count && it->fops == nullptr) {
      regions.erase(it);
      return;
    }
  }
}

int kmc_c_register_chrdev(unsigned major, const char* name, const file_operations* fops,
                          kmc_loc_t loc) {
  (void)loc;
  vfs::VfsState& s = vfs::State();
  if (major == 0) {
    while (s.next_major > 0 && vfs::Overlaps(s, vfs::MKDEV(s.next_major, 0), 256)) --s.next_major;
    if (s.next_major == 0) return -EBUSY;
    major = s.next_major--;
  } else if (vfs::Overlaps(s, vfs::MKDEV(major, 0), 256)) {
    return -EBUSY;
  }
  s.regions.push_back(Region{vfs::MKDEV(major, 0), 256, name, fops});
  return static_cast<int>(major);
}

void kmc_c_unregister_chrdev(unsigned major, const char* name, kmc_loc_t loc) {
  (void)name;
  (void)loc;
  auto& regions = vfs::State().regions;
  for (auto it = regions.begin(); it != regions.end(); ++it) {
    if (it->first == vfs::MKDEV(major, 0) && it->fops != nullptr) {
      regions.erase(it);
      return;
    }
  }
}

proc_dir_entry* kmc_c_proc_create(const char* name, unsigned mode, proc_dir_entry* parent,
                                  const proc_ops* ops, void* data, kmc_loc_t loc) {
  vfs::VfsState& s = vfs::State();
  if (parent != nullptr) {
    internal::Runtime::Get().Fail(
        Verdict::kModelError, "kmc: proc_create() under a parent directory is not modelled",
        std::string("proc_create(\"") + name + "\") at " +
            internal::FormatLoc(internal::FromRecord(
                reinterpret_cast<const internal::LocRecord*>(loc))) +
            " names a parent; only entries at the /proc root are modelled\n",
        internal::FromRecord(reinterpret_cast<const internal::LocRecord*>(loc)));
  }
  if (vfs::FindProc(s, name) != nullptr) return nullptr;  // the kernel: -EEXIST, NULL
  auto e = std::make_unique<vfs::ProcEntry>();
  e->name = name;
  e->mode = mode;
  e->ops = ops;
  e->show = nullptr;
  e->loc = loc;
  e->inode.i_private = data;
  if (ops != nullptr) {
    e->fops.open = ops->proc_open;
    e->fops.read = ops->proc_read;
    e->fops.write = ops->proc_write;
    e->fops.llseek = ops->proc_lseek;
    e->fops.release = ops->proc_release;
    e->fops.poll = ops->proc_poll;
    e->fops.unlocked_ioctl = ops->proc_ioctl;
    e->fops.mmap = ops->proc_mmap;
  }
  s.procs.push_back(std::move(e));
  return reinterpret_cast<proc_dir_entry*>(s.procs.back().get());
}

proc_dir_entry* kmc_c_proc_create_single(const char* name, unsigned mode, proc_dir_entry* parent,
                                         int (*show)(seq_file*, void*), void* data,
                                         kmc_loc_t loc) {
  proc_dir_entry* pde = kmc_c_proc_create(name, mode, parent, nullptr, data, loc);
  if (pde == nullptr) return nullptr;
  auto* e = reinterpret_cast<vfs::ProcEntry*>(pde);
  e->show = show;
  e->fops.open = vfs::ProcSingleOpen;
  e->fops.read = kmc_c_seq_read;
  e->fops.llseek = kmc_c_seq_lseek;
  e->fops.release = kmc_c_single_release;
  return pde;
}

void kmc_c_remove_proc_entry(const char* name, proc_dir_entry* parent, kmc_loc_t loc) {
  (void)parent;
  (void)loc;
  vfs::ProcEntry* e = vfs::FindProc(vfs::State(), name);
  if (e != nullptr) e->removed = true;
}

void kmc_c_proc_remove(proc_dir_entry* pde, kmc_loc_t loc) {
  (void)loc;
  if (pde != nullptr) reinterpret_cast<vfs::ProcEntry*>(pde)->removed = true;
}

void kmc_c_cdev_init(cdev* c, const file_operations* fops) {
  c->ops = fops;
  c->owner = nullptr;
  c->dev = 0;
  c->count = 0;
  c->__added = false;
}

int kmc_c_cdev_add(cdev* c, kmc_dev_t dev, unsigned count, kmc_loc_t loc) {
  (void)loc;
  c->dev = dev;
  c->count = count;
  c->__added = true;
  vfs::State().cdevs[dev] = c;
  return 0;
}

void kmc_c_cdev_del(cdev* c, kmc_loc_t loc) {
  (void)loc;
  auto& cdevs = vfs::State().cdevs;
  auto it = cdevs.find(c->dev);
  if (it != cdevs.end() && it->second == c) cdevs.erase(it);
  c->__added = false;
}

}  // extern "C"
}  // namespace kmc::cabi
