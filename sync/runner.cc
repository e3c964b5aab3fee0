// kmc: checking models, replay tokens and reports.

#include "sync/runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "sync/internal/crash.h"
#include "sync/internal/engine.h"
#include "sync/internal/runtime.h"
#include "sync/lockdep.h"
#include "sync/token.h"
#include "sync/report.h"
#include "sync/trace_out.h"

namespace kmc {
namespace {

using internal::EngineOutcome;
using internal::EngineRequest;
using internal::PendingReport;
using internal::Runtime;

constexpr const char* kRule =
    "==================================================================";
// Longer tokens are printed for --token_file rather than on a command line.
constexpr size_t kMaxShellToken = 100000;
constexpr const char* kThinRule =
    "------------------------------------------------------------------";

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos
                                                                 : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// --- Reports ---------------------------------------------------------------

std::string Pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

// The --trace mode of the running check or replay, for reports formatted
// outside ReplayInto (a dying worker's last words), and the pass of
// iterative context bounding the replayed execution belongs to.
TraceMode g_trace_mode = TraceMode::kShort;
int g_report_pass_bound = -1;
// Of a replayed PCT execution: the scheduling choices its change points
// were drawn from (the second number of its replay state).
uint64_t g_report_pct_steps = 0;

// The searches that sample executions from a seed (no tree to exhaust).
bool Sampled(SearchMode m) { return m == SearchMode::kRandom || m == SearchMode::kPct; }

// Executions lockdep's directed search may run before it gives up.
constexpr uint64_t kDirectedBudget = 20000;
// The report being formatted is an execution of lockdep's directed search.
bool g_directed_report = false;

// A deadlock's details end with lockdep's report when lockdep predicted it.
// Its "other info" part draws lockdep's scenario; when the report above
// already draws that same scenario, a short trace leaves the part out
// (--trace=full keeps it).
std::string ShortDetails(const std::string& details) {
  const size_t addendum = details.find("\nlockdep predicted this deadlock before it happened:\n");
  if (addendum == std::string::npos) return details;
  const size_t info = details.find("\nother info that might help us debug this:\n", addendum);
  if (info == std::string::npos) return details;
  const char* kTable = " Possible unsafe locking scenario:\n";
  const size_t table = details.find(kTable, info);
  const size_t end = details.find(" *** DEADLOCK ***\n", table);
  if (table == std::string::npos || end == std::string::npos) return details;
  // The table's drawing: from its first line after the title to the
  // DEADLOCK line.
  const size_t body = details.find("       CPU", table);
  if (body == std::string::npos || body > end) return details;
  const std::string drawing = details.substr(body, end - body);
  if (details.substr(0, addendum).find(drawing) == std::string::npos) return details;
  return details.substr(0, info) +
         "(other info: the same scenario as above; --trace=full shows the rest of lockdep's "
         "report)\n";
}

std::string FormatReport(const Model& model, const Result& r, const PendingReport& rep,
                         uint64_t iteration, TraceMode mode) {
  const Runtime& rt = Runtime::Get();
  std::string s;
  s += kRule;
  s += "\n" + rep.headline + "\n" + kThinRule + "\n";
  const std::string details = mode == TraceMode::kShort ? ShortDetails(rep.details) : rep.details;
  s += details;
  if (!details.empty() && details.back() != '\n') s += "\n";
  s += "\nmodel:    " + model.name() + "\n";
  s += "verdict:  " + std::string(VerdictName(r.verdict)) + " (expected: " +
       model.expected().ToString() + ")\n";
  if (g_directed_report) {
    s += "found in: execution " + std::to_string(iteration) +
         " of lockdep's directed search (tasks preempted only at the lock acquisitions the "
         "splat recorded)";
  } else if (r.preemption_bound >= 0) {
    // Iterative context bounding: the passes with fewer preemptions (each
    // complete) found nothing.
    const int k = r.preemption_bound;
    s += "found in: execution " + std::to_string(iteration) + " of the pass with at most " +
         std::to_string(k) + (k == 1 ? " preemption" : " preemptions") +
         " (iterative context bounding";
    if (k > 0) s += "; the passes with fewer found nothing";
    s += ")";
  } else {
    s += "found in: execution " + std::to_string(iteration) + " of a" +
         (r.search == SearchMode::kExhaustive ? "n " : " ") + SearchModeName(r.search) +
         " search";
    if (r.search == SearchMode::kBounded) s += " (context bound " + std::to_string(r.bound) + ")";
    if (r.search == SearchMode::kPct) {
      const int n = rt.ThreadCount();
      s += " (depth " + std::to_string(r.depth) + ": " + std::to_string(n) +
           (n == 1 ? " thread" : " threads") + " in random priority order";
      if (r.depth > 1) {
        s += ", " + std::to_string(r.depth - 1) + " priority change " +
             (r.depth == 2 ? "point" : "points") + " among the first " +
             std::to_string(g_report_pct_steps) + " scheduling choices";
      }
      s += "; not a proof)";
    }
  }
  s += "\n";
  if (r.fine_grained) {
    s += "interleaving: fine-grained (plain accesses, allocations and user copies are "
         "scheduling points)\n";
  }
  s += "preemptions: " + std::to_string(RecordedPreemptions()) + "\n";
  s += "tasks:\n";
  for (const auto& t : rt.tasks()) {
    s += "  " + Pad(t.name + "/" + std::to_string(t.pid), 18) + " CPU#" + std::to_string(t.cpu) +
         "  " + Pad(internal::CtxName(t.ctx), 16) +
         (t.finished ? "exited" : t.wait_object ? "asleep in " + t.wait_what : "running") + "\n";
  }
  s += FormatInterleaving(mode);
  if (!r.replay.empty()) {
    if (r.replay.size() > kMaxShellToken) {
      // One argument may not exceed 128 KiB (MAX_ARG_STRLEN) on Linux.
      s += "replay:   save the token below to a file and run: bazel run " + ReplayCommand() +
           " -- replay " + model.name() + " --token_file=FILE\ntoken:    " + r.replay + "\n";
    } else {
      s += "replay:   bazel run " + ReplayCommand() + " -- replay " + model.name() + " " +
           r.replay + "\n";
    }
  }
  s += kRule;
  s += "\n";
  return s;
}

PendingReport TakeReport(const EngineOutcome& o) {
  Runtime& rt = Runtime::Get();
  if (!rt.has_report()) rt.ReportEngineFailure(o.engine_verdict);
  return rt.report();
}

// A part of a replay token made for another model (a lock dependency
// inherited with --lockdep_scope=driver): that model, or nullptr.
const Model* ForeignModel(const Model& model, std::string_view part, Token* t) {
  for (const Model* m : AllModels()) {
    if (m == &model) continue;
    std::string error;
    if (std::optional<Token> d = DecodeToken(m->name(), part, &error)) {
      *t = *d;
      return m;
    }
  }
  return nullptr;
}

// Splits a replay token into its parts: leading parts of other models
// (`foreign`, whole tokens) and this model's (decoded). False and *error on
// a malformed part or one of no model.
bool SplitToken(const Model& model, std::string_view token, std::vector<std::string>* foreign,
                std::vector<Token>* own, std::string* error) {
  std::string first_error;
  for (std::string_view part : Split(token, '+')) {
    std::string why;
    std::optional<Token> next = DecodeToken(model.name(), part, &why);
    if (!next) {
      Token t;
      if (own->empty() && ForeignModel(model, part, &t) != nullptr) {
        if (first_error.empty()) first_error = why;
        foreign->emplace_back(part);
        continue;
      }
      *error = why;
      return false;
    }
    if (!own->empty() && (next->mode != own->back().mode || next->bound != own->back().bound ||
                          next->fine_grained != own->back().fine_grained)) {
      *error = "malformed replay token: its executions come from different searches";
      return false;
    }
    own->push_back(*next);
  }
  if (own->empty()) {
    // Only executions of other models: "made for another model".
    *error = first_error.empty() ? "malformed replay token: it is empty" : first_error;
    return false;
  }
  return true;
}

// Runs the engine; the runtime adds the scheduling points of fine-grained
// interleaving when the request asks for it.
EngineOutcome RunSearch(const EngineRequest& req) {
  Runtime::Get().set_fine_grained(req.fine_grained);
  return internal::RunEngine(req);
}

EngineRequest BaseRequest(const Model& model, const RunOptions& options, Result* r) {
  EngineRequest req;
  req.fine_grained = options.fine_grained.value_or(model.fine_grained());
  r->fine_grained = req.fine_grained;
  req.count_traces = options.count_traces;
  req.search = options.search.value_or(model.default_search());
  req.bound = options.bound.value_or(model.default_bound());
  req.executions = options.executions.value_or(model.default_executions());
  req.first_iteration = options.seed == 0 ? 1 : options.seed;
  req.depth_limit = model.depth_limit();
  if (req.search == SearchMode::kPct) {
    // The bound field carries PCT's depth (engine requests and tokens).
    req.bound = options.depth.value_or(
        model.default_search() == SearchMode::kPct ? model.default_bound() : kDefaultPctDepth);
  }
  if (options.shard_count > 0) {
    r->shard_index = options.shard_index;
    r->shard_count = options.shard_count;
    if (Sampled(req.search)) {
      // A random or PCT search's executions are independent (each seeded by
      // its number): shard I runs the I-th of N equal runs of them.
      const uint64_t n = static_cast<uint64_t>(options.shard_count);
      const uint64_t i = static_cast<uint64_t>(options.shard_index);
      const uint64_t lo = req.executions / n * i + std::min(i, req.executions % n);
      const uint64_t hi = req.executions / n * (i + 1) + std::min(i + 1, req.executions % n);
      req.first_iteration += lo;
      req.executions = hi - lo;
    } else {
      req.shard_index = options.shard_index;
      req.shard_count = options.shard_count;
    }
  }
  r->search = req.search;
  r->bound = req.search == SearchMode::kBounded ? req.bound : 0;
  r->depth = req.search == SearchMode::kPct ? req.bound : 0;
  r->seed = Sampled(req.search) ? req.first_iteration : 0;
  return req;
}

// What --json says about a failing execution: its size, tasks and the
// source lines of the failure.
void Summarize(const PendingReport& rep, Result* r) {
  const Runtime& rt = Runtime::Get();
  r->preemptions = rt.preemptions();
  r->steps = rt.trace().size();
  for (const auto& t : rt.tasks()) {
    r->tasks.push_back(TaskSummary{
        t.name + "/" + std::to_string(t.pid), t.cpu,
        t.finished ? "exited" : t.wait_object ? "asleep in " + t.wait_what : "running"});
  }
  auto add = [r](const char* role, const internal::Loc& loc) {
    if (loc.line() == 0) return;
    r->locations.push_back(SourceLocation{role, internal::SourceFile(loc), static_cast<int>(loc.line()),
                                          internal::ShortFunction(loc)});
  };
  add("failure", rep.loc);
  if (rep.other_task >= 0) add("previous access", rep.other_loc);
  const auto& trace = rt.trace();
  const size_t first = trace.size() > kTraceOutMaxSteps ? trace.size() - kTraceOutMaxSteps : 0;
  for (size_t i = first; i < trace.size(); ++i) {
    const internal::TraceEvent& e = trace[i];
    Result::Step s;
    s.task = e.task >= 0 && e.task < static_cast<int>(rt.tasks().size())
                 ? rt.tasks()[e.task].name + "/" + std::to_string(rt.tasks()[e.task].pid)
                 : "insmod/100";
    s.context = "CPU#" + std::to_string(e.cpu) + " " +
                (e.ctx == internal::Ctx::kProcess ? "proc"
                 : e.ctx == internal::Ctx::kSoftirq ? "softirq" : "hardirq");
    s.text = e.text;
    if (e.loc.line() != 0) {
      s.file = internal::SourceFile(e.loc);
      s.line = static_cast<int>(e.loc.line());
      s.function = internal::ShortFunction(e.loc);
    }
    r->interleaving.push_back(std::move(s));
  }
}

// Where --out files go: the flag, else a test's undeclared outputs.
std::string OutDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  return env != nullptr ? std::string(env) : std::string();
}

// Where ReplayInto writes the pictures of the execution it re-runs (empty:
// nowhere); set by CheckModel and ReplayModel, like g_trace_mode.
std::string g_out_dir;

// The summary of the failing execution --json and the pictures describe
// (copied from the replay of the first bug under --all_bugs).
void CopySummary(const Result& from, Result* to) {
  to->preemptions = from.preemptions;
  to->steps = from.steps;
  to->tasks = from.tasks;
  to->locations = from.locations;
  to->interleaving = from.interleaving;
  to->out_files = from.out_files;
  to->out_error = from.out_error;
}

// "first run:  deadlock: <headline>\n": one line of a nondeterminism report.
std::string RunLine(const char* label, Verdict verdict, const std::string& headline) {
  return label + std::string(VerdictName(verdict)) + ": " + headline + "\n";
}

// Re-runs the failing execution named by `state` with tracing on and fills
// the report; returns false (and sets a nondeterminism verdict) when the
// re-run does not reproduce `first`.
//
// `seeds` are the replay states of earlier executions whose lock history a
// lockdep prediction depends on: they are run first, untraced, so that the
// failing execution meets the same dependency graph. `foreign` are replay
// tokens of other models' executions (--lockdep_scope=driver), run before
// them, each on its own model.
void ReplayInto(const Model& model, EngineRequest req, const std::string& state,
                uint64_t iteration, const PendingReport* first, TraceMode mode, Result* r,
                const std::vector<std::string>& seeds = {},
                const std::vector<std::string>& foreign = {}) {
  Runtime& rt = Runtime::Get();
  internal::lockdep::BeginSearch();
  for (const std::string& token : foreign) {
    Token t;
    const Model* other = ForeignModel(model, token, &t);
    if (other == nullptr) continue;  // checked when the token was read
    Result scratch;
    RunOptions o;
    o.search = t.mode;
    o.bound = t.bound;
    o.depth = t.bound;
    o.fine_grained = t.fine_grained;
    EngineRequest sreq = BaseRequest(*other, o, &scratch);
    sreq.initial_state = t.engine_state;
    if (Sampled(sreq.search)) {
      sreq.first_iteration = t.iteration;
      sreq.executions = 1;
    }
    internal::lockdep::SetModel(other->name());
    rt.StartRun(other, false);
    rt.set_budget(1);
    RunSearch(sreq);
    rt.EndRun();
  }
  internal::lockdep::SetModel(model.name());
  for (const std::string& seed : seeds) {
    EngineRequest sreq = req;
    sreq.initial_state = seed;
    if (Sampled(sreq.search)) {
      std::istringstream in(seed);
      uint64_t it = 1;
      in >> it;
      sreq.first_iteration = it;
      sreq.executions = 1;
    }
    rt.StartRun(&model, false);
    rt.set_budget(1);
    RunSearch(sreq);
    rt.EndRun();
  }
  rt.StartRun(&model, false);
  rt.set_replaying(true);
  g_report_pass_bound = r->preemption_bound;
  req.initial_state = state;
  req.collect_history = true;
  if (Sampled(req.search)) {
    std::istringstream in(state);
    uint64_t it = 1;
    in >> it;
    req.first_iteration = it;
    req.executions = 1;
    g_report_pct_steps = 0;
    in >> g_report_pct_steps;
  }
  const EngineOutcome o = RunSearch(req);
  PendingReport rep;
  if (!o.error.empty()) {
    rep.verdict = Verdict::kModelError;
    rep.headline = "kmc: " + o.error;
  } else if (o.diverged) {
    rep.verdict = Verdict::kNondeterministic;
    rep.headline = "kmc: nondeterministic model: the replayed execution took another path";
    rep.details = "The replay token does not fit this execution (" + o.divergence +
                  "). Either the model is nondeterministic (rand(), clocks, static state "
                  "that survives between executions, object addresses) or the token was made "
                  "for another version of it.\n";
    if (first != nullptr) rep.details += RunLine("first run:  ", first->verdict, first->headline);
  } else if (o.engine_verdict == Verdict::kClean) {
    rep.verdict = Verdict::kNondeterministic;
    rep.headline = "kmc: nondeterministic model: the replayed execution did not fail";
    if (first != nullptr) {
      rep.details =
          RunLine("first run:  ", first->verdict, first->headline) + "re-run:     clean\n";
    }
  } else {
    rep = TakeReport(o);
  }
  if (first != nullptr && rep.verdict != Verdict::kNondeterministic &&
      (rep.verdict != first->verdict || rep.headline != first->headline)) {
    PendingReport nd;
    nd.verdict = Verdict::kNondeterministic;
    nd.headline = "kmc: nondeterministic model: the failing execution behaved differently when re-run";
    nd.details = RunLine("first run:  ", first->verdict, first->headline) +
                 RunLine("re-run:     ", rep.verdict, rep.headline) +
                 "The model depends on something the engine does not control (rand(), a "
                 "clock, static state that survives between executions, or object addresses).\n";
    rep = nd;
  }
  r->verdict = rep.verdict;
  r->message = rep.headline;
  if (r->search == SearchMode::kPct) r->pct_threads = rt.ThreadCount();
  r->report = FormatReport(model, *r, rep, iteration, mode);
  Summarize(rep, r);
  if (!g_out_dir.empty()) {
    r->out_files = WriteTraceFiles(g_out_dir, model.name(), std::string(VerdictName(r->verdict)),
                                   r->report, &r->out_error);
  }
  rt.EndRun();
}

// The locations a failure involves, for suppressions.
std::vector<SuppressFrame> SuppressFrames(const PendingReport& rep) {
  std::vector<SuppressFrame> out;
  auto add = [&out](const internal::Loc& l) {
    if (l.line() != 0) out.push_back(SuppressFrame{internal::SourceFile(l), l.line(), l.function_name()});
  };
  add(rep.loc);
  add(rep.other_loc);
  for (const internal::Loc& l : rep.also) add(l);
  return out;
}

// The request that goes on with `req`'s search from the execution after the
// one `o` stopped at (--all_bugs, --suppressions).
EngineRequest ResumeAfter(const EngineRequest& req, const EngineOutcome& o) {
  EngineRequest next = req;
  next.save_resume = true;
  next.resume = true;
  next.first_iteration = o.stop_iteration + 1;
  if (Sampled(req.search)) {
    next.executions = req.first_iteration + req.executions - next.first_iteration;
    next.initial_state = std::to_string(next.first_iteration);
    // PCT goes on with the most scheduling choices seen so far as its k.
    if (req.search == SearchMode::kPct) next.initial_state += " " + std::to_string(o.pct_steps);
  }
  return next;
}

// Moves the findings suppressed so far (counted by the runtime per rule)
// into *r, merged per rule; the runtime's counts start again from zero, so
// the replays that build reports do not count them twice.
void TakeSuppressed(Result* r) {
  Runtime& rt = Runtime::Get();
  const Suppressions* sup = rt.suppressions();
  if (sup == nullptr) return;
  for (const auto& [rule, count] : rt.suppressed_hits()) {
    r->suppressed += count;
    const std::string& text = sup->rules()[rule].text;
    auto it = std::find_if(r->suppressed_by.begin(), r->suppressed_by.end(),
                           [&](const auto& p) { return p.first == text; });
    if (it != r->suppressed_by.end()) {
      it->second += count;
    } else {
      r->suppressed_by.emplace_back(text, count);
    }
  }
  rt.set_suppressions(sup);
}

// Lockdep's directed search. `r` holds a prediction (verdict `possible
// deadlock`) just replayed: the splat's dependencies name where they were
// recorded. A full search in which a task may be preempted only while it
// holds the first lock of one of them and is about to take the second (or,
// for an irq-state splat, anywhere while it holds the lock an interrupt
// comes for) runs the recorded chains against each other. When an execution
// hangs, `r` becomes that deadlock: its own token (mode "d") and report,
// which keeps lockdep's splat. Otherwise the report says how many
// executions were tried. Deterministic, so a replay of the prediction's
// token runs it again and prints the same report.
void DirectedSearch(const Model& model, TraceMode mode, Result* r) {
  if (r->verdict != Verdict::kPossibleDeadlock) return;
  Runtime& rt = Runtime::Get();
  internal::lockdep::SetDirectedPoints(internal::lockdep::ExecutionPreemptPoints());
  internal::lockdep::SetModel(model.name());
  EngineRequest req;
  req.search = SearchMode::kFull;
  req.depth_limit = model.depth_limit();
  req.may_preempt = &internal::lockdep::MayPreempt;
  req.fine_grained = r->fine_grained;
  rt.StartRun(&model, false);
  internal::lockdep::BeginSearch();
  rt.set_budget(kDirectedBudget);
  const EngineOutcome o = RunSearch(req);
  const uint64_t tried = rt.executions();
  const bool budget_hit = rt.budget_hit();
  std::string note;
  if (o.error.empty() && !o.diverged && !budget_hit && o.engine_verdict == Verdict::kDeadlock) {
    const PendingReport first = TakeReport(o);
    rt.EndRun();
    Result d = *r;
    d.replay = EncodeToken(model.name(), SearchMode::kFull, 0, o.state, /*icb_pass=*/false,
                          /*directed=*/true, req.fine_grained);
    EngineRequest replay;
    replay.search = SearchMode::kFull;
    replay.depth_limit = model.depth_limit();
    replay.fine_grained = req.fine_grained;
    const Suppressions* sup = rt.suppressions();
    const int rule = sup != nullptr ? sup->Match(first.verdict, SuppressFrames(first)) : -1;
    if (rule >= 0) {
      // The hang is suppressed (--suppressions): the prediction stands.
      rt.NoteSuppressed(rule);
      TakeSuppressed(r);
      r->executions += tried;
      const size_t end = r->report.rfind(kRule);
      if (end != std::string::npos) {
        r->report.insert(end, "directed: lockdep's directed search reached the hang in execution " +
                                  std::to_string(o.stop_iteration) + "; suppressed by " +
                                  sup->rules()[rule].text + "\n");
      }
      return;
    }
    g_directed_report = true;
    ReplayInto(model, replay, o.state, o.stop_iteration, &first, mode, &d);
    g_directed_report = false;
    if (d.verdict == Verdict::kDeadlock) {
      r->verdict = d.verdict;
      r->message = d.message;
      r->report = d.report;
      r->replay = d.replay;
      r->executions += tried;
      CopySummary(d, r);
      return;
    }
    note = "directed: lockdep's directed search reached a hang in execution " +
           std::to_string(o.stop_iteration) + ", but it did not hang again when re-run (" +
           d.message + ")";
  } else {
    if (o.engine_verdict != Verdict::kClean && o.engine_verdict != Verdict::kDeadlock &&
        o.error.empty() && !budget_hit) {
      const PendingReport other = TakeReport(o);
      note = "directed: lockdep's directed search stopped after " + std::to_string(tried) +
             " executions at another failure (" + std::string(VerdictName(other.verdict)) +
             ": " + other.headline + ") before reaching a hang";
    } else if (!o.error.empty()) {
      note = "directed: lockdep's directed search could not run: " + o.error;
    } else {
      note = "directed: lockdep's directed search tried " + std::to_string(tried) +
             (tried == 1 ? " execution" : " executions") +
             " (tasks preempted only at the lock acquisitions the splat recorded) and did not "
             "reach the hang" +
             (budget_hit ? " before its budget ran out" : ": no such schedule hangs");
    }
    rt.EndRun();
  }
  r->executions += tried;
  const size_t end = r->report.rfind(kRule);
  if (end != std::string::npos) r->report.insert(end, note + "\n");
  if (!g_out_dir.empty()) {
    r->out_files = WriteTraceFiles(g_out_dir, model.name(), std::string(VerdictName(r->verdict)),
                                   r->report, &r->out_error);
  }
}


// A clean result of a model that touched no race-checked memory proves
// nothing about data races: say so (a driver whose fields are plain C++
// fields, or a model that never reaches the driver).
void WarnIfNothingChecked(uint64_t checked_accesses, Result* r) {
  if (checked_accesses != 0) return;
  r->warning = "no shared accesses were checked";
  r->message += " (warning: " + r->warning + ")";
}

// --- --all_bugs ----------------------------------------------------------

// One distinct bug while the search runs: the execution that shows it with
// the fewest preemptions (then steps), and how often it was hit.
struct Hit {
  std::string key;
  PendingReport first;  // of the execution kept
  std::vector<std::string> locations;
  std::string state;
  uint64_t first_execution = 0;
  uint64_t execution = 0;
  uint64_t count = 0;
  int preemptions = 0;
  uint64_t steps = 0;
};

std::string LocText(const internal::Loc& l) {
  std::string s = internal::FormatLoc(l);
  if (l.line() != 0) s += " " + internal::ShortFunction(l);
  return s;
}

// The source locations a failure involves: where it hit, the other access
// of a race, every blocked task's wait site.
std::vector<std::string> BugLocations(const PendingReport& rep) {
  std::vector<std::string> out;
  auto add = [&out](const internal::Loc& l) {
    if (l.line() == 0) return;
    const std::string t = LocText(l);
    for (const std::string& o : out) {
      if (o == t) return;
    }
    out.push_back(t);
  };
  add(rep.loc);
  add(rep.other_loc);
  for (const internal::Loc& l : rep.also) add(l);
  return out;
}

void NoteHit(const PendingReport& rep, const std::string& state, uint64_t iteration,
             int preemptions, uint64_t steps, std::vector<Hit>* hits) {
  const std::vector<std::string> locations = BugLocations(rep);
  std::vector<std::string> sorted = locations;
  std::sort(sorted.begin(), sorted.end());
  std::string key(VerdictName(rep.verdict));
  for (const std::string& l : sorted) key += "|" + l;
  if (sorted.empty()) key += "|" + rep.headline;  // nothing located: tell them by headline
  for (Hit& h : *hits) {
    if (h.key != key) continue;
    ++h.count;
    if (preemptions < h.preemptions || (preemptions == h.preemptions && steps < h.steps)) {
      h.first = rep;
      h.locations = locations;
      h.state = state;
      h.execution = iteration;
      h.preemptions = preemptions;
      h.steps = steps;
    }
    return;
  }
  Hit h;
  h.key = key;
  h.first = rep;
  h.locations = locations;
  h.state = state;
  h.first_execution = iteration;
  h.execution = iteration;
  h.count = 1;
  h.preemptions = preemptions;
  h.steps = steps;
  hits->push_back(std::move(h));
}

// Replays the executions of lockdep's prediction (the ones that recorded
// the dependencies, then the one that completed the cycle) into *r.
void ReplayPrediction(const Model& model, const EngineRequest& req,
                      const internal::lockdep::Prediction& prediction, TraceMode mode,
                      Result* r, bool icb_pass = false) {
  std::vector<std::string> seeds(prediction.states.begin(), prediction.states.end() - 1);
  r->replay.clear();
  for (const std::string& token : prediction.foreign) {
    if (!r->replay.empty()) r->replay += "+";
    r->replay += token;
  }
  for (const std::string& st : prediction.states) {
    if (!r->replay.empty()) r->replay += "+";
    r->replay +=
        EncodeToken(model.name(), req.search, req.bound, st, icb_pass, false, req.fine_grained);
  }
  r->preemption_bound = icb_pass ? req.bound : -1;
  PendingReport first;
  first.verdict = Verdict::kPossibleDeadlock;
  first.headline = prediction.headline;
  ReplayInto(model, req, prediction.states.back(), prediction.execution, &first, mode, r, seeds,
             prediction.foreign);
}

// After ReplayPrediction: true when a rule (--suppressions) matches the
// prediction; it is counted and *r says nothing was found.
bool PredictionSuppressed(Result* r) {
  Runtime& rt = Runtime::Get();
  const Suppressions* sup = rt.suppressions();
  if (sup == nullptr) return false;
  const int rule = sup->Match(Verdict::kPossibleDeadlock, SuppressFrames(rt.report()));
  if (rule < 0) return false;
  rt.NoteSuppressed(rule);
  TakeSuppressed(r);
  r->verdict = Verdict::kClean;
  r->message = "no bug found";
  r->report.clear();
  r->replay.clear();
  r->interleaving.clear();
  r->preemption_bound = -1;
  return true;
}

// The bug a replayed result shows (--all_bugs), from the runtime's report.
BugFound BugOfReplay(const Result& one, uint64_t execution, uint64_t hits) {
  BugFound b;
  b.verdict = one.verdict;
  b.message = one.message;
  b.locations = BugLocations(Runtime::Get().report());
  b.first_execution = execution;
  b.hits = hits;
  b.execution = execution;
  b.preemptions = RecordedPreemptions();
  b.steps = Runtime::Get().trace().size();
  b.replay = one.replay;
  b.report = one.report;
  return b;
}

// A prediction's bug after its directed search: the deadlock it reached, or
// the prediction with the search's note.
void KeepDirected(const Result& r, BugFound* b) {
  b->verdict = r.verdict;
  b->message = r.message;
  b->replay = r.replay;
  b->report = r.report;
}

// Replays each bug's kept execution for its report; the first bug found
// gives the result's verdict, message, token and (after the table) report.
void FinishBugs(const Model& model, const EngineRequest& req, TraceMode mode,
                const std::vector<Hit>& hits,
                const internal::lockdep::Prediction* prediction, Result* r) {
  // --out draws the first bug (the one the result describes).
  const std::string out_dir = g_out_dir;
  Result first_one;
  for (const Hit& h : hits) {
    Result one = *r;
    one.replay = EncodeToken(model.name(), req.search, req.bound, h.state, false, false,
                             req.fine_grained);
    ReplayInto(model, req, h.state, h.execution, &h.first, mode, &one);
    if (r->bugs.empty()) first_one = one;
    g_out_dir.clear();
    BugFound b = BugOfReplay(one, h.execution, h.count);
    b.locations = h.locations;
    b.first_execution = h.first_execution;
    r->bugs.push_back(std::move(b));
  }
  if (prediction != nullptr) {
    // Lockdep predicted a deadlock from the lock history of the search.
    Result one = *r;
    ReplayPrediction(model, req, *prediction, mode, &one);
    if (PredictionSuppressed(&one)) {
      r->suppressed = one.suppressed;
      r->suppressed_by = one.suppressed_by;
    } else {
      r->bugs.push_back(BugOfReplay(one, prediction->execution, 1));
      DirectedSearch(model, mode, &one);
      KeepDirected(one, &r->bugs.back());
      r->executions = one.executions;
    }
  }
  g_out_dir = out_dir;
  CopySummary(first_one, r);
  const BugFound& first = r->bugs.front();
  r->verdict = first.verdict;
  r->message = first.message;
  r->replay = first.replay;
  r->report = FormatBugTable(*r);
  for (const BugFound& b : r->bugs) r->report += "\n" + b.report;
}

// A PCT run's n and k (the most scheduling choices of an execution).
void NotePct(const EngineOutcome& o, Result* r) {
  if (r->search != SearchMode::kPct) return;
  r->pct_threads = Runtime::Get().ThreadCount();
  r->pct_steps = std::max(r->pct_steps, o.pct_steps);
}

// How one pass of a search ended.
enum class PassEnd {
  kClean,     // no execution failed, the pass's space is exhausted
  kBudget,    // stopped at its execution budget
  kStopped,   // stopped by SIGINT/SIGTERM
  kFinished,  // *r holds the verdict: a failure or an error
};

// A lockdep prediction made by a pass whose executions all passed. It is
// reported only when no pass of the search finds a real failure.
struct Predicted {
  bool valid = false;
  internal::lockdep::Prediction prediction;
  EngineRequest req;
  bool icb_pass = false;
};

// Runs one search pass of `req` (at most `budget` executions, 0: no limit)
// and adds its executions and observations to *r; `icb_pass` marks a pass
// of iterative context bounding (its tokens say so). *checked counts the
// race-checked accesses; the first prediction of the search goes to
// *predicted.
PassEnd RunPass(const Model& model, const RunOptions& options, EngineRequest req, bool icb_pass,
                uint64_t budget, Result* r, uint64_t* checked, Predicted* predicted) {
  Runtime& rt = Runtime::Get();
  rt.StartRun(&model, options.progress);
  rt.set_progress_lines(options.progress_lines);
  rt.set_progress_every(options.progress_every);
  internal::lockdep::BeginSearch();
  internal::lockdep::SetModel(model.name());
  if (!internal::lockdep::ImportGraph(options.lockdep_graph)) {
    rt.EndRun();
    r->verdict = Verdict::kModelError;
    r->message = "kmc: the lockdep graph handed to model " + model.name() + " is malformed";
    r->report = r->message + "\n";
    return PassEnd::kFinished;
  }
  if (!Sampled(req.search)) rt.set_budget(budget);
  if (Sampled(req.search)) req.initial_state = std::to_string(req.first_iteration);
  if (internal::FlightRecorder* fr = internal::GetFlightRecorder()) {
    fr->pass_bound = icb_pass ? req.bound : -1;
    fr->pass_start = fr->executions;
  }
  // --suppressions: a failing execution a rule matches is counted and the
  // pass goes on from the execution after it (a suppressed race does not
  // even end its execution: the runtime counts it).
  // --shard: a failing execution of a subtree another shard owns is passed
  // over the same way (that shard reports it).
  const Suppressions* sup = rt.suppressions();
  EngineRequest run = req;
  run.save_resume = sup != nullptr;
  EngineOutcome o = RunSearch(run);
  NotePct(o, r);
  while ((sup != nullptr || o.foreign) && o.error.empty() &&
         o.engine_verdict != Verdict::kClean && !rt.budget_hit()) {
    if (!o.foreign) {
      const PendingReport rep = TakeReport(o);
      const int rule = sup->Match(rep.verdict, SuppressFrames(rep));
      if (rule < 0) break;  // the failure this pass reports
      rt.NoteSuppressed(rule);
    }
    if (o.search_done) {
      o.engine_verdict = Verdict::kClean;  // its last execution, suppressed
      break;
    }
    rt.AbandonExecution();
    o = RunSearch(ResumeAfter(req, o));
    NotePct(o, r);
  }
  TakeSuppressed(r);
  // --lockdep_scope=driver: the graph of the last pass (the widest one) goes
  // on to the next model of the driver.
  if (options.export_lockdep_graph) {
    r->lockdep_graph = internal::lockdep::ExportGraph([&](const std::string& state) {
      return EncodeToken(model.name(), req.search, req.bound, state, icb_pass, false,
                         req.fine_grained);
    });
  }
  r->executions += rt.executions();
  *checked += rt.checked_accesses();
  for (const std::string& obs : rt.observations()) r->observations.insert(obs);
  r->traces.insert(rt.traces().begin(), rt.traces().end());
  const internal::lockdep::Prediction& prediction = internal::lockdep::SearchPrediction();
  if (prediction.valid && o.error.empty() && o.engine_verdict == Verdict::kClean &&
      !predicted->valid) {
    predicted->valid = true;
    predicted->prediction = prediction;
    predicted->req = req;
    predicted->icb_pass = icb_pass;
  }
  if (rt.budget_hit()) {
    const bool stopped = rt.stopped();
    rt.EndRun();
    return stopped ? PassEnd::kStopped : PassEnd::kBudget;
  }
  if (!o.error.empty()) {
    rt.EndRun();
    r->verdict = Verdict::kModelError;
    r->message = "kmc: " + o.error;
    r->report = r->message + "\n";
    return PassEnd::kFinished;
  }
  if (o.engine_verdict == Verdict::kClean) {
    rt.EndRun();
    return PassEnd::kClean;
  }
  const PendingReport first = TakeReport(o);
  rt.EndRun();
  r->preemption_bound = icb_pass ? req.bound : -1;
  r->shard_subtree = o.subtree;
  r->replay = EncodeToken(model.name(), req.search, req.bound, o.state, icb_pass, false,
                          req.fine_grained);
  ReplayInto(model, req, o.state, o.stop_iteration, &first, options.trace, r);
  return PassEnd::kFinished;
}

// No execution failed, but lockdep predicted a deadlock from the lock
// history of passing ones (of the pass that made the prediction).
void ReportPrediction(const Model& model, const RunOptions& options, const Predicted& p,
                      Result* r) {
  ReplayPrediction(model, p.req, p.prediction, options.trace, r, p.icb_pass);
  if (!PredictionSuppressed(r)) DirectedSearch(model, options.trace, r);
}

// The result of a search that ran out of executions (budget or signal).
void StoppedResult(bool stopped, Result* r) {
  r->verdict = Verdict::kClean;
  r->complete = false;
  r->interrupted = stopped;
  r->message = "no bug found in the first " + std::to_string(r->executions) +
               (stopped ? " executions (interrupted; not a proof)"
                        : " executions (search budget reached; not a proof)");
}

}  // namespace

