// Models that only runner_test links: each one exercises a way a model itself
// can go wrong (it never terminates, it is nondeterministic, it defines no
// task, ...). They live under "runner_test/" and are kept out of //models so
// that `kmc list` and `kmc check --all` never see them.

#include <string>

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::runner_test_models {

// Executions of the nondeterministic models so far. A static that survives
// between executions is exactly what makes a model nondeterministic; the test
// resets them so that every check starts from the same parity.
int g_flaky_runs = 0;
int g_changing_bug_runs = 0;
int g_changing_path_runs = 0;
int g_changing_kind_runs = 0;

void ResetNondeterministicModels() {
  g_flaky_runs = 0;
  g_changing_bug_runs = 0;
  g_changing_path_runs = 0;
  g_changing_kind_runs = 0;
}

namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

struct Flag {
  atomic_t flag = ATOMIC_INIT(0);
  atomic_t other = ATOMIC_INIT(0);
};

KMC_MODEL("runner_test/spin_on_unset_flag") {
  auto f = m.Fixture<Flag>();
  m.Describe("a task spins on a flag nobody sets");
  m.Expect(Verdict::kLivelock);
  m.DepthLimit(2000);
  f.Task("spinner", 0, [](Flag& x) {
    while (atomic_read(&x.flag) == 0) {
    }
  });
}

KMC_MODEL("runner_test/spin_while_other_exits") {
  auto f = m.Fixture<Flag>();
  m.Describe("a task spins on a flag; the only other task exits without setting it");
  m.Expect(Verdict::kLivelock);
  m.DepthLimit(2000);
  f.Task("spinner", 0, [](Flag& x) {
    while (atomic_read(&x.flag) == 0) {
    }
  });
  f.Task("bystander", 1, [](Flag& x) { atomic_inc(&x.other); });
}

struct Empty {};

KMC_MODEL("runner_test/no_tasks") {
  m.Fixture<Empty>();
  m.Describe("a fixture and no task");
  m.Expect(Verdict::kClean);
}

KMC_MODEL("runner_test/nothing_at_all") {
  m.Describe("no fixture and no task");
  m.Expect(Verdict::kClean);
}

KMC_MODEL("runner_test/too_many_tasks") {
  auto f = m.Fixture<Flag>();
  m.Describe("nine tasks: one more than the engine supports");
  m.Expect(Verdict::kClean);
  for (int i = 0; i < 9; ++i) {
    f.Task("t" + std::to_string(i), i % 2, [](Flag& x) { atomic_inc(&x.other); });
  }
}

// Fails on every other execution: the first one fails, its re-run passes.
KMC_MODEL("runner_test/flaky_static_counter") {
  auto f = m.Fixture<Flag>();
  m.Describe("a static counter decides whether the execution fails");
  m.Expect(Verdict::kAssertionFailed);
  f.Task("t0", 0, [](Flag& x) {
    atomic_inc(&x.other);
    const bool fail = g_flaky_runs++ % 2 == 0;
    KMC_ASSERT(!fail);
  });
}

// Fails on every execution, but with another bug each time.
KMC_MODEL("runner_test/changing_bug") {
  auto f = m.Fixture<Flag>();
  m.Describe("a static counter decides which bug the execution shows");
  m.Expect(Verdict::kAssertionFailed);
  f.Task("t0", 0, [](Flag& x) {
    atomic_inc(&x.other);
    if (g_changing_bug_runs++ % 2 == 0) {
      KMC_ASSERT(atomic_read(&x.other) == 0);
    } else {
      void* p = kmalloc(8, GFP_KERNEL);
      kfree(p);
      kfree(p);
    }
  });
}

// Two tasks; a static counter makes the first task take three more steps on
// every other execution. The re-run of the failing execution makes more
// decisions than its replay token recorded.
KMC_MODEL("runner_test/changing_path_longer") {
  auto f = m.Fixture<Flag>();
  m.Describe("a static counter adds scheduling steps to every other execution");
  m.Expect(Verdict::kAssertionFailed);
  f.Task("t0", 0, [](Flag& x) {
    const int extra = g_changing_path_runs++ % 2 == 0 ? 0 : 3;
    for (int i = 0; i < extra; ++i) atomic_inc(&x.other);
    atomic_inc(&x.flag);
  });
  f.Task("t1", 1, [](Flag& x) {
    atomic_inc(&x.other);
    atomic_inc(&x.other);
    KMC_ASSERT(atomic_read(&x.flag) == 0);
  });
}

// Two tasks; a static counter decides whether the first task's first
// operation is a scheduling step (atomic_inc) or an explored allocation
// failure (kmalloc with kAllocFailure): the re-run meets a decision of
// another kind where the token recorded a scheduling decision.
KMC_MODEL("runner_test/changing_decision_kind") {
  auto f = m.Fixture<Flag>();
  m.Describe("a static counter changes the kind of the first decision");
  m.Expect(Verdict::kAssertionFailed);
  m.Enable(kAllocFailure);
  f.Task("t0", 0, [](Flag& x) {
    if (g_changing_kind_runs++ % 2 == 0) {
      atomic_inc(&x.other);
    } else {
      void* p = kmalloc(8, GFP_KERNEL);
      kfree(p);
    }
    atomic_inc(&x.flag);
  });
  f.Task("t1", 1, [](Flag& x) {
    atomic_inc(&x.other);
    KMC_ASSERT(atomic_read(&x.flag) == 0);
  });
}

struct Named {
  Shared<int> value{0};
};

// A headline with characters JSON must escape: the failing expression holds
// a quote and a backslash.
KMC_MODEL("runner_test/quote_in_message") {
  auto f = m.Fixture<Named>();
  m.Describe("an assertion whose text needs JSON escaping");
  m.Expect(Verdict::kAssertionFailed);
  f.Task("t0", 0, [](Named& n) {
    n.value = 1;
    KMC_ASSERT(std::string("say \"hi\"\\") == "" && n.value == 0);
  });
}

struct Initialized {
  atomic_t v = ATOMIC_INIT(5);
};

// Both tasks only read an atomic_t that ATOMIC_INIT gave a value: clean.
KMC_MODEL("runner_test/two_readers_of_initialized_atomic") {
  auto f = m.Fixture<Initialized>();
  m.Describe("two tasks atomic_read() a counter initialized with ATOMIC_INIT(5)");
  m.Expect(Verdict::kClean);
  f.Task("r0", 0, [](Initialized& x) { KMC_ASSERT(atomic_read(&x.v) == 5); });
  f.Task("r1", 1, [](Initialized& x) { KMC_ASSERT(atomic_read(&x.v) == 5); });
}

// Each task takes one scheduling step and then fails at once, so a replay
// that diverges at the decision taken in that step reaches no further step.
KMC_MODEL("runner_test/one_step_then_fail") {
  auto f = m.Fixture<Flag>();
  m.Describe("two tasks: one atomic_inc() each, then a failed assertion");
  m.Expect(Verdict::kAssertionFailed);
  auto body = [](Flag& x) {
    atomic_inc(&x.other);
    KMC_ASSERT(x.flag.counter == 1);
  };
  f.Task("t0", 0, body);
  f.Task("t1", 1, body);
}

}  // namespace
}  // namespace kmc::runner_test_models
