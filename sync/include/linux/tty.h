/* kmc: <linux/tty.h>: a task's controlling tty (current->signal->tty, set by
 * a model with kmc::SetCurrentTty()) and its device number. */
#ifndef _KMC_LINUX_TTY_H
#define _KMC_LINUX_TTY_H
#include <linux/types.h>
#include <linux/sched.h>
struct tty_struct {
  dev_t __devnum;
};
static inline dev_t tty_devnum(struct tty_struct *tty) { return tty->__devnum; }
#endif
