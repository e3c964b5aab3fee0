// kmc: struct field names from DWARF (see debuginfo.h).

#include "sync/internal/debuginfo.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sync/internal/crash.h"

namespace kmc::internal {
namespace {

// One leaf member of a flattened struct.
struct Leaf {
  size_t offset = 0;
  size_t size = 0;
  size_t elem_size = 0;  // arrays: the element size (path gets "[i]")
  std::string top;       // top-level member name
  std::string top_type;  // its struct type when it is not the leaf
  std::string rest;      // path below `top`
  std::string pointee;   // a pointer member: the struct it points to ("" if none)
  size_t pointee_size = 0;  // a pointer member: the size of what it points to
};

struct TypeInfo {
  bool found = false;
  bool is_struct = false;
  std::vector<Leaf> leaves;
};

bool IsSharedName(std::string_view n) {
  return n.rfind("Shared<", 0) == 0 || n.find("::Shared<") != std::string_view::npos;
}

// Follows typedefs and cv-qualifiers to the underlying type.
bool Underlying(Dwarf_Die* die, Dwarf_Die* out) {
  Dwarf_Die cur = *die;
  for (int i = 0; i < 16; ++i) {
    const int tag = dwarf_tag(&cur);
    if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
        tag != DW_TAG_restrict_type) {
      *out = cur;
      return true;
    }
    Dwarf_Attribute attr;
    Dwarf_Die next;
    if (dwarf_attr_integrate(&cur, DW_AT_type, &attr) == nullptr ||
        dwarf_formref_die(&attr, &next) == nullptr) {
      return false;
    }
    cur = next;
  }
  return false;
}

bool TypeOf(Dwarf_Die* die, Dwarf_Die* out) {
  Dwarf_Attribute attr;
  Dwarf_Die t;
  if (dwarf_attr_integrate(die, DW_AT_type, &attr) == nullptr ||
      dwarf_formref_die(&attr, &t) == nullptr) {
    return false;
  }
  return Underlying(&t, out);
}

size_t SizeOf(Dwarf_Die* type) {
  Dwarf_Word size = 0;
  if (dwarf_aggregate_size(type, &size) != 0) return 0;
  return static_cast<size_t>(size);
}

bool IsStructTag(int tag) {
  return tag == DW_TAG_structure_type || tag == DW_TAG_class_type || tag == DW_TAG_union_type;
}

void Flatten(Dwarf_Die* type, size_t base, const std::string& prefix, const Leaf* top,
             int depth, std::vector<Leaf>* out) {
  if (depth > 6) return;
  Dwarf_Die child;
  if (dwarf_child(type, &child) != 0) return;
  do {
    const int tag = dwarf_tag(&child);
    if (tag != DW_TAG_member && tag != DW_TAG_inheritance) continue;
    if (dwarf_hasattr(&child, DW_AT_external) || dwarf_hasattr(&child, DW_AT_declaration)) {
      continue;  // static members
    }
    Dwarf_Word off = 0;
    Dwarf_Attribute attr;
    if (dwarf_attr(&child, DW_AT_data_member_location, &attr) != nullptr) {
      if (dwarf_formudata(&attr, &off) != 0) continue;
    }
    Dwarf_Die mtype;
    if (!TypeOf(&child, &mtype)) continue;
    const char* raw_name = dwarf_diename(&child);
    const std::string name = raw_name ? raw_name : "";
    const size_t at = base + static_cast<size_t>(off);
    const int mtag = dwarf_tag(&mtype);
    const char* tname = dwarf_diename(&mtype);
    if (tag == DW_TAG_inheritance) {
      if (IsStructTag(mtag)) Flatten(&mtype, at, prefix, top, depth + 1, out);
      continue;
    }
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (IsStructTag(mtag) && !(tname && IsSharedName(tname))) {
      Leaf t;
      if (top == nullptr) {
        t.top = name;
        t.top_type = tname ? tname : "";
      } else {
        t = *top;
      }
      Flatten(&mtype, at, top == nullptr ? "" : path, &t, depth + 1, out);
      continue;
    }
    Leaf l;
    l.offset = at;
    l.size = SizeOf(&mtype);
    if (mtag == DW_TAG_pointer_type) {
      Dwarf_Die target;
      if (TypeOf(&mtype, &target)) {
        const char* pn = dwarf_diename(&target);
        if (IsStructTag(dwarf_tag(&target)) && pn != nullptr) l.pointee = pn;
        l.pointee_size = SizeOf(&target);
      }
    }
    if (mtag == DW_TAG_array_type) {
      Dwarf_Die elem;
      if (TypeOf(&mtype, &elem)) l.elem_size = SizeOf(&elem);
    }
    if (top == nullptr) {
      l.top = name;
    } else {
      l.top = top->top;
      l.top_type = top->top_type;
      l.rest = path;
    }
    if (l.size != 0) out->push_back(l);
  } while (dwarf_siblingof(&child, &child) == 0);
}

// Finds the definition of `qualified` among the children of `parent`.
bool FindStruct(Dwarf_Die* parent, const std::string& scope, std::string_view qualified,
                int depth, Dwarf_Die* out) {
  if (depth > 8) return false;
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    const int tag = dwarf_tag(&child);
    if (tag == DW_TAG_namespace) {
      const char* n = dwarf_diename(&child);
      const std::string s = scope + (n ? n : "(anonymous namespace)") + "::";
      if (qualified.rfind(s, 0) == 0 && FindStruct(&child, s, qualified, depth + 1, out)) {
        return true;
      }
    } else if (IsStructTag(tag)) {
      const char* n = dwarf_diename(&child);
      if (n == nullptr) continue;
      const std::string full = scope + n;
      if (full == qualified && !dwarf_hasattr(&child, DW_AT_declaration)) {
        *out = child;
        return true;
      }
      const std::string s = full + "::";
      if (qualified.rfind(s, 0) == 0 && FindStruct(&child, s, qualified, depth + 1, out)) {
        return true;
      }
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

class DebugInfo {
 public:
  static DebugInfo& Get() {
    static DebugInfo* d = new DebugInfo();
    return *d;
  }

  const TypeInfo& Type(std::string_view qualified, std::string_view cu_file) {
    std::string key(qualified);
    auto it = types_.find(key);
    if (it != types_.end()) return it->second;
    TypeInfo info;
    if (!dbgs_.empty() && !IsSharedName(qualified)) {
      Dwarf_Die die;
      if (Lookup(qualified, cu_file, &die)) {
        info.found = true;
        info.is_struct = true;
        Flatten(&die, 0, "", nullptr, 0, &info.leaves);
      }
    }
    return types_.emplace(key, std::move(info)).first->second;
  }

  // The struct the global pointer `variable` points to (C drivers).
  const std::pair<std::string, size_t>& Pointee(std::string_view variable,
                                                std::string_view cu_file) {
    const std::string key = std::string(cu_file) + ":" + std::string(variable);
    auto it = pointees_.find(key);
    if (it != pointees_.end()) return it->second;
    std::pair<std::string, size_t> found;
    ForEachCu(cu_file, [&](Dwarf_Die* cu) {
      Dwarf_Die child;
      if (dwarf_child(cu, &child) != 0) return false;
      do {
        if (dwarf_tag(&child) != DW_TAG_variable) continue;
        const char* n = dwarf_diename(&child);
        if (n == nullptr || variable != n) continue;
        Dwarf_Die ptr, target;
        if (!TypeOf(&child, &ptr) || dwarf_tag(&ptr) != DW_TAG_pointer_type) continue;
        if (!TypeOf(&ptr, &target) || !IsStructTag(dwarf_tag(&target))) continue;
        const char* tn = dwarf_diename(&target);
        if (tn == nullptr) continue;
        found = {tn, SizeOf(&target)};
        if (found.second == 0) {  // a declaration: the definition has the size
          Dwarf_Die def;
          if (FindStruct(cu, "", tn, 0, &def)) found.second = SizeOf(&def);
        }
        return true;
      } while (dwarf_siblingof(&child, &child) == 0);
      return false;
    });
    return pointees_.emplace(key, std::move(found)).first->second;
  }

  // The name the functions of the hinted compilation unit give their
  // parameters and locals of type `struct type *` most often ("dev").
  const std::string& PointerName(std::string_view type, std::string_view cu_file) {
    const std::string key = std::string(cu_file) + ":" + std::string(type);
    auto it = pointer_names_.find(key);
    if (it != pointer_names_.end()) return it->second;
    std::map<std::string, int> counts;
    ForEachCu(cu_file, [&](Dwarf_Die* cu) {
      CountPointerNames(cu, type, 0, &counts);
      return !counts.empty();
    }, /*hinted_only=*/true);
    std::string best;
    int most = 0;
    for (const auto& [name, n] : counts) {
      if (n > most) {
        best = name;
        most = n;
      }
    }
    return pointer_names_.emplace(key, std::move(best)).first->second;
  }

 private:
  static void CountPointerNames(Dwarf_Die* die, std::string_view type, int depth,
                                std::map<std::string, int>* counts) {
    if (depth > 6) return;
    Dwarf_Die child;
    if (dwarf_child(die, &child) != 0) return;
    do {
      const int tag = dwarf_tag(&child);
      if (tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block ||
          tag == DW_TAG_inlined_subroutine) {
        CountPointerNames(&child, type, depth + 1, counts);
        continue;
      }
      if (depth == 0 || (tag != DW_TAG_formal_parameter && tag != DW_TAG_variable)) continue;
      const char* n = dwarf_diename(&child);
      Dwarf_Die ptr, target;
      if (n == nullptr || !TypeOf(&child, &ptr) || dwarf_tag(&ptr) != DW_TAG_pointer_type ||
          !TypeOf(&ptr, &target)) {
        continue;
      }
      const char* tn = dwarf_diename(&target);
      if (tn != nullptr && type == tn) ++(*counts)[n];
    } while (dwarf_siblingof(&child, &child) == 0);
  }

  // Calls fn on the compilation unit whose file name ends with cu_file, then
  // (unless hinted_only) on every other one, until fn returns true.
  template <class F>
  void ForEachCu(std::string_view cu_file, F&& fn, bool hinted_only = false) {
    for (Dwarf* d : dbgs_) {
      for (int pass = 0; pass < (hinted_only ? 1 : 2); ++pass) {
        Dwarf_Off off = 0, next = 0;
        size_t hsize = 0;
        while (dwarf_nextcu(d, off, &next, &hsize, nullptr, nullptr, nullptr) == 0) {
          Dwarf_Die cu;
          if (dwarf_offdie(d, off + hsize, &cu) != nullptr) {
            const char* n = dwarf_diename(&cu);
            const std::string_view name = n ? n : "";
            const bool hinted = !cu_file.empty() && name.size() >= cu_file.size() &&
                                name.substr(name.size() - cu_file.size()) == cu_file;
            if ((pass == 0) == hinted && fn(&cu)) return;
          }
          off = next;
        }
      }
    }
  }

  // The executable and the shared objects it loaded (tests link kmc's
  // libraries dynamically), leaving out the system's own libraries.
  DebugInfo() {
    std::vector<std::string> files = {"/proc/self/exe"};
    dl_iterate_phdr(
        [](struct dl_phdr_info* info, size_t, void* data) {
          const std::string name = info->dlpi_name ? info->dlpi_name : "";
          if (!name.empty() && name.rfind("/lib", 0) != 0 && name.rfind("/usr/", 0) != 0 &&
              name.find("linux-vdso") == std::string::npos) {
            static_cast<std::vector<std::string>*>(data)->push_back(name);
          }
          return 0;
        },
        &files);
    for (const std::string& f : files) {
      const int fd = open(f.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      Dwarf* d = dwarf_begin(fd, DWARF_C_READ);
      if (d == nullptr) {
        close(fd);
        continue;
      }
      dbgs_.push_back(d);
    }
  }

  bool Lookup(std::string_view qualified, std::string_view cu_file, Dwarf_Die* out) {
    // The compilation unit of the hinted file first, then every other one.
    bool found = false;
    ForEachCu(cu_file, [&](Dwarf_Die* cu) {
      found = FindStruct(cu, "", qualified, 0, out);
      return found;
    });
    return found;
  }

  std::vector<Dwarf*> dbgs_;
  std::map<std::string, TypeInfo> types_;

 public:
  // The leaves of C global `name` at `link_addr` (see GlobalMember()).
  const TypeInfo& Global(std::string_view name, uint64_t link_addr, size_t* elem_size) {
    const std::string key = std::string(name) + "@" + std::to_string(link_addr);
    auto it = globals_.find(key);
    if (it != globals_.end()) {
      *elem_size = it->second.second;
      return it->second.first;
    }
    TypeInfo info;
    size_t elem = 0;
    Dwarf_Die var;
    if (FindGlobal(name, link_addr, &var)) {
      Dwarf_Die type;
      if (TypeOf(&var, &type)) {
        if (dwarf_tag(&type) == DW_TAG_array_type) {
          Dwarf_Die e;
          if (TypeOf(&type, &e)) {
            elem = SizeOf(&e);
            if (IsStructTag(dwarf_tag(&e))) type = e;
          }
        }
        info.found = true;
        info.is_struct = IsStructTag(dwarf_tag(&type));
        if (info.is_struct) Flatten(&type, 0, "", nullptr, 0, &info.leaves);
      }
    }
    auto& slot = globals_[key];
    slot = {std::move(info), elem};
    *elem_size = elem;
    return slot.first;
  }

 private:
  bool FindGlobal(std::string_view name, uint64_t link_addr, Dwarf_Die* out) {
    // Every C unit (no hint: ForEachCu's second pass visits them all).
    bool found = false;
    ForEachCu("", [&](Dwarf_Die* cu) {
      const char* n = dwarf_diename(cu);
      const std::string_view cu_name = n ? n : "";
      found = cu_name.size() > 2 && cu_name.substr(cu_name.size() - 2) == ".c" &&
              FindVariable(cu, name, link_addr, out);
      return found;
    });
    return found;
  }

  static bool FindVariable(Dwarf_Die* cu, std::string_view name, uint64_t link_addr,
                           Dwarf_Die* out) {
    Dwarf_Die child;
    if (dwarf_child(cu, &child) != 0) return false;
    do {
      if (dwarf_tag(&child) != DW_TAG_variable) continue;
      const char* n = dwarf_diename(&child);
      if (n == nullptr || name != n) continue;
      Dwarf_Attribute attr;
      Dwarf_Op* expr = nullptr;
      size_t len = 0;
      if (dwarf_attr(&child, DW_AT_location, &attr) == nullptr ||
          dwarf_getlocation(&attr, &expr, &len) != 0 || len != 1 || expr[0].atom != DW_OP_addr ||
          expr[0].number != link_addr) {
        continue;
      }
      *out = child;
      return true;
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
  }

  std::map<std::string, std::pair<TypeInfo, size_t>> globals_;

  std::map<std::string, std::pair<std::string, size_t>> pointees_;
  std::map<std::string, std::string> pointer_names_;
};

}  // namespace

std::string Demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                           std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(mangled);
}

std::string ConventionalName(std::string_view qualified) {
  std::string_view n = qualified;
  const size_t colon = n.rfind("::");
  if (colon != std::string_view::npos) n = n.substr(colon + 2);
  if (n.size() > 2 && n.substr(n.size() - 2) == "_t") n = n.substr(0, n.size() - 2);
  const size_t us = n.rfind('_');
  if (us != std::string_view::npos && us + 1 < n.size()) n = n.substr(us + 1);
  std::string s(n);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Each lookup below may read a large binary's debug information, which can
// take seconds on a loaded machine: it runs in an EngineWork scope, so the
// watchdog does not charge it to the task that asked.

bool PointeeStruct(std::string_view variable, std::string_view cu_file, std::string* type,
                   size_t* size) {
  EngineWork reading_debug_info;
  const auto& p = DebugInfo::Get().Pointee(variable, cu_file);
  if (p.first.empty() || p.second == 0) return false;
  *type = p.first;
  *size = p.second;
  return true;
}

std::string PointerName(std::string_view type, std::string_view cu_file) {
  EngineWork reading_debug_info;
  const std::string& n = DebugInfo::Get().PointerName(type, cu_file);
  return n.empty() ? ConventionalName(type) : n;
}

bool IsStructType(std::string_view qualified, std::string_view cu_file) {
  EngineWork reading_debug_info;
  const TypeInfo& t = DebugInfo::Get().Type(qualified, cu_file);
  return t.found && t.is_struct && !t.leaves.empty();
}

std::string GlobalMember(std::string_view name, uint64_t link_addr, size_t offset) {
  EngineWork reading_debug_info;
  size_t elem = 0;
  const TypeInfo& t = DebugInfo::Get().Global(name, link_addr, &elem);
  if (!t.found) return "";
  std::string index;
  if (elem != 0) {
    index = "[" + std::to_string(offset / elem) + "]";
    offset %= elem;
  }
  if (!t.is_struct) return index;
  for (const Leaf& l : t.leaves) {
    if (offset < l.offset || offset >= l.offset + l.size) continue;
    std::string path = l.rest.empty() ? l.top : l.top + "." + l.rest;
    if (l.elem_size != 0) path += "[" + std::to_string((offset - l.offset) / l.elem_size) + "]";
    return index.empty() ? path : index + "." + path;
  }
  return index;
}

MemberName FindMember(std::string_view qualified, std::string_view cu_file, size_t offset) {
  EngineWork reading_debug_info;
  MemberName m;
  const TypeInfo& t = DebugInfo::Get().Type(qualified, cu_file);
  if (!t.found) return m;
  for (const Leaf& l : t.leaves) {
    if (offset < l.offset || offset >= l.offset + l.size) continue;
    std::string index;
    if (l.elem_size != 0) index = "[" + std::to_string((offset - l.offset) / l.elem_size) + "]";
    m.found = true;
    m.pointee = l.pointee;
    m.pointee_size = l.pointee_size;
    m.top = l.top;
    m.top_member_type = l.top_type;
    m.top_member_is_leaf = l.rest.empty();
    m.rest = l.rest.empty() ? "" : l.rest + index;
    if (m.top_member_is_leaf) m.top += index;
    m.path = m.top_member_is_leaf ? m.top : m.top + "." + m.rest;
    return m;
  }
  return m;
}

}  // namespace kmc::internal
