// Faulty models for robust_test and the kmc_faulty binary: each one does
// something that used to take the whole checker down (a NULL or wild
// pointer access, a divide error, a stack overflow, an uncaught exception,
// abort(), exit(), a task that never reaches a scheduling point, a host
// std::mutex held across one). They live under "robust_test/" and are kept
// out of //models so that `kmc list` and `kmc check --all` never see them.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <string>

#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::robust_test_models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

struct Dev {
  atomic_t count = ATOMIC_INIT(0);
  Shared<int> value;
  // Values the compiler cannot see through (a fault must really happen).
  uintptr_t null_offset = 8;
  uintptr_t wild = 0xdead0000;
  int zero = 0;
  int depth_limit = 1 << 30;
};

struct Node {
  Shared<int> field;
};

KMC_MODEL("robust_test/clean_counter") {
  auto f = m.Fixture<Dev>();
  m.Describe("two tasks increment an atomic counter (a healthy model among faulty ones)");
  m.Expect(Verdict::kClean);
  f.Task("inc0", 0, [](Dev& d) { atomic_inc(&d.count); });
  f.Task("inc1", 1, [](Dev& d) { atomic_inc(&d.count); });
  f.Check([](Dev& d) { KMC_ASSERT(atomic_read(&d.count) == 2); });
}

KMC_MODEL("robust_test/null_write") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task writes through a NULL pointer (plus a field offset)");
  m.Expect(Verdict::kKernelOops);
  f.Task("writer", 0, [](Dev& d) {
    atomic_inc(&d.count);
    volatile int* p = reinterpret_cast<volatile int*>(d.null_offset);
    *p = 1;  // FAULT: null_write
  });
  f.Task("other", 1, [](Dev& d) { atomic_inc(&d.count); });
}

KMC_MODEL("robust_test/null_struct_field") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task writes a Shared field through a NULL struct pointer");
  m.Expect(Verdict::kKernelOops);
  f.Task("writer", 0, [](Dev& d) {
    Node* n = reinterpret_cast<Node*>(d.null_offset - 8);
    n->field = 1;  // FAULT: null_struct_field
  });
}

KMC_MODEL("robust_test/wild_pointer") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task reads through a wild pointer");
  m.Expect(Verdict::kKernelOops);
  f.Task("reader", 0, [](Dev& d) {
    atomic_inc(&d.count);
    volatile int* p = reinterpret_cast<volatile int*>(d.wild);
    d.zero = *p;  // FAULT: wild_pointer
  });
}

KMC_MODEL("robust_test/divide_error") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task divides by zero");
  m.Expect(Verdict::kKernelOops);
  f.Task("divider", 0, [](Dev& d) {
    volatile int zero = d.zero;
    volatile int x = 10;
    d.zero = x / zero;  // FAULT: divide_error
  });
}

// Recursion with no kernel call: only the guard page can catch it.
// `limit` is far beyond any stack (the fixture's value, unknown to the
// compiler).
[[gnu::noinline]] int Recurse(volatile char* parent, int depth, int limit) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  frame[511] = parent != nullptr ? parent[0] : 0;
  if (depth >= limit) return frame[0];
  return Recurse(frame, depth + 1, limit) + frame[1];
}

KMC_MODEL("robust_test/runaway_recursion") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task recurses without end (its stack's guard page is hit)");
  m.Expect(Verdict::kStackOverflow);
  f.Task("recurser", 0, [](Dev& d) {
    atomic_inc(&d.count);
    d.zero = Recurse(nullptr, 0, d.depth_limit);
  });
}

KMC_MODEL("robust_test/huge_locals") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task puts 1 MiB of locals on its stack");
  m.Expect(Verdict::kStackOverflow);
  f.Task("hog", 0, [](Dev& d) {
    volatile char big[1 << 20];
    big[0] = 1;
    big[sizeof big - 1] = 2;
    d.zero = big[0] + big[sizeof big - 1];
  });
}

// Recursion that calls a kernel primitive at every level: the kernel's
// stack limit (THREAD_SIZE) is checked at each call.
[[gnu::noinline]] int KernelRecurse(Dev& d, int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  atomic_inc(&d.count);
  if (depth == 0) return frame[0];
  return KernelRecurse(d, depth - 1) + frame[0];
}

