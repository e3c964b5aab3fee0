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

// The directed search turns a prediction into the deadlock it predicts.
// Three tasks close the cycle A -> B -> C -> A; the hang needs a task
// preempted while it holds its first lock, so a search that never preempts
// (tasks switch only when they sleep or end) never reaches it. Lockdep
// predicts the cycle from the executions that pass, and its directed search
// (preempting a task only where it holds the first lock of a dependency and
// takes the second) runs the three chains against each other until they
// hang.
KMC_MODEL("lockdep/ABBCCA_three_tasks_directed") {
  auto f = m.Fixture<Chain<Mutex, 3>>();
  m.Describe(
      "three tasks take A->B, B->C, C->A: a search without preemptions passes, lockdep "
      "predicts the cycle and its directed search reaches the hang");
  m.DefaultSearch(SearchMode::kBounded, 0);
  m.Expect(Verdict::kDeadlock);
  f.Task("ab", 0, [](Chain<Mutex, 3>& c) { c.Pair(0, 1); });
  f.Task("bc", 1, [](Chain<Mutex, 3>& c) { c.Pair(1, 2); });
  f.Task("ca", 2, [](Chain<Mutex, 3>& c) { c.Pair(2, 0); });
}

// One lockdep graph across the models of a driver (kmc check
// --lockdep_scope=driver): each model is clean alone, one takes A then B,
// the other B then A. Checked together, in that order, the second one
// predicts the cycle from the first one's dependency.
struct ScopeLocks {
  spinlock_t a;
  spinlock_t b;
  ScopeLocks() {
    spin_lock_init(&a);
    spin_lock_init(&b);
  }
};
KMC_MODEL("lockdep_scope/ab") {
  auto f = m.Fixture<ScopeLocks>();
  m.Describe("takes A then B: clean alone; with --lockdep_scope=driver it records A -> B");
  m.Expect(Verdict::kClean);
  f.Task("opener", 0, [](ScopeLocks& x) {
    spin_lock(&x.a);
    spin_lock(&x.b);
    spin_unlock(&x.b);
    spin_unlock(&x.a);
  });
}
KMC_MODEL("lockdep_scope/ba") {
  auto f = m.Fixture<ScopeLocks>();
  m.Describe(
      "takes B then A: clean alone; after lockdep_scope/ab with --lockdep_scope=driver, "
      "a possible deadlock");
  m.Expect(Verdict::kClean);
  f.Task("closer", 0, [](ScopeLocks& x) {
    spin_lock(&x.b);
    spin_lock(&x.a);
    spin_unlock(&x.a);
    spin_unlock(&x.b);
  });
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

// mark_held_locks(): interrupts re-enabled while a lock is held make it
// held with interrupts on, as if taken so. A handler on CPU1 takes the lock.
KMC_MODEL("lockdep/irq_enable_while_held") {
  auto f = m.Fixture<IrqLocks>();
  m.Describe(
      "a task takes A with interrupts off, then re-enables them while holding it; a handler "
      "takes A: A is held with interrupts on");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("task", 0, [](IrqLocks& x) {
    local_irq_disable();
    spin_lock(&x.a);
    local_irq_enable();  // the bug: A stays held with interrupts on
    spin_unlock(&x.a);
  });
  f.Irq("gpio", 1, 1, [](IrqLocks& x) {
    spin_lock(&x.a);
    spin_unlock(&x.a);
  });
}

KMC_MODEL("lockdep/irq_enable_after_unlock_clean") {
  auto f = m.Fixture<IrqLocks>();
  m.Describe("the same with interrupts re-enabled after the unlock: clean");
  m.Expect(Verdict::kClean);
  f.Task("task", 0, [](IrqLocks& x) {
    local_irq_disable();
    spin_lock(&x.a);
    spin_unlock(&x.a);
    local_irq_enable();
  });
  f.Irq("gpio", 1, 1, [](IrqLocks& x) {
    spin_lock(&x.a);
    spin_unlock(&x.a);
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


// --- Wait types: raw_spinlock_t < spinlock_t, local_lock_t < sleeping locks -------

struct Raw {
  raw_spinlock_t l;
  Raw() { raw_spin_lock_init(&l); }
  void Lock() { raw_spin_lock(&l); }
  void Unlock() { raw_spin_unlock(&l); }
};
KMC_MODEL("lockdep/ABBA_raw_spin") { CycleModel<Raw, 2>(m, "raw_spinlock_t"); }

// downgrade_write(): the write hold becomes a read hold (lock_downgrade()).
struct Downgrade {
  rw_semaphore sem;
  mutex m;
  Downgrade() {
    init_rwsem(&sem);
    mutex_init(&m);
  }
};
KMC_MODEL("lockdep/downgrade_write_clean") {
  auto f = m.Fixture<Downgrade>();
  m.Describe("down_write, downgrade_write, up_read, with a reader alongside: clean");
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, [](Downgrade& x) {
    down_write(&x.sem);
    downgrade_write(&x.sem);
    mutex_lock(&x.m);
    mutex_unlock(&x.m);
    up_read(&x.sem);
  });
  f.Task("reader", 1, [](Downgrade& x) {
    down_read(&x.sem);
    mutex_lock(&x.m);
    mutex_unlock(&x.m);
    up_read(&x.sem);
  });
}
KMC_MODEL("lockdep/downgrade_write_ABBA") {
  auto f = m.Fixture<Downgrade>();
  m.Describe(
      "the mutex taken under a downgraded (read) hold of the rwsem, later the rwsem taken for "
      "write under the mutex: a cycle, with the rwsem's read usage from the downgrade");
  m.Expect(Verdict::kPossibleDeadlock);
  f.Task("writer", 0, [](Downgrade& x) {
    down_write(&x.sem);
    downgrade_write(&x.sem);
    mutex_lock(&x.m);
    mutex_unlock(&x.m);
    up_read(&x.sem);
    mutex_lock(&x.m);
    down_write(&x.sem);
    up_write(&x.sem);
    mutex_unlock(&x.m);
  });
}

struct WaitTypes {
  raw_spinlock_t raw;
  spinlock_t spin;
  local_lock_t llock;
  mutex mtx;
  Shared<int> count{0};
  WaitTypes() {
    raw_spin_lock_init(&raw);
    spin_lock_init(&spin);
    local_lock_init(&llock);
    mutex_init(&mtx);
  }
};

KMC_MODEL("lockdep/raw_inside_spin_clean") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("a raw_spinlock_t inside a spinlock_t: a spinning lock inside a sleeping-on-RT one");
  m.Expect(Verdict::kClean);
  f.Task("t", 0, [](WaitTypes& w) {
    spin_lock(&w.spin);
    raw_spin_lock(&w.raw);
    w.count = w.count + 1;
    raw_spin_unlock(&w.raw);
    spin_unlock(&w.spin);
  });
}

KMC_MODEL("lockdep/spin_inside_raw") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("a spinlock_t inside a raw_spinlock_t: it would sleep on PREEMPT_RT");
  m.Expect(Verdict::kInvalidContext);
  f.Task("t", 0, [](WaitTypes& w) {
    raw_spin_lock(&w.raw);
    spin_lock(&w.spin);
    spin_unlock(&w.spin);
    raw_spin_unlock(&w.raw);
  });
}

KMC_MODEL("lockdep/local_lock_inside_raw") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("a local_lock_t inside a raw_spinlock_t");
  m.Expect(Verdict::kInvalidContext);
  f.Task("t", 0, [](WaitTypes& w) {
    unsigned long flags;
    raw_spin_lock_irqsave(&w.raw, flags);
    local_lock(&w.llock);
    local_unlock(&w.llock);
    raw_spin_unlock_irqrestore(&w.raw, flags);
  });
}

