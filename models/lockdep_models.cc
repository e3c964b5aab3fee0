// Lockdep models in the spirit of the kernel's lib/locking-selftest.c,
// written for kmc: lock-order cycles of 2, 3 and 4 locks (AA, ABBA, ABBCCA,
// ABBCCDDA) for every lock kind, the irq-safety permutations for hard and
// soft interrupts, nesting annotations, and lockdep's misuse reports. Most
// scenarios are one task's history: lockdep predicts the deadlock from an
// execution that passes (see docs/LOCKDEP.md).

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

// --- Lock kinds, so each scenario is written once ------------------------------

struct Spin {
  spinlock_t l;
  explicit Spin() { spin_lock_init(&l); }
  void Lock() { spin_lock(&l); }
  void Unlock() { spin_unlock(&l); }
};
struct WLock {
  rwlock_t l;
  WLock() { rwlock_init(&l); }
  void Lock() { write_lock(&l); }
  void Unlock() { write_unlock(&l); }
};
struct RLock {  // queued rwlock read side in process context: not recursive
  rwlock_t l;
  RLock() { rwlock_init(&l); }
  void Lock() { read_lock(&l); }
  void Unlock() { read_unlock(&l); }
};
struct Mutex {
  mutex l;
  Mutex() { mutex_init(&l); }
  void Lock() { mutex_lock(&l); }
  void Unlock() { mutex_unlock(&l); }
};
struct WSem {
  rw_semaphore l;
  WSem() { init_rwsem(&l); }
  void Lock() { down_write(&l); }
  void Unlock() { up_write(&l); }
};
struct RSem {
  rw_semaphore l;
  RSem() { init_rwsem(&l); }
  void Lock() { down_read(&l); }
  void Unlock() { up_read(&l); }
};
struct Sem {  // a binary semaphore used as a lock
  semaphore l;
  Sem() { sema_init(&l, 1); }
  void Lock() { down(&l); }
  void Unlock() { up(&l); }
};

// N locks, each initialized at its own site (the Lock types' constructors
// are one site per kind, so every lock gets its own class through
// lockdep_set_class).
template <class L, int N>
struct Chain {
  L lock[N];
  static lock_class_key* Keys() {
    static lock_class_key keys[N];
    return keys;
  }
  Chain() {
    static const char* const kNames[] = {"A", "B", "C", "D"};
    for (int i = 0; i < N; ++i) lockdep_set_class_and_name(&lock[i].l, &Keys()[i], kNames[i]);
  }
  // Takes i then j (nested), releases both.
  void Pair(int i, int j) {
    lock[i].Lock();
    lock[j].Lock();
    lock[j].Unlock();
    lock[i].Unlock();
  }
  // AB, BC, ..., and the closing pair back to A: one task, each pair alone.
  void Cycle() {
    for (int i = 0; i < N; ++i) Pair(i, (i + 1) % N);
  }
};

template <class L, int N>
void CycleModel(Model& m, const char* what) {
  auto f = m.Fixture<Chain<L, N>>();
  m.Describe(std::string("one task takes ") + what +
             " pairs in a cycle, one pair at a time: nothing can hang, lockdep predicts it");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("locker", 0, [](Chain<L, N>& c) { c.Cycle(); });
}

KMC_MODEL("lockdep/ABBA_spin") { CycleModel<Spin, 2>(m, "spinlock_t"); }
KMC_MODEL("lockdep/ABBA_wlock") { CycleModel<WLock, 2>(m, "rwlock_t (write)"); }
KMC_MODEL("lockdep/ABBA_rlock") { CycleModel<RLock, 2>(m, "rwlock_t (read)"); }
KMC_MODEL("lockdep/ABBA_mutex") { CycleModel<Mutex, 2>(m, "mutex"); }
KMC_MODEL("lockdep/ABBA_wsem") { CycleModel<WSem, 2>(m, "rw_semaphore (write)"); }
KMC_MODEL("lockdep/ABBA_rsem") { CycleModel<RSem, 2>(m, "rw_semaphore (read)"); }
KMC_MODEL("lockdep/ABBA_sem") { CycleModel<Sem, 2>(m, "binary semaphore"); }
KMC_MODEL("lockdep/ABBCCA_spin") { CycleModel<Spin, 3>(m, "spinlock_t"); }
KMC_MODEL("lockdep/ABBCCA_mutex") { CycleModel<Mutex, 3>(m, "mutex"); }
KMC_MODEL("lockdep/ABBCCA_wsem") { CycleModel<WSem, 3>(m, "rw_semaphore"); }
KMC_MODEL("lockdep/ABBCCDDA_spin") { CycleModel<Spin, 4>(m, "spinlock_t"); }
KMC_MODEL("lockdep/ABBCCDDA_mutex") { CycleModel<Mutex, 4>(m, "mutex"); }

