// How fast each seeded bug is found: every model of `kmc list` whose
// expected verdict is not clean runs with its default search (as `kmc check`
// runs it, in this process), and the table gives, per model, the
// executions up to the first failure (every pass of iterative context
// bounding counted), the seconds taken (CPU time of this process, and wall
// time), and the preemptions of the reported interleaving. Then the models
// that took 1 s or more of CPU time, the slowest ones and the totals.
//
//   bazel run -c opt //tests/bench:bug_finding_benchmark [-- MODEL...]
//
// A binary, not a test: `bazel test //...` never times it.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "sync/model.h"
#include "sync/runner.h"
#include "tests/bench/cpu_time.h"

namespace {

using kmc::bench::CpuSeconds;

struct Row {
  std::string model;
  std::string search;
  std::string verdict;
  bool match = false;
  uint64_t executions = 0;
  double cpu = 0;
  double wall = 0;
  int preemptions = 0;
};

std::string SearchOf(const kmc::Model& m) {
  std::string s = kmc::SearchModeName(m.default_search());
  if (m.default_search() == kmc::SearchMode::kBounded ||
      m.default_search() == kmc::SearchMode::kPct) {
    s += "(" + std::to_string(m.default_bound()) + ")";
  }
  return s;
}

void PrintRow(const Row& r) {
  std::printf("%-44s %-13s %-20s %-5s %11llu %8.3f %8.3f %6d\n", r.model.c_str(),
              r.search.c_str(), r.verdict.c_str(), r.match ? "yes" : "NO",
              static_cast<unsigned long long>(r.executions), r.cpu, r.wall, r.preemptions);
}

void PrintHeader() {
  std::printf("%-44s %-13s %-20s %-5s %11s %8s %8s %6s\n", "MODEL", "SEARCH", "VERDICT", "MATCH",
              "EXECUTIONS", "CPU_S", "WALL_S", "PREEMPT");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<const kmc::Model*> models;
  if (argc > 1) {
    for (int i = 1; i < argc; ++i) {
      const kmc::Model* m = kmc::FindModel(argv[i]);
      if (m == nullptr) {
        std::fprintf(stderr, "unknown model %s\n", argv[i]);
        return 2;
      }
      models.push_back(m);
    }
  } else {
    for (const kmc::Model* m : kmc::AllModels()) {
      if (!m->expected().Contains(kmc::Verdict::kClean)) models.push_back(m);
    }
  }
  std::printf("default search of every seeded-bug model (expected verdict not clean), in process\n");
  PrintHeader();
  std::vector<Row> rows;
  for (const kmc::Model* m : models) {
    kmc::RunOptions options;  // the model's default search, as kmc check runs it
    const double cpu0 = CpuSeconds();
    const auto wall0 = std::chrono::steady_clock::now();
    const kmc::Result r = kmc::CheckModel(*m, options);
    Row row;
    row.cpu = CpuSeconds() - cpu0;
    row.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    row.model = m->name();
    row.search = SearchOf(*m);
    row.verdict = kmc::VerdictName(r.verdict);
    row.match = r.match;
    row.executions = r.executions;
    row.preemptions = r.verdict == kmc::Verdict::kClean ? 0 : r.preemptions;
    PrintRow(row);
    std::fflush(stdout);
    rows.push_back(row);
  }
  std::vector<Row> slow = rows;
  std::sort(slow.begin(), slow.end(), [](const Row& a, const Row& b) { return a.cpu > b.cpu; });
  double cpu = 0, wall = 0;
  uint64_t executions = 0;
  size_t over = 0, matched = 0;
  for (const Row& r : rows) {
    cpu += r.cpu;
    wall += r.wall;
    executions += r.executions;
    over += r.cpu >= 1.0 ? 1 : 0;
    matched += r.match ? 1 : 0;
  }
  std::printf("\nslowest (CPU seconds):\n");
  PrintHeader();
  for (size_t i = 0; i < slow.size() && i < 15; ++i) PrintRow(slow[i]);
  std::printf("\n%zu seeded-bug models, %zu match their expected verdict; %zu took 1 s or more of "
              "CPU time\ntotal: %llu executions, %.2f CPU s, %.2f wall s\n",
              rows.size(), matched, over, static_cast<unsigned long long>(executions), cpu, wall);
  return 0;
}
