/* kmc: <linux/workqueue.h>. Work runs in process context on the model's
 * worker (Model::Workqueue). Delayed work is not modelled yet. */
#ifndef _KMC_LINUX_WORKQUEUE_H
#define _KMC_LINUX_WORKQUEUE_H
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/timer.h>
#define DECLARE_WORK(n, f) struct work_struct n = {#n, (f), {0, 0}}
#define INIT_WORK(w, f) kmc_c_init_work((w), (f), #w)
#define schedule_work(w) kmc_c_schedule_work((w), KMC_LOC)
#define flush_work(w) kmc_c_flush_work((w), KMC_LOC)
#define cancel_work_sync(w) kmc_c_cancel_work_sync((w), KMC_LOC)
struct delayed_work {
  struct work_struct work;
  struct timer_list timer;
};
#define __KMC_NO_DWORK(f) \
  __attribute__((error("kmc: " #f " (delayed work) is not modelled yet; see docs/CHECK_YOUR_DRIVER.md")))
void __kmc_init_delayed_work(struct delayed_work *w, void (*fn)(struct work_struct *)) __KMC_NO_DWORK(INIT_DELAYED_WORK);
#define INIT_DELAYED_WORK(w, f) __kmc_init_delayed_work((w), (f))
int schedule_delayed_work(struct delayed_work *w, unsigned long delay) __KMC_NO_DWORK(schedule_delayed_work);
int cancel_delayed_work_sync(struct delayed_work *w) __KMC_NO_DWORK(cancel_delayed_work_sync);
int cancel_delayed_work(struct delayed_work *w) __KMC_NO_DWORK(cancel_delayed_work);
struct workqueue_struct;
struct workqueue_struct *create_singlethread_workqueue(const char *name)
    __attribute__((error("kmc: private workqueues are not modelled; use schedule_work; see docs/CHECK_YOUR_DRIVER.md")));
#define to_delayed_work(w) container_of(w, struct delayed_work, work)
#endif
