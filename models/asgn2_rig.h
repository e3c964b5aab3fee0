// The asgn2 test rig shared by the registered models (asgn2_models.cc) and
// the throwaway scenarios of tests/asgn2_test.cc: the module and its dummy
// GPIO, a reader that records what it got (the ghost), and the final
// asgn2 invariants of docs/DRIVERS.md followed by module exit.

#ifndef KMC_MODELS_ASGN2_RIG_H_
#define KMC_MODELS_ASGN2_RIG_H_

#include <cstring>

#include "drivers/asgn2/asgn2.h"
#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models::asgn2_rig {

using namespace kmc::kernel;          // NOLINT: kernel spelling
using namespace kmc::drivers::asgn2;  // NOLINT: driver spelling

constexpr int kMaxFiles = 4;
constexpr int kMaxFileBytes = 8;

// The module and its hardware, with the reader's ghost.
template <unsigned Bugs>
struct Rig {
  gpio_dummy gpio;
  asgn2_dev_t dev;
  int nibbles = 0;  // interrupts the stream needs
  // Ghost: the files the reader got, in order.
  char got[kMaxFiles][kMaxFileBytes] = {};
  int got_len[kMaxFiles] = {};
  int files = 0;

  // `stream` holds `n` bytes: the files, each ended by '\0'. The circular
  // buffer holds 4 bytes and a page 2, so a 3-byte file crosses a page.
  Rig(const char* stream, int n, int cb_size = 4, size_t page_bytes = 2) {
    gpio_dummy_load(&gpio, stream, n);
    nibbles = 2 * n;
    dev.cb_size = cb_size;
    dev.page_bytes = page_bytes;
    dev.bugs = Bugs;
    BUG_ON(asgn2_init_module(&dev, &gpio) != 0);
  }

  // open(2), read(2) of `chunk` bytes at a time until it returns 0,
  // close(2): one file.
  void ReadOneFile(size_t chunk = kMaxFileBytes) {
    KMC_ASSERT(files < kMaxFiles);
    inode ino = asgn2_inode(&dev);
    file filp = make_file(O_RDONLY);
    KMC_ASSERT(asgn2_open(&ino, &filp) == 0);
    UserBuffer ub(kMaxFileBytes);
    int len = 0;
    for (;;) {
      const ssize_t r = asgn2_read(&filp, ub.ptr(), chunk, &filp.f_pos);
      KMC_ASSERT(r >= 0 && r <= static_cast<ssize_t>(chunk));
      if (r == 0) break;
      for (ssize_t i = 0; i < r; ++i) {
        KMC_ASSERT(len < kMaxFileBytes);
        KMC_ASSERT(ub[i] != '\0');  // inv 4: the '\0' is never returned
        got[files][len++] = ub[i];
      }
    }
    KMC_ASSERT(filp.f_pos == len);
    // inv 4: after the end of its file, the open reads nothing more.
    KMC_ASSERT(asgn2_read(&filp, ub.ptr(), ub.size(), &filp.f_pos) == 0);
    got_len[files++] = len;
    KMC_ASSERT(asgn2_release(&ino, &filp) == 0);
  }

  // inv 1 and 4: file i of the ghost is exactly `want`.
  void ExpectFile(int i, const char* want) const {
    KMC_ASSERT(i < files);
    const int n = static_cast<int>(std::strlen(want));
    KMC_ASSERT(got_len[i] == n);
    for (int k = 0; k < n; ++k) KMC_ASSERT(got[i][k] == want[k]);
  }

  // inv 2, 3 and 5, then module exit.
  void CheckAndUnload() {
    KMC_ASSERT(gpio.next == gpio.nr_nibbles);  // the whole stream was sent
    KMC_ASSERT(gpio.unhandled.get() == 0);
    KMC_ASSERT(dev.cb_count.get() == 0);  // drained: the tasklet ran after the last byte
    KMC_ASSERT(dev.cb_dropped.get() == 0 && dev.pq_dropped.get() == 0);
    KMC_ASSERT(dev.msb_phase.get());  // no half byte left over
    // inv 3: data_size == sum of (tail_off - head_off) over the pages.
    size_t bytes = 0;
    int pages = 0;
    for (page_node* p = dev.pq_head.get(); p != nullptr; p = p->next.get()) {
      const size_t from = p == dev.pq_head.get() ? dev.head_off.get() : 0;
      const size_t to = p == dev.pq_tail.get() ? dev.tail_off.get() : dev.page_bytes;
      KMC_ASSERT(from <= to && to <= dev.page_bytes);
      bytes += to - from;
      pages += 1;
    }
    KMC_ASSERT(bytes == dev.data_size.get());
    KMC_ASSERT(pages == dev.num_pages.get());
    KMC_ASSERT(atomic_read(&dev.nprocs) == 0);  // inv 5: every open was released
    asgn2_exit_module(&dev);
    KMC_ASSERT(gpio.action.get() == nullptr);
  }
};

}  // namespace kmc::models::asgn2_rig

#endif  // KMC_MODELS_ASGN2_RIG_H_
