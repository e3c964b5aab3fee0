// kmc: Shared<T>, a plain shared variable checked for data races.
//
// Driver state that the kernel protects with a lock (dev->size, dev->data,
// list links) is declared Shared<T>. Every load and store is checked:
//   * against the happens-before order built by locks, atomics and barriers,
//     so an unprotected access from two tasks is a data race;
//   * against the heap, so an access to a field of a kfree'd object is a use
//     after free.
// Accesses are not scheduling points (as in Relacy and ThreadSanitizer: a
// race is found from the order of the surrounding synchronization, whichever
// interleaving runs), except with fine-grained interleaving
// (Model::FineGrained, kmc check --fine_grained), where each one is.
//
// Shared<T> is trivially default-constructible and trivially destructible, so
// structs holding it can live in kmalloc'd memory like C structs.
//
// Source lines: a store records the line that wrote it; a load through the
// implicit conversion cannot (C++ has no call site for conversions), and is
// reported with the task's last known line. Use .get() for exact read sites.

#ifndef KMC_SYNC_SHARED_H_
#define KMC_SYNC_SHARED_H_

#include <concepts>
#include <cstdint>
#include <type_traits>
#include <cstddef>
#include <source_location>

#include "sync/internal/handle.h"

namespace kmc::kernel {

namespace detail {
void SharedAccess(const void* addr, size_t size, internal::Handle& h, bool write,
                  const std::source_location* loc);
// The driver line that called an operator which cannot take a
// std::source_location argument (an implicit read, ++, --): the source line
// of `return_address` - 1 from the binary's debug information. line() is 0
// without it (the report then uses the task's last kernel call).
std::source_location CallerLine(const void* return_address);
// Marked accesses (READ_ONCE & co). order: 0 relaxed, 1 acquire, 2 release.
int64_t OnceLoad(const void* addr, internal::Handle& h, int64_t current, int order,
                 const char* op, const std::source_location& loc);
int64_t OnceStore(const void* addr, internal::Handle& h, int64_t current, int64_t value, int order,
               const char* op, const std::source_location& loc);
// An explored choice in [0, n) for tools built on the kernel API (kmc
// litmus); 0 outside a task.
unsigned ExploreChoice(unsigned n);
// Keeps a marked location's atomic view in step with a plain store.
void SyncPlainStore(internal::Handle& h, int64_t value);
// A pointer field now points at `value`: an object first stored in a field
// is named after it in reports (`qset->data[3]`).
void NotePointerStore(const void* field, const void* value);
// xchg()/cmpxchg() on a marked location. order: 0 fully ordered, 1 relaxed,
// 2 acquire, 3 release. For cmpxchg (has_expected) the store happens only
// when the value read equals `expected`. Returns the value read; *stored
// says whether `value` was stored.
int64_t OnceRmw(const void* addr, internal::Handle& h, int64_t current, bool has_expected,
                int64_t expected, int64_t value, int order, const char* op,
                const std::source_location& loc, bool* stored);
// One round of the spin of smp_cond_load_*(): when the newest store already
// satisfies the condition the task only yields (its next load reads nothing
// older than what it has seen); otherwise it sleeps until the next marked
// store to the location.
void SpinOnce(const void* addr, internal::Handle& h, bool newest_satisfies, const char* op,
              const std::source_location& loc);
// Names a marked location in trace lines for the current execution
// ("READ_ONCE(x)"); kmc litmus names its shared variables.
void NameSharedLocation(const void* addr, const char* name);
// smp_acquire__after_ctrl_dep(): an acquire fence, no scheduling step.
void AcquireAfterCtrlDep(const std::source_location& loc);
// data_race(): race checks are off between Begin and End (lifetime checks
// stay on).
void DataRaceBegin();
void DataRaceEnd();

template <class T>
int64_t ToBits(T v) {
  if constexpr (std::is_pointer_v<T>) {
    return static_cast<int64_t>(reinterpret_cast<uintptr_t>(v));
  } else {
    return static_cast<int64_t>(v);
  }
}
template <class T>
T FromBits(int64_t b) {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<T>(static_cast<uintptr_t>(b));
  } else {
    return static_cast<T>(b);
  }
}
}  // namespace detail

