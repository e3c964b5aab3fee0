/* kmc: <linux/seqlock.h>: seqcount_t and seqlock_t over kmc's seqlock
 * (sync/seqlock.h), with the kernel's barrier placement.
 *
 * Readers copy the protected data with READ_ONCE(): kmc does not exempt
 * plain loads inside a read section the way the kernel's KCSAN does, so a
 * plain load there is reported as a data race with the writer. Writers may
 * store plainly. A reader that sees an odd sequence waits for the writer.
 * Writers of a seqlock_t are serialized by its spinlock (atomic context);
 * a bare seqcount_t writer must be serialized by the caller. */
#ifndef _KMC_LINUX_SEQLOCK_H
#define _KMC_LINUX_SEQLOCK_H
#include <linux/types.h>
#include <linux/spinlock.h>

#define SEQCNT_ZERO(name) {0, {0, 0}, #name, {0, 0}}
#define seqcount_init(s) kmc_c_seqcount_init((s), #s, KMC_LOC)
#define read_seqcount_begin(s) kmc_c_read_seqcount_begin((s), 1, KMC_LOC)
#define raw_read_seqcount_begin(s) kmc_c_read_seqcount_begin((s), 1, KMC_LOC)
#define __read_seqcount_begin(s) kmc_c_read_seqcount_begin((s), 0, KMC_LOC)
#define read_seqcount_retry(s, start) kmc_c_read_seqcount_retry((s), (start), 1, KMC_LOC)
#define __read_seqcount_retry(s, start) kmc_c_read_seqcount_retry((s), (start), 0, KMC_LOC)
#define write_seqcount_begin(s) kmc_c_write_seqcount_begin((s), KMC_LOC)
#define write_seqcount_end(s) kmc_c_write_seqcount_end((s), KMC_LOC)

#define __SEQLOCK_UNLOCKED(name) {SEQCNT_ZERO(name), {#name, 1, {0, 0}}}
#define DEFINE_SEQLOCK(name) seqlock_t name = __SEQLOCK_UNLOCKED(name)
#define seqlock_init(sl) kmc_c_seqlock_init((sl), #sl, KMC_LOC)
#define read_seqbegin(sl) kmc_c_read_seqbegin((sl), KMC_LOC)
#define read_seqretry(sl, start) kmc_c_read_seqretry((sl), (start), KMC_LOC)
#define write_seqlock(sl) kmc_c_write_seqlock((sl), 0, KMC_LOC)
#define write_sequnlock(sl) kmc_c_write_sequnlock((sl), 0, KMC_LOC)
#define write_seqlock_irq(sl) kmc_c_write_seqlock((sl), 1, KMC_LOC)
#define write_sequnlock_irq(sl) kmc_c_write_sequnlock((sl), 1, KMC_LOC)
#define write_seqlock_bh(sl) kmc_c_write_seqlock((sl), 2, KMC_LOC)
#define write_sequnlock_bh(sl) kmc_c_write_sequnlock((sl), 2, KMC_LOC)
#define write_seqlock_irqsave(sl, flags) \
  do { (flags) = kmc_c_write_seqlock_irqsave((sl), KMC_LOC); } while (0)
#define write_sequnlock_irqrestore(sl, flags) \
  kmc_c_write_sequnlock_irqrestore((sl), (flags), KMC_LOC)
#define read_seqlock_excl(sl) kmc_c_read_seqlock_excl((sl), 0, KMC_LOC)
#define read_sequnlock_excl(sl) kmc_c_read_sequnlock_excl((sl), 0, KMC_LOC)
#define read_seqlock_excl_irq(sl) kmc_c_read_seqlock_excl((sl), 1, KMC_LOC)
#define read_sequnlock_excl_irq(sl) kmc_c_read_sequnlock_excl((sl), 1, KMC_LOC)
#define read_seqlock_excl_bh(sl) kmc_c_read_seqlock_excl((sl), 2, KMC_LOC)
#define read_sequnlock_excl_bh(sl) kmc_c_read_sequnlock_excl((sl), 2, KMC_LOC)
#endif
