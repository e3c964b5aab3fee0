// kmc: crashes, stack overflows and hangs inside a simulated execution.
//
// While the engine runs (RunEngine), kmc catches what would otherwise kill
// or hang the checker and turns it into a failing execution with a verdict
// of its own, so the normal path (replay with tracing, report, next model)
// goes on:
//   * SIGSEGV/SIGBUS in a task: the kernel's oops wording ("BUG: kernel NULL
//     pointer dereference, address: ...", "BUG: unable to handle page fault
//     for address: ..."), or a stack overflow when the address lies in the
//     guard region below the task's stack; SIGFPE ("divide error"), SIGILL
//     ("invalid opcode"). The handler runs on an alternate signal stack and
//     ends the execution like any other failure.
//   * the watchdog: a task that reaches no scheduling point within the budget
//     of host time ends with the kernel's soft-lockup text.
// What cannot be resumed (abort(), exit() inside a task, a fault outside a
// simulated task, a second fault while reporting one) is handed to the
// process's "last words" hook when a worker process has set one (see
// sync/worker.h); otherwise the process dies as before.

#ifndef KMC_SYNC_INTERNAL_CRASH_H_
#define KMC_SYNC_INTERNAL_CRASH_H_

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>

#include "sync/verdict.h"

namespace kmc::internal {

using Loc = std::source_location;

// Installs the handlers (once per process) and arms the watchdog while
// alive. One per RunEngine call.
class CrashGuard {
 public:
  CrashGuard();
  ~CrashGuard();
  CrashGuard(const CrashGuard&) = delete;
  CrashGuard& operator=(const CrashGuard&) = delete;
};

// The kernel's stack limit as a guard. Where an engine thread's body begins
// (`top`, its frame address), the two whole pages below `top - limit` are
// made PROT_NONE, so a driver frame that goes past the limit (by more than
// the rest of a page) faults even when it calls no kernel primitive. The handler records the interrupted frames,
// lifts the guard and resumes; the next scheduling step (or the end of the
// thread) decides, with the frames' debug information, whether a driver
// frame crossed the limit (a kernel stack overflow) or only kmc's own frames
// below a kernel call did (the guard is put back once the thread's frames
// are above it again). limit 0: no guard.
void ArmKernelStackLimit(uintptr_t top, size_t limit);
// A driver frame of the current engine thread crossed the limit: its
// location, how many bytes below `top` it reached, and the context and CPU
// the thread ran in at that moment (a handler may have returned since).
// Clears the record.
struct StackLimitCrossing {
  Loc at;
  size_t used = 0;
  int ctx = 0;  // internal::Ctx
  int cpu = 0;
};
bool KernelStackLimitCrossed(StackLimitCrossing* out);
// Per engine thread: whether KernelStackLimitCrossed() has anything to do
// (a crossing was recorded, or the guard waits to be put back). Kept by
// crash.cc, also in its fault handler; read at every scheduling step.
inline constexpr int kStackLimitThreads = 64;
extern volatile sig_atomic_t g_stack_limit_pending[kStackLimitThreads];
inline bool KernelStackLimitPending(int thread) {
  return thread >= 0 && thread < kStackLimitThreads && g_stack_limit_pending[thread] != 0;
}

// Host time a task may run without reaching a scheduling point (seconds).
void SetWatchdogSeconds(double seconds);
double WatchdogSeconds();

// kmc's own work inside a task's step (the search recording the step,
// finding its races, ending an execution; reading debug information): the
// watchdog does not count it as the task's time, so a slow (instrumented,
// loaded) engine is never a task's soft lockup. Nests.
class EngineWork {
 public:
  EngineWork();
  ~EngineWork();
  EngineWork(const EngineWork&) = delete;
  EngineWork& operator=(const EngineWork&) = delete;
};

// Called, at most once, when the process is about to die inside an
// execution with an event it cannot resume from; it should report and
// _exit(). Runs in a signal handler or an atexit handler.
using LastWordsFn = void (*)(Verdict verdict, const std::string& headline,
                             const std::string& details);
void SetLastWords(LastWordsFn fn);

// "CPU: 0 PID: 101 Comm: reader" and the task's last kernel call, for oops
// details.
std::string OopsTaskLines();

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_CRASH_H_
