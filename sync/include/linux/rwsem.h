/* kmc: <linux/rwsem.h>. Writer preference; reads are not recursive. */
#ifndef _KMC_LINUX_RWSEM_H
#define _KMC_LINUX_RWSEM_H
#include <linux/types.h>
#define DECLARE_RWSEM(n) struct rw_semaphore n = {#n, 1, {0, 0}}
#define init_rwsem(s) kmc_c_init_rwsem((s), #s, KMC_LOC)
#define down_read(s) kmc_c_down_read((s), KMC_LOC)
#define down_read_trylock(s) kmc_c_down_read_trylock((s), KMC_LOC)
#define up_read(s) kmc_c_up_read((s), KMC_LOC)
#define down_write(s) kmc_c_down_write((s), KMC_LOC)
#define down_write_trylock(s) kmc_c_down_write_trylock((s), KMC_LOC)
#define up_write(s) kmc_c_up_write((s), KMC_LOC)
#define downgrade_write(s) kmc_c_downgrade_write((s), KMC_LOC)
#endif
