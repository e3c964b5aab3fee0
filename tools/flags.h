// kmc's command-line flag scanner.
//
// Checks every flag before Abseil parses them, so that an unknown flag or a
// malformed value is a usage error (exit 2) with a message that names the
// real limit, never a crash or a silently clamped value. Kept apart from
// tools/kmc.cc so that tools/fuzz can fuzz it.

#ifndef KMC_TOOLS_FLAGS_H_
#define KMC_TOOLS_FLAGS_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace kmc::cli {

struct FlagScan {
  std::set<std::string> given;    // flags given on the command line
  bool progress_negated = false;  // --noprogress or --progress=false
  bool help = false;              // --help, -h or --helpfull
};

// args: argv without the program name. Returns "" when every flag is known
// and well formed (or --help was asked for), else the reason.
std::string ScanFlags(const std::vector<std::string>& args, FlagScan* out);

// --shard=I/N: 0 <= I < N <= kMaxShards, both decimal.
inline constexpr int kMaxShards = 1024;
bool ParseShard(const std::string& v, int* index, int* count);

// A decimal unsigned integer no larger than max (no sign, no exponent).
bool ParseUnsigned(const std::string& v, uint64_t max, uint64_t* out);

}  // namespace kmc::cli

#endif  // KMC_TOOLS_FLAGS_H_
