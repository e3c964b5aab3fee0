// kmc: names of struct fields from the DWARF debug information of kmc's own
// binary (libdw), so reports can say `dev->size` instead of `obj#1+40`.
//
// The runtime knows the C++ type of a kmalloc'd object (kmalloc's result is
// converted to a typed pointer, sync/slab.h) and of the model's fixture; the
// layout of that type (member names, offsets, sizes, nested structs and
// arrays) comes from DWARF, looked up in the compilation unit of the source
// file that allocated it. The same lookup serves C code compiled with -g.
//
// Lookups only run while a failing execution is re-run for its report;
// everything is cached for the life of the process. Without debug
// information every lookup answers "unknown" and reports fall back to
// obj#N+offset.

#ifndef KMC_SYNC_INTERNAL_DEBUGINFO_H_
#define KMC_SYNC_INTERNAL_DEBUGINFO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kmc::internal {

// The member of a struct that holds byte `offset`.
struct MemberName {
  bool found = false;
  // Path from the struct to the innermost named member: "size",
  // "cdev.count", "data[3]". Members of type Shared<T> are leaves.
  std::string path;
  // The unqualified name of the struct type that directly contains the
  // top-level member ("scull_dev"), and, for a member that is itself a
  // struct holding the leaf, that struct's type ("scull_module").
  std::string top_member_type;
  bool top_member_is_leaf = true;
  std::string rest;  // path below the top-level member ("scull_quantum")
  std::string top;   // the top-level member ("mod")
  // A pointer member: the struct it points to ("" when it points to
  // something else) and the size of what it points to (0: unknown).
  std::string pointee;
  size_t pointee_size = 0;
};

// Looks up `offset` in the struct `qualified_type` (as the C++ demangler
// spells it: "kmc::drivers::scull::scull_dev"), preferring the compilation
// unit whose file name ends with `cu_file`.
MemberName FindMember(std::string_view qualified_type, std::string_view cu_file,
                      size_t offset);

// True when `qualified_type` is a struct or class with named members.
bool IsStructType(std::string_view qualified_type, std::string_view cu_file);

// The member of the C global variable `name`, defined at link-time address
// `link_addr` (its symbol's value in the object file that defines it), that
// holds byte `offset`: "cb_count", "cdev.dev", "[3]", "[1].size"; "" when
// the variable is a scalar or has no debug information. Only compilation
// units of C files are searched.
std::string GlobalMember(std::string_view name, uint64_t link_addr, size_t offset);

// The struct that the global pointer `variable` of a C file points to
// (`static struct scull_pipe *scull_p_devices;` -> "scull_pipe" and its
// size), looked up in the compilation unit of `cu_file` first. False when
// it is not a pointer to a struct, or unknown.
bool PointeeStruct(std::string_view variable, std::string_view cu_file, std::string* type,
                   size_t* size);

// The name the functions of `cu_file` give a `struct type *` parameter or
// local most often ("dev" for scull_pipe in pipe.c); ConventionalName(type)
// when none does.
std::string PointerName(std::string_view type, std::string_view cu_file);

// The demangled name of a mangled C++ type name (typeid(T).name()).
std::string Demangle(const char* mangled);

// The name a driver conventionally gives a pointer to the struct:
// "scull_dev" -> "dev", "scull_qset" -> "qset", "Config" -> "config".
std::string ConventionalName(std::string_view qualified_type);

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_DEBUGINFO_H_
