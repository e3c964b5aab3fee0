// Models of the kernel primitives themselves: for each, a clean use and a
// misuse that must produce a specific verdict.

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

// ---------------------------------------------------------------------------
// atomic_t

struct Counter {
  atomic_t count = ATOMIC_INIT(0);
  Shared<int> plain{0};
};

KMC_MODEL("atomic/inc_return_counts") {
  auto f = m.Fixture<Counter>();
  m.Describe("two tasks atomic_inc_return() a counter; it ends at 2 and each sees a distinct value");
  m.Expect(Verdict::kClean);
  f.Task("inc0", 0, [](Counter& c) { KMC_ASSERT(atomic_inc_return(&c.count) <= 2); });
  f.Task("inc1", 1, [](Counter& c) { KMC_ASSERT(atomic_inc_return(&c.count) <= 2); });
  f.Check([](Counter& c) { KMC_ASSERT(atomic_read(&c.count) == 2); });
}

KMC_MODEL("atomic/read_then_set_loses_update") {
  auto f = m.Fixture<Counter>();
  m.Describe("atomic_read() then atomic_set() is two steps: an increment is lost");
  m.Expect(Verdict::kAssertionFailed);
  auto body = [](Counter& c) { atomic_set(&c.count, atomic_read(&c.count) + 1); };
  f.Task("inc0", 0, body);
  f.Task("inc1", 1, body);
  f.Check([](Counter& c) { KMC_ASSERT(atomic_read(&c.count) == 2); });
}

KMC_MODEL("atomic/plain_counter_race") {
  auto f = m.Fixture<Counter>();
  m.Describe("a plain shared int incremented by two tasks without a lock");
  m.Expect(Verdict::kDataRace);
  auto body = [](Counter& c) { c.plain = c.plain + 1; };
  f.Task("inc0", 0, body);
  f.Task("inc1", 1, body);
}

struct Bits {
  AtomicBitmap flags{0, {0, 0}};
  Shared<int> owner_count{0};
};

KMC_MODEL("bitops/test_and_set_bit_lock") {
  auto f = m.Fixture<Bits>();
  m.Describe("test_and_set_bit()/clear_bit() as a try-lock: one winner at a time");
  m.Expect(Verdict::kClean);
  auto body = [](Bits& b) {
    if (!test_and_set_bit(0, &b.flags)) {
      b.owner_count = b.owner_count + 1;
      KMC_ASSERT(b.owner_count == 1);
      b.owner_count = b.owner_count - 1;
      smp_mb__before_atomic();
      clear_bit(0, &b.flags);
    }
  };
  f.Task("t0", 0, body);
  f.Task("t1", 1, body);
}

KMC_MODEL("bitops/test_bit_then_set_bit") {
  auto f = m.Fixture<Bits>();
  m.Describe("test_bit() then set_bit() as a lock: both tasks get in");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  auto body = [](Bits& b) {
    if (!test_bit(0, &b.flags)) {
      set_bit(0, &b.flags);
      b.owner_count = b.owner_count + 1;
      KMC_ASSERT(b.owner_count == 1);
    }
  };
  f.Task("t0", 0, body);
  f.Task("t1", 1, body);
}

// ---------------------------------------------------------------------------
// struct semaphore

struct SemFixture {
  semaphore sem;
  Shared<int> counter{0};
  Shared<int> inside{0};
  SemFixture() { sema_init(&sem, 1); }
};

KMC_MODEL("semaphore/mutual_exclusion") {
  auto f = m.Fixture<SemFixture>();
  m.Describe("SM-01: a semaphore(1) used as a mutex by three tasks");
  m.Expect(Verdict::kClean);
  auto body = [](SemFixture& s) {
    down(&s.sem);
    s.counter = s.counter + 1;
    up(&s.sem);
  };
  f.Task("t0", 0, body);
  f.Task("t1", 1, body);
  f.Task("t2", 0, body);
  f.Check([](SemFixture& s) { KMC_ASSERT(s.counter == 3); });
}

KMC_MODEL("semaphore/extra_up_breaks_exclusion") {
  auto f = m.Fixture<SemFixture>();
  m.Describe("an extra up() is legal but lets two tasks into the critical section");
  m.Expect({Verdict::kAssertionFailed, Verdict::kDataRace});
  f.Task("t0", 0, [](SemFixture& s) {
    down(&s.sem);
    s.inside = s.inside + 1;
    KMC_ASSERT(s.inside == 1);
    s.inside = s.inside - 1;
    up(&s.sem);
    up(&s.sem);  // the bug
  });
  auto body = [](SemFixture& s) {
    down(&s.sem);
    s.inside = s.inside + 1;
    KMC_ASSERT(s.inside == 1);
    s.inside = s.inside - 1;
    up(&s.sem);
  };
  f.Task("t1", 1, body);
  f.Task("t2", 0, body);
}

