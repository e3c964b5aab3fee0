// kmc litmus: the parser of the C litmus format (see litmus.h).

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tools/litmus/litmus.h"

namespace kmc::litmus {

int Test::VarIndex(const std::string& n) const {
  for (size_t i = 0; i < vars.size(); ++i) {
    if (vars[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

namespace {

struct Token {
  enum class Kind { kIdent, kNum, kPunct, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  int64_t num = 0;
  int line = 0;
};

class ParseError {
 public:
  ParseError(int line, std::string msg) : line_(line), msg_(std::move(msg)) {}
  int line() const { return line_; }
  const std::string& msg() const { return msg_; }

 private:
  int line_;
  std::string msg_;
};

// Splits the text after the header line into tokens. OCaml comments (* *)
// and C comments are skipped; quoted strings (herd's doc strings) too.
std::vector<Token> Tokenize(const std::string& s, int first_line) {
  std::vector<Token> out;
  int line = first_line;
  size_t i = 0;
  const size_t n = s.size();
  int depth_braces = 0;  // OCaml comments only outside { } (C has (*p))
  auto starts = [&](const char* p) { return s.compare(i, std::char_traits<char>::length(p), p) == 0; };
  while (i < n) {
    const char c = s[i];
    if (c == '\n') { ++line; ++i; continue; }
    if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    if (depth_braces == 0 && starts("(*")) {
      const int start = line;
      size_t depth = 0;
      while (i < n) {
        if (starts("(*")) { ++depth; i += 2; continue; }
        if (starts("*)")) { i += 2; if (--depth == 0) break; continue; }
        if (s[i] == '\n') ++line;
        ++i;
      }
      if (depth != 0) throw ParseError(start, "unterminated (* comment");
      continue;
    }
    if (starts("/*")) {
      const int start = line;
      const size_t e = s.find("*/", i + 2);
      if (e == std::string::npos) throw ParseError(start, "unterminated /* comment");
      for (size_t k = i; k < e; ++k) line += s[k] == '\n';
      i = e + 2;
      continue;
    }
    if (starts("//")) {
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '"') {
      ++i;
      while (i < n && s[i] != '"') { line += s[i] == '\n'; ++i; }
      ++i;
      continue;
    }
    Token t;
    t.line = line;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < n && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      t.kind = Token::Kind::kIdent;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < n && std::isalnum(static_cast<unsigned char>(s[j]))) ++j;
      t.kind = Token::Kind::kNum;
      t.text = s.substr(i, j - i);
      char* end = nullptr;
      t.num = static_cast<int64_t>(std::strtoll(t.text.c_str(), &end, 0));
      if (end == nullptr || *end != '\0') throw ParseError(line, "bad number '" + t.text + "'");
      i = j;
    } else {
      static const char* kTwo[] = {"/\\", "\\/", "==", "!=", "<=", ">=", "&&", "||", "->", "<<", ">>"};
      t.kind = Token::Kind::kPunct;
      t.text = std::string(1, c);
      for (const char* p : kTwo) {
        if (starts(p)) { t.text = p; break; }
      }
      i += t.text.size();
      if (t.text == "{") ++depth_braces;
      if (t.text == "}" && depth_braces > 0) --depth_braces;
    }
    out.push_back(t);
  }
  Token end;
  end.line = line;
  out.push_back(end);
  return out;
}

class Parser {
 public:
  Parser(std::vector<Token> toks, Test* test) : toks_(std::move(toks)), test_(test) {}

  void ParseAll() {
    ParseInit();
    while (Peek().kind == Token::Kind::kIdent && Peek().text.size() > 1 && Peek().text[0] == 'P' &&
           std::isdigit(static_cast<unsigned char>(Peek().text[1]))) {
      ParseProc();
    }
    if (test_->procs.empty()) throw ParseError(Peek().line, "expected a process P0(...) { ... }");
    bool have_exists = false;
    while (Peek().kind != Token::Kind::kEnd) {
      const Token t = Next();
      if (t.text == "locations") {
        Expect("[");
        while (!Is("]")) {
          const Token v = Next();
          if (v.kind == Token::Kind::kEnd) throw ParseError(v.line, "unterminated locations [");
          if (v.kind == Token::Kind::kIdent) test_->locations.push_back(v.text);
        }
        Expect("]");
      } else if (t.text == "filter") {
        test_->filter = ParseCond();
      } else if (t.text == "exists") {
        test_->exists = ParseCond();
        have_exists = true;
      } else if (t.text == "~" && Is("exists")) {
        Next();
        test_->exists = ParseCond();
        test_->negated_exists = true;
        have_exists = true;
      } else {
        throw ParseError(t.line, "expected locations, filter or exists, found '" + t.text + "'");
      }
    }
    if (!have_exists) throw ParseError(Peek().line, "the test has no exists clause");
  }

 private:
  const Token& Peek(size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  Token Next() {
    Token t = Peek();
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }
  bool Is(const char* text) const { return Peek().kind != Token::Kind::kEnd && Peek().text == text; }
  void Expect(const char* text) {
    if (!Is(text)) {
      throw ParseError(Peek().line, std::string("expected '") + text + "', found '" +
                                        (Peek().kind == Token::Kind::kEnd ? "end of file" : Peek().text) +
                                        "'");
    }
    Next();
  }
  std::string Ident() {
    if (Peek().kind != Token::Kind::kIdent) {
      throw ParseError(Peek().line, "expected a name, found '" + Peek().text + "'");
    }
    return Next().text;
  }

  static bool IsTypeWord(const std::string& w) {
    static const std::set<std::string> kTypes = {
        "int", "long", "unsigned", "char", "short", "void", "const", "volatile", "spinlock_t",
        "atomic_t", "atomic_long_t", "struct", "u32", "u64", "s32", "s64", "intptr_t", "uintptr_t",
        "bool", "size_t"};
    return kTypes.count(w) != 0;
  }

  Var& VarNamed(const std::string& n) {
    const int k = test_->VarIndex(n);
    if (k >= 0) return test_->vars[static_cast<size_t>(k)];
    Var v;
    v.name = n;
    test_->vars.push_back(v);
    return test_->vars.back();
  }

  // { x=0; int y = 1; int *p = &x; p = y; 0:r1=1; spinlock_t s; }
  void ParseInit() {
    Expect("{");
    while (!Is("}")) {
      if (Peek().kind == Token::Kind::kEnd) throw ParseError(Peek().line, "unterminated initial state");
      if (Is(";")) { Next(); continue; }
      // proc:reg = value
      if (Peek().kind == Token::Kind::kNum && Peek(1).text == ":") {
        const int proc = static_cast<int>(Next().num);
        Next();
        const std::string reg = Ident();
        Expect("=");
        const Token v = Next();
        if (v.kind != Token::Kind::kNum) throw ParseError(v.line, "a register starts with a number");
        test_->reg_init[{proc, reg}] = v.num;
        continue;
      }
      VarKind kind = VarKind::kInt;
      while (Peek().kind == Token::Kind::kIdent && IsTypeWord(Peek().text)) {
        const std::string w = Next().text;
        if (w == "spinlock_t") kind = VarKind::kSpinlock;
        if (w == "atomic_t" || w == "atomic_long_t") kind = VarKind::kAtomic;
      }
      while (Is("*")) Next();
      const std::string name = Ident();
      Var& v = VarNamed(name);
      if (kind != VarKind::kInt) v.kind = kind;
      if (Is("=")) {
        Next();
        if (Is("&")) Next();
        if (Is("-") && Peek(1).kind == Token::Kind::kNum) {
          Next();
          v.initial = -Next().num;
        } else if (Peek().kind == Token::Kind::kNum) {
          v.initial = Next().num;
        } else if (Is("ATOMIC_INIT")) {
          Next();
          Expect("(");
          v.initial = Next().num;
          Expect(")");
        } else {
          v.points_to = Ident();
        }
      }
      if (!Is("}")) Expect(";");
    }
    Expect("}");
  }

  void ParseProc() {
    Proc p;
    const Token head = Next();
    p.index = std::atoi(head.text.c_str() + 1);
    if (p.index != static_cast<int>(test_->procs.size())) {
      throw ParseError(head.line, "processes must be P0, P1, ... in order");
    }
    Expect("(");
    while (!Is(")")) {
      VarKind kind = VarKind::kInt;
      std::string name;
      while (Peek().kind == Token::Kind::kIdent) {
        const std::string w = Next().text;
        if (w == "spinlock_t") kind = VarKind::kSpinlock;
        if (w == "atomic_t" || w == "atomic_long_t") kind = VarKind::kAtomic;
        name = w;
        while (Is("*")) Next();
      }
      if (name.empty()) throw ParseError(Peek().line, "expected a parameter");
      Var& v = VarNamed(name);
      if (kind != VarKind::kInt) v.kind = kind;
      p.params.push_back(name);
      if (!Is(")")) Expect(",");
    }
    Expect(")");
    Expect("{");
    while (!Is("}")) {
      if (Peek().kind == Token::Kind::kEnd) throw ParseError(head.line, "unterminated body of " + head.text);
      p.body.push_back(ParseStmt());
    }
    Expect("}");
    test_->procs.push_back(std::move(p));
  }

  Stmt ParseStmt() {
    Stmt s;
    s.line = Peek().line;
    if (Is(";")) { Next(); return s; }
    if (Is("{")) {
      Next();
      s.kind = Stmt::Kind::kBlock;
      while (!Is("}")) {
        if (Peek().kind == Token::Kind::kEnd) throw ParseError(s.line, "unterminated block");
        s.then_body.push_back(ParseStmt());
      }
      Expect("}");
      return s;
    }
    if (Is("if")) {
      Next();
      s.kind = Stmt::Kind::kIf;
      Expect("(");
      s.expr = ParseExpr();
      Expect(")");
      s.then_body.push_back(ParseStmt());
      if (Is("else")) {
        Next();
        s.else_body.push_back(ParseStmt());
      }
      return s;
    }
    if (Peek().kind == Token::Kind::kIdent && IsTypeWord(Peek().text)) {
      while (Peek().kind == Token::Kind::kIdent && IsTypeWord(Peek().text)) Next();
      while (Is("*")) Next();
      s.kind = Stmt::Kind::kDecl;
      s.reg = Ident();
      if (Is("=")) {
        Next();
        s.expr = ParseExpr();
      }
      // int r0, r1;  -> only the first is kept as a declaration; registers
      // need no declaration to be used.
      while (Is(",")) {
        Next();
        while (Is("*")) Next();
        Ident();
      }
      Expect(";");
      return s;
    }
    if (Peek().kind == Token::Kind::kIdent && Peek(1).text == "=") {
      s.kind = Stmt::Kind::kAssign;
      s.reg = Next().text;
      Next();
      s.expr = ParseExpr();
      Expect(";");
      return s;
    }
    s.kind = Stmt::Kind::kExpr;
    s.expr = ParseExpr();
    Expect(";");
    return s;
  }

  std::unique_ptr<Expr> Make(Expr::Kind k, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = line;
    return e;
  }

  std::unique_ptr<Expr> ParseExpr() { return ParseBinary(0); }

  static int Prec(const std::string& op) {
    static const std::map<std::string, int> kPrec = {
        {"||", 1}, {"&&", 2}, {"|", 3}, {"^", 4}, {"&", 5}, {"==", 6}, {"!=", 6},
        {"<", 7}, {">", 7}, {"<=", 7}, {">=", 7}, {"<<", 8}, {">>", 8},
        {"+", 9}, {"-", 9}, {"*", 10}, {"/", 10}, {"%", 10}};
    auto it = kPrec.find(op);
    return it == kPrec.end() ? -1 : it->second;
  }

  std::unique_ptr<Expr> ParseBinary(int min_prec) {
    auto lhs = ParseUnary();
    for (;;) {
      const Token& t = Peek();
      if (t.kind != Token::Kind::kPunct) break;
      const int p = Prec(t.text);
      if (p < 0 || p < min_prec) break;
      const Token op = Next();
      auto rhs = ParseBinary(p + 1);
      auto e = Make(Expr::Kind::kBinary, op.line);
      e->name = op.text;
      e->args.push_back(std::move(lhs));
      e->args.push_back(std::move(rhs));
      lhs = std::move(e);
    }
    return lhs;
  }

  std::unique_ptr<Expr> ParseUnary() {
    const Token t = Peek();
    if (t.text == "*" && t.kind == Token::Kind::kPunct) {
      Next();
      auto e = Make(Expr::Kind::kDeref, t.line);
      e->args.push_back(ParseUnary());
      return e;
    }
    if (t.text == "&" && t.kind == Token::Kind::kPunct) {
      Next();
      auto e = Make(Expr::Kind::kAddrOf, t.line);
      e->args.push_back(ParseUnary());
      return e;
    }
    if ((t.text == "-" || t.text == "!" || t.text == "~") && t.kind == Token::Kind::kPunct) {
      Next();
      auto e = Make(Expr::Kind::kUnary, t.line);
      e->name = t.text;
      e->args.push_back(ParseUnary());
      return e;
    }
    return ParsePrimary();
  }

  std::unique_ptr<Expr> ParsePrimary() {
    const Token t = Next();
    if (t.kind == Token::Kind::kNum) {
      auto e = Make(Expr::Kind::kNum, t.line);
      e->num = t.num;
      return e;
    }
    if (t.text == "(") {
      // A cast such as (int *) is skipped.
      if (Peek().kind == Token::Kind::kIdent && IsTypeWord(Peek().text)) {
        while (!Is(")")) {
          if (Peek().kind == Token::Kind::kEnd) throw ParseError(t.line, "unterminated cast");
          Next();
        }
        Expect(")");
        return ParseUnary();
      }
      auto e = ParseExpr();
      Expect(")");
      return e;
    }
    if (t.kind == Token::Kind::kIdent) {
      if (Is("(")) {
        Next();
        auto e = Make(Expr::Kind::kCall, t.line);
        e->name = t.text;
        e->id = next_id_++;
        while (!Is(")")) {
          if (Peek().kind == Token::Kind::kEnd) throw ParseError(t.line, "unterminated call");
          e->args.push_back(ParseExpr());
          if (!Is(")")) Expect(",");
        }
        Expect(")");
        return e;
      }
      auto e = Make(Expr::Kind::kName, t.line);
      e->name = t.text;
      return e;
    }
    throw ParseError(t.line, "unexpected '" + (t.kind == Token::Kind::kEnd ? std::string("end of file")
                                                                           : t.text) + "'");
  }

  // Conditions: a /\ b, a \/ b, ~a, (a), p:r=v, x=v, true, false.
  std::unique_ptr<Cond> ParseCond() { return ParseOr(); }
  std::unique_ptr<Cond> ParseOr() {
    auto lhs = ParseAnd();
    while (Is("\\/")) {
      Next();
      auto c = std::make_unique<Cond>();
      c->kind = Cond::Kind::kOr;
      c->args.push_back(std::move(lhs));
      c->args.push_back(ParseAnd());
      lhs = std::move(c);
    }
    return lhs;
  }
  std::unique_ptr<Cond> ParseAnd() {
    auto lhs = ParseNot();
    while (Is("/\\")) {
      Next();
      auto c = std::make_unique<Cond>();
      c->kind = Cond::Kind::kAnd;
      c->args.push_back(std::move(lhs));
      c->args.push_back(ParseNot());
      lhs = std::move(c);
    }
    return lhs;
  }
  std::unique_ptr<Cond> ParseNot() {
    if (Is("~")) {
      Next();
      auto c = std::make_unique<Cond>();
      c->kind = Cond::Kind::kNot;
      c->args.push_back(ParseNot());
      return c;
    }
    if (Is("(")) {
      Next();
      auto c = ParseOr();
      Expect(")");
      return c;
    }
    auto c = std::make_unique<Cond>();
    if (Is("true")) { Next(); c->kind = Cond::Kind::kTrue; return c; }
    if (Is("false")) { Next(); c->kind = Cond::Kind::kFalse; return c; }
    c->kind = Cond::Kind::kEq;
    if (Peek().kind == Token::Kind::kNum && Peek(1).text == ":") {
      c->proc = static_cast<int>(Next().num);
      Next();
      if (c->proc < 0 || c->proc >= static_cast<int>(test_->procs.size())) {
        throw ParseError(Peek().line, "no process P" + std::to_string(c->proc));
      }
    }
    c->lhs = Ident();
    if (c->proc < 0 && test_->VarIndex(c->lhs) < 0) {
      throw ParseError(Peek().line, "unknown shared variable '" + c->lhs + "'");
    }
    if (Is("!=")) {
      Next();
      c->kind = Cond::Kind::kNe;
    } else if (Is("==")) {
      Next();
    } else {
      Expect("=");
    }
    bool neg = false;
    if (Is("-")) { Next(); neg = true; }
    const Token v = Next();
    if (v.kind == Token::Kind::kNum) {
      c->value = neg ? -v.num : v.num;
    } else if (v.kind == Token::Kind::kIdent) {
      if (test_->VarIndex(v.text) < 0) throw ParseError(v.line, "unknown variable '" + v.text + "'");
      c->value_var = v.text;
    } else {
      throw ParseError(v.line, "expected a value after '='");
    }
    return c;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  Test* test_;
  int next_id_ = 0;
};

// Address dependencies: a load whose value (through registers) is used in
// the address of a later access of the same process is marked
// feeds_address.
class DepAnalysis {
 public:
  void Proc(std::vector<Stmt>& body) {
    std::map<std::string, std::vector<Expr*>> deps;
    Block(body, deps);
  }

 private:
  using Deps = std::map<std::string, std::vector<Expr*>>;

  static bool IsLoad(const std::string& f) {
    return f == "READ_ONCE" || f == "rcu_dereference" || f == "smp_load_acquire" ||
           f == "atomic_read" || f == "rcu_dereference_raw";
  }

  // The loads an expression's value depends on; marks loads feeding
  // addresses inside it.
  std::vector<Expr*> Visit(Expr* e, const Deps& deps) {
    std::vector<Expr*> out;
    if (e == nullptr) return out;
    switch (e->kind) {
      case Expr::Kind::kName: {
        auto it = deps.find(e->name);
        if (it != deps.end()) out = it->second;
        return out;
      }
      case Expr::Kind::kDeref: {
        const std::vector<Expr*> addr = Visit(e->args[0].get(), deps);
        for (Expr* l : addr) l->feeds_address = true;
        return out;  // a plain dereference's value: no tracked load
      }
      case Expr::Kind::kCall: {
        std::vector<Expr*> all;
        for (size_t i = 0; i < e->args.size(); ++i) {
          Expr* a = e->args[i].get();
          // The first argument of an access is its address.
          if (i == 0 && a->kind == Expr::Kind::kDeref) {
            for (Expr* l : Visit(a->args[0].get(), deps)) l->feeds_address = true;
            continue;
          }
          const std::vector<Expr*> d = Visit(a, deps);
          if (i == 0) {
            for (Expr* l : d) l->feeds_address = true;
          }
          all.insert(all.end(), d.begin(), d.end());
        }
        if (IsLoad(e->name)) out.push_back(e);
        return out;
      }
      default:
        for (auto& a : e->args) {
          const std::vector<Expr*> d = Visit(a.get(), deps);
          out.insert(out.end(), d.begin(), d.end());
        }
        return out;
    }
  }

  void Block(std::vector<Stmt>& body, Deps& deps) {
    for (Stmt& s : body) {
      switch (s.kind) {
        case Stmt::Kind::kDecl:
        case Stmt::Kind::kAssign:
          deps[s.reg] = Visit(s.expr.get(), deps);
          break;
        case Stmt::Kind::kExpr:
          Visit(s.expr.get(), deps);
          break;
        case Stmt::Kind::kIf: {
          Visit(s.expr.get(), deps);
          Deps a = deps, b = deps;
          Block(s.then_body, a);
          Block(s.else_body, b);
          for (auto& [k, v] : b) {
            auto& dst = a[k];
            dst.insert(dst.end(), v.begin(), v.end());
          }
          deps = a;
          break;
        }
        case Stmt::Kind::kBlock:
          Block(s.then_body, deps);
          break;
        case Stmt::Kind::kNop:
          break;
      }
    }
  }
};

}  // namespace

std::unique_ptr<Test> Parse(const std::string& text, const std::string& file, std::string* error) {
  auto test = std::make_unique<Test>();
  test->file = file;
  // Header: "C name" on the first non-empty line.
  size_t pos = 0;
  int line = 1;
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) {
    line += text[pos] == '\n';
    ++pos;
  }
  const size_t eol = text.find('\n', pos);
  const std::string header = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
  std::smatch m;
  static const std::regex kHeader(R"(^C\s+(\S+)\s*$)");
  if (!std::regex_match(header, m, kHeader)) {
    *error = file + ":" + std::to_string(line) + ": expected the header 'C <name>'";
    return nullptr;
  }
  test->name = m[1];
  const std::string rest = eol == std::string::npos ? "" : text.substr(eol + 1);
  // Result: from the comment before the initial state.
  const size_t brace = rest.find('{');
  const std::string preamble = rest.substr(0, brace);
  static const std::regex kResult(R"(Result:\s*(Never|Sometimes|Always))");
  if (std::regex_search(preamble, m, kResult)) test->expected = m[1];
  try {
    Parser p(Tokenize(rest, line + 1), test.get());
    p.ParseAll();
  } catch (const ParseError& e) {
    *error = file + ":" + std::to_string(e.line()) + ": " + e.msg();
    return nullptr;
  }
  for (const Var& v : test->vars) {
    if (!v.points_to.empty() && test->VarIndex(v.points_to) < 0) {
      *error = file + ": " + v.name + " is initialized with the unknown variable " + v.points_to;
      return nullptr;
    }
  }
  if (test->procs.size() > 7) {
    *error = file + ": kmc runs at most 7 processes, the test has " +
             std::to_string(test->procs.size());
    return nullptr;
  }
  DepAnalysis deps;
  for (Proc& p : test->procs) deps.Proc(p.body);
  return test;
}

}  // namespace kmc::litmus
