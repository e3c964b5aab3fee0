// kmc: the command line.
//
//   kmc list
//   kmc check <model>... | --all  [--search=exhaustive|full|bounded|random|pct]
//             [--bound=K] [--depth=D] [--executions=N] [--seed=S] [--json] [--verbose]
//             [--watchdog=SECONDS] [--progress] [--nofork] [--jobs=N] [--all_bugs]
//             [--lockdep_scope=model|driver] [--shard=I/N]
//   kmc replay <model> <token> | --token_file=FILE
//   kmc litmus [--known_mismatches=name,...] [--replay=TOKEN] FILE.litmus...
//
// Each model runs in a worker process (sync/worker.h), so a model that
// crashes, hangs or exits ends with a verdict of its own and the next model
// still runs. --json prints the array as results arrive and always closes it.
//
// Exit status: 0 when every checked model's verdict matches its expectation,
// 1 when one does not (or a replay reproduces a verdict the model does not
// expect), 2 on a usage error (unknown model or flag, malformed token),
// 130/143 when SIGINT/SIGTERM stopped the run (the results so far printed).

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "sync/worker.h"
#include "tools/flags.h"
#include "tools/litmus/litmus.h"

ABSL_FLAG(bool, all, false, "check every model");
ABSL_FLAG(std::string, search, "", "search mode: exhaustive (reduced), full (unreduced), bounded, random or pct (default: the model's)");
ABSL_FLAG(std::string, icb, "",
          "exhaustive search: first the context-bounded passes with at most 0..K preemptions "
          "(iterative context bounding; default 2), or off");
ABSL_FLAG(int, bound, -1, "context bound for --search=bounded (default: the model's)");
ABSL_FLAG(int64_t, executions, -1, "executions for --search=random or pct (default: the model's)");
ABSL_FLAG(int64_t, seed, 1, "first seed for --search=random or pct");
ABSL_FLAG(int, depth, -1, "bug depth for --search=pct (default 3): d-1 priority change points");
ABSL_FLAG(int64_t, max_executions, -1,
          "stop an exhaustive/bounded search after this many executions (not a proof then)");
ABSL_FLAG(bool, json, false, "print one JSON array of results");
ABSL_FLAG(bool, verbose, false, "print the full report of every failing model, not only of mismatches");
ABSL_FLAG(bool, progress, false,
          "show progress on stderr (default: only when stderr is a terminal; "
          "--noprogress never)");
ABSL_FLAG(std::string, out, "",
          "write report.txt, trace.json and trace.html of every failing model into DIR/<model>/");
ABSL_FLAG(std::string, sarif, "", "write a SARIF 2.1.0 log of the failing models to FILE");
ABSL_FLAG(int64_t, progress_every, 0,
          "with --progress: a line every N executions instead of every 10 s (0)");
ABSL_FLAG(double, watchdog, 5.0,
          "host seconds a task may run without a scheduling point before it is a soft "
          "lockup (0: off)");
ABSL_FLAG(bool, fork, true, "run each model in a worker process (crash isolation)");
ABSL_FLAG(std::string, token_file, "", "replay: read the token from this file");
ABSL_FLAG(std::string, known_mismatches, "",
          "litmus: comma-separated tests whose Result kmc is known not to reach");
ABSL_FLAG(std::string, replay, "", "litmus: re-run the execution of this token");
ABSL_FLAG(int, jobs, 1,
          "worker processes at once (1..64): models, and the shards of a large model's search");
ABSL_FLAG(std::string, shard, "", "I/N: explore part I (0..N-1) of N of each model's search");
ABSL_FLAG(std::string, lockdep_scope, "model",
          "model: lockdep starts every model with an empty graph; driver: the models of one "
          "driver (the name before '/') share one graph, in the order checked");
ABSL_FLAG(bool, all_bugs, false,
          "keep searching after a failure and report each distinct bug once (default: "
          "the model's)");
ABSL_FLAG(bool, fine_grained, false,
          "fine-grained interleaving: plain accesses, allocations and user copies are "
          "scheduling points too (default: the model's)");
ABSL_FLAG(std::string, suppressions, "",
          "a suppressions file: findings its rules match (race:FUNCTION, race:FILE:LINE, "
          "deadlock:..., any verdict) are counted, not reported");