KMC_MODEL("robust_test/deep_kernel_stack") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task's call chain goes 40 frames of 1 KiB deep (past the 16 KiB kernel stack)");
  m.Expect(Verdict::kStackOverflow);
  f.Task("deep", 0, [](Dev& d) { d.zero = KernelRecurse(d, 40); });
}

KMC_MODEL("robust_test/shallow_kernel_stack") {
  auto f = m.Fixture<Dev>();
  m.Describe("the same call chain 8 frames deep fits the kernel stack");
  m.Expect(Verdict::kClean);
  f.Task("shallow", 0, [](Dev& d) { d.zero = KernelRecurse(d, 8); });
}

KMC_MODEL("robust_test/deep_kernel_stack_64k") {
  auto f = m.Fixture<Dev>();
  m.Describe("40 frames of 1 KiB with a 64 KiB kernel stack (Model::KernelStackSize)");
  m.Expect(Verdict::kClean);
  m.KernelStackSize(64 * 1024);
  f.Task("deep", 0, [](Dev& d) { d.zero = KernelRecurse(d, 40); });
}

// Recursion with no kernel call at any level: only the guard at the
// kernel's stack limit can see how deep it went.
[[gnu::noinline]] int PlainRecurse(volatile char* parent, int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  frame[1023] = parent != nullptr ? parent[0] : 0;
  if (depth == 0) return frame[0];
  return PlainRecurse(frame, depth - 1) + frame[1];
}

KMC_MODEL("robust_test/deep_driver_stack") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task's call chain goes 40 frames of 1 KiB deep with no kernel call in it");
  m.Expect(Verdict::kStackOverflow);
  f.Task("deep", 0, [](Dev& d) {
    atomic_inc(&d.count);
    d.zero = PlainRecurse(nullptr, 40);
  });
}

KMC_MODEL("robust_test/shallow_driver_stack") {
  auto f = m.Fixture<Dev>();
  m.Describe("the same call chain 8 frames deep, then kernel calls near the limit");
  m.Expect(Verdict::kClean);
  f.Task("shallow", 0, [](Dev& d) {
    atomic_inc(&d.count);
    d.zero = PlainRecurse(nullptr, 8);
    // 12 KiB of driver frames, then kernel calls: kmc's own frames below
    // them may cross the limit; only driver frames count. AddressSanitizer's
    // redzones make each 1 KiB frame about 1.3 KiB, and its limit is 32 KiB
    // (sync/internal/engine.h): 20 frames there, as near the limit.
#if defined(__SANITIZE_ADDRESS__)
    d.zero += KernelRecurse(d, 20);
#else
    d.zero += KernelRecurse(d, 12);
#endif
  });
}

KMC_MODEL("robust_test/deep_driver_stack_64k") {
  auto f = m.Fixture<Dev>();
  m.Describe("40 frames of 1 KiB without kernel calls, with a 64 KiB kernel stack");
  m.Expect(Verdict::kClean);
  m.KernelStackSize(64 * 1024);
  f.Task("deep", 0, [](Dev& d) {
    atomic_inc(&d.count);
    d.zero = PlainRecurse(nullptr, 40);
  });
}

KMC_MODEL("robust_test/deep_irq_handler") {
  auto f = m.Fixture<Dev>();
  m.Describe("an interrupt handler's call chain goes 40 frames of 1 KiB deep, no kernel call");
  m.Expect(Verdict::kStackOverflow);
  f.Task("task", 0, [](Dev& d) { atomic_inc(&d.count); });
  f.Irq("deepirq", 0, 1, [](Dev& d) { d.zero = PlainRecurse(nullptr, 40); });
}

KMC_MODEL("robust_test/runaway_recursion_no_limit") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task recurses without end, with no kernel stack limit (the engine's guard page)");
  m.Expect(Verdict::kStackOverflow);
  m.KernelStackSize(0);
  f.Task("recurser", 0, [](Dev& d) {
    atomic_inc(&d.count);
    d.zero = Recurse(nullptr, 0, d.depth_limit);
  });
}

KMC_MODEL("robust_test/uncaught_exception") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task throws a C++ exception nobody catches");
  m.Expect(Verdict::kModelError);
  f.Task("thrower", 0, [](Dev& d) {
    atomic_inc(&d.count);
    if (d.zero == 0) throw std::runtime_error("boom");
  });
}

struct Spin {
  atomic_t started = ATOMIC_INIT(0);
  volatile int stop = 0;
};

