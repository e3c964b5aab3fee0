// kmc: CONFIG_DEBUG_LIST checks (lib/list_debug.c) and list iteration.

#include "sync/list.h"

#include <string>

#include "sync/internal/runtime.h"
#include "sync/rcupdate.h"

namespace kmc::kernel::detail {
namespace {

using internal::Runtime;

bool IsPoison(const list_head *p) { return p == LIST_POISON1 || p == LIST_POISON2; }

// A pointer as a report can print it without addresses (reports must be the
// same in every execution): "object #3+16", "LIST_POISON1", "a static list_head".
std::string Describe(const list_head *p) {
  if (p == nullptr) return "NULL";
  if (p == LIST_POISON1) return "LIST_POISON1";
  if (p == LIST_POISON2) return "LIST_POISON2";
  Runtime &rt = Runtime::Get();
  if (const internal::Block *b = rt.FindBlock(p)) {
    return std::string(b->is_page ? "page #" : "object #") + std::to_string(b->seq) + "+" +
           std::to_string(reinterpret_cast<uintptr_t>(p) - b->base);
  }
  return "a list_head outside the heap";
}

[[noreturn]] void Corrupt(const std::string &what, const Loc &loc) {
  Runtime &rt = Runtime::Get();
  rt.Fail(Verdict::kAssertionFailed, what,
          what + "\nCONFIG_DEBUG_LIST caught it in " + internal::ShortFunction(loc) + " at " +
              internal::FormatLoc(loc) + " (" + rt.Who() + ")\n" +
              "kernel BUG at lib/list_debug.c (CHECK_DATA_CORRUPTION)\n",
          loc);
}

}  // namespace

bool ListAddValid(list_head *n, list_head *prev, list_head *next, const Loc &loc) {
  if (IsPoison(prev) || IsPoison(next) || prev == nullptr || next == nullptr) {
    Corrupt("list_add corruption. prev (" + Describe(prev) + ") or next (" + Describe(next) +
                ") is not a list entry.",
            loc);
  }
  list_head *next_prev = next->prev.get(loc);
  if (next_prev != prev) {
    Corrupt("list_add corruption. next->prev should be prev (" + Describe(prev) +
                "), but was " + Describe(next_prev) + ". (next=" + Describe(next) + ").",
            loc);
  }
  list_head *prev_next = prev->next.get(loc);
  if (prev_next != next) {
    Corrupt("list_add corruption. prev->next should be next (" + Describe(next) +
                "), but was " + Describe(prev_next) + ". (prev=" + Describe(prev) + ").",
            loc);
  }
  if (n == prev || n == next) {
    Corrupt("list_add double add: new=" + Describe(n) + ", prev=" + Describe(prev) +
                ", next=" + Describe(next) + ".",
            loc);
  }
  return true;
}

bool ListDelValid(list_head *entry, const Loc &loc) {
  list_head *prev = entry->prev.get(loc);
  list_head *next = entry->next.get(loc);
  if (next == LIST_POISON1) {
    Corrupt("list_del corruption, " + Describe(entry) + "->next is LIST_POISON1 (" +
                Describe(next) + ")",
            loc);
  }
  if (prev == LIST_POISON2) {
    Corrupt("list_del corruption, " + Describe(entry) + "->prev is LIST_POISON2 (" +
                Describe(prev) + ")",
            loc);
  }
  if (prev == nullptr || next == nullptr || IsPoison(prev) || IsPoison(next)) {
    Corrupt("list_del corruption, " + Describe(entry) + " has a bad link (prev=" +
                Describe(prev) + ", next=" + Describe(next) + ")",
            loc);
  }
  list_head *prev_next = prev->next.get(loc);
  if (prev_next != entry) {
    Corrupt("list_del corruption. prev->next should be " + Describe(entry) + ", but was " +
                Describe(prev_next) + ". (prev=" + Describe(prev) + ")",
            loc);
  }
  list_head *next_prev = next->prev.get(loc);
  if (next_prev != entry) {
    Corrupt("list_del corruption. next->prev should be " + Describe(entry) + ", but was " +
                Describe(next_prev) + ". (next=" + Describe(next) + ")",
            loc);
  }
  return true;
}

list_head *ListNext(const Shared<list_head *> &link, bool rcu, const Loc &loc) {
  list_head *p = rcu ? ReadOnce(link, 1, "rcu_dereference", loc) : link.get(loc);
  if (IsPoison(p) || p == nullptr) {
    Runtime &rt = Runtime::Get();
    const std::string addr = p == LIST_POISON1   ? "0xdead000000000100"
                             : p == LIST_POISON2 ? "0xdead000000000122"
                                                 : "0x0";
    rt.Fail(p == nullptr ? Verdict::kAssertionFailed : Verdict::kUseAfterFree,
            p == nullptr ? "BUG: kernel NULL pointer dereference, address: 0000000000000000"
                         : "general protection fault, probably for non-canonical address " +
                               addr,
            "a list walk in " + internal::ShortFunction(loc) + " at " + internal::FormatLoc(loc) +
                " followed a " + (p == nullptr ? "NULL" : "poisoned") + " link (" + Describe(p) +
                ") by " + rt.Who() + ":\n" +
                (p == nullptr ? "the list was never initialized (INIT_LIST_HEAD)\n"
                              : "the entry was removed with list_del() and is still in use\n"),
            loc);
  }
  return p;
}

int ListCheckRcu(const Loc &loc, bool cond) {
  Runtime &rt = Runtime::Get();
  if (cond || !rt.running() || !rt.in_task() || rcu_read_lock_held()) return 0;
  rt.Fail(Verdict::kLockMisuse, "WARNING: suspicious RCU usage",
          internal::FormatLoc(loc) + " RCU-list traversed in non-reader section!!\n\n" +
              "other info that might help us debug this:\n\nrcu_scheduler_active = 2, "
              "debug_locks = 1\n" +
              rt.HeldLocksText(rt.Current()),
          loc);
}

}  // namespace kmc::kernel::detail
