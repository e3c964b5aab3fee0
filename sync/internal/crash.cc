// kmc: crashes, stack overflows and hangs inside a simulated execution
// (see crash.h).

#include "sync/internal/crash.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sync/internal/engine.h"
#include "sync/internal/runtime.h"
#include "sync/internal/symbolize.h"

namespace kmc::internal {

volatile sig_atomic_t g_stack_limit_pending[kStackLimitThreads] = {};

namespace {

constexpr size_t kAltStackSize = 256 * 1024;
constexpr int kTicksPerBudget = 4;
// Budgets of host time after which a task that makes no progress and uses
// no CPU (blocked in the host) is a soft lockup.
constexpr int kBlockedBudgets = 4;
// Engine-thread stacks are shown at kernel-like addresses (the real ones
// change from run to run, and a report must not).
constexpr uint64_t kFakeStackBase = 0xffffc90000000000ull;

double g_watchdog_seconds = 5.0;
LastWordsFn g_last_words = nullptr;
volatile sig_atomic_t g_handling = 0;  // a crash is being reported
volatile sig_atomic_t g_armed = 0;     // the watchdog is on
volatile sig_atomic_t g_engine_work = 0;  // EngineWork scopes open
uint64_t g_last_progress = 0;
int g_stuck_ticks = 0;
int64_t g_last_progress_cpu_ns = 0;  // the engine thread's CPU time then

// CPU time the calling thread has used (async-signal-safe).
int64_t ThreadCpuNs() {
  struct timespec ts = {};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
timer_t g_timer;
bool g_timer_created = false;
pid_t g_timer_pid = 0;  // timers are not inherited by fork()ed workers
bool g_installed = false;
thread_local bool t_altstack = false;

std::string Hex16(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

bool InTask() { return InSimulation() && CurrentThread() >= 0; }

// Frames of the code a fault interrupted (filled in the handler).
constexpr int kMaxFaultFrames = 64;
CodeFrame g_fault_frames[kMaxFaultFrames];

// The driver line that faulted: the innermost frame of driver or model code
// among the interrupted frames ("RIP: scull_write (drivers/scull/scull.cc:
// 214)"), and its location for the report. Without one (a fault inside kmc
// itself, or no debug information) the task's last kernel call stands.
std::string FaultingDriverLine(void* ucv, uintptr_t addr, Loc* loc) {
  const int n = CaptureFaultFrames(ucv, addr, g_fault_frames, kMaxFaultFrames);
  const int i = FirstDriverFrame(g_fault_frames, n);
  if (i < 0) return "";
  *loc = CodeLocation(g_fault_frames[i].pc);
  return "RIP: " + ShortFunction(*loc) + " (" + FormatLoc(*loc) + ")\n";
}


// ---------------------------------------------------------------------------
// The kernel's stack limit (see ArmKernelStackLimit).

struct LimitGuard {
  uintptr_t lo = 0;          // the PROT_NONE range [lo, lo + 2 pages)
  bool armed = false;
  uintptr_t top = 0;         // where the thread's body began
  uintptr_t limit_addr = 0;  // the lowest address the kernel's stack has
  int nframes = 0;           // frames recorded at a crossing, innermost first
  int ctx = 0;               // the thread's context and CPU at the crossing
  int cpu = 0;
  CodeFrame frames[kMaxFaultFrames];
};
LimitGuard g_limit[kStackLimitThreads];
uintptr_t g_page = 4096;

// KernelStackLimitPending() of the guard's thread, after any change to it.
void NotePending(const LimitGuard* g) {
  g_stack_limit_pending[g - g_limit] = g->lo != 0 && (!g->armed || g->nframes > 0);
}
// Calls NotePending() on every way out of a function that changes a guard.
struct PendingUpdate {
  const LimitGuard* g;
  ~PendingUpdate() { NotePending(g); }
};

LimitGuard* CurrentLimitGuard() {
  const int thread = CurrentThread();
  return thread >= 0 && thread < kStackLimitThreads ? &g_limit[thread] : nullptr;
}

// The engine's stacks are mapped afresh for every engine context.
void ForgetLimitGuards() {
  for (LimitGuard& g : g_limit) {
    g.lo = 0;
    g.armed = false;
    g.nframes = 0;
    NotePending(&g);
  }
}

// A fault in the current thread's limit guard: record, lift, resume.
bool OnLimitGuardFault(uintptr_t addr, void* ucv) {
  LimitGuard* g = CurrentLimitGuard();
  if (g == nullptr || !g->armed || addr < g->lo || addr >= g->lo + 2 * g_page) return false;
  mprotect(reinterpret_cast<void*>(g->lo), 2 * g_page, PROT_READ | PROT_WRITE);
  g->armed = false;
  g->nframes = CaptureFaultFrames(ucv, addr, g->frames, kMaxFaultFrames);
  NotePending(g);
  if (const TaskState* t = Runtime::Get().CurrentOrNull()) {
    g->ctx = static_cast<int>(t->ctx);
    g->cpu = t->cpu;
  }
  return true;
}

[[noreturn]] void Die(int sig) {
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  _exit(128 + sig);
}

// An event the process cannot resume from: the last words hook reports it,
// or the process dies the way it would have without kmc.
[[noreturn]] void Unrecoverable(int sig, Verdict v, const std::string& headline,
                                const std::string& details) {
  if (g_last_words != nullptr) {
    LastWordsFn fn = g_last_words;
    g_last_words = nullptr;
    fn(v, headline, details);
  }
  if (sig == 0) {
    std::fprintf(stderr, "kmc: %s\n%s", headline.c_str(), details.c_str());
    _exit(70);
  }
  Die(sig);
}

void OnFault(int sig, siginfo_t* si, void* ucv) {
  if (sig == SIGSEGV && InTask() &&
      OnLimitGuardFault(reinterpret_cast<uintptr_t>(si->si_addr), ucv)) {
    return;  // resumed; the next scheduling step decides
  }
  if (g_handling) Die(sig);  // a fault while reporting a fault
  g_handling = 1;
  const uintptr_t addr = reinterpret_cast<uintptr_t>(si->si_addr);
  Verdict v = Verdict::kKernelOops;
  std::string headline;
  std::string details;
  Loc loc;
  if (sig == SIGSEGV || sig == SIGBUS) {
    uintptr_t lo = 0;
    const int guard_thread = StackGuardThread(si->si_addr, &lo);
    if (guard_thread >= 0 && InTask()) {
      // A driver frame went past the kernel's stack limit before it ran
      // into the end of the engine's stack: that is the overflow to report.
      Runtime::Get().CheckKernelStackLimit();
    }
    if (guard_thread >= 0) {
      v = Verdict::kStackOverflow;
      const uint64_t fake = kFakeStackBase + static_cast<uint64_t>(guard_thread) * 0x100000;
      headline = "BUG: stack guard page was hit at " + Hex16(fake + (addr - lo)) +
                 " (stack is " + Hex16(fake + kStackGuardBytes) + ".." +
                 Hex16(fake + kStackGuardBytes + kStackBytes) + ")";
      details = "kernel stack overflow (page fault): 0000 [#1] PREEMPT SMP\n" + OopsTaskLines();
    } else {
      unsigned long err = 0;
#if defined(__x86_64__)
      err = static_cast<unsigned long>(
          static_cast<ucontext_t*>(ucv)->uc_mcontext.gregs[REG_ERR]);
#endif
      (void)ucv;
      err &= ~4ul;  // a kernel-mode access
      const bool write = (err & 2) != 0;
      headline = addr < 4096 ? "BUG: kernel NULL pointer dereference, address: " + Hex16(addr)
                             : "BUG: unable to handle page fault for address: " + Hex16(addr);
      char code[80];
      std::snprintf(code, sizeof code, "#PF: error_code(0x%04lx) - %s\nOops: %04lx [#1] PREEMPT SMP\n",
                    err, (err & 1) ? "permissions violation" : "not-present page", err);
      details = std::string("#PF: supervisor ") + (write ? "write" : "read") +
                " access in kernel mode\n" + code + OopsTaskLines();
      if (InTask()) details += FaultingDriverLine(ucv, addr, &loc);
    }
  } else if (sig == SIGFPE) {
    headline = "divide error: 0000 [#1] PREEMPT SMP";
    details = OopsTaskLines();
    if (InTask()) details += FaultingDriverLine(ucv, 0, &loc);
  } else if (sig == SIGILL) {
    headline = "invalid opcode: 0000 [#1] PREEMPT SMP";
    details = OopsTaskLines();
    if (InTask()) details += FaultingDriverLine(ucv, 0, &loc);
  } else {
    headline = "Kernel panic - not syncing: abort() called";
    details = OopsTaskLines();
  }
  // abort() may come from a corrupted heap: never resumed in-process.
  if (sig != SIGABRT && InTask()) {
    Runtime::Get().Fail(v, headline, details, loc);
  }
  Unrecoverable(sig, v, headline, details);
}

void OnTick(int, siginfo_t*, void*) {
  if (!g_armed || g_handling) return;
  if (g_engine_work > 0) {
    // kmc's own work (the search's, reading debug information): the task's
    // time starts again after it.
    g_stuck_ticks = 0;
    g_last_progress_cpu_ns = ThreadCpuNs();
    return;
  }
  const uint64_t p = ProgressCount();
  if (p != g_last_progress) {
    g_last_progress = p;
    g_stuck_ticks = 0;
    g_last_progress_cpu_ns = ThreadCpuNs();
    return;
  }
  if (++g_stuck_ticks < kTicksPerBudget) return;
  // A whole budget of host time without progress. The task must also have
  // used half the budget in CPU time: on a loaded machine the thread may
  // simply not have run. A task blocked in the host (a std::mutex) uses no
  // CPU: it is caught after four budgets.
  const double cpu_seconds = static_cast<double>(ThreadCpuNs() - g_last_progress_cpu_ns) * 1e-9;
  if (cpu_seconds < g_watchdog_seconds / 2 && g_stuck_ticks < kBlockedBudgets * kTicksPerBudget) {
    return;
  }
  // Only a model's task can be stuck: the engine's own work between
  // scheduling points (the end of a 200,000-step execution, a report) may
  // take long and is not a lockup. A hang outside a task (a fixture
  // constructor, the final check) is left to the worker's parent.
  Runtime& rt = Runtime::Get();
  TaskState* t = InTask() && rt.running() ? rt.CurrentOrNull() : nullptr;
  if (t == nullptr) {
    g_stuck_ticks = 0;
    return;
  }
  g_handling = 1;
  const int secs = static_cast<int>(std::ceil(g_watchdog_seconds));
  const std::string headline = "watchdog: BUG: soft lockup - CPU#" + std::to_string(t->cpu) +
                               " stuck for " + std::to_string(secs) + "s! [" + t->name + ":" +
                               std::to_string(t->pid) + "]";
  char budget[32];
  std::snprintf(budget, sizeof budget, "%g", g_watchdog_seconds);
  const std::string details =
      std::string("The task reached no scheduling point within the watchdog budget of host time (") +
      budget +
      " s, --watchdog): it spins without calling a kernel primitive, or blocks in something "
      "the engine does not see (a host std::mutex, a system call).\n" + OopsTaskLines();
  rt.Fail(Verdict::kSoftLockup, headline, details, Loc());
}

void OnExit(int status, void*) {
  if (!InTask() || g_handling) return;
  g_handling = 1;
  const TaskState* t = Runtime::Get().CurrentOrNull();
  const std::string who = t ? t->name + "/" + std::to_string(t->pid) : "a task";
  Unrecoverable(0, Verdict::kModelError,
                "kmc: " + who + " called exit(" + std::to_string(status) +
                    ") inside a simulated execution",
                "A model's tasks must return; exit() would end the checker. " + OopsTaskLines());
}

void Install() {
  if (!t_altstack) {
    void* mem = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem != MAP_FAILED) {
      stack_t ss = {};
      ss.ss_sp = mem;
      ss.ss_size = kAltStackSize;
      if (sigaltstack(&ss, nullptr) == 0) t_altstack = true;
    }
  }
  if (g_installed) return;
  g_installed = true;
  g_page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  struct sigaction sa = {};
  sa.sa_sigaction = &OnFault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &sa, nullptr);
  struct sigaction tick = {};
  tick.sa_sigaction = &OnTick;
  tick.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
  sigemptyset(&tick.sa_mask);
  sigaction(SIGALRM, &tick, nullptr);
  on_exit(&OnExit, nullptr);
}

}  // namespace

std::string OopsTaskLines() {
  Runtime& rt = Runtime::Get();
  const TaskState* t = InTask() ? rt.CurrentOrNull() : nullptr;
  if (t == nullptr) return "CPU: 0 PID: 100 Comm: insmod\n";
  std::string s = "CPU: " + std::to_string(t->cpu) + " PID: " + std::to_string(t->pid) +
                  " Comm: " + t->name + " (" + CtxName(t->ctx) + ")\n";
  if (t->has_last_loc) {
    s += "last kernel call before the fault: " + FormatLoc(t->last_loc) + " " +
         ShortFunction(t->last_loc) + "\n";
  }
  return s;
}

CrashGuard::CrashGuard() {
  Install();
  ForgetLimitGuards();
  g_handling = 0;
  g_last_progress = ProgressCount();
  g_stuck_ticks = 0;
  g_last_progress_cpu_ns = ThreadCpuNs();
  if (g_watchdog_seconds <= 0) return;
  if (!g_timer_created || g_timer_pid != getpid()) {
    struct sigevent sev = {};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    sev._sigev_un._tid = static_cast<pid_t>(gettid());
    if (timer_create(CLOCK_MONOTONIC, &sev, &g_timer) != 0) return;
    g_timer_created = true;
    g_timer_pid = getpid();
  }
  const double period = g_watchdog_seconds / kTicksPerBudget;
  struct itimerspec its = {};
  its.it_interval.tv_sec = static_cast<time_t>(period);
  its.it_interval.tv_nsec = static_cast<long>((period - std::floor(period)) * 1e9);
  if (its.it_interval.tv_sec == 0 && its.it_interval.tv_nsec < 1000000) its.it_interval.tv_nsec = 1000000;
  its.it_value = its.it_interval;
  g_armed = 1;
  timer_settime(g_timer, 0, &its, nullptr);
}

CrashGuard::~CrashGuard() {
  ForgetLimitGuards();
  g_armed = 0;
  if (g_timer_created && g_timer_pid == getpid()) {
    struct itimerspec its = {};
    timer_settime(g_timer, 0, &its, nullptr);
  }
}

EngineWork::EngineWork() { g_engine_work = g_engine_work + 1; }
EngineWork::~EngineWork() { g_engine_work = g_engine_work - 1; }

void ArmKernelStackLimit(uintptr_t top, size_t limit) {
  LimitGuard* g = CurrentLimitGuard();
  if (g == nullptr) return;
  const PendingUpdate update{g};
  g->nframes = 0;
  uintptr_t lo = 0;
  // Room for the guard and for kmc's own frames below it on the engine
  // thread's stack; a larger limit is left to the stack's own guard.
  if (limit != 0 && limit + 4 * g_page + 64 * 1024 <= kStackBytes && top > limit) {
    // The two whole pages below the limit: a fault there is always past
    // it (a frame that ends less than a page past the limit is seen by the
    // check at its next kernel call only).
    lo = ((top - limit) & ~(g_page - 1)) - 2 * g_page;
  }
  if (g->armed && g->lo == lo) {
    g->top = top;
    g->limit_addr = top - limit;
    return;
  }
  if (g->armed) {
    mprotect(reinterpret_cast<void*>(g->lo), 2 * g_page, PROT_READ | PROT_WRITE);
    g->armed = false;
  }
  g->lo = lo;
  g->top = top;
  g->limit_addr = top - limit;
  if (lo != 0 && mprotect(reinterpret_cast<void*>(lo), 2 * g_page, PROT_NONE) == 0) {
    g->armed = true;
  }
}

bool KernelStackLimitCrossed(StackLimitCrossing* out) {
  LimitGuard* g = CurrentLimitGuard();
  if (g == nullptr || g->lo == 0) return false;
  const PendingUpdate update{g};
  if (g->nframes > 0) {
    const int n = g->nframes;
    g->nframes = 0;
    // Reads debug information in an EngineWork scope (OnBigStack).
    const int i = FirstDriverFrame(g->frames, n);
    if (i >= 0 && g->frames[i].sp < g->limit_addr) {
      out->at = CodeLocation(g->frames[i].pc);  // resolved by FirstDriverFrame
      out->used = g->top - g->frames[i].sp;
      out->ctx = g->ctx;
      out->cpu = g->cpu;
      return true;
    }
  }
  // Only kmc's frames below a kernel call crossed: guard again once this
  // thread's frames are well above it.
  const uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (!g->armed && here > g->lo + 4 * g_page &&
      mprotect(reinterpret_cast<void*>(g->lo), 2 * g_page, PROT_NONE) == 0) {
    g->armed = true;
  }
  return false;
}

void SetWatchdogSeconds(double seconds) { g_watchdog_seconds = seconds; }
double WatchdogSeconds() { return g_watchdog_seconds; }
void SetLastWords(LastWordsFn fn) { g_last_words = fn; }

}  // namespace kmc::internal

// Host threads inside a model: a std::thread (pthread_create) started by a
// task runs outside the engine, which then neither schedules nor sees it.
// This definition interposes on the C library's for the whole program; a
// call from a simulated task is a model error, any other call goes through.
extern "C" int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                              void* (*start)(void*), void* arg) {
  using Fn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_create"));
  if (kmc::internal::InSimulation() && kmc::internal::CurrentThread() >= 0) {
    kmc::internal::Runtime& rt = kmc::internal::Runtime::Get();
    rt.Fail(kmc::Verdict::kModelError,
            "kmc: " + rt.Who() + " started a host thread (std::thread/pthread_create)",
            "A host thread runs outside the engine: it is neither scheduled nor checked, and "
            "its interleavings are not explored. Use kthread_run() or another task.\n",
            kmc::internal::Loc());
  }
  if (real == nullptr) return EAGAIN;
  return real(thread, attr, start, arg);
}
