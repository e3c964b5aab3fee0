// kmc: the driver line of a faulting instruction (see symbolize.h).

#include "sync/internal/symbolize.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sync/internal/c_loc.h"
#include "sync/internal/crash.h"

namespace kmc::internal {
namespace {

// ---------------------------------------------------------------------------
// Unwinding the interrupted code (inside a signal handler).

struct UnwindArg {
  uintptr_t rip = 0;
  bool found = false;  // the unwinder has reached the interrupted frame
  int skipped = 0;     // the handler's own frames before it
  uintptr_t callee_cfa = 0;
  CodeFrame* out = nullptr;
  int max = 0;
  int n = 0;
};

_Unwind_Reason_Code OnFrame(struct _Unwind_Context* ctx, void* p) {
  UnwindArg& a = *static_cast<UnwindArg*>(p);
  int before_insn = 0;
  const uintptr_t ip = _Unwind_GetIPInfo(ctx, &before_insn);
  const uintptr_t cfa = _Unwind_GetCFA(ctx);
  if (!a.found) {
    // The frame the signal interrupted comes right after the kernel's
    // signal trampoline; its pc is the faulting instruction itself.
    if (ip == a.rip && before_insn != 0) {
      a.found = true;
      a.callee_cfa = cfa;
      return _URC_NO_REASON;
    }
    return ++a.skipped > 32 ? _URC_END_OF_STACK : _URC_NO_REASON;
  }
  if (ip == 0 || a.n >= a.max) return _URC_END_OF_STACK;
  // A return address: the call is the instruction before it. The caller's
  // stack pointer at the call is its callee's canonical frame address.
  a.out[a.n++] = CodeFrame{before_insn != 0 ? ip : ip - 1, a.callee_cfa};
  a.callee_cfa = cfa;
  return _URC_NO_REASON;
}

// ---------------------------------------------------------------------------
// Symbolization with libdw.

// libdw may need more stack than an engine thread or the alternate signal
// stack has when it first reads a module's debug information: lookups run
// on a stack of their own (a context switch that returns like a call).
constexpr size_t kBigStack = size_t{8} << 20;
void (*g_big_fn)(void*) = nullptr;
void* g_big_arg = nullptr;
void BigStackTrampoline() { g_big_fn(g_big_arg); }

}  // namespace

void OnBigStack(void (*fn)(void*), void* arg) {
  // Reading debug information is kmc's work: on a loaded machine it may take
  // seconds, which the watchdog must not charge to the task.
  EngineWork reading_debug_info;
  static void* stack = nullptr;
  if (stack == nullptr) {
    void* m = mmap(nullptr, kBigStack, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      fn(arg);
      return;
    }
    stack = m;
  }
  static ucontext_t caller;
  static ucontext_t callee;
  g_big_fn = fn;
  g_big_arg = arg;
  getcontext(&callee);
  callee.uc_stack.ss_sp = stack;
  callee.uc_stack.ss_size = kBigStack;
  callee.uc_link = &caller;
  makecontext(&callee, &BigStackTrampoline, 0);
  swapcontext(&caller, &callee);
}

namespace {

struct Resolved {
  LocRecord rec{"?", "(unknown)", 0, 0};
  bool kmc = true;
};

// The compilation units of kmc's own code and of libraries, by the path
// Bazel compiles them under.
bool KmcUnit(std::string_view cu) {
  static constexpr std::string_view kCwd = "/proc/self/cwd/";
  if (cu.substr(0, kCwd.size()) == kCwd) cu.remove_prefix(kCwd.size());
  while (cu.substr(0, 2) == "./") cu.remove_prefix(2);
  for (std::string_view prefix : {"sync/", "tools/", "external/", "bazel-out/", "../", "/"}) {
    if (cu.substr(0, prefix.size()) == prefix) return true;
  }
  return cu.empty();
}

// "kmc::(anonymous namespace)::F(int)" as std::source_location spells it
// ("kmc::{anonymous}::F(int)"), so ShortFunction reads both alike.
std::string FunctionName(const char* linkage) {
  std::string name = linkage;
  int status = 0;
  if (char* d = abi::__cxa_demangle(linkage, nullptr, nullptr, &status); status == 0 && d) {
    name = d;
    std::free(d);
  }
  for (size_t at; (at = name.find("(anonymous namespace)")) != std::string::npos;) {
    name.replace(at, std::strlen("(anonymous namespace)"), "{anonymous}");
  }
  return name;
}

// A function's name from its DIE: the demangled linkage name, else the
// plain name.
std::string DieFunctionName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name = nullptr;
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != nullptr ||
      dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != nullptr) {
    name = dwarf_formstring(&attr);
  }
  if (name == nullptr) name = dwarf_diename(die);
  return name != nullptr ? FunctionName(name) : "";
}

// A lambda's call operator has no linkage name of its own; it is named
// after the function whose body holds the lambda ("F(int)::<lambda>", as
// std::source_location names it).
std::string LambdaName(Dwarf_Die* die) {
  Dwarf_Die decl = *die;
  for (int hops = 0; hops < 8; ++hops) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if ((dwarf_attr(&decl, DW_AT_abstract_origin, &attr) == nullptr &&
         dwarf_attr(&decl, DW_AT_specification, &attr) == nullptr) ||
        dwarf_formref_die(&attr, &next) == nullptr) {
      break;
    }
    decl = next;
  }
  Dwarf_Die* chain = nullptr;
  const int n = dwarf_getscopes_die(&decl, &chain);
  std::string name;
  for (int i = 1; i < n && name.empty(); ++i) {
    if (dwarf_tag(&chain[i]) == DW_TAG_subprogram) name = DieFunctionName(&chain[i]);
  }
  std::free(chain);
  if (name.empty()) return "";
  if (name.find('(') == std::string::npos) name += "()";
  return name + "::<lambda>";
}