// Mixed kinds: a mutex taken under a spinlock's order is still a cycle.
struct Mixed {
  mutex a;
  rw_semaphore b;
  Mixed() {
    mutex_init(&a);
    init_rwsem(&b);
  }
};
KMC_MODEL("lockdep/ABBA_mutex_rwsem") {
  auto f = m.Fixture<Mixed>();
  m.Describe("a mutex and an rw_semaphore taken in both orders by one task");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("locker", 0, [](Mixed& x) {
    mutex_lock(&x.a);
    down_read(&x.b);
    up_read(&x.b);
    mutex_unlock(&x.a);
    down_write(&x.b);
    mutex_lock(&x.a);
    mutex_unlock(&x.a);
    up_write(&x.b);
  });
}

// A consistent order stays clean, whatever the kind.
KMC_MODEL("lockdep/AB_AB_clean") {
  auto f = m.Fixture<Chain<Mutex, 2>>();
  m.Describe("two tasks take A then B: one order, no report");
  m.Expect(Verdict::kClean);
  f.Task("t0", 0, [](Chain<Mutex, 2>& c) { c.Pair(0, 1); });
  f.Task("t1", 1, [](Chain<Mutex, 2>& c) { c.Pair(0, 1); });
}

// A trylock in the reverse order adds no dependency: it cannot wait.
KMC_MODEL("lockdep/ABBA_trylock_clean") {
  auto f = m.Fixture<Chain<Spin, 2>>();
  m.Describe("A then B, and B then spin_trylock(A): trylocks add no dependency");
  m.Expect(Verdict::kClean);
  f.Task("locker", 0, [](Chain<Spin, 2>& c) {
    c.Pair(0, 1);
    spin_lock(&c.lock[1].l);
    if (spin_trylock(&c.lock[0].l)) spin_unlock(&c.lock[0].l);
    spin_unlock(&c.lock[1].l);
  });
}

// Two tasks: a search reaches the real deadlock and reports it with the splat.
KMC_MODEL("lockdep/ABBA_two_tasks") {
  auto f = m.Fixture<Chain<Mutex, 2>>();
  m.Describe("two tasks take A, B in opposite orders: the search reaches the hang");
  m.Expect(Verdict::kDeadlock);
  f.Task("ab", 0, [](Chain<Mutex, 2>& c) { c.Pair(0, 1); });
  f.Task("ba", 1, [](Chain<Mutex, 2>& c) { c.Pair(1, 0); });
}

// Two tasks that never overlap: no interleaving hangs, lockdep predicts.
struct Serialized : Chain<Spin, 2> {
  completion first_done;
  Serialized() { init_completion(&first_done); }
};
KMC_MODEL("lockdep/ABBA_two_tasks_serialized") {
  auto f = m.Fixture<Serialized>();
  m.Describe("two tasks take A, B in opposite orders but one after the other");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("ab", 0, [](Serialized& c) {
    c.Pair(0, 1);
    complete(&c.first_done);
  });
  f.Task("ba", 1, [](Serialized& c) {
    wait_for_completion(&c.first_done);
    c.Pair(1, 0);
  });
}

// The two halves in different executions: A -> B when an allocation
// succeeds, B -> A when it fails. The prediction is replayed from both.
struct Alloc : Chain<Spin, 2> {};
KMC_MODEL("lockdep/ABBA_across_executions") {
  auto f = m.Fixture<Alloc>();
  m.Describe("the order of A and B depends on whether kmalloc fails: no execution has both");
  m.Expect(Verdict::kPossibleDeadlock);
  m.Enable(kAllocFailure);
  f.Task("locker", 0, [](Alloc& c) {
    void* p = kmalloc(16, GFP_KERNEL);
    if (p != nullptr) {
      c.Pair(0, 1);
    } else {
      c.Pair(1, 0);
    }
    kfree(p);
  });
}

// --- AA: recursion within one class --------------------------------------------

