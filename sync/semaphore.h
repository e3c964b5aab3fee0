// kmc: struct semaphore (kernel/locking/semaphore.c).
//
// A counting semaphore. down() takes a unit or sleeps at the tail of a FIFO
// wait list; up() hands the unit directly to the first sleeper (the count is
// not incremented, so a task that has not slept cannot steal it) or, with no
// sleeper, increments the count. An extra up() is legal: on a semaphore used
// as a mutex it silently breaks mutual exclusion, which the driver's own
// invariants (or the race detector) must catch.
//
// Context: down(), down_interruptible() may sleep (might_sleep() is checked).
// down_trylock() and up() may be called from any context.
// Memory ordering: up() releases, a successful down*() acquires.

#ifndef KMC_SYNC_SEMAPHORE_H_
#define KMC_SYNC_SEMAPHORE_H_

#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

struct semaphore {
  const char* name;
  int initial;
  bool defined;  // statically initialized (DEFINE_SEMAPHORE)
  mutable internal::Handle h;
};

// DEFINE_SEMAPHORE(name): a semaphore with count 1 (newer kernels take the
// count as a second argument; both spellings work).
#define DEFINE_SEMAPHORE(sem, ...) \
  ::kmc::kernel::semaphore sem { #sem, ::kmc::kernel::detail::SemInit(__VA_ARGS__), true, {0, 0} }
#define sema_init(sem, val) ::kmc::kernel::sema_init_named((sem), (val), #sem)

namespace detail {
constexpr int SemInit() { return 1; }
constexpr int SemInit(int n) { return n; }
}  // namespace detail

void sema_init_named(semaphore* sem, int val, const char* name,
                     const Loc& loc = Loc::current());
void down(semaphore* sem, const Loc& loc = Loc::current());
// Return: 0, or -EINTR when a signal arrived while sleeping.
int down_interruptible(semaphore* sem, const Loc& loc = Loc::current());
int down_killable(semaphore* sem, const Loc& loc = Loc::current());
// Return: 0 when acquired, 1 when not (the opposite of spin_trylock).
int down_trylock(semaphore* sem, const Loc& loc = Loc::current());
void up(semaphore* sem, const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_SEMAPHORE_H_
