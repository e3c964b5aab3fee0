// kmc: spinlock_t and rwlock_t. Semantics and reports: include/linux/spinlock.h,
// kernel/locking/spinlock_debug.c, docs/KERNEL_SEMANTICS.md §6.2.

#include "sync/spinlock.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <set>
#include <string>

#include "sync/internal/por.h"
#include "sync/internal/prims.h"
#include "sync/lockdep.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::Ctx;
using internal::Runtime;
using internal::TaskState;

// How a lock was taken, to check that it is released the same way.
enum class Family { kPlain, kIrqsave, kIrq, kBh };

// "raw_spin_lock" for "spin_lock": a raw_spinlock_t's operations are named
// as the driver wrote them in traces and reports.
const char* Raw(const char* op) {
  static auto* names = new std::set<std::string>();
  return names->insert(std::string("raw_") + op).first->c_str();
}

const char* LockName(Family f) {
  switch (f) {
    case Family::kPlain: return "spin_lock";
    case Family::kIrqsave: return "spin_lock_irqsave";
    case Family::kIrq: return "spin_lock_irq";
    case Family::kBh: return "spin_lock_bh";
  }
  return "?";
}

struct SpinState : internal::SyncState {
  int owner = -1;  // engine thread; -2 for module init/exit
  int owner_cpu = -1;
  Ctx owner_ctx = Ctx::kProcess;
  Loc owner_loc;
  // rwlock_t only
  bool rw = false;
  std::vector<int> readers;    // engine threads holding it for read
  std::deque<bool> is_writer;  // parallel to waiters
};

int Me() {
  return internal::CurrentThread() >= 0 && Runtime::Get().running() ? internal::CurrentThread()
                                                                    : -2;
}

std::string LockBug(const SpinState& s, const char* what, const TaskState& t) {
  return std::string("BUG: ") + (s.rw ? "rwlock " : "spinlock ") + what + " on CPU#" +
         std::to_string(t.cpu) + ", " + internal::TaskTag(t);
}

template <class L>
SpinState& State(L* lock, bool rw, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = rt.Object<SpinState>(lock->h);
  if (!s.initialized) {
    s.rw = rw;
    if (!lock->defined) {
      rt.Fail(Verdict::kLockMisuse, LockBug(s, "bad magic", rt.Current()),
              std::string(" lock: ") + (rw ? "rwlock_t" : "spinlock_t") + " at " +
                  internal::FormatLoc(loc) + " was used without " +
                  (rw ? "rwlock_init() or DEFINE_RWLOCK()" : "spin_lock_init() or DEFINE_SPINLOCK()") +
                  "\n",
              loc);
    }
    s.initialized = true;
    s.name = lock->name ? lock->name : (rw ? "rwlock" : "spinlock");
  }
  return s;
}

std::string OwnerText(const SpinState& s) {
  const auto& tasks = Runtime::Get().tasks();
  if (s.owner >= 0 && s.owner < static_cast<int>(tasks.size())) {
    return internal::TaskTag(tasks[s.owner]) + ", .owner_cpu: " + std::to_string(s.owner_cpu);
  }
  return s.owner == -1 ? std::string("<none>, .owner_cpu: -1") : std::string("insmod/100");
}

// Interrupt/bottom-half side of the variants.
unsigned long EnterFamily(Family f, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  switch (f) {
    case Family::kPlain: return 0;
    case Family::kIrqsave: return local_irq_save_impl(loc);
    case Family::kIrq:
      rt.Current().irqs_disabled = true;
      internal::PorTouchCpu(rt.Current().cpu);
      return 0;
    case Family::kBh:
      rt.Current().bh_count += 1;
      internal::PorTouchCpu(rt.Current().cpu);
      return 0;
  }
  return 0;
}

void LeaveFamily(Family f, unsigned long flags, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  TaskState& t = rt.Current();
  switch (f) {
    case Family::kPlain: return;
    case Family::kIrqsave: local_irq_restore(flags, loc); return;
    case Family::kIrq:
      t.irqs_disabled = false;
      rt.IrqsEnabled(t);  // touches the CPU's state (por.h)
      return;
    case Family::kBh:
      t.bh_count -= 1;
      if (t.bh_count == 0) rt.BhEnabled(t);
      return;
  }
}

