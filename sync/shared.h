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
// interleaving runs).
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
#include <cstddef>
#include <source_location>

#include "sync/internal/handle.h"

namespace kmc::kernel {

namespace detail {
void SharedAccess(const void* addr, size_t size, internal::Handle& h, bool write,
                  const std::source_location* loc);
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
  }

  operator T() const {  // NOLINT: reads like a plain C field
    detail::SharedAccess(this, sizeof(T), h_, false, nullptr);
    return value_;
  }
  Shared& operator=(Sourced<T> v) {
    set(v.value, v.loc);
    return *this;
  }
  Shared& operator=(const Shared& o) {
    set(static_cast<T>(o));
    return *this;
  }
  Shared& operator+=(Sourced<T> v) { set(get(v.loc) + v.value, v.loc); return *this; }
  Shared& operator-=(Sourced<T> v) { set(get(v.loc) - v.value, v.loc); return *this; }
  Shared& operator|=(Sourced<T> v) { set(get(v.loc) | v.value, v.loc); return *this; }
  Shared& operator&=(Sourced<T> v) { set(get(v.loc) & v.value, v.loc); return *this; }
  T operator++() { T v = static_cast<T>(*this); set(v + 1); return v + 1; }
  T operator--() { T v = static_cast<T>(*this); set(v - 1); return v - 1; }
  T operator++(int) { T v = static_cast<T>(*this); set(v + 1); return v; }
  T operator--(int) { T v = static_cast<T>(*this); set(v - 1); return v; }

  // For pointer fields: dev->data->next reads dev->data.
  T operator->() const requires std::is_pointer_v<T> { return static_cast<T>(*this); }
  auto& operator[](size_t i) const requires std::is_pointer_v<T> {
    return static_cast<T>(*this)[i];
  }

  // Unchecked access for the engine and for single-threaded setup code.
  T raw() const { return value_; }

 private:
  T value_{};
  mutable internal::Handle h_{};
};

}  // namespace kmc::kernel

#endif  // KMC_SYNC_SHARED_H_
