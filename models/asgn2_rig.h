// The asgn2 test rig shared by the registered models (asgn2_models.cc) and
// the throwaway scenarios of tests/asgn2_test.cc: the dummy GPIO device
// (the data generator) that drives drivers/asgn2/gpio_dummy.c's port, the
// module loaded with insmod, a reader that reaches it through the VFS and
// records what it got (the ghost), and the final checks.
//
// The device's stream is fixed by the scenario; when its interrupts arrive
// and what they interrupt is the checker's choice (the model's interrupt
// source calls Fire() once per half-byte). The module checks its own
// invariants at module exit (docs/DRIVERS.md, asgn2 invariants): the
// circular buffer is drained, the page queue's accounting adds up, every
// open was released; kmemleak then checks that every page was freed.

#ifndef KMC_MODELS_ASGN2_RIG_H_
#define KMC_MODELS_ASGN2_RIG_H_

#include <fcntl.h>

#include <cstring>
#include <string>

#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

// drivers/asgn2/gpio_dummy.c: the device's interrupt line and data pins.
extern "C" {
extern const int gpio_dummy_irq;
extern volatile unsigned char gpio_dummy_pins;
}

namespace kmc::models::asgn2_rig {

constexpr int kMaxFiles = 4;
constexpr int kMaxFileBytes = 8;
constexpr int kMaxNibbles = 64;

// The device, the module and the reader's ghost.
struct Rig {
  // The device: the generator's stream as half-bytes, most significant
  // first. Only the interrupt source touches these.
  unsigned char nibbles[kMaxNibbles] = {};
  int nr_nibbles = 0;
  int next = 0;       // the next half-byte the device presents
  int unhandled = 0;  // interrupts that found no handler (IRQ_NONE)
  // Ghost: the files the reader got, in order.
  char got[kMaxFiles][kMaxFileBytes] = {};
  int got_len[kMaxFiles] = {};
  int files = 0;

  // `stream` holds `n` bytes: the files, each ended by '\0'. The circular
  // buffer holds 4 bytes and a page 2 by default, so a 3-byte file crosses
  // a page. `params` adds module parameters ("bugs=0x1").
  Rig(const char* stream, int n, const std::string& params = "", int cb_size = 4,
      int page_bytes = 2) {
    for (int i = 0; i < n; ++i) {
      KMC_ASSERT(nr_nibbles + 2 <= kMaxNibbles);
      const unsigned char c = static_cast<unsigned char>(stream[i]);
      nibbles[nr_nibbles++] = c >> 4;  // most significant first
      nibbles[nr_nibbles++] = c & 0xf;
    }
    const std::string args = "cb_size=" + std::to_string(cb_size) +
                             " page_bytes=" + std::to_string(page_bytes) +
                             (params.empty() ? "" : " " + params);
    KMC_ASSERT(insmod("asgn2", args) == 0);
  }

  // The device presents its next half-byte on the pins and raises its
  // interrupt: call from an interrupt source (hardirq context).
  void Fire() {
    if (next >= nr_nibbles) return;  // the generator has stopped
    gpio_dummy_pins = nibbles[next++];
    if (GenerateIrq(static_cast<unsigned>(gpio_dummy_irq)) == 0) ++unhandled;
  }

  // open(2), read(2) of `chunk` bytes at a time until it returns 0,
  // close(2): one file.
  void ReadOneFile(size_t chunk = kMaxFileBytes) {
    KMC_ASSERT(files < kMaxFiles);
    vfs::File* filp = vfs::open(vfs::DeviceNumber("asgn2"), O_RDONLY);
    KMC_ASSERT(filp != nullptr);
    UserBuffer ub(kMaxFileBytes);
    int len = 0;
    for (;;) {
      const long r = vfs::read(filp, ub.ptr(), chunk);
      KMC_ASSERT(r >= 0 && r <= static_cast<long>(chunk));
      if (r == 0) break;
      for (long i = 0; i < r; ++i) {
        KMC_ASSERT(len < kMaxFileBytes);
        KMC_ASSERT(ub[i] != '\0');  // inv 4: the '\0' is never returned
        got[files][len++] = ub[i];
      }
    }
    KMC_ASSERT(filp->f_pos == len);
    // inv 4: after the end of its file, the open reads nothing more.
    KMC_ASSERT(vfs::read(filp, ub.ptr(), ub.size()) == 0);
    got_len[files++] = len;
    KMC_ASSERT(vfs::close(filp) == 0);
  }

  // inv 1 and 4: file i of the ghost is exactly `want`.
  void ExpectFile(int i, const char* want) const {
    KMC_ASSERT(i < files);
    const int n = static_cast<int>(std::strlen(want));
    KMC_ASSERT(got_len[i] == n);
    for (int k = 0; k < n; ++k) KMC_ASSERT(got[i][k] == want[k]);
  }

  // The whole stream was sent and handled; then module exit (with the
  // module's own checks) and no handler left on the line.
  void CheckAndUnload() {
    KMC_ASSERT(next == nr_nibbles);
    KMC_ASSERT(unhandled == 0);
    KMC_ASSERT(rmmod("asgn2") == 0);
    KMC_ASSERT(GenerateIrq(static_cast<unsigned>(gpio_dummy_irq)) == 0);
  }
};

}  // namespace kmc::models::asgn2_rig

#endif  // KMC_MODELS_ASGN2_RIG_H_
