// What the partial-order reduction buys: per model, the unreduced search
// (--search=full) and the reduced one (--search=exhaustive without the
// bounded passes), side by side in one run: executions, whether the search
// finished, CPU seconds, executions per CPU second, and the reduction
// factor. A search that does not finish within the budget is cut there and
// marked "no": its executions are then a lower bound, and so is the factor.
// The set: the clean scenarios that were context-bounded or cut down to stay
// exhaustive before the reduction, a few small ones, and the 3-slot pipe
// with two writers of two items and one reader (por/pipe_two_writers_two_items,
// the scenario of the plain-Relacy pipe measurement in docs/ARCHITECTURE.md).
//
//   bazel run -c opt //tests/bench:search_benchmark -- [--budget=N] [--full_budget=N] [--traces]
//       [MODEL...]
//
// --budget: executions of the reduced search (default 3,000,000);
// --full_budget: of the unreduced one (default 300,000);
// --traces: also count the distinct executions each search met (trace
// fingerprints with reads-from, RunOptions::count_traces): for a search
// that finished, how close the reduction comes to one execution per
// distinct one.
//
// A binary, not a test: `bazel test //...` never times it.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sync/model.h"
#include "sync/runner.h"
#include "sync/verdict.h"
#include "tests/bench/cpu_time.h"

namespace {

using kmc::bench::CpuSeconds;

struct Run {
  uint64_t executions = 0;
  bool complete = false;
  double cpu = 0;
  std::string verdict;
  size_t traces = 0;
};

bool g_traces = false;

Run Search(const kmc::Model& m, kmc::SearchMode mode, uint64_t budget) {
  kmc::RunOptions o;
  o.search = mode;
  o.icb_bound = -1;  // the search alone, no bounded passes first
  o.max_executions = budget;
  o.count_traces = g_traces;
  const double start = CpuSeconds();
  const kmc::Result r = kmc::CheckModel(m, o);
  Run run;
  run.cpu = CpuSeconds() - start;
  run.executions = r.executions;
  run.complete = r.complete;
  run.verdict = std::string(kmc::VerdictName(r.verdict));
  run.traces = r.traces.size();
  return run;
}

std::string Count(const Run& r) {
  return std::to_string(r.executions) + (r.complete ? "" : "+");
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t budget = 3000000;
  uint64_t full_budget = 300000;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--budget=", 9) == 0) {
      budget = std::strtoull(argv[i] + 9, nullptr, 10);
    } else if (std::strcmp(argv[i], "--traces") == 0) {
      g_traces = true;
    } else if (std::strncmp(argv[i], "--full_budget=", 14) == 0) {
      full_budget = std::strtoull(argv[i] + 14, nullptr, 10);
    } else {
      names.push_back(argv[i]);
    }
  }
  if (names.empty()) {
    names = {"scull/writers_and_reader",         "scullpipe/one_writer_one_reader",
             "scullpipe/nonblocking",            "asgn1/proc_stats",
             "kfifo/spsc",                       "kfifo/two_producers_locked",
             "asgn2/one_file_same_cpu",          "asgn2/one_file",
             "scullpipe/two_writers_one_reader", "asgn2/two_files_two_opens",
             "por/pipe_two_writers_two_items"};
  }
  std::printf("budget: %llu executions of the reduced search, %llu of the full one (\"+\": cut "
              "there, not finished)\n\n",
              static_cast<unsigned long long>(budget), static_cast<unsigned long long>(full_budget));
  std::printf("%-34s %-7s %12s %8s %9s | %10s %8s %9s | %8s\n", "MODEL", "VERDICT", "FULL_EXEC",
              "CPU_S", "EXEC/S", "DPOR_EXEC", "CPU_S", "EXEC/S", "FACTOR");
  int failures = 0;
  for (const std::string& name : names) {
    const kmc::Model* m = kmc::FindModel(name);
    if (m == nullptr) {
      std::fprintf(stderr, "unknown model %s\n", name.c_str());
      return 2;
    }
    const Run reduced = Search(*m, kmc::SearchMode::kExhaustive, budget);
    const Run full = Search(*m, kmc::SearchMode::kFull, full_budget);
    if (reduced.complete && full.complete && reduced.verdict != full.verdict) ++failures;
    const double factor = reduced.executions == 0
                              ? 0
                              : static_cast<double>(full.executions) / reduced.executions;
    std::printf("%-34s %-7s %12s %8.2f %9.0f | %10s %8.2f %9.0f | %7.1f%s\n", name.c_str(),
                reduced.verdict.c_str(), Count(full).c_str(), full.cpu,
                full.executions / (full.cpu > 0 ? full.cpu : 1), Count(reduced).c_str(),
                reduced.cpu, reduced.executions / (reduced.cpu > 0 ? reduced.cpu : 1), factor,
                full.complete ? "" : "+");
    if (g_traces) {
      std::printf("%-34s distinct traces: full %zu, reduced %zu\n", "", full.traces,
                  reduced.traces);
    }
    std::fflush(stdout);
  }
  if (failures != 0) std::printf("\n%d model(s) with different verdicts\n", failures);
  return failures == 0 ? 0 : 1;
}
