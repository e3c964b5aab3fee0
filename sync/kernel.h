// kmc: the kernel API for driver and model code.
//
// Include this one header. Driver code then reads like the kernel original:
//
//   if (down_interruptible(&dev->sem))
//     return -ERESTARTSYS;
//
// Everything lives in namespace kmc::kernel; drivers open it with
// `using namespace kmc::kernel;` inside their own namespace.

#ifndef KMC_SYNC_KERNEL_H_
#define KMC_SYNC_KERNEL_H_

#include "sync/atomic.h"
#include "sync/bug.h"
#include "sync/completion.h"
#include "sync/fs.h"
#include "sync/interrupt.h"
#include "sync/kfifo.h"
#include "sync/kthread.h"
#include "sync/list.h"
#include "sync/local_lock.h"
#include "sync/lockdep.h"
#include "sync/mm.h"
#include "sync/mutex.h"
#include "sync/rcupdate.h"
#include "sync/rwsem.h"
#include "sync/sched.h"
#include "sync/semaphore.h"
#include "sync/seqlock.h"
#include "sync/shared.h"
#include "sync/slab.h"
#include "sync/spinlock.h"
#include "sync/types.h"
#include "sync/uaccess.h"
#include "sync/wait.h"

#endif  // KMC_SYNC_KERNEL_H_