// The report of a context spinning on a lock that the code it interrupted
// on its CPU holds (`holder`: who, `taken_at`: where, may be empty).
[[noreturn]] void FailCpuRecursion(const SpinState& s, const TaskState& t,
                                   const std::string& owner, const std::string& holder,
                                   const std::string& taken_at, const Loc& loc) {
  Runtime::Get().Fail(
      Verdict::kDeadlock, LockBug(s, "cpu recursion", t),
      " lock: " + s.name + ", .owner: " + owner + "\n" + internal::TaskTag(t) + " (" +
          internal::CtxName(t.ctx) + ") takes the lock at " + internal::FormatLoc(loc) +
          "\nwhile " + holder + ", which it interrupted on CPU#" + std::to_string(t.cpu) +
          ", holds it" + (taken_at.empty() ? std::string() : " (taken at " + taken_at + ")") +
          ".\n\n Possible unsafe locking scenario:\n       CPU" + std::to_string(t.cpu) +
          "\n       ----\n  lock(" + s.name + ");\n  <Interrupt>\n    lock(" + s.name +
          ");\n\n *** DEADLOCK ***\n",
      loc);
}

// An interrupt (or softirq) context taking a lock that the code it
// interrupted holds on the same CPU: it spins forever (SD-02). The holder
// is another engine thread, or this one: an interrupt source's handler on
// top of the softirq of its own irq exit (Model::IrqExitPreemption).
void CheckCpuRecursion(SpinState& s, const TaskState& t, const std::vector<int>& holders,
                       const Loc& loc) {
  if (t.ctx == Ctx::kProcess) return;
  const auto& tasks = Runtime::Get().tasks();
  for (int h : holders) {
    if (h == t.thread && h == s.owner && t.ctx == Ctx::kHardirq &&
        s.owner_ctx == Ctx::kSoftirq) {
      FailCpuRecursion(s, t, OwnerText(s), "the softirq context",
                       internal::FormatLoc(s.owner_loc), loc);
    }
    if (h < 0 || h >= static_cast<int>(tasks.size()) || h == t.thread) continue;
    const TaskState& o = tasks[h];
    if (o.cpu != t.cpu) continue;
    // The holder is below us on this CPU: a process context, or a softirq
    // that this hardirq interrupted.
    if (o.ctx == Ctx::kProcess || (o.ctx == Ctx::kSoftirq && t.ctx == Ctx::kHardirq)) {
      std::string held_at;
      for (const auto& hl : o.held) {
        if (hl.lock == &s || hl.name == s.name) {
          held_at = internal::FormatLoc(hl.where) + " (" + hl.variant + ")";
        }
      }
      FailCpuRecursion(s, t, internal::TaskTag(o) + ", .owner_cpu: " + std::to_string(o.cpu),
                       internal::TaskTag(o), held_at, loc);
    }
  }
}

void Acquired(SpinState& s, const void* lock, TaskState& t, const char* variant,
              const char* type, const Loc& loc) {
  s.owner = Me();
  s.owner_cpu = t.cpu;
  s.owner_ctx = t.ctx;
  s.owner_loc = loc;
  internal::PushHeld(t, lock, s.name, type, loc);
  t.held.back().variant = variant;
  internal::LockAcquire(s, loc);
}

void CheckRelease(TaskState& t, const void* lock, const SpinState& s, Family f, const char* fn,
                  const Loc& loc) {
  for (size_t i = t.held.size(); i-- > 0;) {
    if (t.held[i].lock != lock) continue;
    const char* v = t.held[i].variant;
    const bool irqsave = std::strstr(v, "irqsave") != nullptr;
    const bool irq = !irqsave && std::strstr(v, "_irq") != nullptr;
    const bool bh = std::strstr(v, "_bh") != nullptr;
    const Family taken = irqsave ? Family::kIrqsave : irq ? Family::kIrq : bh ? Family::kBh
                                                                       : Family::kPlain;
    if (taken != f) {
      Runtime::Get().Fail(
          Verdict::kLockMisuse,
          std::string("kmc: ") + fn + "() of a lock taken with " + v + "()",
          s.name + " was taken with " + v + "() at " + internal::FormatLoc(t.held[i].where) +
              " and released with " + fn + "() at " + internal::FormatLoc(loc) + "; " +
              (taken == Family::kBh || f == Family::kBh ? "bottom halves" : "interrupts") +
              " are left in the wrong state\n",
          loc);
    }
    return;
  }
}

