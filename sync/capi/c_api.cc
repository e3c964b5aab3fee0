// kmc: the C drivers' kernel API (sync/include/) over kmc's C++ primitives.
//
// Each kmc_c_* entry point converts the C call site to a std::source_location
// and calls the one C++ implementation of the primitive (sync/*.h). The C
// kernel objects have exactly the layout of their C++ counterparts (checked
// below), so a C `struct semaphore *` is used as a kernel::semaphore*.

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sync/include/kmc/abi.h"
#include "sync/internal/c_loc.h"
#include "sync/internal/runtime.h"
#include "sync/kernel.h"

namespace kmc::cabi {
namespace {

namespace k = ::kmc::kernel;
using internal::Runtime;

constexpr unsigned FASYNC_FLAG = 020000;  // FASYNC of <linux/fcntl.h>

static_assert(sizeof(kmc_loc) == sizeof(internal::LocRecord));
static_assert(sizeof(kmc_handle) == sizeof(internal::Handle));

template <class C, class K>
constexpr bool SameLayout() {
  return sizeof(C) == sizeof(K) && alignof(C) == alignof(K);
}
static_assert(SameLayout<semaphore, k::semaphore>());
static_assert(offsetof(semaphore, __h) == offsetof(k::semaphore, h));
static_assert(offsetof(semaphore, __initial) == offsetof(k::semaphore, initial));
static_assert(SameLayout<mutex, k::mutex>());
static_assert(offsetof(mutex, __h) == offsetof(k::mutex, h));
static_assert(SameLayout<spinlock_t, k::spinlock_t>());
static_assert(offsetof(spinlock_t, __h) == offsetof(k::spinlock_t, h));
static_assert(SameLayout<rwlock_t, k::rwlock_t>());
static_assert(SameLayout<rw_semaphore, k::rw_semaphore>());
static_assert(SameLayout<completion, k::completion>());
static_assert(SameLayout<wait_queue_head_t, k::wait_queue_head_t>());
static_assert(offsetof(wait_queue_head_t, __h) == offsetof(k::wait_queue_head_t, h));
static_assert(SameLayout<wait_queue_entry, k::wait_queue_entry>());
static_assert(SameLayout<atomic_t, k::atomic_t>());
static_assert(offsetof(atomic_t, __h) == offsetof(k::atomic_t, h));
static_assert(SameLayout<tasklet_struct, k::tasklet_struct>());
static_assert(offsetof(tasklet_struct, __h) == offsetof(k::tasklet_struct, h));
static_assert(SameLayout<work_struct, k::work_struct>());
static_assert(SameLayout<timer_list, k::timer_list>());
static_assert(offsetof(timer_list, expires) == offsetof(k::timer_list, expires));
static_assert(SameLayout<seqcount_t, k::seqcount_t>());
static_assert(offsetof(seqcount_t, __name) == offsetof(k::seqcount_t, name));
static_assert(offsetof(seqcount_t, __h) == offsetof(k::seqcount_t, h));
static_assert(SameLayout<seqlock_t, k::seqlock_t>());
static_assert(offsetof(seqlock_t, lock) == offsetof(k::seqlock_t, lock));

template <class K, class C>
K* As(C* p) {
  return reinterpret_cast<K*>(p);
}

k::Loc L(kmc_loc_t loc) {
  return internal::FromRecord(reinterpret_cast<const internal::LocRecord*>(loc));
}

// seq_file: single_open()'s iterator yields one record, SEQ_START_TOKEN.
void* SingleStart(seq_file* m, kmc_loff_t* pos) {
  (void)m;
  return *pos == 0 ? reinterpret_cast<void*>(1) : nullptr;
}
void* SingleNext(seq_file* m, void* v, kmc_loff_t* pos) {
  (void)m;
  (void)v;
  ++*pos;
  return nullptr;
}
void SingleStop(seq_file* m, void* v) {
  (void)m;
  (void)v;
}

bool IsErrPtr(const void* p) {
  return reinterpret_cast<uintptr_t>(p) >= static_cast<uintptr_t>(-4095);
}

// One pass over the iterator from the start: the whole text into m->buf.
// Returns 0 or the -errno of start() or show().
long SeqFill(seq_file* m) {
  m->count = 0;
  kmc_loff_t pos = 0;
  long err = 0;
  void* p = m->op->start(m, &pos);
  while (p != nullptr && !IsErrPtr(p)) {
    const int r = m->op->show(m, p);
    if (r < 0) {
      err = r;
      break;
    }
    p = m->op->next(m, p, &pos);
  }
  if (err == 0 && IsErrPtr(p)) err = static_cast<long>(reinterpret_cast<intptr_t>(p));
  m->op->stop(m, p);
  m->index = pos;
  m->__filled = err == 0;
  return err;
}

void SeqAppend(seq_file* m, const char* data, size_t len) {
  if (m->count + len > m->size) {
    size_t size = m->size == 0 ? 256 : m->size;
    while (size < m->count + len) size *= 2;
    m->buf = static_cast<char*>(std::realloc(m->buf, size));
    m->size = size;
  }
  std::memcpy(m->buf + m->count, data, len);
  m->count += len;
}

}  // namespace

extern "C" {

// ---- printk and reports ----------------------------------------------------

int kmc_c_printk(kmc_loc_t loc, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::string text = buf;
  // Drop the KERN_<level> prefix ("\001" + digit).
  if (text.size() >= 2 && text[0] == '\001') text = text.substr(2);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  Runtime::Get().Note("printk: " + text, L(loc));
  return n;
}

void kmc_c_bug(const char* expr, const char* kind, kmc_loc_t loc) {
  k::kmc_assert_failed(expr, std::strcmp(kind, "BUG") == 0 ? "BUG_ON" : kind, L(loc));
}

void kmc_c_warn(const char* expr, kmc_loc_t loc) { k::kmc_assert_failed(expr, "WARN_ON", L(loc)); }

// ---- memory ----------------------------------------------------------------

void* kmc_c_kmalloc(size_t size, unsigned flags, bool zero, const char* fn, kmc_loc_t loc) {
  (void)fn;
  return zero ? k::kzalloc(size, flags, L(loc)).get() : k::kmalloc(size, flags, L(loc)).get();
}
void kmc_c_kfree(const void* p, kmc_loc_t loc) { k::kfree(p, L(loc)); }
size_t kmc_c_ksize(const void* p) { return k::ksize(p); }
void* kmc_c_memcpy(void* dst, const void* src, size_t n, kmc_loc_t loc) {
  return k::kmc_memcpy(dst, src, n, L(loc));
}
void* kmc_c_memmove(void* dst, const void* src, size_t n, kmc_loc_t loc) {
  Runtime& rt = Runtime::Get();
  rt.CheckKernelRange(src, n, false, "memmove", L(loc));
  rt.CheckKernelRange(dst, n, true, "memmove", L(loc));
  return std::memmove(dst, src, n);
}
void* kmc_c_memset(void* dst, int c, size_t n, kmc_loc_t loc) {
  return k::kmc_memset(dst, c, n, L(loc));
}
struct page* kmc_c_alloc_pages(unsigned flags, unsigned order, kmc_loc_t loc) {
  return reinterpret_cast<struct page*>(k::alloc_pages(flags, order, L(loc)));
}
void kmc_c_free_pages(struct page* p, unsigned order, kmc_loc_t loc) {
  k::__free_pages(reinterpret_cast<k::page*>(p), order, L(loc));
}
void* kmc_c_page_address(const struct page* p) {
  return k::page_address(reinterpret_cast<const k::page*>(p));
}
unsigned long kmc_c_page_to_pfn(const struct page* p) {
  return k::detail::PageToPfn(reinterpret_cast<const k::page*>(p));
}
struct page* kmc_c_pfn_to_page(unsigned long pfn) {
  return reinterpret_cast<struct page*>(k::pfn_to_page(pfn));
}
unsigned long kmc_c_copy_to_user(void* to, const void* from, unsigned long n, kmc_loc_t loc) {
  return k::copy_to_user(to, from, n, L(loc));
}
unsigned long kmc_c_copy_from_user(void* to, const void* from, unsigned long n, kmc_loc_t loc) {
  return k::copy_from_user(to, from, n, L(loc));
}
int kmc_c_get_user(void* val, const void* uptr, size_t size, kmc_loc_t loc) {
  if (k::detail::UserAccessFaults(uptr, size, "get_user", L(loc))) return -EFAULT;
  std::memcpy(val, uptr, size);
  return 0;
}
int kmc_c_put_user(const void* val, void* uptr, size_t size, kmc_loc_t loc) {
  if (k::detail::UserAccessFaults(uptr, size, "put_user", L(loc))) return -EFAULT;
  std::memcpy(uptr, val, size);
  return 0;
}
int kmc_c_remap_pfn_range(struct vm_area_struct* vma, unsigned long addr, unsigned long pfn,
                          unsigned long size, unsigned long prot, kmc_loc_t loc) {
  return k::remap_pfn_range(reinterpret_cast<k::vm_area_struct*>(vma), addr, pfn, size,
                            k::pgprot_t{prot}, L(loc));
}

// ---- locks -----------------------------------------------------------------

void kmc_c_sema_init(semaphore* s, int val, const char* name, kmc_loc_t loc) {
  k::sema_init_named(As<k::semaphore>(s), val, name, L(loc));
}
void kmc_c_down(semaphore* s, kmc_loc_t loc) { k::down(As<k::semaphore>(s), L(loc)); }
int kmc_c_down_interruptible(semaphore* s, kmc_loc_t loc) {
  return k::down_interruptible(As<k::semaphore>(s), L(loc));
}
int kmc_c_down_killable(semaphore* s, kmc_loc_t loc) {
  return k::down_killable(As<k::semaphore>(s), L(loc));
}
int kmc_c_down_trylock(semaphore* s, kmc_loc_t loc) {
  return k::down_trylock(As<k::semaphore>(s), L(loc));
}
void kmc_c_up(semaphore* s, kmc_loc_t loc) { k::up(As<k::semaphore>(s), L(loc)); }

void kmc_c_mutex_init(mutex* m, const char* name, kmc_loc_t loc) {
  k::mutex_init_named(As<k::mutex>(m), name, L(loc));
}
void kmc_c_mutex_lock(mutex* m, kmc_loc_t loc) { k::mutex_lock(As<k::mutex>(m), L(loc)); }
int kmc_c_mutex_lock_interruptible(mutex* m, kmc_loc_t loc) {
  return k::mutex_lock_interruptible(As<k::mutex>(m), L(loc));
}
int kmc_c_mutex_lock_killable(mutex* m, kmc_loc_t loc) {
  return k::mutex_lock_killable(As<k::mutex>(m), L(loc));
}
int kmc_c_mutex_trylock(mutex* m, kmc_loc_t loc) {
  return k::mutex_trylock(As<k::mutex>(m), L(loc));
}
void kmc_c_mutex_unlock(mutex* m, kmc_loc_t loc) { k::mutex_unlock(As<k::mutex>(m), L(loc)); }
int kmc_c_mutex_is_locked(mutex* m, kmc_loc_t loc) {
  return k::mutex_is_locked(As<k::mutex>(m), L(loc)) ? 1 : 0;
}

void kmc_c_spin_lock_init(spinlock_t* l, const char* name, kmc_loc_t loc) {
  k::spin_lock_init_named(As<k::spinlock_t>(l), name, L(loc));
}
void kmc_c_spin_lock(spinlock_t* l, int how, kmc_loc_t loc) {
  auto* lock = As<k::spinlock_t>(l);
  if (how == 1) k::spin_lock_irq(lock, L(loc));
  else if (how == 2) k::spin_lock_bh(lock, L(loc));
  else k::spin_lock(lock, L(loc));
}
void kmc_c_spin_unlock(spinlock_t* l, int how, kmc_loc_t loc) {
  auto* lock = As<k::spinlock_t>(l);
  if (how == 1) k::spin_unlock_irq(lock, L(loc));
  else if (how == 2) k::spin_unlock_bh(lock, L(loc));
  else k::spin_unlock(lock, L(loc));
}
unsigned long kmc_c_spin_lock_irqsave(spinlock_t* l, kmc_loc_t loc) {
  return k::spin_lock_irqsave_impl(As<k::spinlock_t>(l), L(loc));
}
void kmc_c_spin_unlock_irqrestore(spinlock_t* l, unsigned long flags, kmc_loc_t loc) {
  k::spin_unlock_irqrestore(As<k::spinlock_t>(l), flags, L(loc));
}
int kmc_c_spin_trylock(spinlock_t* l, kmc_loc_t loc) {
  return k::spin_trylock(As<k::spinlock_t>(l), L(loc));
}
int kmc_c_spin_is_locked(spinlock_t* l, kmc_loc_t loc) {
  return k::spin_is_locked(As<k::spinlock_t>(l), L(loc)) ? 1 : 0;
}

void kmc_c_rwlock_init(rwlock_t* l, const char* name, kmc_loc_t loc) {
  k::rwlock_init_named(As<k::rwlock_t>(l), name, L(loc));
}
void kmc_c_rwlock_lock(rwlock_t* l, int write, int how, kmc_loc_t loc) {
  auto* lock = As<k::rwlock_t>(l);
  if (write) {
    if (how == 1) k::write_lock_irq(lock, L(loc));
    else if (how == 2) k::write_lock_bh(lock, L(loc));
    else k::write_lock(lock, L(loc));
  } else {
    if (how == 1) k::read_lock_irq(lock, L(loc));
    else if (how == 2) k::read_lock_bh(lock, L(loc));
    else k::read_lock(lock, L(loc));
  }
}
void kmc_c_rwlock_unlock(rwlock_t* l, int write, int how, kmc_loc_t loc) {
  auto* lock = As<k::rwlock_t>(l);
  if (write) {
    if (how == 1) k::write_unlock_irq(lock, L(loc));
    else if (how == 2) k::write_unlock_bh(lock, L(loc));
    else k::write_unlock(lock, L(loc));
  } else {
    if (how == 1) k::read_unlock_irq(lock, L(loc));
    else if (how == 2) k::read_unlock_bh(lock, L(loc));
    else k::read_unlock(lock, L(loc));
  }
}
unsigned long kmc_c_rwlock_lock_irqsave(rwlock_t* l, int write, kmc_loc_t loc) {
  return write ? k::write_lock_irqsave_impl(As<k::rwlock_t>(l), L(loc))
               : k::read_lock_irqsave_impl(As<k::rwlock_t>(l), L(loc));
}
void kmc_c_rwlock_unlock_irqrestore(rwlock_t* l, int write, unsigned long flags, kmc_loc_t loc) {
  if (write) k::write_unlock_irqrestore(As<k::rwlock_t>(l), flags, L(loc));
  else k::read_unlock_irqrestore(As<k::rwlock_t>(l), flags, L(loc));
}

void kmc_c_init_rwsem(rw_semaphore* s, const char* name, kmc_loc_t loc) {
  k::init_rwsem_named(As<k::rw_semaphore>(s), name, L(loc));
}
void kmc_c_down_read(rw_semaphore* s, kmc_loc_t loc) {
  k::down_read(As<k::rw_semaphore>(s), L(loc));
}
int kmc_c_down_read_trylock(rw_semaphore* s, kmc_loc_t loc) {
  return k::down_read_trylock(As<k::rw_semaphore>(s), L(loc));
}
void kmc_c_up_read(rw_semaphore* s, kmc_loc_t loc) { k::up_read(As<k::rw_semaphore>(s), L(loc)); }
void kmc_c_down_write(rw_semaphore* s, kmc_loc_t loc) {
  k::down_write(As<k::rw_semaphore>(s), L(loc));
}
int kmc_c_down_write_trylock(rw_semaphore* s, kmc_loc_t loc) {
  return k::down_write_trylock(As<k::rw_semaphore>(s), L(loc));
}
void kmc_c_up_write(rw_semaphore* s, kmc_loc_t loc) {
  k::up_write(As<k::rw_semaphore>(s), L(loc));
}
void kmc_c_downgrade_write(rw_semaphore* s, kmc_loc_t loc) {
  k::downgrade_write(As<k::rw_semaphore>(s), L(loc));
}

// ---- completions -------------------------------------------------------------

void kmc_c_init_completion(completion* c, const char* name, kmc_loc_t loc) {
  k::init_completion_named(As<k::completion>(c), name, L(loc));
}
void kmc_c_reinit_completion(completion* c, kmc_loc_t loc) {
  k::reinit_completion(As<k::completion>(c), L(loc));
}
void kmc_c_wait_for_completion(completion* c, kmc_loc_t loc) {
  k::wait_for_completion(As<k::completion>(c), L(loc));
}
int kmc_c_wait_for_completion_interruptible(completion* c, kmc_loc_t loc) {
  return k::wait_for_completion_interruptible(As<k::completion>(c), L(loc));
}
unsigned long kmc_c_wait_for_completion_timeout(completion* c, unsigned long t, kmc_loc_t loc) {
  return k::wait_for_completion_timeout(As<k::completion>(c), t, L(loc));
}
int kmc_c_try_wait_for_completion(completion* c, kmc_loc_t loc) {
  return k::try_wait_for_completion(As<k::completion>(c), L(loc)) ? 1 : 0;
}
int kmc_c_completion_done(completion* c, kmc_loc_t loc) {
  return k::completion_done(As<k::completion>(c), L(loc)) ? 1 : 0;
}
void kmc_c_complete(completion* c, kmc_loc_t loc) { k::complete(As<k::completion>(c), L(loc)); }
void kmc_c_complete_all(completion* c, kmc_loc_t loc) {
  k::complete_all(As<k::completion>(c), L(loc));
}

// ---- wait queues and the current task ---------------------------------------

void kmc_c_init_waitqueue_head(wait_queue_head_t* q, const char* name, kmc_loc_t loc) {
  k::init_waitqueue_head_named(As<k::wait_queue_head_t>(q), name, L(loc));
}
void kmc_c_wake_up(wait_queue_head_t* q, int which, int nr, kmc_loc_t loc) {
  auto* wq = As<k::wait_queue_head_t>(q);
  switch (which) {
    case 0: nr > 0 ? k::wake_up_nr(wq, nr, L(loc)) : k::wake_up(wq, L(loc)); break;
    case 1: k::wake_up_all(wq, L(loc)); break;
    case 2:
      nr > 0 ? k::wake_up_interruptible_nr(wq, nr, L(loc)) : k::wake_up_interruptible(wq, L(loc));
      break;
    case 3: k::wake_up_interruptible_all(wq, L(loc)); break;
    default: k::wake_up_interruptible_sync(wq, L(loc)); break;
  }
}
void kmc_c_prepare_to_wait(wait_queue_head_t* q, wait_queue_entry* w, int state, bool exclusive,
                           kmc_loc_t loc) {
  if (exclusive) {
    k::prepare_to_wait_exclusive(As<k::wait_queue_head_t>(q), As<k::wait_queue_entry>(w), state,
                                 L(loc));
  } else {
    k::prepare_to_wait(As<k::wait_queue_head_t>(q), As<k::wait_queue_entry>(w), state, L(loc));
  }
}
void kmc_c_finish_wait(wait_queue_head_t* q, wait_queue_entry* w, kmc_loc_t loc) {
  k::finish_wait(As<k::wait_queue_head_t>(q), As<k::wait_queue_entry>(w), L(loc));
}
int kmc_c_waitqueue_active(wait_queue_head_t* q, kmc_loc_t loc) {
  return k::waitqueue_active(As<k::wait_queue_head_t>(q), L(loc)) ? 1 : 0;
}
void kmc_c_set_current_state(int state, bool barrier, kmc_loc_t loc) {
  if (barrier) k::set_current_state(state, L(loc));
  else k::__set_current_state(state, L(loc));
}
void kmc_c_schedule(kmc_loc_t loc) { k::schedule(L(loc)); }
long kmc_c_schedule_timeout(long timeout, kmc_loc_t loc) {
  return k::schedule_timeout(timeout, L(loc));
}

void kmc_c_wait_event_begin(kmc_wait_event* w, wait_queue_head_t* q, const char* fn,
                            const char* cond, unsigned flags, long timeout, kmc_loc_t loc) {
  *w = kmc_wait_event{q, wait_queue_entry{0, -1}, fn, cond, flags, 0, timeout, 0, loc};
  k::detail::WaitStep s{As<k::wait_queue_head_t>(q), As<k::wait_queue_entry>(&w->entry), fn,
                        cond, flags, timeout, L(loc)};
  k::detail::WaitEventBegin(s);
  w->phase = s.phase;
  w->result = s.result;
}
int kmc_c_wait_event_next(kmc_wait_event* w, int cond) {
  k::detail::WaitStep s{As<k::wait_queue_head_t>(w->wq), As<k::wait_queue_entry>(&w->entry),
                        w->fn, w->cond, w->flags, w->timeout, L(w->loc)};
  s.phase = w->phase;
  s.result = w->result;
  const bool again = k::detail::WaitEventNext(s, cond != 0);
  w->phase = s.phase;
  w->result = s.result;
  return again ? 1 : 0;
}
void kmc_c_marked_enter(void) { Runtime::Get().SuppressRaces(1); }
void kmc_c_marked_exit(void) { Runtime::Get().SuppressRaces(-1); }
void kmc_c_poll_wait(file* f, wait_queue_head_t* q, poll_table_struct* p, kmc_loc_t loc) {
  k::poll_wait(reinterpret_cast<k::file*>(f), As<k::wait_queue_head_t>(q),
               reinterpret_cast<k::poll_table*>(p), L(loc));
}
int kmc_c_signal_pending(void) { return k::signal_pending_current() ? 1 : 0; }
void kmc_c_might_sleep(kmc_loc_t loc) { k::might_sleep(L(loc)); }
int kmc_c_in_atomic(void) { return k::in_atomic() ? 1 : 0; }
int kmc_c_in_interrupt(void) { return k::in_interrupt() ? 1 : 0; }
int kmc_c_irqs_disabled(void) { return k::irqs_disabled() ? 1 : 0; }
int kmc_c_current_pid(void) { return k::current_pid(); }
const char* kmc_c_current_comm(void) { return k::current_comm(); }
unsigned kmc_c_current_uid(void) { return k::current_uid().val; }
unsigned kmc_c_current_euid(void) { return k::current_euid().val; }
int kmc_c_capable(int cap) { return k::capable(cap) ? 1 : 0; }
int kmc_c_smp_processor_id(void) { return Runtime::Get().Current().cpu; }

// The C `struct task_struct` of <linux/sched.h>.
struct CTty {  // struct tty_struct of <linux/tty.h>
  unsigned devnum;
};
struct CSignal {  // struct signal_struct
  CTty* tty;
};
struct CTask {
  int pid;
  int tgid;
  char comm[16];
  CSignal* signal;
};
void* kmc_c_current(void) {
  static CTask tasks[65];
  static CSignal signals[65];
  static CTty ttys[65];
  const int slot0 = internal::CurrentThread() + 1;
  const int slot = slot0 >= 0 && slot0 < 65 ? slot0 : 0;
  CTask& t = tasks[slot];
  t.pid = t.tgid = k::current_pid();
  std::snprintf(t.comm, sizeof t.comm, "%s", k::current_comm());
  const unsigned tty = internal::InSimulation() ? internal::Runtime::Get().Current().tty : 0;
  ttys[slot].devnum = tty;
  signals[slot].tty = tty != 0 ? &ttys[slot] : nullptr;
  t.signal = &signals[slot];
  return &t;
}

// ---- atomics, barriers, marked accesses --------------------------------------

int kmc_c_atomic_read(const atomic_t* v, kmc_loc_t loc) {
  return k::atomic_read(reinterpret_cast<const k::atomic_t*>(v), L(loc));
}
void kmc_c_atomic_set(atomic_t* v, int i, kmc_loc_t loc) {
  k::atomic_set(As<k::atomic_t>(v), i, L(loc));
}
int kmc_c_atomic_op(atomic_t* av, int op, int a, int b, kmc_loc_t loc) {
  auto* v = As<k::atomic_t>(av);
  switch (op) {
    case 0: k::atomic_add(a, v, L(loc)); return 0;
    case 1: return k::atomic_add_return(a, v, L(loc));
    case 2: return k::atomic_sub_and_test(-a, v, L(loc)) ? 1 : 0;
    case 3: return k::atomic_add_negative(a, v, L(loc)) ? 1 : 0;
    case 4: return k::atomic_cmpxchg(v, a, b, L(loc));
    case 5: return k::atomic_xchg(v, a, L(loc));
    case 6: return k::atomic_add_unless(v, a, b, L(loc)) ? 1 : 0;
    default: return k::atomic_dec_if_positive(v, L(loc));
  }
}
void kmc_c_barrier(int kind, kmc_loc_t loc) {
  switch (kind) {
    case 0: k::smp_mb(L(loc)); break;
    case 1: k::smp_wmb(L(loc)); break;
    case 2: k::smp_rmb(L(loc)); break;
    case 3: k::smp_mb__before_atomic(L(loc)); break;
    default: k::smp_mb__after_atomic(L(loc)); break;
  }
}
void kmc_c_marked_load(const volatile void* p, void* out, size_t size, int order, const char* op,
                       kmc_loc_t loc) {
  Runtime::Get().MarkedAccess(const_cast<volatile void*>(p), out, size, false, order, op, L(loc));
}
void kmc_c_marked_store(volatile void* p, const void* in, size_t size, int order, const char* op,
                        kmc_loc_t loc) {
  Runtime::Get().MarkedAccess(p, const_cast<void*>(in), size, true, order, op, L(loc));
}
void kmc_c_data_race(int begin) { Runtime::Get().SuppressRaces(begin ? 1 : -1); }

// ---- interrupts and deferred work ---------------------------------------------

unsigned long kmc_c_local_irq_save(kmc_loc_t loc) { return k::local_irq_save_impl(L(loc)); }
void kmc_c_local_irq_restore(unsigned long flags, kmc_loc_t loc) {
  k::local_irq_restore(flags, L(loc));
}
void kmc_c_local_irq_op(int op, kmc_loc_t loc) {
  switch (op) {
    case 0: k::local_irq_disable(L(loc)); break;
    case 1: k::local_irq_enable(L(loc)); break;
    case 2: k::local_bh_disable(L(loc)); break;
    default: k::local_bh_enable(L(loc)); break;
  }
}
int kmc_c_in_irq(void) { return k::in_irq() ? 1 : 0; }
int kmc_c_in_softirq(void) { return k::in_softirq() ? 1 : 0; }
void kmc_c_tasklet_init(tasklet_struct* t, const char* name) { t->__name = name; }
void kmc_c_tasklet_schedule(tasklet_struct* t, bool hi, kmc_loc_t loc) {
  if (hi) k::tasklet_hi_schedule(As<k::tasklet_struct>(t), L(loc));
  else k::tasklet_schedule(As<k::tasklet_struct>(t), L(loc));
}
void kmc_c_tasklet_kill(tasklet_struct* t, kmc_loc_t loc) {
  k::tasklet_kill(As<k::tasklet_struct>(t), L(loc));
}
void kmc_c_init_work(work_struct* w, void (*fn)(work_struct*), const char* name) {
  k::init_work_named(As<k::work_struct>(w), reinterpret_cast<void (*)(k::work_struct*)>(fn),
                     name);
}
int kmc_c_schedule_work(work_struct* w, kmc_loc_t loc) {
  return k::schedule_work(As<k::work_struct>(w), L(loc)) ? 1 : 0;
}
int kmc_c_flush_work(work_struct* w, kmc_loc_t loc) {
  return k::flush_work(As<k::work_struct>(w), L(loc)) ? 1 : 0;
}
int kmc_c_cancel_work_sync(work_struct* w, kmc_loc_t loc) {
  return k::cancel_work_sync(As<k::work_struct>(w), L(loc)) ? 1 : 0;
}
void kmc_c_timer_setup(timer_list* t, void (*fn)(timer_list*), unsigned flags, const char* name) {
  k::timer_setup_named(As<k::timer_list>(t), reinterpret_cast<void (*)(k::timer_list*)>(fn),
                       flags, name);
}
int kmc_c_mod_timer(timer_list* t, unsigned long expires, kmc_loc_t loc) {
  return k::mod_timer(As<k::timer_list>(t), expires, L(loc));
}
int kmc_c_del_timer(timer_list* t, bool sync, kmc_loc_t loc) {
  return sync ? k::del_timer_sync(As<k::timer_list>(t), L(loc))
              : k::del_timer(As<k::timer_list>(t), L(loc));
}
int kmc_c_timer_pending(const timer_list* t) {
  return k::timer_pending(reinterpret_cast<const k::timer_list*>(t)) ? 1 : 0;
}

// ---- sequence counters and seqlocks ---------------------------------------------

void kmc_c_seqcount_init(seqcount_t* s, const char* name, kmc_loc_t loc) {
  k::seqcount_init_named(As<k::seqcount_t>(s), name, L(loc));
}
unsigned kmc_c_read_seqcount_begin(const seqcount_t* s, int barrier, kmc_loc_t loc) {
  const auto* sc = reinterpret_cast<const k::seqcount_t*>(s);
  return barrier ? k::read_seqcount_begin(sc, L(loc)) : k::__read_seqcount_begin(sc, L(loc));
}
int kmc_c_read_seqcount_retry(const seqcount_t* s, unsigned start, int barrier, kmc_loc_t loc) {
  const auto* sc = reinterpret_cast<const k::seqcount_t*>(s);
  return barrier ? k::read_seqcount_retry(sc, start, L(loc))
                 : k::__read_seqcount_retry(sc, start, L(loc));
}
void kmc_c_write_seqcount_begin(seqcount_t* s, kmc_loc_t loc) {
  k::write_seqcount_begin(As<k::seqcount_t>(s), L(loc));
}
void kmc_c_write_seqcount_end(seqcount_t* s, kmc_loc_t loc) {
  k::write_seqcount_end(As<k::seqcount_t>(s), L(loc));
}
void kmc_c_seqlock_init(seqlock_t* sl, const char* name, kmc_loc_t loc) {
  k::seqlock_init_named(As<k::seqlock_t>(sl), name, L(loc));
}
unsigned kmc_c_read_seqbegin(const seqlock_t* sl, kmc_loc_t loc) {
  return k::read_seqbegin(reinterpret_cast<const k::seqlock_t*>(sl), L(loc));
}
int kmc_c_read_seqretry(const seqlock_t* sl, unsigned start, kmc_loc_t loc) {
  return k::read_seqretry(reinterpret_cast<const k::seqlock_t*>(sl), start, L(loc));
}
void kmc_c_write_seqlock(seqlock_t* sl, int how, kmc_loc_t loc) {
  auto* l = As<k::seqlock_t>(sl);
  if (how == 1) k::write_seqlock_irq(l, L(loc));
  else if (how == 2) k::write_seqlock_bh(l, L(loc));
  else k::write_seqlock(l, L(loc));
}
void kmc_c_write_sequnlock(seqlock_t* sl, int how, kmc_loc_t loc) {
  auto* l = As<k::seqlock_t>(sl);
  if (how == 1) k::write_sequnlock_irq(l, L(loc));
  else if (how == 2) k::write_sequnlock_bh(l, L(loc));
  else k::write_sequnlock(l, L(loc));
}
unsigned long kmc_c_write_seqlock_irqsave(seqlock_t* sl, kmc_loc_t loc) {
  return k::write_seqlock_irqsave_impl(As<k::seqlock_t>(sl), L(loc));
}
void kmc_c_write_sequnlock_irqrestore(seqlock_t* sl, unsigned long flags, kmc_loc_t loc) {
  k::write_sequnlock_irqrestore(As<k::seqlock_t>(sl), flags, L(loc));
}
void kmc_c_read_seqlock_excl(seqlock_t* sl, int how, kmc_loc_t loc) {
  auto* l = As<k::seqlock_t>(sl);
  if (how == 1) k::read_seqlock_excl_irq(l, L(loc));
  else if (how == 2) k::read_seqlock_excl_bh(l, L(loc));
  else k::read_seqlock_excl(l, L(loc));
}
void kmc_c_read_sequnlock_excl(seqlock_t* sl, int how, kmc_loc_t loc) {
  auto* l = As<k::seqlock_t>(sl);
  if (how == 1) k::read_sequnlock_excl_irq(l, L(loc));
  else if (how == 2) k::read_sequnlock_excl_bh(l, L(loc));
  else k::read_sequnlock_excl(l, L(loc));
}

// ---- seq_file ------------------------------------------------------------------
// The seq_file is kmalloc'd (a missing release is a leak report); its text
// buffer is kmc's own memory (not checked: only the driver's show writes it,
// through seq_printf).

int kmc_c_seq_open(file* f, const seq_operations* op, kmc_loc_t loc) {
  auto* m = static_cast<seq_file*>(k::kzalloc(sizeof(seq_file), k::GFP_KERNEL, L(loc)).get());
  if (m == nullptr) return -ENOMEM;
  m->op = op;
  m->file = f;
  f->private_data = m;
  return 0;
}

int kmc_c_single_open(file* f, int (*show)(seq_file*, void*), void* data, kmc_loc_t loc) {
  const int r = kmc_c_seq_open(f, nullptr, loc);
  if (r != 0) return r;
  auto* m = static_cast<seq_file*>(f->private_data);
  m->__single_show = show;
  m->__single_op = seq_operations{SingleStart, SingleStop, SingleNext, show};
  m->op = &m->__single_op;
  m->private_ = data;
  return 0;
}

long kmc_c_seq_read(file* f, char* buf, size_t count, kmc_loff_t* ppos) {
  auto* m = static_cast<seq_file*>(f->private_data);
  if (*ppos == 0 || !m->__filled) {
    const long err = SeqFill(m);
    if (err != 0) return err;
  }
  if (*ppos < 0) return -EINVAL;
  if (static_cast<size_t>(*ppos) >= m->count || count == 0) return 0;
  const size_t n = std::min(count, m->count - static_cast<size_t>(*ppos));
  const size_t copied = n - k::copy_to_user(buf, m->buf + *ppos, n);
  if (copied == 0) return -EFAULT;
  *ppos += static_cast<kmc_loff_t>(copied);
  return static_cast<long>(copied);
}

kmc_loff_t kmc_c_seq_lseek(file* f, kmc_loff_t offset, int whence) {
  kmc_loff_t pos;
  if (whence == 0) pos = offset;
  else if (whence == 1) pos = f->f_pos + offset;
  else return -EINVAL;
  if (pos < 0) return -EINVAL;
  f->f_pos = pos;
  return pos;
}

int kmc_c_seq_release(inode* ino, file* f) {
  (void)ino;
  auto* m = static_cast<seq_file*>(f->private_data);
  std::free(m->buf);
  k::kfree(m);
  return 0;
}

int kmc_c_single_release(inode* ino, file* f) { return kmc_c_seq_release(ino, f); }

void kmc_c_seq_printf(seq_file* m, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  if (n > 0) {
    std::string text(static_cast<size_t>(n) + 1, '\0');
    std::vsnprintf(text.data(), text.size(), fmt, ap2);
    SeqAppend(m, text.data(), static_cast<size_t>(n));
  }
  va_end(ap2);
}

void kmc_c_seq_write(seq_file* m, const void* data, size_t len) {
  SeqAppend(m, static_cast<const char*>(data), len);
}

// ---- fasync (fs/fcntl.c) ------------------------------------------------------
//
// The list of files that asked for SIGIO, as fasync_helper() keeps it: one
// kmalloc'd entry per file (so an entry the driver never removes is a leak
// at module exit). The kernel guards the list with spinlocks and RCU; here
// each call is one indivisible step of the calling task (it has no
// scheduling point), so it needs neither. The head *fapp is driver memory;
// this code writes it as the kernel's rcu_assign_pointer() does, a marked
// store, so the driver's plain lockless test of the head is not a race.

int kmc_c_fasync_helper(int fd, file* filp, int on, fasync_struct** fapp, kmc_loc_t loc) {
  constexpr int kFasyncMagic = 0x4601;
  Runtime& rt = Runtime::Get();
  fasync_struct* fresh = nullptr;
  if (on) {  // allocated first, as fasync_add_entry() does (it may sleep or fail)
    fresh = static_cast<fasync_struct*>(
        k::kmalloc(sizeof(fasync_struct), k::GFP_KERNEL, L(loc)).get());
    if (fresh == nullptr) return -12;  // -ENOMEM
  }
  for (fasync_struct** fp = fapp; *fp != nullptr; fp = &(*fp)->fa_next) {
    fasync_struct* fa = *fp;
    if (fa->fa_file != filp) continue;
    if (on) {  // already on the list: only the descriptor changes
      fa->fa_fd = fd;
      k::kfree(fresh, L(loc));
      return 0;
    }
    *fp = fa->fa_next;
    if (filp != nullptr) filp->f_flags &= ~FASYNC_FLAG;
    rt.Note("fasync_helper: file removed", L(loc));
    k::kfree(fa, L(loc));
    return 1;
  }
  if (!on) return 0;
  fresh->magic = kFasyncMagic;
  fresh->fa_fd = fd;
  fresh->fa_file = filp;
  fresh->fa_next = *fapp;
  *fapp = fresh;
  if (filp != nullptr) filp->f_flags |= FASYNC_FLAG;
  rt.Note("fasync_helper: file added", L(loc));
  return 1;
}

void kmc_c_kill_fasync(fasync_struct** fp, int sig, int band, kmc_loc_t loc) {
  for (fasync_struct* fa = *fp; fa != nullptr; fa = fa->fa_next) {
    Runtime::Get().Note("kill_fasync: signal " + std::to_string(sig) + " (band " +
                            std::to_string(band) + ") to fd " + std::to_string(fa->fa_fd),
                        L(loc));
  }
}

// ---- RCU ---------------------------------------------------------------------

void kmc_c_rcu_read_lock(kmc_loc_t loc) { k::rcu_read_lock(L(loc)); }
void kmc_c_rcu_read_unlock(kmc_loc_t loc) { k::rcu_read_unlock(L(loc)); }
void kmc_c_synchronize_rcu(kmc_loc_t loc) { k::synchronize_rcu(L(loc)); }

}  // extern "C"
}  // namespace kmc::cabi
