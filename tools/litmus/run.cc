// kmc litmus: runs a parsed litmus test as a kmc model.
//
// Every shared int variable is a Shared<int64_t> accessed only through
// marked operations (READ_ONCE & co, on kmc's memory model), spinlock_t and
// atomic_t variables are kmc's own, and each process runs as one task on its
// own CPU. The final check evaluates the filter and exists clauses on the
// registers and the final values; an execution that satisfies the clause
// fails the check, so the exhaustive search answers "is there one?".
//
// Address dependencies: LKMM orders a load before a later access whose
// address depends on the value it read (READ_ONCE() then a dereference, as
// rcu_dereference() does). kmc's memory model has no dependencies, so such a
// load runs as an acquire load (stronger: it also orders accesses that do
// not depend on it).

#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tools/litmus/litmus.h"

namespace kmc::litmus {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling

const Test* g_test = nullptr;
bool g_want_exists = true;  // the check fails when exists == g_want_exists
constexpr const char* kRunError = "litmus: ";

std::string CondText(const Cond& c, const Test& t);

// Per-execution state: the shared variables and the registers.
struct Machine {
  std::deque<Shared<int64_t>> ints;
  std::deque<spinlock_t> locks;
  std::deque<atomic_t> atomics;
  std::vector<size_t> slot;  // variable -> index in its kind's deque
  std::vector<std::map<std::string, int64_t>> regs;

  Machine() {
    const Test& t = *g_test;
    regs.resize(t.procs.size());
    for (size_t i = 0; i < t.vars.size(); ++i) {
      const Var& v = t.vars[i];
      const int64_t init =
          v.points_to.empty() ? v.initial : kAddressBase + t.VarIndex(v.points_to);
      switch (v.kind) {
        case VarKind::kInt:
          slot.push_back(ints.size());
          ints.emplace_back(init);
          detail::NameSharedLocation(&ints.back(), v.name.c_str());
          break;
        case VarKind::kSpinlock:
          slot.push_back(locks.size());
          locks.emplace_back();
          spin_lock_init_named(&locks.back(), v.name.c_str());
          break;
        case VarKind::kAtomic:
          slot.push_back(atomics.size());
          atomics.push_back(ATOMIC_INIT(static_cast<int>(init)));
          break;
      }
    }
  }
};

[[noreturn]] void RunError(const std::string& what) {
  static std::string msg;  // kmc_assert_failed keeps a pointer only briefly
  msg = std::string(kRunError) + what;
  kmc_assert_failed(msg.c_str(), "assert", std::source_location::current());
}

class Interp {
 public:
  Interp(Machine& m, const Test& t, int proc) : m_(m), t_(t), proc_(proc) {
    for (const auto& [k, v] : t.reg_init) {
      if (k.first == proc) regs_[k.second] = v;
    }
  }

  void Run() {
    const std::vector<Stmt>& body = t_.procs[static_cast<size_t>(proc_)].body;
    hoisted_.assign(body.size(), false);
    for (size_t i = 0; i < body.size(); ++i) {
      HoistStores(body, i);
      if (!hoisted_[i]) Exec(body[i]);
    }
    m_.regs[static_cast<size_t>(proc_)] = regs_;
  }

 private:
  // Load buffering. LKMM does not order a load before a po-later store
  // unless a dependency, a fence, an acquire/release or a lock says so, so
  // the store may reach memory first. Before each top-level statement the
  // process may run, as an explored choice, any later top-level
  // WRITE_ONCE() that nothing in between orders after what comes first
  // (Hoistable); the statement is skipped when it is reached. Executions
  // of the reordered program are executions of the original one, because
  // no LKMM relation orders the passed accesses before the store.
  void HoistStores(const std::vector<Stmt>& body, size_t at) {
    for (;;) {
      std::vector<size_t> candidates;
      for (size_t j = at + 1; j < body.size(); ++j) {
        if (!hoisted_[j] && Hoistable(body, at, j)) candidates.push_back(j);
      }
      if (candidates.empty()) return;
      const unsigned pick =
          kernel::detail::ExploreChoice(static_cast<unsigned>(candidates.size() + 1));
      if (pick == 0) return;
      const size_t j = candidates[pick - 1];
      // smp_wmb() orders every po-earlier store before the store; the one
      // passed is run first (a release fence in kmc: it orders more).
      bool wmb = false;
      for (size_t k = at; k < j && !wmb; ++k) wmb = !hoisted_[k] && Calls(body[k], "smp_wmb");
      if (wmb) smp_wmb();
      Exec(body[j]);
      hoisted_[j] = true;
    }
  }

  static bool Calls(const Expr& e, const char* f) {
    if (e.kind == Expr::Kind::kCall && e.name == f) return true;
    for (const auto& a : e.args) {
      if (Calls(*a, f)) return true;
    }
    return false;
  }
  static bool Calls(const Stmt& s, const char* f) {
    if (s.expr && Calls(*s.expr, f)) return true;
    for (const Stmt& c : s.then_body) {
      if (Calls(c, f)) return true;
    }
    for (const Stmt& c : s.else_body) {
      if (Calls(c, f)) return true;
    }
    return false;
  }

