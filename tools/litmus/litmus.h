// kmc litmus: the C litmus-test format of the kernel's tools/memory-model,
// read into a small AST and run as a kmc model on kmc's own primitives.
//
//   C <name>
//   (* optional comment, may hold "Result: Never|Sometimes|Always" *)
//   { x=0; int y = 1; int *p = &x; }          initial state
//   P0(int *x, int *y) { WRITE_ONCE(*x, 1); ... }
//   P1(int *x, int *y) { int r0; r0 = READ_ONCE(*y); ... }
//   locations [x; y]                          (optional, informational)
//   filter (0:r0=1)                           (optional)
//   exists (1:r0=1 /\ 1:r1=0)                 or ~exists (...)
//
// Each Pn runs as one task on CPU n. A run answers the exists clause the
// way herd7 does: Never (no execution satisfies it), Sometimes, or Always
// (every execution that passes the filter satisfies it).

#ifndef KMC_TOOLS_LITMUS_LITMUS_H_
#define KMC_TOOLS_LITMUS_LITMUS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sync/runner.h"

namespace kmc::litmus {

// Values are 64-bit integers; the address of shared variable k is
// kAddressBase + k.
constexpr int64_t kAddressBase = int64_t{1} << 40;

struct Expr {
  enum class Kind { kNum, kName, kDeref, kAddrOf, kUnary, kBinary, kCall };
  Kind kind = Kind::kNum;
  int64_t num = 0;
  std::string name;  // kName: register or variable; kCall: function; operators
  std::vector<std::unique_ptr<Expr>> args;
  int line = 0;
  // For loads: another access's address depends on the value this load
  // returns (LKMM orders it like an acquire for kmc, see run.cc).
  bool feeds_address = false;
  int id = -1;  // per-test expression number (calls only)
};

struct Stmt {
  enum class Kind { kDecl, kAssign, kExpr, kIf, kBlock, kNop };
  Kind kind = Kind::kNop;
  std::string reg;               // kDecl/kAssign target
  std::unique_ptr<Expr> expr;    // value / condition / expression
  std::vector<Stmt> then_body;   // kIf, kBlock
  std::vector<Stmt> else_body;   // kIf
  int line = 0;
};

enum class VarKind { kInt, kSpinlock, kAtomic };

struct Var {
  std::string name;
  VarKind kind = VarKind::kInt;
  int64_t initial = 0;            // a number, or an address
  std::string points_to;          // initial value names a variable
};

struct Proc {
  int index = 0;
  std::vector<std::string> params;
  std::vector<Stmt> body;
};

// exists/filter conditions.
struct Cond {
  enum class Kind { kTrue, kFalse, kAnd, kOr, kNot, kEq, kNe };
  Kind kind = Kind::kTrue;
  std::vector<std::unique_ptr<Cond>> args;
  int proc = -1;          // kEq/kNe: proc:reg, or -1 for a shared variable
  std::string lhs;        // register or variable
  int64_t value = 0;      // right-hand side number
  std::string value_var;  // right-hand side variable name (an address)
};

struct Test {
  std::string name;
  std::string file;
  std::optional<std::string> expected;  // Result: Never|Sometimes|Always
  std::vector<Var> vars;
  std::vector<Proc> procs;
  std::unique_ptr<Cond> filter;
  std::unique_ptr<Cond> exists;
  bool negated_exists = false;  // ~exists
  std::vector<std::string> locations;
  std::map<std::pair<int, std::string>, int64_t> reg_init;  // "0:r1=1" in init

  int VarIndex(const std::string& n) const;
};

// Parses a litmus file; on failure returns nullptr and sets *error to
// "file:line: message".
std::unique_ptr<Test> Parse(const std::string& text, const std::string& file,
                            std::string* error);

// The outcome of one litmus test.
struct Outcome {
  std::string name;
  std::string file;
  std::string verdict;   // Never, Sometimes, Always, or an error verdict
  std::optional<std::string> expected;
  bool match = true;     // verdict == expected (true when nothing expected)
  bool complete = false;
  uint64_t executions = 0;
  double seconds = 0;
  std::string witness;   // report of an execution reaching the exists clause
  std::string replay;    // its replay token
  std::string error;     // the run could not decide (a bug verdict in the test)
};

// Runs one parsed test exhaustively.
Outcome Run(const Test& test);

// Re-runs one execution of a test from its replay token; returns the report.
std::optional<std::string> Replay(const Test& test, const std::string& token, std::string* error);

// `kmc litmus [--known_mismatches=a,b] FILE...`: prints one line per test
// and each witness; returns the exit status (0 all match or mismatch as
// listed, 1 otherwise, 2 on unreadable or malformed input).
int Main(const std::vector<std::string>& files, const std::vector<std::string>& known_mismatches,
         const std::string& replay_token);

}  // namespace kmc::litmus

#endif  // KMC_TOOLS_LITMUS_LITMUS_H_
