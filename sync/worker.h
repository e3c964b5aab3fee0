// kmc: checking a model in a worker process.
//
// A model's tasks are the code kmc exists to check, and they may do what no
// checker survives in-process: abort(), exit(), corrupt the heap, hang in a
// host lock. CheckModelIsolated() runs CheckModel() in a fork()ed child that
// reports back over a pipe. While it searches, the child writes the
// decision path of the running execution into memory shared with the parent
// (internal::FlightRecorder). When the child dies without a result, the
// parent encodes that path as a replay token and replays it in a fresh child
// with tracing on; that child's last words (see sync/internal/crash.h) are
// the report: the interleaving up to the fault and the token. Replaying the
// token with ReplayModelIsolated() takes the same path, so `kmc check` and
// `kmc replay` print the same report.
//
// The parent also keeps a watchdog of its own: a child whose engine makes no
// progress for twice the watchdog budget plus a second (stuck where the
// in-process watchdog cannot end the execution) is killed and reported as a
// soft lockup.

#ifndef KMC_SYNC_WORKER_H_
#define KMC_SYNC_WORKER_H_

#include <optional>
#include <string>
#include <string_view>

#include "sync/model.h"
#include "sync/runner.h"

namespace kmc {

Result CheckModelIsolated(const Model& model, const RunOptions& options);

std::optional<Result> ReplayModelIsolated(const Model& model, std::string_view token,
                                          std::string* error,
                                          TraceMode mode = TraceMode::kShort,
                                          const std::string& out_dir = "",
                                          const Suppressions* suppressions = nullptr);

// SIGINT/SIGTERM: asks the running worker to stop its search and report
// what it has (async-signal-safe; call it from the parent's handler).
void InterruptWorkers(int sig);

// fork() copies only the calling thread: a lock that another thread of the
// parent holds at that moment stays held in the child for good (GCC's
// AddressSanitizer allocator takes no lock around fork(), so a worker forked
// while another thread was inside malloc() hung at its first allocation of
// that size; a library's lock would do the same). A process that runs
// workers from several threads (kmc check --jobs) keeps every thread inside
// a ForkSafeSection while it does anything but wait: the sections of all
// threads, and the worker functions' fork(), exclude each other. Sections
// nest; the worker functions open their own and leave it only while they
// wait for their worker. Take it before, never while holding, another lock
// that a thread inside a section may wait for.
class ForkSafeSection {
 public:
  ForkSafeSection();
  ~ForkSafeSection();
  ForkSafeSection(const ForkSafeSection&) = delete;
  ForkSafeSection& operator=(const ForkSafeSection&) = delete;
};

}  // namespace kmc

#endif  // KMC_SYNC_WORKER_H_
