// kmc: Read-Copy-Update (include/linux/rcupdate.h, kernel/rcu/tree.c,
// Documentation/RCU/whatisRCU.rst), non-preemptible (CONFIG_PREEMPT_NONE).
//
// Defines rcu_read_lock()/rcu_read_unlock(), rcu_dereference() and friends,
// rcu_assign_pointer(), RCU_INIT_POINTER(), synchronize_rcu(), call_rcu(),
// kfree_rcu() and rcu_barrier(). The RCU list helpers are in sync/list.h.
//
// Semantics:
//   * Readers nest. A reader section runs from the outermost rcu_read_lock()
//     to the matching rcu_read_unlock(). rcu_read_lock() disables preemption
//     (non-preemptible RCU), so sleeping inside a reader (mutex_lock, down,
//     GFP_KERNEL allocation, copy_to_user, ...) is "BUG: sleeping function
//     called from invalid context", and the reader shows up as the held lock
//     "rcu_read_lock" in lockdep-style reports.
//   * synchronize_rcu() waits (sleeps) until every task that was inside a
//     reader section when it started has left that section. Readers that
//     start later are not waited for: they are guaranteed to see everything
//     the updater did before synchronize_rcu().
//   * call_rcu()/kfree_rcu() queue a callback that runs after a grace period.
//     kmc runs queued callbacks at the end of the next synchronize_rcu() or
//     rcu_barrier() (of any task) whose grace period started after they were
//     queued; rcu_barrier() waits for a grace period and runs every queued
//     callback. A callback runs in the calling task with preemption disabled
//     (as in softirq context: it must not sleep). Callbacks never run on
//     their own, so a model that uses call_rcu()/kfree_rcu() must call
//     rcu_barrier() at module exit, as the kernel requires of modules;
//     otherwise the objects they free are reported by kmemleak.
//   * Freeing an object while a reader can still reach it is caught by the
//     KASAN use-after-free check when the reader touches it.
//
// Reports (docs/KERNEL_SEMANTICS.md §1):
//   * synchronize_rcu() inside a reader: "WARNING: suspicious RCU usage",
//     "Illegal synchronize_rcu() in RCU read-side critical section!", with
//     the deadlock verdict (the grace period would wait for the caller);
//   * rcu_dereference() outside a reader, and list_for_each_entry_rcu()
//     outside a reader without a lockdep condition: "WARNING: suspicious RCU
//     usage" (CONFIG_PROVE_RCU), lock-misuse verdict;
//   * rcu_read_unlock() without rcu_read_lock(): "WARNING: bad unlock balance
//     detected!"; a task that returns inside a reader: "still has locks held".
//
// Context: rcu_read_lock/unlock, rcu_dereference, rcu_assign_pointer,
// call_rcu, kfree_rcu: any context. synchronize_rcu() and rcu_barrier() may
// sleep (might_sleep() is checked) and must not be called inside a reader.
//
// Memory ordering (docs/KERNEL_SEMANTICS.md §7.1, §7.3): rcu_assign_pointer() is a
// release store and rcu_dereference() an acquire load (consume, strengthened),
// on Shared<T *> fields; RCU_INIT_POINTER() and rcu_access_pointer() are
// relaxed. rcu_read_lock() is "nesting++, then a seq_cst fence";
// rcu_read_unlock() is "a seq_cst fence, then nesting--" and releases into a
// per-task channel; synchronize_rcu() is "seq_cst fence, wait for each
// pre-existing reader (acquiring its channel), seq_cst fence". So a reader
// that the grace period waited for happens before everything after
// synchronize_rcu(), and a reader that started after the grace period began
// sees everything before it (Relacy orders seq_cst fences in execution order).

#ifndef KMC_SYNC_RCUPDATE_H_
#define KMC_SYNC_RCUPDATE_H_

#include <cstddef>
#include <type_traits>

#include "sync/shared.h"
#include "sync/types.h"

