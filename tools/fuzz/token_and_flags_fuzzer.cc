// libFuzzer target for the two parsers of untrusted input kmc has: the
// replay-token decoder (sync/token.h) and the command-line flag scanner
// (tools/flags.h). Built and run by tools/fuzz/run.sh with Debian's clang
// (-fsanitize=fuzzer,address,undefined); not part of the Bazel build.
//
// The input's first byte picks the parser ('f' or odd: flags, else a
// token; the seed corpus uses 'f' and 't'). For tokens, a decoded token must
// re-encode to a token that decodes to the same engine state (the run-length
// encoding loses nothing); for flags, the input is split into arguments at
// NUL bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "sync/token.h"
#include "tools/flags.h"

namespace {

constexpr const char* kModel = "scull/unlocked_write";

void FuzzToken(std::string_view text) {
  std::string error;
  std::optional<kmc::Token> t = kmc::DecodeToken(kModel, text, &error);
  if (!t) {
    if (error.empty()) std::abort();  // a refusal always says why
    return;
  }
  const std::string again = kmc::EncodeToken(kModel, t->mode, t->bound, t->engine_state);
  std::optional<kmc::Token> u = kmc::DecodeToken(kModel, again, &error);
  if (!u || u->engine_state != t->engine_state || u->mode != t->mode || u->bound != t->bound) {
    std::abort();
  }
}

void FuzzFlags(std::string_view text) {
  std::vector<std::string> args;
  std::string cur;
  for (char c : text) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  args.push_back(cur);
  kmc::cli::FlagScan scan;
  (void)kmc::cli::ScanFlags(args, &scan);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 'f' || (data[0] & 1) != 0) {
    FuzzFlags(text);
  } else {
    FuzzToken(text);
  }
  return 0;
}