ABSL_FLAG(std::string, trace, "short",
          "interleaving in reports: short (fold steps that touch nothing another context "
          "touches, the module's setup and interrupts that ran to their end) or full (every "
          "step)");

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  kmc list\n"
    "  kmc check <model>... | --all [--search=exhaustive|full|bounded|random|pct] [--bound=K]\n"
    "            [--depth=D] [--executions=N] [--seed=S] [--max_executions=N] [--json] [--verbose]\n"
    "            [--watchdog=SECONDS] [--progress|--noprogress] [--nofork] [--jobs=N]\n"
    "            [--trace=short|full] [--all_bugs] [--out=DIR] [--suppressions=FILE]\n"
    "            [--sarif=FILE] [--icb=K|off] [--progress_every=N] [--fine_grained]\n"
    "            [--lockdep_scope=model|driver] [--shard=I/N]\n"
    "  kmc replay <model> <token> | --token_file=FILE [--trace=short|full] [--out=DIR]\n"
    "             [--suppressions=FILE]\n"
    "  kmc litmus [--known_mismatches=name,...] [--replay=TOKEN] FILE.litmus...\n"
    "flags:\n"
    "  --search      exhaustive, full, bounded, random or pct (default: each model's own)\n"
    "  --bound       context bound of --search=bounded, 0..64 (passes 0..K, fewest\n"
    "                preemptions first)\n"
    "  --icb         exhaustive search: bounded passes 0..K first (default 2), or off\n"
    "  --depth       bug depth of --search=pct, 1..64 (default 3): random thread priorities\n"
    "                and depth-1 priority change points per execution (PCT); prints the\n"
    "                probability it gives of hitting a bug of that depth\n"
    "  --executions  executions of --search=random or pct, 1..2^62-1\n"
    "  --seed        first seed of --search=random or pct, 0..2^62-1 (seed + executions < 2^62)\n"
    "  --max_executions  stop an exhaustive or bounded search after N (1..2^63-1)\n"
    "  --watchdog    seconds a task may run without a scheduling point (0: off; default 5)\n"
    "  --json        one JSON array of results, printed as they complete\n"
    "  --jobs        worker processes at once (1..64): models, and a large model's search\n"
    "                split into that many shards, merged into one result\n"
    "  --shard       I/N: explore part I (0..N-1) of N of each model's search (N <= 1024);\n"
    "                the N parts are disjoint and together the whole search\n"
    "  --progress    progress lines on stderr, also when it is not a terminal (a log):\n"
    "                one every 10 s, or every N executions with --progress_every=N\n"
    "  --trace       short (fold steps that touch nothing another task touches, the module's\n"
    "                setup, interrupts that ran to their end) or full (every step)\n"
    "  --lockdep_scope  model (default): one lockdep graph per model; driver: one graph across\n"
    "                the models of a driver, in the order checked\n"
    "  --all_bugs    go on after a failure: each distinct bug once (verdict + locations),\n"
    "                with its own replay token, and a summary table\n"
    "  --out         write report.txt, trace.json, trace.html of each failing model to DIR/<model>/\n"
    "  --sarif       write a SARIF 2.1.0 log of the failing models to FILE\n"
    "  --fine_grained  plain accesses (Shared<T>, a C driver's loads and stores),\n"
    "                allocations and user copies are scheduling points too: a race is\n"
    "                executed, not only detected (--nofine_grained: never; default: the model's)\n"
    "  --suppressions  FILE of KIND:PATTERN lines (race:scull_read, race:main.c:118,\n"
    "                deadlock:*, use_after_free:...; # comments): matching findings are\n"
    "                counted (suppressed: N) and the search goes on\n";

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "kmc: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

// Flags given on the command line (not defaults).
std::set<std::string> g_given;
bool g_progress_negated = false;

// Rejects unknown flags and malformed values before Abseil sees them, so a
// usage error always exits with status 2.
void PrevalidateFlags(int argc, char** argv) {
  kmc::cli::FlagScan scan;
  const std::string error =
      kmc::cli::ScanFlags(std::vector<std::string>(argv + 1, argv + argc), &scan);
  if (scan.help) {
    std::printf("%s", kUsage);
    std::exit(0);
  }
  if (!error.empty()) Usage(error);
  g_given = scan.given;
  g_progress_negated = scan.progress_negated;
}

// The searches that sample N executions from a seed.
bool Sampled(kmc::SearchMode m) {
  return m == kmc::SearchMode::kRandom || m == kmc::SearchMode::kPct;
}

