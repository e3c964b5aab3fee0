// kmc: the interleaving of a failing execution, as text.
//
// Built from the trace the runtime records while a failing execution is
// re-run (sync/internal/runtime.h), so it costs nothing during the search.

#ifndef KMC_SYNC_REPORT_H_
#define KMC_SYNC_REPORT_H_

#include <string>
#include <vector>

namespace kmc {

enum class TraceMode {
  kShort,  // fold runs of one context's steps that touch nothing another touches
  kFull,   // every step
};

// The "interleaving" section of a report for the execution the runtime
// recorded last: one line per step (task, CPU, context, operation, source
// line and function), the locks a task holds where they change, and a
// `-- preempted: a -> b --` line at each preemption.
std::string FormatInterleaving(TraceMode mode);

// The number of preemptions in the recorded trace.
int RecordedPreemptions();

// The locks each recorded step's context holds once the step has run, as
// "a, b" (a step records the locks held when it starts).
std::vector<std::string> LocksAfterEachStep();

}  // namespace kmc

#endif  // KMC_SYNC_REPORT_H_
