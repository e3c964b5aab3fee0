// Models that only bugs_test links (--all_bugs, suppressions, data_race(),
// race reports). They live under "bugs_test/" and are kept out of //models
// so that `kmc list` and `kmc check --all` never see them.

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::bugs_test_models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

struct TwoFields {
  Shared<int> a;
  Shared<int> b;
};

// Two seeded races: on `a` (first_a, second_a) and on `b` (first_b,
// second_b). Which one an execution hits first depends on the order.
void first_a(TwoFields& f) { f.a.set(1); }
void first_b(TwoFields& f) { f.b.set(1); }
void second_b(TwoFields& f) { f.b.set(2); }
void second_a(TwoFields& f) { f.a.set(2); }

void DefineTwoRaces(Model& m) {
  auto f = m.Fixture<TwoFields>();
  m.Describe("two unrelated races: a in one order, b in the other");
  m.Expect(Verdict::kDataRace);
  f.Task("writer0", 0, [](TwoFields& x) {
    first_a(x);
    first_b(x);
  });
  f.Task("writer1", 1, [](TwoFields& x) {
    second_b(x);
    second_a(x);
  });
}

KMC_MODEL("bugs_test/two_races") { DefineTwoRaces(m); }

// The same, asking for every bug itself (Model::AllBugs).
KMC_MODEL("bugs_test/two_races_all_bugs") {
  DefineTwoRaces(m);
  m.AllBugs();
}

struct Counter {
  Counter() { mutex_init(&lock); }
  mutex lock;
  Shared<int> count;
};

// One seeded race (an unlocked increment), reached by many interleavings
// of the locked steps around it.
void bump(Counter& c) { c.count.set(c.count.get() + 1); }

KMC_MODEL("bugs_test/one_race_many_ways") {
  auto f = m.Fixture<Counter>();
  m.Describe("one unlocked increment, reached after locked steps in many orders");
  m.Expect(Verdict::kDataRace);
  for (int i = 0; i < 2; ++i) {
    f.Task("bumper" + std::to_string(i), i, [](Counter& c) {
      mutex_lock(&c.lock);
      mutex_unlock(&c.lock);
      bump(c);
      mutex_lock(&c.lock);
      mutex_unlock(&c.lock);
    });
  }
}

struct Published {
  Published() {
    mutex_init(&lock);
    init_completion(&first_done);
  }
  mutex lock;
  completion first_done;
  Shared<int> value;
};

// locked_writer's write is ordered before the reader's read (the
// completion); the reader's unlocked read races only with other_writer's
// write, whichever runs first.
void first_write(Published& p) {
  mutex_lock(&p.lock);
  p.value.set(1);
  mutex_unlock(&p.lock);
}
void other_write(Published& p) {
  mutex_lock(&p.lock);
  p.value.set(2);
  mutex_unlock(&p.lock);
}
void unlocked_read(Published& p) { (void)p.value.get(); }

KMC_MODEL("bugs_test/unlocked_read_after_ordered_write") {
  auto f = m.Fixture<Published>();
  m.Describe("a locked write, a read ordered after it but unlocked, another locked write");
  m.Expect(Verdict::kDataRace);
  f.Task("first_writer", 0, [](Published& p) {
    first_write(p);
    complete(&p.first_done);
  });
  f.Task("reader", 1, [](Published& p) {
    wait_for_completion(&p.first_done);
    unlocked_read(p);
  });
  f.Task("other_writer", 0, [](Published& p) { other_write(p); });
}

struct Stats {
  Stats() { mutex_init(&lock); }
  mutex lock;
  Shared<int> hits;
};

void count_hit(Stats& s) {
  mutex_lock(&s.lock);
  s.hits.set(s.hits.get() + 1);
  mutex_unlock(&s.lock);
}
int peek_hits_annotated(Stats& s) { return data_race(s.hits) + data_race(s.hits.get() * 0); }
int peek_hits(Stats& s) { return s.hits.get(); }

// A statistic read without the lock on purpose, annotated as the kernel
// does: not a race.
KMC_MODEL("bugs_test/data_race_annotated_read") {
  auto f = m.Fixture<Stats>();
  m.Describe("a locked counter read without the lock inside data_race()");
  m.Expect(Verdict::kClean);
  f.Task("counter", 0, [](Stats& s) { count_hit(s); });
  f.Task("peeker", 1, [](Stats& s) {
    const int n = peek_hits_annotated(s);
    KMC_ASSERT(n == 0 || n == 1);
  });
}

// The same read without data_race(): a data race.
KMC_MODEL("bugs_test/unannotated_racy_read") {
  auto f = m.Fixture<Stats>();
  m.Describe("a locked counter read without the lock and without data_race()");
  m.Expect(Verdict::kDataRace);
  f.Task("counter", 0, [](Stats& s) { count_hit(s); });
  f.Task("peeker", 1, [](Stats& s) { (void)peek_hits(s); });
}

// Shared<T>'s operators that cannot take a source location (implicit read,
// ++, copy from another field, ->) must still name the driver line.
struct Counters {
  Shared<int> n;
  Shared<int> copy;
};
// Driver-like functions (a driver's file operation is not inlined into
// the model's task): when GCC inlines a one-line function into the task's
// std::function thunk, the call's return address may map to the thunk's
// line instead.
[[gnu::noinline]] void bump(Counters& c) { c.n++; }
[[gnu::noinline]] int peek_implicit(Counters& c) { return c.n + 0; }
[[gnu::noinline]] void copy_field(Counters& c) { c.copy = c.n; }

KMC_MODEL("bugs_test/operator_increment_race") {
  auto f = m.Fixture<Counters>();
  m.Describe("two tasks n++ a shared field without a lock");
  m.Expect(Verdict::kDataRace);
  f.Task("bump0", 0, [](Counters& c) { bump(c); });
  f.Task("bump1", 1, [](Counters& c) { bump(c); });
}

KMC_MODEL("bugs_test/operator_implicit_read_race") {
  auto f = m.Fixture<Counters>();
  m.Describe("n++ against an implicit read and a copy into another field");
  m.Expect(Verdict::kDataRace);
  f.Task("bump", 0, [](Counters& c) { bump(c); });
  f.Task("reader", 1, [](Counters& c) {
    (void)peek_implicit(c);
    copy_field(c);
  });
}

}  // namespace
}  // namespace kmc::bugs_test_models