// A flag that does not apply to the search a model runs is a usage error.
void CheckFlagsApply(const std::vector<const kmc::Model*>& models,
                     std::optional<kmc::SearchMode> search) {
  struct Rule {
    const char* flag;
    bool (*applies)(kmc::SearchMode);
    const char* where;
  };
  const Rule rules[] = {
      {"bound", [](kmc::SearchMode m) { return m == kmc::SearchMode::kBounded; }, "--search=bounded"},
      {"executions", [](kmc::SearchMode m) { return Sampled(m); }, "--search=random or --search=pct"},
      {"seed", [](kmc::SearchMode m) { return Sampled(m); }, "--search=random or --search=pct"},
      {"depth", [](kmc::SearchMode m) { return m == kmc::SearchMode::kPct; }, "--search=pct"},
      {"icb", [](kmc::SearchMode m) { return m == kmc::SearchMode::kExhaustive; },
       "--search=exhaustive"},
      {"max_executions", [](kmc::SearchMode m) { return !Sampled(m); },
       "--search=exhaustive or --search=bounded"},
  };
  for (const Rule& rule : rules) {
    if (g_given.count(rule.flag) == 0) continue;
    for (const kmc::Model* m : models) {
      const kmc::SearchMode mode = search.value_or(m->default_search());
      if (!rule.applies(mode)) {
        Usage(std::string("--") + rule.flag + " applies only to " + rule.where + "; " +
              (search ? "the search asked for is " + std::string(kmc::SearchModeName(mode))
                      : "model " + m->name() + " runs " +
                            (mode == kmc::SearchMode::kExhaustive ? "an " : "a ") +
                            kmc::SearchModeName(mode) + " search (give --search)"));
      }
    }
  }
}

volatile sig_atomic_t g_signal = 0;

void OnSignal(int sig) {
  g_signal = sig;
  kmc::InterruptWorkers(sig);
}

std::string Pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

// Where --out put a model's pictures (or why it could not).
void PrintOutFiles(const kmc::Result& r) {
  for (const auto& f : r.out_files) std::printf("wrote %s\n", f.c_str());
  if (!r.out_error.empty()) std::fprintf(stderr, "kmc: --out: %s\n", r.out_error.c_str());
}

// --suppressions=FILE, parsed; a bad file is a usage error naming the line.
std::shared_ptr<const kmc::Suppressions> SuppressionsFlag() {
  const std::string path = absl::GetFlag(FLAGS_suppressions);
  if (path.empty()) return nullptr;
  std::string error;
  std::optional<kmc::Suppressions> s = kmc::Suppressions::Load(path, &error);
  if (!s) Usage(error);
  return std::make_shared<const kmc::Suppressions>(std::move(*s));
}

kmc::TraceMode TraceModeFlag() {
  return absl::GetFlag(FLAGS_trace) == "full" ? kmc::TraceMode::kFull : kmc::TraceMode::kShort;
}

