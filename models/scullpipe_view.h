// A model's view of one scullpipe device of the C module scull
// (drivers/scull/pipe.c): struct scull_pipe, spelled with the layout-matched
// kernel types of sync/include/kmc/abi.h, so a model's final check can look
// at the ring pointers, the counters and the semaphore as the book's
// /proc/scullpipe would show them. Model code is not instrumented: these
// reads are not race-checked, so use them only where no task runs (fixture
// setup, final check, a single-task scenario).
//
// The layout must match struct scull_pipe in pipe.c field for field;
// ScullPipeOf() checks it on every use (the cdev the VFS opened must be the
// view's cdev member), so a drifted copy fails loudly instead of reading
// the wrong bytes.

#ifndef KMC_MODELS_SCULLPIPE_VIEW_H_
#define KMC_MODELS_SCULLPIPE_VIEW_H_

#include "sync/bug.h"
#include "sync/kernel.h"
#include "sync/vfs.h"

namespace kmc::models {

struct ScullPipeView {
  cabi::wait_queue_head_t inq, outq;
  char *buffer, *end;
  int buffersize;
  char *rp, *wp;
  int nreaders, nwriters;
  cabi::fasync_struct* async_queue;
  cabi::semaphore sem;
  cabi::cdev cdev;

  // spacefree() of pipe.c: free bytes, one slot always kept empty.
  int spacefree() const {
    if (rp == wp) return buffersize - 1;
    return static_cast<int>((rp + buffersize - wp) % buffersize) - 1;
  }
  // Bytes a reader could get: (wp - rp) mod buffersize.
  int readable() const {
    return static_cast<int>(((wp - rp) + buffersize) % buffersize);
  }
  kernel::semaphore* lock() { return reinterpret_cast<kernel::semaphore*>(&sem); }
};

// The device behind an open scullpipe file.
inline ScullPipeView* ScullPipeOf(vfs::File* filp) {
  BUG_ON(filp == nullptr || filp->private_data == nullptr);
  auto* dev = static_cast<ScullPipeView*>(filp->private_data);
  BUG_ON(&dev->cdev != filp->f_inode->i_cdev);  // the layout matches pipe.c's
  return dev;
}

}  // namespace kmc::models

#endif  // KMC_MODELS_SCULLPIPE_VIEW_H_