// --- spinlock_t ------------------------------------------------------------

internal::lockdep::Acquisition SpinDep(const char* type, int subclass = 0,
                                       const void* nest = nullptr, bool raw = false) {
  internal::lockdep::Acquisition a;
  a.type = raw ? "raw_spinlock_t" : type;
  a.wait = raw ? internal::lockdep::kWaitSpin : internal::lockdep::kWaitConfig;
  a.subclass = subclass;
  a.nest_lock = nest;
  return a;
}

// Read side of a queued rwlock for lockdep: recursive only in interrupt
// context (read_lock_is_recursive()).
internal::lockdep::Acquisition ReadDep(const TaskState& t) {
  internal::lockdep::Acquisition a = SpinDep("rwlock_t");
  a.read = t.ctx == Ctx::kProcess ? internal::lockdep::kRead
                                  : internal::lockdep::kRecursiveRead;
  return a;
}

unsigned long SpinLock(spinlock_t* lock, Family f, const Loc& loc, int subclass = 0,
                       const void* nest = nullptr, bool raw = false) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, false, loc);
  const unsigned long flags = EnterFamily(f, loc);
  const char* op = raw ? Raw(LockName(f)) : LockName(f);
  rt.Step(lock, op, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  t.preempt_count += 1;  // preempt_disable()
  if (s.owner >= 0) CheckCpuRecursion(s, t, {s.owner}, loc);
  if (s.owner == Me()) {
    rt.Fail(Verdict::kDeadlock, LockBug(s, "recursion", t),
            " lock: " + s.name + ", .owner: " + OwnerText(s) + "\n  first taken at " +
                internal::FormatLoc(s.owner_loc) + "\n  taken again at " +
                internal::FormatLoc(loc) + "\nThe task spins forever on a lock it holds.\n",
            loc);
  }
  internal::lockdep::Acquire(lock, s.name, SpinDep("spinlock_t", subclass, nest, raw), loc);
  if (s.owner != -1) {
    internal::SleepForGrant(s, lock, std::string(op) + "(" + s.name + ")", false, loc);
  }
  Acquired(s, lock, t, op, raw ? "raw_spinlock_t" : "spinlock_t", loc);
  return flags;
}

void SpinUnlock(spinlock_t* lock, Family f, unsigned long flags, const char* fn, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, false, loc);
  rt.Step(lock, fn, s.name, Access::kRelease, loc);
  {
    internal::AtomicSection section;
    TaskState& t = rt.Current();
    if (s.owner == -1) {
      rt.Fail(Verdict::kLockMisuse, LockBug(s, "already unlocked", t),
              " lock: " + s.name + ", .owner: <none>, .owner_cpu: -1\n  unlocked at " +
                  internal::FormatLoc(loc) + "\n",
              loc);
    }
    if (s.owner != Me()) {
      rt.Fail(Verdict::kLockMisuse, LockBug(s, "wrong owner", t),
              " lock: " + s.name + ", .owner: " + OwnerText(s) + "\n  locked at " +
                  internal::FormatLoc(s.owner_loc) + "\n  unlocked at " +
                  internal::FormatLoc(loc) + "\n",
              loc);
    }
    CheckRelease(t, lock, s, f, fn, loc);
    internal::PopHeld(t, lock);
    t.preempt_count -= 1;  // preempt_enable()
    internal::LockRelease(s, loc);
    const int next = internal::GrantFirst(s, loc);
    s.owner = next >= 0 ? next : -1;
    if (next >= 0) s.owner_cpu = rt.tasks()[next].cpu;
  }
  LeaveFamily(f, flags, loc);
}

