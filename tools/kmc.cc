// kmc: the command line.
//
//   kmc list
//   kmc check <model>... | --all  [--search=exhaustive|bounded|random]
//             [--bound=K] [--executions=N] [--seed=S] [--json] [--verbose]
//   kmc replay <model> <token>
//
// Exit status: 0 when every checked model's verdict matches its expectation,
// 1 when one does not (or a replay reproduces a verdict the model does not
// expect), 2 on a usage error (unknown model or flag, malformed token).

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "sync/model.h"
#include "sync/runner.h"

ABSL_FLAG(bool, all, false, "check every model");
ABSL_FLAG(std::string, search, "", "search mode: exhaustive, bounded or random (default: the model's)");
ABSL_FLAG(int, bound, -1, "context bound for --search=bounded (default: the model's)");
ABSL_FLAG(int64_t, executions, -1, "executions for --search=random (default: the model's)");
ABSL_FLAG(int64_t, seed, 1, "first seed for --search=random");
ABSL_FLAG(int64_t, max_executions, -1,
          "stop an exhaustive/bounded search after this many executions (not a proof then)");
ABSL_FLAG(bool, json, false, "print one JSON array of results");
ABSL_FLAG(bool, verbose, false, "print the full report of every failing model, not only of mismatches");
ABSL_FLAG(bool, progress, true, "show progress on stderr when it is a terminal");

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  kmc list\n"
    "  kmc check <model>... | --all [--search=exhaustive|bounded|random] [--bound=K]\n"
    "            [--executions=N] [--seed=S] [--max_executions=N] [--json] [--verbose]\n"
    "  kmc replay <model> <token>\n";

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "kmc: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

// Rejects unknown flags and malformed values before Abseil sees them, so a
// usage error always exits with status 2.
void PrevalidateFlags(int argc, char** argv) {
  const std::vector<std::string> bools = {"all", "json", "verbose", "progress"};
  const std::vector<std::string> valued = {"search", "bound", "executions", "seed",
                                           "max_executions"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a.rfind("-", 0) != 0 || a == "-") continue;
    if (a == "--help" || a == "-h" || a == "--helpfull") Usage("help");
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
        Usage("bad value for --" + name + ": " + value);
      }
      continue;
    }
    if (std::find(valued.begin(), valued.end(), name) == valued.end()) {
      Usage("unknown flag " + a);
    }
    if (!has_value) {
      if (i + 1 >= argc) Usage("--" + name + " needs a value");
      value = argv[++i];
    }
    if (name == "search") {
      if (value != "exhaustive" && value != "bounded" && value != "random") {
        Usage("bad value for --search: " + value + " (exhaustive, bounded or random)");
      }
    } else {
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        Usage("bad value for --" + name + ": " + value + " (a non-negative integer)");
      }
      if (name == "bound" && std::stoll(value) > 64) Usage("--bound must be at most 64");
      if ((name == "executions" || name == "max_executions") && std::stoll(value) == 0) {
        Usage("--" + name + " must be positive");
      }
    }
  }
}

std::string Pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

int List() {
  std::printf("%s %s %s %s\n", Pad("MODEL", 40).c_str(), Pad("EXPECTED", 34).c_str(),
              Pad("SEARCH", 12).c_str(), "DESCRIPTION");
  for (const kmc::Model* m : kmc::AllModels()) {
    std::string search = kmc::SearchModeName(m->default_search());
    if (m->default_search() == kmc::SearchMode::kBounded) search += "(" + std::to_string(m->default_bound()) + ")";
    std::printf("%s %s %s %s\n", Pad(m->name(), 40).c_str(), Pad(m->expected().ToString(), 34).c_str(),
                Pad(search, 12).c_str(), m->description().c_str());
  }
  return 0;
}

