// kmc's command-line flag scanner (see flags.h).

#include "tools/flags.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace kmc::cli {

// Parses a decimal unsigned integer; false when it is not one or exceeds max.
bool ParseUnsigned(const std::string& v, uint64_t max, uint64_t* out) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return false;
  uint64_t x = 0;
  for (char c : v) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  if (x > max) return false;
  *out = x;
  return true;
}

bool ParseShard(const std::string& v, int* index, int* count) {
  const size_t slash = v.find('/');
  uint64_t i = 0, n = 0;
  if (slash == std::string::npos || !ParseUnsigned(v.substr(0, slash), kMaxShards, &i) ||
      !ParseUnsigned(v.substr(slash + 1), kMaxShards, &n) || n == 0 || i >= n) {
    return false;
  }
  *index = static_cast<int>(i);
  *count = static_cast<int>(n);
  return true;
}

std::string ScanFlags(const std::vector<std::string>& args, FlagScan* out) {
  const std::vector<std::string> bools = {"all",  "json",     "verbose",     "progress",
                                         "fork", "all_bugs", "fine_grained"};
  const std::vector<std::string> valued = {"search",         "bound",    "executions", "seed",
                                           "max_executions", "watchdog", "token_file", "jobs",
                                           "trace",          "known_mismatches", "replay",
                                           "out",            "sarif", "icb",
                                           "lockdep_scope", "progress_every", "suppressions",
                                           "depth", "shard"};
  const size_t argc = args.size();
  for (size_t i = 0; i < argc; ++i) {
    std::string a = args[i];
    if (a == "--") break;
    if (a.rfind("-", 0) != 0 || a == "-") continue;
    if (a == "--help" || a == "-h" || a == "--helpfull") {
      out->help = true;
      return "";
    }
    std::string body = a.substr(a.rfind("--", 0) == 0 ? 2 : 1);
    std::string name = body.substr(0, body.find('='));
    const bool has_value = body.find('=') != std::string::npos;
    std::string value = has_value ? body.substr(body.find('=') + 1) : "";
    bool negated = false;
    if (name.rfind("no", 0) == 0 &&
        std::find(bools.begin(), bools.end(), name.substr(2)) != bools.end()) {
      negated = true;
      name = name.substr(2);
    }
    if (std::find(bools.begin(), bools.end(), name) != bools.end()) {
      if (has_value && (negated || (value != "true" && value != "false"))) {
        return "bad value for --" + name + ": " + value;
      }
      out->given.insert(name);
      if (name == "progress") out->progress_negated = negated || value == "false";
      continue;
    }
    if (std::find(valued.begin(), valued.end(), name) == valued.end()) {
      return "unknown flag " + a;
    }
    if (!has_value) {
      if (i + 1 >= argc) return "--" + name + " needs a value";
      value = args[++i];
    }
    out->given.insert(name);
    if (name == "out" || name == "sarif") {
      if (value.empty()) return "--" + name + " needs a path";
    } else if (name == "trace") {
      if (value != "short" && value != "full") {
        return "bad value for --trace: " + value + " (short or full)";
      }
    } else if (name == "lockdep_scope") {
      if (value != "model" && value != "driver") {
        return "bad value for --lockdep_scope: " + value + " (model or driver)";
      }
    } else if (name == "search") {
      if (value != "exhaustive" && value != "bounded" && value != "random" && value != "full" &&
          value != "pct") {
        return "bad value for --search: " + value + " (exhaustive, full, bounded, random or pct)";
      }
    } else if (name == "shard") {
      int index = 0, count = 0;
      if (!ParseShard(value, &index, &count)) {
        return "bad value for --shard: " + value + " (I/N with 0 <= I < N <= " +
               std::to_string(kMaxShards) + ")";
      }
    } else if (name == "icb") {
      uint64_t k = 0;
      if (value != "off" && !(ParseUnsigned(value, 64, &k))) {
        return "bad value for --icb: " + value + " (0..64, or off)";
      }
    } else if (name == "known_mismatches" || name == "replay") {
      // kmc litmus: a list of test names / a replay token.
    } else if (name == "token_file" || name == "suppressions") {
      if (value.empty()) return "--" + name + " needs a file name";
    } else if (name == "watchdog") {
      char* end = nullptr;
      const double d = value.empty() ? -1 : std::strtod(value.c_str(), &end);
      if (value.empty() || end == nullptr || *end != '\0' || !(d >= 0) || d > 86400) {
        return "bad value for --watchdog: " + value + " (seconds, 0 to 86400; 0 turns it off)";
      }
    } else {
      constexpr uint64_t kBelow62 = (uint64_t{1} << 62) - 1;
      const uint64_t max = name == "jobs"         ? 64
                           : name == "bound"        ? 64
                           : name == "depth"        ? 64
                           : name == "executions" ? kBelow62
                           : name == "seed"       ? kBelow62
                                                  : static_cast<uint64_t>(INT64_MAX);
      uint64_t v = 0;
      if (!ParseUnsigned(value, UINT64_MAX, &v)) {
        return "bad value for --" + name + ": " + value + " (a non-negative integer)";
      }
      if (v > max) {
        return "--" + name + " must be at most " + std::to_string(max) +
              (name == "bound" || name == "jobs" || name == "depth" ? ""
               : name == "max_executions" ? " (2^63-1)"
                                          : " (2^62-1)");
      }
      if ((name == "executions" || name == "max_executions" || name == "jobs" || name == "depth") &&
          v == 0) {
        return "--" + name + " must be positive";
      }
    }
  }
  return "";
}

}  // namespace kmc::cli
