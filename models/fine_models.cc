// Models of fine-grained interleaving (Model::FineGrained, kmc check
// --fine_grained; docs/ARCHITECTURE.md, "Fine-grained interleaving"): plain
// accesses are scheduling points too, so what a race does is executed, not
// only detected. Each bug here is invisible to the default interleaving,
// where a plain read-modify-write between two kernel calls runs as one step:
// without FineGrained() each model is clean (tests/fine_grained_test.cc
// checks both).

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

struct Stats {
  Shared<int> hits{0};
};

// A statistics counter that the driver's author decided may be racy, marked
// with data_race() as KCSAN wants it: the race is not reported, and the
// increments of two tasks interleave between the read and the write.
KMC_MODEL("fine/lost_update") {
  auto f = m.Fixture<Stats>();
  m.Describe("two tasks count a hit each with data_race(hits++), a plain read-modify-write "
             "exempt from race reports: an increment is lost when they interleave, and the "
             "final check's hits == 2 fails (fine-grained interleaving)");
  m.Expect(Verdict::kAssertionFailed);
  m.FineGrained();
  auto hit = [](Stats& s) { data_race(s.hits++); };
  f.Task("t0", 0, hit);
  f.Task("t1", 1, hit);
  f.Check([](Stats& s) { KMC_ASSERT(s.hits.get() == 2); });
}

struct Counter {
  Shared<int> count{0};
};

// Process context and its CPU's interrupt handler both bump a counter with
// no lock and interrupts left on. The handler and the code it interrupts
// are ordered on one CPU, so this is no data race; the update is lost when
// the interrupt arrives between the task's read and its write.
KMC_MODEL("fine/irq_between_plain_accesses") {
  auto f = m.Fixture<Counter>();
  m.Describe("a task and an interrupt handler on the same CPU each add 1 to a counter with a "
             "plain read and write and interrupts on: the interrupt arrives between the task's "
             "two accesses and its update is lost (count == 1; no race: one CPU)");
  m.Expect(Verdict::kAssertionFailed);
  m.FineGrained();
  f.Task("task", 0, [](Counter& c) { c.count = c.count + 1; });
  f.Irq("irq", 0, 1, [](Counter& c) { c.count = c.count + 1; });
  f.Check([](Counter& c) { KMC_ASSERT(c.count.get() == 2); });
}

}  // namespace
}  // namespace kmc::models
