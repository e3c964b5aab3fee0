#include "tests/smoke/relacy_probe.h"

#include <fstream>

#include <relacy/relacy.hpp>  // Never relacy_std.hpp (see toolchain notes).

namespace kmc::smoke {
namespace {

// Two threads increment with an atomic read-modify-write: always 2.
struct AtomicIncrement : rl::test_suite<AtomicIncrement, 2> {
  rl::atomic<int> counter;

  void before() { counter.store(0, rl::memory_order_relaxed); }
  void thread(unsigned /*index*/) {
    counter.fetch_add(1, rl::memory_order_relaxed);
  }
  void after() { RL_ASSERT(counter.load(rl::memory_order_relaxed) == 2); }
};

// Two threads increment with load + store: an update can be lost.
struct LostUpdate : rl::test_suite<LostUpdate, 2> {
  rl::atomic<int> counter;

  void before() { counter.store(0, rl::memory_order_relaxed); }
  void thread(unsigned /*index*/) {
    int const seen = counter.load(rl::memory_order_relaxed);
    counter.store(seen + 1, rl::memory_order_relaxed);
  }
  void after() { RL_ASSERT(counter.load(rl::memory_order_relaxed) == 2); }
};

// Relacy replaces the global allocator for the whole program: a
// std::ostringstream that grows during a simulation crashes when freed
// afterwards. Reports therefore go to a file stream.
template <typename Test>
bool Simulate(std::ostream& out) {
  rl::test_params params;
  params.search_type = rl::sched_full;
  params.output_stream = &out;
  params.progress_stream = &out;
  return rl::simulate<Test>(params);
}

}  // namespace

bool RunRelacyProbe() {
  std::ofstream out("/dev/null");
  bool const atomic_ok = Simulate<AtomicIncrement>(out);
  bool const lost_update_found = !Simulate<LostUpdate>(out);
  return atomic_ok && lost_update_found;
}

}  // namespace kmc::smoke