  // A register or pointer name assigned by a statement (or its arms).
  static bool Assigns(const Stmt& s, const std::string& name) {
    if ((s.kind == Stmt::Kind::kDecl || s.kind == Stmt::Kind::kAssign) && s.reg == name) {
      return true;
    }
    for (const Stmt& c : s.then_body) {
      if (Assigns(c, name)) return true;
    }
    for (const Stmt& c : s.else_body) {
      if (Assigns(c, name)) return true;
    }
    return false;
  }

  // The names an expression reads; false when it calls or dereferences.
  static bool PureNames(const Expr& e, std::vector<std::string>* names) {
    if (e.kind == Expr::Kind::kCall || e.kind == Expr::Kind::kDeref) return false;
    if (e.kind == Expr::Kind::kName) names->push_back(e.name);
    for (const auto& a : e.args) {
      if (!PureNames(*a, names)) return false;
    }
    return true;
  }

  // The address `*p` of a marked access when p is a name that no statement
  // in body[from, to) assigns; -1 otherwise.
  int64_t StaticAddress(const Expr& arg, const std::vector<Stmt>& body, size_t from, size_t to) {
    if (arg.kind != Expr::Kind::kDeref || arg.args[0]->kind != Expr::Kind::kName) return -1;
    const std::string& p = arg.args[0]->name;
    for (size_t k = from; k < to; ++k) {
      if (Assigns(body[k], p)) return -1;
    }
    return Eval(*arg.args[0]);
  }

  // Whether an expression in body[from, to) lets a store to `addr` pass:
  // only READ_ONCE()/WRITE_ONCE() of other, statically known locations,
  // smp_rmb() (it orders loads only) and smp_wmb() (it orders stores only;
  // HoistStores runs one before the store), and calls inside those.
  bool Passable(const Expr& e, int64_t addr, const std::vector<Stmt>& body, size_t from,
                size_t to) {
    if (e.kind == Expr::Kind::kDeref) return false;  // a plain access
    if (e.kind == Expr::Kind::kCall) {
      if (e.name == "READ_ONCE" || e.name == "WRITE_ONCE") {
        if (e.args.empty()) return false;
        const int64_t a = StaticAddress(*e.args[0], body, from, to);
        if (a < 0 || a == addr) return false;
        for (size_t i = 1; i < e.args.size(); ++i) {
          if (!Passable(*e.args[i], addr, body, from, to)) return false;
        }
        return true;
      }
      return (e.name == "smp_rmb" || e.name == "smp_wmb") && e.args.empty();
    }
    for (const auto& a : e.args) {
      if (!Passable(*a, addr, body, from, to)) return false;
    }
    return true;
  }

  bool PassableStmt(const Stmt& s, int64_t addr, const std::vector<Stmt>& body, size_t from,
                    size_t to) {
    if (s.expr && !Passable(*s.expr, addr, body, from, to)) return false;
    for (const Stmt& c : s.then_body) {
      if (!PassableStmt(c, addr, body, from, to)) return false;
    }
    for (const Stmt& c : s.else_body) {
      if (!PassableStmt(c, addr, body, from, to)) return false;
    }
    return true;
  }

  // body[j] is a top-level WRITE_ONCE(*p, value) that may run before
  // body[at]: its address and value depend on nothing computed in
  // body[at, j) (no address or data dependency; a top-level statement has
  // no control dependency), and body[at, j) holds only accesses of other
  // locations that LKMM does not order before a later store (no strong
  // fence, acquire, release, lock, RCU or atomic operation; smp_rmb()
  // orders loads only, smp_wmb() stores only).
  bool Hoistable(const std::vector<Stmt>& body, size_t at, size_t j) {
    const Stmt& s = body[j];
    if (s.kind != Stmt::Kind::kExpr || !s.expr || s.expr->kind != Expr::Kind::kCall ||
        s.expr->name != "WRITE_ONCE" || s.expr->args.size() != 2) {
      return false;
    }
    const int64_t addr = StaticAddress(*s.expr->args[0], body, at, j);
    if (addr < kAddressBase || addr - kAddressBase >= static_cast<int64_t>(t_.vars.size()) ||
        t_.vars[static_cast<size_t>(addr - kAddressBase)].kind != VarKind::kInt) {
      return false;
    }
    std::vector<std::string> names;
    if (!PureNames(*s.expr->args[1], &names)) return false;
    bool wmb = false, store = false;
    for (size_t k = at; k < j; ++k) {
      if (hoisted_[k]) continue;
      for (const std::string& n : names) {
        if (Assigns(body[k], n)) return false;
      }
      if (!PassableStmt(body[k], addr, body, at, j)) return false;
      wmb = wmb || Calls(body[k], "smp_wmb");
      store = store || Calls(body[k], "WRITE_ONCE");
    }
    // A store passed together with an smp_wmb() may be one it orders
    // before this store.
    return !(wmb && store);
  }

  void Exec(const std::vector<Stmt>& body) {
    for (const Stmt& s : body) Exec(s);
  }

