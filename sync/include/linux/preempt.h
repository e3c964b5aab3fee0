#include <linux/smp.h>
#include <linux/sched.h>