std::string FormatSuppressed(const Result& r) {
  if (r.suppressed == 0) return "";
  std::string s = "suppressed: " + std::to_string(r.suppressed) + " (";
  for (size_t i = 0; i < r.suppressed_by.size(); ++i) {
    s += (i ? ", " : "") + r.suppressed_by[i].first + " " +
         std::to_string(r.suppressed_by[i].second);
  }
  return s + ")";
}

std::string FormatBugTable(const Result& r) {
  std::string s = "all bugs: " + std::to_string(r.bugs.size()) +
                  (r.bugs.size() == 1 ? " distinct bug" : " distinct bugs") + " in " +
                  std::to_string(r.executions) + " executions (" +
                  (r.complete ? "search complete" : "search not complete") + ")\n";
  s += "   #  " + Pad("VERDICT", 20) + Pad("FIRST", 8) + Pad("HITS", 8) + Pad("PREEMPT", 9) +
       "LOCATIONS\n";
  for (size_t i = 0; i < r.bugs.size(); ++i) {
    const BugFound& b = r.bugs[i];
    std::string n = std::to_string(i + 1);
    if (n.size() < 4) n.insert(0, 4 - n.size(), ' ');
    std::string locs;
    for (const std::string& l : b.locations) locs += (locs.empty() ? "" : "; ") + l;
    s += n + "  " + Pad(std::string(VerdictName(b.verdict)), 20) +
         Pad(std::to_string(b.first_execution), 8) + Pad(std::to_string(b.hits), 8) +
         Pad(std::to_string(b.preemptions), 9) + (locs.empty() ? "?" : locs) + "\n";
  }
  return s;
}