int SpinTrylock(spinlock_t* lock, Family f, const char* fn, const Loc& loc, bool raw = false) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, false, loc);
  const unsigned long flags = EnterFamily(f, loc);
  rt.Step(lock, fn, s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.owner != -1) {
    LeaveFamily(f, flags, loc);
    return 0;
  }
  TaskState& t = rt.Current();
  t.preempt_count += 1;
  internal::lockdep::Acquisition a = SpinDep("spinlock_t", 0, nullptr, raw);
  a.trylock = true;
  internal::lockdep::Acquire(lock, s.name, a, loc);
  const char* variant = f == Family::kBh ? "spin_lock_bh" : "spin_lock";
  Acquired(s, lock, t, raw ? Raw(variant) : variant, raw ? "raw_spinlock_t" : "spinlock_t", loc);
  return 1;
}

// --- rwlock_t ----------------------------------------------------------------

const char* ReadName(Family f) {
  switch (f) {
    case Family::kPlain: return "read_lock";
    case Family::kIrqsave: return "read_lock_irqsave";
    case Family::kIrq: return "read_lock_irq";
    case Family::kBh: return "read_lock_bh";
  }
  return "?";
}
const char* WriteName(Family f) {
  switch (f) {
    case Family::kPlain: return "write_lock";
    case Family::kIrqsave: return "write_lock_irqsave";
    case Family::kIrq: return "write_lock_irq";
    case Family::kBh: return "write_lock_bh";
  }
  return "?";
}

void GrantRw(SpinState& s, const Loc& loc) {
  if (s.waiters.empty() || s.owner != -1) return;
  if (s.is_writer.front()) {
    if (!s.readers.empty()) return;
    s.owner = s.waiters.front();
    s.is_writer.pop_front();
    internal::GrantFirst(s, loc);
    return;
  }
  while (!s.waiters.empty() && !s.is_writer.front()) {
    s.readers.push_back(s.waiters.front());
    s.is_writer.pop_front();
    internal::GrantFirst(s, loc);
  }
}

unsigned long ReadLock(rwlock_t* lock, Family f, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, true, loc);
  const unsigned long flags = EnterFamily(f, loc);
  rt.Step(lock, ReadName(f), s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  t.preempt_count += 1;
  if (s.owner >= 0) CheckCpuRecursion(s, t, {s.owner}, loc);
  if (s.owner == Me()) {
    rt.Fail(Verdict::kDeadlock, LockBug(s, "recursion", t),
            " lock: " + s.name + " is write-held by the same task since " +
                internal::FormatLoc(s.owner_loc) + "\n",
            loc);
  }
  internal::lockdep::Acquire(lock, s.name, ReadDep(t), loc);
  // A queued rwlock: a reader in process context queues behind a waiting
  // writer; a reader in interrupt context only waits for a writer that
  // holds the lock (so an irq handler's read_lock cannot deadlock against
  // the writer queued behind the reader it interrupted).
  const bool writer_waiting =
      std::find(s.is_writer.begin(), s.is_writer.end(), true) != s.is_writer.end();
  if (s.owner == -1 && (t.ctx != Ctx::kProcess || !writer_waiting)) {
    s.readers.push_back(Me());
  } else {
    s.is_writer.push_back(false);
    internal::SleepForGrant(s, lock, std::string(ReadName(f)) + "(" + s.name + ")", false, loc);
  }
  internal::PushHeld(t, lock, s.name, "rwlock_t", loc);
  t.held.back().variant = ReadName(f);
  internal::SyncAcquire(s, loc);
  return flags;
}

void ReadUnlock(rwlock_t* lock, Family f, unsigned long flags, const char* fn, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, true, loc);
  rt.Step(lock, fn, s.name, Access::kRelease, loc);
  {
    internal::AtomicSection section;
    TaskState& t = rt.Current();
    auto it = std::find(s.readers.begin(), s.readers.end(), Me());
    if (it == s.readers.end()) {
      rt.Fail(Verdict::kLockMisuse, "WARNING: bad unlock balance detected!",
              internal::TaskTag(t) + " is trying to release lock (" + s.name + ") at:\n  " +
                  internal::FormatLoc(loc) + "\nbut it does not hold it for read\n",
              loc);
    }
    s.readers.erase(it);
    internal::PopHeld(t, lock);
    t.preempt_count -= 1;
    internal::SyncRelease(s, loc);
    GrantRw(s, loc);
  }
  LeaveFamily(f, flags, loc);
}

