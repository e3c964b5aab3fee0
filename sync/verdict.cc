#include "sync/verdict.h"

namespace kmc {

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kClean: return "clean";
    case Verdict::kDataRace: return "data race";
    case Verdict::kDeadlock: return "deadlock";
    case Verdict::kPossibleDeadlock: return "possible deadlock";
    case Verdict::kLivelock: return "livelock";
    case Verdict::kMemoryLeak: return "memory leak";
    case Verdict::kUseAfterFree: return "use after free";
    case Verdict::kDoubleFree: return "double free";
    case Verdict::kInvalidFree: return "invalid free";
    case Verdict::kOutOfBounds: return "out of bounds";
    case Verdict::kAssertionFailed: return "assertion failed";
    case Verdict::kInvalidContext: return "invalid context";
    case Verdict::kLockMisuse: return "lock misuse";
    case Verdict::kUninitializedRead: return "uninitialized read";
    case Verdict::kNondeterministic: return "nondeterministic model";
    case Verdict::kModelError: return "model error";
    case Verdict::kKernelOops: return "kernel oops";
    case Verdict::kStackOverflow: return "stack overflow";
    case Verdict::kSoftLockup: return "soft lockup";
  }
  return "?";
}

std::optional<Verdict> ParseVerdict(std::string_view name) {
  for (Verdict v : kAllVerdicts) {
    if (VerdictName(v) == name) return v;
  }
  return std::nullopt;
}

std::string VerdictSet::ToString() const {
  std::string s;
  for (Verdict v : kAllVerdicts) {
    if (!Contains(v)) continue;
    if (!s.empty()) s += "|";
    s += VerdictName(v);
  }
  return s.empty() ? "none" : s;
}

}  // namespace kmc
