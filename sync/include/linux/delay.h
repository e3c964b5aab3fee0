/* kmc: <linux/delay.h>. Time is abstract: msleep() is a sleeping call (its
 * context is checked) that lets other tasks run; udelay()/mdelay() busy-wait
 * and are allowed anywhere. */
#ifndef _KMC_LINUX_DELAY_H
#define _KMC_LINUX_DELAY_H
#include <linux/sched.h>
#define msleep(ms) ((void)(ms), (void)kmc_c_schedule_timeout(1, KMC_LOC))
#define ssleep(s) msleep((s) * 1000)
#define udelay(us) ((void)(us))
#define ndelay(ns) ((void)(ns))
#define mdelay(ms) ((void)(ms))
#endif