struct TwoOfAKind {
  spinlock_t l[2];
  mutex parent;
  mutex child[2];
  TwoOfAKind() {
    for (spinlock_t& x : l) spin_lock_init(&x);  // one init site: one class
    mutex_init(&parent);
    for (mutex& c : child) mutex_init(&c);
  }
};

KMC_MODEL("lockdep/AA_spin_same_class") {
  auto f = m.Fixture<TwoOfAKind>();
  m.Describe("two spinlocks of one class nested without an annotation");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("locker", 0, [](TwoOfAKind& x) {
    spin_lock(&x.l[0]);
    spin_lock(&x.l[1]);
    spin_unlock(&x.l[1]);
    spin_unlock(&x.l[0]);
  });
}

KMC_MODEL("lockdep/AA_spin_nested") {
  auto f = m.Fixture<TwoOfAKind>();
  m.Describe("the same nesting annotated with spin_lock_nested(SINGLE_DEPTH_NESTING)");
  m.Expect(Verdict::kClean);
  f.Task("locker", 0, [](TwoOfAKind& x) {
    spin_lock(&x.l[0]);
    spin_lock_nested(&x.l[1], SINGLE_DEPTH_NESTING);
    spin_unlock(&x.l[1]);
    spin_unlock(&x.l[0]);
  });
}

KMC_MODEL("lockdep/AA_mutex_nest_lock") {
  auto f = m.Fixture<TwoOfAKind>();
  m.Describe("children of one class taken under their parent with mutex_lock_nest_lock()");
  m.Expect(Verdict::kClean);
  f.Task("locker", 0, [](TwoOfAKind& x) {
    mutex_lock(&x.parent);
    mutex_lock_nest_lock(&x.child[0], &x.parent);
    mutex_lock_nest_lock(&x.child[1], &x.parent);
    mutex_unlock(&x.child[1]);
    mutex_unlock(&x.child[0]);
    mutex_unlock(&x.parent);
  });
}

KMC_MODEL("lockdep/nest_lock_not_taken") {
  auto f = m.Fixture<TwoOfAKind>();
  m.Describe("mutex_lock_nest_lock() without holding the nest lock");
  m.Expect(Verdict::kLockMisuse);
  f.Task("locker", 0, [](TwoOfAKind& x) {
    mutex_lock_nest_lock(&x.child[0], &x.parent);
    mutex_unlock(&x.child[0]);
  });
}

KMC_MODEL("lockdep/AA_mutex_same_lock") {
  auto f = m.Fixture<TwoOfAKind>();
  m.Describe("the same mutex twice: the task waits for itself");
  m.Expect(Verdict::kDeadlock);
  f.Task("locker", 0, [](TwoOfAKind& x) {
    mutex_lock(&x.parent);
    mutex_lock(&x.parent);
  });
}

struct RwIrq {
  rwlock_t rw;
  RwIrq() { rwlock_init(&rw); }
};
KMC_MODEL("lockdep/AA_rlock_process") {
  auto f = m.Fixture<RwIrq>();
  m.Describe(
      "read_lock() of one rwlock twice in process context: a queued rwlock reader waits "
      "behind a waiting writer, so the read is not recursive");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("reader", 0, [](RwIrq& x) {
    read_lock(&x.rw);
    read_lock(&x.rw);
    read_unlock(&x.rw);
    read_unlock(&x.rw);
  });
}

KMC_MODEL("lockdep/AA_rlock_hardirq") {
  auto f = m.Fixture<RwIrq>();
  m.Describe("read_lock() twice in a hardirq handler: interrupt-context reads are recursive");
  m.Expect(Verdict::kClean);
  f.Task("idle", 0, [](RwIrq&) {});
  f.Irq("gpio", 0, 1, [](RwIrq& x) {
    read_lock(&x.rw);
    read_lock(&x.rw);
    read_unlock(&x.rw);
    read_unlock(&x.rw);
  });
}

// lockdep_set_class() splits one init site into two classes.
struct Split {
  spinlock_t l[2];
  static lock_class_key* OuterKey() {
    static lock_class_key key;
    return &key;
  }
  Split() {
    for (spinlock_t& x : l) spin_lock_init(&x);
    lockdep_set_class(&l[0], OuterKey());
  }
};
KMC_MODEL("lockdep/set_class_clean") {
  auto f = m.Fixture<Split>();
  m.Describe("two locks of one init site, one moved to its own class: nesting them is clean");
  m.Expect(Verdict::kClean);
  f.Task("locker", 0, [](Split& x) {
    spin_lock(&x.l[0]);
    spin_lock(&x.l[1]);
    spin_unlock(&x.l[1]);
    spin_unlock(&x.l[0]);
  });
}

