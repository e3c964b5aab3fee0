// kmc: wait queues and the sleep/wake-up protocol (include/linux/wait.h,
// kernel/sched/wait.c, Documentation/memory-barriers.txt "SLEEP AND WAKE-UP
// FUNCTIONS").
//
// The model is the kernel's, step for step, so a missing re-check of the
// condition or a check outside the queue is a real lost wake-up here:
//   prepare_to_wait()  queues the entry (non-exclusive at the head, exclusive
//                      at the tail) and sets the task state (with a full
//                      barrier: set_current_state);
//   schedule()         sleeps unless a wake-up already made the task
//                      TASK_RUNNING again;
//   wake_up*()         walks the queue, wakes every non-exclusive waiter and
//                      at most nr exclusive ones (the _interruptible forms only
//                      wake TASK_INTERRUPTIBLE sleepers), and removes the
//                      woken entries (autoremove_wake_function);
//   finish_wait()      sets TASK_RUNNING and dequeues the entry if needed.
// wait_event*() packages this: the condition is checked first, then after
// every wake-up. The condition is evaluated as the kernel does, without the
// driver's lock; kmc treats its reads as READ_ONCE (no data-race report for
// the lockless check itself: a wrong check shows up as a lost wake-up or a
// broken invariant).
//
// A wake-up sent when nobody is queued is lost; wake-ups are not counted.
// Timeouts (the _timeout forms) expire nondeterministically: the engine
// explores both "woken" and "timed out", never a clock. Signals (model option
// kSignals) interrupt TASK_INTERRUPTIBLE sleeps: wait_event_interruptible()
// returns -ERESTARTSYS and signal_pending(current) becomes true.
//
// Context: wait_event*(), schedule() may sleep (might_sleep(); schedule()
// with a spinlock held is "BUG: scheduling while atomic"). wake_up*() may be
// called from any context. Memory ordering: a wake-up that wakes a task
// orders the waker's earlier writes before the woken task's later reads.

#ifndef KMC_SYNC_WAIT_H_
#define KMC_SYNC_WAIT_H_

#include <functional>

#include "sync/fs.h"
#include "sync/internal/handle.h"
#include "sync/types.h"

