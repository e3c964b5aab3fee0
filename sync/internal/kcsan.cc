// kmc: checked plain accesses of C drivers (the kernel's KCSAN wiring).
//
// C drivers are compiled with GCC's ThreadSanitizer instrumentation
// (-fsanitize=thread --param tsan-distinguish-volatile=1, by kmc_module in
// tools/kmc.bzl), as the kernel does for KCSAN, and linked against the
// __tsan_* entry points defined here instead of libtsan. Every plain load
// and store of a driver arrives with its address and size:
//   * kernel memory (kmalloc'd blocks and pages, a loaded module's globals
//     and statics) goes through the same checks as Shared<T>: data races
//     from the happens-before order of the surrounding synchronization, use
//     after free, out of bounds (the redzone after each heap block);
//   * every other address (the task's stack, a model's user buffers, kmc's
//     own memory) is ignored;
//   * volatile accesses are marked accesses (never a race), as in KCSAN.
// __tsan_func_entry/exit keep a shadow call stack per engine thread, so a
// report shows the call chain of both accesses. Return addresses are
// resolved in-process with libdw (elfutils) and cached per address.

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sync/internal/c_loc.h"
#include "sync/internal/debuginfo.h"
#include "sync/internal/engine.h"
#include "sync/internal/por.h"
#include "sync/internal/runtime.h"
#include "sync/internal/symbolize.h"

namespace kmc::internal {
namespace {

// A call chain's name for the function of symbol `symbol`: C names as they
// are; kmc's C++ frames demangled and without their parameter lists, and
// the system calls of sync/vfs.h under the kernel's names (kmc::vfs::write
// is the VFS's vfs_write, which calls the driver's file operation).
std::string ChainFunctionName(const char* symbol) {
  int status = 0;
  char* d = abi::__cxa_demangle(symbol, nullptr, nullptr, &status);
  if (status != 0 || d == nullptr) return symbol;
  std::string name = d;
  std::free(d);
  // The parameter list: the first '(' outside template arguments and
  // lambda names ("F()::{lambda(int)#1}::operator()(int) const").
  int depth = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '<' || c == '{') ++depth;
    if (c == '>' || c == '}') --depth;
    if (c == '(' && depth == 0 && i > 0) {
      name.resize(i);
      break;
    }
  }
  constexpr std::string_view kVfs = "kmc::vfs::";
  if (name.rfind(kVfs, 0) == 0) name = "vfs_" + name.substr(kVfs.size());
  return name;
}

// ---------------------------------------------------------------------------
// Symbolization.

std::string DataSymbol(uintptr_t addr);

struct Symbolizer {
  Dwfl* dwfl = nullptr;
  bool tried = false;
  std::unordered_map<uintptr_t, const LocRecord*> code;
  PcCache<LocRecord> recent;  // in front of `code`
  std::unordered_map<uintptr_t, std::vector<const LocRecord*>> inline_callers;
  std::unordered_set<uintptr_t> cxx;  // pcs in mangled (C++) functions
  std::unordered_map<uintptr_t, std::string> data;
  std::deque<std::string> strings;  // storage for file and function names
  std::deque<LocRecord> records;

  bool Init() {
    if (tried) return dwfl != nullptr;
    tried = true;
    static char* debuginfo_path = nullptr;
    static const Dwfl_Callbacks callbacks = {
        dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr, &debuginfo_path};
    dwfl = dwfl_begin(&callbacks);
    if (dwfl == nullptr) return false;
    if (dwfl_linux_proc_report(dwfl, getpid()) != 0 ||
        dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
      dwfl_end(dwfl);
      dwfl = nullptr;
    }
    return dwfl != nullptr;
  }

  const char* Intern(const char* s) {
    strings.emplace_back(s);
    return strings.back().c_str();
  }

  // The source line of the instruction at `pc` (every instrumented access
  // asks).
  const LocRecord* Code(uintptr_t pc) {
    if (const LocRecord* r = recent.Find(pc)) return r;
    auto it = code.find(pc);
    if (it != code.end()) {
      recent.Put(pc, it->second);
      return it->second;
    }
    struct Job {
      Symbolizer* self;
      uintptr_t pc;
    } job{this, pc};
    OnBigStack([](void* j) { static_cast<Job*>(j)->self->ResolveCode(static_cast<Job*>(j)->pc); },
               &job);
    return code.at(pc);
  }