  void Exec(const Stmt& s) {
    {
      switch (s.kind) {
        case Stmt::Kind::kDecl:
          regs_[s.reg] = s.expr ? Eval(*s.expr) : 0;
          break;
        case Stmt::Kind::kAssign:
          regs_[s.reg] = Eval(*s.expr);
          break;
        case Stmt::Kind::kExpr:
          Eval(*s.expr);
          break;
        case Stmt::Kind::kIf:
          if (Eval(*s.expr) != 0) {
            Exec(s.then_body);
          } else {
            Exec(s.else_body);
          }
          break;
        case Stmt::Kind::kBlock:
          Exec(s.then_body);
          break;
        case Stmt::Kind::kNop:
          break;
      }
    }
  }

  // The shared variable an address expression designates.
  size_t VarAt(const Expr& addr, VarKind kind, const char* what) {
    const int64_t a = Eval(addr);
    const int64_t k = a - kAddressBase;
    if (k < 0 || k >= static_cast<int64_t>(t_.vars.size())) {
      RunError("P" + std::to_string(proc_) + " line " + std::to_string(addr.line) + ": " + what +
               " of " + std::to_string(a) + ", not the address of a shared variable");
    }
    const Var& v = t_.vars[static_cast<size_t>(k)];
    if (v.kind != kind) {
      RunError("P" + std::to_string(proc_) + " line " + std::to_string(addr.line) + ": " + what +
               " of " + v.name + ", which is not " +
               (kind == VarKind::kInt ? "an int" : kind == VarKind::kSpinlock ? "a spinlock_t"
                                                                               : "an atomic_t"));
    }
    return m_.slot[static_cast<size_t>(k)];
  }
  // READ_ONCE(*x) / smp_load_acquire(x): the location of an access.
  Shared<int64_t>& IntArg(const Expr& e, bool deref_form, const char* what) {
    const Expr& addr = (deref_form && e.kind == Expr::Kind::kDeref) ? *e.args[0] : e;
    return m_.ints[VarAt(addr, VarKind::kInt, what)];
  }
  spinlock_t* LockArg(const Expr& e, const char* what) {
    return &m_.locks[VarAt(e, VarKind::kSpinlock, what)];
  }
  atomic_t* AtomicArg(const Expr& e, const char* what) {
    return &m_.atomics[VarAt(e, VarKind::kAtomic, what)];
  }

