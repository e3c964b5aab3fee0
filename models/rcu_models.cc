// Models of RCU (sync/rcupdate.h, sync/list.h; docs/KERNEL_SEMANTICS.md §6.3,
// cases RU-01..RU-04): publishing and reading a pointer, an RCU-protected
// list with concurrent updates, and the classic mistakes: freeing before a
// grace period, publishing without release ordering, and waiting for a grace
// period inside a reader.

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

// ---------------------------------------------------------------------------
// A configuration pointer: readers use it, one updater replaces it.

struct Config {
  Shared<int> a;
  Shared<int> b;
};

Config *NewConfig(int v) {
  Config *c = kmalloc(sizeof(Config), GFP_KERNEL);
  c->a = v;
  c->b = v;
  return c;
}

struct Gp {
  Shared<Config *> gp;
  Gp() { RCU_INIT_POINTER(gp, NewConfig(1)); }
};

void ConfigReader(Gp &g) {
  rcu_read_lock();
  Config *p = rcu_dereference(g.gp);
  const int a = p->a.get();
  const int b = p->b.get();
  KMC_ASSERT(a == b && (a == 1 || a == 2));
  rcu_read_unlock();
}

void FreeConfig(Gp &g) { kfree(rcu_dereference_protected(g.gp, 1)); }

KMC_MODEL("rcu/publish_and_read") {
  auto f = m.Fixture<Gp>();
  m.Describe("RU-01: the updater initializes a new config, publishes it with "
             "rcu_assign_pointer(), waits with synchronize_rcu() and frees the old one; two "
             "readers never see a freed or half-initialized config");
  m.Expect(Verdict::kClean);
  f.Task("updater", 0, [](Gp &g) {
    Config *n = NewConfig(2);
    Config *old = rcu_dereference_protected(g.gp, 1);  // the only updater
    rcu_assign_pointer(g.gp, n);
    synchronize_rcu();
    kfree(old);
  });
  f.Task("reader0", 1, ConfigReader);
  f.Task("reader1", 0, ConfigReader);
  f.Check(FreeConfig);
}

KMC_MODEL("rcu/free_without_grace_period") {
  auto f = m.Fixture<Gp>();
  m.Describe("RU-02: the updater frees the old config right after publishing the new one, "
             "without synchronize_rcu(): a reader that still holds it touches freed memory");
  m.Expect(Verdict::kUseAfterFree);
  f.Task("updater", 0, [](Gp &g) {
    Config *n = NewConfig(2);
    Config *old = rcu_dereference_protected(g.gp, 1);
    rcu_assign_pointer(g.gp, n);
    kfree(old);  // BUG RU-02: no grace period
  });
  f.Task("reader", 1, ConfigReader);
  f.Check(FreeConfig);
}

KMC_MODEL("rcu/plain_publish") {
  auto f = m.Fixture<Gp>();
  m.Describe("RU-03: the new config is published with WRITE_ONCE() instead of "
             "rcu_assign_pointer(): nothing orders its initialization before a reader's loads");
  m.Expect({Verdict::kDataRace, Verdict::kUninitializedRead});
  f.Task("updater", 0, [](Gp &g) {
    Config *n = NewConfig(2);
    Config *old = rcu_dereference_protected(g.gp, 1);
    WRITE_ONCE(g.gp, n);  // BUG RU-03: no release ordering
    synchronize_rcu();
    kfree(old);
  });
  f.Task("reader", 1, ConfigReader);
  f.Check(FreeConfig);
}

KMC_MODEL("rcu/synchronize_in_reader") {
  auto f = m.Fixture<Gp>();
  m.Describe("RU-04: an updater looks the config up under rcu_read_lock() and calls "
             "synchronize_rcu() before leaving the reader: the grace period waits for itself");
  m.Expect(Verdict::kDeadlock);
  f.Task("updater", 0, [](Gp &g) {
    Config *n = NewConfig(2);
    rcu_read_lock();
    Config *old = rcu_dereference(g.gp);
    rcu_assign_pointer(g.gp, n);
    synchronize_rcu();  // BUG RU-04: inside the read-side critical section
    rcu_read_unlock();
    kfree(old);
  });
  f.Task("reader", 1, ConfigReader);
  f.Check(FreeConfig);
}

// ---------------------------------------------------------------------------
// An RCU-protected list: readers walk it locklessly, updaters serialize on a
// spinlock, replace one entry (synchronize_rcu() then kfree()) and delete
// another (kfree_rcu()).

struct Item {
  Shared<int> key;
  Shared<int> val;
  list_head list;
  rcu_head rcu;
};

Item *NewItem(int key, int val) {
  Item *it = kmalloc(sizeof(Item), GFP_KERNEL);
  it->key = key;
  it->val = val;
  return it;
}

struct RcuList {
  list_head head;
  spinlock_t lock;  // serializes updaters
  RcuList() {
    INIT_LIST_HEAD(&head);
    spin_lock_init(&lock);
    list_add_tail_rcu(&NewItem(1, 10)->list, &head);
    list_add_tail_rcu(&NewItem(2, 20)->list, &head);
  }
};

Item *Find(RcuList &l, int key) {
  Item *pos;
  list_for_each_entry(pos, &l.head, list) {
    if (pos->key == key) return pos;
  }
  return nullptr;
}

KMC_MODEL("rcu/list_update") {
  auto f = m.Fixture<RcuList>();
  m.Describe("an RCU list: a reader walks it with list_for_each_entry_rcu() while two updaters, "
             "serialized by a spinlock, replace entry 1 (list_add_rcu, list_del_rcu, "
             "synchronize_rcu, kfree) and delete entry 2 (list_del_rcu, kfree_rcu); "
             "rcu_barrier() at module exit");
  m.Expect(Verdict::kClean);
  f.Task("replacer", 0, [](RcuList &l) {
    Item *n = NewItem(1, 11);
    spin_lock(&l.lock);
    Item *old = Find(l, 1);
    list_add_rcu(&n->list, &l.head);
    list_del_rcu(&old->list);
    spin_unlock(&l.lock);
    synchronize_rcu();
    kfree(old);
  });
  f.Task("deleter", 0, [](RcuList &l) {
    spin_lock(&l.lock);
    Item *old = Find(l, 2);
    list_del_rcu(&old->list);
    spin_unlock(&l.lock);
    kfree_rcu(old, rcu);
  });
  auto reader = [](RcuList &l) {
    rcu_read_lock();
    Item *pos;
    int seen = 0;
    list_for_each_entry_rcu(pos, &l.head, list) {
      const int key = pos->key.get();
      const int val = pos->val.get();
      KMC_ASSERT(val == key * 10 || (key == 1 && val == 11));
      seen += 1;
    }
    KMC_ASSERT(seen <= 3);
    rcu_read_unlock();
  };
  f.Task("reader", 1, reader);
  f.Check([](RcuList &l) {
    rcu_barrier();  // module exit: wait for kfree_rcu()
    Item *pos, *n;
    int count = 0;
    list_for_each_entry_safe(pos, n, &l.head, list) {
      KMC_ASSERT(pos->key == 1 && pos->val == 11);
      list_del(&pos->list);
      kfree(pos);
      count += 1;
    }
    KMC_ASSERT(count == 1 && list_empty(&l.head));
  });
}

}  // namespace
}  // namespace kmc::models