  void ResolveCode(uintptr_t pc) {
    LocRecord rec{"?", "(unknown)", 0, 0};
    std::vector<const LocRecord*> callers;
    if (Init()) {
      Dwfl_Module* mod = dwfl_addrmodule(dwfl, pc);
      if (mod != nullptr) {
        if (const char* fn = dwfl_module_addrname(mod, pc)) {
          rec.function = Intern(ChainFunctionName(fn).c_str());
          if (std::strncmp(fn, "_Z", 2) == 0) cxx.insert(pc);
        }
        if (Dwfl_Line* line = dwfl_module_getsrc(mod, pc)) {
          int lineno = 0;
          const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
          if (file != nullptr) {
            rec.file = Intern(Relative(file).c_str());
            rec.line = static_cast<unsigned>(lineno);
          }
        }
        Inlined(mod, pc, &rec, &callers);
      }
    }
    records.push_back(rec);
    code.emplace(pc, &records.back());
    inline_callers.emplace(pc, std::move(callers));
  }

  static std::string Relative(const char* file) {
    std::string f = file;
    while (f.rfind("./", 0) == 0) f = f.substr(2);
    return f;
  }

  // When the instruction at `pc` belongs to a function inlined into
  // another (a driver's static helper, an inline of a kernel header), the
  // innermost one is the function of `rec`, and `callers` gets the call
  // sites of the inlining chain, innermost first, up to the function that
  // was compiled (its name from the symbol table).
  void Inlined(Dwfl_Module* mod, uintptr_t pc, LocRecord* rec,
               std::vector<const LocRecord*>* callers) {
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &bias);
    if (cu == nullptr) return;
    Dwarf_Die* scopes = nullptr;
    const int n = dwarf_getscopes(cu, pc - bias, &scopes);
    if (n <= 0) return;
    Dwarf_Files* files = nullptr;
    dwarf_getsrcfiles(cu, &files, nullptr);
    bool innermost = true;
    const char* outer_name = rec->function;
    for (int i = 0; i < n; ++i) {
      const int tag = dwarf_tag(&scopes[i]);
      if (tag == DW_TAG_subprogram) break;
      if (tag != DW_TAG_inlined_subroutine) continue;
      Dwarf_Attribute attr;
      const char* name = nullptr;
      if (dwarf_attr_integrate(&scopes[i], DW_AT_name, &attr) != nullptr) {
        name = dwarf_formstring(&attr);
      }
      if (name == nullptr) break;
      if (innermost) {
        rec->function = Intern(name);
        innermost = false;
      }
      // The call site of this inlined function, in the function around it:
      // the next inlined scope, or the compiled function itself.
      Dwarf_Word call_file = 0, call_line = 0;
      if (dwarf_attr(&scopes[i], DW_AT_call_file, &attr) != nullptr) {
        dwarf_formudata(&attr, &call_file);
      }
      if (dwarf_attr(&scopes[i], DW_AT_call_line, &attr) != nullptr) {
        dwarf_formudata(&attr, &call_line);
      }
      const char* around = outer_name;
      for (int j = i + 1; j < n; ++j) {
        const int t = dwarf_tag(&scopes[j]);
        if (t == DW_TAG_subprogram) break;
        if (t == DW_TAG_inlined_subroutine &&
            dwarf_attr_integrate(&scopes[j], DW_AT_name, &attr) != nullptr) {
          if (const char* a = dwarf_formstring(&attr)) around = a;
          break;
        }
      }
      LocRecord site{"?", Intern(around), static_cast<unsigned>(call_line), 0};
      if (files != nullptr) {
        if (const char* f = dwarf_filesrc(files, call_file, nullptr, nullptr)) {
          site.file = Intern(Relative(f).c_str());
        }
      }
      records.push_back(site);
      callers->push_back(&records.back());
    }
    std::free(scopes);
  }

  // The call sites through which the function of `pc` was inlined (see
  // Inlined()); empty when it was not.
  const std::vector<const LocRecord*>& InlineCallers(uintptr_t pc) {
    Code(pc);
    return inline_callers.at(pc);
  }

  // True when `pc` is in kmc's own C++ code (the end of a driver's chain).
  bool InCxx(uintptr_t pc) {
    Code(pc);
    return cxx.count(pc) != 0;
  }

  // The symbol (global or static variable) that holds `addr`, "name+off".
  const std::string& Data(uintptr_t addr) {
    auto it = data.find(addr);
    if (it != data.end()) return it->second;
    struct Job {
      Symbolizer* self;
      uintptr_t addr;
    } job{this, addr};
    OnBigStack([](void* j) { static_cast<Job*>(j)->self->ResolveData(static_cast<Job*>(j)->addr); },
               &job);
    return data.at(addr);
  }

  // The variable (an object symbol) that contains addr; "name+off".
  void ResolveData(uintptr_t addr) {
    std::string name;
    if (Init()) {
      // Zero-initialized data past a module's file-backed mapping may fall
      // outside the range reported for it: search every module's symbols.
      std::vector<Dwfl_Module*> mods;
      if (Dwfl_Module* m = dwfl_addrmodule(dwfl, addr)) mods.push_back(m);
      dwfl_getmodules(
          dwfl,
          [](Dwfl_Module* m, void**, const char*, Dwarf_Addr, void* arg) {
            static_cast<std::vector<Dwfl_Module*>*>(arg)->push_back(m);
            return static_cast<int>(DWARF_CB_OK);
          },
          &mods, 0);
      for (Dwfl_Module* mod : mods) {
        const int n = dwfl_module_getsymtab(mod);
        for (int i = 1; i < n && name.empty(); ++i) {
          GElf_Sym sym;
          GElf_Addr value = 0;
          const char* s =
              dwfl_module_getsym_info(mod, i, &sym, &value, nullptr, nullptr, nullptr);
          if (s == nullptr || GELF_ST_TYPE(sym.st_info) != STT_OBJECT) continue;
          if (addr < value || addr >= value + std::max<GElf_Xword>(sym.st_size, 1)) continue;
          // A member of a C global named like the driver names it
          // ("asgn2_device.cb_count", "devices[1].size").
          const size_t off = static_cast<size_t>(addr - value);
          const std::string member = GlobalMember(s, sym.st_value, off);
          name = s;
          if (!member.empty()) {
            name += (member[0] == '[' ? "" : ".") + member;
          } else if (off != 0) {
            name += "+" + std::to_string(off);
          }
        }
        if (!name.empty()) break;
      }
    }
    data.emplace(addr, name);
  }
};

