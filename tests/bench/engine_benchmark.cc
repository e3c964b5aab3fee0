// Engine throughput benchmarks: executions per second of exhaustive and
// bounded searches over representative models. Speed targets live here, not
// in timed tests.
//
//   bazel run -c opt //tests/bench:engine_benchmark
//
// Counters: `executions` (per iteration) and `exec/s`.

#include <string>

#include "benchmark/benchmark.h"
#include "sync/model.h"
#include "sync/runner.h"

namespace {

void RunModel(benchmark::State& state, const std::string& name, kmc::RunOptions options) {
  const kmc::Model* m = kmc::FindModel(name);
  if (m == nullptr) {
    state.SkipWithError(("unknown model " + name).c_str());
    return;
  }
  uint64_t executions = 0;
  for (auto _ : state) {
    kmc::Result r = kmc::CheckModel(*m, options);
    executions = r.executions;
    if (!r.match) state.SkipWithError(("verdict mismatch: " + r.message).c_str());
  }
  state.counters["executions"] = static_cast<double>(executions);
  state.counters["exec/s"] = benchmark::Counter(static_cast<double>(executions) * state.iterations(),
                                                benchmark::Counter::kIsRate);
}

kmc::RunOptions Exhaustive() {
  kmc::RunOptions o;
  o.search = kmc::SearchMode::kExhaustive;
  return o;
}

kmc::RunOptions Bounded(int k) {
  kmc::RunOptions o;
  o.search = kmc::SearchMode::kBounded;
  o.bound = k;
  return o;
}

void BM_SemaphoreMutualExclusion(benchmark::State& s) {
  RunModel(s, "semaphore/mutual_exclusion", Exhaustive());
}
void BM_RwsemReadersAndWriter(benchmark::State& s) {
  RunModel(s, "rwsem/readers_and_writer", Exhaustive());
}
void BM_IrqsaveProtects(benchmark::State& s) { RunModel(s, "irq/irqsave_protects", Exhaustive()); }
void BM_ScullWritersAndReader(benchmark::State& s) {
  RunModel(s, "scull/writers_and_reader", Exhaustive());
}
void BM_ScullpipeTwoWritersBounded(benchmark::State& s) {
  RunModel(s, "scullpipe/two_writers_one_reader", Bounded(static_cast<int>(s.range(0))));
}
// Interrupt-heavy models: a handler and a tasklet per half-byte (asgn2),
// the lock-free kfifo with one producer and one consumer.
void BM_Asgn2OneFileSameCpu(benchmark::State& s) {
  RunModel(s, "asgn2/one_file_same_cpu", Exhaustive());
}
void BM_Asgn2TwoFilesBounded(benchmark::State& s) {
  RunModel(s, "asgn2/two_files_two_opens", Bounded(static_cast<int>(s.range(0))));
}
void BM_KfifoSpsc(benchmark::State& s) { RunModel(s, "kfifo/spsc", Exhaustive()); }

BENCHMARK(BM_SemaphoreMutualExclusion)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RwsemReadersAndWriter)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IrqsaveProtects)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScullWritersAndReader)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_ScullpipeTwoWritersBounded)->Arg(1)->Arg(2)->Arg(3)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Asgn2OneFileSameCpu)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Asgn2TwoFilesBounded)->Arg(3)->Arg(4)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_KfifoSpsc)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