// --- Interrupt safety ------------------------------------------------------------

struct IrqLocks {
  spinlock_t a;
  spinlock_t b;
  completion done;
  tasklet_struct tasklet;
  static void TaskletA(unsigned long data);
  IrqLocks() {
    spin_lock_init(&a);
    spin_lock_init(&b);
    init_completion(&done);
    tasklet_init(&tasklet, &IrqLocks::TaskletA, reinterpret_cast<unsigned long>(this));
    tasklet.name = "dev->tasklet";
  }
};
void IrqLocks::TaskletA(unsigned long data) {
  auto* x = reinterpret_cast<IrqLocks*>(data);
  spin_lock(&x->a);
  spin_unlock(&x->a);
  complete(&x->done);
}

KMC_MODEL("lockdep/irq_in_then_on") {
  auto f = m.Fixture<IrqLocks>();
  m.Describe("a handler on CPU1 takes A, then a task takes A with interrupts enabled");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("task", 0, [](IrqLocks& x) {
    wait_for_completion(&x.done);
    spin_lock(&x.a);
    spin_unlock(&x.a);
  });
  f.Irq("gpio", 1, 1, [](IrqLocks& x) {
    spin_lock(&x.a);
    spin_unlock(&x.a);
    complete(&x.done);
  });
}

KMC_MODEL("lockdep/softirq_on_vs_in") {
  auto f = m.Fixture<IrqLocks>();
  m.Describe("a tasklet on CPU1 takes A; a task takes A with bottom halves enabled");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("task", 0, [](IrqLocks& x) {
    wait_for_completion(&x.done);
    spin_lock(&x.a);
    spin_unlock(&x.a);
  });
  f.Irq("gpio", 1, 1, [](IrqLocks& x) { tasklet_schedule(&x.tasklet); });
}

KMC_MODEL("lockdep/softirq_bh_clean") {
  auto f = m.Fixture<IrqLocks>();
  m.Describe("the same with spin_lock_bh() in the task: clean");
  m.Expect(Verdict::kClean);
  f.Task("task", 0, [](IrqLocks& x) {
    wait_for_completion(&x.done);
    spin_lock_bh(&x.a);
    spin_unlock_bh(&x.a);
  });
  f.Irq("gpio", 1, 1, [](IrqLocks& x) { tasklet_schedule(&x.tasklet); });
}

KMC_MODEL("lockdep/hardirq_safe_unsafe") {
  auto f = m.Fixture<IrqLocks>();
  m.Describe(
      "A is taken in a handler (irq-safe), B with interrupts on (irq-unsafe); a task then "
      "takes B under A: the new dependency connects them");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("task", 0, [](IrqLocks& x) {
    spin_lock(&x.b);
    spin_unlock(&x.b);
    wait_for_completion(&x.done);
    unsigned long flags;
    spin_lock_irqsave(&x.a, flags);
    spin_lock(&x.b);
    spin_unlock(&x.b);
    spin_unlock_irqrestore(&x.a, flags);
  });
  f.Irq("gpio", 1, 1, [](IrqLocks& x) {
    spin_lock(&x.a);
    spin_unlock(&x.a);
    complete(&x.done);
  });
}

KMC_MODEL("lockdep/softirq_safe_unsafe") {
  auto f = m.Fixture<IrqLocks>();
  m.Describe("the same with a tasklet: A softirq-safe, B softirq-unsafe, then B under A");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("task", 0, [](IrqLocks& x) {
    spin_lock(&x.b);
    spin_unlock(&x.b);
    wait_for_completion(&x.done);
    spin_lock_bh(&x.a);
    spin_lock(&x.b);
    spin_unlock(&x.b);
    spin_unlock_bh(&x.a);
  });
  f.Irq("gpio", 1, 1, [](IrqLocks& x) { tasklet_schedule(&x.tasklet); });
}

