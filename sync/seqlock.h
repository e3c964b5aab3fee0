// kmc: sequence counters and sequential locks (include/linux/seqlock.h,
// Documentation/locking/seqlock.rst; docs/KERNEL_SEMANTICS.md §3).
//
// Defines seqcount_t (seqcount_init, SEQCNT_ZERO, read_seqcount_begin,
// read_seqcount_retry, write_seqcount_begin, write_seqcount_end, and the
// barrier-less __read_seqcount_begin / __read_seqcount_retry) and seqlock_t
// (DEFINE_SEQLOCK, seqlock_init, read_seqbegin, read_seqretry, write_seqlock,
// write_sequnlock and the _bh/_irq/_irqsave writer variants,
// read_seqlock_excl / read_sequnlock_excl).
//
// The protocol, with the kernel's barrier placement:
//   reader:  seq = read_seqbegin(&sl);     READ_ONCE(sequence) until even, smp_rmb()
//            ... copy the protected data ...
//            retry = read_seqretry(&sl, seq);  smp_rmb(), READ_ONCE(sequence) != seq
//   writer:  write_seqlock(&sl);           spin_lock(&sl->lock), sequence++, smp_wmb()
//            ... update the data ...
//            write_sequnlock(&sl);         smp_wmb(), sequence++, spin_unlock(&sl->lock)
// seqcount_t.sequence is a real Shared<unsigned> field, so a model can spell
// out a broken variant (a missing barrier) exactly as kernel code would.
//
// Readers must copy the protected data with READ_ONCE() (and writers may
// store it plainly or with WRITE_ONCE()). The kernel's KCSAN exempts plain
// loads inside a read section (kcsan_atomic_next()); kmc's race detector
// cannot, so a plain load there is reported as a data race against the
// writer. READ_ONCE() is also what lets kmc's weak-memory engine hand the
// reader a stale value, which is how a missing barrier shows up (see
// docs/RCU_SEQLOCK.md for what the engine can and cannot produce).
//
// A reader that sees an odd sequence spins in the kernel. kmc models the spin
// without a livelock: while a writer is inside its section the reader waits
// (like a contended spinlock) until write_seqcount_end(); when the odd value
// it read was stale (the writer has already finished) it yields once and
// reads again, and then sees the newer value. A reader that interrupts its
// own CPU's writer (hardirq reader, plain write_seqlock) therefore ends in the
// deadlock report, the kernel's hard lockup.
//
// Pointer rule: data read inside a section may be torn and must not be
// dereferenced before read_seqretry() passes; pointers need RCU. A reader that
// follows a pointer the writer frees gets the KASAN use-after-free report.
//
// Context: readers: any context (read_seqlock_excl takes the spinlock).
// Writers: write_seqlock* take the embedded spinlock (may not sleep inside);
// a bare seqcount_t writer must be serialized by the caller and run with
// preemption disabled (lockdep_assert_preemption_disabled(): reported as a
// WARNING when it is not). If a reader can run in irq context, the writer
// must use the _irq/_irqsave variants (or the reader livelocks).
//
// Memory ordering: see the protocol above (smp_rmb = acquire fence, smp_wmb =
// release fence, docs/KERNEL_SEMANTICS.md §7.1). A read section whose
// read_seqretry() returns 0 saw no concurrent write section.

#ifndef KMC_SYNC_SEQLOCK_H_
#define KMC_SYNC_SEQLOCK_H_

#include "sync/internal/handle.h"
#include "sync/shared.h"
#include "sync/spinlock.h"
#include "sync/types.h"

