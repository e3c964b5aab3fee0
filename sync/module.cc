// kmc: module registry, insmod/rmmod with parameters, per-execution reset,
// request_irq.

#include "sync/module.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sync/include/kmc/abi.h"
#include "sync/internal/c_loc.h"
#include "sync/internal/runtime.h"

namespace kmc {
namespace {

using internal::Runtime;

struct Param {
  std::string name;
  std::string type;
  void* addr;
  size_t elem_size;
  unsigned* count;  // module_param_array: elements set
  unsigned max_count;
};

struct Region {
  char* start = nullptr;
  size_t size = 0;
  std::vector<char> image;  // load-time contents
};

struct ModuleInfo {
  std::vector<Region> regions;  // initialized data, zero-initialized data
  int (*init)(void) = nullptr;
  internal::LocRecord init_loc{};
  void (*exit)(void) = nullptr;
  internal::LocRecord exit_loc{};
  std::vector<Param> params;
};

std::map<std::string, ModuleInfo>& Modules() {
  static auto* m = new std::map<std::string, ModuleInfo>();
  return *m;
}

// Per-execution state: loaded modules and registered irq handlers.
struct ExecState {
  uint32_t epoch = 0;
  std::map<std::string, bool> loaded;
  struct Irq {
    int (*handler)(int, void*);
    void* dev;
  };
  std::map<unsigned, Irq> irqs;
};

ExecState& Exec() {
  static ExecState s;
  const uint32_t e = Runtime::Get().epoch();
  if (s.epoch != e) {
    s = ExecState{};
    s.epoch = e;
  }
  return s;
}

[[noreturn]] void ModelError(const std::string& headline, const std::string& details,
                             const std::source_location& loc) {
  Runtime::Get().Fail(Verdict::kModelError, "kmc: " + headline, details + "\n", loc);
}

bool ParseInt(const std::string& v, long long* out) {
  if (v.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 0);
  if (errno != 0 || *end != '\0') {
    // Unsigned values above LLONG_MAX.
    errno = 0;
    const unsigned long long u = std::strtoull(v.c_str(), &end, 0);
    if (errno != 0 || *end != '\0') return false;
    *out = static_cast<long long>(u);
    return true;
  }
  *out = x;
  return true;
}

void SetOne(const std::string& module, const Param& p, void* addr, const std::string& value,
            const std::source_location& loc) {
  const std::string what = "parameter " + p.name + "=" + value + " of module " + module;
  if (p.type == "charp") {
    // The string must outlive the execution's use of it; kept per process.
    static auto* strings = new std::map<std::string, std::unique_ptr<char[]>>();
    auto& slot = (*strings)[value];
    if (!slot) {
      slot = std::make_unique<char[]>(value.size() + 1);
      std::memcpy(slot.get(), value.c_str(), value.size() + 1);
    }
    char* s = slot.get();
    std::memcpy(addr, &s, sizeof s);
    return;
  }
  long long x = 0;
  if (p.type == "bool" || p.type == "invbool") {
    if (value == "y" || value == "Y" || value == "1" || value.empty()) x = 1;
    else if (value == "n" || value == "N" || value == "0") x = 0;
    else ModelError("bad module parameter", what + ": not a boolean", loc);
    if (p.type == "invbool") x = !x;
  } else if (!ParseInt(value, &x)) {
    ModelError("bad module parameter", what + ": not a number", loc);
  }
  switch (p.elem_size) {
    case 1: { const int8_t v = static_cast<int8_t>(x); std::memcpy(addr, &v, 1); break; }
    case 2: { const int16_t v = static_cast<int16_t>(x); std::memcpy(addr, &v, 2); break; }
    case 4: { const int32_t v = static_cast<int32_t>(x); std::memcpy(addr, &v, 4); break; }
    default: { const int64_t v = static_cast<int64_t>(x); std::memcpy(addr, &v, 8); break; }
  }
}

void SetParams(const std::string& module, ModuleInfo& m, const std::string& params,
               const std::source_location& loc) {
  size_t i = 0;
  while (i < params.size()) {
    while (i < params.size() && params[i] == ' ') ++i;
    if (i >= params.size()) break;
    size_t end = params.find(' ', i);
    if (end == std::string::npos) end = params.size();
    const std::string item = params.substr(i, end - i);
    i = end;
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    const Param* p = nullptr;
    for (const Param& q : m.params) {
      if (q.name == name) p = &q;
    }
    if (p == nullptr) {
      std::string known;
      for (const Param& q : m.params) known += (known.empty() ? "" : ", ") + q.name;
      ModelError("unknown module parameter '" + name + "' for " + module,
                 "insmod " + module + " \"" + params + "\": the module declares " +
                     (known.empty() ? std::string("no parameters") : "only " + known),
                 loc);
    }
    if (p->count == nullptr) {
      SetOne(module, *p, p->addr, value, loc);
      continue;
    }
    unsigned n = 0;
    size_t s = 0;
    while (s <= value.size()) {
      size_t c = value.find(',', s);
      if (c == std::string::npos) c = value.size();
      if (n >= p->max_count) {
        ModelError("bad module parameter", "parameter " + name + " of module " + module +
                                               " takes at most " + std::to_string(p->max_count) +
                                               " values", loc);
      }
      SetOne(module, *p, static_cast<char*>(p->addr) + n * p->elem_size, value.substr(s, c - s),
             loc);
      ++n;
      s = c + 1;
    }
    *p->count = n;
  }
}

void RunExit(const std::string& module) {
  ModuleInfo& m = Modules()[module];
  Exec().loaded[module] = false;
  if (m.exit != nullptr) {
    Runtime::Get().Note([&] { return "module_exit " + module; }, internal::FromRecord(&m.exit_loc));
    m.exit();
  }
}

}  // namespace

bool ModuleLinked(const std::string& module) { return Modules().count(module) != 0; }

int insmod(const std::string& module, const std::string& params,
           const std::source_location& loc) {
  auto it = Modules().find(module);
  if (it == Modules().end()) {
    ModelError("insmod: no module named '" + module + "'",
               "the model's binary links no kmc_module(name = \"" + module +
                   "\"); add it to the models' deps",
               loc);
  }
  ModuleInfo& m = it->second;
  ExecState& ex = Exec();
  if (ex.loaded[module]) return -EEXIST;
  Runtime& rt = Runtime::Get();
  // The load-time image: nothing survives from an earlier execution.
  for (Region& r : m.regions) {
    if (r.size != 0) std::memcpy(r.start, r.image.data(), r.size);
  }
  SetParams(module, m, params, loc);
  for (Region& r : m.regions) {
    if (r.size != 0) rt.AddModuleRegion(r.start, r.size, module);
  }
  rt.Note([&] { return "insmod " + module + (params.empty() ? "" : " " + params); }, loc);
  if (m.init != nullptr) {
    const int r = m.init();
    if (r != 0) return r;
  }
  ex.loaded[module] = true;
  rt.AtExecutionEnd([module] {
    if (Exec().loaded[module]) RunExit(module);
  });
  return 0;
}

int rmmod(const std::string& module, const std::source_location& loc) {
  if (!Exec().loaded[module]) return -ENOENT;
  Runtime::Get().Note([&] { return "rmmod " + module; }, loc);
  RunExit(module);
  return 0;
}

int GenerateIrq(unsigned irq) {
  auto& irqs = Exec().irqs;
  auto it = irqs.find(irq);
  if (it == irqs.end()) return 0;
  return it->second.handler(static_cast<int>(irq), it->second.dev);
}

}  // namespace kmc