// A value together with the source line that produced it (for stores).
template <class T>
struct Sourced {
  template <class U>
    requires std::convertible_to<U, T>
  Sourced(U&& v, std::source_location l = std::source_location::current())  // NOLINT
      : value(static_cast<T>(static_cast<U&&>(v))), loc(l) {}
  T value;
  std::source_location loc;
};

template <class T>
class Shared {
 public:
  constexpr Shared() = default;
  explicit constexpr Shared(T v) : value_(v), h_{} {}

  T get(std::source_location loc = std::source_location::current()) const {
    detail::SharedAccess(this, sizeof(T), h_, false, &loc);
    return value_;
  }
  void set(T v, std::source_location loc = std::source_location::current()) {
    detail::SharedAccess(this, sizeof(T), h_, true, &loc);
    value_ = v;
    if constexpr (kMarkable) detail::SyncPlainStore(h_, detail::ToBits(v));
    if constexpr (kObjectPointer) detail::NotePointerStore(this, v);
  }

  // Marked accesses: one scheduling step each, modelled as C++ atomics
  // (docs/KERNEL_SEMANTICS.md §7.1): READ_ONCE/WRITE_ONCE relaxed,
  // smp_load_acquire acquire, smp_store_release release.
  T load_marked(int order, const char* op, std::source_location loc) const
    requires(sizeof(T) <= 8) {
    return detail::FromBits<T>(
        detail::OnceLoad(this, h_, detail::ToBits(value_), order, op, loc));
  }
  void store_marked(T v, int order, const char* op, std::source_location loc)
    requires(sizeof(T) <= 8) {
    // The store need not become the newest in the location's modification
    // order (docs/KERNEL_SEMANTICS.md §7.2): memory holds the newest one.
    value_ = detail::FromBits<T>(
        detail::OnceStore(this, h_, detail::ToBits(value_), detail::ToBits(v), order, op, loc));
    if constexpr (kObjectPointer) detail::NotePointerStore(this, v);
  }

  T rmw_marked(bool has_expected, T expected, T v, int order, const char* op,
               std::source_location loc) requires(sizeof(T) <= 8) {
    bool stored = false;
    const T old = detail::FromBits<T>(detail::OnceRmw(this, h_, detail::ToBits(value_),
                                                      has_expected, detail::ToBits(expected),
                                                      detail::ToBits(v), order, op, loc, &stored));
    if (stored) value_ = v;
    return old;
  }
  // smp_cond_load_*(): spins until cond(VAL) holds for the value read.
  template <class C>
  T cond_load_marked(C cond, bool acquire, const char* op, std::source_location loc)
    requires(sizeof(T) <= 8) {
    for (;;) {
      const T v = load_marked(0, op, loc);
      if (cond(v)) {
        // smp_acquire__after_ctrl_dep(): the control dependency plus smp_rmb().
        if (acquire) detail::AcquireAfterCtrlDep(loc);
        return v;
      }
      detail::SpinOnce(this, h_, cond(value_), op, loc);
    }
  }