  int64_t Eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kNum:
        return e.num;
      case Expr::Kind::kName: {
        auto it = regs_.find(e.name);
        if (it != regs_.end()) return it->second;
        const int k = t_.VarIndex(e.name);
        if (k >= 0) return kAddressBase + k;
        return 0;  // an undeclared register reads as 0
      }
      case Expr::Kind::kAddrOf: {
        const Expr& a = *e.args[0];
        if (a.kind == Expr::Kind::kName && t_.VarIndex(a.name) >= 0) {
          return kAddressBase + t_.VarIndex(a.name);
        }
        if (a.kind == Expr::Kind::kDeref) return Eval(*a.args[0]);
        RunError("line " + std::to_string(e.line) + ": & of something that is not a variable");
      }
      case Expr::Kind::kDeref: {
        // A plain load: checked for data races like any plain C access.
        Shared<int64_t>& v = m_.ints[VarAt(*e.args[0], VarKind::kInt, "a plain load")];
        return v.get();
      }
      case Expr::Kind::kUnary: {
        const int64_t v = Eval(*e.args[0]);
        if (e.name == "-") return -v;
        if (e.name == "!") return v == 0;
        return ~v;
      }
      case Expr::Kind::kBinary:
        return Binary(e);
      case Expr::Kind::kCall:
        return Call(e);
    }
    return 0;
  }

  int64_t Binary(const Expr& e) {
    const std::string& op = e.name;
    if (op == "&&") return Eval(*e.args[0]) != 0 && Eval(*e.args[1]) != 0;
    if (op == "||") return Eval(*e.args[0]) != 0 || Eval(*e.args[1]) != 0;
    const int64_t a = Eval(*e.args[0]);
    const int64_t b = Eval(*e.args[1]);
    if (op == "+") return a + b;
    if (op == "-") return a - b;
    if (op == "*") return a * b;
    if (op == "/") return b == 0 ? 0 : a / b;
    if (op == "%") return b == 0 ? 0 : a % b;
    if (op == "&") return a & b;
    if (op == "|") return a | b;
    if (op == "^") return a ^ b;
    if (op == "<<") return a << (b & 63);
    if (op == ">>") return a >> (b & 63);
    if (op == "==") return a == b;
    if (op == "!=") return a != b;
    if (op == "<") return a < b;
    if (op == ">") return a > b;
    if (op == "<=") return a <= b;
    if (op == ">=") return a >= b;
    return 0;
  }

  const Expr& Arg(const Expr& e, size_t i) {
    if (i >= e.args.size()) {
      RunError("line " + std::to_string(e.line) + ": " + e.name + "() needs more arguments");
    }
    return *e.args[i];
  }

  int64_t Call(const Expr& e) {
    const std::string& f = e.name;
    // Marked accesses to int variables.
    if (f == "READ_ONCE") {
      return IntArg(Arg(e, 0), true, "READ_ONCE")
          .load_marked(e.feeds_address ? 1 : 0, "READ_ONCE", std::source_location::current());
    }
    if (f == "rcu_dereference" || f == "rcu_dereference_raw" || f == "srcu_dereference") {
      return IntArg(Arg(e, 0), true, "rcu_dereference")
          .load_marked(1, "rcu_dereference", std::source_location::current());
    }
    if (f == "smp_load_acquire") {
      return IntArg(Arg(e, 0), false, "smp_load_acquire")
          .load_marked(1, "smp_load_acquire", std::source_location::current());
    }
    if (f == "WRITE_ONCE" || f == "rcu_assign_pointer" || f == "smp_store_release" ||
        f == "smp_store_mb") {
      const bool ptr_form = f == "smp_store_release" || f == "smp_store_mb";
      Shared<int64_t>& v = IntArg(Arg(e, 0), !ptr_form, f.c_str());
      const int64_t val = Eval(Arg(e, 1));
      const int order = (f == "WRITE_ONCE" || f == "smp_store_mb") ? 0 : 2;
      v.store_marked(val, order, f.c_str(), std::source_location::current());
      if (f == "smp_store_mb") smp_mb();
      return 0;
    }
    if (f == "xchg" || f == "xchg_relaxed" || f == "xchg_acquire" || f == "xchg_release") {
      Shared<int64_t>& v = IntArg(Arg(e, 0), false, f.c_str());
      const int64_t val = Eval(Arg(e, 1));
      if (f == "xchg") return xchg(&v, val);
      if (f == "xchg_relaxed") return xchg_relaxed(&v, val);
      if (f == "xchg_acquire") return xchg_acquire(&v, val);
      return xchg_release(&v, val);
    }
    if (f == "cmpxchg" || f == "cmpxchg_relaxed" || f == "cmpxchg_acquire" ||
        f == "cmpxchg_release") {
      Shared<int64_t>& v = IntArg(Arg(e, 0), false, f.c_str());
      const int64_t o = Eval(Arg(e, 1));
      const int64_t n = Eval(Arg(e, 2));
      if (f == "cmpxchg") return cmpxchg(&v, o, n);
      if (f == "cmpxchg_relaxed") return cmpxchg_relaxed(&v, o, n);
      if (f == "cmpxchg_acquire") return cmpxchg_acquire(&v, o, n);
      return cmpxchg_release(&v, o, n);
    }
    if (f == "smp_cond_load_acquire" || f == "smp_cond_load_relaxed") {
      Shared<int64_t>& v = IntArg(Arg(e, 0), false, f.c_str());
      const Expr& cond = Arg(e, 1);
      auto test = [&](int64_t val) {
        regs_["VAL"] = val;
        return Eval(cond) != 0;
      };
      return v.cond_load_marked(test, f == "smp_cond_load_acquire", f.c_str(),
                                std::source_location::current());
    }
    // Barriers.
    if (f == "smp_mb") { smp_mb(); return 0; }
    if (f == "smp_rmb") { smp_rmb(); return 0; }
    if (f == "smp_wmb") { smp_wmb(); return 0; }
    if (f == "smp_mb__before_atomic") { smp_mb__before_atomic(); return 0; }
    if (f == "smp_mb__after_atomic") { smp_mb__after_atomic(); return 0; }
    if (f == "smp_mb__after_spinlock") { smp_mb__after_spinlock(); return 0; }
    if (f == "smp_mb__after_unlock_lock") { smp_mb__after_unlock_lock(); return 0; }
    if (f == "barrier") return 0;
    // Locks and RCU.
    if (f == "spin_lock") { spin_lock(LockArg(Arg(e, 0), "spin_lock")); return 0; }
    if (f == "spin_unlock") { spin_unlock(LockArg(Arg(e, 0), "spin_unlock")); return 0; }
    if (f == "spin_trylock") return spin_trylock(LockArg(Arg(e, 0), "spin_trylock"));
    if (f == "spin_is_locked") return spin_is_locked(LockArg(Arg(e, 0), "spin_is_locked"));
    if (f == "rcu_read_lock") { rcu_read_lock(); return 0; }
    if (f == "rcu_read_unlock") { rcu_read_unlock(); return 0; }
    if (f == "synchronize_rcu" || f == "synchronize_rcu_expedited") { synchronize_rcu(); return 0; }
    return AtomicCall(e);
  }

  int64_t AtomicCall(const Expr& e) {
    const std::string& f = e.name;
    using Unary = int (*)(atomic_t*, const Loc&);
    using Binary = int (*)(int, atomic_t*, const Loc&);
    static const std::map<std::string, Unary> kUnary = {
        {"atomic_read", [](atomic_t* v, const Loc& l) { return atomic_read(v, l); }},
        {"atomic_read_acquire", [](atomic_t* v, const Loc& l) { return atomic_read_acquire(v, l); }},
        {"atomic_inc", [](atomic_t* v, const Loc& l) { atomic_inc(v, l); return 0; }},
        {"atomic_dec", [](atomic_t* v, const Loc& l) { atomic_dec(v, l); return 0; }},
        {"atomic_inc_return", [](atomic_t* v, const Loc& l) { return atomic_inc_return(v, l); }},
        {"atomic_dec_return", [](atomic_t* v, const Loc& l) { return atomic_dec_return(v, l); }},
        {"atomic_inc_return_relaxed",
         [](atomic_t* v, const Loc& l) { return atomic_inc_return_relaxed(v, l); }},
        {"atomic_inc_return_acquire",
         [](atomic_t* v, const Loc& l) { return atomic_inc_return_acquire(v, l); }},
        {"atomic_inc_return_release",
         [](atomic_t* v, const Loc& l) { return atomic_inc_return_release(v, l); }},
        {"atomic_dec_return_relaxed",
         [](atomic_t* v, const Loc& l) { return atomic_dec_return_relaxed(v, l); }},
        {"atomic_dec_return_acquire",
         [](atomic_t* v, const Loc& l) { return atomic_dec_return_acquire(v, l); }},
        {"atomic_dec_return_release",
         [](atomic_t* v, const Loc& l) { return atomic_dec_return_release(v, l); }},
        {"atomic_fetch_inc", [](atomic_t* v, const Loc& l) { return atomic_fetch_inc(v, l); }},
        {"atomic_fetch_inc_relaxed",
         [](atomic_t* v, const Loc& l) { return atomic_fetch_inc_relaxed(v, l); }},
        {"atomic_fetch_inc_acquire",
         [](atomic_t* v, const Loc& l) { return atomic_fetch_inc_acquire(v, l); }},
        {"atomic_fetch_inc_release",
         [](atomic_t* v, const Loc& l) { return atomic_fetch_inc_release(v, l); }},
        {"atomic_fetch_dec", [](atomic_t* v, const Loc& l) { return atomic_fetch_dec(v, l); }},
        {"atomic_inc_and_test",
         [](atomic_t* v, const Loc& l) { return static_cast<int>(atomic_inc_and_test(v, l)); }},
        {"atomic_dec_and_test",
         [](atomic_t* v, const Loc& l) { return static_cast<int>(atomic_dec_and_test(v, l)); }},
    };
    static const std::map<std::string, Binary> kBinary = {
        {"atomic_add", [](int i, atomic_t* v, const Loc& l) { atomic_add(i, v, l); return 0; }},
        {"atomic_sub", [](int i, atomic_t* v, const Loc& l) { atomic_sub(i, v, l); return 0; }},
        {"atomic_add_return", [](int i, atomic_t* v, const Loc& l) { return atomic_add_return(i, v, l); }},
        {"atomic_sub_return", [](int i, atomic_t* v, const Loc& l) { return atomic_sub_return(i, v, l); }},
        {"atomic_add_return_relaxed",
         [](int i, atomic_t* v, const Loc& l) { return atomic_add_return_relaxed(i, v, l); }},
        {"atomic_add_return_acquire",
         [](int i, atomic_t* v, const Loc& l) { return atomic_add_return_acquire(i, v, l); }},
        {"atomic_add_return_release",
         [](int i, atomic_t* v, const Loc& l) { return atomic_add_return_release(i, v, l); }},
        {"atomic_fetch_add", [](int i, atomic_t* v, const Loc& l) { return atomic_fetch_add(i, v, l); }},
        {"atomic_fetch_add_relaxed",
         [](int i, atomic_t* v, const Loc& l) { return atomic_fetch_add_relaxed(i, v, l); }},
        {"atomic_fetch_add_acquire",
         [](int i, atomic_t* v, const Loc& l) { return atomic_fetch_add_acquire(i, v, l); }},
        {"atomic_fetch_add_release",
         [](int i, atomic_t* v, const Loc& l) { return atomic_fetch_add_release(i, v, l); }},
        {"atomic_fetch_sub", [](int i, atomic_t* v, const Loc& l) { return atomic_fetch_sub(i, v, l); }},
        {"atomic_fetch_or", [](int i, atomic_t* v, const Loc& l) { return atomic_fetch_or(i, v, l); }},
        {"atomic_fetch_and", [](int i, atomic_t* v, const Loc& l) { return atomic_fetch_and(i, v, l); }},
    };
    const Loc loc = Loc::current();
    if (auto it = kUnary.find(f); it != kUnary.end()) {
      return it->second(AtomicArg(Arg(e, 0), f.c_str()), loc);
    }
    if (auto it = kBinary.find(f); it != kBinary.end()) {
      const int i = static_cast<int>(Eval(Arg(e, 0)));
      return it->second(i, AtomicArg(Arg(e, 1), f.c_str()), loc);
    }
    atomic_t* v = nullptr;
    if (f == "atomic_set" || f == "atomic_set_release") {
      v = AtomicArg(Arg(e, 0), f.c_str());
      const int i = static_cast<int>(Eval(Arg(e, 1)));
      if (f == "atomic_set") {
        atomic_set(v, i);
      } else {
        atomic_set_release(v, i);
      }
      return 0;
    }
    if (f.rfind("atomic_xchg", 0) == 0) {
      v = AtomicArg(Arg(e, 0), f.c_str());
      const int n = static_cast<int>(Eval(Arg(e, 1)));
      if (f == "atomic_xchg") return atomic_xchg(v, n);
      if (f == "atomic_xchg_relaxed") return atomic_xchg_relaxed(v, n);
      if (f == "atomic_xchg_acquire") return atomic_xchg_acquire(v, n);
      if (f == "atomic_xchg_release") return atomic_xchg_release(v, n);
    }
    if (f.rfind("atomic_cmpxchg", 0) == 0) {
      v = AtomicArg(Arg(e, 0), f.c_str());
      const int o = static_cast<int>(Eval(Arg(e, 1)));
      const int n = static_cast<int>(Eval(Arg(e, 2)));
      if (f == "atomic_cmpxchg") return atomic_cmpxchg(v, o, n);
      if (f == "atomic_cmpxchg_relaxed") return atomic_cmpxchg_relaxed(v, o, n);
      if (f == "atomic_cmpxchg_acquire") return atomic_cmpxchg_acquire(v, o, n);
      if (f == "atomic_cmpxchg_release") return atomic_cmpxchg_release(v, o, n);
    }
    RunError("line " + std::to_string(e.line) + ": " + f + "() is not supported by kmc litmus");
  }

  Machine& m_;
  const Test& t_;
  int proc_;
  std::map<std::string, int64_t> regs_;
  std::vector<bool> hoisted_;  // top-level statements already run early
};

