// kmc: reader/writer semaphores (kernel/locking/rwsem.c).
//
// Writer preference: once a writer waits, new readers queue behind it, so a
// task that takes down_read() twice while a writer arrives in between
// deadlocks (rwsem reads are not recursive, unlike rwlock_t reads).
// up_write()/up_read() hand the semaphore to the head of the FIFO queue: one
// writer, or the readers at the head up to the next writer.
// downgrade_write() turns the writer into a reader and admits waiting readers.
//
// Context: down_read/down_write may sleep (might_sleep()). Memory ordering:
// releases order earlier writes before the next acquirer's reads.

#ifndef KMC_SYNC_RWSEM_H_
#define KMC_SYNC_RWSEM_H_

#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

struct rw_semaphore {
  const char* name;
  bool defined;
  mutable internal::Handle h;
};

#define DECLARE_RWSEM(n) ::kmc::kernel::rw_semaphore n { #n, true, {0, 0} }
#define init_rwsem(s) ::kmc::kernel::init_rwsem_named((s), #s)
void init_rwsem_named(rw_semaphore* sem, const char* name, const Loc& loc = Loc::current());
void down_read(rw_semaphore* sem, const Loc& loc = Loc::current());
int down_read_interruptible(rw_semaphore* sem, const Loc& loc = Loc::current());
// Return: 1 when acquired, 0 otherwise (like spin_trylock, unlike down_trylock).
int down_read_trylock(rw_semaphore* sem, const Loc& loc = Loc::current());
void up_read(rw_semaphore* sem, const Loc& loc = Loc::current());
void down_write(rw_semaphore* sem, const Loc& loc = Loc::current());
int down_write_killable(rw_semaphore* sem, const Loc& loc = Loc::current());
int down_write_trylock(rw_semaphore* sem, const Loc& loc = Loc::current());
void up_write(rw_semaphore* sem, const Loc& loc = Loc::current());
void downgrade_write(rw_semaphore* sem, const Loc& loc = Loc::current());
// Lockdep annotations (sync/lockdep.h).
void down_read_nested(rw_semaphore* sem, int subclass, const Loc& loc = Loc::current());
void down_write_nested(rw_semaphore* sem, int subclass, const Loc& loc = Loc::current());
void down_write_nest_lock_impl(rw_semaphore* sem, const void* nest, const Loc& loc);
#define down_write_nest_lock(sem, nest) \
  ::kmc::kernel::down_write_nest_lock_impl((sem), (nest), std::source_location::current())

}  // namespace kmc::kernel

#endif  // KMC_SYNC_RWSEM_H_