KMC_MODEL("semaphore/trylock_inverted") {
  auto f = m.Fixture<SemFixture>();
  m.Describe("SM-04: `if (down_trylock(&s))` treated as success (1 means failure)");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  auto body = [](SemFixture& s) {
    if (down_trylock(&s.sem)) {  // the bug: 1 means NOT acquired
      s.counter = s.counter + 1;
    } else {
      s.counter = s.counter + 1;
      up(&s.sem);
    }
  };
  f.Task("t0", 0, body);
  f.Task("t1", 1, body);
}

KMC_MODEL("semaphore/missing_up_deadlock") {
  auto f = m.Fixture<SemFixture>();
  m.Describe("one path returns without up(): the next down() sleeps forever");
  m.Expect(Verdict::kDeadlock);
  f.Task("leaker", 0, [](SemFixture& s) { down(&s.sem); });
  f.Task("waiter", 1, [](SemFixture& s) {
    down(&s.sem);
    up(&s.sem);
  });
}

KMC_MODEL("semaphore/interruptible_signal") {
  auto f = m.Fixture<SemFixture>();
  m.Describe("down_interruptible() returns -EINTR on a signal and leaves the count intact");
  m.Expect(Verdict::kClean);
  m.Enable(kSignals);
  f.Task("holder", 0, [](SemFixture& s) {
    down(&s.sem);
    s.counter = s.counter + 1;
    up(&s.sem);
  });
  f.Task("sleeper", 1, [](SemFixture& s) {
    if (down_interruptible(&s.sem)) return;  // -EINTR: nothing to undo
    s.counter = s.counter + 1;
    up(&s.sem);
  });
  f.Check([](SemFixture& s) {
    KMC_ASSERT(s.counter >= 1);
    KMC_ASSERT(down_trylock(&s.sem) == 0);  // the unit is back
  });
}

// ---------------------------------------------------------------------------
// struct mutex

struct MutexFixture {
  mutex lock;
  Shared<int> counter{0};
  MutexFixture() { mutex_init(&lock); }
};

KMC_MODEL("mutex/mutual_exclusion") {
  auto f = m.Fixture<MutexFixture>();
  m.Describe("two tasks increment a counter under a mutex");
  m.Expect(Verdict::kClean);
  auto body = [](MutexFixture& x) {
    mutex_lock(&x.lock);
    x.counter = x.counter + 1;
    mutex_unlock(&x.lock);
  };
  f.Task("t0", 0, body);
  f.Task("t1", 1, body);
  f.Check([](MutexFixture& x) { KMC_ASSERT(x.counter == 2 && !mutex_is_locked(&x.lock)); });
}

KMC_MODEL("mutex/unlock_by_non_owner") {
  auto f = m.Fixture<MutexFixture>();
  m.Describe("a task unlocks a mutex another task holds");
  m.Expect(Verdict::kLockMisuse);
  f.Task("owner", 0, [](MutexFixture& x) { mutex_lock(&x.lock); });
  f.Task("thief", 1, [](MutexFixture& x) {
    if (mutex_is_locked(&x.lock)) mutex_unlock(&x.lock);
  });
}

KMC_MODEL("mutex/double_unlock") {
  auto f = m.Fixture<MutexFixture>();
  m.Describe("mutex_unlock() twice");
  m.Expect(Verdict::kLockMisuse);
  f.Task("t0", 0, [](MutexFixture& x) {
    mutex_lock(&x.lock);
    mutex_unlock(&x.lock);
    mutex_unlock(&x.lock);
  });
}

KMC_MODEL("mutex/recursive_lock") {
  auto f = m.Fixture<MutexFixture>();
  m.Describe("mutex_lock() of a mutex the task already holds: self-deadlock");
  m.Expect(Verdict::kDeadlock);
  f.Task("t0", 0, [](MutexFixture& x) {
    mutex_lock(&x.lock);
    mutex_lock(&x.lock);
  });
}

struct TwoMutexes {
  struct mutex a;
  struct mutex b;
  TwoMutexes() {
    mutex_init(&a);
    mutex_init(&b);
  }
};