Symbolizer& Sym() {
  static Symbolizer* s = new Symbolizer();
  return *s;
}

// ---------------------------------------------------------------------------
// Shadow call stacks, one per engine thread (slot 0: module init/exit).

constexpr int kMaxThreads = 64;
struct ShadowStack {
  uint32_t epoch = 0;
  std::vector<uintptr_t> frames;  // call sites, outermost first
};
ShadowStack g_stacks[kMaxThreads + 1];
uintptr_t g_access_pc = 0;  // the instrumented access being checked, or 0

ShadowStack* Stack() {
  Runtime& rt = Runtime::Get();
  const int slot = CurrentThread() + 1;
  if (slot < 0 || slot > kMaxThreads) return nullptr;
  ShadowStack& s = g_stacks[slot];
  if (s.epoch != rt.epoch()) {
    s.epoch = rt.epoch();
    s.frames.clear();
  }
  return &s;
}

// Interned call chains: innermost pc first.
std::map<std::vector<uintptr_t>, uint32_t> g_chain_ids;
std::vector<const std::vector<uintptr_t>*> g_chains{nullptr};

uint32_t CurrentChain() {
  if (g_access_pc == 0) return 0;
  std::vector<uintptr_t> chain{g_access_pc};
  if (ShadowStack* s = Stack()) {
    for (auto it = s->frames.rbegin(); it != s->frames.rend(); ++it) chain.push_back(*it);
  }
  auto [it, added] = g_chain_ids.emplace(std::move(chain), 0);
  if (added) {
    it->second = static_cast<uint32_t>(g_chains.size());
    g_chains.push_back(&it->first);
  }
  return it->second;
}

std::string FormatChain(uint32_t id) {
  if (id == 0 || id >= g_chains.size()) return "";
  std::string s = " call chain:\n";
  bool first = true;
  for (uintptr_t pc : *g_chains[id]) {
    // The chain is the driver's, and the kmc code that called into it (the
    // VFS's vfs_read, the softirq that ran a tasklet): it ends at the first
    // C++ frame, which is shown when it is kmc's own source.
    const uintptr_t at = pc - 1;
    const LocRecord* r = Sym().Code(at);
    if (!first && Sym().InCxx(at)) {
      if (r->line != 0 && r->file[0] != '/') {
        s += "  " + std::string(r->function) + "() at " + r->file + ":" +
             std::to_string(r->line) + "\n";
      }
      break;
    }
    first = false;
    if (r->line == 0) continue;
    s += "  " + std::string(r->function) + "() at " + r->file + ":" + std::to_string(r->line) +
         "\n";
    for (const LocRecord* c : Sym().InlineCallers(at)) {
      if (c->line == 0) continue;
      s += "  " + std::string(c->function) + "() at " + c->file + ":" + std::to_string(c->line) +
           "\n";
    }
  }
  return s;
}

