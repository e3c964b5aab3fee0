/* kmc: <linux/completion.h>. */
#ifndef _KMC_LINUX_COMPLETION_H
#define _KMC_LINUX_COMPLETION_H
#include <linux/types.h>
#define DECLARE_COMPLETION(n) struct completion n = {#n, 1, {0, 0}}
#define init_completion(c) kmc_c_init_completion((c), #c, KMC_LOC)
#define reinit_completion(c) kmc_c_reinit_completion((c), KMC_LOC)
#define wait_for_completion(c) kmc_c_wait_for_completion((c), KMC_LOC)
#define wait_for_completion_interruptible(c) kmc_c_wait_for_completion_interruptible((c), KMC_LOC)
#define wait_for_completion_timeout(c, t) kmc_c_wait_for_completion_timeout((c), (t), KMC_LOC)
#define try_wait_for_completion(c) kmc_c_try_wait_for_completion((c), KMC_LOC)
#define completion_done(c) kmc_c_completion_done((c), KMC_LOC)
#define complete(c) kmc_c_complete((c), KMC_LOC)
#define complete_all(c) kmc_c_complete_all((c), KMC_LOC)
#endif
