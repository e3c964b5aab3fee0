/* kmc: <linux/irqflags.h>, <linux/bottom_half.h>. */
#ifndef _KMC_LINUX_IRQFLAGS_H
#define _KMC_LINUX_IRQFLAGS_H
#include <linux/types.h>
#define local_irq_save(flags) do { (flags) = kmc_c_local_irq_save(KMC_LOC); } while (0)
#define local_irq_restore(flags) kmc_c_local_irq_restore((flags), KMC_LOC)
#define local_irq_disable() kmc_c_local_irq_op(0, KMC_LOC)
#define local_irq_enable() kmc_c_local_irq_op(1, KMC_LOC)
#define local_bh_disable() kmc_c_local_irq_op(2, KMC_LOC)
#define local_bh_enable() kmc_c_local_irq_op(3, KMC_LOC)
#define irqs_disabled() kmc_c_irqs_disabled()
#endif
