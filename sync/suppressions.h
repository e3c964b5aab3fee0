// kmc: suppressions, as ThreadSanitizer and KCSAN users know them.
//
// A suppressions file (kmc check --suppressions=FILE) has one rule per line:
//
//   # comments start with '#'; blank lines are ignored
//   race:scull_follow          a data race one of whose accesses is in scull_follow
//   race:drivers/scull/main.c:118    ... or at that source line
//   deadlock:scullpipe_*       '*' matches any run of characters
//   assertion_failed:models/scull_models.cc
//
// The part before the first ':' is the kind: `race` (ThreadSanitizer's
// name) or a verdict as kmc names it, with '_' for spaces (`data_race`,
// `deadlock`, `possible_deadlock`, `use_after_free`, `memory_leak`, ...).
// The rest is the pattern. A pattern that ends in ":<line>" names a source
// line: a location matches when its line is that number and its file is the
// file part or ends with "/" + the file part. Any other pattern matches a
// location whose function (bare, "scull_read", or qualified,
// "kmc::drivers::scull::scull_read") or file (whole, or after any '/') it
// matches in full, '*' matching any run of characters. A finding is
// suppressed when a rule of its kind matches any location it involves (the
// failing access, the other access of a race, the call chains shown, the
// wait sites of a deadlock).

#ifndef KMC_SYNC_SUPPRESSIONS_H_
#define KMC_SYNC_SUPPRESSIONS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sync/verdict.h"

namespace kmc {

// One location a finding involves.
struct SuppressFrame {
  std::string file;      // "drivers/scull/main.c"
  unsigned line = 0;
  std::string function;  // as the compiler spells it (may be qualified, with parameters)
};

class Suppressions {
 public:
  struct Rule {
    std::string text;  // the line as written (trimmed), "race:scull_follow"
    Verdict verdict = Verdict::kDataRace;
    std::string pattern;
    int line_number = 0;   // in the file
    unsigned source_line = 0;  // pattern "file:N": N, else 0
    std::string file;          // pattern "file:N": file
  };

  // Parses the text of a suppressions file; on a bad line returns nullopt
  // and sets *error to "FILE:LINE: why".
  static std::optional<Suppressions> Parse(std::string_view text, std::string_view file_name,
                                           std::string* error);
  // Reads and parses a file.
  static std::optional<Suppressions> Load(const std::string& path, std::string* error);

  // The index of the first rule that suppresses a finding of `verdict`
  // involving `frames`, or -1.
  int Match(Verdict verdict, const std::vector<SuppressFrame>& frames) const;

  const std::vector<Rule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<Rule> rules_;
};

// '*'-wildcard match of a whole string.
bool WildcardMatch(std::string_view pattern, std::string_view s);

}  // namespace kmc

#endif  // KMC_SYNC_SUPPRESSIONS_H_