struct PerCpu {
  local_lock_t lock[2];
  Shared<int> count[2];
  PerCpu() {
    for (local_lock_t& l : lock) local_lock_init(&l);
    for (Shared<int>& c : count) c = 0;
  }
};
KMC_MODEL("lockdep/local_lock_per_cpu_clean") {
  auto f = m.Fixture<PerCpu>();
  m.Describe("each CPU's task and handler update that CPU's counter under its local_lock_t");
  m.Expect(Verdict::kClean);
  for (int cpu = 0; cpu < 2; ++cpu) {
    f.Task("t" + std::to_string(cpu), cpu, [cpu](PerCpu& p) {
      unsigned long flags;
      local_lock_irqsave(&p.lock[cpu], flags);
      p.count[cpu] = p.count[cpu] + 1;
      local_unlock_irqrestore(&p.lock[cpu], flags);
    });
  }
  f.Irq("timer", 0, 1, [](PerCpu& p) {
    local_lock(&p.lock[0]);
    p.count[0] = p.count[0] + 1;
    local_unlock(&p.lock[0]);
  });
  f.Check([](PerCpu& p) { KMC_ASSERT(p.count[0] == 2 && p.count[1] == 1); });
}

KMC_MODEL("lockdep/local_lock_sleep") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("mutex_lock() inside local_lock(): preemption is disabled");
  m.Expect(Verdict::kInvalidContext);
  f.Task("t", 0, [](WaitTypes& w) {
    local_lock(&w.llock);
    mutex_lock(&w.mtx);
    mutex_unlock(&w.mtx);
    local_unlock(&w.llock);
  });
}