int List() {
  std::printf("%s %s %s %s\n", Pad("MODEL", 40).c_str(), Pad("EXPECTED", 34).c_str(),
              Pad("SEARCH", 12).c_str(), "DESCRIPTION");
  for (const kmc::Model* m : kmc::AllModels()) {
    std::string search = kmc::SearchModeName(m->default_search());
    if (m->default_search() == kmc::SearchMode::kBounded || m->default_search() == kmc::SearchMode::kPct) {
      search += "(" + std::to_string(m->default_bound()) + ")";
    }
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
  if (search == "full") options.search = kmc::SearchMode::kFull;
  if (search == "pct") options.search = kmc::SearchMode::kPct;
  CheckFlagsApply(models, options.search);
  if (absl::GetFlag(FLAGS_bound) >= 0) options.bound = absl::GetFlag(FLAGS_bound);
  if (absl::GetFlag(FLAGS_depth) > 0) options.depth = absl::GetFlag(FLAGS_depth);
  if (const std::string icb = absl::GetFlag(FLAGS_icb); !icb.empty()) {
    options.icb_bound = icb == "off" ? -1 : std::atoi(icb.c_str());
  }
  if (absl::GetFlag(FLAGS_executions) > 0) options.executions = absl::GetFlag(FLAGS_executions);
  if (absl::GetFlag(FLAGS_max_executions) > 0) {
    options.max_executions = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_executions));
  }
  options.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  for (const kmc::Model* m : models) {
    if (!Sampled(options.search.value_or(m->default_search()))) continue;
    const uint64_t executions = options.executions.value_or(m->default_executions());
    if (options.seed >= (uint64_t{1} << 62) - executions) {
      Usage("--seed plus the executions (" + std::to_string(executions) + ") must stay below 2^62");
    }
  }
  const bool terminal = isatty(2) != 0;
  if (g_given.count("progress") != 0) {
    options.progress = !g_progress_negated;
  } else {
    options.progress = terminal;
  }
  options.progress_lines = options.progress && !terminal;
  if (g_given.count("progress_every") != 0) {
    if (!options.progress) Usage("--progress_every applies only with --progress");
    options.progress_every = static_cast<uint64_t>(absl::GetFlag(FLAGS_progress_every));
  }
  options.trace = TraceModeFlag();
  if (g_given.count("all_bugs") != 0) options.all_bugs = absl::GetFlag(FLAGS_all_bugs);
  if (g_given.count("fine_grained") != 0) {
    options.fine_grained = absl::GetFlag(FLAGS_fine_grained);
  }
  if (const std::string shard = absl::GetFlag(FLAGS_shard); !shard.empty()) {
    kmc::cli::ParseShard(shard, &options.shard_index, &options.shard_count);  // scanned
    if (g_given.count("icb") != 0) {
      Usage("--icb does not apply with --shard (a sharded exhaustive search runs no bounded "
            "passes)");
    }
  }
  options.suppressions = SuppressionsFlag();
  options.out_dir = absl::GetFlag(FLAGS_out);
  // --lockdep_scope=driver: each model starts from the lockdep graph of the
  // model of its driver checked before it (that one's graph includes all
  // before it), as lockdep in a booted kernel accumulates across everything
  // that ran. A model waits for that one to finish.
  const bool driver_scope = absl::GetFlag(FLAGS_lockdep_scope) == "driver";
  options.export_lockdep_graph = driver_scope;
  auto driver_of = [](const std::string& name) { return name.substr(0, name.find('/')); };
  std::vector<size_t> previous(models.size(), models.size());
  if (driver_scope) {
    std::map<std::string, size_t> last;
    for (size_t i = 0; i < models.size(); ++i) {
      const std::string d = driver_of(models[i]->name());
      if (auto it = last.find(d); it != last.end()) previous[i] = it->second;
      last[d] = i;
    }
  }
  std::vector<std::optional<std::string>> graphs(models.size());
  const bool json = absl::GetFlag(FLAGS_json);
  const bool verbose = absl::GetFlag(FLAGS_verbose);
  const bool fork = absl::GetFlag(FLAGS_fork);

  bool all_match = true;
  std::vector<kmc::Result> results;
  if (json) {
    std::printf("[\n");
  } else {
    std::printf("%s %s %s %s %s %s %s %s\n", Pad("MODEL", 40).c_str(), Pad("EXPECTED", 30).c_str(),
                Pad("VERDICT", 22).c_str(), Pad("MATCH", 5).c_str(), Pad("SEARCH", 13).c_str(),
                Pad("COMPLETE", 8).c_str(), Pad("EXECUTIONS", 10).c_str(), "SECONDS");
  }
  std::fflush(stdout);
  // Workers run up to --jobs searches at once: a model, or one shard of a
  // large model's search (Model::Large: split into --jobs shards, unless
  // --shard, --all_bugs or --lockdep_scope=driver asks otherwise); results
  // are printed in model order as soon as each model (all its shards) and
  // all before it are done, the shards of a model merged into one.
  const size_t jobs = fork ? static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_jobs))) : 1;
  struct Item {
    size_t model;
    int shard;
    int shards;  // 0: the whole search
  };
  std::vector<Item> items;
  std::vector<size_t> first_item(models.size() + 1);
  for (size_t i = 0; i < models.size(); ++i) {
    const kmc::Model& m = *models[i];
    const bool split = jobs > 1 && m.large() && options.shard_count == 0 && !driver_scope &&
                       !options.all_bugs.value_or(m.all_bugs());
    first_item[i] = items.size();
    if (split) {
      for (size_t k = 0; k < jobs; ++k) {
        items.push_back(Item{i, static_cast<int>(k), static_cast<int>(jobs)});
      }
    } else {
      items.push_back(Item{i, 0, 0});
    }
  }
  first_item[models.size()] = items.size();
  std::vector<std::optional<kmc::Result>> slots(items.size());
  std::mutex mu;
  std::condition_variable done;
  size_t next_item = 0;
  bool stop = false;
  // A thread's start and exit allocate outside any ForkSafeSection: no
  // thread forks a worker until every thread has started, and none exits
  // while an item is still being checked.
  size_t started = 0;
  size_t checking = 0;
  auto worker = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++started;
      done.notify_all();
    }
    for (;;) {
      size_t k;
      {
        std::unique_lock<std::mutex> lock(mu);
        if (stop || next_item >= items.size()) {
          done.wait(lock, [&] { return checking == 0; });
          return;
        }
        k = next_item++;
        ++checking;
      }
      const size_t i = items[k].model;
      if (previous[i] < models.size()) {
        std::unique_lock<std::mutex> lock(mu);
        done.wait(lock, [&] { return graphs[previous[i]].has_value(); });
      }
      // With workers, everything but waiting happens in a section
      // (sync/worker.h: another thread may fork a worker meanwhile), and the
      // section comes before mu.
      std::optional<kmc::ForkSafeSection> section;
      if (fork) section.emplace();
      kmc::RunOptions model_options = options;
      if (items[k].shards > 0) {
        model_options.shard_index = items[k].shard;
        model_options.shard_count = items[k].shards;
      }
      if (previous[i] < models.size()) {
        std::lock_guard<std::mutex> lock(mu);
        model_options.lockdep_graph = *graphs[previous[i]];
      }
      kmc::Result r = fork ? kmc::CheckModelIsolated(*models[i], model_options)
                           : kmc::CheckModel(*models[i], model_options);
      std::lock_guard<std::mutex> lock(mu);
      if (items[k].shards == 0) graphs[i] = std::move(r.lockdep_graph);
      // A signal that arrived before a model started still gives it a
      // result of its own (no executions, interrupted); then no new model
      // starts.
      if (g_signal != 0) stop = true;
      slots[k] = std::move(r);
      --checking;
      done.notify_all();
    }
  };
  std::vector<std::thread> pool;
  {
    kmc::ForkSafeSection section;
    for (size_t j = 0; j < std::min(jobs, items.size()); ++j) pool.emplace_back(worker);
    std::unique_lock<std::mutex> lock(mu);
    done.wait(lock, [&] { return started == pool.size(); });
  }
  for (size_t i = 0; i < models.size(); ++i) {
    kmc::Result r;
    const size_t lo = first_item[i], hi = first_item[i + 1];
    {
      std::unique_lock<std::mutex> lock(mu);
      bool missing = false;
      for (size_t k = lo; k < hi && !missing; ++k) {
        done.wait(lock, [&] { return slots[k].has_value() || (stop && k >= next_item); });
        missing = !slots[k].has_value();
      }
      if (missing) break;  // never started: the run was interrupted
    }
    kmc::ForkSafeSection section;  // before mu, as the pool's threads take them
    {
      std::lock_guard<std::mutex> lock(mu);
      if (items[lo].shards == 0) {
        r = std::move(*slots[lo]);
      } else {
        std::vector<kmc::Result> shards;
        for (size_t k = lo; k < hi; ++k) shards.push_back(std::move(*slots[k]));
        r = kmc::MergeShards(shards);
      }
    }
    if (g_signal != 0 && r.verdict == kmc::Verdict::kClean && !r.complete) r.interrupted = true;
    all_match = all_match && r.match;
    if (json) {
      std::printf("%s  %s", results.empty() ? "" : ",\n", kmc::ResultToJson(r).c_str());
    } else {
      std::string mode = kmc::SearchModeName(r.search);
      if (r.search == kmc::SearchMode::kBounded) mode += "(" + std::to_string(r.bound) + ")";
      if (r.search == kmc::SearchMode::kPct) mode += "(" + std::to_string(r.depth) + ")";
      if (r.fine_grained) mode += "+fine";
      std::printf("%s %s %s %s %s %s %10llu %7.2f\n", Pad(r.model, 40).c_str(),
                  Pad(r.expected.ToString(), 30).c_str(),
                  Pad(std::string(kmc::VerdictName(r.verdict)), 22).c_str(),
                  Pad(r.match ? "yes" : "NO", 5).c_str(), Pad(mode, 13).c_str(),
                  Pad(r.complete ? "yes" : r.interrupted ? "stopped" : "no", 8).c_str(),
                  static_cast<unsigned long long>(r.executions), r.seconds);
    }
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  for (auto& t : pool) t.join();
  if (json) {
    std::printf("%s]\n", results.empty() ? "" : "\n");
  } else {
    size_t matched = 0;
    for (const auto& r : results) matched += r.match ? 1 : 0;
    std::printf("\n%zu of %zu models match their expected verdict.\n", matched, results.size());
    if (g_signal != 0) {
      std::printf("interrupted by %s after %zu of %zu models: not a proof.\n",
                  g_signal == SIGINT ? "SIGINT" : "SIGTERM", results.size(), models.size());
    }
    const bool single = results.size() == 1;
    // PCT is never a proof: what it gives instead, per model.
    for (const auto& r : results) {
      if (r.search == kmc::SearchMode::kPct) {
        std::printf("%s: %s\n", r.model.c_str(), kmc::PctGuarantee(r).c_str());
      }
    }
    for (const auto& r : results) {
      if (r.report.empty()) continue;
      if (!r.match || verbose || single) {
        std::printf("\n%s%s", r.match ? "" : "MISMATCH: ", r.report.c_str());
      } else if (r.all_bugs && !r.bugs.empty()) {
        std::printf("\n%s: %s", r.model.c_str(), kmc::FormatBugTable(r).c_str());
      }
      PrintOutFiles(r);
    }
  }
  std::fflush(stdout);
  // The SARIF log holds the results so far, also after SIGINT/SIGTERM.
  const std::string sarif = absl::GetFlag(FLAGS_sarif);
  if (!sarif.empty()) {
    std::FILE* f = std::fopen(sarif.c_str(), "w");
    const std::string log = kmc::ResultsToSarif(results);
    const bool wrote = f != nullptr && std::fwrite(log.data(), 1, log.size(), f) == log.size();
    if (f == nullptr || std::fclose(f) != 0 || !wrote) {
      std::fprintf(stderr, "kmc: --sarif: cannot write %s\n", sarif.c_str());
      return 2;
    }
  }
  if (g_signal != 0) return 128 + g_signal;
  // --out could not write the pictures (said on stderr, or in --json's
  // out_error): a usage error, as for a directory that cannot be created.
  if (g_given.count("out") != 0) {
    for (const auto& r : results) {
      if (!r.out_error.empty()) return 2;
    }
  }
  return all_match ? 0 : 1;
}

