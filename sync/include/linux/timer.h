/* kmc: <linux/timer.h>. A timer fires once, in softirq context on the
 * arming CPU, at a point the engine explores. */
#ifndef _KMC_LINUX_TIMER_H
#define _KMC_LINUX_TIMER_H
#include <linux/types.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#define timer_setup(t, fn, flags) kmc_c_timer_setup((t), (fn), (flags), #t)
#define mod_timer(t, expires) kmc_c_mod_timer((t), (expires), KMC_LOC)
#define add_timer(t) ((void)kmc_c_mod_timer((t), (t)->expires, KMC_LOC))
#define del_timer(t) kmc_c_del_timer((t), 0, KMC_LOC)
#define del_timer_sync(t) kmc_c_del_timer((t), 1, KMC_LOC)
#define timer_pending(t) kmc_c_timer_pending(t)
#define from_timer(var, t, field) container_of(t, __typeof__(*var), field)
#endif