KMC_MODEL("lockdep/preempt_disable_clean") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("a preempt_disable() section that does not sleep");
  m.Expect(Verdict::kClean);
  f.Task("t", 0, [](WaitTypes& w) {
    preempt_disable();
    w.count = w.count + 1;
    preempt_enable();
    mutex_lock(&w.mtx);
    mutex_unlock(&w.mtx);
  });
}

KMC_MODEL("lockdep/preempt_disable_sleep") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("mutex_lock() between preempt_disable() and preempt_enable()");
  m.Expect(Verdict::kInvalidContext);
  f.Task("t", 0, [](WaitTypes& w) {
    preempt_disable();
    mutex_lock(&w.mtx);
    mutex_unlock(&w.mtx);
    preempt_enable();
  });
}

KMC_MODEL("lockdep/preempt_enable_unbalanced") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("preempt_enable() without preempt_disable()");
  m.Expect(Verdict::kLockMisuse);
  f.Task("t", 0, [](WaitTypes&) { preempt_enable(); });
}

KMC_MODEL("lockdep/rcu_sched_clean") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("an RCU-sched reader that does not sleep");
  m.Expect(Verdict::kClean);
  f.Task("t", 0, [](WaitTypes& w) {
    rcu_read_lock_sched();
    w.count = w.count + 1;
    rcu_read_unlock_sched();
  });
}

KMC_MODEL("lockdep/rcu_sched_sleep") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("mutex_lock() inside rcu_read_lock_sched()");
  m.Expect(Verdict::kInvalidContext);
  f.Task("t", 0, [](WaitTypes& w) {
    rcu_read_lock_sched();
    mutex_lock(&w.mtx);
    mutex_unlock(&w.mtx);
    rcu_read_unlock_sched();
  });
}

// --- mutex_destroy ------------------------------------------------------------------

KMC_MODEL("lockdep/mutex_destroy_clean") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("mutex_destroy() of an unlocked mutex at teardown");
  m.Expect(Verdict::kClean);
  f.Task("t", 0, [](WaitTypes& w) {
    mutex_lock(&w.mtx);
    mutex_unlock(&w.mtx);
  });
  f.Check([](WaitTypes& w) { mutex_destroy(&w.mtx); });
}

KMC_MODEL("lockdep/mutex_destroy_locked") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("mutex_destroy() of a mutex the task holds");
  m.Expect(Verdict::kLockMisuse);
  f.Task("t", 0, [](WaitTypes& w) {
    mutex_lock(&w.mtx);
    mutex_destroy(&w.mtx);
    mutex_unlock(&w.mtx);
  });
}