unsigned long WriteLock(rwlock_t* lock, Family f, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, true, loc);
  const unsigned long flags = EnterFamily(f, loc);
  rt.Step(lock, WriteName(f), s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  TaskState& t = rt.Current();
  t.preempt_count += 1;
  if (s.owner == Me() ||
      std::find(s.readers.begin(), s.readers.end(), Me()) != s.readers.end()) {
    rt.Fail(Verdict::kDeadlock, LockBug(s, "recursion", t),
            " lock: " + s.name + " is already held by the same task\n", loc);
  }
  std::vector<int> holders = s.readers;
  if (s.owner >= 0) holders.push_back(s.owner);
  CheckCpuRecursion(s, t, holders, loc);
  internal::lockdep::Acquire(lock, s.name, SpinDep("rwlock_t"), loc);
  if (s.owner == -1 && s.readers.empty() && s.waiters.empty()) {
    s.owner = Me();
  } else {
    s.is_writer.push_back(true);
    internal::SleepForGrant(s, lock, std::string(WriteName(f)) + "(" + s.name + ")", false, loc);
  }
  Acquired(s, lock, t, WriteName(f), "rwlock_t", loc);
  return flags;
}

void WriteUnlock(rwlock_t* lock, Family f, unsigned long flags, const char* fn, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, true, loc);
  rt.Step(lock, fn, s.name, Access::kRelease, loc);
  {
    internal::AtomicSection section;
    TaskState& t = rt.Current();
    if (s.owner != Me()) {
      rt.Fail(Verdict::kLockMisuse, LockBug(s, s.owner == -1 ? "already unlocked" : "wrong owner", t),
              " lock: " + s.name + ", .owner: " + OwnerText(s) + "\n  unlocked at " +
                  internal::FormatLoc(loc) + "\n",
              loc);
    }
    internal::PopHeld(t, lock);
    t.preempt_count -= 1;
    internal::SyncRelease(s, loc);
    s.owner = -1;
    GrantRw(s, loc);
  }
  LeaveFamily(f, flags, loc);
}

}  // namespace

namespace {

void InitSpin(spinlock_t* lock, const char* name, const char* fn, internal::lockdep::WaitType wait,
              const Loc& loc) {
  // A re-initialization of a held lock is reported before its state is lost.
  internal::lockdep::Init(lock, name, fn, wait, loc);
  Runtime& rt = Runtime::Get();
  SpinState& s = rt.Object<SpinState>(lock->h);
  s = SpinState{};
  s.initialized = true;
  s.name = name;
  lock->name = name;
}

}  // namespace

void spin_lock_init_named(spinlock_t* lock, const char* name, const Loc& loc) {
  InitSpin(lock, name, "spin_lock_init", internal::lockdep::kWaitConfig, loc);
}

