/* kmc: <linux/interrupt.h>: irq handlers, tasklets, irq flags.
 * request_irq() registers the handler; a model's interrupt source delivers
 * it with kmc::GenerateIrq(irq) (sync/module.h), in hardirq context. */
#ifndef _KMC_LINUX_INTERRUPT_H
#define _KMC_LINUX_INTERRUPT_H
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/irqflags.h>
#include <linux/workqueue.h>
typedef int irqreturn_t;
#define IRQ_NONE 0
#define IRQ_HANDLED 1
#define IRQ_WAKE_THREAD 2
#define IRQF_SHARED 0x80u
typedef irqreturn_t (*irq_handler_t)(int, void *);
#define request_irq(irq, handler, flags, name, dev) \
  kmc_c_request_irq((irq), (handler), (flags), (name), (dev), KMC_LOC)
#define free_irq(irq, dev) kmc_c_free_irq((irq), (dev), KMC_LOC)
#define in_irq() kmc_c_in_irq()
#define in_hardirq() kmc_c_in_irq()
#define in_softirq() kmc_c_in_softirq()
#define in_interrupt() kmc_c_in_interrupt()
#define DECLARE_TASKLET(n, cb) struct tasklet_struct n = {#n, 0, 0, (cb), {0, 0}}
#define DECLARE_TASKLET_OLD(n, f) struct tasklet_struct n = {#n, (f), 0, 0, {0, 0}}
static inline void tasklet_init(struct tasklet_struct *t, void (*func)(unsigned long),
                                unsigned long data) {
  t->func = func;
  t->data = data;
  t->callback = 0;
  kmc_c_tasklet_init(t, "tasklet");
}
static inline void tasklet_setup(struct tasklet_struct *t,
                                 void (*cb)(struct tasklet_struct *)) {
  t->func = 0;
  t->data = 0;
  t->callback = cb;
  kmc_c_tasklet_init(t, "tasklet");
}
#define tasklet_schedule(t) kmc_c_tasklet_schedule((t), 0, KMC_LOC)
#define tasklet_hi_schedule(t) kmc_c_tasklet_schedule((t), 1, KMC_LOC)
#define tasklet_kill(t) kmc_c_tasklet_kill((t), KMC_LOC)
#define from_tasklet(var, t, field) container_of(t, __typeof__(*var), field)
#endif