// Names kmc litmus knows; anything else is rejected before a run.
const std::set<std::string>& KnownCalls() {
  static const std::set<std::string> k = {
      "READ_ONCE", "WRITE_ONCE", "smp_load_acquire", "smp_store_release", "smp_store_mb",
      "rcu_dereference", "rcu_dereference_raw", "srcu_dereference", "rcu_assign_pointer",
      "xchg", "xchg_relaxed", "xchg_acquire", "xchg_release", "cmpxchg", "cmpxchg_relaxed",
      "cmpxchg_acquire", "cmpxchg_release", "smp_cond_load_acquire", "smp_cond_load_relaxed",
      "smp_mb", "smp_rmb", "smp_wmb", "smp_mb__before_atomic", "smp_mb__after_atomic",
      "smp_mb__after_spinlock", "smp_mb__after_unlock_lock", "barrier", "spin_lock",
      "spin_unlock", "spin_trylock", "spin_is_locked", "rcu_read_lock", "rcu_read_unlock",
      "synchronize_rcu", "synchronize_rcu_expedited", "atomic_read", "atomic_read_acquire",
      "atomic_set", "atomic_set_release", "atomic_inc", "atomic_dec", "atomic_add", "atomic_sub",
      "atomic_inc_return", "atomic_dec_return", "atomic_add_return", "atomic_sub_return",
      "atomic_inc_return_relaxed", "atomic_inc_return_acquire", "atomic_inc_return_release",
      "atomic_dec_return_relaxed", "atomic_dec_return_acquire", "atomic_dec_return_release",
      "atomic_add_return_relaxed", "atomic_add_return_acquire", "atomic_add_return_release",
      "atomic_fetch_inc", "atomic_fetch_inc_relaxed", "atomic_fetch_inc_acquire",
      "atomic_fetch_inc_release", "atomic_fetch_dec", "atomic_fetch_add",
      "atomic_fetch_add_relaxed", "atomic_fetch_add_acquire", "atomic_fetch_add_release",
      "atomic_fetch_sub", "atomic_fetch_or", "atomic_fetch_and", "atomic_inc_and_test",
      "atomic_dec_and_test", "atomic_xchg", "atomic_xchg_relaxed", "atomic_xchg_acquire",
      "atomic_xchg_release", "atomic_cmpxchg", "atomic_cmpxchg_relaxed", "atomic_cmpxchg_acquire",
      "atomic_cmpxchg_release"};
  return k;
}