namespace {

// --all_bugs: one search that goes on after each failure (no passes of
// iterative context bounding: each bug keeps its execution with the fewest
// preemptions instead).
Result CheckAllBugs(const Model& model, const RunOptions& options) {
  g_trace_mode = options.trace;
  g_out_dir = OutDir(options.out_dir);
  Result r;
  r.model = model.name();
  r.expected = model.expected();
  EngineRequest req = BaseRequest(model, options, &r);
  const auto t0 = std::chrono::steady_clock::now();
  Runtime& rt = Runtime::Get();
  // The model and the request were checked by CheckModelSearch, the only
  // caller.
  rt.StartRun(&model, options.progress);
  rt.set_progress_lines(options.progress_lines);
  rt.set_progress_every(options.progress_every);
  internal::lockdep::BeginSearch();
  internal::lockdep::SetModel(model.name());
  if (!internal::lockdep::ImportGraph(options.lockdep_graph)) {
    rt.EndRun();
    r.verdict = Verdict::kModelError;
    r.message = "kmc: the lockdep graph handed to model " + model.name() + " is malformed";
    r.report = r.message + "\n";
    return r;
  }
  const uint64_t budget = options.max_executions.value_or(model.max_executions());
  if (!Sampled(req.search)) rt.set_budget(budget);
  if (Sampled(req.search)) req.initial_state = std::to_string(req.first_iteration);
  r.all_bugs = options.all_bugs.value_or(model.all_bugs());
  const Suppressions* sup = rt.suppressions();
  EngineRequest search_req = req;
  search_req.save_resume = r.all_bugs || sup != nullptr;
  EngineOutcome o = RunSearch(search_req);
  NotePct(o, &r);
  // --all_bugs, --suppressions: a failing execution is recorded (or
  // suppressed) and the search goes on from the execution after it.
  std::vector<Hit> hits;
  bool searched_all = false;
  bool last_suppressed = false;
  while (o.error.empty() && o.engine_verdict != Verdict::kClean && !rt.budget_hit()) {
    const PendingReport rep = TakeReport(o);
    const int rule =
        sup != nullptr && !o.foreign ? sup->Match(rep.verdict, SuppressFrames(rep)) : -1;
    if (o.foreign) {
      // --shard: another shard owns this execution and reports its bug.
    } else if (rule >= 0) {
      rt.NoteSuppressed(rule);
    } else if (!r.all_bugs) {
      break;  // the failure this search reports
    } else {
      NoteHit(rep, o.state, o.stop_iteration, rt.execution_preemptions(), rt.execution_steps(),
              &hits);
    }
    if (o.search_done) {
      searched_all = true;
      last_suppressed = rule >= 0;
      break;
    }
    rt.AbandonExecution();
    o = RunSearch(ResumeAfter(req, o));
    NotePct(o, &r);
  }
  if (options.export_lockdep_graph) {
    r.lockdep_graph = internal::lockdep::ExportGraph([&](const std::string& state) {
      return EncodeToken(model.name(), req.search, req.bound, state, false, false,
                         req.fine_grained);
    });
  }
  TakeSuppressed(&r);
  // The search's last execution failed, suppressed: the search ended clean.
  if (last_suppressed) o.engine_verdict = Verdict::kClean;
  if (!hits.empty() && o.error.empty()) {
    r.executions = rt.executions();
    r.observations = rt.observations();
    if (r.observations.size() == 1 && r.observations.begin()->empty()) r.observations.clear();
    r.traces = rt.traces();
    const bool budget_hit = rt.budget_hit();
    r.interrupted = rt.stopped();
    const internal::lockdep::Prediction prediction = internal::lockdep::SearchPrediction();
    rt.EndRun();
    r.complete = (req.search == SearchMode::kExhaustive || req.search == SearchMode::kFull) &&
                 !budget_hit && (searched_all || o.engine_verdict == Verdict::kClean);
    FinishBugs(model, req, options.trace, hits, prediction.valid ? &prediction : nullptr, &r);
    r.seconds = Seconds(t0);
    r.match = r.expected.Contains(r.verdict);
    return r;
  }
  r.executions = rt.executions();
  r.observations = rt.observations();
  if (r.observations.size() == 1 && r.observations.begin()->empty()) r.observations.clear();
  r.traces = rt.traces();
  const internal::lockdep::Prediction prediction = internal::lockdep::SearchPrediction();
  if (prediction.valid && o.error.empty() && o.engine_verdict == Verdict::kClean) {
    // No execution failed, but lockdep predicted a deadlock from the lock
    // history of passing ones: replay the executions that recorded the
    // dependencies, then the one that completed the prediction.
    const bool budget_hit = rt.budget_hit();
    rt.EndRun();
    ReplayPrediction(model, req, prediction, options.trace, &r);
    r.complete = req.search == SearchMode::kExhaustive && !budget_hit;
    if (PredictionSuppressed(&r)) {
      WarnIfNothingChecked(rt.checked_accesses(), &r);
    } else if (r.all_bugs) {
      r.bugs.push_back(BugOfReplay(r, prediction.execution, 1));
      DirectedSearch(model, options.trace, &r);
      KeepDirected(r, &r.bugs.back());
      r.report = FormatBugTable(r) + "\n" + r.report;
    } else {
      DirectedSearch(model, options.trace, &r);
    }
    r.seconds = Seconds(t0);
    r.match = r.expected.Contains(r.verdict);
    return r;
  }
  if (rt.budget_hit()) {
    const bool stopped = rt.stopped();
    rt.EndRun();
    r.verdict = Verdict::kClean;
    r.complete = false;
    r.interrupted = stopped;
    r.message = "no bug found in the first " + std::to_string(r.executions) +
                (stopped ? " executions (interrupted; not a proof)"
                         : " executions (search budget reached; not a proof)");
    r.seconds = Seconds(t0);
    r.match = r.expected.Contains(r.verdict);
    WarnIfNothingChecked(rt.checked_accesses(), &r);
    return r;
  }
  if (!o.error.empty()) {
    rt.EndRun();
    r.verdict = Verdict::kModelError;
    r.message = "kmc: " + o.error;
    r.report = r.message + "\n";
  } else if (o.engine_verdict == Verdict::kClean) {
    rt.EndRun();
    r.verdict = Verdict::kClean;
    r.complete = req.search == SearchMode::kExhaustive || req.search == SearchMode::kFull;
    r.message = "no bug found";
    WarnIfNothingChecked(rt.checked_accesses(), &r);
  } else {
    const PendingReport first = TakeReport(o);
    rt.EndRun();
    r.shard_subtree = o.subtree;
    r.replay = EncodeToken(model.name(), req.search, req.bound, o.state, false, false,
                           req.fine_grained);
    ReplayInto(model, req, o.state, o.stop_iteration, &first, options.trace, &r);
  }
  r.seconds = Seconds(t0);
  r.match = r.expected.Contains(r.verdict);
  return r;
}

// One model's search: --all_bugs, else iterative context bounding and then
// the search itself.
Result CheckModelSearch(const Model& model, const RunOptions& options) {
  g_trace_mode = options.trace;
  g_out_dir = OutDir(options.out_dir);
  Result r;
  r.model = model.name();
  r.expected = model.expected();
  EngineRequest req = BaseRequest(model, options, &r);
  const auto t0 = std::chrono::steady_clock::now();
  if (model.tasks().empty() || !model.has_fixture()) {
    r.verdict = Verdict::kModelError;
    r.message = "kmc: model " + model.name() + " defines no fixture or no task";
    r.report = r.message + "\n";
    r.match = false;
    return r;
  }
  constexpr uint64_t kMaxIteration = uint64_t{1} << 62;
  if (Sampled(req.search) &&
      (req.first_iteration >= kMaxIteration || req.executions >= kMaxIteration - req.first_iteration)) {
    r.verdict = Verdict::kModelError;
    r.message = "kmc: --seed plus --executions must stay below 2^62";
    r.report = r.message + "\n";
    return r;
  }
  if (Sampled(req.search) && req.executions == 0) {
    // --shard of a random or PCT search with fewer executions than shards.
    r.verdict = Verdict::kClean;
    r.message = "no bug found in the first 0 executions (an empty shard; not a proof)";
    r.match = r.expected.Contains(r.verdict);
    return r;
  }
  if (options.all_bugs.value_or(model.all_bugs())) return CheckAllBugs(model, options);
  const uint64_t budget = options.max_executions.value_or(model.max_executions());
  uint64_t checked = 0;
  Predicted predicted;
  // The verdict once every pass has run (or the budget ran out) without a
  // failure: a prediction of lockdep, else clean.
  auto finish = [&](PassEnd end) {
    const bool stopped = end == PassEnd::kStopped || end == PassEnd::kBudget;
    if (end != PassEnd::kFinished && predicted.valid) {
      ReportPrediction(model, options, predicted, &r);
      r.complete = !stopped && req.search == SearchMode::kExhaustive;
    } else if (stopped) {
      StoppedResult(end == PassEnd::kStopped, &r);
    } else if (end == PassEnd::kClean) {
      r.verdict = Verdict::kClean;
      r.complete = req.search == SearchMode::kExhaustive || req.search == SearchMode::kFull;
      r.message = req.search == SearchMode::kPct
                      ? "no bug found in " + std::to_string(r.executions) +
                            " executions of a pct search (not a proof)"
                      : "no bug found";
    }
    if (r.observations.size() == 1 && r.observations.begin()->empty()) r.observations.clear();
    if (r.verdict == Verdict::kClean) WarnIfNothingChecked(checked, &r);
    r.seconds = Seconds(t0);
    r.match = r.expected.Contains(r.verdict);
    return r;
  };
  // Iterative context bounding: first the passes with at most 0, 1, ...,
  // icb_bound preemptions (of an exhaustive search, within icb_budget
  // executions; of a bounded search, up to its bound), then the search
  // itself (the reduced exhaustive one, or the bounded pass at the model's
  // bound when that is larger).
  // Under --shard an exhaustive search runs without the bounded passes:
  // their stop rule (icb_budget executions in all) counts executions of
  // the whole search, which no shard sees.
  int icb_max = -1;
  const int icb_bound = options.icb_bound.value_or(kDefaultIcbBound);
  if (req.search == SearchMode::kExhaustive && options.shard_count == 0) icb_max = icb_bound;
  if (req.search == SearchMode::kBounded) icb_max = std::min(std::max(icb_bound, 0), req.bound);
  int passes_done = -1;  // highest bound whose pass completed
  for (int k = 0; k <= icb_max; ++k) {
    const bool exhaustive = req.search == SearchMode::kExhaustive;
    const uint64_t overall_left = budget == 0 ? UINT64_MAX : budget - r.executions;
    const uint64_t icb_left = exhaustive && options.icb_budget > 0
                                  ? options.icb_budget - std::min(options.icb_budget, r.executions)
                                  : UINT64_MAX;
    if (icb_left == 0) break;
    const uint64_t pass_budget = std::min(overall_left, icb_left);
    EngineRequest pass = req;
    pass.search = SearchMode::kBounded;
    pass.bound = k;
    const PassEnd end = RunPass(model, options, pass, true, pass_budget == UINT64_MAX ? 0 : pass_budget,
                                &r, &checked, &predicted);
    if (end == PassEnd::kFinished || end == PassEnd::kStopped) return finish(end);
    if (end == PassEnd::kBudget) {
      if (overall_left <= icb_left) return finish(end);
      break;  // the bounded passes' own budget: on to the search itself
    }
    passes_done = k;
  }
  if (req.search == SearchMode::kBounded && passes_done >= req.bound) {
    return finish(PassEnd::kClean);
  }
  if (budget != 0 && r.executions >= budget) return finish(PassEnd::kBudget);
  return finish(RunPass(model, options, req, false, budget == 0 ? 0 : budget - r.executions, &r,
                        &checked, &predicted));
}

}  // namespace