struct Symbolizer {
  Dwfl* dwfl = nullptr;
  bool tried = false;
  std::unordered_map<uintptr_t, const Resolved*> cache;
  std::deque<std::string> strings;
  std::deque<Resolved> resolved;

  bool Init() {
    if (tried) return dwfl != nullptr;
    tried = true;
    static char* debuginfo_path = nullptr;
    static const Dwfl_Callbacks callbacks = {dwfl_linux_proc_find_elf,
                                             dwfl_standard_find_debuginfo, nullptr,
                                             &debuginfo_path};
    dwfl = dwfl_begin(&callbacks);
    if (dwfl == nullptr) return false;
    if (dwfl_linux_proc_report(dwfl, getpid()) != 0 ||
        dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
      dwfl_end(dwfl);
      dwfl = nullptr;
    }
    return dwfl != nullptr;
  }

  const char* Intern(std::string s) {
    strings.push_back(std::move(s));
    return strings.back().c_str();
  }

  const Resolved& Get(uintptr_t pc) {
    auto it = cache.find(pc);
    if (it != cache.end()) return *it->second;
    struct Job {
      Symbolizer* self;
      uintptr_t pc;
    } job{this, pc};
    OnBigStack([](void* j) { static_cast<Job*>(j)->self->Resolve(static_cast<Job*>(j)->pc); },
               &job);
    return *cache.at(pc);
  }

  void Resolve(uintptr_t pc) {
    Resolved r;
    Dwfl_Module* mod = Init() ? dwfl_addrmodule(dwfl, pc) : nullptr;
    if (mod != nullptr) {
      Dwarf_Addr bias = 0;
      if (Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &bias)) {
        const char* cu_name = dwarf_diename(cu);
        r.kmc = KmcUnit(cu_name != nullptr ? cu_name : "");
        // The innermost function (an inlined one keeps its own name).
        Dwarf_Die* scopes = nullptr;
        const int n = dwarf_getscopes(cu, pc - bias, &scopes);
        for (int i = 0; i < n; ++i) {
          const int tag = dwarf_tag(&scopes[i]);
          if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
          std::string name = DieFunctionName(&scopes[i]);
          if (name == "operator()") name = LambdaName(&scopes[i]);
          if (!name.empty()) r.rec.function = Intern(std::move(name));
          break;
        }
        std::free(scopes);
      }
      if (std::strcmp(r.rec.function, "(unknown)") == 0) {
        if (const char* sym = dwfl_module_addrname(mod, pc)) r.rec.function = Intern(FunctionName(sym));
      }
      if (Dwfl_Line* line = dwfl_module_getsrc(mod, pc)) {
        int lineno = 0;
        const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
        if (file != nullptr && lineno > 0) {
          std::string f = file;
          while (f.rfind("./", 0) == 0) f = f.substr(2);
          static constexpr std::string_view kCwd = "/proc/self/cwd/";
          if (f.rfind(kCwd, 0) == 0) f = f.substr(kCwd.size());
          r.rec.file = Intern(std::move(f));
          r.rec.line = static_cast<unsigned>(lineno);
        }
      }
    }
    resolved.push_back(r);
    cache.emplace(pc, &resolved.back());
  }
};

Symbolizer& Sym() {
  static Symbolizer* s = new Symbolizer();
  return *s;
}

}  // namespace

int CaptureFaultFrames(const void* ucontext, uintptr_t fault_addr, CodeFrame* out, int max) {
  if (max <= 0 || ucontext == nullptr) return 0;
#if defined(__x86_64__)
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
  const uintptr_t rip = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  uintptr_t rsp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  // A stack access just below the stack pointer (a probe, a push) is where
  // the frame reached.
  if (fault_addr < rsp && rsp - fault_addr < 64 * 1024) rsp = fault_addr;
  out[0] = CodeFrame{rip, rsp};
  UnwindArg arg;
  arg.rip = rip;
  arg.out = out + 1;
  arg.max = max - 1;
  _Unwind_Backtrace(&OnFrame, &arg);
  return 1 + arg.n;
#else
  (void)fault_addr;
  (void)out;
  return 0;
#endif
}

std::source_location CodeLocation(uintptr_t pc) {
  // Every implicit Shared<T> access asks for its caller's line.
  static PcCache<Resolved> recent;
  const Resolved* r = recent.Find(pc);
  if (r == nullptr) {
    r = &Sym().Get(pc);
    recent.Put(pc, r);
  }
  return FromRecord(&r->rec);
}

bool IsKmcCode(uintptr_t pc) {
  const Resolved& r = Sym().Get(pc);
  return r.kmc || r.rec.line == 0;
}

int FirstDriverFrame(const CodeFrame* frames, int n) {
  for (int i = 0; i < n; ++i) {
    if (!IsKmcCode(frames[i].pc)) return i;
  }
  return -1;
}

}  // namespace kmc::internal