// raw_spinlock_t: the same lock, wait type LD_WAIT_SPIN for lockdep.
void raw_spin_lock_init_named(raw_spinlock_t* lock, const char* name, const Loc& loc) {
  InitSpin(&lock->rlock, name, "raw_spin_lock_init", internal::lockdep::kWaitSpin, loc);
}
void raw_spin_lock(raw_spinlock_t* lock, const Loc& loc) {
  SpinLock(&lock->rlock, Family::kPlain, loc, 0, nullptr, true);
}
void raw_spin_lock_nested(raw_spinlock_t* lock, int subclass, const Loc& loc) {
  SpinLock(&lock->rlock, Family::kPlain, loc, subclass, nullptr, true);
}
void raw_spin_unlock(raw_spinlock_t* lock, const Loc& loc) {
  SpinUnlock(&lock->rlock, Family::kPlain, 0, "raw_spin_unlock", loc);
}
int raw_spin_trylock(raw_spinlock_t* lock, const Loc& loc) {
  return SpinTrylock(&lock->rlock, Family::kPlain, "raw_spin_trylock", loc, true);
}
void raw_spin_lock_irq(raw_spinlock_t* lock, const Loc& loc) {
  SpinLock(&lock->rlock, Family::kIrq, loc, 0, nullptr, true);
}
void raw_spin_unlock_irq(raw_spinlock_t* lock, const Loc& loc) {
  SpinUnlock(&lock->rlock, Family::kIrq, 0, "raw_spin_unlock_irq", loc);
}
void raw_spin_lock_bh(raw_spinlock_t* lock, const Loc& loc) {
  SpinLock(&lock->rlock, Family::kBh, loc, 0, nullptr, true);
}
void raw_spin_unlock_bh(raw_spinlock_t* lock, const Loc& loc) {
  SpinUnlock(&lock->rlock, Family::kBh, 0, "raw_spin_unlock_bh", loc);
}
unsigned long raw_spin_lock_irqsave_impl(raw_spinlock_t* lock, const Loc& loc) {
  return SpinLock(&lock->rlock, Family::kIrqsave, loc, 0, nullptr, true);
}
void raw_spin_unlock_irqrestore(raw_spinlock_t* lock, unsigned long flags, const Loc& loc) {
  SpinUnlock(&lock->rlock, Family::kIrqsave, flags, "raw_spin_unlock_irqrestore", loc);
}
bool raw_spin_is_locked(raw_spinlock_t* lock, const Loc& loc) {
  return spin_is_locked(&lock->rlock, loc);
}


void spin_lock(spinlock_t* lock, const Loc& loc) { SpinLock(lock, Family::kPlain, loc); }
void spin_lock_nested(spinlock_t* lock, int subclass, const Loc& loc) {
  SpinLock(lock, Family::kPlain, loc, subclass);
}
void spin_lock_bh_nested(spinlock_t* lock, int subclass, const Loc& loc) {
  SpinLock(lock, Family::kBh, loc, subclass);
}
unsigned long spin_lock_irqsave_nested_impl(spinlock_t* lock, int subclass, const Loc& loc) {
  return SpinLock(lock, Family::kIrqsave, loc, subclass);
}
void spin_lock_nest_lock_impl(spinlock_t* lock, const void* nest, const Loc& loc) {
  SpinLock(lock, Family::kPlain, loc, 0, nest);
}
void spin_unlock(spinlock_t* lock, const Loc& loc) {
  SpinUnlock(lock, Family::kPlain, 0, "spin_unlock", loc);
}
int spin_trylock(spinlock_t* lock, const Loc& loc) {
  return SpinTrylock(lock, Family::kPlain, "spin_trylock", loc);
}
int spin_trylock_bh(spinlock_t* lock, const Loc& loc) {
  return SpinTrylock(lock, Family::kBh, "spin_trylock_bh", loc);
}

bool spin_is_locked(spinlock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, false, loc);
  rt.Step(lock, "spin_is_locked", s.name, Access::kRead, loc);
  if (!rt.running()) return s.owner != -1;
  internal::AtomicSection section;
  return internal::LockWordHeld(s, loc);
}

unsigned long spin_lock_irqsave_impl(spinlock_t* lock, const Loc& loc) {
  return SpinLock(lock, Family::kIrqsave, loc);
}
void spin_unlock_irqrestore(spinlock_t* lock, unsigned long flags, const Loc& loc) {
  SpinUnlock(lock, Family::kIrqsave, flags, "spin_unlock_irqrestore", loc);
}
void spin_lock_irq(spinlock_t* lock, const Loc& loc) { SpinLock(lock, Family::kIrq, loc); }
void spin_unlock_irq(spinlock_t* lock, const Loc& loc) {
  SpinUnlock(lock, Family::kIrq, 0, "spin_unlock_irq", loc);
}
void spin_lock_bh(spinlock_t* lock, const Loc& loc) { SpinLock(lock, Family::kBh, loc); }
void spin_unlock_bh(spinlock_t* lock, const Loc& loc) {
  SpinUnlock(lock, Family::kBh, 0, "spin_unlock_bh", loc);
}