Result CheckModel(const Model& model, const RunOptions& options) {
  const Suppressions* sup = options.suppressions.get();
  Runtime::Get().set_suppressions(sup != nullptr && !sup->empty() ? sup : nullptr);
  Result r = CheckModelSearch(model, options);
  Runtime::Get().set_suppressions(nullptr);
  if (r.suppressed != 0) {
    // Counted by the search; the report shows the execution that failed.
    const std::string line = FormatSuppressed(r);
    if (r.verdict == Verdict::kClean) r.message += " (" + line + ")";
    if (!r.report.empty()) r.report += line + "\n";
  }
  return r;
}

Result MergeShards(const std::vector<Result>& shards) {
  if (shards.empty()) return Result{};
  // The failure reported: a real one before a lockdep prediction (as one
  // search reports a prediction only when no pass failed), then the one of
  // the pass with the fewest preemptions, then the one the whole search
  // meets first (its subtree comes first in depth-first order; a random
  // search's shards hold ascending executions).
  const Result* pick = nullptr;
  auto rank = [](const Result& x) {
    return std::make_tuple(x.verdict == Verdict::kPossibleDeadlock ? 1 : 0,
                           x.preemption_bound >= 0 ? x.preemption_bound : INT32_MAX,
                           x.shard_subtree);
  };
  for (const Result& x : shards) {
    if (x.verdict == Verdict::kClean) continue;
    if (pick == nullptr || rank(x) < rank(*pick)) pick = &x;
  }
  Result m = pick != nullptr ? *pick : shards.front();
  m.executions = 0;
  m.seconds = 0;
  m.complete = pick == nullptr;
  m.interrupted = false;
  m.observations.clear();
  m.suppressed = 0;
  m.suppressed_by.clear();
  m.bugs.clear();
  m.seed = shards.front().seed;
  bool warn = true;
  for (const Result& x : shards) {
    m.executions += x.executions;
    m.seconds = std::max(m.seconds, x.seconds);
    m.complete = m.complete && x.complete;
    m.interrupted = m.interrupted || x.interrupted;
    m.observations.insert(x.observations.begin(), x.observations.end());
    m.traces.insert(x.traces.begin(), x.traces.end());
    warn = warn && !x.warning.empty();
    if (pick == nullptr) m.pct_steps = std::max(m.pct_steps, x.pct_steps);
    m.suppressed += x.suppressed;
    for (const auto& [rule, n] : x.suppressed_by) {
      auto it = std::find_if(m.suppressed_by.begin(), m.suppressed_by.end(),
                             [&](const auto& e) { return e.first == rule; });
      if (it == m.suppressed_by.end()) {
        m.suppressed_by.emplace_back(rule, n);
      } else {
        it->second += n;
      }
    }
    // --all_bugs: a bug more than one shard met is listed once, with the
    // hits of all of them.
    for (const BugFound& b : x.bugs) {
      auto it = std::find_if(m.bugs.begin(), m.bugs.end(), [&](const BugFound& e) {
        return e.verdict == b.verdict && e.locations == b.locations;
      });
      if (it == m.bugs.end()) {
        m.bugs.push_back(b);
      } else {
        it->hits += b.hits;
      }
    }
  }
  if (!warn) m.warning.clear();
  m.shard_index = -1;
  m.shard_count = static_cast<int>(shards.size());
  if (pick == nullptr) {
    if (m.interrupted || !m.complete) {
      m.message = "no bug found in the first " + std::to_string(m.executions) +
                  (m.interrupted ? " executions (interrupted; not a proof)"
                                 : " executions (search budget reached; not a proof)");
    } else {
      m.message = "no bug found";
    }
    if (!m.warning.empty()) m.message += " (warning: " + m.warning + ")";
    if (m.suppressed != 0) m.message += " (" + FormatSuppressed(m) + ")";
  }
  if (m.all_bugs && !m.bugs.empty()) {
    m.report = FormatBugTable(m);
    for (const BugFound& b : m.bugs) m.report += "\n" + b.report;
  }
  m.match = m.expected.Contains(m.verdict);
  return m;
}

