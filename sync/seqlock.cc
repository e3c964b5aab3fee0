// kmc: seqcount_t and seqlock_t. Semantics: include/linux/seqlock.h,
// docs/KERNEL_SEMANTICS.md §3.

#include "sync/seqlock.h"

#include <string>

#include "sync/internal/prims.h"

namespace kmc::kernel {
namespace {

using internal::Access;
using internal::MemOrder;
using internal::Runtime;

// Readers sleeping until the writer leaves its section.
struct SeqState : internal::SyncState {};

SeqState &State(const seqcount_t *s) {
  SeqState &st = Runtime::Get().Object<SeqState>(s->h);
  if (!st.initialized) {
    st.initialized = true;
    st.name = s->name ? s->name : "seqcount";
  }
  return st;
}

unsigned ReadBegin(const seqcount_t *s, const char *fn, bool barrier, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  for (;;) {
    // One step: READ_ONCE(s->sequence) (and smp_rmb() below, no extra step).
    const unsigned seq = s->sequence.load_marked(0, fn, loc);
    internal::AtomicSection section;
    if ((seq & 1) == 0) {
      if (barrier) internal::Fence(MemOrder::kAcquire, loc);
      return seq;
    }
    if (!rt.running()) {
      rt.Fail(Verdict::kDeadlock,
              "kmc: " + std::string(fn) + "() would spin forever during module init/exit",
              "the sequence of " + State(s).name + " is odd: a write section never ended\n",
              loc);
    }
    if (s->sequence.raw() & 1) {
      // A writer is inside its section: spin (wait) until write_seqcount_end().
      SeqState &st = State(s);
      internal::SleepForGrant(st, s, std::string(fn) + "(" + st.name + ")", false, loc);
    } else if (!internal::NextLoadReadsNewer()) {
      // The odd value was stale: the next iteration reads a newer one (one
      // that read the same value again would change nothing).
      internal::PollPause(loc);
    }
  }
}

int ReadRetry(const seqcount_t *s, unsigned start, const char *fn, bool barrier,
              const Loc &loc) {
  if (barrier && internal::InSimulation()) {
    internal::AtomicSection section;
    internal::Fence(MemOrder::kAcquire, loc);
  }
  return s->sequence.load_marked(0, fn, loc) != start;
}

void AssertWriterSerialized(const char *fn, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  if (!rt.running() || !rt.in_task()) return;
  const internal::TaskState &t = rt.Current();
  if (t.preempt_count > 0 || t.irqs_disabled || t.ctx != internal::Ctx::kProcess) return;
  rt.Fail(Verdict::kLockMisuse,
          "WARNING: CPU: " + std::to_string(t.cpu) + " PID: " + std::to_string(t.pid) +
              " at include/linux/seqlock.h " + fn,
          "lockdep_assert_preemption_disabled() in " + std::string(fn) + "() at " +
              internal::FormatLoc(loc) + " by " + rt.Who() +
              ":\na seqcount_t writer must be serialized by a lock and run with preemption "
              "disabled (use seqlock_t, or hold a spinlock)\n" +
              rt.HeldLocksText(t),
          loc);
}

}  // namespace

void seqcount_init_named(seqcount_t *s, const char *name, const Loc &loc) {
  // A marked store: the engine records 0 as a real store, which a reader
  // that has not synchronized with a later write section may still read.
  s->sequence.store_marked(0u, 0, "seqcount_init", loc);
  s->name = name;
  SeqState &st = Runtime::Get().Object<SeqState>(s->h);
  st = SeqState{};
  st.initialized = true;
  st.name = name;
}

unsigned read_seqcount_begin(const seqcount_t *s, const Loc &loc) {
  return ReadBegin(s, "read_seqcount_begin", true, loc);
}

unsigned raw_read_seqcount_begin(const seqcount_t *s, const Loc &loc) {
  return ReadBegin(s, "raw_read_seqcount_begin", true, loc);
}

unsigned __read_seqcount_begin(const seqcount_t *s, const Loc &loc) {
  return ReadBegin(s, "__read_seqcount_begin", false, loc);
}

int read_seqcount_retry(const seqcount_t *s, unsigned start, const Loc &loc) {
  return ReadRetry(s, start, "read_seqcount_retry", true, loc);
}

int __read_seqcount_retry(const seqcount_t *s, unsigned start, const Loc &loc) {
  return ReadRetry(s, start, "__read_seqcount_retry", false, loc);
}

void write_seqcount_begin(seqcount_t *s, const Loc &loc) {
  AssertWriterSerialized("write_seqcount_begin", loc);
  // One step: s->sequence++ (a marked store readers may read), then smp_wmb().
  s->sequence.store_marked(s->sequence.raw() + 1, 0, "write_seqcount_begin", loc);
  if (internal::InSimulation()) {
    internal::AtomicSection section;
    internal::Fence(MemOrder::kRelease, loc);
  }
}

void write_seqcount_end(seqcount_t *s, const Loc &loc) {
  AssertWriterSerialized("write_seqcount_end", loc);
  if (internal::InSimulation()) {
    internal::AtomicSection section;
    internal::Fence(MemOrder::kRelease, loc);
  }
  // One step: s->sequence++; then the spinning readers see it.
  s->sequence.store_marked(s->sequence.raw() + 1, 0, "write_seqcount_end", loc);
  if (internal::InSimulation()) {
    internal::AtomicSection section;
    SeqState &st = State(s);
    while (internal::GrantFirst(st, loc) >= 0) {
    }
  }
}

void seqlock_init_named(seqlock_t *sl, const char *name, const Loc &loc) {
  seqcount_init_named(&sl->seqcount, name, loc);
  spin_lock_init_named(&sl->lock, name, loc);
}

unsigned read_seqbegin(const seqlock_t *sl, const Loc &loc) {
  return ReadBegin(&sl->seqcount, "read_seqbegin", true, loc);
}

int read_seqretry(const seqlock_t *sl, unsigned start, const Loc &loc) {
  return ReadRetry(&sl->seqcount, start, "read_seqretry", true, loc);
}

void write_seqlock(seqlock_t *sl, const Loc &loc) {
  spin_lock(&sl->lock, loc);
  write_seqcount_begin(&sl->seqcount, loc);
}

void write_sequnlock(seqlock_t *sl, const Loc &loc) {
  write_seqcount_end(&sl->seqcount, loc);
  spin_unlock(&sl->lock, loc);
}

unsigned long write_seqlock_irqsave_impl(seqlock_t *sl, const Loc &loc) {
  const unsigned long flags = spin_lock_irqsave_impl(&sl->lock, loc);
  write_seqcount_begin(&sl->seqcount, loc);
  return flags;
}

void write_sequnlock_irqrestore(seqlock_t *sl, unsigned long flags, const Loc &loc) {
  write_seqcount_end(&sl->seqcount, loc);
  spin_unlock_irqrestore(&sl->lock, flags, loc);
}

void write_seqlock_irq(seqlock_t *sl, const Loc &loc) {
  spin_lock_irq(&sl->lock, loc);
  write_seqcount_begin(&sl->seqcount, loc);
}

void write_sequnlock_irq(seqlock_t *sl, const Loc &loc) {
  write_seqcount_end(&sl->seqcount, loc);
  spin_unlock_irq(&sl->lock, loc);
}

void write_seqlock_bh(seqlock_t *sl, const Loc &loc) {
  spin_lock_bh(&sl->lock, loc);
  write_seqcount_begin(&sl->seqcount, loc);
}

void write_sequnlock_bh(seqlock_t *sl, const Loc &loc) {
  write_seqcount_end(&sl->seqcount, loc);
  spin_unlock_bh(&sl->lock, loc);
}

void read_seqlock_excl(seqlock_t *sl, const Loc &loc) { spin_lock(&sl->lock, loc); }
void read_seqlock_excl_irq(seqlock_t *sl, const Loc &loc) { spin_lock_irq(&sl->lock, loc); }
void read_sequnlock_excl_irq(seqlock_t *sl, const Loc &loc) { spin_unlock_irq(&sl->lock, loc); }
void read_seqlock_excl_bh(seqlock_t *sl, const Loc &loc) { spin_lock_bh(&sl->lock, loc); }
void read_sequnlock_excl_bh(seqlock_t *sl, const Loc &loc) { spin_unlock_bh(&sl->lock, loc); }

void read_sequnlock_excl(seqlock_t *sl, const Loc &loc) { spin_unlock(&sl->lock, loc); }

}  // namespace kmc::kernel
