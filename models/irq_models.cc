// Models of interrupt context: irq-safe locking, softirqs, context rules
// (docs/KERNEL_SEMANTICS.md §6.2, docs/DRIVERS.md asgn2 locking rules).

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

struct Dev {
  spinlock_t lock;
  Shared<int> count{0};
  Shared<int> events{0};
  int irq_saw = 0;  // the counts each handler run found (written by the handler only)
  Dev() { spin_lock_init(&lock); }
};

KMC_MODEL("irq/irqsave_protects") {
  auto f = m.Fixture<Dev>();
  m.Describe("process context and a handler on the same CPU share a lock: spin_lock_irqsave");
  m.Expect(Verdict::kClean);
  f.Task("reader", 0, [](Dev& d) {
    unsigned long flags;
    for (int i = 0; i < 2; ++i) {
      spin_lock_irqsave(&d.lock, flags);
      d.count = d.count + 1;
      spin_unlock_irqrestore(&d.lock, flags);
    }
  });
  f.Irq("gpio", 0, 2, [](Dev& d) {
    spin_lock(&d.lock);
    d.events = d.events + 1;
    d.irq_saw = d.irq_saw * 10 + d.count;
    d.count = d.count + 1;
    spin_unlock(&d.lock);
  });
  f.Check([](Dev& d) {
    KMC_ASSERT(d.count == 4 && d.events == 2);
    Observe("irq_saw", d.irq_saw);
  });
}

KMC_MODEL("irq/plain_spin_lock_vs_handler") {
  auto f = m.Fixture<Dev>();
  m.Describe("A2-B2: process context takes the handler's lock with plain spin_lock(): "
             "the handler interrupts the holder on its CPU and spins forever");
  m.Expect(Verdict::kDeadlock);
  f.Task("reader", 0, [](Dev& d) {
    spin_lock(&d.lock);  // the bug: interrupts stay enabled
    d.count = d.count + 1;
    spin_unlock(&d.lock);
  });
  f.Irq("gpio", 0, 1, [](Dev& d) {
    spin_lock(&d.lock);
    d.count = d.count + 1;
    spin_unlock(&d.lock);
  });
}

KMC_MODEL("irq/handler_on_other_cpu_predicted") {
  auto f = m.Fixture<Dev>();
  m.Describe(
      "a plain spin_lock() also taken by a handler that, here, only runs on another CPU: no "
      "execution hangs, but lockdep predicts the deadlock from the lock's usage "
      "({HARDIRQ-ON-W} -> {IN-HARDIRQ-W}), as the kernel would");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("reader", 0, [](Dev& d) {
    spin_lock(&d.lock);
    d.count = d.count + 1;
    spin_unlock(&d.lock);
  });
  f.Irq("gpio", 1, 1, [](Dev& d) {
    spin_lock(&d.lock);
    d.count = d.count + 1;
    spin_unlock(&d.lock);
  });
  f.Check([](Dev& d) { KMC_ASSERT(d.count == 2); });
}

struct BhDev {
  spinlock_t lock;
  Shared<int> count{0};
  tasklet_struct tasklet;
  BhDev() {
    spin_lock_init(&lock);
    tasklet_init(&tasklet, &BhDev::Run, reinterpret_cast<unsigned long>(this));
    tasklet.name = "dev->tasklet";
  }
  static void Run(unsigned long data) {
    BhDev* d = reinterpret_cast<BhDev*>(data);
    spin_lock(&d->lock);
    d->count = d->count + 1;
    spin_unlock(&d->lock);
  }
};

KMC_MODEL("irq/bh_lock_without_bh") {
  auto f = m.Fixture<BhDev>();
  m.Describe("A2-B3: a lock shared with a tasklet is taken with plain spin_lock() in process "
             "context; the tasklet runs at irq exit on the same CPU and spins forever");
  m.Expect(Verdict::kDeadlock);
  f.Task("reader", 0, [](BhDev& d) {
    spin_lock(&d.lock);  // the bug: should be spin_lock_bh()
    d.count = d.count + 1;
    spin_unlock(&d.lock);
  });
  f.Irq("gpio", 0, 1, [](BhDev& d) { tasklet_schedule(&d.tasklet); });
}

