// Models of the sleeping primitives: wait queues, completions, rw-semaphores
// and kernel threads (docs/KERNEL_SEMANTICS.md §4 and §5).

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

// ---------------------------------------------------------------------------
// Wait queues

struct Flag {
  wait_queue_head_t wq;
  Shared<int> cond{0};
  Shared<int> data{0};
  atomic_t tokens = ATOMIC_INIT(0);
  Flag() { init_waitqueue_head(&wq); }
};

KMC_MODEL("waitqueue/wait_event_and_wake_up") {
  auto f = m.Fixture<Flag>();
  m.Describe("WQ-01: waiter uses wait_event; waker publishes data, sets the condition, wake_up()");
  m.Expect(Verdict::kClean);
  f.Task("waiter", 0, [](Flag& x) {
    wait_event(x.wq, smp_load_acquire(&x.cond) != 0);
    KMC_ASSERT(x.data == 42);
  });
  f.Task("waker", 1, [](Flag& x) {
    x.data = 42;
    smp_store_release(&x.cond, 1);
    wake_up(&x.wq);
  });
}

KMC_MODEL("waitqueue/condition_without_barrier") {
  auto f = m.Fixture<Flag>();
  m.Describe("the condition is a plain WRITE_ONCE/READ_ONCE flag: a waiter that never sleeps "
             "reads the data unordered (wake_up() orders only when it wakes someone)");
  m.Expect(Verdict::kDataRace);
  f.Task("waiter", 0, [](Flag& x) {
    wait_event(x.wq, READ_ONCE(x.cond) != 0);
    KMC_ASSERT(x.data == 42);
  });
  f.Task("waker", 1, [](Flag& x) {
    x.data = 42;
    WRITE_ONCE(x.cond, 1);
    wake_up(&x.wq);
  });
}

KMC_MODEL("waitqueue/check_outside_queue") {
  auto f = m.Fixture<Flag>();
  m.Describe("WQ-02: the condition is checked before queueing; the wake-up falls in between");
  m.Expect(Verdict::kDeadlock);
  f.Task("waiter", 0, [](Flag& x) {
    if (READ_ONCE(x.cond) == 0) {
      DEFINE_WAIT(wait);
      prepare_to_wait(&x.wq, &wait, TASK_UNINTERRUPTIBLE);
      schedule();  // the bug: no re-check after queueing
      finish_wait(&x.wq, &wait);
    }
  });
  f.Task("waker", 1, [](Flag& x) {
    WRITE_ONCE(x.cond, 1);
    wake_up(&x.wq);
  });
}

KMC_MODEL("waitqueue/manual_wait_with_recheck") {
  auto f = m.Fixture<Flag>();
  m.Describe("the prepare_to_wait / re-check / schedule / finish_wait loop never loses a wake-up");
  m.Expect(Verdict::kClean);
  f.Task("waiter", 0, [](Flag& x) {
    DEFINE_WAIT(wait);
    for (;;) {
      prepare_to_wait(&x.wq, &wait, TASK_UNINTERRUPTIBLE);
      if (READ_ONCE(x.cond)) break;
      schedule();
    }
    finish_wait(&x.wq, &wait);
  });
  f.Task("waker", 1, [](Flag& x) {
    WRITE_ONCE(x.cond, 1);
    wake_up(&x.wq);
  });
}

KMC_MODEL("waitqueue/exclusive_wakes_one") {
  auto f = m.Fixture<Flag>();
  m.Describe("WQ-06: three exclusive waiters, one token and one wake_up() per waiter");
  m.Expect(Verdict::kClean);
  auto waiter = [](Flag& x) {
    wait_event_interruptible_exclusive(x.wq, atomic_dec_if_positive(&x.tokens) >= 0);
  };
  f.Task("w0", 0, waiter);
  f.Task("w1", 1, waiter);
  f.Task("waker", 0, [](Flag& x) {
    for (int i = 0; i < 2; ++i) {
      atomic_inc(&x.tokens);
      wake_up(&x.wq);
    }
  });
}

