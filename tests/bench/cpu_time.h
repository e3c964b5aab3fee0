// CPU time of this process, for the benchmarks that print seconds.

#ifndef KMC_TESTS_BENCH_CPU_TIME_H_
#define KMC_TESTS_BENCH_CPU_TIME_H_

#include <time.h>

namespace kmc::bench {

// User and system CPU seconds this process has used so far.
inline double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace kmc::bench

#endif  // KMC_TESTS_BENCH_CPU_TIME_H_