namespace kmc::kernel {

struct wait_queue_head_t {
  const char* name;
  bool defined;
  mutable internal::Handle h;
};
using wait_queue_head = wait_queue_head_t;

#define DECLARE_WAIT_QUEUE_HEAD(n) ::kmc::kernel::wait_queue_head_t n { #n, true, {0, 0} }
#define init_waitqueue_head(q) ::kmc::kernel::init_waitqueue_head_named((q), #q)
void init_waitqueue_head_named(wait_queue_head_t* q, const char* name,
                               const Loc& loc = Loc::current());

// Task states.
inline constexpr int TASK_RUNNING = 0;
inline constexpr int TASK_INTERRUPTIBLE = 1;
inline constexpr int TASK_UNINTERRUPTIBLE = 2;

struct wait_queue_entry {
  unsigned flags = 0;  // WQ_FLAG_EXCLUSIVE
  int task = -1;       // engine thread of the owner, set by prepare_to_wait
};
using wait_queue_entry_t = wait_queue_entry;
inline constexpr unsigned WQ_FLAG_EXCLUSIVE = 0x01;
#define DEFINE_WAIT(name) ::kmc::kernel::wait_queue_entry name {}

void prepare_to_wait(wait_queue_head_t* q, wait_queue_entry* wait, int state,
                     const Loc& loc = Loc::current());
void prepare_to_wait_exclusive(wait_queue_head_t* q, wait_queue_entry* wait, int state,
                               const Loc& loc = Loc::current());
void finish_wait(wait_queue_head_t* q, wait_queue_entry* wait, const Loc& loc = Loc::current());
void add_wait_queue(wait_queue_head_t* q, wait_queue_entry* wait, const Loc& loc = Loc::current());
void remove_wait_queue(wait_queue_head_t* q, wait_queue_entry* wait,
                       const Loc& loc = Loc::current());
// True when somebody is queued (lockless; pair with smp_mb(), see wait.h).
bool waitqueue_active(wait_queue_head_t* q, const Loc& loc = Loc::current());

// set_current_state() stores the state with a full barrier;
// __set_current_state() without one.
void set_current_state(int state, const Loc& loc = Loc::current());
void __set_current_state(int state, const Loc& loc = Loc::current());
// Sleeps until woken (returns at once when the state is TASK_RUNNING).
void schedule(const Loc& loc = Loc::current());
// Sleeps until woken or `timeout` expires (explored). Return: 0 when it
// expired, otherwise the jiffies left (at least 1).
long schedule_timeout(long timeout, const Loc& loc = Loc::current());

void wake_up(wait_queue_head_t* q, const Loc& loc = Loc::current());
void wake_up_nr(wait_queue_head_t* q, int nr, const Loc& loc = Loc::current());
void wake_up_all(wait_queue_head_t* q, const Loc& loc = Loc::current());
void wake_up_interruptible(wait_queue_head_t* q, const Loc& loc = Loc::current());
void wake_up_interruptible_nr(wait_queue_head_t* q, int nr, const Loc& loc = Loc::current());
void wake_up_interruptible_all(wait_queue_head_t* q, const Loc& loc = Loc::current());
void wake_up_interruptible_sync(wait_queue_head_t* q, const Loc& loc = Loc::current());

namespace detail {
enum WaitFlags : unsigned {
  kWaitInterruptible = 1,
  kWaitExclusive = 2,
  kWaitTimeout = 4,
};
// The body of every wait_event*() macro. Returns 0 (or the jiffies left for
// timeout forms), -ERESTARTSYS on a signal, 0 when a timeout expired with
// the condition still false.
long WaitEvent(wait_queue_head_t* q, const std::function<bool()>& cond, const char* fn,
               const char* cond_text, unsigned flags, long timeout, const Loc& loc);
// WaitEvent() one condition check at a time, for callers that cannot pass
// the condition as a function (C drivers: <linux/wait.h>). Begin, then call
// Next with the condition's value until it returns false; `result` is then
// what WaitEvent() returns.
struct WaitStep {
  wait_queue_head_t* q;
  wait_queue_entry* entry;
  const char* fn;
  const char* cond_text;
  unsigned flags;
  long timeout;
  Loc loc;
  int phase = 0;
  long result = 0;
};
void WaitEventBegin(WaitStep& w);
bool WaitEventNext(WaitStep& w, bool cond);
inline int WaitResult(long r) { return static_cast<int>(r); }
}  // namespace detail

#define KMC_WAIT_EVENT_(fn, wq, condition, flags, timeout)                                   \
  ::kmc::kernel::detail::WaitEvent(&(wq), [&]() -> bool { return (condition); }, fn,       \
                                   #condition, (flags), (timeout),                          \
                                   std::source_location::current())
#define wait_event(wq, condition) (void)KMC_WAIT_EVENT_("wait_event", wq, condition, 0, 0)
#define wait_event_interruptible(wq, condition)                                           \
  ::kmc::kernel::detail::WaitResult(KMC_WAIT_EVENT_("wait_event_interruptible", wq, condition,              \
                                   ::kmc::kernel::detail::kWaitInterruptible, 0))
#define wait_event_interruptible_exclusive(wq, condition)                                 \
  ::kmc::kernel::detail::WaitResult(KMC_WAIT_EVENT_("wait_event_interruptible_exclusive", wq, condition,    \
                                   ::kmc::kernel::detail::kWaitInterruptible |             \
                                       ::kmc::kernel::detail::kWaitExclusive,              \
                                   0))
#define wait_event_timeout(wq, condition, timeout)                                        \
  KMC_WAIT_EVENT_("wait_event_timeout", wq, condition, ::kmc::kernel::detail::kWaitTimeout, \
                  (timeout))
#define wait_event_interruptible_timeout(wq, condition, timeout)                          \
  KMC_WAIT_EVENT_("wait_event_interruptible_timeout", wq, condition,                        \
                  ::kmc::kernel::detail::kWaitInterruptible |                               \
                      ::kmc::kernel::detail::kWaitTimeout,                                  \
                  (timeout))

// poll support (include/linux/poll.h).
inline constexpr unsigned POLLIN = 0x0001;
inline constexpr unsigned POLLOUT = 0x0004;
inline constexpr unsigned POLLERR = 0x0008;
inline constexpr unsigned POLLHUP = 0x0010;
inline constexpr unsigned POLLRDNORM = 0x0040;
inline constexpr unsigned POLLWRNORM = 0x0100;
struct poll_table_struct {
  int queued = 0;  // how many wait queues poll_wait() registered
};
using poll_table = poll_table_struct;
// Registers the queue with the poll table (the model only counts them).
void poll_wait(struct file* filp, wait_queue_head_t* q, poll_table* p,
               const Loc& loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_WAIT_H_