namespace kmc::kernel {

struct seqcount_t {
  Shared<unsigned> sequence;
  const char *name;            // for reports (NULL: "seqcount")
  mutable internal::Handle h;  // readers waiting for the writer to finish
};
using seqcount_spinlock_t = seqcount_t;

#define SEQCNT_ZERO(n) \
  { ::kmc::kernel::Shared<unsigned>(0u), #n, { 0, 0 } }
#define seqcount_init(s) ::kmc::kernel::seqcount_init_named((s), #s)
void seqcount_init_named(seqcount_t *s, const char *name, const Loc &loc = Loc::current());

// Waits for an even sequence, then smp_rmb(). Returns the sequence.
unsigned read_seqcount_begin(const seqcount_t *s, const Loc &loc = Loc::current());
unsigned raw_read_seqcount_begin(const seqcount_t *s, const Loc &loc = Loc::current());
// Like read_seqcount_begin() without the smp_rmb().
unsigned __read_seqcount_begin(const seqcount_t *s, const Loc &loc = Loc::current());
// smp_rmb(), then: nonzero when the sequence moved since `start` (retry).
int read_seqcount_retry(const seqcount_t *s, unsigned start, const Loc &loc = Loc::current());
// Like read_seqcount_retry() without the smp_rmb().
int __read_seqcount_retry(const seqcount_t *s, unsigned start, const Loc &loc = Loc::current());
// sequence++, smp_wmb(). The caller serializes writers, preemption disabled.
void write_seqcount_begin(seqcount_t *s, const Loc &loc = Loc::current());
// smp_wmb(), sequence++.
void write_seqcount_end(seqcount_t *s, const Loc &loc = Loc::current());

struct seqlock_t {
  seqcount_spinlock_t seqcount;
  spinlock_t lock;
};

#define DEFINE_SEQLOCK(sl)                                                           \
  ::kmc::kernel::seqlock_t sl {                                                      \
    {::kmc::kernel::Shared<unsigned>(0u), #sl, {0, 0}}, { #sl, true, {0, 0} }      \
  }
#define seqlock_init(sl) ::kmc::kernel::seqlock_init_named((sl), #sl)
void seqlock_init_named(seqlock_t *sl, const char *name, const Loc &loc = Loc::current());

unsigned read_seqbegin(const seqlock_t *sl, const Loc &loc = Loc::current());
int read_seqretry(const seqlock_t *sl, unsigned start, const Loc &loc = Loc::current());

// Writers: the embedded spinlock serializes them.
void write_seqlock(seqlock_t *sl, const Loc &loc = Loc::current());
void write_sequnlock(seqlock_t *sl, const Loc &loc = Loc::current());

// Writers that also disable interrupts (a reader may run in hardirq
// context) or bottom halves (a reader may run in a tasklet or timer).
unsigned long write_seqlock_irqsave_impl(seqlock_t *sl, const Loc &loc);
#define write_seqlock_irqsave(lock, flags) \
  ((flags) = ::kmc::kernel::write_seqlock_irqsave_impl((lock), std::source_location::current()))
void write_sequnlock_irqrestore(seqlock_t *sl, unsigned long flags,
                                const Loc &loc = Loc::current());
void write_seqlock_irq(seqlock_t *sl, const Loc &loc = Loc::current());
void write_sequnlock_irq(seqlock_t *sl, const Loc &loc = Loc::current());
void write_seqlock_bh(seqlock_t *sl, const Loc &loc = Loc::current());
void write_sequnlock_bh(seqlock_t *sl, const Loc &loc = Loc::current());

// Locking readers: exclude writers (and each other); the sequence is unchanged.
void read_seqlock_excl(seqlock_t *sl, const Loc &loc = Loc::current());
void read_sequnlock_excl(seqlock_t *sl, const Loc &loc = Loc::current());
void read_seqlock_excl_irq(seqlock_t *sl, const Loc &loc = Loc::current());
void read_sequnlock_excl_irq(seqlock_t *sl, const Loc &loc = Loc::current());
void read_seqlock_excl_bh(seqlock_t *sl, const Loc &loc = Loc::current());
void read_sequnlock_excl_bh(seqlock_t *sl, const Loc &loc = Loc::current());

}  // namespace kmc::kernel

#endif  // KMC_SYNC_SEQLOCK_H_