KMC_MODEL("waitqueue/signal_interrupts_wait") {
  auto f = m.Fixture<Flag>();
  m.Describe("wait_event_interruptible returns -ERESTARTSYS when a signal arrives");
  m.Expect(Verdict::kClean);
  m.Enable(kSignals);
  f.Task("waiter", 0, [](Flag& x) {
    int r = wait_event_interruptible(x.wq, READ_ONCE(x.cond) != 0);
    KMC_ASSERT(r == 0 || r == -ERESTARTSYS);
    if (r == -ERESTARTSYS) KMC_ASSERT(signal_pending(current));
  });
  f.Task("waker", 1, [](Flag& x) {
    WRITE_ONCE(x.cond, 1);
    wake_up_interruptible(&x.wq);
  });
}

KMC_MODEL("waitqueue/timeout_expires") {
  auto f = m.Fixture<Flag>();
  m.Describe("wait_event_timeout with nobody waking: the timeout is explored, no deadlock");
  m.Expect(Verdict::kClean);
  f.Task("waiter", 0, [](Flag& x) {
    long r = wait_event_timeout(x.wq, READ_ONCE(x.cond) != 0, 10);
    KMC_ASSERT(r == 0);
  });
}

KMC_MODEL("waitqueue/sleep_under_spinlock") {
  struct F {
    wait_queue_head_t wq;
    spinlock_t lock;
    Shared<int> cond{0};
    F() {
      init_waitqueue_head(&wq);
      spin_lock_init(&lock);
    }
  };
  auto f = m.Fixture<F>();
  m.Describe("WQ-11: wait_event while holding a spinlock");
  m.Expect(Verdict::kInvalidContext);
  f.Task("waiter", 0, [](F& x) {
    spin_lock(&x.lock);
    wait_event(x.wq, READ_ONCE(x.cond) != 0);
    spin_unlock(&x.lock);
  });
}

// ---------------------------------------------------------------------------
// Completions

struct Done {
  completion c;
  Shared<int> data{0};
  Done() { init_completion(&c); }
};

KMC_MODEL("completion/waiter_and_completer") {
  auto f = m.Fixture<Done>();
  m.Describe("CP-01: the completer writes data then complete(); the waiter reads it after the wait");
  m.Expect(Verdict::kClean);
  f.Task("waiter", 0, [](Done& d) {
    wait_for_completion(&d.c);
    KMC_ASSERT(d.data == 42);
  });
  f.Task("completer", 1, [](Done& d) {
    d.data = 42;
    complete(&d.c);
  });
}

KMC_MODEL("completion/one_complete_two_waiters") {
  auto f = m.Fixture<Done>();
  m.Describe("CP-03: two waiters, one complete(): one waiter sleeps forever");
  m.Expect(Verdict::kDeadlock);
  f.Task("w0", 0, [](Done& d) { wait_for_completion(&d.c); });
  f.Task("w1", 1, [](Done& d) { wait_for_completion(&d.c); });
  f.Task("completer", 0, [](Done& d) { complete(&d.c); });
}

KMC_MODEL("completion/complete_all_releases_everyone") {
  auto f = m.Fixture<Done>();
  m.Describe("CP-04: complete_all() releases current and future waiters");
  m.Expect(Verdict::kClean);
  f.Task("w0", 0, [](Done& d) { wait_for_completion(&d.c); });
  f.Task("w1", 1, [](Done& d) {
    wait_for_completion(&d.c);
    wait_for_completion(&d.c);
    KMC_ASSERT(completion_done(&d.c));
  });
  f.Task("completer", 0, [](Done& d) { complete_all(&d.c); });
}

KMC_MODEL("completion/complete_before_init") {
  struct F {
    completion c;  // never initialized: the bug
  };
  auto f = m.Fixture<F>();
  m.Describe("complete() on a completion nobody initialized");
  m.Expect(Verdict::kLockMisuse);
  f.Task("completer", 0, [](F& x) { complete(&x.c); });
}

