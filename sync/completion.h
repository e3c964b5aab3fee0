// kmc: completions (kernel/sched/completion.c, include/linux/completion.h).
//
// `done` counts completions not yet consumed: complete() lets exactly one
// waiter through (now or later); complete_all() saturates done (UINT_MAX) so
// every current and future wait returns until reinit_completion(). Waiters
// queue FIFO as exclusive waiters.
//
// Context: wait_for_completion*() may sleep (might_sleep()). complete*(),
// try_wait_for_completion() and completion_done() may be called from any
// context. Memory ordering: complete() orders the completer's earlier writes
// before the reads the waiter makes after its wait returns.
// Return values: _interruptible: 0 or -ERESTARTSYS; _timeout: 0 on timeout,
// otherwise jiffies left (at least 1).

#ifndef KMC_SYNC_COMPLETION_H_
#define KMC_SYNC_COMPLETION_H_

#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

struct completion {
  const char* name;
  bool defined;
  mutable internal::Handle h;
};

#define DECLARE_COMPLETION(n) ::kmc::kernel::completion n { #n, true, {0, 0} }
#define init_completion(x) ::kmc::kernel::init_completion_named((x), #x)
void init_completion_named(completion* x, const char* name, const Loc& loc = Loc::current());
void reinit_completion(completion* x, const Loc& loc = Loc::current());
void wait_for_completion(completion* x, const Loc& loc = Loc::current());
int wait_for_completion_interruptible(completion* x, const Loc& loc = Loc::current());
unsigned long wait_for_completion_timeout(completion* x, unsigned long timeout,
                                          const Loc& loc = Loc::current());
bool try_wait_for_completion(completion* x, const Loc& loc = Loc::current());
bool completion_done(completion* x, const Loc& loc = Loc::current());
void complete(completion* x, const Loc& loc = Loc::current());
void complete_all(completion* x, const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_COMPLETION_H_
