// kmc: the current task, context queries and assertions.

#include "sync/sched.h"

#include <string>

#include "sync/bug.h"
#include "sync/internal/runtime.h"

namespace kmc::kernel {

using internal::Runtime;

void might_sleep(const Loc& loc) { Runtime::Get().MightSleep("might_sleep()", loc); }

void preempt_disable(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Note("preempt_disable()", loc);
  rt.Current().preempt_count += 1;
}

void preempt_enable(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  internal::TaskState& t = rt.Current();
  if (t.preempt_count <= 0) {
    rt.Fail(Verdict::kLockMisuse, "DEBUG_LOCKS_WARN_ON(val > preempt_count())",
            "preempt_enable() at " + internal::FormatLoc(loc) + " by " + rt.Who() +
                " without a matching preempt_disable(): preempt_count would underflow\n",
            loc);
  }
  t.preempt_count -= 1;
  rt.Note("preempt_enable()", loc);
}

void preempt_enable_no_resched(const Loc& loc) { preempt_enable(loc); }

bool in_atomic() {
  const internal::TaskState& t = Runtime::Get().Current();
  return t.preempt_count > 0 || t.ctx != internal::Ctx::kProcess;
}

bool in_interrupt() { return Runtime::Get().Current().ctx != internal::Ctx::kProcess; }

bool irqs_disabled() { return Runtime::Get().Current().irqs_disabled; }

kuid_t current_uid() { return kuid_t{Runtime::Get().Current().uid}; }
kuid_t current_euid() { return kuid_t{Runtime::Get().Current().euid}; }
int current_pid() { return Runtime::Get().Current().pid; }
const char* current_comm() { return Runtime::Get().Current().name.c_str(); }

bool capable(int cap) {
  return (Runtime::Get().Current().caps >> cap) & 1;
}

bool signal_pending_current() { return Runtime::Get().Current().signal_pending; }

void kmc_assert_failed(const char* expr, const char* kind, const std::source_location& loc) {
  Runtime& rt = Runtime::Get();
  const std::string where = internal::FormatLoc(loc);
  std::string headline;
  if (std::string(kind) == "BUG_ON") {
    headline = "kernel BUG at " + where + "!";
  } else if (std::string(kind) == "WARN_ON") {
    const internal::TaskState& t = rt.Current();
    headline = "WARNING: CPU: " + std::to_string(t.cpu) + " PID: " + std::to_string(t.pid) +
               " at " + where + " " + loc.function_name();
  } else {
    headline = "kmc: assertion failed: " + std::string(expr);
  }
  rt.Fail(Verdict::kAssertionFailed, headline,
          std::string(kind) + "(" + expr + ") at " + where + " in " + rt.Who() + "\n", loc);
}

}  // namespace kmc::kernel

namespace kmc {

void SetCurrentCredentials(unsigned uid, unsigned euid, bool cap_dac_override,
                           bool cap_sys_admin) {
  internal::TaskState& t = internal::Runtime::Get().Current();
  t.uid = uid;
  t.euid = euid;
  t.caps = 0;
  if (cap_dac_override) t.caps |= uint64_t{1} << kernel::CAP_DAC_OVERRIDE;
  if (cap_sys_admin) t.caps |= uint64_t{1} << kernel::CAP_SYS_ADMIN;
}

void SetCurrentTty(unsigned devnum) { internal::Runtime::Get().Current().tty = devnum; }

}  // namespace kmc