bool CheckCalls(const Expr* e, std::string* bad) {
  if (e == nullptr) return true;
  if (e->kind == Expr::Kind::kCall && KnownCalls().count(e->name) == 0) {
    *bad = "line " + std::to_string(e->line) + ": " + e->name + "() is not supported by kmc litmus";
    return false;
  }
  for (const auto& a : e->args) {
    if (!CheckCalls(a.get(), bad)) return false;
  }
  return true;
}

bool CheckStmts(const std::vector<Stmt>& body, std::string* bad) {
  for (const Stmt& s : body) {
    if (!CheckCalls(s.expr.get(), bad)) return false;
    if (!CheckStmts(s.then_body, bad) || !CheckStmts(s.else_body, bad)) return false;
  }
  return true;
}

int64_t FinalValue(Machine& m, const Test& t, const std::string& name) {
  const int k = t.VarIndex(name);
  const Var& v = t.vars[static_cast<size_t>(k)];
  const size_t s = m.slot[static_cast<size_t>(k)];
  switch (v.kind) {
    case VarKind::kInt: return m.ints[s].raw();
    case VarKind::kAtomic: return atomic_read(&m.atomics[s]);
    case VarKind::kSpinlock: return spin_is_locked(&m.locks[s]);
  }
  return 0;
}