std::optional<Result> ReplayModel(const Model& model, std::string_view token, std::string* error,
                                  TraceMode mode, const std::string& out_dir,
                                  const Suppressions* suppressions) {
  // A lockdep prediction names several executions, joined by '+': those
  // that recorded the dependencies, then the one that completed the cycle.
  // With --lockdep_scope=driver, executions of other models of the driver
  // come first.
  std::vector<std::string> foreign;
  std::vector<Token> own;
  if (!SplitToken(model, token, &foreign, &own, error)) return std::nullopt;
  std::vector<std::string> seeds;
  for (size_t i = 0; i + 1 < own.size(); ++i) seeds.push_back(own[i].engine_state);
  const Token* t = &own.back();
  Result r;
  r.model = model.name();
  r.expected = model.expected();
  RunOptions options;
  options.search = t->mode;
  options.bound = t->bound;
  options.depth = t->bound;
  options.fine_grained = t->fine_grained;
  EngineRequest req = BaseRequest(model, options, &r);
  if (t->icb_pass) r.preemption_bound = t->bound;
  r.replay = std::string(token);
  r.executions = t->iteration;
  const auto t0 = std::chrono::steady_clock::now();
  g_trace_mode = mode;
  g_out_dir = OutDir(out_dir);
  g_directed_report = t->directed;
  Runtime::Get().set_suppressions(suppressions);
  ReplayInto(model, req, t->engine_state, t->iteration, nullptr, mode, &r, seeds, foreign);
  Runtime::Get().set_suppressions(nullptr);
  if (r.search == SearchMode::kPct) {
    // The replayed execution's own n and k.
    r.pct_steps = g_report_pct_steps;
  }
  g_directed_report = false;
  // A prediction: its directed search, as the check that found it ran it.
  if (!t->directed) DirectedSearch(model, mode, &r);
  r.seconds = Seconds(t0);
  r.match = r.expected.Contains(r.verdict);
  return r;
}

