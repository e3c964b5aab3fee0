// kmc's public headers must not leak Relacy's macros. Relacy #defines $,
// new, delete, malloc, calloc, realloc, free, assert, errno and
// memory_order_*; if any of them reached a driver, model or test through
// sync/kernel.h, sync/model.h or sync/runner.h, the standard headers and
// GoogleTest included after them (and ordinary C++ below) would break.
//
// That is why the kmc headers come FIRST here, before the standard library.

#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/runner.h"

// None of Relacy's macros is visible at this point.
#ifdef $
#error "Relacy's $ macro leaked into kmc's public headers"
#endif
#ifdef new
#error "Relacy's new macro leaked into kmc's public headers"
#endif
#ifdef delete
#error "Relacy's delete macro leaked into kmc's public headers"
#endif
#ifdef malloc
#error "Relacy's malloc macro leaked into kmc's public headers"
#endif
#ifdef calloc
#error "Relacy's calloc macro leaked into kmc's public headers"
#endif
#ifdef realloc
#error "Relacy's realloc macro leaked into kmc's public headers"
#endif
#ifdef free
#error "Relacy's free macro leaked into kmc's public headers"
#endif
#ifdef memory_order_relaxed
#error "Relacy's memory_order_relaxed macro leaked into kmc's public headers"
#endif
#ifdef memory_order_acquire
#error "Relacy's memory_order_acquire macro leaked into kmc's public headers"
#endif
#ifdef memory_order_release
#error "Relacy's memory_order_release macro leaked into kmc's public headers"
#endif
#ifdef memory_order_acq_rel
#error "Relacy's memory_order_acq_rel macro leaked into kmc's public headers"
#endif
#ifdef memory_order_seq_cst
#error "Relacy's memory_order_seq_cst macro leaked into kmc's public headers"
#endif
#ifdef memory_order_consume
#error "Relacy's memory_order_consume macro leaked into kmc's public headers"
#endif
#if defined(VAR) || defined(VAR_T) || defined(TLS_T)
#error "Relacy's VAR/VAR_T/TLS_T macros leaked into kmc's public headers"
#endif
#if defined(RL_ASSERT) || defined(RL_VERIFY) || defined(RL_INFO) || defined(RL_HIST)
#error "Relacy's RL_* macros leaked into kmc's public headers"
#endif
#if defined(RL_GC) || defined(RL_MSVC_OUTPUT) || defined(RL_DEBUGBREAK_ON_ASSERT)
#error "Relacy's configuration macros leaked into kmc's public headers"
#endif

#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"

// errno is the C library's: an lvalue of type int.
static_assert(std::is_same_v<decltype(errno), int&>);

namespace {

struct Widget {
  int value = 7;
  explicit Widget(int v) : value(v) {}
  ~Widget() = default;
  Widget(const Widget&) = delete;             // "= delete" must still parse
  Widget& operator=(const Widget&) = delete;
};

TEST(HeaderHygieneTest, NewAndDeleteAreTheLanguagesOwn) {
  Widget* w = new Widget(3);
  EXPECT_EQ(w->value, 3);
  delete w;
  int* a = new int[4]{1, 2, 3, 4};
  EXPECT_EQ(a[3], 4);
  delete[] a;
  int* n = new (std::nothrow) int(5);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(*n, 5);
  delete n;
  alignas(Widget) unsigned char buf[sizeof(Widget)];
  Widget* placed = ::new (buf) Widget(9);
  EXPECT_EQ(placed->value, 9);
  placed->~Widget();
}

TEST(HeaderHygieneTest, MakeUniqueAndSharedWork) {
  auto u = std::make_unique<Widget>(11);
  EXPECT_EQ(u->value, 11);
  auto s = std::make_shared<std::string>("kmc");
  EXPECT_EQ(*s, "kmc");
  std::vector<std::unique_ptr<Widget>> v;
  for (int i = 0; i < 100; ++i) v.push_back(std::make_unique<Widget>(i));
  EXPECT_EQ(v.back()->value, 99);
}

TEST(HeaderHygieneTest, MallocAndFreeAreTheCLibrarys) {
  void* p = std::malloc(16);
  ASSERT_NE(p, nullptr);
  p = std::realloc(p, 32);
  ASSERT_NE(p, nullptr);
  std::free(p);
  void* q = std::calloc(4, 4);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(static_cast<unsigned char*>(q)[15], 0);
  std::free(q);
}

TEST(HeaderHygieneTest, AssertIsTheStandardOne) {
  assert(true);
  assert(1 + 1 == 2 && "arithmetic");
  SUCCEED();
}

TEST(HeaderHygieneTest, ErrnoIsTheCLibrarys) {
  errno = 0;
  EXPECT_EQ(errno, 0);
  errno = EINVAL;
  EXPECT_EQ(errno, EINVAL);
  int* e = &errno;
  *e = 0;
  EXPECT_EQ(errno, 0);
}

TEST(HeaderHygieneTest, MemoryOrdersAreTheStandardOnes) {
  std::atomic<int> a{0};
  a.store(1, std::memory_order_relaxed);
  EXPECT_EQ(a.load(std::memory_order_acquire), 1);
  a.fetch_add(1, std::memory_order_acq_rel);
  a.fetch_add(1, std::memory_order_release);
  EXPECT_EQ(a.load(std::memory_order_seq_cst), 3);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  static_assert(std::is_same_v<decltype(std::memory_order_relaxed), const std::memory_order>);
}

// Driver-style code with no `$` anywhere: kernel calls take their source
// location from a default argument. It only has to compile (it never runs:
// kernel primitives need a model execution).
namespace driver {
using namespace kmc::kernel;  // NOLINT: kernel spelling

struct dev {
  semaphore sem;
  spinlock_t lock;
  atomic_t users;
  Shared<int> size;
};

[[maybe_unused]] int dev_write(dev* d, const char __user* buf, size_t count) {
  if (down_interruptible(&d->sem)) return -ERESTARTSYS;
  char* kbuf = kmalloc(count, GFP_KERNEL);
  if (!kbuf) {
    up(&d->sem);
    return -ENOMEM;
  }
  int ret = static_cast<int>(count);
  if (copy_from_user(kbuf, buf, count)) ret = -EFAULT;
  spin_lock(&d->lock);
  d->size = d->size + 1;
  spin_unlock(&d->lock);
  atomic_inc(&d->users);
  kfree(kbuf);
  up(&d->sem);
  return ret;
}
}  // namespace driver

TEST(HeaderHygieneTest, DollarFreeDriverCodeCompiles) {
  // The fact that driver::dev_write above compiled is the test.
  int (*fn)(driver::dev*, const char*, size_t) = &driver::dev_write;
  EXPECT_NE(fn, nullptr);
}

TEST(HeaderHygieneTest, PublicApiIsUsableHere) {
  // The registry and verdict helpers work without any model linked in.
  EXPECT_EQ(kmc::FindModel("no/such/model"), nullptr);
  EXPECT_EQ(kmc::VerdictName(kmc::Verdict::kDeadlock), "deadlock");
  EXPECT_EQ(kmc::ParseVerdict("use after free"), kmc::Verdict::kUseAfterFree);
  kmc::Result r;
  r.model = "x";
  EXPECT_NE(kmc::ResultToJson(r).find("\"model\": \"x\""), std::string::npos);
}

}  // namespace
