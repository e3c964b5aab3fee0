/* kmc: <linux/jiffies.h>. Time is abstract in kmc: timeouts and timers
 * expire at points the engine explores, never by a clock, so jiffies is 0. */
#ifndef _KMC_LINUX_JIFFIES_H
#define _KMC_LINUX_JIFFIES_H
#define HZ 100
#define jiffies ((unsigned long)0)
#define msecs_to_jiffies(m) ((unsigned long)(m) * HZ / 1000 + 1)
#define usecs_to_jiffies(u) ((unsigned long)(u) * HZ / 1000000 + 1)
#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)
#endif