bool ValidateReplayToken(const Model& model, std::string_view token, SearchMode* mode,
                         int* bound, std::string* error) {
  // A lockdep prediction's token is several executions joined by '+'.
  std::vector<std::string> foreign;
  std::vector<Token> own;
  if (!SplitToken(model, token, &foreign, &own, error)) return false;
  *mode = own.back().mode;
  *bound = own.back().bound;
  return true;
}

std::string EncodeReplayToken(const Model& model, SearchMode mode, int bound,
                              const std::string& engine_state, bool icb_pass, bool fine_grained) {
  return EncodeToken(model.name(), mode, bound, engine_state, icb_pass, false, fine_grained);
}

namespace {
std::string& ReplayCommandStorage() {
  static std::string label = "//:kmc";
  return label;
}
}  // namespace

void SetReplayCommand(const char* label) { ReplayCommandStorage() = label; }
const std::string& ReplayCommand() { return ReplayCommandStorage(); }

std::string FormatDyingReport(const Model& model, const Result& r, Verdict verdict,
                              const std::string& headline, const std::string& details,
                              uint64_t iteration) {
  PendingReport rep;
  rep.verdict = verdict;
  rep.headline = headline;
  rep.details = details;
  Result copy = r;
  copy.verdict = verdict;
  copy.preemption_bound = g_report_pass_bound;
  return FormatReport(model, copy, rep, iteration, g_trace_mode);
}

