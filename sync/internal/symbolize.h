// kmc: the driver line of a faulting instruction.
//
// A fault in driver code (a NULL or wild pointer, a frame past the kernel's
// stack limit) is reported at the source line of the instruction that
// faulted, read from the DWARF line table of kmc's own binary with libdw
// (elfutils). The frames of the interrupted code are captured inside the
// signal handler with the C++ unwinder (no allocation); resolving them to
// lines happens later or on a stack of its own, cached per address.

#ifndef KMC_SYNC_INTERNAL_SYMBOLIZE_H_
#define KMC_SYNC_INTERNAL_SYMBOLIZE_H_

#include <cstddef>
#include <cstdint>
#include <source_location>

namespace kmc::internal {

// One frame of interrupted code: `pc` is the faulting instruction (the
// innermost frame) or a return address minus one (its callers); `sp` is the
// lowest stack address the frame had reached.
struct CodeFrame {
  uintptr_t pc = 0;
  uintptr_t sp = 0;
};

// The frames of the code a signal interrupted, innermost first, from the
// handler's `ucontext`; `fault_addr` lowers the innermost frame's `sp` when
// the fault was a stack access below it. At most `max`; returns how many.
// Safe in a signal handler (it allocates nothing).
int CaptureFaultFrames(const void* ucontext, uintptr_t fault_addr, CodeFrame* out, int max);

// A small direct-mapped cache of per-instruction answers in front of a
// symbolizer's table, for the lookups every access makes (its values must
// live as long as the process; one simulation runs at a time).
template <class T>
class PcCache {
 public:
  const T* Find(uintptr_t pc) const {
    const Slot& s = slots_[Index(pc)];
    return s.pc == pc ? s.value : nullptr;
  }
  void Put(uintptr_t pc, const T* value) { slots_[Index(pc)] = Slot{pc, value}; }

 private:
  struct Slot {
    uintptr_t pc = 0;
    const T* value = nullptr;
  };
  static size_t Index(uintptr_t pc) { return (pc ^ (pc >> 8)) & 255; }
  Slot slots_[256];
};

// The source line of the code at `pc`: the file and line of the
// instruction (inlined code keeps its own line) and the demangled name of
// the function it belongs to. line() is 0 when there is no debug
// information for `pc`. Cached for the life of the process.
std::source_location CodeLocation(uintptr_t pc);

// Runs fn(arg) on a stack of its own (8 MiB, mapped once): libdw may need
// more stack than an engine fiber or the alternate signal stack has when it
// first reads a module's debug information.
void OnBigStack(void (*fn)(void*), void* arg);

// True when `pc` is kmc's own code (the engine and primitives, compiled
// from sync/ or tools/), a library's (the C library, libstdc++, Relacy,
// Abseil, GoogleTest) or unknown: not driver or model code.
bool IsKmcCode(uintptr_t pc);

// The innermost frame of driver or model code, or -1.
int FirstDriverFrame(const CodeFrame* frames, int n);

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_SYMBOLIZE_H_