int Replay(std::vector<std::string> args) {
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  if (!token_file.empty()) {
    if (args.size() != 1) Usage("replay --token_file=FILE needs a model and no token");
    std::ifstream in(token_file);
    if (!in) Usage("cannot read --token_file " + token_file);
    std::stringstream text;
    text << in.rdbuf();
    std::string token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ' || token.back() == '\r')) {
      token.pop_back();
    }
    args.push_back(token);
  }
  if (args.size() != 2) Usage("replay needs a model and a token");
  const kmc::Model* m = kmc::FindModel(args[0]);
  if (m == nullptr) Usage("unknown model '" + args[0] + "' (kmc list shows them)");
  std::string error;
  const std::shared_ptr<const kmc::Suppressions> sup = SuppressionsFlag();
  std::optional<kmc::Result> r =
      absl::GetFlag(FLAGS_fork)
          ? kmc::ReplayModelIsolated(*m, args[1], &error, TraceModeFlag(),
                                     absl::GetFlag(FLAGS_out), sup.get())
          : kmc::ReplayModel(*m, args[1], &error, TraceModeFlag(), absl::GetFlag(FLAGS_out),
                             sup.get());
  if (!r) {
    std::fprintf(stderr, "kmc: %s\n", error.c_str());
    return 2;
  }
  std::printf("%s", r->report.c_str());
  PrintOutFiles(*r);
  if (!r->out_error.empty()) return 2;
  return r->match ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  PrevalidateFlags(argc, argv);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  kmc::SetWatchdogSeconds(absl::GetFlag(FLAGS_watchdog));
  struct sigaction sa = {};
  sa.sa_handler = &OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (positional.size() < 2) Usage("no command given");
  const std::string command = positional[1];
  std::vector<std::string> args;
  for (size_t i = 2; i < positional.size(); ++i) args.emplace_back(positional[i]);
  if (g_given.count("sarif") != 0 && command != "check") Usage("--sarif applies only to check");
  if (g_given.count("out") != 0 && command != "check" && command != "replay") {
    Usage("--out applies only to check and replay");
  }
  if (command == "list") {
    if (!args.empty()) Usage("list takes no arguments");
    return List();
  }
  if (command == "check") return Check(args);
  if (command == "replay") return Replay(args);
  if (command == "litmus") {
    std::vector<std::string> known;
    const std::string list = absl::GetFlag(FLAGS_known_mismatches);
    for (size_t start = 0; start < list.size();) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) known.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    return kmc::litmus::Main(args, known, absl::GetFlag(FLAGS_replay));
  }
  Usage("unknown command '" + command + "'");
}
