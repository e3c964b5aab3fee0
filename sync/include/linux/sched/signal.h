/* kmc: <linux/sched/signal.h>. */
#include <linux/sched.h>
