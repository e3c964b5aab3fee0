/* kmc: <linux/semaphore.h>. down*() may sleep; down_interruptible() returns
 * -EINTR on a signal; down_trylock() returns 0 when it took the semaphore. */
#ifndef _KMC_LINUX_SEMAPHORE_H
#define _KMC_LINUX_SEMAPHORE_H
#include <linux/types.h>
#define __KMC_SEM1(n) 1
#define __KMC_SEMN(n, c) c
#define __KMC_SEM_PICK(_1, _2, f, ...) f
#define DEFINE_SEMAPHORE(name, ...) \
  struct semaphore name = {#name, __KMC_SEM_PICK(name, ##__VA_ARGS__, __KMC_SEMN, __KMC_SEM1)(name, ##__VA_ARGS__), 1, {0, 0}}
#define sema_init(s, v) kmc_c_sema_init((s), (v), #s, KMC_LOC)
#define down(s) kmc_c_down((s), KMC_LOC)
#define down_interruptible(s) kmc_c_down_interruptible((s), KMC_LOC)
#define down_killable(s) kmc_c_down_killable((s), KMC_LOC)
#define down_trylock(s) kmc_c_down_trylock((s), KMC_LOC)
#define up(s) kmc_c_up((s), KMC_LOC)
#endif
