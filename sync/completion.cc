// kmc: completions (kernel/sched/completion.c).

#include "sync/completion.h"

#include <climits>
#include <string>

#include "sync/internal/prims.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Runtime;

constexpr unsigned kDoneAll = UINT_MAX;

struct CompletionState : internal::SyncState {
  unsigned done = 0;
};

CompletionState& State(completion* x, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  CompletionState& s = rt.Object<CompletionState>(x->h);
  if (!s.initialized) {
    if (!x->defined) {
      rt.Fail(Verdict::kLockMisuse, "kmc: completion used before init_completion()",
              "a struct completion at " + internal::FormatLoc(loc) +
                  " was never initialized (init_completion or DECLARE_COMPLETION)\n",
              loc);
    }
    s.initialized = true;
    s.name = x->name ? x->name : "completion";
  }
  return s;
}

// Returns 0 on success, -ERESTARTSYS on a signal, 1 on a timeout.
int WaitCommon(completion* x, const char* fn, bool interruptible, bool timed, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep(fn, loc);
  CompletionState& s = State(x, loc);
  rt.Step(x, fn, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.done > 0) {
    if (s.done != kDoneAll) s.done -= 1;
    internal::SyncAcquire(s, loc);
    return 0;
  }
  // complete() hands its unit directly to the first waiter.
  if (!internal::SleepForGrant(s, x, std::string(fn) + "(" + s.name + ")", interruptible, loc,
                               timed)) {
    return rt.Current().signal_pending ? -ERESTARTSYS : 1;
  }
  internal::SyncAcquire(s, loc);
  return 0;
}

}  // namespace

void init_completion_named(completion* x, const char* name, const Loc& loc) {
  CompletionState& s = Runtime::Get().Object<CompletionState>(x->h);
  s = CompletionState{};
  s.initialized = true;
  s.name = name;
  x->name = name;
  (void)loc;
}

void reinit_completion(completion* x, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  CompletionState& s = State(x, loc);
  rt.Step(x, "reinit_completion", s.name, Access::kWrite, loc);
  s.done = 0;
}

void wait_for_completion(completion* x, const Loc& loc) {
  WaitCommon(x, "wait_for_completion", false, false, loc);
}

int wait_for_completion_interruptible(completion* x, const Loc& loc) {
  return WaitCommon(x, "wait_for_completion_interruptible", true, false, loc);
}

unsigned long wait_for_completion_timeout(completion* x, unsigned long timeout, const Loc& loc) {
  const int r = WaitCommon(x, "wait_for_completion_timeout", false, true, loc);
  return r == 0 ? (timeout ? timeout : 1) : 0;
}

bool try_wait_for_completion(completion* x, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  CompletionState& s = State(x, loc);
  rt.Step(x, "try_wait_for_completion", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.done == 0) return false;
  if (s.done != kDoneAll) s.done -= 1;
  internal::SyncAcquire(s, loc);
  return true;
}

bool completion_done(completion* x, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  CompletionState& s = State(x, loc);
  rt.Step(x, "completion_done", s.name, Access::kRead, loc);
  return s.done != 0;
}

void complete(completion* x, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  CompletionState& s = State(x, loc);
  rt.Step(x, "complete", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  internal::SyncRelease(s, loc);
  if (internal::GrantFirst(s, loc) >= 0) return;
  if (s.done != kDoneAll) s.done += 1;
}

void complete_all(completion* x, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  CompletionState& s = State(x, loc);
  rt.Step(x, "complete_all", s.name, Access::kRelease, loc);
  internal::AtomicSection section;
  internal::SyncRelease(s, loc);
  s.done = kDoneAll;
  while (internal::GrantFirst(s, loc) >= 0) {
  }
}

}  // namespace kmc::kernel