// Module init records A -> B (interrupts off) and B with interrupts on;
// then a handler takes A: A becomes irq-safe with an irq-unsafe lock after it.
struct Inversion : IrqLocks {
  Inversion() {
    unsigned long flags;
    spin_lock_irqsave(&a, flags);
    spin_lock(&b);
    spin_unlock(&b);
    spin_unlock_irqrestore(&a, flags);
  }
};
KMC_MODEL("lockdep/irq_inversion_forwards") {
  auto f = m.Fixture<Inversion>();
  m.Describe("A -> B and B irq-unsafe are known when a handler first takes A");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("task", 0, [](Inversion& x) {
    spin_lock(&x.b);
    spin_unlock(&x.b);
    complete(&x.done);
  });
  f.Irq("gpio", 1, 1, [](Inversion& x) {
    if (!completion_done(&x.done)) return;
    spin_lock(&x.a);
    spin_unlock(&x.a);
  });
}

KMC_MODEL("lockdep/irq_inversion_backwards") {
  auto f = m.Fixture<Inversion>();
  m.Describe("A -> B known, A irq-safe, then a task takes B with interrupts on");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("task", 0, [](Inversion& x) {
    wait_for_completion(&x.done);
    spin_lock(&x.b);
    spin_unlock(&x.b);
  });
  f.Irq("gpio", 1, 1, [](Inversion& x) {
    spin_lock(&x.a);
    spin_unlock(&x.a);
    complete(&x.done);
  });
}

KMC_MODEL("lockdep/irqsave_everywhere_clean") {
  auto f = m.Fixture<IrqLocks>();
  m.Describe("A irq-safe, B taken only with interrupts off: B under A is clean");
  m.Expect(Verdict::kClean);
  f.Task("task", 0, [](IrqLocks& x) {
    unsigned long flags;
    spin_lock_irqsave(&x.b, flags);
    spin_unlock_irqrestore(&x.b, flags);
    spin_lock_irqsave(&x.a, flags);
    spin_lock(&x.b);
    spin_unlock(&x.b);
    spin_unlock_irqrestore(&x.a, flags);
  });
  f.Irq("gpio", 1, 1, [](IrqLocks& x) {
    spin_lock(&x.a);
    spin_unlock(&x.a);
  });
}

KMC_MODEL("lockdep/rlock_irq_readers_clean") {
  auto f = m.Fixture<RwIrq>();
  m.Describe("read_lock() with interrupts on and in a handler: readers never block readers");
  m.Expect(Verdict::kClean);
  f.Task("reader", 0, [](RwIrq& x) {
    read_lock(&x.rw);
    read_unlock(&x.rw);
  });
  f.Irq("gpio", 0, 1, [](RwIrq& x) {
    read_lock(&x.rw);
    read_unlock(&x.rw);
  });
}

KMC_MODEL("lockdep/wlock_vs_irq_reader") {
  auto f = m.Fixture<RwIrq>();
  m.Describe("write_lock() with interrupts on, read_lock() in a handler on another CPU");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("writer", 0, [](RwIrq& x) {
    write_lock(&x.rw);
    write_unlock(&x.rw);
  });
  f.Irq("gpio", 1, 1, [](RwIrq& x) {
    read_lock(&x.rw);
    read_unlock(&x.rw);
  });
}

// --- Lock lifetime ----------------------------------------------------------------

struct Obj {
  spinlock_t lock;
  int value;
};
struct Heap {
  Obj* obj = nullptr;
  Heap() {
    obj = static_cast<Obj*>(kmalloc(sizeof(Obj), GFP_KERNEL));
    spin_lock_init(&obj->lock);
  }
};
KMC_MODEL("lockdep/held_lock_kfree") {
  auto f = m.Fixture<Heap>();
  m.Describe("kfree() of an object whose spinlock the task holds");
  m.Expect(Verdict::kLockMisuse);
  f.Task("freer", 0, [](Heap& h) {
    spin_lock(&h.obj->lock);
    kfree(h.obj);
  });
}

KMC_MODEL("lockdep/held_lock_reinit") {
  auto f = m.Fixture<Heap>();
  m.Describe("spin_lock_init() of a spinlock the task holds");
  m.Expect(Verdict::kLockMisuse);
  f.Task("reiniter", 0, [](Heap& h) {
    spin_lock(&h.obj->lock);
    spin_lock_init(&h.obj->lock);
    spin_unlock(&h.obj->lock);
  });
  f.Check([](Heap& h) { kfree(h.obj); });
}

}  // namespace
}  // namespace kmc::models
