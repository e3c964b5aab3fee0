/* kmc: <linux/wait.h>. The protocol is the kernel's, step by step:
 * prepare_to_wait() queues the entry and sets the task state, schedule()
 * sleeps unless a wake-up came first, finish_wait() dequeues. wait_event*()
 * checks the condition first and after every wake-up; the condition's reads
 * are marked accesses (not data races), so a wrong check shows up as a lost
 * wake-up or a broken invariant. _interruptible forms return -ERESTARTSYS on a
 * signal (model option kSignals); _timeout forms explore expiry. */
#ifndef _KMC_LINUX_WAIT_H
#define _KMC_LINUX_WAIT_H
#include <linux/types.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#define WQ_FLAG_EXCLUSIVE 0x01
#define DECLARE_WAIT_QUEUE_HEAD(n) wait_queue_head_t n = {#n, 1, {0, 0}}
#define init_waitqueue_head(q) kmc_c_init_waitqueue_head((q), #q, KMC_LOC)
#define DEFINE_WAIT(n) struct wait_queue_entry n = {0, -1}
#define init_wait(w) ((w)->flags = 0, (w)->__task = -1)

#define prepare_to_wait(q, w, s) kmc_c_prepare_to_wait((q), (w), (s), 0, KMC_LOC)
#define prepare_to_wait_exclusive(q, w, s) kmc_c_prepare_to_wait((q), (w), (s), 1, KMC_LOC)
#define finish_wait(q, w) kmc_c_finish_wait((q), (w), KMC_LOC)
#define waitqueue_active(q) kmc_c_waitqueue_active((q), KMC_LOC)

#define wake_up(q) kmc_c_wake_up((q), 0, 0, KMC_LOC)
#define wake_up_nr(q, nr) kmc_c_wake_up((q), 0, (nr), KMC_LOC)
#define wake_up_all(q) kmc_c_wake_up((q), 1, 0, KMC_LOC)
#define wake_up_interruptible(q) kmc_c_wake_up((q), 2, 0, KMC_LOC)
#define wake_up_interruptible_nr(q, nr) kmc_c_wake_up((q), 2, (nr), KMC_LOC)
#define wake_up_interruptible_all(q) kmc_c_wake_up((q), 3, 0, KMC_LOC)
#define wake_up_interruptible_sync(q) kmc_c_wake_up((q), 4, 0, KMC_LOC)

#define KMC_WAIT_INTERRUPTIBLE 1u
#define KMC_WAIT_EXCLUSIVE 2u
#define KMC_WAIT_TIMEOUT 4u
#define __kmc_wait_event(wq, condition, fn, flags, timeout)                     \
  ({                                                                            \
    struct kmc_wait_event __kmc_we;                                             \
    kmc_c_wait_event_begin(&__kmc_we, &(wq), fn, #condition, (flags), (timeout), \
                           KMC_LOC);                                            \
    int __kmc_c;                                                                \
    do {                                                                        \
      kmc_c_marked_enter();                                                     \
      __kmc_c = !!(condition);                                                  \
      kmc_c_marked_exit();                                                      \
    } while (kmc_c_wait_event_next(&__kmc_we, __kmc_c));                        \
    __kmc_we.result;                                                            \
  })
#define wait_event(wq, condition) \
  ((void)__kmc_wait_event(wq, condition, "wait_event", 0, 0))
#define wait_event_interruptible(wq, condition) \
  ((int)__kmc_wait_event(wq, condition, "wait_event_interruptible", KMC_WAIT_INTERRUPTIBLE, 0))
#define wait_event_killable(wq, condition) \
  ((int)__kmc_wait_event(wq, condition, "wait_event_killable", 0, 0))
#define wait_event_interruptible_exclusive(wq, condition)                         \
  ((int)__kmc_wait_event(wq, condition, "wait_event_interruptible_exclusive",     \
                         KMC_WAIT_INTERRUPTIBLE | KMC_WAIT_EXCLUSIVE, 0))
#define wait_event_timeout(wq, condition, timeout) \
  __kmc_wait_event(wq, condition, "wait_event_timeout", KMC_WAIT_TIMEOUT, (timeout))
#define wait_event_interruptible_timeout(wq, condition, timeout)                  \
  __kmc_wait_event(wq, condition, "wait_event_interruptible_timeout",             \
                   KMC_WAIT_INTERRUPTIBLE | KMC_WAIT_TIMEOUT, (timeout))
#endif
