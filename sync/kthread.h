// kmc: kernel threads (include/linux/kthread.h).
//
// A model declares how many kernel threads it may start with
// Model::KernelThreads(n); kthread_run() starts one of those slots running
// `threadfn(data)` in process context on its own engine thread. A slot
// never started simply exits at the end of the execution.
// kthread_stop() sets the stop flag, wakes the thread and waits for it to
// return; its return value is threadfn's.

#ifndef KMC_SYNC_KTHREAD_H_
#define KMC_SYNC_KTHREAD_H_

#include "sync/types.h"

namespace kmc::kernel {

struct task_struct {
  int slot;  // kernel-thread slot index
};

task_struct* kthread_run_impl(int (*threadfn)(void* data), void* data, const char* name,
                              const Loc& loc);
#define kthread_run(threadfn, data, namefmt, ...) \
  ::kmc::kernel::kthread_run_impl((threadfn), (data), (namefmt), std::source_location::current())
int kthread_stop(task_struct* k, const Loc& loc = Loc::current());
bool kthread_should_stop(const Loc& loc = Loc::current());
// Wakes a task sleeping in schedule() (not on a wait queue).
int wake_up_process(task_struct* p, const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_KTHREAD_H_