KMC_MODEL("completion/timeout") {
  auto f = m.Fixture<Done>();
  m.Describe("wait_for_completion_timeout: either completed (>0) or timed out (0), never stuck");
  m.Expect(Verdict::kClean);
  f.Task("waiter", 0, [](Done& d) {
    unsigned long left = wait_for_completion_timeout(&d.c, 5);
    if (left) KMC_ASSERT(d.data == 1);
  });
  f.Task("completer", 1, [](Done& d) {
    d.data = 1;
    complete(&d.c);
  });
}

// ---------------------------------------------------------------------------
// rw-semaphores

struct Rw {
  rw_semaphore sem;
  Shared<int> value{0};
  int seen[2] = {-1, -1};  // what each reader saw (written by that reader only)
  Rw() { init_rwsem(&sem); }
};

KMC_MODEL("rwsem/readers_and_writer") {
  auto f = m.Fixture<Rw>();
  m.Describe("two readers and a writer: readers see 0 or 2, never the intermediate 1");
  m.Expect(Verdict::kClean);
  auto reader = [](int me) {
    return [me](Rw& r) {
      down_read(&r.sem);
      const int v = r.value;
      KMC_ASSERT(v == 0 || v == 2);
      r.seen[me] = v;
      up_read(&r.sem);
    };
  };
  f.Task("reader0", 0, reader(0));
  f.Task("reader1", 1, reader(1));
  f.Task("writer", 0, [](Rw& r) {
    down_write(&r.sem);
    r.value = 1;
    r.value = 2;
    up_write(&r.sem);
  });
  f.Check([](Rw& r) {
    Observe("reader0", r.seen[0]);
    Observe("reader1", r.seen[1]);
  });
}

KMC_MODEL("rwsem/recursive_read_with_writer") {
  auto f = m.Fixture<Rw>();
  m.Describe("down_read twice with a writer waiting in between: writer preference deadlocks");
  m.Expect(Verdict::kDeadlock);
  f.Task("reader", 0, [](Rw& r) {
    down_read(&r.sem);
    down_read(&r.sem);
    up_read(&r.sem);
    up_read(&r.sem);
  });
  f.Task("writer", 1, [](Rw& r) {
    down_write(&r.sem);
    up_write(&r.sem);
  });
}

KMC_MODEL("rwsem/downgrade") {
  auto f = m.Fixture<Rw>();
  m.Describe("downgrade_write() keeps the writer's update visible and admits readers");
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, [](Rw& r) {
    down_write(&r.sem);
    r.value = 2;
    downgrade_write(&r.sem);
    KMC_ASSERT(r.value == 2);
    up_read(&r.sem);
  });
  f.Task("reader", 1, [](Rw& r) {
    down_read(&r.sem);
    const int v = r.value;
    KMC_ASSERT(v == 0 || v == 2);
    up_read(&r.sem);
  });
}

// ---------------------------------------------------------------------------
// Kernel threads

struct Worker {
  wait_queue_head_t wq;
  Shared<int> work{0};
  Shared<int> done{0};
  task_struct* thread = nullptr;
  Worker() { init_waitqueue_head(&wq); }
};

int WorkerFn(void* data) {
  auto* w = static_cast<Worker*>(data);
  while (!kthread_should_stop()) {
    wait_event_interruptible(w->wq, READ_ONCE(w->work) != 0 || kthread_should_stop());
    if (READ_ONCE(w->work) != 0) {
      w->done = 1;
      WRITE_ONCE(w->work, 0);
    }
  }
  return 7;
}

KMC_MODEL("kthread/start_work_stop") {
  auto f = m.Fixture<Worker>();
  m.Describe("a task starts a kernel thread, hands it work, then kthread_stop()s it");
  m.Expect(Verdict::kClean);
  m.KernelThreads(1);
  f.Task("insmod", 0, [](Worker& w) {
    w.thread = kthread_run(WorkerFn, &w, "worker");
    WRITE_ONCE(w.work, 1);
    wake_up_interruptible(&w.wq);
    KMC_ASSERT(kthread_stop(w.thread) == 7);
  });
}

}  // namespace
}  // namespace kmc::models
