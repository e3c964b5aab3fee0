// kmc: the current task and the kernel's context rules (include/linux/sched.h,
// kernel/sched/core.c __might_sleep).

#ifndef KMC_SYNC_SCHED_H_
#define KMC_SYNC_SCHED_H_

#include "sync/types.h"

namespace kmc::kernel {

// Checks that the caller may sleep; otherwise reports
// "BUG: sleeping function called from invalid context at file:line".
void might_sleep(const Loc& loc = Loc::current());

// preempt_disable()/preempt_enable(): the task may not sleep in between
// (might_sleep() reports it); an unbalanced preempt_enable() is reported as
// lock misuse (DEBUG_PREEMPT's underflow check).
void preempt_disable(const Loc& loc = Loc::current());
void preempt_enable(const Loc& loc = Loc::current());
void preempt_enable_no_resched(const Loc& loc = Loc::current());

// Context queries.
bool in_atomic();
bool in_interrupt();
bool irqs_disabled();

// The current task.
struct kuid_t {
  unsigned val;
};
inline bool uid_eq(kuid_t a, kuid_t b) { return a.val == b.val; }
kuid_t current_uid();
kuid_t current_euid();
int current_pid();
const char* current_comm();

inline constexpr int CAP_DAC_OVERRIDE = 1;
inline constexpr int CAP_SYS_ADMIN = 21;
bool capable(int cap);

// True after a signal was delivered to the current task's interruptible
// sleep (kSignals); cleared when the task next sleeps.
bool signal_pending_current();
#define signal_pending(task) (::kmc::kernel::signal_pending_current())

}  // namespace kmc::kernel

namespace kmc {

// Model-side helpers to set the current task's credentials.
void SetCurrentCredentials(unsigned uid, unsigned euid, bool cap_dac_override = false,
                           bool cap_sys_admin = false);

// Gives the current task a controlling tty with device number `devnum`
// (0: none), what a C driver reads as current->signal->tty.
void SetCurrentTty(unsigned devnum);

}  // namespace kmc

#endif  // KMC_SYNC_SCHED_H_