KMC_MODEL("mutex/ab_ba") {
  auto f = m.Fixture<TwoMutexes>();
  m.Describe("two tasks take two mutexes in opposite orders: each sleeps on the one the "
             "other holds (the textbook AB-BA deadlock)");
  m.Expect(Verdict::kDeadlock);
  f.Task("t0", 0, [](TwoMutexes& x) {
    mutex_lock(&x.a);
    mutex_lock(&x.b);
    mutex_unlock(&x.b);
    mutex_unlock(&x.a);
  });
  f.Task("t1", 1, [](TwoMutexes& x) {
    mutex_lock(&x.b);
    mutex_lock(&x.a);
    mutex_unlock(&x.a);
    mutex_unlock(&x.b);
  });
}

// ---------------------------------------------------------------------------
// spinlock_t

struct SpinFixture {
  spinlock_t lock;
  semaphore sem;
  Shared<int> counter{0};
  SpinFixture() {
    spin_lock_init(&lock);
    sema_init(&sem, 1);
  }
};

KMC_MODEL("spinlock/mutual_exclusion") {
  auto f = m.Fixture<SpinFixture>();
  m.Describe("two tasks on two CPUs increment a counter under a spinlock");
  m.Expect(Verdict::kClean);
  auto body = [](SpinFixture& x) {
    spin_lock(&x.lock);
    x.counter = x.counter + 1;
    spin_unlock(&x.lock);
  };
  f.Task("t0", 0, body);
  f.Task("t1", 1, body);
  f.Check([](SpinFixture& x) { KMC_ASSERT(x.counter == 2); });
}

KMC_MODEL("spinlock/recursion") {
  auto f = m.Fixture<SpinFixture>();
  m.Describe("spin_lock() of a lock the task holds");
  m.Expect(Verdict::kDeadlock);
  f.Task("t0", 0, [](SpinFixture& x) {
    spin_lock(&x.lock);
    spin_lock(&x.lock);
  });
}

KMC_MODEL("spinlock/already_unlocked") {
  auto f = m.Fixture<SpinFixture>();
  m.Describe("spin_unlock() of a free lock");
  m.Expect(Verdict::kLockMisuse);
  f.Task("t0", 0, [](SpinFixture& x) { spin_unlock(&x.lock); });
}

KMC_MODEL("spinlock/wrong_owner") {
  auto f = m.Fixture<SpinFixture>();
  m.Describe("a task unlocks a spinlock another task holds");
  m.Expect(Verdict::kLockMisuse);
  f.Task("owner", 0, [](SpinFixture& x) {
    spin_lock(&x.lock);
    down(&x.sem);  // also sleeps under a spinlock...
  });
  f.Task("thief", 1, [](SpinFixture& x) {
    if (spin_is_locked(&x.lock)) spin_unlock(&x.lock);
  });
  m.Expect({Verdict::kLockMisuse, Verdict::kInvalidContext});
}

KMC_MODEL("spinlock/sleep_while_holding") {
  auto f = m.Fixture<SpinFixture>();
  m.Describe("down() while holding a spinlock");
  m.Expect(Verdict::kInvalidContext);
  f.Task("t0", 0, [](SpinFixture& x) {
    spin_lock(&x.lock);
    down(&x.sem);
    up(&x.sem);
    spin_unlock(&x.lock);
  });
}

KMC_MODEL("spinlock/exit_with_lock_held") {
  auto f = m.Fixture<SpinFixture>();
  m.Describe("a task returns to user space holding a spinlock");
  m.Expect(Verdict::kLockMisuse);
  f.Task("t0", 0, [](SpinFixture& x) { spin_lock(&x.lock); });
}

// ---------------------------------------------------------------------------
// Memory

struct Box {
  Shared<int> value;
};

struct MemFixture {
  Shared<Box*> box{nullptr};
  semaphore sem;
  MemFixture() { sema_init(&sem, 1); }
};

KMC_MODEL("slab/alloc_free_clean") {
  auto f = m.Fixture<MemFixture>();
  m.Describe("kmalloc/kfree under a semaphore, with allocation failure explored");
  m.Expect(Verdict::kClean);
  m.Enable(kAllocFailure);
  auto body = [](MemFixture& x) {
    down(&x.sem);
    if (x.box == nullptr) {
      Box* b = kzalloc(sizeof(Box), GFP_KERNEL);
      if (b != nullptr) {
        b->value = 1;
        x.box = b;
      }
    }
    up(&x.sem);
  };
  f.Task("t0", 0, body);
  f.Task("t1", 1, body);
  f.Check([](MemFixture& x) { kfree(x.box); });
}

