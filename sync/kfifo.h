// kmc: kfifo, the kernel's lock-free FIFO (include/linux/kfifo.h,
// lib/kfifo.c; the barrier placement of the historical kernel/kfifo.c).
//
// What it defines:
//   DECLARE_KFIFO(fifo, type, size) / INIT_KFIFO(fifo) / DEFINE_KFIFO   a fifo
//       with an embedded buffer of `size` (a power of 2, at least 2) elements;
//   DECLARE_KFIFO_PTR(fifo, type), `kfifo` (a byte fifo)   a fifo whose buffer
//       comes from kfifo_alloc() or kfifo_init();
//   kfifo_alloc, kfifo_free, kfifo_init, kfifo_in, kfifo_out, kfifo_out_peek,
//   kfifo_put, kfifo_get, kfifo_peek, kfifo_len, kfifo_avail, kfifo_size,
//   kfifo_esize, kfifo_is_empty, kfifo_is_full, kfifo_initialized,
//   kfifo_reset, kfifo_reset_out, kfifo_in_spinlocked(_noirqsave),
//   kfifo_out_spinlocked(_noirqsave).
// The kernel's macros take a pointer to the fifo (`kfifo_put(&fifo, v)`); so
// do these function templates. Record fifos (recsize 1 or 2) and the
// kfifo_*_user/DMA helpers are not modelled.
//
// The algorithm is the kernel's (docs/KERNEL_SEMANTICS.md §2.1): `in` and `out` are
// free-running unsigned counters that wrap through 2^32 and are never reduced
// modulo the size; the capacity is a power of two, `mask = size - 1`, a slot
// is `counter & mask`; used = in - out, unused = size - used, empty is
// in == out, full is used > mask. kfifo_in/kfifo_out copy in at most two
// chunks (from `counter & mask` to the end of the buffer, then from slot 0),
// then advance their own counter. kfifo_in and kfifo_out clamp the length
// (a short count, never a wait: 0 when full or empty).
//
// In the model:
//   * `in` and `out` are Shared<unsigned> read and written only with
//     READ_ONCE()/WRITE_ONCE() (C++ relaxed atomics, docs/KERNEL_SEMANTICS.md §7.1),
//     one scheduling step each. Where the kernel re-reads its own counter to
//     advance it (`fifo->in += len`), kmc stores the value it sampled plus
//     len: the same value whenever the locking rules below are kept (only
//     the caller writes that counter), and the lost update of KF-06 when they
//     are not.
//   * The buffer is an array of Shared<type>, one race-checked slot per
//     element, not raw bytes copied with kmc_memcpy(): kmc's byte-range check
//     works on 8-byte granules of kmalloc'd memory only, so (a) elements of a
//     byte fifo that share a granule would race falsely when the producer
//     fills slot 1 while the consumer drains slot 0, and (b) DECLARE_KFIFO's
//     embedded buffer, which need not live in kmalloc'd memory, would not be
//     checked at all. Per-element slots are checked wherever they live, and a
//     slot of a kfifo_free()d buffer is a use after free.
//
// Memory ordering: the barriers of the historical kernel/kfifo.c
// (docs/KERNEL_SEMANTICS.md §2.2), mapped as in §7.1 (smp_mb = seq_cst fence,
// smp_wmb = release fence, smp_rmb = acquire fence):
//   producer (kfifo_in, kfifo_put):   sample in, out; [A] smp_mb(); copy the
//                                     data in; [B] smp_wmb(); WRITE_ONCE(in)
//   consumer (kfifo_out, kfifo_get):  sample in, out; [C] smp_rmb(); copy the
//                                     data out; [D] smp_mb(); WRITE_ONCE(out)
//   [B] pairs with [C]: the data is written before `in` says it is there, and
//       read after the consumer saw that `in` (message passing).
//   [D] pairs with [A]: the slots are read out before `out` frees them, and
//       the producer overwrites them only after it saw that `out`.
// Why not the modern lib/kfifo.c (smp_wmb() before advancing in and before
// advancing out, nothing else): the consumer then reads the data with no
// acquire after its relaxed load of `in`, which the C++ model reports as a
// data race on the slot (and LKMM allows as a stale read: KF-10). The
// historical placement is correct in both models, checks KF-01 clean, and
// removing [B] alone (the seeded bug below) breaks the message passing: the
// race detector then reports the consumer's read of the slot. kfifo_peek and
// kfifo_out_peek use [C] too; kfifo_peek keeps the kernel's trailing smp_wmb().
//
// Locking rules (kfifo.h's header comment, docs/KERNEL_SEMANTICS.md §2.3): one
// producer and one consumer need no lock; several producers must serialize
// against each other (kfifo_in_spinlocked), as must several consumers;
// kfifo_reset() only with the fifo exclusively locked or idle (it stores the
// counters plainly, as the kernel does); kfifo_reset_out() only from the
// single consumer. Breaking a rule is not reported by the fifo itself: it
// shows up as a data race on a slot or as a lost or duplicated element.
//
// Context: every operation may be called from any context (nothing sleeps);
// kfifo_alloc() with GFP_KERNEL may sleep (might_sleep() is checked).
// A fifo used before INIT_KFIFO()/kfifo_alloc()/kfifo_init() (or after a
// failed kfifo_alloc) is the kernel's NULL pointer dereference, reported as
// lock misuse.
//
// Seeded bug: `fifo.kfifo.kmc_bugs |= KFIFO_BUG_NO_PRODUCER_WMB` drops
// barrier [B] from kfifo_put/kfifo_in of that fifo (model
// kfifo/no_producer_barrier). With kmc_bugs == 0 the fifo is correct.