std::string DataSymbol(uintptr_t addr) { return Sym().Data(addr); }

void InstallHooks() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  Runtime::Get().set_chain_hooks(&CurrentChain, &FormatChain);
  Runtime::Get().set_data_symbol_hook(&DataSymbol);
}

void PlainAccess(void* pc, const void* addr, size_t size, bool write) {
  if (!InSimulation()) return;
  InstallHooks();
  Runtime& rt = Runtime::Get();
  Block* b = rt.FindKernelBlock(addr);
  if (b == nullptr) return;
  const uintptr_t call = reinterpret_cast<uintptr_t>(pc);
  g_access_pc = call;
  rt.CheckPlain(addr, size, write, FromRecord(Sym().Code(call - 1)), b);
  g_access_pc = 0;
}

// Volatile accesses are marked: only lifetime and bounds are checked.
void VolatilePlainAccess(void* pc, const void* addr, size_t size, bool write) {
  if (!InSimulation()) return;
  Runtime& rt = Runtime::Get();
  if (rt.FindKernelBlock(addr) == nullptr) return;
  const uintptr_t call = reinterpret_cast<uintptr_t>(pc);
  rt.CheckKernelRange(addr, size, write, write ? "volatile write" : "volatile read",
                      FromRecord(Sym().Code(call - 1)));
}

}  // namespace

// ---------------------------------------------------------------------------
// Runtime: module regions and plain accesses.

void Runtime::AddModuleRegion(void* start, size_t size, const std::string& module) {
  Block b;
  b.base = reinterpret_cast<uintptr_t>(start);
  b.size = size;
  b.is_module = true;
  b.alloc_task = kModuleTask;
  b.module = module;
  // Keyed like heap memory, by the block and the granule: a module's
  // globals are distinct objects to the reduced search, whatever order
  // the tasks first touch them in.
  b.por_id = PorNewId();
  NoteKernelBlock(b);
  modules_.emplace(b.base, std::move(b));
}

VarState* Runtime::PlainVar(const void* addr) {
  if (FindKernelBlock(addr) == nullptr) return nullptr;
  return &plain_[reinterpret_cast<uintptr_t>(addr)];
}

void Runtime::CheckPlain(const void* addr, size_t size, bool write, const Loc& loc, Block* b) {
  if (!InSimulation()) return;
  FinePoint(b, addr, write, write ? Access::kWrite : Access::kRead, write ? "write" : "read",
            loc);
  // The reduced search must see the access, as it sees a Shared<T> one:
  // two steps that touch the same plain driver memory do not commute.
  PorTouchRange(b, addr, size, write);
  if (b->freed) ReportUseAfterFree(*b, addr, size, write, loc);
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  if (a + size > b->base + b->size) {
    Fail(Verdict::kOutOfBounds,
         std::string("BUG: KASAN: ") + (b->is_module ? "global" : "slab") +
             "-out-of-bounds in " + ShortFunction(loc),
         std::string(write ? "Write" : "Read") + " of size " + std::to_string(size) +
             " at offset " + std::to_string(a - b->base) + " of a " + std::to_string(b->size) +
             "-byte object #" + std::to_string(b->seq) + " by " + Who() + " at " +
             FormatLoc(loc) + "\nAllocated at " + FormatLoc(b->alloc_loc) + "\n",
         loc);
  }
  if (CurrentThread() < 0) return;
  // The test of an open-coded wait (prepare_to_wait(); if (!cond)
  // schedule();) reads its condition as a wait_event() does: marked.
  if (!write) {
    if (const TaskState* t = CurrentOrNull(); t != nullptr && t->in_wait_condition) return;
  }
  VarState& v = plain_[a];
  if (write && v.marked != nullptr) v.plain_written = true;
  const Where where{b, a - b->base, size, nullptr, addr};
  CheckVar(v, write, where, &loc, /*record=*/true);
}