bool Eval(const Cond& c, Machine& m, const Test& t) {
  switch (c.kind) {
    case Cond::Kind::kTrue: return true;
    case Cond::Kind::kFalse: return false;
    case Cond::Kind::kAnd: return Eval(*c.args[0], m, t) && Eval(*c.args[1], m, t);
    case Cond::Kind::kOr: return Eval(*c.args[0], m, t) || Eval(*c.args[1], m, t);
    case Cond::Kind::kNot: return !Eval(*c.args[0], m, t);
    case Cond::Kind::kEq:
    case Cond::Kind::kNe: {
      int64_t lhs = 0;
      if (c.proc >= 0) {
        const auto& regs = m.regs[static_cast<size_t>(c.proc)];
        auto it = regs.find(c.lhs);
        lhs = it == regs.end() ? 0 : it->second;
      } else {
        lhs = FinalValue(m, t, c.lhs);
      }
      const int64_t rhs = c.value_var.empty() ? c.value : kAddressBase + t.VarIndex(c.value_var);
      return (lhs == rhs) == (c.kind == Cond::Kind::kEq);
    }
  }
  return false;
}

std::string ValueText(int64_t v, const Test& t) {
  const int64_t k = v - kAddressBase;
  if (k >= 0 && k < static_cast<int64_t>(t.vars.size())) {
    return t.vars[static_cast<size_t>(k)].name;
  }
  return std::to_string(v);
}

// "0:r0=1 1:r1=0 x=2": every register and location the clauses name.
std::string State(const Cond* c, Machine& m, const Test& t, std::set<std::string>* seen) {
  if (c == nullptr) return "";
  std::string out;
  for (const auto& a : c->args) out += State(a.get(), m, t, seen);
  if (c->kind == Cond::Kind::kEq || c->kind == Cond::Kind::kNe) {
    std::string key = c->proc >= 0 ? std::to_string(c->proc) + ":" + c->lhs : c->lhs;
    if (seen->insert(key).second) {
      int64_t v = 0;
      if (c->proc >= 0) {
        const auto& regs = m.regs[static_cast<size_t>(c->proc)];
        auto it = regs.find(c->lhs);
        v = it == regs.end() ? 0 : it->second;
      } else {
        v = FinalValue(m, t, c->lhs);
      }
      out += " " + key + "=" + ValueText(v, t);
    }
  }
  return out;
}

std::string CondText(const Cond& c, const Test& t) {
  switch (c.kind) {
    case Cond::Kind::kTrue: return "true";
    case Cond::Kind::kFalse: return "false";
    case Cond::Kind::kAnd: return "(" + CondText(*c.args[0], t) + " /\\ " + CondText(*c.args[1], t) + ")";
    case Cond::Kind::kOr: return "(" + CondText(*c.args[0], t) + " \\/ " + CondText(*c.args[1], t) + ")";
    case Cond::Kind::kNot: return "~" + CondText(*c.args[0], t);
    case Cond::Kind::kEq:
    case Cond::Kind::kNe: {
      std::string s = c.proc >= 0 ? std::to_string(c.proc) + ":" + c.lhs : c.lhs;
      s += c.kind == Cond::Kind::kEq ? "=" : "!=";
      s += c.value_var.empty() ? std::to_string(c.value) : c.value_var;
      return s;
    }
  }
  return "";
}

void FinalCheck(Machine& m) {
  const Test& t = *g_test;
  if (t.filter && !Eval(*t.filter, m, t)) return;
  bool holds = Eval(*t.exists, m, t);
  if (t.negated_exists) holds = !holds;
  if (holds != g_want_exists) return;
  std::set<std::string> seen;
  static std::string msg;
  msg = std::string(g_want_exists ? "exists clause reached:" : "exists clause not reached:") +
        State(t.exists.get(), m, t, &seen) + State(t.filter.get(), m, t, &seen);
  kmc_assert_failed(msg.c_str(), "assert", std::source_location::current());
}

Model MakeModel(const Test& t) {
  Model m("litmus/" + t.name);
  m.Describe("litmus test " + t.file);
  m.Cpus(static_cast<int>(t.procs.size()));
  m.Expect(Verdict::kClean);
  auto f = m.Fixture<Machine>();
  for (size_t i = 0; i < t.procs.size(); ++i) {
    const int p = static_cast<int>(i);
    f.Task("P" + std::to_string(p), p, [p](Machine& mach) { Interp(mach, *g_test, p).Run(); });
  }
  f.Check([](Machine& mach) { FinalCheck(mach); });
  return m;
}

}  // namespace