void rwlock_init_named(rwlock_t* lock, const char* name, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = rt.Object<SpinState>(lock->h);
  s = SpinState{};
  s.rw = true;
  s.initialized = true;
  s.name = name;
  lock->name = name;
  internal::lockdep::Init(lock, name, "rwlock_init", internal::lockdep::kWaitConfig, loc);
}

void read_lock(rwlock_t* lock, const Loc& loc) { ReadLock(lock, Family::kPlain, loc); }
void read_unlock(rwlock_t* lock, const Loc& loc) {
  ReadUnlock(lock, Family::kPlain, 0, "read_unlock", loc);
}
void write_lock(rwlock_t* lock, const Loc& loc) { WriteLock(lock, Family::kPlain, loc); }
void write_unlock(rwlock_t* lock, const Loc& loc) {
  WriteUnlock(lock, Family::kPlain, 0, "write_unlock", loc);
}
void read_lock_irq(rwlock_t* lock, const Loc& loc) { ReadLock(lock, Family::kIrq, loc); }
void read_unlock_irq(rwlock_t* lock, const Loc& loc) {
  ReadUnlock(lock, Family::kIrq, 0, "read_unlock_irq", loc);
}
void write_lock_irq(rwlock_t* lock, const Loc& loc) { WriteLock(lock, Family::kIrq, loc); }
void write_unlock_irq(rwlock_t* lock, const Loc& loc) {
  WriteUnlock(lock, Family::kIrq, 0, "write_unlock_irq", loc);
}
void read_lock_bh(rwlock_t* lock, const Loc& loc) { ReadLock(lock, Family::kBh, loc); }
void read_unlock_bh(rwlock_t* lock, const Loc& loc) {
  ReadUnlock(lock, Family::kBh, 0, "read_unlock_bh", loc);
}
void write_lock_bh(rwlock_t* lock, const Loc& loc) { WriteLock(lock, Family::kBh, loc); }
void write_unlock_bh(rwlock_t* lock, const Loc& loc) {
  WriteUnlock(lock, Family::kBh, 0, "write_unlock_bh", loc);
}
unsigned long read_lock_irqsave_impl(rwlock_t* lock, const Loc& loc) {
  return ReadLock(lock, Family::kIrqsave, loc);
}
unsigned long write_lock_irqsave_impl(rwlock_t* lock, const Loc& loc) {
  return WriteLock(lock, Family::kIrqsave, loc);
}
void read_unlock_irqrestore(rwlock_t* lock, unsigned long flags, const Loc& loc) {
  ReadUnlock(lock, Family::kIrqsave, flags, "read_unlock_irqrestore", loc);
}
void write_unlock_irqrestore(rwlock_t* lock, unsigned long flags, const Loc& loc) {
  WriteUnlock(lock, Family::kIrqsave, flags, "write_unlock_irqrestore", loc);
}

int read_trylock(rwlock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, true, loc);
  rt.Step(lock, "read_trylock", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.owner != -1) return 0;
  TaskState& t = rt.Current();
  t.preempt_count += 1;
  s.readers.push_back(Me());
  internal::lockdep::Acquisition a = ReadDep(t);
  a.trylock = true;
  internal::lockdep::Acquire(lock, s.name, a, loc);
  internal::PushHeld(t, lock, s.name, "rwlock_t", loc);
  t.held.back().variant = "read_lock";
  internal::SyncAcquire(s, loc);
  return 1;
}

int write_trylock(rwlock_t* lock, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  SpinState& s = State(lock, true, loc);
  rt.Step(lock, "write_trylock", s.name, Access::kAcquire, loc);
  internal::AtomicSection section;
  if (s.owner != -1 || !s.readers.empty()) return 0;
  TaskState& t = rt.Current();
  t.preempt_count += 1;
  internal::lockdep::Acquisition a = SpinDep("rwlock_t");
  a.trylock = true;
  internal::lockdep::Acquire(lock, s.name, a, loc);
  Acquired(s, lock, t, "write_lock", "rwlock_t", loc);
  return 1;
}

}  // namespace kmc::kernel
