// What one execution costs, against the engine kmc is built on: the pipe of
// por/pipe_two_writers_two_items (3 slots under a mutex, two writers putting
// two items each, one reader taking four) run by kmc and, written directly on
// plain Relacy's mutex, condition variables and var<int> (kmc::RunPlainRelacyPipe,
// sync/runner.h), by Relacy's own context-bound tree search,
// side by side in one process. Each row is the fastest of --repeat runs (CPU
// seconds); the last column divides its cost per execution by plain Relacy's
// with the same context bound.
//
//   bazel run -c opt //tests/bench:cost_benchmark -- [--repeat=N] [--bound=K] [--full_budget=N]
//
// The rows: plain Relacy bounded(K); kmc bounded(K) (the same tree shape:
// every scheduling point of a primitive, K preemptions); kmc's unreduced
// search (--search=full) cut at --full_budget executions; kmc's reduced
// search alone (no bounded passes first) and its default search (bounded
// passes, then the reduced search), both to the end.
//
// A binary, not a test: `bazel test //...` never times it.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sync/model.h"
#include "sync/runner.h"
#include "tests/bench/cpu_time.h"

namespace {

using kmc::bench::CpuSeconds;

struct Row {
  uint64_t executions = 0;
  double cpu = 1e30;
  bool complete = false;
  bool ok = true;
};

void Print(const char* what, const Row& r, double plain_us) {
  const double us = r.executions > 0 ? r.cpu * 1e6 / static_cast<double>(r.executions) : 0;
  std::printf("%-44s %10llu %4s %8.3f %9.2f %8.1f%s\n", what,
              static_cast<unsigned long long>(r.executions), r.complete ? "yes" : "no", r.cpu, us,
              plain_us > 0 ? us / plain_us : 1.0, r.ok ? "" : "  (wrong result)");
}

// icb: kmc's bounded passes (-1: none, as Relacy; kDefault: the default);
// budget 0: no cut.
constexpr int kDefault = 1 << 30;
Row Kmc(const kmc::Model& m, kmc::SearchMode mode, int bound, int icb, uint64_t budget,
        int repeat) {
  Row best;
  for (int i = 0; i < repeat; ++i) {
    kmc::RunOptions o;
    o.search = mode;
    if (mode == kmc::SearchMode::kBounded) o.bound = bound;
    if (icb != kDefault) o.icb_bound = icb;
    if (budget > 0) o.max_executions = budget;
    const double start = CpuSeconds();
    const kmc::Result r = kmc::CheckModel(m, o);
    const double cpu = CpuSeconds() - start;
    if (cpu < best.cpu) best.cpu = cpu;
    best.executions = r.executions;
    best.complete = r.complete;
    best.ok = r.match;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 3;
  int bound = 3;
  uint64_t full_budget = 200000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--repeat=", 9) == 0) {
      repeat = std::atoi(argv[i] + 9);
    } else if (std::strncmp(argv[i], "--bound=", 8) == 0) {
      bound = std::atoi(argv[i] + 8);
    } else if (std::strncmp(argv[i], "--full_budget=", 14) == 0) {
      full_budget = std::strtoull(argv[i] + 14, nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--repeat=N] [--bound=K] [--full_budget=N]\n", argv[0]);
      return 2;
    }
  }
  if (repeat < 1 || bound < 0) {
    std::fprintf(stderr, "--repeat must be at least 1 and --bound at least 0\n");
    return 2;
  }
  const kmc::Model* m = kmc::FindModel("por/pipe_two_writers_two_items");
  if (m == nullptr) {
    std::fprintf(stderr, "por/pipe_two_writers_two_items is not registered\n");
    return 1;
  }
  Row plain;
  for (int i = 0; i < repeat; ++i) {
    const double start = CpuSeconds();
    const kmc::PlainRelacyResult r = kmc::RunPlainRelacyPipe(bound);
    const double cpu = CpuSeconds() - start;
    if (cpu < plain.cpu) plain.cpu = cpu;
    plain.executions = r.executions;
    plain.complete = true;
    plain.ok = r.ok;
  }
  const double plain_us = plain.cpu * 1e6 / static_cast<double>(plain.executions);
  std::printf("the pipe: 3 slots, 2 writers x 2 items, 1 reader; fastest of %d runs, CPU seconds\n\n",
              repeat);
  std::printf("%-44s %10s %4s %8s %9s %8s\n", "RUN", "EXECUTIONS", "DONE", "CPU_S", "US/EXEC",
              "xPLAIN");
  const std::string b = std::to_string(bound);
  Print(("plain Relacy, context bound " + b).c_str(), plain, plain_us);
  Print(("kmc --search=bounded --bound=" + b).c_str(),
        Kmc(*m, kmc::SearchMode::kBounded, bound, -1, 0, repeat), plain_us);
  Print("kmc --search=full (unreduced)", Kmc(*m, kmc::SearchMode::kFull, 0, -1, full_budget, repeat),
        plain_us);
  Print("kmc --search=exhaustive --icb=off (reduced)",
        Kmc(*m, kmc::SearchMode::kExhaustive, 0, -1, 0, repeat), plain_us);
  Print("kmc default (bounded passes, then reduced)",
        Kmc(*m, kmc::SearchMode::kExhaustive, 0, kDefault, 0, repeat), plain_us);
  return plain.ok ? 0 : 1;
}