Outcome Run(const Test& test) {
  Outcome out;
  out.name = test.name;
  out.file = test.file;
  out.expected = test.expected;
  std::string bad;
  for (const Proc& p : test.procs) {
    if (!CheckStmts(p.body, &bad)) {
      out.error = bad;
      out.verdict = "error";
      out.match = false;
      return out;
    }
  }
  g_test = &test;
  RunOptions options;
  options.search = SearchMode::kExhaustive;
  const Model model = MakeModel(test);
  g_want_exists = true;
  Result first = CheckModel(model, options);
  out.executions = first.executions;
  out.seconds = first.seconds;
  out.complete = first.complete;
  if (first.verdict == Verdict::kAssertionFailed && first.message.find(kRunError) == std::string::npos) {
    out.witness = first.report;
    out.replay = first.replay;
    // Does every execution reach it?
    g_want_exists = false;
    Result second = CheckModel(model, options);
    out.executions += second.executions;
    out.seconds += second.seconds;
    if (second.verdict == Verdict::kClean) {
      out.verdict = second.complete ? "Always" : "Sometimes";
      out.complete = second.complete;
    } else if (second.verdict == Verdict::kAssertionFailed &&
               second.message.find(kRunError) == std::string::npos) {
      out.verdict = "Sometimes";
      out.complete = true;
    } else {
      out.verdict = VerdictName(second.verdict);
      out.error = second.message;
      out.witness = second.report;
    }
  } else if (first.verdict == Verdict::kClean) {
    out.verdict = "Never";
  } else {
    out.verdict = VerdictName(first.verdict);
    out.error = first.message;
    out.witness = first.report;
    out.replay = first.replay;
  }
  g_want_exists = true;
  g_test = nullptr;
  if (out.expected) {
    // "Never" only counts when the search was complete.
    out.match = out.verdict == *out.expected && (out.verdict != "Never" || out.complete);
  } else {
    out.match = out.error.empty();
  }
  return out;
}

std::optional<std::string> Replay(const Test& test, const std::string& token, std::string* error) {
  g_test = &test;
  g_want_exists = true;
  const Model model = MakeModel(test);
  std::optional<Result> r = ReplayModel(model, token, error);
  g_test = nullptr;
  if (!r) return std::nullopt;
  return r->report;
}

int Main(const std::vector<std::string>& files, const std::vector<std::string>& known_mismatches,
         const std::string& replay_token) {
  if (files.empty()) {
    std::fprintf(stderr, "kmc: litmus needs one or more .litmus files\n");
    return 2;
  }
  std::set<std::string> known(known_mismatches.begin(), known_mismatches.end());
  int status = 0;
  size_t matched = 0, total = 0, known_seen = 0;
  std::set<std::string> names_seen;
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in) {
      std::fprintf(stderr, "kmc: cannot read %s\n", file.c_str());
      status = 2;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string error;
    std::unique_ptr<Test> test = Parse(ss.str(), file, &error);
    if (!test) {
      std::fprintf(stderr, "kmc: %s\n", error.c_str());
      status = 2;
      continue;
    }
    if (!replay_token.empty()) {
      std::optional<std::string> report = Replay(*test, replay_token, &error);
      if (!report) {
        std::fprintf(stderr, "kmc: %s\n", error.c_str());
        return 2;
      }
      std::printf("%s", report->c_str());
      return 0;
    }
    const Outcome o = Run(*test);
    ++total;
    names_seen.insert(o.name);
    const bool is_known = known.count(o.name) != 0;
    std::string match_text;
    if (!o.error.empty() && o.verdict == "error") {
      match_text = "ERROR: " + o.error;
      status = std::max(status, 2);
    } else if (o.expected) {
      if (o.match) {
        match_text = "Result: " + *o.expected + ", match";
        if (is_known) {
          match_text += " (listed as a known mismatch: remove it from the list)";
          status = std::max(status, 1);
        }
      } else {
        match_text = "Result: " + *o.expected + ", MISMATCH";
        if (is_known) {
          match_text += " (known: kmc cannot reach this outcome, see README)";
          ++known_seen;
        } else {
          status = std::max(status, 1);
        }
      }
    } else {
      match_text = o.error.empty() ? "no Result in the file" : "error: " + o.error;
      if (!o.error.empty()) status = std::max(status, 1);
    }
    matched += o.match ? 1 : 0;
    std::printf("%-40s %-10s %-9s %8llu executions %7.2fs  %s\n", o.name.c_str(), o.verdict.c_str(),
                o.complete ? "complete" : "partial",
                static_cast<unsigned long long>(o.executions), o.seconds, match_text.c_str());
    if (!o.witness.empty() && (o.verdict == "Sometimes" || o.verdict == "Always" || !o.match ||
                               !o.error.empty())) {
      std::printf("  witness (replay: kmc litmus --replay=%s %s)\n", o.replay.c_str(),
                  o.file.c_str());
      std::istringstream lines(o.witness);
      std::string line;
      while (std::getline(lines, line)) {
        // The report's own replay line names `kmc replay`, which does not
        // know litmus models; the line above says how to replay.
        if (line.rfind("replay:   bazel run", 0) == 0) continue;
        std::printf("    %s\n", line.c_str());
      }
    }
    std::fflush(stdout);
  }
  for (const std::string& k : known) {
    if (names_seen.count(k) == 0) {
      std::printf("known mismatch %s: no such test among the files\n", k.c_str());
      status = std::max(status, 1);
    }
  }
  std::printf("\n%zu of %zu litmus tests match their Result (%zu known mismatches).\n", matched,
              total, known_seen);
  return status;
}

}  // namespace kmc::litmus