int Check(const std::vector<std::string>& names) {
  std::vector<const kmc::Model*> models;
  if (absl::GetFlag(FLAGS_all)) {
    if (!names.empty()) Usage("give model names or --all, not both");
    models = kmc::AllModels();
  } else {
    if (names.empty()) Usage("check needs model names or --all");
    for (const auto& n : names) {
      const kmc::Model* m = kmc::FindModel(n);
      if (m == nullptr) Usage("unknown model '" + n + "' (kmc list shows them)");
      models.push_back(m);
    }
  }
  kmc::RunOptions options;
  const std::string search = absl::GetFlag(FLAGS_search);
  if (search == "exhaustive") options.search = kmc::SearchMode::kExhaustive;
  if (search == "bounded") options.search = kmc::SearchMode::kBounded;
  if (search == "random") options.search = kmc::SearchMode::kRandom;
  if (absl::GetFlag(FLAGS_bound) >= 0) options.bound = absl::GetFlag(FLAGS_bound);
  if (absl::GetFlag(FLAGS_executions) > 0) options.executions = absl::GetFlag(FLAGS_executions);
  if (absl::GetFlag(FLAGS_max_executions) > 0) {
    options.max_executions = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_executions));
  }
  options.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  options.progress = absl::GetFlag(FLAGS_progress) && isatty(2);
  const bool json = absl::GetFlag(FLAGS_json);
  const bool verbose = absl::GetFlag(FLAGS_verbose);

  bool all_match = true;
  std::vector<kmc::Result> results;
  if (!json) {
    std::printf("%s %s %s %s %s %s %s %s\n", Pad("MODEL", 40).c_str(), Pad("EXPECTED", 30).c_str(),
                Pad("VERDICT", 22).c_str(), Pad("MATCH", 5).c_str(), Pad("SEARCH", 13).c_str(),
                Pad("COMPLETE", 8).c_str(), Pad("EXECUTIONS", 10).c_str(), "SECONDS");
    std::fflush(stdout);
  }
  for (const kmc::Model* m : models) {
    kmc::Result r = kmc::CheckModel(*m, options);
    all_match = all_match && r.match;
    if (!json) {
      std::string search = kmc::SearchModeName(r.search);
      if (r.search == kmc::SearchMode::kBounded) search += "(" + std::to_string(r.bound) + ")";
      std::printf("%s %s %s %s %s %s %10llu %7.2f\n", Pad(r.model, 40).c_str(),
                  Pad(r.expected.ToString(), 30).c_str(),
                  Pad(std::string(kmc::VerdictName(r.verdict)), 22).c_str(),
                  Pad(r.match ? "yes" : "NO", 5).c_str(), Pad(search, 13).c_str(),
                  Pad(r.complete ? "yes" : "no", 8).c_str(),
                  static_cast<unsigned long long>(r.executions), r.seconds);
      std::fflush(stdout);
    }
    results.push_back(std::move(r));
  }
  if (json) {
    std::printf("[\n");
    for (size_t i = 0; i < results.size(); ++i) {
      std::printf("  %s%s\n", kmc::ResultToJson(results[i]).c_str(), i + 1 < results.size() ? "," : "");
    }
    std::printf("]\n");
  } else {
    size_t matched = 0;
    for (const auto& r : results) matched += r.match ? 1 : 0;
    std::printf("\n%zu of %zu models match their expected verdict.\n", matched, results.size());
    const bool single = results.size() == 1;
    for (const auto& r : results) {
      if (r.report.empty()) continue;
      if (!r.match || verbose || single) {
        std::printf("\n%s%s", r.match ? "" : "MISMATCH: ", r.report.c_str());
      }
    }
  }
  return all_match ? 0 : 1;
}

int Replay(const std::vector<std::string>& args) {
  if (args.size() != 2) Usage("replay needs a model and a token");
  const kmc::Model* m = kmc::FindModel(args[0]);
  if (m == nullptr) Usage("unknown model '" + args[0] + "' (kmc list shows them)");
  std::string error;
  std::optional<kmc::Result> r = kmc::ReplayModel(*m, args[1], &error);
  if (!r) {
    std::fprintf(stderr, "kmc: %s\n", error.c_str());
    return 2;
  }
  std::printf("%s", r->report.c_str());
  return r->match ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  PrevalidateFlags(argc, argv);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) Usage("no command given");
  const std::string command = positional[1];
  std::vector<std::string> args;
  for (size_t i = 2; i < positional.size(); ++i) args.emplace_back(positional[i]);
  if (command == "list") {
    if (!args.empty()) Usage("list takes no arguments");
    return List();
  }
  if (command == "check") return Check(args);
  if (command == "replay") return Replay(args);
  Usage("unknown command '" + command + "'");
}
