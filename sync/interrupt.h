// kmc: interrupt context (include/linux/interrupt.h, irqflags.h, bottom_half.h,
// workqueue.h, timer.h).
//
// Interrupt sources are declared by the model (Model::FixtureBuilder::Irq):
// each handler runs in hardirq context on its CPU with interrupts disabled,
// only when that CPU has interrupts enabled, and runs to completion while the
// code it interrupted makes no progress. The engine explores where each
// interrupt arrives (at the scheduling points of the interrupted code: every
// primitive operation, and with Model::FineGrained every plain access). See docs/INTERRUPTS.md for what is and is not modelled.
//
// Softirq context: tasklets and timers run at irq exit, at local_bh_enable()
// / spin_unlock_bh(), in ksoftirqd (Model::SoftirqDaemons), and otherwise once
// every thread has finished. A tasklet never runs concurrently with itself;
// scheduling it again while it is pending does nothing (schedules coalesce).
// Work items run in process context on the worker (Model::Workqueue).
//
// Checks: sleeping in hardirq/softirq context or with interrupts disabled is
// "BUG: sleeping function called from invalid context"; local_irq_restore()
// with flags that local_irq_save() did not return is reported (lock misuse).

#ifndef KMC_SYNC_INTERRUPT_H_
#define KMC_SYNC_INTERRUPT_H_

#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

enum irqreturn_t { IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2 };

// --- interrupt flags -------------------------------------------------------
unsigned long local_irq_save_impl(const Loc& loc);
#define local_irq_save(flags) ((flags) = ::kmc::kernel::local_irq_save_impl(std::source_location::current()))
void local_irq_restore(unsigned long flags, const Loc& loc = Loc::current());
void local_irq_disable(const Loc& loc = Loc::current());
void local_irq_enable(const Loc& loc = Loc::current());
void local_bh_disable(const Loc& loc = Loc::current());
void local_bh_enable(const Loc& loc = Loc::current());

bool in_irq();
bool in_hardirq();
bool in_softirq();
bool in_task();

// --- tasklets ---------------------------------------------------------------
struct tasklet_struct {
  const char* name;
  void (*func)(unsigned long);
  unsigned long data;
  void (*callback)(tasklet_struct*);
  mutable internal::Handle h;
};

namespace detail {
inline tasklet_struct MakeTasklet(const char* name, void (*cb)(tasklet_struct*)) {
  return tasklet_struct{name, nullptr, 0, cb, {0, 0}};
}
inline tasklet_struct MakeTasklet(const char* name, void (*fn)(unsigned long), unsigned long data) {
  return tasklet_struct{name, fn, data, nullptr, {0, 0}};
}
}  // namespace detail

// DECLARE_TASKLET(name, callback) (v5.9+) or DECLARE_TASKLET(name, func, data).
#define DECLARE_TASKLET(n, ...) \
  ::kmc::kernel::tasklet_struct n = ::kmc::kernel::detail::MakeTasklet(#n, __VA_ARGS__)
void tasklet_init(tasklet_struct* t, void (*func)(unsigned long), unsigned long data);
void tasklet_setup(tasklet_struct* t, void (*callback)(tasklet_struct*));
void tasklet_schedule(tasklet_struct* t, const Loc& loc = Loc::current());
void tasklet_hi_schedule(tasklet_struct* t, const Loc& loc = Loc::current());
// Waits until the tasklet is neither pending nor running (process context).
void tasklet_kill(tasklet_struct* t, const Loc& loc = Loc::current());
#define from_tasklet(var, t, field) container_of(t, std::remove_pointer_t<decltype(var)>, field)

// --- workqueues -------------------------------------------------------------
struct work_struct {
  const char* name;
  void (*func)(work_struct*);
  mutable internal::Handle h;
};
#define DECLARE_WORK(n, f) ::kmc::kernel::work_struct n{#n, (f), {0, 0}}
#define INIT_WORK(w, f) ::kmc::kernel::init_work_named((w), (f), #w)
void init_work_named(work_struct* w, void (*func)(work_struct*), const char* name);
// Return: true when queued, false when it was already pending.
bool schedule_work(work_struct* w, const Loc& loc = Loc::current());
// Waits for the work to finish; true when it had to wait.
bool flush_work(work_struct* w, const Loc& loc = Loc::current());
// Cancels pending work and waits for a running instance; true if it was pending.
bool cancel_work_sync(work_struct* w, const Loc& loc = Loc::current());

// --- timers -----------------------------------------------------------------
inline constexpr unsigned long HZ = 100;
inline constexpr unsigned long jiffies = 0;  // time is abstract: firing is explored
struct timer_list {
  const char* name;
  void (*function)(timer_list*);
  unsigned long expires;
  mutable internal::Handle h;
};
#define timer_setup(t, fn, flags) ::kmc::kernel::timer_setup_named((t), (fn), (flags), #t)
void timer_setup_named(timer_list* t, void (*fn)(timer_list*), unsigned flags, const char* name);
// Arms (or re-arms) the timer: it fires once, in softirq context on the
// arming CPU, at a point the engine explores. Return: 1 if it was pending.
int mod_timer(timer_list* t, unsigned long expires, const Loc& loc = Loc::current());
void add_timer(timer_list* t, const Loc& loc = Loc::current());
int del_timer(timer_list* t, const Loc& loc = Loc::current());
// Disarms and waits for a running handler (not from the timer's own handler).
int del_timer_sync(timer_list* t, const Loc& loc = Loc::current());
bool timer_pending(const timer_list* t);
#define from_timer(var, t, field) container_of(t, std::remove_pointer_t<decltype(var)>, field)

}  // namespace kmc::kernel

#endif  // KMC_SYNC_INTERRUPT_H_
