// The scull module's state as C++ models and tests see it.
//
// drivers/scull/scull.h is the C module's own header; this includes it under
// extern "C", after the kernel types it expects from its includer (kmc's ABI
// structs: struct semaphore, spinlock_t, struct cdev, ...), so a model's
// final check can read the module's globals (scull_quantum, scull_devices)
// and a device's fields (dev->size, dev->sem) as the driver lays them out.
// Model code is not instrumented: read the state where no task runs (in a
// fixture or a final check). Drive the module itself through kmc::insmod and
// kmc::vfs (sync/module.h, sync/vfs.h).

#ifndef KMC_DRIVERS_SCULL_SCULL_VIEW_H_
#define KMC_DRIVERS_SCULL_SCULL_VIEW_H_

#include <linux/ioctl.h>
#include <sys/types.h>

#include "sync/include/kmc/abi.h"

namespace kmc::scull {

using namespace kmc::cabi;  // NOLINT: the kernel structs scull.h names
using dev_t = kmc_dev_t;
using loff_t = kmc_loff_t;

#define __user
extern "C" {
#include "drivers/scull/scull.h"
}
#undef __user

}  // namespace kmc::scull

#endif  // KMC_DRIVERS_SCULL_SCULL_VIEW_H_