KMC_MODEL("robust_test/spin_without_schedule_point") {
  auto f = m.Fixture<Spin>();
  m.Describe("a task spins on a plain flag with no kernel call (no scheduling point)");
  m.Expect(Verdict::kSoftLockup);
  f.Task("spinner", 0, [](Spin& s) {
    atomic_inc(&s.started);
    while (s.stop == 0) {
    }
  });
}

struct HostLock {
  std::mutex mu;
  atomic_t n = ATOMIC_INIT(0);
};

KMC_MODEL("robust_test/host_mutex") {
  auto f = m.Fixture<HostLock>();
  m.Describe("tasks hold a host std::mutex across a kernel call (the engine cannot see it)");
  m.Expect(Verdict::kSoftLockup);
  for (int i = 0; i < 2; ++i) {
    f.Task(i == 0 ? "a" : "b", i, [](HostLock& h) {
      std::lock_guard<std::mutex> guard(h.mu);
      atomic_inc(&h.n);
    });
  }
}

KMC_MODEL("robust_test/abort") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task calls abort()");
  m.Expect(Verdict::kKernelOops);
  f.Task("aborter", 0, [](Dev& d) {
    atomic_inc(&d.count);
    if (d.zero == 0) std::abort();
  });
}

KMC_MODEL("robust_test/exit") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task calls exit(0)");
  m.Expect(Verdict::kModelError);
  f.Task("quitter", 0, [](Dev& d) {
    atomic_inc(&d.count);
    if (d.zero == 0) std::exit(0);
  });
}

KMC_MODEL("robust_test/crash_expected_clean") {
  auto f = m.Fixture<Dev>();
  m.Describe("a model expected to be clean that dereferences NULL (a mismatch)");
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, [](Dev& d) {
    volatile int* p = reinterpret_cast<volatile int*>(d.null_offset);
    *p = 1;
  });
}

struct Many {
  atomic_t n = ATOMIC_INIT(0);
};

KMC_MODEL("robust_test/long_search") {
  auto f = m.Fixture<Many>();
  m.Describe("four tasks with eight steps each: an exhaustive search of hours (for SIGTERM)");
  m.Expect(Verdict::kClean);
  for (int i = 0; i < 4; ++i) {
    f.Task("t" + std::to_string(i), i % 2, [](Many& x) {
      for (int k = 0; k < 8; ++k) atomic_inc(&x.n);
    });
  }
}

KMC_MODEL("robust_test/long_livelock") {
  auto f = m.Fixture<Many>();
  m.Describe("a task spins on a flag nobody sets, for 200,000 steps (a long replay token)");
  m.Expect(Verdict::kLivelock);
  m.DepthLimit(200000);
  f.Task("spinner", 0, [](Many& x) {
    while (atomic_read(&x.n) == 0) {
    }
  });
  f.Task("bystander", 1, [](Many& x) { atomic_set(&x.n, 0); });
}

KMC_MODEL("robust_test/host_thread") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task starts a host std::thread (the engine cannot see it)");
  m.Expect(Verdict::kModelError);
  f.Task("spawner", 0, [](Dev& d) {
    atomic_inc(&d.count);
    std::thread t([&d] { d.zero = 1; });
    t.join();
  });
}

KMC_MODEL("robust_test/huge_kmalloc") {
  auto f = m.Fixture<Dev>();
  m.Describe("kmalloc(1 TiB) returns NULL, as in the kernel");
  m.Expect(Verdict::kClean);
  f.Task("greedy", 0, [](Dev& d) {
    void* p = kmalloc(size_t{1} << 40, GFP_KERNEL);
    KMC_ASSERT(p == nullptr);
    atomic_inc(&d.count);
  });
}

KMC_MODEL("robust_test/null_memset") {
  auto f = m.Fixture<Dev>();
  m.Describe("a task memset()s through a NULL pointer (the fault is inside the C library)");
  m.Expect(Verdict::kKernelOops);
  f.Task("clearer", 0, [](Dev& d) {
    atomic_inc(&d.count);
    // A length the compiler cannot see: a real call into the C library (not
    // the task's last statement, so not a tail call that leaves no frame).
    const size_t n = static_cast<size_t>(d.depth_limit) >> 20;
    std::memset(reinterpret_cast<void*>(d.null_offset), 0, n);  // FAULT: null_memset
    atomic_inc(&d.count);
  });
}

}  // namespace
}  // namespace kmc::robust_test_models
