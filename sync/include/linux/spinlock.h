/* kmc: <linux/spinlock.h>: spinlock_t and rwlock_t with the _irqsave, _irq
 * and _bh variants. Holding one is atomic context (sleeping is reported). */
#ifndef _KMC_LINUX_SPINLOCK_H
#define _KMC_LINUX_SPINLOCK_H
#include <linux/types.h>
#include <linux/irqflags.h>
#define DEFINE_SPINLOCK(x) spinlock_t x = {#x, 1, {0, 0}}
#define spin_lock_init(l) kmc_c_spin_lock_init((l), #l, KMC_LOC)
#define spin_lock(l) kmc_c_spin_lock((l), 0, KMC_LOC)
#define spin_unlock(l) kmc_c_spin_unlock((l), 0, KMC_LOC)
#define spin_lock_irq(l) kmc_c_spin_lock((l), 1, KMC_LOC)
#define spin_unlock_irq(l) kmc_c_spin_unlock((l), 1, KMC_LOC)
#define spin_lock_bh(l) kmc_c_spin_lock((l), 2, KMC_LOC)
#define spin_unlock_bh(l) kmc_c_spin_unlock((l), 2, KMC_LOC)
#define spin_lock_irqsave(l, flags) \
  do { (flags) = kmc_c_spin_lock_irqsave((l), KMC_LOC); } while (0)
#define spin_unlock_irqrestore(l, flags) kmc_c_spin_unlock_irqrestore((l), (flags), KMC_LOC)
#define spin_trylock(l) kmc_c_spin_trylock((l), KMC_LOC)
#define spin_is_locked(l) kmc_c_spin_is_locked((l), KMC_LOC)
#include <linux/rwlock.h>
#endif