KMC_MODEL("irq/bh_lock_with_bh") {
  auto f = m.Fixture<BhDev>();
  m.Describe("the fix of A2-B3: spin_lock_bh() in process context; the tasklet runs after");
  m.Expect(Verdict::kClean);
  f.Task("reader", 0, [](BhDev& d) {
    spin_lock_bh(&d.lock);
    d.count = d.count + 1;
    spin_unlock_bh(&d.lock);
  });
  f.Irq("gpio", 0, 1, [](BhDev& d) { tasklet_schedule(&d.tasklet); });
  f.Check([](BhDev& d) { KMC_ASSERT(d.count == 2); });
}

// A lock shared by a tasklet and a hardirq handler. Softirqs run with
// interrupts enabled, so the handler may interrupt the tasklet on its CPU:
// the tasklet must take the lock with spin_lock_irqsave() (docs/KERNEL_SEMANTICS.md
// §6.2; asgn2's cb_lock). The tasklet runs in the task's local_bh_enable().
template <bool kIrqsave>
struct TaskletIrqDev {
  spinlock_t lock;
  Shared<int> count{0};
  tasklet_struct tasklet;
  TaskletIrqDev() {
    spin_lock_init(&lock);
    tasklet_init(&tasklet, &TaskletIrqDev::Run, reinterpret_cast<unsigned long>(this));
    tasklet.name = "dev->tasklet";
  }
  static void Run(unsigned long data) {
    auto* d = reinterpret_cast<TaskletIrqDev*>(data);
    if (kIrqsave) {
      unsigned long flags;
      spin_lock_irqsave(&d->lock, flags);
      d->count = d->count + 1;
      spin_unlock_irqrestore(&d->lock, flags);
    } else {
      spin_lock(&d->lock);  // the bug: interrupts stay enabled in softirq context
      d->count = d->count + 1;
      spin_unlock(&d->lock);
    }
  }
  static void Kick(TaskletIrqDev& d) {
    local_bh_disable();
    tasklet_schedule(&d.tasklet);
    local_bh_enable();  // the tasklet runs here, in softirq context
  }
  static void Handler(TaskletIrqDev& d) {
    spin_lock(&d.lock);
    d.count = d.count + 1;
    spin_unlock(&d.lock);
  }
};

KMC_MODEL("irq/tasklet_plain_lock_vs_handler") {
  using D = TaskletIrqDev<false>;
  auto f = m.Fixture<D>();
  m.Describe("a tasklet takes the handler's lock with plain spin_lock(); the handler "
             "interrupts the tasklet on its CPU and spins forever");
  m.Expect(Verdict::kDeadlock);
  f.Task("kick", 0, &D::Kick);
  f.Irq("gpio", 0, 1, &D::Handler);
}

KMC_MODEL("irq/tasklet_irqsave_vs_handler") {
  using D = TaskletIrqDev<true>;
  auto f = m.Fixture<D>();
  m.Describe("the fix: the tasklet takes the handler's lock with spin_lock_irqsave()");
  m.Expect(Verdict::kClean);
  f.Task("kick", 0, &D::Kick);
  f.Irq("gpio", 0, 1, &D::Handler);
  f.Check([](D& d) { KMC_ASSERT(d.count == 2); });
}

struct AllocDev {
  tasklet_struct tasklet;
  Shared<void*> buf{nullptr};
  AllocDev() {
    tasklet_init(&tasklet, &AllocDev::Run, reinterpret_cast<unsigned long>(this));
    tasklet.name = "dev->tasklet";
  }
  static void Run(unsigned long data) {
    AllocDev* d = reinterpret_cast<AllocDev*>(data);
    void* p = kmalloc(64, GFP_KERNEL);  // the bug: softirq context cannot sleep
    kfree(d->buf);
    d->buf = p;
  }
};

KMC_MODEL("irq/gfp_kernel_in_tasklet") {
  auto f = m.Fixture<AllocDev>();
  m.Describe("A2-B4: kmalloc(GFP_KERNEL) in a tasklet (softirq context)");
  m.Expect(Verdict::kInvalidContext);
  f.Task("idle", 0, [](AllocDev&) {});
  f.Irq("gpio", 0, 1, [](AllocDev& d) { tasklet_schedule(&d.tasklet); });
  f.Check([](AllocDev& d) { kfree(d.buf); });
}

KMC_MODEL("irq/copy_to_user_under_irqsave") {
  auto f = m.Fixture<Dev>();
  m.Describe("A2-B5: copy_to_user() while holding a lock with interrupts disabled");
  m.Expect(Verdict::kInvalidContext);
  f.Task("reader", 0, [](Dev& d) {
    UserBuffer out(4);
    int v = 1;
    unsigned long flags;
    spin_lock_irqsave(&d.lock, flags);
    (void)copy_to_user(out.ptr(), &v, sizeof v);
    spin_unlock_irqrestore(&d.lock, flags);
  });
}