  // The operators below cannot take a std::source_location: they are never
  // inlined, and name the driver line that called them from their return
  // address (detail::CallerLine), so a report points at the driver, not at
  // this header.
  [[gnu::noinline]] operator T() const {  // NOLINT: reads like a plain C field
    return read_at(__builtin_return_address(0));
  }
  Shared& operator=(Sourced<T> v) {
    set(v.value, v.loc);
    return *this;
  }
  [[gnu::noinline]] Shared& operator=(const Shared& o) {
    const std::source_location loc = detail::CallerLine(__builtin_return_address(0));
    set(o.read_at(__builtin_return_address(0)), loc);
    return *this;
  }
  Shared& operator+=(Sourced<T> v) { set(get(v.loc) + v.value, v.loc); return *this; }
  Shared& operator-=(Sourced<T> v) { set(get(v.loc) - v.value, v.loc); return *this; }
  Shared& operator|=(Sourced<T> v) { set(get(v.loc) | v.value, v.loc); return *this; }
  Shared& operator&=(Sourced<T> v) { set(get(v.loc) & v.value, v.loc); return *this; }
  [[gnu::noinline]] T operator++() { return add_at(1, __builtin_return_address(0)) + 1; }
  [[gnu::noinline]] T operator--() { return add_at(-1, __builtin_return_address(0)) - 1; }
  [[gnu::noinline]] T operator++(int) { return add_at(1, __builtin_return_address(0)); }
  [[gnu::noinline]] T operator--(int) { return add_at(-1, __builtin_return_address(0)); }

  // For pointer fields: dev->data->next reads dev->data.
  [[gnu::noinline]] T operator->() const requires std::is_pointer_v<T> {
    return read_at(__builtin_return_address(0));
  }
  [[gnu::noinline]] auto& operator[](size_t i) const requires std::is_pointer_v<T> {
    return read_at(__builtin_return_address(0))[i];
  }

  // Unchecked access for the engine and for single-threaded setup code.
  T raw() const { return value_; }

 private:
  // A checked read for the caller at `return_address`.
  T read_at(const void* return_address) const {
    const std::source_location loc = detail::CallerLine(return_address);
    detail::SharedAccess(this, sizeof(T), h_, false, loc.line() != 0 ? &loc : nullptr);
    return value_;
  }
  // ++/--: read, then write `old + delta`, both at the caller's line; returns
  // the value read.
  T add_at(int delta, const void* return_address) {
    const std::source_location loc = detail::CallerLine(return_address);
    const T v = loc.line() != 0 ? get(loc) : read_at(return_address);
    if (loc.line() != 0) {
      set(v + delta, loc);
    } else {
      set(v + delta);
    }
    return v;
  }
  static constexpr bool kObjectPointer =
      std::is_pointer_v<T> && std::is_object_v<std::remove_pointer_t<T>>;
  static constexpr bool kMarkable =
      (std::is_integral_v<T> || std::is_pointer_v<T> || std::is_enum_v<T>) && sizeof(T) <= 8;
  T value_{};
  mutable internal::Handle h_{};
};

