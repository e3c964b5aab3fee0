// kmc: verdicts.
//
// A verdict is what one model check concludes: either the model is clean
// (no execution explored went wrong) or the kind of bug the first failing
// execution showed. Expectations are sets of verdicts, because some seeded
// bugs show up as one of two symptoms (a data race or the assertion it
// breaks), depending on which interleaving the search reaches first.

#ifndef KMC_SYNC_VERDICT_H_
#define KMC_SYNC_VERDICT_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace kmc {

enum class Verdict : uint8_t {
  kClean,
  kDataRace,
  kDeadlock,
  kPossibleDeadlock,  // lockdep's prediction: no explored execution hung
  kLivelock,
  kMemoryLeak,
  kUseAfterFree,
  kDoubleFree,
  kInvalidFree,
  kOutOfBounds,
  kAssertionFailed,
  kInvalidContext,
  kLockMisuse,
  kUninitializedRead,
  kNondeterministic,
  kModelError,
  kKernelOops,     // a fault in driver code: NULL/wild pointer, divide error, abort
  kStackOverflow,  // a task's stack went past THREAD_SIZE or hit its guard page
  kSoftLockup,     // a task ran past the watchdog budget without a scheduling point
};

inline constexpr Verdict kAllVerdicts[] = {
    Verdict::kClean,          Verdict::kDataRace,
    Verdict::kDeadlock,       Verdict::kPossibleDeadlock,
    Verdict::kLivelock,
    Verdict::kMemoryLeak,     Verdict::kUseAfterFree,
    Verdict::kDoubleFree,     Verdict::kInvalidFree,
    Verdict::kOutOfBounds,
    Verdict::kAssertionFailed, Verdict::kInvalidContext,
    Verdict::kLockMisuse,     Verdict::kUninitializedRead,
    Verdict::kNondeterministic, Verdict::kModelError,
    Verdict::kKernelOops,     Verdict::kStackOverflow,
    Verdict::kSoftLockup,
};

// Human-readable name, e.g. "data race", "use after free".
std::string_view VerdictName(Verdict v);
// Inverse of VerdictName; nullopt for an unknown name.
std::optional<Verdict> ParseVerdict(std::string_view name);

// A set of acceptable verdicts.
class VerdictSet {
 public:
  constexpr VerdictSet() = default;
  constexpr VerdictSet(Verdict v) : bits_(Bit(v)) {}  // NOLINT: implicit
  constexpr VerdictSet(std::initializer_list<Verdict> vs) {
    for (Verdict v : vs) bits_ |= Bit(v);
  }
  constexpr bool Contains(Verdict v) const { return (bits_ & Bit(v)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  // "data race|assertion failed".
  std::string ToString() const;

 private:
  static constexpr uint32_t Bit(Verdict v) {
    return uint32_t{1} << static_cast<int>(v);
  }
  uint32_t bits_ = 0;
};

}  // namespace kmc

#endif  // KMC_SYNC_VERDICT_H_
