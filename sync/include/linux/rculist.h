/* kmc: <linux/rculist.h>: list updates that RCU readers may walk
 * concurrently. The pointer a reader follows (->next) is published with
 * rcu_assign_pointer()/WRITE_ONCE() and read with rcu_dereference(); the
 * other pointer updates are plain accesses (readers never follow ->prev).
 * Updaters serialize among themselves (a spinlock). */
#ifndef _KMC_LINUX_RCULIST_H
#define _KMC_LINUX_RCULIST_H
#include <linux/list.h>
#include <linux/rcupdate.h>

static inline void list_add_rcu(struct list_head *n, struct list_head *head) {
  struct list_head *next = head->next;
  n->next = next;
  n->prev = head;
  rcu_assign_pointer(head->next, n);
  next->prev = n;
}
static inline void list_del_rcu(struct list_head *e) {
  e->next->prev = e->prev;
  WRITE_ONCE(e->prev->next, e->next);
  e->prev = (struct list_head *)0x122; /* LIST_POISON2; ->next stays for readers */
}
#define list_entry_rcu(ptr, type, member) container_of(rcu_dereference(ptr), type, member)
#define list_for_each_entry_rcu(pos, head, member)                            \
  for (pos = list_entry_rcu((head)->next, __typeof__(*pos), member);          \
       &pos->member != (head);                                                 \
       pos = list_entry_rcu(pos->member.next, __typeof__(*pos), member))
#endif
