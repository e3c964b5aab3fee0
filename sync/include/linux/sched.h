/* kmc: <linux/sched.h>: current, task states, schedule(), signal_pending(). */
#ifndef _KMC_LINUX_SCHED_H
#define _KMC_LINUX_SCHED_H
#include <linux/types.h>
#include <linux/compiler.h>

#define TASK_RUNNING 0
#define TASK_INTERRUPTIBLE 1
#define TASK_UNINTERRUPTIBLE 2
#define TASK_KILLABLE TASK_UNINTERRUPTIBLE
#define TASK_COMM_LEN 16
#define MAX_SCHEDULE_TIMEOUT LONG_MAX

/* What a driver may read of the current task (a snapshot taken at each use
 * of `current`): signal->tty is the controlling tty a model gives the task
 * with kmc::SetCurrentTty() (NULL when it has none; <linux/tty.h>). */
struct tty_struct;
struct signal_struct {
  struct tty_struct *tty;
};
struct task_struct {
  pid_t pid;
  pid_t tgid;
  char comm[TASK_COMM_LEN];
  struct signal_struct *signal;
};
struct task_struct *kmc_c_current(void);
#define current (kmc_c_current())

#define set_current_state(s) kmc_c_set_current_state((s), 1, KMC_LOC)
#define __set_current_state(s) kmc_c_set_current_state((s), 0, KMC_LOC)
#define schedule() kmc_c_schedule(KMC_LOC)
#define schedule_timeout(t) kmc_c_schedule_timeout((t), KMC_LOC)
#define might_sleep() kmc_c_might_sleep(KMC_LOC)
#define in_atomic() kmc_c_in_atomic()
#define cond_resched() kmc_c_might_sleep(KMC_LOC)
#define task_pid_nr(t) ((t)->pid)
#define signal_pending(t) ((void)(t), kmc_c_signal_pending())
#define fatal_signal_pending(t) ((void)(t), 0)

#ifndef LONG_MAX
#define LONG_MAX ((long)(~0UL >> 1))
#endif
#endif