namespace detail {
template <class T>
struct IsShared : std::false_type {};
template <class T>
struct IsShared<Shared<T>> : std::true_type {};

// data_race(expr): the value of expr, its accesses exempt from race checks.
template <class F>
auto DataRace(F f, std::source_location loc) {
  struct Scope {
    Scope() { DataRaceBegin(); }
    ~Scope() { DataRaceEnd(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
  } scope;
  using R = std::remove_cvref_t<decltype(f())>;
  if constexpr (IsShared<R>::value) {
    return f().get(loc);  // a Shared<T> field: read it inside the scope
  } else {
    return static_cast<R>(f());
  }
}

template <class T>
T ReadOnce(const Shared<T>& x, int order, const char* op, std::source_location loc) {
  return x.load_marked(order, op, loc);
}
template <class T>
T ReadOnce(const T& x, int, const char*, std::source_location) {
  return x;
}
template <class T, class V>
void WriteOnce(Shared<T>& x, V v, int order, const char* op, std::source_location loc) {
  x.store_marked(static_cast<T>(v), order, op, loc);
}
template <class T, class V>
void WriteOnce(T& x, V v, int, const char*, std::source_location) {
  x = static_cast<T>(v);
}
}  // namespace detail

// READ_ONCE()/WRITE_ONCE() on a Shared<T> field are marked (atomic,
// relaxed) accesses; on anything else they are plain accesses.
#define READ_ONCE(x) ::kmc::kernel::detail::ReadOnce((x), 0, "READ_ONCE", std::source_location::current())
#define WRITE_ONCE(x, v) \
  ::kmc::kernel::detail::WriteOnce((x), (v), 0, "WRITE_ONCE", std::source_location::current())
// data_race(expr), as in the kernel: an access that races on purpose (a
// statistic, a racy first check redone under the lock). Its plain accesses
// are not race-checked (KCSAN does not report them); use after free still
// is. Evaluates to the value of expr (a Shared<T> field is read).
#define data_race(expr) \
  ::kmc::kernel::detail::DataRace([&]() -> decltype(auto) { return (expr); }, \
                                  std::source_location::current())
#define smp_load_acquire(p) \
  ::kmc::kernel::detail::ReadOnce(*(p), 1, "smp_load_acquire", std::source_location::current())
#define smp_store_release(p, v) \
  ::kmc::kernel::detail::WriteOnce(*(p), (v), 2, "smp_store_release", std::source_location::current())

// xchg()/cmpxchg() on a Shared<T> (Documentation/atomic_t.txt): fully
// ordered, or _relaxed/_acquire/_release; a failed cmpxchg is an unordered
// load.
template <class T, class V>
T xchg(Shared<T>* p, V v, std::source_location loc = std::source_location::current()) {
  return p->rmw_marked(false, T{}, static_cast<T>(v), 0, "xchg", loc);
}
template <class T, class V>
T xchg_relaxed(Shared<T>* p, V v, std::source_location loc = std::source_location::current()) {
  return p->rmw_marked(false, T{}, static_cast<T>(v), 1, "xchg_relaxed", loc);
}
template <class T, class V>
T xchg_acquire(Shared<T>* p, V v, std::source_location loc = std::source_location::current()) {
  return p->rmw_marked(false, T{}, static_cast<T>(v), 2, "xchg_acquire", loc);
}
template <class T, class V>
T xchg_release(Shared<T>* p, V v, std::source_location loc = std::source_location::current()) {
  return p->rmw_marked(false, T{}, static_cast<T>(v), 3, "xchg_release", loc);
}
template <class T, class O, class V>
T cmpxchg(Shared<T>* p, O o, V v, std::source_location loc = std::source_location::current()) {
  return p->rmw_marked(true, static_cast<T>(o), static_cast<T>(v), 0, "cmpxchg", loc);
}
template <class T, class O, class V>
T cmpxchg_relaxed(Shared<T>* p, O o, V v,
                  std::source_location loc = std::source_location::current()) {
  return p->rmw_marked(true, static_cast<T>(o), static_cast<T>(v), 1, "cmpxchg_relaxed", loc);
}
template <class T, class O, class V>
T cmpxchg_acquire(Shared<T>* p, O o, V v,
                  std::source_location loc = std::source_location::current()) {
  return p->rmw_marked(true, static_cast<T>(o), static_cast<T>(v), 2, "cmpxchg_acquire", loc);
}
template <class T, class O, class V>
T cmpxchg_release(Shared<T>* p, O o, V v,
                  std::source_location loc = std::source_location::current()) {
  return p->rmw_marked(true, static_cast<T>(o), static_cast<T>(v), 3, "cmpxchg_release", loc);
}

// smp_cond_load_relaxed(ptr, cond_expr) / smp_cond_load_acquire(): spin on
// READ_ONCE(*ptr) until cond_expr (which names the value VAL) holds; the
// acquire form then orders the load before everything after it. A spin no
// store can end is reported like a sleep nobody wakes.
#define smp_cond_load_relaxed(ptr, cond_expr)                                        \
  (ptr)->cond_load_marked([&](auto VAL) { return static_cast<bool>(cond_expr); }, \
                          false, "smp_cond_load_relaxed", std::source_location::current())
#define smp_cond_load_acquire(ptr, cond_expr)                                        \
  (ptr)->cond_load_marked([&](auto VAL) { return static_cast<bool>(cond_expr); }, \
                          true, "smp_cond_load_acquire", std::source_location::current())

}  // namespace kmc::kernel

#endif  // KMC_SYNC_SHARED_H_
