// What the pictures of --out cost: failing models checked, and their
// failing executions replayed, without and with --out (report.txt,
// trace.json, trace.html), side by side in one run.
//
//   bazel run -c opt //tests/bench:report_benchmark
//
// Rows come in pairs, `.../no_out` and `.../out`; compare their CPU
// columns. Without --out (and outside `bazel test`, which sets
// TEST_UNDECLARED_OUTPUTS_DIR) no picture code runs: the search records
// nothing for the report, and the re-run of the failing execution builds
// only the text report and the --json summary.

#include <cstdlib>
#include <string>

#include "benchmark/benchmark.h"
#include "sync/model.h"
#include "sync/runner.h"

namespace {

constexpr const char* kModels[] = {
    "scull/unlocked_write",          "scullpipe/if_not_while",
    "asgn2/tasklet_cb_lock_at_irq_exit", "rcu/free_without_grace_period",
    "mutex/ab_ba",                   "asgn2/unlocked_circular_buffer",
};

std::string OutDir() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/kmc_report_benchmark";
}

// The whole check: the search, the re-run of the failing execution, the
// report and, with `out`, the three files.
void Check(benchmark::State& state, const kmc::Model* m, bool out) {
  kmc::RunOptions o;
  if (out) o.out_dir = OutDir();
  for (auto _ : state) {
    kmc::Result r = kmc::CheckModel(*m, o);
    if (!r.match) state.SkipWithError(("verdict mismatch: " + r.message).c_str());
    if (out && r.out_files.size() != 3) state.SkipWithError(r.out_error.c_str());
    benchmark::DoNotOptimize(r.report.data());
  }
}

// The re-run alone (what `kmc replay` does): the part of a check the
// pictures add to.
void Replay(benchmark::State& state, const kmc::Model* m, const std::string& token, bool out) {
  for (auto _ : state) {
    std::string error;
    auto r = kmc::ReplayModel(*m, token, &error, kmc::TraceMode::kShort, out ? OutDir() : "");
    if (!r.has_value()) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(r->report.data());
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsetenv("TEST_UNDECLARED_OUTPUTS_DIR");  // no pictures unless asked for
  for (const char* name : kModels) {
    const kmc::Model* m = kmc::FindModel(name);
    if (m == nullptr) continue;
    for (bool out : {false, true}) {
      benchmark::RegisterBenchmark((std::string("Check/") + name + (out ? "/out" : "/no_out")).c_str(),
                                   [m, out](benchmark::State& s) { Check(s, m, out); })
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (const char* name : kModels) {
    const kmc::Model* m = kmc::FindModel(name);
    if (m == nullptr) continue;
    const std::string token = kmc::CheckModel(*m, kmc::RunOptions{}).replay;
    for (bool out : {false, true}) {
      benchmark::RegisterBenchmark(
          (std::string("Replay/") + name + (out ? "/out" : "/no_out")).c_str(),
          [m, token, out](benchmark::State& s) { Replay(s, m, token, out); })
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
