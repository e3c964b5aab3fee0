/* kmc: <linux/smp.h>, <linux/preempt.h>. */
#ifndef _KMC_LINUX_SMP_H
#define _KMC_LINUX_SMP_H
#define smp_processor_id() kmc_c_smp_processor_id()
#define raw_smp_processor_id() kmc_c_smp_processor_id()
#endif