namespace kmc::kernel {

// struct callback_head: what call_rcu() queues (kmc keeps the queue in its
// own state; the fields are never read).
struct rcu_head {
  rcu_head *next;
  void (*func)(rcu_head *head);
};
using callback_head = rcu_head;
using rcu_callback_t = void (*)(rcu_head *head);

void rcu_read_lock(const Loc &loc = Loc::current());
void rcu_read_unlock(const Loc &loc = Loc::current());
// RCU-sched readers: preemption disabled; since the flavors were merged
// (v4.20) synchronize_rcu() waits for them as for rcu_read_lock() readers,
// which in kmc already disable preemption.
inline void rcu_read_lock_sched(const Loc &loc = Loc::current()) { rcu_read_lock(loc); }
inline void rcu_read_unlock_sched(const Loc &loc = Loc::current()) { rcu_read_unlock(loc); }
// True inside a reader section of the current task.
bool rcu_read_lock_held();

// Waits for a grace period: every reader section that began before it has
// ended. Then runs the queued callbacks whose grace period it completes.
// Context: process context, may sleep; not inside a reader.
void synchronize_rcu(const Loc &loc = Loc::current());
// Queues func(head) to run after a grace period. Context: any.
void call_rcu(rcu_head *head, rcu_callback_t func, const Loc &loc = Loc::current());
// Waits for a grace period and runs every queued callback.
// Context: process context (module exit), may sleep; not inside a reader.
void rcu_barrier(const Loc &loc = Loc::current());

namespace detail {
void KfreeRcu(const void *object, rcu_head *head, const Loc &loc);
// Reports rcu_dereference() outside a reader (unless `ok`).
void RcuDereferenceCheck(bool ok, const char *fn, const Loc &loc);
bool LockHeld(const void *lock);

template <class T>
T RcuDereference(const Shared<T> &p, bool ok, const char *fn, std::source_location loc) {
  RcuDereferenceCheck(ok, fn, loc);
  return p.load_marked(1, fn, loc);
}
template <class T>
T RcuDereference(const T &p, bool ok, const char *fn, std::source_location loc) {
  RcuDereferenceCheck(ok, fn, loc);
  return p;
}
template <class T>
T RcuDereferenceProtected(const Shared<T> &p, bool ok, std::source_location loc) {
  RcuDereferenceCheck(ok, "rcu_dereference_protected", loc);
  return p.get(loc);
}
template <class T>
T RcuDereferenceProtected(const T &p, bool ok, std::source_location loc) {
  RcuDereferenceCheck(ok, "rcu_dereference_protected", loc);
  return p;
}
}  // namespace detail

// kfree_rcu(ptr, rhf): kfree(ptr) after a grace period; `rhf` names the
// struct rcu_head member of *ptr.
#define kfree_rcu(ptr, rhf)                                                               \
  ::kmc::kernel::detail::KfreeRcu((ptr), &(ptr)->rhf, std::source_location::current())

// lockdep_is_held(&lock): true when the current task holds the lock (any kmc
// lock type). For rcu_dereference_check()/rcu_dereference_protected().
#ifndef lockdep_is_held
#define lockdep_is_held(lock) (::kmc::kernel::detail::LockHeld(lock))
#endif

// p is a Shared<T *> field (or a plain pointer, then the access is plain).
#define rcu_dereference(p) \
  ::kmc::kernel::detail::RcuDereference((p), false, "rcu_dereference", std::source_location::current())
#define rcu_dereference_check(p, c)                                                       \
  ::kmc::kernel::detail::RcuDereference((p), static_cast<bool>(c), "rcu_dereference_check", \
                                        std::source_location::current())
#define rcu_dereference_raw(p) \
  ::kmc::kernel::detail::RcuDereference((p), true, "rcu_dereference_raw", std::source_location::current())
// The update side, holding the lock that serializes updaters: a plain load.
#define rcu_dereference_protected(p, c)                                          \
  ::kmc::kernel::detail::RcuDereferenceProtected((p), static_cast<bool>(c),     \
                                                 std::source_location::current())
// The pointer's value only (no dereference allowed): a relaxed load.
#define rcu_access_pointer(p) \
  ::kmc::kernel::detail::ReadOnce((p), 0, "rcu_access_pointer", std::source_location::current())
// Publishes p = v with release ordering: v's initialization happens before
// any reader's rcu_dereference() that sees v.
#define rcu_assign_pointer(p, v) \
  ::kmc::kernel::detail::WriteOnce((p), (v), 2, "rcu_assign_pointer", std::source_location::current())
// Stores without ordering: for NULL, or before readers can see the structure.
#define RCU_INIT_POINTER(p, v) \
  ::kmc::kernel::detail::WriteOnce((p), (v), 0, "RCU_INIT_POINTER", std::source_location::current())

}  // namespace kmc::kernel

#endif  // KMC_SYNC_RCUPDATE_H_