void SetWatchdogSeconds(double seconds) { internal::SetWatchdogSeconds(seconds); }

std::string ResultsToSarif(const std::vector<Result>& results) {
  std::vector<std::string> rules;
  for (const Result& r : results) {
    if (r.verdict == Verdict::kClean) continue;
    const std::string id(VerdictName(r.verdict));
    bool seen = false;
    for (const auto& x : rules) seen |= x == id;
    if (!seen) rules.push_back(id);
  }
  auto location = [](const std::string& file, int line, const std::string& text) {
    std::string s = "{\"physicalLocation\": {\"artifactLocation\": {\"uri\": " + JsonString(file) +
                    ", \"uriBaseId\": \"SRCROOT\"}, \"region\": {\"startLine\": " +
                    std::to_string(line) + "}}";
    if (!text.empty()) s += ", \"message\": {\"text\": " + JsonString(text) + "}";
    return s + "}";
  };
  std::string s = "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
                  "  \"version\": \"2.1.0\",\n  \"runs\": [{\n"
                  "    \"tool\": {\"driver\": {\"name\": \"kmc\", \"rules\": [";
  for (size_t i = 0; i < rules.size(); ++i) {
    s += std::string(i ? ", " : "") + "{\"id\": " + JsonString(rules[i]) +
         ", \"shortDescription\": {\"text\": " + JsonString("kmc: " + rules[i]) + "}}";
  }
  s += "]}},\n";
  // File names are relative to the workspace (SRCROOT); `bazel run` says
  // where it is.
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY"); ws != nullptr && ws[0] == '/') {
    s += "    \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": " +
         JsonString("file://" + std::string(ws) + "/") + "}},\n";
  }
  s += "    \"results\": [";
  bool first = true;
  for (const Result& r : results) {
    if (r.verdict == Verdict::kClean) continue;
    s += std::string(first ? "\n" : ",\n") + "      {\"ruleId\": " +
         JsonString(VerdictName(r.verdict)) + ", \"level\": " +
         JsonString(r.match ? "note" : "error") + ", \"message\": {\"text\": " +
         JsonString(r.message + " (model " + r.model + (r.match ? ", expected" : ", NOT expected") +
                    "; replay: kmc replay " + r.model + " " + r.replay + ")") +
         "}, \"locations\": [";
    first = false;
    if (!r.locations.empty()) s += location(r.locations[0].file, r.locations[0].line, "");
    s += "], \"partialFingerprints\": {\"kmcModel\": " + JsonString(r.model) + "}";
    // The interleaving as a code flow (the steps with a source line; SARIF
    // wants at least one).
    std::string flow;
    const uint64_t first_step = r.steps - r.interleaving.size() + 1;
    for (size_t i = 0; i < r.interleaving.size(); ++i) {
      const Result::Step& st = r.interleaving[i];
      if (st.line == 0) continue;
      flow += std::string(flow.empty() ? "" : ", ") +
              "{\"executionOrder\": " + std::to_string(first_step + i) + ", \"location\": " +
              location(st.file, st.line, st.task + " " + st.context + ": " + st.text) + "}";
    }
    if (!flow.empty()) s += ", \"codeFlows\": [{\"threadFlows\": [{\"locations\": [" + flow + "]}]}]";
    s += "}";
  }
  s += "\n    ]\n  }]\n}\n";
  return s;
}

