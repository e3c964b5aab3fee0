// kmc: kfifo. The algorithm is header-only (sync/kfifo.h, templates over the
// element type); this file holds the size arithmetic and the reports.

#include "sync/kfifo.h"

#include <string>

#include "sync/internal/runtime.h"

namespace kmc::kernel::detail {

using internal::Runtime;

unsigned KfifoRoundUp(unsigned n) {
  if (n == 0) return 0;
  if (n > (1u << 31)) return 0;  // 1UL << 32 truncated to unsigned int
  unsigned p = 1;
  while (p < n) p <<= 1;
  return p;
}

unsigned KfifoRoundDown(unsigned n) {
  if (n == 0) return 0;
  unsigned p = 1u << 31;
  while (p > n) p >>= 1;
  return p;
}

void KfifoNotInitialized(const __kfifo* f, const char* fn, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Fail(Verdict::kLockMisuse, "BUG: kernel NULL pointer dereference in " + std::string(fn),
          std::string(fn) + "() at " + internal::FormatLoc(loc) + " by " + rt.Who() +
              " on a kfifo with " +
              (f->data == nullptr ? "no buffer" : "mask 0") +
              ": INIT_KFIFO(), kfifo_alloc() or kfifo_init() never set it up, or it "
              "failed (-EINVAL, -ENOMEM), or it was kfifo_free()d\n",
          loc);
}

void KfifoPublishBarrier(const __kfifo* f, const char* fn, const Loc& loc) {
  if (f->kmc_bugs & KFIFO_BUG_NO_PRODUCER_WMB) {
    Runtime::Get().Note(
        [&] {
          return std::string(fn) +
                 ": smp_wmb() before publishing in left out (KFIFO_BUG_NO_PRODUCER_WMB)";
        },
        loc);
    return;
  }
  smp_wmb(loc);
}

}  // namespace kmc::kernel::detail