KMC_MODEL("lockdep/mutex_lock_after_destroy") {
  auto f = m.Fixture<WaitTypes>();
  m.Describe("mutex_lock() of a destroyed mutex");
  m.Expect(Verdict::kLockMisuse);
  f.Task("t", 0, [](WaitTypes& w) {
    mutex_destroy(&w.mtx);
    mutex_lock(&w.mtx);
    mutex_unlock(&w.mtx);
  });
}

// --- Blocking while !TASK_RUNNING, locks held returning to user space ---------------

struct Waiter {
  wait_queue_head_t q;
  mutex mtx;
  rw_semaphore sem;
  Waiter() {
    init_waitqueue_head(&q);
    mutex_init(&mtx);
    init_rwsem(&sem);
  }
};

KMC_MODEL("lockdep/blocking_op_not_running") {
  auto f = m.Fixture<Waiter>();
  m.Describe("mutex_lock() between prepare_to_wait() and schedule()");
  m.Expect(Verdict::kInvalidContext);
  f.Task("reader", 0, [](Waiter& w) {
    DEFINE_WAIT(wait);
    prepare_to_wait(&w.q, &wait, TASK_INTERRUPTIBLE);
    mutex_lock(&w.mtx);
    mutex_unlock(&w.mtx);
    finish_wait(&w.q, &wait);
  });
}

KMC_MODEL("lockdep/blocking_op_after_finish_wait_clean") {
  auto f = m.Fixture<Waiter>();
  m.Describe("the same mutex_lock() after finish_wait()");
  m.Expect(Verdict::kClean);
  f.Task("reader", 0, [](Waiter& w) {
    DEFINE_WAIT(wait);
    prepare_to_wait(&w.q, &wait, TASK_INTERRUPTIBLE);
    finish_wait(&w.q, &wait);
    mutex_lock(&w.mtx);
    mutex_unlock(&w.mtx);
  });
}

KMC_MODEL("lockdep/rwsem_held_returning_to_user") {
  auto f = m.Fixture<Waiter>();
  m.Describe("a system call returns with an rw_semaphore held for read");
  m.Expect(Verdict::kLockMisuse);
  f.Task("reader", 0, [](Waiter& w) { down_read(&w.sem); });
}

// --- Queued rwlocks -----------------------------------------------------------------

KMC_MODEL("lockdep/qrwlock_reader_behind_writer") {
  auto f = m.Fixture<RwIrq>();
  m.Describe(
      "a process-context reader re-takes a queued rwlock while a writer waits: the second "
      "read_lock() queues behind the writer, which waits for the first");
  m.Expect(Verdict::kDeadlock);
  f.Task("reader", 0, [](RwIrq& x) {
    read_lock(&x.rw);
    read_lock(&x.rw);
    read_unlock(&x.rw);
    read_unlock(&x.rw);
  });
  f.Task("writer", 1, [](RwIrq& x) {
    write_lock_irq(&x.rw);
    write_unlock_irq(&x.rw);
  });
}

KMC_MODEL("lockdep/qrwlock_irq_reader_passes_writer") {
  auto f = m.Fixture<RwIrq>();
  m.Describe(
      "a handler's read_lock() on the reader's CPU passes the waiting writer (interrupt "
      "readers are recursive), so it cannot deadlock");
  m.Expect(Verdict::kClean);
  f.Task("reader", 0, [](RwIrq& x) {
    read_lock(&x.rw);
    read_unlock(&x.rw);
  });
  f.Task("writer", 1, [](RwIrq& x) {
    write_lock_irq(&x.rw);
    write_unlock_irq(&x.rw);
  });
  f.Irq("gpio", 0, 1, [](RwIrq& x) {
    read_lock(&x.rw);
    read_unlock(&x.rw);
  });
}

}  // namespace
}  // namespace kmc::models
