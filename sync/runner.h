// kmc: checking a model and replaying a failing execution.

#ifndef KMC_SYNC_RUNNER_H_
#define KMC_SYNC_RUNNER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sync/model.h"
#include "sync/report.h"
#include "sync/suppressions.h"
#include "sync/verdict.h"

namespace kmc {

struct RunOptions {
  std::optional<SearchMode> search;    // default: the model's
  std::optional<int> bound;            // context bound for kBounded
  std::optional<uint64_t> executions;  // executions for kRandom and kPct
  uint64_t seed = 1;                   // first seed for kRandom and kPct
  // The bug depth of kPct (d-1 priority change points per execution).
  // Default: the model's bound when its default search is kPct, else
  // kDefaultPctDepth.
  std::optional<int> depth;
  bool progress = false;               // progress lines on stderr
  // Fingerprint each complete execution of a full or exhaustive search by
  // its Mazurkiewicz trace (its steps and the order of every two that
  // conflict) and which store each of its loads read into Result::traces:
  // how many distinct executions the search reached (tests/por_test.cc,
  // tests/bench/search_benchmark.cc).
  bool count_traces = false;
  bool progress_lines = false;         // as plain lines (stderr is not a terminal)
  uint64_t progress_every = 0;         // a line every N executions (0: by time)
  // Stop an exhaustive or bounded search after this many executions (the
  // result is then not complete). Default: the model's budget, if any.
  std::optional<uint64_t> max_executions;
  // How much of the failing interleaving the report shows.
  TraceMode trace = TraceMode::kShort;
  // Keep searching after a failure and report every distinct bug
  // (--all_bugs). Default: the model's (Model::AllBugs).
  std::optional<bool> all_bugs;
  // Write report.txt, trace.json and trace.html of a failing model into
  // <out_dir>/<model>/ (sync/trace_out.h). Empty: only under `bazel test`,
  // into $TEST_UNDECLARED_OUTPUTS_DIR.
  std::string out_dir;
  // Iterative context bounding (CHESS): an exhaustive search first runs the
  // context-bounded searches with at most 0, 1, ..., icb_bound preemptions,
  // so that a bug is met, and reported, with the fewest preemptions; then
  // the reduced exhaustive search proves a clean model. Default
  // kDefaultIcbBound; negative: no bounded passes. The bounded passes of an
  // exhaustive search stop (and the exhaustive search starts) once they
  // have run icb_budget executions in all. A bounded search (--bound=K)
  // runs the passes 0..min(icb_bound, K), then the pass at K if larger.
  // Not with all_bugs (one search that goes on after each failure).
  std::optional<int> icb_bound;
  uint64_t icb_budget = 20000;
  // kmc check --lockdep_scope=driver: the lockdep graph the search starts
  // from (Result::lockdep_graph of the driver's models checked before), and
  // whether to hand this search's graph back in Result::lockdep_graph.
  std::string lockdep_graph;
  bool export_lockdep_graph = false;
  // Findings these rules match are counted, not reported, and the search
  // goes on (--suppressions=FILE).
  std::shared_ptr<const Suppressions> suppressions;
  // Fine-grained interleaving (kmc check --fine_grained): plain accesses,
  // allocations, frees and user copies are scheduling points too. Default:
  // the model's (Model::FineGrained).
  std::optional<bool> fine_grained;
  // --shard=shard_index/shard_count (shard_count 0: the whole search).
  // An exhaustive, full or bounded search explores the top of its tree and
  // the subtrees this shard owns (sync/internal/shard.h); the shards of one
  // search together explore exactly the search of one run, each execution
  // counted by one shard. An exhaustive search runs without the bounded
  // passes of iterative context bounding (icb_bound is ignored). A random
  // search runs the shard_index-th of shard_count equal runs of its
  // executions. max_executions applies to each shard.
  int shard_index = 0;
  int shard_count = 0;
};

// A task at the end of a failing execution.
struct TaskSummary {
  std::string name;  // "writer0/101"
  int cpu = 0;
  std::string state;  // "exited", "running", "asleep in down(&dev->sem)"
};

// A source location a failure report points at.
struct SourceLocation {
  std::string role;  // "failure" or "previous access"
  std::string file;
  int line = 0;
  std::string function;
};

// One distinct bug of a model (--all_bugs): bugs are told apart by verdict
// and the source locations involved.
struct BugFound {
  Verdict verdict = Verdict::kClean;
  std::string message;                 // the headline
  std::vector<std::string> locations;  // "file:line function", the failing site first
  uint64_t first_execution = 0;        // the first execution that hit it
  uint64_t hits = 0;                   // executions that hit it
  uint64_t execution = 0;              // the execution its replay token names
  int preemptions = 0;                 // of that execution
  uint64_t steps = 0;                  // of that execution
  std::string replay;                  // replays exactly this bug
  std::string report;                  // its full report
};

inline constexpr int kDefaultIcbBound = 2;

struct Result {
  std::string model;
  VerdictSet expected;
  Verdict verdict = Verdict::kClean;
  bool match = false;
  SearchMode search = SearchMode::kExhaustive;
  int bound = 0;
  uint64_t seed = 0;
  // kPct: the bug depth d, the engine threads n and PCT's k (the most
  // scheduling choices of an execution of the run); see PctGuarantee.
  int depth = 0;
  int pct_threads = 0;
  uint64_t pct_steps = 0;
  bool complete = false;     // the whole search space was explored
  uint64_t executions = 0;   // executions explored (every pass of the search)
  double seconds = 0;
  std::string replay;        // replay token, empty when clean
  std::string message;       // the headline, e.g. "BUG: spinlock recursion ..."
  std::string report;        // the full report (headline, tasks, interleaving)
  // The distinct tuples of kmc::Observe() values of the clean executions
  // ("name=value name=value", in call order; empty when the model observes
  // nothing).
  std::set<std::string> observations;
  // With RunOptions::count_traces: the fingerprints of the distinct traces
  // of the complete executions, each with which store every load read
  // (empty otherwise).
  std::set<uint64_t> traces;
  bool interrupted = false;  // stopped by SIGINT/SIGTERM (not a proof)
  // A failure found by a pass of iterative context bounding: that pass's
  // preemption bound (every pass with a smaller bound found nothing); -1
  // when the unbounded search (or a random one) found it.
  int preemption_bound = -1;
  // The search ran with fine-grained interleaving (RunOptions::fine_grained).
  bool fine_grained = false;
  // The part of the search this result covers: shard shard_index of
  // shard_count (--shard); after MergeShards(), shard_index -1 and the
  // number of shards merged; shard_count 0: one whole search.
  int shard_index = 0;
  int shard_count = 0;
  // Of a failure found by a sharded tree search: the number of its subtree
  // (in depth-first order), so that MergeShards() reports the failure the
  // whole search would meet first.
  uint64_t shard_subtree = 0;
  // Fields added here must also travel through sync/worker.cc's
  // (de)serialization (worker_test compares both ways of running).
  // Set on a clean result when the model checked no shared memory at all
  // ("no shared accesses were checked"): such a clean proves nothing.
  std::string warning;
  // --all_bugs: every distinct bug found, in the order found (the first is
  // the one verdict, message, replay and report describe); empty otherwise.
  bool all_bugs = false;
  std::vector<BugFound> bugs;
  // Of a failing execution (empty for a clean one).
  int preemptions = 0;
  uint64_t steps = 0;
  std::vector<TaskSummary> tasks;
  std::vector<SourceLocation> locations;
  // The steps of the failing interleaving (SARIF's code flow): all of them, or the last
  // kTraceOutMaxSteps (sync/trace_out.h) of a longer one, which then start
  // at step `steps - interleaving.size() + 1`.
  struct Step {
    std::string task;     // "writer0/101"
    std::string context;  // "CPU#0 proc"
    std::string text;     // "read dev->data"
    std::string file;     // "" when unknown
    int line = 0;
    std::string function;
  };
  std::vector<Step> interleaving;
  std::vector<std::string> out_files;  // written by --out
  std::string out_error;               // why --out could not write them
  // With RunOptions::export_lockdep_graph: lockdep's graph after the search
  // (classes, usages and dependencies, each with the replay token of the
  // execution that recorded it; internal::lockdep::ExportGraph).
  std::string lockdep_graph;
  // Findings suppressed (--suppressions), in all, and per rule that matched
  // (the rule as written, its count), in the file's order.
  uint64_t suppressed = 0;
  std::vector<std::pair<std::string, uint64_t>> suppressed_by;
};

// The --all_bugs summary table: one line per bug (verdict, first
// execution, hits, preemptions, locations).
std::string FormatBugTable(const Result& r);

// "suppressed: 3 (race:scull_follow 2, deadlock:scullpipe_* 1)", or "" when
// nothing was suppressed.
std::string FormatSuppressed(const Result& r);

Result CheckModel(const Model& model, const RunOptions& options);

// One result from the results of every shard of one search (RunOptions::
// shard_index 0..n-1, in that order): executions add up, observations
// unite, clean and complete when every shard is; a failure is the one a
// whole search would report (a real failure before a lockdep prediction,
// then the fewest preemptions, then the first in depth-first order);
// seconds is the longest shard's.
Result MergeShards(const std::vector<Result>& shards);

// Re-runs exactly the execution a replay token names. On a malformed or
// foreign token returns nullopt and sets *error.
// Give the suppressions the check ran with: a suppressed race earlier in
// the execution must be suppressed again.
std::optional<Result> ReplayModel(const Model& model, std::string_view token,
                                  std::string* error, TraceMode mode = TraceMode::kShort,
                                  const std::string& out_dir = "",
                                  const Suppressions* suppressions = nullptr);

// Decodes a replay token without running anything: its search mode and
// bound, or false and *error.
bool ValidateReplayToken(const Model& model, std::string_view token, SearchMode* mode,
                         int* bound, std::string* error);

// The replay token of an engine decision path ("<iteration> <n> (<count>
// <index> <type>)*", or "<iteration>" for a random search).
// icb_pass: the execution belongs to the pass with at most `bound`
// preemptions of iterative context bounding (mode kBounded).
std::string EncodeReplayToken(const Model& model, SearchMode mode, int bound,
                              const std::string& engine_state, bool icb_pass = false,
                              bool fine_grained = false);

// The report of a failure found outside the normal path (a worker that is
// about to die inside a replayed execution), from the current trace.
std::string FormatDyingReport(const Model& model, const Result& r, Verdict verdict,
                              const std::string& headline, const std::string& details,
                              uint64_t iteration);

// The Bazel target whose `replay` a report's replay line names: "//:kmc"
// (kmc's own models) unless the binary's models set another one, as every
// kmc_models() package does for its own command line (tools/models_label.cc).
void SetReplayCommand(const char* label);
const std::string& ReplayCommand();

// Host time a task may run without reaching a scheduling point before the
// watchdog reports a soft lockup (default 5 s; 0 turns it off).
void SetWatchdogSeconds(double seconds);

// A SARIF 2.1.0 log with one result per failing model (rule: the verdict),
// located at the failing line, with the interleaving as a code flow.
std::string ResultsToSarif(const std::vector<Result>& results);

// What a PCT search guarantees: a bug of depth d is hit with probability
// p >= 1/(n*k^(d-1)) per execution, and the run's N executions all miss it
// with probability at most (1-p)^N. One line; "" for another search.
std::string PctGuarantee(const Result& r);
// p and (1-p)^N of PctGuarantee (0 and 1 when k or n is unknown).
double PctHitProbability(const Result& r);
double PctMissProbability(const Result& r);

// One JSON object for a result (fields: model, expected, verdict, match,
// search, complete, executions, preemptions and preemption_bound of a
// failure, seconds, replay, message, and warning when set).
std::string ResultToJson(const Result& r);

// The yardstick of tests/bench/cost_benchmark.cc: the pipe of
// por/pipe_two_writers_two_items written directly on plain Relacy and
// searched by Relacy's own context-bound tree scheduler with
// `context_bound` preemptions (sync/internal/engine.h). `ok` is false if an
// execution lost or reordered an item.
struct PlainRelacyResult {
  uint64_t executions = 0;
  bool ok = false;
};
PlainRelacyResult RunPlainRelacyPipe(int context_bound);

}  // namespace kmc

#endif  // KMC_SYNC_RUNNER_H_