// ---------------------------------------------------------------------------
// C entry points (constructors generated by kmc_module, <linux/interrupt.h>).

namespace kmc::cabi {
extern "C" {

void kmc_c_module_region(const char* module, void* start, void* stop) {
  Region r;
  r.start = static_cast<char*>(start);
  r.size = static_cast<size_t>(static_cast<char*>(stop) - static_cast<char*>(start));
  r.image.assign(r.start, r.start + r.size);
  Modules()[module].regions.push_back(std::move(r));
}

void kmc_c_module_init_fn(const char* module, int (*fn)(void), kmc_loc_t loc) {
  ModuleInfo& m = Modules()[module];
  m.init = fn;
  m.init_loc = *reinterpret_cast<const internal::LocRecord*>(loc);
}

void kmc_c_module_exit_fn(const char* module, void (*fn)(void), kmc_loc_t loc) {
  ModuleInfo& m = Modules()[module];
  m.exit = fn;
  m.exit_loc = *reinterpret_cast<const internal::LocRecord*>(loc);
}

void kmc_c_module_param(const char* module, const char* name, const char* type, void* addr,
                        size_t elem_size, unsigned* count, unsigned max_count) {
  Modules()[module].params.push_back(Param{name, type, addr, elem_size, count, max_count});
}

int kmc_c_request_irq(unsigned irq, int (*handler)(int, void*), unsigned long flags,
                      const char* name, void* dev, kmc_loc_t loc) {
  (void)flags;
  (void)name;
  const auto l = internal::FromRecord(reinterpret_cast<const internal::LocRecord*>(loc));
  Runtime::Get().MightSleep("request_irq", l);
  auto& irqs = Exec().irqs;
  if (irqs.count(irq) != 0) return -EBUSY;
  irqs[irq] = ExecState::Irq{handler, dev};
  return 0;
}

void kmc_c_free_irq(unsigned irq, void* dev, kmc_loc_t loc) {
  const auto l = internal::FromRecord(reinterpret_cast<const internal::LocRecord*>(loc));
  Runtime::Get().MightSleep("free_irq", l);
  auto& irqs = Exec().irqs;
  auto it = irqs.find(irq);
  if (it == irqs.end() || it->second.dev != dev) {
    Runtime::Get().Fail(Verdict::kLockMisuse,
                        "WARNING: Trying to free already-free IRQ " + std::to_string(irq),
                        "free_irq(" + std::to_string(irq) + ") at " + internal::FormatLoc(l) +
                            "\n",
                        l);
  }
  irqs.erase(it);
}

}  // extern "C"
}  // namespace kmc::cabi
