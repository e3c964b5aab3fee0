// kmc: doubly linked lists (include/linux/list.h, include/linux/rculist.h).
//
// Defines struct list_head and the list API drivers use: LIST_HEAD,
// INIT_LIST_HEAD, list_add, list_add_tail, list_del, list_del_init,
// list_move_tail, list_empty, list_is_last, list_entry, list_first_entry,
// list_last_entry, list_next_entry, list_for_each, list_for_each_safe,
// list_for_each_entry, list_for_each_entry_safe; and the RCU variants
// list_add_rcu, list_add_tail_rcu, list_del_rcu, list_entry_rcu,
// list_for_each_entry_rcu (readers under rcu_read_lock(), updaters under the
// update-side lock; see sync/rcupdate.h).
//
// The links are Shared<list_head *>, so a list changed by two tasks without a
// lock is a data race and a walk over a freed node is a use after free. The
// accesses are the kernel's: __list_add() and __list_del() publish the link
// that a lockless reader may follow with WRITE_ONCE (one scheduling step per
// list_add/list_del), list_empty() reads with READ_ONCE, the rest are plain.
//
// CONFIG_DEBUG_LIST is on: list_add() of an entry whose neighbours do not
// point at each other, a double add, and list_del() of an entry that is
// already deleted (LIST_POISON) or whose neighbours do not point back are
// reported with the kernel's "list_add corruption" / "list_del corruption"
// messages (verdict: assertion failed, the kernel's BUG on data corruption).
// Following a poisoned link in list_for_each_entry*() is reported as the
// general protection fault the kernel would take, instead of crashing kmc.
//
// Context: any. Locking: the caller's (a list is not thread-safe); RCU
// readers may walk a list concurrently with list_add_rcu()/list_del_rcu().
// Memory ordering: list_add_rcu()/list_add_tail_rcu() publish the new entry
// with rcu_assign_pointer() (release); list_entry_rcu() and
// list_for_each_entry_rcu() follow links with rcu_dereference() (acquire);
// the plain list operations order nothing (use a lock).

#ifndef KMC_SYNC_LIST_H_
#define KMC_SYNC_LIST_H_

#include <cstdint>
#include <type_traits>

#include "sync/fs.h"  // container_of
#include "sync/shared.h"
#include "sync/types.h"

