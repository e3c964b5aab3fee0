// kmc: user-space memory (include/linux/uaccess.h).
//
// copy_to_user()/copy_from_user() return the number of bytes NOT copied.
// With kUserFault enabled in the model, every copy may copy everything, a
// part, or nothing (a bad address), and the engine explores all three.
// get_user()/put_user() return 0 or -EFAULT. A NULL user pointer always
// faults. The kernel side of every copy is checked like any kernel access
// (use after free, bounds, data races).
//
// Context: may sleep (page faults): might_sleep() is checked, so a user copy
// under a spinlock is "BUG: sleeping function called from invalid context".
// User copies are not scheduling points (with fine-grained interleaving,
// Model::FineGrained, each one is).
//
// UserBuffer is a model's user-space buffer (what a process passes to
// read()/write()).

#ifndef KMC_SYNC_UACCESS_H_
#define KMC_SYNC_UACCESS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "sync/types.h"

namespace kmc::kernel {

unsigned long copy_to_user(void __user* to, const void* from, unsigned long n,
                           const Loc& loc = Loc::current());
unsigned long copy_from_user(void* to, const void __user* from, unsigned long n,
                             const Loc& loc = Loc::current());

namespace detail {
// Returns true when the access of `size` bytes must fault.
bool UserAccessFaults(const void* user_ptr, size_t size, const char* op, const Loc& loc);
}  // namespace detail

template <class T, class P>
int get_user_impl(T& x, const P __user* ptr, const Loc& loc) {
  if (detail::UserAccessFaults(ptr, sizeof(P), "get_user", loc)) {
    x = T{};  // the kernel zeroes the destination on a fault
    return -EFAULT;
  }
  x = static_cast<T>(*ptr);
  return 0;
}
template <class T, class P>
int put_user_impl(T x, P __user* ptr, const Loc& loc) {
  if (detail::UserAccessFaults(ptr, sizeof(P), "put_user", loc)) return -EFAULT;
  *ptr = static_cast<P>(x);
  return 0;
}
#define get_user(x, ptr) ::kmc::kernel::get_user_impl((x), (ptr), std::source_location::current())
#define put_user(x, ptr) ::kmc::kernel::put_user_impl((x), (ptr), std::source_location::current())
#define __get_user(x, ptr) get_user(x, ptr)
#define __put_user(x, ptr) put_user(x, ptr)

// access_ok(): every non-NULL user address range is accessible in the model
// (faults are explored by the copies themselves, with kUserFault).
inline bool access_ok(const void __user* addr, unsigned long size) {
  (void)size;
  return addr != nullptr;
}

}  // namespace kmc::kernel

namespace kmc {

// A process's buffer in user space.
class UserBuffer {
 public:
  explicit UserBuffer(size_t size, char fill = 0) : bytes_(size, fill) {}
  explicit UserBuffer(const std::string& s) : bytes_(s.begin(), s.end()) {}
  char __user* ptr() { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  std::string str(size_t n) const { return std::string(bytes_.data(), std::min(n, bytes_.size())); }
  char& operator[](size_t i) { return bytes_[i]; }

 private:
  std::vector<char> bytes_;
};

}  // namespace kmc

#endif  // KMC_SYNC_UACCESS_H_