void Runtime::MarkedAccess(volatile void* p, void* value, size_t size, bool write, int order,
                           const char* op, const Loc& loc) {
  void* addr = const_cast<void*>(p);
  Block* b = InSimulation() ? FindKernelBlock(addr) : nullptr;
  if (b == nullptr || CurrentThread() < 0 || size > 8) {
    if (b != nullptr) CheckKernelRange(addr, size, write, op, loc);
    if (write) std::memcpy(addr, value, size);
    else std::memcpy(value, addr, size);
    return;
  }
  if (b->freed) ReportUseAfterFree(*b, addr, size, write, loc);
  ++checked_accesses_;
  VarState& v = plain_[reinterpret_cast<uintptr_t>(addr)];
  if (v.marked == nullptr) {
    int64_t current = 0;
    std::memcpy(&current, addr, size);
    v.marked = NewAtomic(current, addr);
  }
  const MemOrder mo = order == 1 ? MemOrder::kAcquire
                      : order == 2 ? MemOrder::kRelease : MemOrder::kRelaxed;
  Step(addr, op, "", write ? Access::kWrite : Access::kRead, loc);
  AtomicSection section;
  if (write) {
    int64_t bits = 0;
    std::memcpy(&bits, value, size);
    AtomicStore(v.marked, bits, mo, loc);
    std::memcpy(addr, value, size);
    v.plain_written = false;
  } else {
    const int64_t bits = AtomicLoad(v.marked, mo, loc);
    // After a plain store the marked view may be stale: memory holds the
    // value the happens-before order makes visible.
    if (v.plain_written) std::memcpy(value, addr, size);
    else std::memcpy(value, &bits, size);
  }
}

}  // namespace kmc::internal

// ---------------------------------------------------------------------------
// The entry points GCC's -fsanitize=thread emits.

using kmc::internal::PlainAccess;
using kmc::internal::VolatilePlainAccess;

extern "C" {

#define KMC_TSAN_RW(n)                                                          \
  void __tsan_read##n(void* a) { PlainAccess(__builtin_return_address(0), a, n, false); } \
  void __tsan_write##n(void* a) { PlainAccess(__builtin_return_address(0), a, n, true); } \
  void __tsan_unaligned_read##n(void* a) {                                      \
    PlainAccess(__builtin_return_address(0), a, n, false);                           \
  }                                                                             \
  void __tsan_unaligned_write##n(void* a) {                                     \
    PlainAccess(__builtin_return_address(0), a, n, true);                            \
  }                                                                             \
  void __tsan_volatile_read##n(void* a) {                                       \
    VolatilePlainAccess(__builtin_return_address(0), a, n, false);                   \
  }                                                                             \
  void __tsan_volatile_write##n(void* a) {                                      \
    VolatilePlainAccess(__builtin_return_address(0), a, n, true);                    \
  }                                                                             \
  void __tsan_unaligned_volatile_read##n(void* a) {                             \
    VolatilePlainAccess(__builtin_return_address(0), a, n, false);                   \
  }                                                                             \
  void __tsan_unaligned_volatile_write##n(void* a) {                            \
    VolatilePlainAccess(__builtin_return_address(0), a, n, true);                    \
  }

KMC_TSAN_RW(1)
KMC_TSAN_RW(2)
KMC_TSAN_RW(4)
KMC_TSAN_RW(8)
KMC_TSAN_RW(16)
#undef KMC_TSAN_RW

void __tsan_read_range(void* a, unsigned long n) {
  if (!kmc::internal::InSimulation()) return;
  kmc::internal::Runtime::Get().CheckKernelRange(
      a, n, false, "read",
      kmc::internal::FromRecord(kmc::internal::Sym().Code(
          reinterpret_cast<uintptr_t>(__builtin_return_address(0)) - 1)));
}
void __tsan_write_range(void* a, unsigned long n) {
  if (!kmc::internal::InSimulation()) return;
  kmc::internal::Runtime::Get().CheckKernelRange(
      a, n, true, "write",
      kmc::internal::FromRecord(kmc::internal::Sym().Code(
          reinterpret_cast<uintptr_t>(__builtin_return_address(0)) - 1)));
}

void __tsan_func_entry(void* call_pc) {
  if (!kmc::internal::InSimulation()) return;
  if (kmc::internal::ShadowStack* s = kmc::internal::Stack()) {
    s->frames.push_back(reinterpret_cast<uintptr_t>(call_pc));
  }
}

void __tsan_func_exit() {
  if (!kmc::internal::InSimulation()) return;
  if (kmc::internal::ShadowStack* s = kmc::internal::Stack()) {
    if (!s->frames.empty()) s->frames.pop_back();
  }
}

void __tsan_init() {}

}  // extern "C"