KMC_MODEL("irq/wrong_unlock_variant") {
  auto f = m.Fixture<Dev>();
  m.Describe("spin_lock_irqsave() released with spin_unlock(): interrupts stay disabled");
  m.Expect(Verdict::kLockMisuse);
  f.Task("reader", 0, [](Dev& d) {
    unsigned long flags;
    spin_lock_irqsave(&d.lock, flags);
    (void)flags;
    spin_unlock(&d.lock);
  });
}

KMC_MODEL("irq/restore_unsaved_flags") {
  auto f = m.Fixture<Dev>();
  m.Describe("local_irq_restore() with flags local_irq_save() never returned");
  m.Expect(Verdict::kLockMisuse);
  f.Task("t0", 0, [](Dev&) {
    unsigned long flags = 0;
    local_irq_restore(flags);
  });
}

struct Coalesce {
  tasklet_struct tasklet;
  atomic_t scheduled = ATOMIC_INIT(0);
  Shared<int> runs{0};
  Shared<int> consumed{0};
  atomic_t produced = ATOMIC_INIT(0);
  Coalesce() {
    tasklet_init(&tasklet, &Coalesce::Run, reinterpret_cast<unsigned long>(this));
    tasklet.name = "drain";
  }
  static void Run(unsigned long data) {
    Coalesce* c = reinterpret_cast<Coalesce*>(data);
    c->runs = c->runs + 1;
    // Drain everything produced so far: one run may serve several schedules.
    c->consumed = atomic_read(&c->produced);
  }
};

KMC_MODEL("tasklet/coalesce_drains_all") {
  auto f = m.Fixture<Coalesce>();
  m.Describe("two interrupts schedule one tasklet; schedules while pending coalesce, and a "
             "tasklet that drains everything still sees every event");
  m.Expect(Verdict::kClean);
  f.Task("idle", 0, [](Coalesce&) {});
  f.Irq("gpio", 0, 2, [](Coalesce& c) {
    atomic_inc(&c.produced);
    tasklet_schedule(&c.tasklet);
  });
  f.Check([](Coalesce& c) {
    KMC_ASSERT(c.runs >= 1 && c.runs <= 2);
    KMC_ASSERT(c.consumed == 2);
  });
}

KMC_MODEL("irq/mutex_in_handler") {
  struct F {
    mutex lock;
    F() { mutex_init(&lock); }
  };
  auto f = m.Fixture<F>();
  m.Describe("mutex_lock() in a hardirq handler");
  m.Expect(Verdict::kInvalidContext);
  f.Task("idle", 0, [](F&) {});
  f.Irq("gpio", 0, 1, [](F& x) {
    mutex_lock(&x.lock);
    mutex_unlock(&x.lock);
  });
}

struct Deferred {
  work_struct work;
  timer_list timer;
  Shared<int> work_done{0};
  Shared<int> timer_done{0};
  Deferred() {
    INIT_WORK(&work, &Deferred::WorkFn);
    timer_setup(&timer, &Deferred::TimerFn, 0);
  }
  static void WorkFn(work_struct* w) {
    Deferred* d = container_of(w, Deferred, work);
    might_sleep();  // process context: allowed
    d->work_done = 1;
  }
  static void TimerFn(timer_list* t) {
    Deferred* d = from_timer(d, t, timer);
    KMC_ASSERT(in_softirq());
    d->timer_done = 1;
  }
};

KMC_MODEL("workqueue/flush_waits_for_work") {
  auto f = m.Fixture<Deferred>();
  m.Describe("schedule_work() then flush_work(): the work has run and its writes are visible");
  m.Expect(Verdict::kClean);
  m.Workqueue();
  f.Task("driver", 0, [](Deferred& d) {
    schedule_work(&d.work);
    flush_work(&d.work);
    KMC_ASSERT(d.work_done == 1);
  });
}

KMC_MODEL("timer/del_timer_sync_waits") {
  auto f = m.Fixture<Deferred>();
  m.Describe("mod_timer() then del_timer_sync(): the handler either never ran or has finished");
  m.Expect(Verdict::kClean);
  m.SoftirqDaemons();
  f.Task("driver", 0, [](Deferred& d) {
    mod_timer(&d.timer, jiffies + HZ);
    del_timer_sync(&d.timer);
    const int done = d.timer_done;
    KMC_ASSERT(done == 0 || done == 1);
  });
}

}  // namespace
}  // namespace kmc::models