#ifndef KMC_SYNC_KFIFO_H_
#define KMC_SYNC_KFIFO_H_

#include <climits>
#include <cstddef>

#include "sync/atomic.h"
#include "sync/shared.h"
#include "sync/slab.h"
#include "sync/spinlock.h"
#include "sync/types.h"

namespace kmc::kernel {

// kmc bug switches, one bit each in __kfifo::kmc_bugs.
enum : unsigned {
  // The producer's barrier [B] (smp_wmb() before publishing `in`) is left
  // out: a consumer that sees the new `in` may read a slot before the data
  // stored in it is visible.
  KFIFO_BUG_NO_PRODUCER_WMB = 1u << 0,
};

// The untyped part, as in the kernel (struct __kfifo).
struct __kfifo {
  Shared<unsigned> in;   // free-running: slots filled so far (producer side)
  Shared<unsigned> out;  // free-running: slots drained so far (consumer side)
  unsigned mask = 0;     // size - 1; 0 when not initialized
  unsigned esize = 0;    // sizeof(element)
  void* data = nullptr;  // the buffer (Shared<type>[size])
  unsigned kmc_bugs = 0;  // kmc: KFIFO_BUG_* seeded in this fifo
};

// A typed fifo: DECLARE_KFIFO(fifo, type, size) is KFifo<type, size>,
// DECLARE_KFIFO_PTR(fifo, type) is KFifo<type, 0> (the buffer comes from
// kfifo_alloc or kfifo_init). The member `kfifo` is the kernel's union
// member of the same name, so `fifo.kfifo.in` reads like the kernel.
template <class T, unsigned N>
struct KFifo {
  static_assert(N >= 2 && (N & (N - 1)) == 0,
                "DECLARE_KFIFO: the size must be a power of 2 (at least 2)");
  using type = T;
  __kfifo kfifo;
  Shared<T> buf[N];
};

template <class T>
struct KFifo<T, 0> {
  using type = T;
  __kfifo kfifo;
};

// struct kfifo: the kernel's byte fifo with an allocated buffer.
using kfifo = KFifo<unsigned char, 0>;

#define DECLARE_KFIFO_PTR(fifo, type) ::kmc::kernel::KFifo<type, 0> fifo
#define DECLARE_KFIFO(fifo, type, size) ::kmc::kernel::KFifo<type, (size)> fifo
#define INIT_KFIFO(fifo) ::kmc::kernel::detail::KfifoInitStatic(&(fifo))
// Declared and initialized (for fixtures and file-scope fifos).
#define DEFINE_KFIFO(fifo, type, size) \
  DECLARE_KFIFO(fifo, type, size) = ::kmc::kernel::detail::KfifoDefined<type, (size)>()
#define STRUCT_KFIFO(type, size) ::kmc::kernel::KFifo<type, (size)>
#define STRUCT_KFIFO_PTR(type) ::kmc::kernel::KFifo<type, 0>

namespace detail {

// roundup_pow_of_two / rounddown_pow_of_two on unsigned int, as __kfifo_alloc
// and __kfifo_init use them: 0 stays 0, and a result that does not fit in
// unsigned int is 0 (the kernel's truncation), so both end in -EINVAL.
unsigned KfifoRoundUp(unsigned n);
unsigned KfifoRoundDown(unsigned n);
// Reports a fifo that was never set up (mask 0 or no buffer): the kernel
// would dereference NULL.
void KfifoNotInitialized(const __kfifo* f, const char* fn, const Loc& loc);
// Barrier [B], or a trace note when KFIFO_BUG_NO_PRODUCER_WMB drops it.
void KfifoPublishBarrier(const __kfifo* f, const char* fn, const Loc& loc);

inline void KfifoCheck(const __kfifo* f, const char* fn, const Loc& loc) {
  if (f->mask == 0 || f->data == nullptr) KfifoNotInitialized(f, fn, loc);
}

template <class T, unsigned N>
Shared<T>* KfifoData(KFifo<T, N>* fifo) {
  return static_cast<Shared<T>*>(fifo->kfifo.data);
}

template <class T, unsigned N>
void KfifoInitStatic(KFifo<T, N>* fifo) {
  static_assert(N != 0, "INIT_KFIFO needs a DECLARE_KFIFO fifo; use kfifo_alloc for a _PTR one");
  __kfifo* f = &fifo->kfifo;
  f->in = 0u;
  f->out = 0u;
  f->mask = N - 1;
  f->esize = sizeof(T);
  f->data = fifo->buf;
}

template <class T, unsigned N>
KFifo<T, N> KfifoDefined() {
  static_assert(N != 0, "DEFINE_KFIFO needs a size");
  // The buffer address is only known once the object exists: `data` is set
  // by the first operation's KfifoBind (see kfifo_in & co) when left null.
  return KFifo<T, N>{__kfifo{Shared<unsigned>(0u), Shared<unsigned>(0u), N - 1, sizeof(T),
                             nullptr, 0},
                     {}};
}

// DEFINE_KFIFO leaves `data` null (a C++ object cannot point into itself
// before it exists); an embedded buffer is bound on first use.
template <class T, unsigned N>
void KfifoBind(KFifo<T, N>* fifo) {
  if constexpr (N != 0) {
    if (fifo->kfifo.data == nullptr && fifo->kfifo.mask == N - 1) fifo->kfifo.data = fifo->buf;
  }
}

// kfifo_copy_in/kfifo_copy_out: at most two chunks, from slot `off & mask` to
// the end of the buffer, then from slot 0.
template <class T>
void KfifoCopyIn(Shared<T>* data, unsigned mask, const T* src, unsigned len, unsigned off,
                 const Loc& loc) {
  const unsigned size = mask + 1;
  off &= mask;
  const unsigned l = min(len, size - off);
  for (unsigned i = 0; i < l; ++i) data[off + i].set(src[i], loc);     // data + off
  for (unsigned i = 0; i < len - l; ++i) data[i].set(src[l + i], loc);  // data + 0
}

template <class T>
void KfifoCopyOut(const Shared<T>* data, unsigned mask, T* dst, unsigned len, unsigned off,
                  const Loc& loc) {
  const unsigned size = mask + 1;
  off &= mask;
  const unsigned l = min(len, size - off);
  for (unsigned i = 0; i < l; ++i) dst[i] = data[off + i].get(loc);
  for (unsigned i = 0; i < len - l; ++i) dst[l + i] = data[i].get(loc);
}

inline unsigned LoadIn(__kfifo* f, const char* op, const Loc& loc) {
  return f->in.load_marked(0, op, loc);  // READ_ONCE(fifo->in)
}
inline unsigned LoadOut(__kfifo* f, const char* op, const Loc& loc) {
  return f->out.load_marked(0, op, loc);  // READ_ONCE(fifo->out)
}

}  // namespace detail

// --- setup --------------------------------------------------------------------

// kfifo_alloc - dynamically allocates a new fifo buffer
// @size: the number of elements, rounded up to a power of 2.
// Return: 0, -EINVAL when the rounded size is below 2, -ENOMEM.
// Context: may sleep with GFP_KERNEL.
template <class T>
int kfifo_alloc(KFifo<T, 0>* fifo, unsigned size, gfp_t gfp_mask,
                const Loc& loc = Loc::current()) {
  __kfifo* f = &fifo->kfifo;
  f->in = 0u;
  f->out = 0u;
  f->esize = sizeof(T);
  size = detail::KfifoRoundUp(size);
  if (size < 2) {
    f->data = nullptr;
    f->mask = 0;
    return -EINVAL;
  }
  // kmalloc_array() in the kernel; zeroed here so every slot's race state
  // starts unregistered (the element values are the kernel's garbage: 0).
  f->data = kcalloc(size, sizeof(Shared<T>), gfp_mask, loc).get();
  if (f->data == nullptr) {
    f->mask = 0;
    return -ENOMEM;
  }
  f->mask = size - 1;
  return 0;
}

// kfifo_free - frees the buffer kfifo_alloc() allocated.
template <class T>
void kfifo_free(KFifo<T, 0>* fifo, const Loc& loc = Loc::current()) {
  __kfifo* f = &fifo->kfifo;
  kfree(f->data, loc);
  f->in = 0u;
  f->out = 0u;
  f->esize = 0;
  f->data = nullptr;
  f->mask = 0;
}

// kfifo_init - uses a preallocated buffer
// @buffer: an array of Shared<type>
// @size: the buffer size in bytes of `type` elements (n * sizeof(type)), as
//        in the kernel; the element count is rounded down to a power of 2.
// Return: 0, or -EINVAL when fewer than 2 elements remain.
template <class T>
int kfifo_init(KFifo<T, 0>* fifo, Shared<T>* buffer, unsigned size) {
  __kfifo* f = &fifo->kfifo;
  size /= sizeof(T);
  size = detail::KfifoRoundDown(size);
  f->in = 0u;
  f->out = 0u;
  f->esize = sizeof(T);
  f->data = buffer;
  if (size < 2) {
    f->mask = 0;
    return -EINVAL;
  }
  f->mask = size - 1;
  return 0;
}

// --- queries (each counter read is one READ_ONCE step) -------------------------

template <class T, unsigned N>
unsigned kfifo_size(KFifo<T, N>* fifo) {
  return fifo->kfifo.mask + 1;
}
template <class T, unsigned N>
unsigned kfifo_esize(KFifo<T, N>* fifo) {
  return fifo->kfifo.esize;
}
template <class T, unsigned N>
bool kfifo_initialized(KFifo<T, N>* fifo) {
  return fifo->kfifo.mask != 0;
}
template <class T, unsigned N>
unsigned kfifo_len(KFifo<T, N>* fifo, const Loc& loc = Loc::current()) {
  __kfifo* f = &fifo->kfifo;
  const unsigned in = detail::LoadIn(f, "kfifo_len: READ_ONCE(fifo->in)", loc);
  return in - detail::LoadOut(f, "kfifo_len: READ_ONCE(fifo->out)", loc);
}
template <class T, unsigned N>
bool kfifo_is_empty(KFifo<T, N>* fifo, const Loc& loc = Loc::current()) {
  __kfifo* f = &fifo->kfifo;
  const unsigned in = detail::LoadIn(f, "kfifo_is_empty: READ_ONCE(fifo->in)", loc);
  return in == detail::LoadOut(f, "kfifo_is_empty: READ_ONCE(fifo->out)", loc);
}
template <class T, unsigned N>
bool kfifo_is_full(KFifo<T, N>* fifo, const Loc& loc = Loc::current()) {
  return kfifo_len(fifo, loc) > fifo->kfifo.mask;
}
template <class T, unsigned N>
unsigned kfifo_avail(KFifo<T, N>* fifo, const Loc& loc = Loc::current()) {
  return kfifo_size(fifo) - kfifo_len(fifo, loc);
}

// kfifo_reset - empties the fifo. Only with the fifo exclusively locked or
// idle: it stores both counters plainly, as the kernel does.
template <class T, unsigned N>
void kfifo_reset(KFifo<T, N>* fifo, const Loc& loc = Loc::current()) {
  fifo->kfifo.in.set(0u, loc);
  fifo->kfifo.out.set(0u, loc);
}
// kfifo_reset_out - skips the fifo's content; only from the single consumer.
template <class T, unsigned N>
void kfifo_reset_out(KFifo<T, N>* fifo, const Loc& loc = Loc::current()) {
  __kfifo* f = &fifo->kfifo;
  const unsigned in = detail::LoadIn(f, "kfifo_reset_out: READ_ONCE(fifo->in)", loc);
  f->out.store_marked(in, 0, "kfifo_reset_out: WRITE_ONCE(fifo->out)", loc);
}

// --- producer ------------------------------------------------------------------

// kfifo_in - puts up to @len elements into the fifo
// Return: the number of elements copied (less than @len when the fifo has
// less room; 0 when full). Never blocks.
template <class T, unsigned N>
unsigned kfifo_in(KFifo<T, N>* fifo, const T* buf, unsigned len,
                  const Loc& loc = Loc::current()) {
  detail::KfifoBind(fifo);
  __kfifo* f = &fifo->kfifo;
  detail::KfifoCheck(f, "kfifo_in", loc);
  const unsigned in = detail::LoadIn(f, "kfifo_in: READ_ONCE(fifo->in)", loc);
  const unsigned out = detail::LoadOut(f, "kfifo_in: READ_ONCE(fifo->out)", loc);
  const unsigned l = (f->mask + 1) - (in - out);  // kfifo_unused()
  if (len > l) len = l;
  if (len == 0) return 0;  // kmc: the kernel stores in += 0 here
  // [A] Sample fifo->out before putting elements in: the consumer's reads
  // of these slots happen before. Pairs with [D] in kfifo_out/kfifo_get.
  smp_mb(loc);
  detail::KfifoCopyIn(detail::KfifoData(fifo), f->mask, buf, len, in, loc);
  // [B] The data is in before fifo->in says so. Pairs with [C].
  detail::KfifoPublishBarrier(f, "kfifo_in", loc);
  f->in.store_marked(in + len, 0, "kfifo_in: WRITE_ONCE(fifo->in)", loc);
  return len;
}

// kfifo_put - puts one element into the fifo
// Return: 0 when the fifo was full, 1 otherwise.
template <class T, unsigned N, class V>
int kfifo_put(KFifo<T, N>* fifo, V val, const Loc& loc = Loc::current()) {
  detail::KfifoBind(fifo);
  __kfifo* f = &fifo->kfifo;
  detail::KfifoCheck(f, "kfifo_put", loc);
  const unsigned in = detail::LoadIn(f, "kfifo_put: READ_ONCE(fifo->in)", loc);
  const unsigned out = detail::LoadOut(f, "kfifo_put: READ_ONCE(fifo->out)", loc);
  if (in - out > f->mask) return 0;  // kfifo_is_full()
  smp_mb(loc);  // [A], pairs with [D]
  detail::KfifoData(fifo)[in & f->mask].set(static_cast<T>(val), loc);
  detail::KfifoPublishBarrier(f, "kfifo_put", loc);  // [B], pairs with [C]
  f->in.store_marked(in + 1, 0, "kfifo_put: WRITE_ONCE(fifo->in)", loc);
  return 1;
}

// --- consumer ------------------------------------------------------------------

// kfifo_out_peek - copies up to @len elements without removing them
// Return: the number of elements copied.
template <class T, unsigned N>
unsigned kfifo_out_peek(KFifo<T, N>* fifo, T* buf, unsigned len,
                        const Loc& loc = Loc::current()) {
  detail::KfifoBind(fifo);
  __kfifo* f = &fifo->kfifo;
  detail::KfifoCheck(f, "kfifo_out_peek", loc);
  const unsigned in = detail::LoadIn(f, "kfifo_out_peek: READ_ONCE(fifo->in)", loc);
  const unsigned out = detail::LoadOut(f, "kfifo_out_peek: READ_ONCE(fifo->out)", loc);
  const unsigned l = in - out;
  if (len > l) len = l;
  if (len == 0) return 0;
  smp_rmb(loc);  // [C], pairs with [B]
  detail::KfifoCopyOut(detail::KfifoData(fifo), f->mask, buf, len, out, loc);
  return len;
}

// kfifo_out - gets up to @len elements from the fifo
// Return: the number of elements copied (0 when empty). Never blocks.
template <class T, unsigned N>
unsigned kfifo_out(KFifo<T, N>* fifo, T* buf, unsigned len, const Loc& loc = Loc::current()) {
  detail::KfifoBind(fifo);
  __kfifo* f = &fifo->kfifo;
  detail::KfifoCheck(f, "kfifo_out", loc);
  const unsigned in = detail::LoadIn(f, "kfifo_out: READ_ONCE(fifo->in)", loc);
  const unsigned out = detail::LoadOut(f, "kfifo_out: READ_ONCE(fifo->out)", loc);
  const unsigned l = in - out;
  if (len > l) len = l;
  if (len == 0) return 0;
  // [C] Sample fifo->in before removing elements: the producer's stores to
  // these slots are visible. Pairs with [B] in kfifo_in/kfifo_put.
  smp_rmb(loc);
  detail::KfifoCopyOut(detail::KfifoData(fifo), f->mask, buf, len, out, loc);
  // [D] The elements are read out before fifo->out frees their slots.
  // Pairs with [A].
  smp_mb(loc);
  f->out.store_marked(out + len, 0, "kfifo_out: WRITE_ONCE(fifo->out)", loc);
  return len;
}

// kfifo_get - gets one element from the fifo
// Return: 0 when the fifo was empty, 1 otherwise.
template <class T, unsigned N>
int kfifo_get(KFifo<T, N>* fifo, T* val, const Loc& loc = Loc::current()) {
  detail::KfifoBind(fifo);
  __kfifo* f = &fifo->kfifo;
  detail::KfifoCheck(f, "kfifo_get", loc);
  const unsigned in = detail::LoadIn(f, "kfifo_get: READ_ONCE(fifo->in)", loc);
  const unsigned out = detail::LoadOut(f, "kfifo_get: READ_ONCE(fifo->out)", loc);
  if (in == out) return 0;  // kfifo_is_empty()
  smp_rmb(loc);  // [C], pairs with [B]
  *val = detail::KfifoData(fifo)[out & f->mask].get(loc);
  smp_mb(loc);  // [D], pairs with [A]
  f->out.store_marked(out + 1, 0, "kfifo_get: WRITE_ONCE(fifo->out)", loc);
  return 1;
}

// kfifo_peek - gets the next element without removing it
// Return: 0 when the fifo was empty, 1 otherwise.
template <class T, unsigned N>
int kfifo_peek(KFifo<T, N>* fifo, T* val, const Loc& loc = Loc::current()) {
  detail::KfifoBind(fifo);
  __kfifo* f = &fifo->kfifo;
  detail::KfifoCheck(f, "kfifo_peek", loc);
  const unsigned in = detail::LoadIn(f, "kfifo_peek: READ_ONCE(fifo->in)", loc);
  const unsigned out = detail::LoadOut(f, "kfifo_peek: READ_ONCE(fifo->out)", loc);
  if (in == out) return 0;
  smp_rmb(loc);  // [C], pairs with [B]
  *val = detail::KfifoData(fifo)[out & f->mask].get(loc);
  smp_wmb(loc);  // the kernel's (it orders nothing that follows here)
  return 1;
}

// --- locked helpers ------------------------------------------------------------

// kfifo_in_spinlocked - kfifo_in() under spin_lock_irqsave(@lock): for
// several producers sharing one lock (the consumer needs none).
template <class T, unsigned N>
unsigned kfifo_in_spinlocked(KFifo<T, N>* fifo, const T* buf, unsigned n, spinlock_t* lock,
                             const Loc& loc = Loc::current()) {
  const unsigned long flags = spin_lock_irqsave_impl(lock, loc);
  const unsigned ret = kfifo_in(fifo, buf, n, loc);
  spin_unlock_irqrestore(lock, flags, loc);
  return ret;
}
template <class T, unsigned N>
unsigned kfifo_in_spinlocked_noirqsave(KFifo<T, N>* fifo, const T* buf, unsigned n,
                                       spinlock_t* lock, const Loc& loc = Loc::current()) {
  spin_lock(lock, loc);
  const unsigned ret = kfifo_in(fifo, buf, n, loc);
  spin_unlock(lock, loc);
  return ret;
}
// kfifo_out_spinlocked - kfifo_out() under spin_lock_irqsave(@lock): for
// several consumers sharing one lock.
template <class T, unsigned N>
unsigned kfifo_out_spinlocked(KFifo<T, N>* fifo, T* buf, unsigned n, spinlock_t* lock,
                              const Loc& loc = Loc::current()) {
  const unsigned long flags = spin_lock_irqsave_impl(lock, loc);
  const unsigned ret = kfifo_out(fifo, buf, n, loc);
  spin_unlock_irqrestore(lock, flags, loc);
  return ret;
}
template <class T, unsigned N>
unsigned kfifo_out_spinlocked_noirqsave(KFifo<T, N>* fifo, T* buf, unsigned n,
                                        spinlock_t* lock, const Loc& loc = Loc::current()) {
  spin_lock(lock, loc);
  const unsigned ret = kfifo_out(fifo, buf, n, loc);
  spin_unlock(lock, loc);
  return ret;
}

}  // namespace kmc::kernel

#endif  // KMC_SYNC_KFIFO_H_
