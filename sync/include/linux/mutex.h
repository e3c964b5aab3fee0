/* kmc: <linux/mutex.h>. */
#ifndef _KMC_LINUX_MUTEX_H
#define _KMC_LINUX_MUTEX_H
#include <linux/types.h>
#define DEFINE_MUTEX(m) struct mutex m = {#m, 1, {0, 0}}
#define mutex_init(m) kmc_c_mutex_init((m), #m, KMC_LOC)
#define mutex_lock(m) kmc_c_mutex_lock((m), KMC_LOC)
#define mutex_lock_interruptible(m) kmc_c_mutex_lock_interruptible((m), KMC_LOC)
#define mutex_lock_killable(m) kmc_c_mutex_lock_killable((m), KMC_LOC)
#define mutex_trylock(m) kmc_c_mutex_trylock((m), KMC_LOC)
#define mutex_unlock(m) kmc_c_mutex_unlock((m), KMC_LOC)
#define mutex_is_locked(m) kmc_c_mutex_is_locked((m), KMC_LOC)
#define mutex_destroy(m) ((void)(m))
#endif