double PctHitProbability(const Result& r) {
  if (r.search != SearchMode::kPct || r.pct_threads <= 0) return 0;
  const double k = static_cast<double>(std::max<uint64_t>(r.pct_steps, 1));
  return 1.0 / (r.pct_threads * std::pow(k, std::max(r.depth - 1, 0)));
}

double PctMissProbability(const Result& r) {
  const double p = PctHitProbability(r);
  if (p <= 0) return 1;
  if (p >= 1) return r.executions == 0 ? 1 : 0;
  return std::exp(static_cast<double>(r.executions) * std::log1p(-p));
}

std::string PctGuarantee(const Result& r) {
  if (r.search != SearchMode::kPct) return "";
  const int d = r.depth;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "pct, depth %d (not a proof): n = %d threads, k = %llu scheduling choices (the "
                "most of any execution of this run); a bug of depth %d is hit with probability "
                "p >= 1/(n*k^%d) = %.3g per execution, and %llu executions miss it with "
                "probability at most (1-p)^%llu = %.3g",
                d, r.pct_threads, static_cast<unsigned long long>(r.pct_steps), d, d - 1,
                PctHitProbability(r), static_cast<unsigned long long>(r.executions),
                static_cast<unsigned long long>(r.executions), PctMissProbability(r));
  return buf;
}

std::string ResultToJson(const Result& r) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", r.seconds);
  std::string s = "{";
  s += "\"model\": " + JsonString(r.model);
  s += ", \"expected\": " + JsonString(r.expected.ToString());
  s += ", \"verdict\": " + JsonString(VerdictName(r.verdict));
  s += std::string(", \"match\": ") + (r.match ? "true" : "false");
  s += ", \"search\": " + JsonString(SearchModeName(r.search));
  if (r.search == SearchMode::kBounded) s += ", \"bound\": " + std::to_string(r.bound);
  if (Sampled(r.search)) s += ", \"seed\": " + std::to_string(r.seed);
  if (r.search == SearchMode::kPct) {
    char p[32], miss[32];
    std::snprintf(p, sizeof p, "%.6g", PctHitProbability(r));
    std::snprintf(miss, sizeof miss, "%.6g", PctMissProbability(r));
    s += ", \"depth\": " + std::to_string(r.depth) + ", \"pct\": {\"threads\": " +
         std::to_string(r.pct_threads) + ", \"steps\": " + std::to_string(r.pct_steps) +
         ", \"hit_probability\": " + p + ", \"miss_probability\": " + miss + "}";
  }
  s += std::string(", \"complete\": ") + (r.complete ? "true" : "false");
  if (r.fine_grained) s += ", \"fine_grained\": true";
  s += ", \"executions\": " + std::to_string(r.executions);
  if (!r.observations.empty()) s += ", \"observations\": " + std::to_string(r.observations.size());
  s += ", \"seconds\": " + std::string(secs);
  s += ", \"replay\": " + (r.replay.empty() ? std::string("null") : JsonString(r.replay));
  s += ", \"message\": " + JsonString(r.message);
  if (r.interrupted) s += ", \"interrupted\": true";
  if (r.shard_count > 0 && r.shard_index >= 0) {
    s += ", \"shard\": " +
         JsonString(std::to_string(r.shard_index) + "/" + std::to_string(r.shard_count));
  } else if (r.shard_count > 0) {
    s += ", \"shards\": " + std::to_string(r.shard_count);
  }
  if (!r.warning.empty()) s += ", \"warning\": " + JsonString(r.warning);
  if (r.suppressed != 0) {
    s += ", \"suppressed\": " + std::to_string(r.suppressed) + ", \"suppressed_by\": {";
    for (size_t i = 0; i < r.suppressed_by.size(); ++i) {
      s += (i ? ", " : "") + JsonString(r.suppressed_by[i].first) + ": " +
           std::to_string(r.suppressed_by[i].second);
    }
    s += "}";
  }
  if (r.all_bugs) {
    // --all_bugs: every distinct bug, in the order found.
    s += ", \"bugs\": [";
    for (size_t i = 0; i < r.bugs.size(); ++i) {
      const BugFound& b = r.bugs[i];
      s += i ? ", {" : "{";
      s += "\"verdict\": " + JsonString(VerdictName(b.verdict));
      s += ", \"message\": " + JsonString(b.message);
      s += ", \"locations\": [";
      for (size_t k = 0; k < b.locations.size(); ++k) {
        s += (k ? ", " : "") + JsonString(b.locations[k]);
      }
      s += "], \"first_execution\": " + std::to_string(b.first_execution);
      s += ", \"hits\": " + std::to_string(b.hits);
      s += ", \"execution\": " + std::to_string(b.execution);
      s += ", \"preemptions\": " + std::to_string(b.preemptions);
      s += ", \"steps\": " + std::to_string(b.steps);
      s += ", \"replay\": " + JsonString(b.replay) + "}";
    }
    s += "]";
  }
  if (r.verdict != Verdict::kClean && !r.replay.empty()) {
    s += ", \"preemptions\": " + std::to_string(r.preemptions);
    if (r.preemption_bound >= 0) {
      s += ", \"preemption_bound\": " + std::to_string(r.preemption_bound);
    }
    s += ", \"steps\": " + std::to_string(r.steps);
    s += ", \"tasks\": [";
    for (size_t i = 0; i < r.tasks.size(); ++i) {
      s += std::string(i ? ", " : "") + "{\"name\": " + JsonString(r.tasks[i].name) +
           ", \"cpu\": " + std::to_string(r.tasks[i].cpu) +
           ", \"state\": " + JsonString(r.tasks[i].state) + "}";
    }
    s += "], \"locations\": [";
    for (size_t i = 0; i < r.locations.size(); ++i) {
      const SourceLocation& l = r.locations[i];
      s += std::string(i ? ", " : "") + "{\"role\": " + JsonString(l.role) +
           ", \"file\": " + JsonString(l.file) + ", \"line\": " + std::to_string(l.line) +
           ", \"function\": " + JsonString(l.function) + "}";
    }
    s += "]";
  }
  if (!r.out_files.empty() || !r.out_error.empty()) {
    s += ", \"out\": [";
    for (size_t i = 0; i < r.out_files.size(); ++i) {
      s += std::string(i ? ", " : "") + JsonString(r.out_files[i]);
    }
    s += "]";
    if (!r.out_error.empty()) s += ", \"out_error\": " + JsonString(r.out_error);
  }
  s += "}";
  return s;
}

PlainRelacyResult RunPlainRelacyPipe(int context_bound) {
  const internal::PlainRelacyRun run = internal::RunPlainRelacyPipe(context_bound);
  PlainRelacyResult r;
  r.executions = run.executions;
  r.ok = run.ok;
  return r;
}

}  // namespace kmc