KMC_MODEL("slab/leak") {
  auto f = m.Fixture<MemFixture>();
  m.Describe("an object allocated and never freed");
  m.Expect(Verdict::kMemoryLeak);
  f.Task("t0", 0, [](MemFixture&) {
    void* p = kmalloc(32, GFP_KERNEL);
    (void)p;
  });
}

KMC_MODEL("slab/use_after_free") {
  auto f = m.Fixture<MemFixture>();
  m.Describe("a field read after kfree()");
  m.Expect(Verdict::kUseAfterFree);
  f.Task("t0", 0, [](MemFixture&) {
    Box* b = kzalloc(sizeof(Box), GFP_KERNEL);
    kfree(b);
    KMC_ASSERT(b->value.get() == 0);
  });
}

KMC_MODEL("slab/double_free") {
  auto f = m.Fixture<MemFixture>();
  m.Describe("kfree() twice");
  m.Expect(Verdict::kDoubleFree);
  f.Task("t0", 0, [](MemFixture&) {
    void* p = kmalloc(8, GFP_KERNEL);
    kfree(p);
    kfree(p);
  });
}

KMC_MODEL("slab/gfp_kernel_under_spinlock") {
  auto f = m.Fixture<SpinFixture>();
  m.Describe("kmalloc(GFP_KERNEL) while holding a spinlock");
  m.Expect(Verdict::kInvalidContext);
  f.Task("t0", 0, [](SpinFixture& x) {
    spin_lock(&x.lock);
    void* p = kmalloc(16, GFP_KERNEL);
    spin_unlock(&x.lock);
    kfree(p);
  });
}

KMC_MODEL("slab/page_alloc_clean") {
  auto f = m.Fixture<MemFixture>();
  m.Describe("alloc_page/page_address/__free_page with failure explored");
  m.Expect(Verdict::kClean);
  m.Enable(kAllocFailure);
  f.Task("t0", 0, [](MemFixture&) {
    struct page* pg = alloc_page(GFP_KERNEL);
    if (!pg) return;
    char* va = static_cast<char*>(page_address(pg));
    kmc_memset(va, 0, PAGE_SIZE);
    __free_page(pg);
  });
}

KMC_MODEL("slab/kfree_of_page") {
  auto f = m.Fixture<MemFixture>();
  m.Describe("kfree() of a page's address (pages go back with __free_page)");
  m.Expect(Verdict::kInvalidFree);
  f.Task("t0", 0, [](MemFixture&) {
    struct page* pg = alloc_page(GFP_KERNEL);
    kfree(page_address(pg));
  });
}

// ---------------------------------------------------------------------------
// User copies

struct UserFixture {
  char* kbuf = nullptr;
  UserFixture() { kbuf = kzalloc(8, GFP_KERNEL); }
  ~UserFixture() {}
};

KMC_MODEL("uaccess/fault_paths") {
  auto f = m.Fixture<UserFixture>();
  m.Describe("copy_from_user/copy_to_user with full, partial and failed copies explored");
  m.Expect(Verdict::kClean);
  m.Enable(kUserFault);
  f.Task("t0", 0, [](UserFixture& x) {
    UserBuffer in(std::string("abcdefgh"));
    unsigned long left = copy_from_user(x.kbuf, in.ptr(), 8);
    KMC_ASSERT(left == 0 || left == 4 || left == 8);
    UserBuffer out(8);
    if (left == 0) {
      if (copy_to_user(out.ptr(), x.kbuf, 8) == 0) KMC_ASSERT(out.str(8) == "abcdefgh");
    }
    int v = 0;
    KMC_ASSERT(get_user(v, static_cast<int*>(nullptr)) == -EFAULT);
  });
  f.Check([](UserFixture& x) { kfree(x.kbuf); });
}

KMC_MODEL("uaccess/copy_under_spinlock") {
  auto f = m.Fixture<SpinFixture>();
  m.Describe("copy_to_user() while holding a spinlock");
  m.Expect(Verdict::kInvalidContext);
  f.Task("t0", 0, [](SpinFixture& x) {
    UserBuffer out(4);
    int v = 1;
    spin_lock(&x.lock);
    (void)copy_to_user(out.ptr(), &v, sizeof v);
    spin_unlock(&x.lock);
  });
}

}  // namespace
}  // namespace kmc::models
