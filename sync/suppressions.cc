// kmc: suppressions (see suppressions.h).

#include "sync/suppressions.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace kmc {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The verdict a kind names: "race", or a verdict name with '_' for spaces.
std::optional<Verdict> KindVerdict(std::string_view kind) {
  if (kind == "race") return Verdict::kDataRace;
  for (Verdict v : kAllVerdicts) {
    std::string name(VerdictName(v));
    for (char& c : name) {
      if (c == ' ') c = '_';
    }
    if (name == kind) return v;
  }
  return std::nullopt;
}

bool Suppressible(Verdict v) {
  return v != Verdict::kClean && v != Verdict::kNondeterministic && v != Verdict::kModelError;
}

std::string KindList() {
  std::string s = "race";
  for (Verdict v : kAllVerdicts) {
    if (!Suppressible(v)) continue;
    std::string name(VerdictName(v));
    for (char& c : name) {
      if (c == ' ') c = '_';
    }
    s += ", " + name;
  }
  return s;
}

std::string QualifiedFunction(std::string_view fn) {
  const size_t paren = fn.find('(');
  if (paren != std::string_view::npos) fn = fn.substr(0, paren);
  const size_t space = fn.rfind(' ');
  if (space != std::string_view::npos) fn = fn.substr(space + 1);
  return std::string(fn);
}

std::string Unqualified(const std::string& fn) {
  const size_t colon = fn.rfind("::");
  return colon == std::string::npos ? fn : fn.substr(colon + 2);
}

// The file, or any suffix of it that starts after a '/'.
bool FileMatches(std::string_view pattern, std::string_view file) {
  for (size_t start = 0;;) {
    if (WildcardMatch(pattern, file.substr(start))) return true;
    const size_t slash = file.find('/', start);
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

bool FrameMatches(const Suppressions::Rule& rule, const SuppressFrame& f) {
  if (rule.source_line != 0) {
    return f.line == rule.source_line && FileMatches(rule.file, f.file);
  }
  if (!f.function.empty()) {
    const std::string qualified = QualifiedFunction(f.function);
    if (WildcardMatch(rule.pattern, qualified) ||
        WildcardMatch(rule.pattern, Unqualified(qualified)) ||
        WildcardMatch(rule.pattern, f.function)) {
      return true;
    }
  }
  return !f.file.empty() && FileMatches(rule.pattern, f.file);
}

}  // namespace

bool WildcardMatch(std::string_view p, std::string_view s) {
  // Iterative matching with backtracking to the last '*'.
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && p[pi] == s[si]) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::optional<Suppressions> Suppressions::Parse(std::string_view text, std::string_view file_name,
                                                std::string* error) {
  Suppressions out;
  int number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = Trim(text.substr(start, nl - start));
    ++number;
    start = nl + 1;
    if (line.empty() || line.front() == '#') {
      if (nl == text.size()) break;
      continue;
    }
    auto fail = [&](const std::string& why) {
      *error = std::string(file_name) + ":" + std::to_string(number) + ": " + why;
      return std::nullopt;
    };
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail("expected KIND:PATTERN (e.g. race:scull_read), got '" + std::string(line) + "'");
    }
    const std::string_view kind = Trim(line.substr(0, colon));
    const std::string_view pattern = Trim(line.substr(colon + 1));
    const std::optional<Verdict> v = KindVerdict(kind);
    if (!v || !Suppressible(*v)) {
      return fail("unknown kind '" + std::string(kind) + "' (one of: " + KindList() + ")");
    }
    if (pattern.empty()) return fail("'" + std::string(kind) + ":' needs a pattern");
    Rule rule;
    rule.text = std::string(kind) + ":" + std::string(pattern);
    rule.verdict = *v;
    rule.pattern = std::string(pattern);
    rule.line_number = number;
    const size_t last = pattern.rfind(':');
    if (last != std::string_view::npos && last + 1 < pattern.size() &&
        pattern.find_first_not_of("0123456789", last + 1) == std::string_view::npos) {
      const std::string_view digits = pattern.substr(last + 1);
      if (digits.size() > 9 || last == 0) return fail("bad source line in '" + std::string(pattern) + "'");
      rule.source_line = static_cast<unsigned>(std::stoul(std::string(digits)));
      if (rule.source_line == 0) return fail("source lines start at 1");
      rule.file = std::string(pattern.substr(0, last));
    }
    out.rules_.push_back(std::move(rule));
    if (nl == text.size()) break;
  }
  return out;
}

std::optional<Suppressions> Suppressions::Load(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read suppressions file " + path;
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path, error);
}

int Suppressions::Match(Verdict verdict, const std::vector<SuppressFrame>& frames) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (rule.verdict != verdict) continue;
    for (const SuppressFrame& f : frames) {
      if (FrameMatches(rule, f)) return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace kmc
