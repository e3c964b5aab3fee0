/* kmc: <linux/rcupdate.h>, over the C++ RCU of sync/rcupdate.h (one
 * implementation): rcu_read_lock()/rcu_read_unlock() readers (they nest;
 * synchronize_rcu() inside one is reported), synchronize_rcu() (may sleep;
 * waits for every reader that began before it), and the pointer accessors as
 * marked accesses: rcu_dereference() an acquire load, rcu_assign_pointer()
 * a release store, rcu_access_pointer()/RCU_INIT_POINTER() relaxed.
 * call_rcu()/kfree_rcu() are not available to C drivers yet. */
#ifndef _KMC_LINUX_RCUPDATE_H
#define _KMC_LINUX_RCUPDATE_H
#include <linux/types.h>
#include <linux/compiler.h>

#define __rcu
#define rcu_read_lock() kmc_c_rcu_read_lock(KMC_LOC)
#define rcu_read_unlock() kmc_c_rcu_read_unlock(KMC_LOC)
#define synchronize_rcu() kmc_c_synchronize_rcu(KMC_LOC)
#define rcu_dereference(p) __kmc_marked_load(p, 1, "rcu_dereference")
#define rcu_dereference_protected(p, c) ((void)(c), (p))
#define rcu_access_pointer(p) __kmc_marked_load(p, 0, "rcu_access_pointer")
#define rcu_assign_pointer(p, v) __kmc_marked_store(p, v, 2, "rcu_assign_pointer")
#define RCU_INIT_POINTER(p, v) __kmc_marked_store(p, v, 0, "RCU_INIT_POINTER")

struct rcu_head;
void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *))
    __attribute__((error("kmc: call_rcu is not available to C drivers yet; use synchronize_rcu; see docs/CHECK_YOUR_DRIVER.md")));
#endif