namespace kmc::kernel {

struct list_head {
  Shared<list_head *> next;
  Shared<list_head *> prev;
};

// Poison values of deleted entries (include/linux/poison.h, x86_64
// POISON_POINTER_DELTA). Never dereferenced by kmc's own helpers.
#define LIST_POISON1 (reinterpret_cast<::kmc::kernel::list_head *>(uintptr_t{0xdead000000000100}))
#define LIST_POISON2 (reinterpret_cast<::kmc::kernel::list_head *>(uintptr_t{0xdead000000000122}))

#define LIST_HEAD_INIT(name)                                  \
  {                                                           \
    ::kmc::kernel::Shared<::kmc::kernel::list_head *>(&(name)), \
        ::kmc::kernel::Shared<::kmc::kernel::list_head *>(&(name)) \
  }
#define LIST_HEAD(name) ::kmc::kernel::list_head name = LIST_HEAD_INIT(name)

namespace detail {
// CONFIG_DEBUG_LIST checks; false (after a report) when the list is corrupt.
bool ListAddValid(list_head *n, list_head *prev, list_head *next, const Loc &loc);
bool ListDelValid(list_head *entry, const Loc &loc);
// Reads a link for an iterator, reporting a poisoned one (plain read, or an
// rcu_dereference() when rcu is true).
list_head *ListNext(const Shared<list_head *> &link, bool rcu, const Loc &loc);
// list_for_each_entry_rcu() outside rcu_read_lock() without a lockdep
// condition: "RCU-list traversed in non-reader section!!".
int ListCheckRcu(const Loc &loc, bool cond = false);
}  // namespace detail

inline void INIT_LIST_HEAD(list_head *list, const Loc &loc = Loc::current()) {
  list->next.set(list, loc);
  list->prev.set(list, loc);
}

inline void __list_add(list_head *n, list_head *prev, list_head *next,
                       const Loc &loc = Loc::current()) {
  if (!detail::ListAddValid(n, prev, next, loc)) return;
  next->prev.set(n, loc);
  n->next.set(next, loc);
  n->prev.set(prev, loc);
  detail::WriteOnce(prev->next, n, 0, "list_add", loc);  // WRITE_ONCE(prev->next, new)
}

// Inserts `n` after `head` (a stack).
inline void list_add(list_head *n, list_head *head, const Loc &loc = Loc::current()) {
  __list_add(n, head, head->next.get(loc), loc);
}

// Inserts `n` before `head` (a queue).
inline void list_add_tail(list_head *n, list_head *head, const Loc &loc = Loc::current()) {
  __list_add(n, head->prev.get(loc), head, loc);
}

inline void __list_del(list_head *prev, list_head *next, const Loc &loc = Loc::current()) {
  next->prev.set(prev, loc);
  detail::WriteOnce(prev->next, next, 0, "list_del", loc);  // WRITE_ONCE(prev->next, next)
}

inline void __list_del_entry(list_head *entry, const Loc &loc = Loc::current()) {
  if (!detail::ListDelValid(entry, loc)) return;
  __list_del(entry->prev.get(loc), entry->next.get(loc), loc);
}

// Unlinks `entry` and poisons its links.
inline void list_del(list_head *entry, const Loc &loc = Loc::current()) {
  __list_del_entry(entry, loc);
  entry->next.set(LIST_POISON1, loc);
  entry->prev.set(LIST_POISON2, loc);
}

inline void list_del_init(list_head *entry, const Loc &loc = Loc::current()) {
  __list_del_entry(entry, loc);
  INIT_LIST_HEAD(entry, loc);
}

inline void list_move_tail(list_head *list, list_head *head, const Loc &loc = Loc::current()) {
  __list_del_entry(list, loc);
  list_add_tail(list, head, loc);
}

inline bool list_is_last(const list_head *list, const list_head *head,
                         const Loc &loc = Loc::current()) {
  return list->next.get(loc) == head;
}

// READ_ONCE(head->next) == head: a lockless emptiness check is allowed.
inline bool list_empty(const list_head *head, const Loc &loc = Loc::current()) {
  return detail::ReadOnce(head->next, 0, "list_empty", loc) == head;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next.get(), type, member)
#define list_last_entry(ptr, type, member) list_entry((ptr)->prev.get(), type, member)
#define list_first_entry_or_null(ptr, type, member)                                     \
  ([&]() -> type * {                                                                   \
    ::kmc::kernel::list_head *head__ = (ptr);                                          \
    ::kmc::kernel::list_head *pos__ = ::kmc::kernel::detail::ReadOnce(                 \
        head__->next, 0, "list_first_entry_or_null", std::source_location::current()); \
    return pos__ != head__ ? list_entry(pos__, type, member) : nullptr;                 \
  }())
#define list_next_entry(pos, member)                                              \
  list_entry(::kmc::kernel::detail::ListNext((pos)->member.next, false,          \
                                             std::source_location::current()),   \
             std::remove_reference_t<decltype(*(pos))>, member)
#define list_prev_entry(pos, member) \
  list_entry((pos)->member.prev.get(), std::remove_reference_t<decltype(*(pos))>, member)
#define list_entry_is_head(pos, head, member) (&(pos)->member == (head))

#define list_for_each(pos, head)                                                   \
  for (pos = ::kmc::kernel::detail::ListNext((head)->next, false,                 \
                                             std::source_location::current());    \
       pos != (head);                                                             \
       pos = ::kmc::kernel::detail::ListNext(pos->next, false, std::source_location::current()))

#define list_for_each_safe(pos, n, head)                                                   \
  for (pos = ::kmc::kernel::detail::ListNext((head)->next, false,                         \
                                             std::source_location::current()),            \
      n = ::kmc::kernel::detail::ListNext(pos->next, false, std::source_location::current()); \
       pos != (head);                                                                     \
       pos = n, n = ::kmc::kernel::detail::ListNext(pos->next, false, std::source_location::current()))

#define list_for_each_entry(pos, head, member)                                             \
  for (pos = list_entry(::kmc::kernel::detail::ListNext((head)->next, false,              \
                                                        std::source_location::current()), \
                        std::remove_reference_t<decltype(*(pos))>, member);               \
       !list_entry_is_head(pos, head, member); pos = list_next_entry(pos, member))

#define list_for_each_entry_safe(pos, n, head, member)                                     \
  for (pos = list_entry(::kmc::kernel::detail::ListNext((head)->next, false,              \
                                                        std::source_location::current()), \
                        std::remove_reference_t<decltype(*(pos))>, member),               \
      n = list_next_entry(pos, member);                                                   \
       !list_entry_is_head(pos, head, member); pos = n, n = list_next_entry(n, member))

// ---------------------------------------------------------------------------
// RCU-protected lists (include/linux/rculist.h).

inline void __list_add_rcu(list_head *n, list_head *prev, list_head *next,
                           const Loc &loc = Loc::current()) {
  if (!detail::ListAddValid(n, prev, next, loc)) return;
  n->next.set(next, loc);
  n->prev.set(prev, loc);
  // rcu_assign_pointer(list_next_rcu(prev), new): publishes the initialized entry.
  detail::WriteOnce(prev->next, n, 2, "list_add_rcu", loc);
  next->prev.set(n, loc);
}

// Adds `n` after `head` for RCU readers (the caller holds the update lock).
inline void list_add_rcu(list_head *n, list_head *head, const Loc &loc = Loc::current()) {
  __list_add_rcu(n, head, head->next.get(loc), loc);
}

inline void list_add_tail_rcu(list_head *n, list_head *head, const Loc &loc = Loc::current()) {
  __list_add_rcu(n, head->prev.get(loc), head, loc);
}

// Unlinks `entry` but leaves entry->next intact, so a reader standing on it
// can go on walking; free it only after a grace period (synchronize_rcu(),
// call_rcu(), kfree_rcu()).
inline void list_del_rcu(list_head *entry, const Loc &loc = Loc::current()) {
  __list_del_entry(entry, loc);
  entry->prev.set(LIST_POISON2, loc);
}

#define list_entry_rcu(ptr, type, member) \
  container_of(::kmc::kernel::detail::ListNext((ptr), true, std::source_location::current()), type, member)

// list_for_each_entry_rcu(pos, head, member [, cond]): inside rcu_read_lock(),
// or with `cond` true (e.g. lockdep_is_held(&lock) for an updater).
#define list_for_each_entry_rcu(pos, head, member, ...)                                     \
  for (::kmc::kernel::detail::ListCheckRcu(std::source_location::current() __VA_OPT__(, ) \
                                               __VA_ARGS__),                               \
       pos = list_entry_rcu((head)->next, std::remove_reference_t<decltype(*(pos))>, member); \
       !list_entry_is_head(pos, head, member);                                             \
       pos = list_entry_rcu((pos)->member.next, std::remove_reference_t<decltype(*(pos))>, member))

}  // namespace kmc::kernel

#endif  // KMC_SYNC_LIST_H_
