/* kmc: <linux/rwlock.h> (include <linux/spinlock.h>). */
#ifndef _KMC_LINUX_RWLOCK_H
#define _KMC_LINUX_RWLOCK_H
#include <linux/types.h>
#define DEFINE_RWLOCK(x) rwlock_t x = {#x, 1, {0, 0}}
#define rwlock_init(l) kmc_c_rwlock_init((l), #l, KMC_LOC)
#define read_lock(l) kmc_c_rwlock_lock((l), 0, 0, KMC_LOC)
#define read_unlock(l) kmc_c_rwlock_unlock((l), 0, 0, KMC_LOC)
#define write_lock(l) kmc_c_rwlock_lock((l), 1, 0, KMC_LOC)
#define write_unlock(l) kmc_c_rwlock_unlock((l), 1, 0, KMC_LOC)
#define read_lock_irq(l) kmc_c_rwlock_lock((l), 0, 1, KMC_LOC)
#define read_unlock_irq(l) kmc_c_rwlock_unlock((l), 0, 1, KMC_LOC)
#define write_lock_irq(l) kmc_c_rwlock_lock((l), 1, 1, KMC_LOC)
#define write_unlock_irq(l) kmc_c_rwlock_unlock((l), 1, 1, KMC_LOC)
#define read_lock_bh(l) kmc_c_rwlock_lock((l), 0, 2, KMC_LOC)
#define read_unlock_bh(l) kmc_c_rwlock_unlock((l), 0, 2, KMC_LOC)
#define write_lock_bh(l) kmc_c_rwlock_lock((l), 1, 2, KMC_LOC)
#define write_unlock_bh(l) kmc_c_rwlock_unlock((l), 1, 2, KMC_LOC)
#define read_lock_irqsave(l, flags) \
  do { (flags) = kmc_c_rwlock_lock_irqsave((l), 0, KMC_LOC); } while (0)
#define write_lock_irqsave(l, flags) \
  do { (flags) = kmc_c_rwlock_lock_irqsave((l), 1, KMC_LOC); } while (0)
#define read_unlock_irqrestore(l, flags) kmc_c_rwlock_unlock_irqrestore((l), 0, (flags), KMC_LOC)
#define write_unlock_irqrestore(l, flags) kmc_c_rwlock_unlock_irqrestore((l), 1, (flags), KMC_LOC)
#endif
