// kmc: the interleaving of a failing execution, as text (see report.h).

#include "sync/report.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sync/internal/runtime.h"

namespace kmc {
namespace {

using internal::Runtime;
using internal::TraceEvent;

std::string Pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

std::string CtxShort(internal::Ctx c) {
  switch (c) {
    case internal::Ctx::kProcess: return "proc";
    case internal::Ctx::kSoftirq: return "softirq";
    case internal::Ctx::kHardirq: return "hardirq";
  }
  return "?";
}

std::string TaskTag(const Runtime& rt, int task) {
  if (task >= 0 && task < static_cast<int>(rt.tasks().size())) {
    const auto& t = rt.tasks()[task];
    return t.name + "/" + std::to_string(t.pid);
  }
  return "insmod/100";
}

std::vector<std::string> SplitLocks(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(", ", start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 2;
  }
  return out;
}

// What every step that touched one 8-byte granule of memory (or one
// primitive object) had in common, for folding.
struct Granule {
  std::set<int> tasks;
  std::set<int> tasks_after_setup;  // the tasks that touched it after the module's setup
  bool any_access = false;
  std::vector<std::string> common_locks;  // held by every access
  bool unlocked_use = false;  // touched by something other than an access or allocation
  bool written = false;       // some access wrote it
};

std::vector<uintptr_t> Granules(const TraceEvent& e) {
  std::vector<uintptr_t> out;
  if (e.lo == e.hi) return out;
  constexpr uintptr_t kMaxGranules = 64;  // a whole page or object: its first bytes
  const uintptr_t first = e.lo >> 3, last = (e.hi - 1) >> 3;
  for (uintptr_t g = first; g <= last && g - first < kMaxGranules; ++g) out.push_back(g);
  return out;
}

// A step of the module's setup: insmod/100 (module init and the model's
// setup code) before any task or interrupt has run a step.
bool IsModuleTask(const Runtime& rt, int task) {
  return task < 0 || task >= static_cast<int>(rt.tasks().size());
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// A step that marks a check that fired ("*** lockdep: ...") or the failure.
bool IsMark(const TraceEvent& e) { return e.failure || StartsWith(e.text, "*** "); }

// An explored outcome: a signal, a timeout, an injected failure.
bool IsOutcome(const TraceEvent& e) {
  return StartsWith(e.text, "signal") || StartsWith(e.text, "timeout") ||
         e.text.find("(injected)") != std::string::npos;
}

// How a short trace shows each step: kept steps get a line of their own;
// the others fold into one line per run. `round` marks the steps folded as
// part of an interrupt that ran to its end, `setup` those of the module's
// setup, and `entry` the first step of the outermost interrupt or softirq
// run each step belongs to (-1: none).
struct Folding {
  std::vector<bool> keep;
  std::vector<bool> round;
  std::vector<bool> setup;
  std::vector<int> entry;
};

// The interrupts a short trace folds whole. A hardirq runs from its entry
// (with the "irq raised" step before it) to its exit, a softirq run from
// "softirq runs ..." to the task's return to process context, with any
// hardirq nested in it. One that ran to its end without another task's
// step in between, that interrupted no other task (a hardirq over the idle
// task or its own source's softirq, a softirq run in a task holding no
// lock), that hit no failure and saw no preemption or explored outcome, and
// that released every lock it took leaves nothing the failure needs but
// its memory: it folds, except for its steps that touch what other tasks
// touch (`shared`: plain accesses, wake-ups, frees) and the checks that
// fired in it.
void FoldRounds(const std::vector<TraceEvent>& trace, const std::vector<std::string>& after,
                const std::vector<bool>& shared, Folding* f) {
  const size_t n = trace.size();
  for (size_t s = 0; s < n; ++s) {
    const TraceEvent& e = trace[s];
    const bool hardirq = e.interrupted != -1 && e.ctx == internal::Ctx::kHardirq;
    const bool softirq = StartsWith(e.text, "softirq runs ");
    if (!hardirq && !softirq) continue;
    size_t first = s;
    if (hardirq && s > 0 && StartsWith(trace[s - 1].text, "irq ") &&
        trace[s - 1].task == e.task && trace[s - 1].cpu == e.cpu) {
      first = s - 1;  // "irq gpio raised"
    }
    // The unit's last step.
    size_t last = s;
    bool ended = false;
    for (size_t j = s + 1; j < n; ++j) {
      const TraceEvent& x = trace[j];
      if (x.task != e.task || x.cpu != e.cpu) break;
      if (hardirq) {
        if (x.ctx != internal::Ctx::kHardirq) break;
        last = j;
        if (StartsWith(x.text, "hardirq ") && x.text.find(" exits on ") != std::string::npos) {
          ended = true;
          break;
        }
      } else {
        if (x.ctx == internal::Ctx::kProcess) {
          ended = true;
          break;
        }
        last = j;
      }
    }
    if (!ended || last + 1 >= n) continue;  // still running at the end of the trace
    if (trace[last + 1].preempted >= 0) continue;
    // A hardirq that interrupted another task interleaves with it on its
    // CPU: shown. One that interrupted the idle task, or its own source's
    // softirq, interleaves with nothing there.
    if (hardirq && e.interrupted != -2 && e.interrupted != e.task) continue;
    // A softirq run in a task's context while the task held a lock: shown.
    bool under_locked = false;
    for (size_t k = first; softirq && k-- > 0;) {
      if (trace[k].task != e.task || trace[k].ctx != internal::Ctx::kProcess) continue;
      under_locked = !after[k].empty();
      break;
    }
    if (under_locked) continue;
    bool foldable = true;
    std::map<int, const std::string*> held;  // per context: the locks after its last step
    for (size_t j = first; j <= last && foldable; ++j) {
      const TraceEvent& x = trace[j];
      if (x.failure || x.preempted >= 0 || IsOutcome(x)) foldable = false;
      held[static_cast<int>(x.ctx)] = &after[j];
    }
    for (const auto& [ctx, locks] : held) {
      if (ctx != static_cast<int>(internal::Ctx::kProcess) && !locks->empty()) foldable = false;
    }
    if (!foldable) continue;  // its nested hardirqs are looked at on their own
    for (size_t j = first; j <= last; ++j) {
      f->round[j] = true;
      if (f->entry[j] < 0) f->entry[j] = static_cast<int>(s);
      f->keep[j] = IsMark(trace[j]) || shared[j];
    }
    s = last;
  }
}

// Steps a short trace shows. Folded are steps that touch nothing another
// task touches, plain accesses to memory that every access touches under
// one common lock, and plain reads of memory that no step writes (a module
// parameter): they cannot race and do not decide the interleaving. Always
// shown: the failing step and every check that fired, the steps on both
// sides of a preemption, lock changes, interrupt entries and exits, and
// explored outcomes. Two exceptions fold more: the module's setup (insmod
// before any task runs: nothing to interleave with) and interrupts that ran
// to their end (FoldRounds). Steps a shown step names ("the store of step
// 2") stay shown. Linear in the steps and the granules they touch.
Folding Kept(const Runtime& rt, const std::vector<TraceEvent>& trace,
             const std::vector<std::string>& after) {
  const size_t n = trace.size();
  size_t setup_end = 0;  // the module's setup: steps [0, setup_end)
  while (setup_end < n && IsModuleTask(rt, trace[setup_end].task)) ++setup_end;
  std::map<uintptr_t, Granule> granules;
  for (size_t i = 0; i < n; ++i) {
    const TraceEvent& e = trace[i];
    // Allocations, and insmod restoring a module's globals, happen before
    // any access to that memory.
    const bool alloc = e.text.rfind("kmalloc(", 0) == 0 || e.text.rfind("alloc_page", 0) == 0 ||
                       e.text.rfind("insmod ", 0) == 0;
    const std::vector<std::string> locks = SplitLocks(e.locks);
    for (uintptr_t g : Granules(e)) {
      Granule& gr = granules[g];
      gr.tasks.insert(e.task);
      if (i >= setup_end) gr.tasks_after_setup.insert(e.task);
      if (e.access) {
        if (e.text.rfind("write", 0) == 0) gr.written = true;
        if (!gr.any_access) {
          gr.common_locks = locks;
        } else {
          std::vector<std::string> both;
          for (const auto& l : gr.common_locks) {
            for (const auto& m : locks) {
              if (l == m) both.push_back(l);
            }
          }
          gr.common_locks = std::move(both);
        }
        gr.any_access = true;
      } else if (!alloc) {
        gr.unlocked_use = true;
      }
    }
  }
  Folding f;
  f.keep.assign(n, false);
  f.round.assign(n, false);
  f.setup.assign(n, false);
  f.entry.assign(n, -1);
  // Steps that touch, unguarded, what a task other than their own touches
  // after the setup: they stay shown inside a folded interrupt.
  std::vector<bool> shared_after_setup(n, false);
  for (size_t i = 0; i < n; ++i) {
    const TraceEvent& e = trace[i];
    if (e.failure || e.preempted >= 0) f.keep[i] = true;
    if (i + 1 < n && trace[i + 1].preempted >= 0) f.keep[i] = true;
    if (after[i] != e.locks) f.keep[i] = true;
    if (e.text.rfind("irq ", 0) == 0 && !f.keep[i]) continue;  // "irq gpio raised"
    if (e.text.rfind("hardirq", 0) == 0 || e.text.rfind("softirq", 0) == 0 || IsMark(e) ||
        IsOutcome(e)) {
      f.keep[i] = true;  // context changes, checks that fired and explored outcomes
    }
    if (e.lo == e.hi) continue;
    bool shared = false, others = false, guarded = e.access, read_only = e.access;
    for (uintptr_t g : Granules(e)) {
      const Granule& gr = granules[g];
      if (gr.tasks.size() > 1) shared = true;
      for (int t : gr.tasks_after_setup) others = others || t != e.task;
      if (gr.common_locks.empty() || gr.unlocked_use) guarded = false;
      if (gr.written || gr.unlocked_use) read_only = false;
    }
    guarded = guarded || read_only;
    // Inside a folded interrupt, a lock step or an allocation that others
    // touch folds (the interrupt released every lock it took); plain
    // accesses, wake-ups, signals (complete(), up() that is no lock of the
    // task's), frees and atomic writes stay.
    using internal::Access;
    const Access kind = static_cast<Access>(e.access_kind);
    const bool signals =
        e.access ||
        (e.access_kind >= 0 && (kind == Access::kWake || kind == Access::kFree ||
                                kind == Access::kWrite || kind == Access::kRmw ||
                                kind == Access::kUserCopy ||
                                (kind == Access::kRelease && after[i] == e.locks)));
    shared_after_setup[i] = others && !guarded && signals;
    if (!f.keep[i]) f.keep[i] = shared && !guarded;
  }
  // The setup folds whole, but for its checks and outcomes and the changes
  // of a lock it still holds when the tasks start.
  if (setup_end > 0 && setup_end < n) {
    const bool holds = !after[setup_end - 1].empty();
    for (size_t i = 0; i < setup_end; ++i) {
      const TraceEvent& e = trace[i];
      f.setup[i] = true;
      f.keep[i] = IsMark(e) || IsOutcome(e) || (holds && after[i] != e.locks);
    }
  }
  FoldRounds(trace, after, shared_after_setup, &f);
  // A shown step that names another ("reads the store of step 2") shows it.
  for (size_t i = 0; i < n; ++i) {
    if (!f.keep[i]) continue;
    const std::string& t = trace[i].text;
    for (size_t at = t.find("step "); at != std::string::npos; at = t.find("step ", at + 5)) {
      const size_t step = std::strtoul(t.c_str() + at + 5, nullptr, 10);
      if (step >= 1 && step <= n && step - 1 != i) f.keep[step - 1] = true;
    }
  }
  return f;
}

// The locks each step's task holds once the step has run: recorded when the
// step changed them, else what its context's next step found (a step
// records the locks held when it starts).
std::vector<std::string> LocksAfter(const std::vector<TraceEvent>& trace) {
  std::vector<std::string> after(trace.size());
  std::map<std::pair<int, int>, const std::string*> next;  // per context, going backwards
  for (size_t i = trace.size(); i-- > 0;) {
    const TraceEvent& e = trace[i];
    const std::pair<int, int> key{e.task, static_cast<int>(e.ctx)};
    if (e.has_locks_after) {
      after[i] = e.locks_after;
    } else {
      auto it = next.find(key);
      after[i] = it != next.end() ? *it->second : e.locks;
    }
    next[key] = &e.locks;
  }
  return after;
}

std::string StepLine(const Runtime& rt, const TraceEvent& e, size_t number, bool show_locks,
                     const std::string& locks) {
  std::string num = std::to_string(number);
  if (num.size() < 4) num.insert(0, 4 - num.size(), ' ');
  std::string s = num + "  " + Pad(TaskTag(rt, e.task), 16) + " CPU#" +
                  std::to_string(e.cpu) + " " + Pad(CtxShort(e.ctx), 8) + Pad(e.text, 44) + " " +
                  internal::FormatLoc(e.loc);
  if (e.loc.line() != 0) s += " " + internal::ShortFunction(e.loc);
  if (show_locks) s += "  {" + (locks.empty() ? std::string("no locks") : locks) + "}";
  return s + "\n";
}

// The end of the run of folded steps that starts at `i`: steps of one
// context, or of one task on one CPU through folded interrupts, and of
// the module's setup or not.
size_t FoldedRun(const std::vector<TraceEvent>& trace, const Folding& fold, size_t i) {
  const TraceEvent& e = trace[i];
  size_t j = i;
  while (j < trace.size() && !fold.keep[j] && trace[j].task == e.task && trace[j].cpu == e.cpu &&
         (trace[j].ctx == e.ctx || fold.round[j]) && fold.setup[j] == fold.setup[i] &&
         (j == i || trace[j].preempted < 0)) {
    ++j;
  }
  return j;
}

// "hardirq gpio" for a hardirq's entry step, "tasklet asgn2_tasklet" for
// "softirq runs tasklet asgn2_tasklet".
std::string EntryName(const TraceEvent& x) {
  return StartsWith(x.text, "softirq runs ") ? x.text.substr(13)
                                             : x.text.substr(0, x.text.find(" enters"));
}

// The "..." line of the folded steps [i, j).
std::string FoldLine(const Runtime& rt, const std::vector<TraceEvent>& trace,
                     const std::vector<std::string>& after, const Folding& fold, size_t i,
                     size_t j, bool rounds) {
  const TraceEvent& e = trace[i];
  std::string what;
  if (rounds) {
    // What ran ("hardirq gpio x2, tasklet asgn2_tasklet") and the locks
    // taken or released inside.
    std::vector<std::pair<std::string, int>> entries;
    std::vector<std::string> changed;
    for (size_t k = i; k < j; ++k) {
      const TraceEvent& x = trace[k];
      if ((x.interrupted != -1 && x.ctx == internal::Ctx::kHardirq) ||
          StartsWith(x.text, "softirq runs ")) {
        const std::string name = EntryName(x);
        bool seen = false;
        for (auto& [y, count] : entries) {
          if (y == name) {
            ++count;
            seen = true;
          }
        }
        if (!seen) entries.emplace_back(name, 1);
      }
      if (after[k] == x.locks) continue;
      const std::string before_set = ", " + x.locks + ", ", after_set = ", " + after[k] + ", ";
      for (const auto& l : SplitLocks(after[k] + ", " + x.locks)) {
        const bool in_before = before_set.find(", " + l + ", ") != std::string::npos;
        const bool in_after = after_set.find(", " + l + ", ") != std::string::npos;
        if (l.empty() || in_before == in_after) continue;
        bool seen = false;
        for (const auto& c : changed) seen = seen || c == l;
        if (!seen) changed.push_back(l);
      }
    }
    const int first_entry = fold.entry[i];
    if (first_entry >= 0 && static_cast<size_t>(first_entry) < i) {
      what += EntryName(trace[first_entry]) + " (from step " + std::to_string(first_entry + 1) + ")";
    }
    for (const auto& [name, count] : entries) {
      what += (what.empty() ? "" : ", ") + name;
      if (count > 1) what += " x" + std::to_string(count);
    }
    if (what.empty()) what = "interrupt";
    if (!changed.empty()) {
      what += "; locks taken or released:";
      for (size_t k = 0; k < changed.size(); ++k) what += (k ? ", " : " ") + changed[k];
    }
  } else {
    std::vector<std::string> functions;
    for (size_t k = i; k < j; ++k) {
      const std::string fn = internal::ShortFunction(trace[k].loc);
      bool seen = false;
      for (const auto& f : functions) seen = seen || f == fn;
      if (!seen) functions.push_back(fn);
    }
    std::string fns;
    for (size_t k = 0; k < functions.size() && k < 4; ++k) fns += (k ? ", " : "") + functions[k];
    if (functions.size() > 4) fns += ", ...";
    what = (fold.setup[i] ? "module setup in " : "in ") + fns;
  }
  return "   ...  " + Pad(TaskTag(rt, e.task), 16) + " CPU#" + std::to_string(e.cpu) + " " +
         Pad(rounds ? "irq" : CtxShort(e.ctx), 8) + "steps " + std::to_string(i + 1) + "-" +
         std::to_string(j) + " (" + std::to_string(j - i) + ")" + (rounds ? ": " : " ") + what +
         "\n";
}

}  // namespace

int RecordedPreemptions() { return Runtime::Get().preemptions(); }

std::vector<std::string> LocksAfterEachStep() { return LocksAfter(Runtime::Get().trace()); }

std::string FormatInterleaving(TraceMode mode) {
  const Runtime& rt = Runtime::Get();
  const auto& trace = rt.trace();
  const size_t n = trace.size();
  const std::vector<std::string> after = LocksAfter(trace);
  Folding fold;
  if (mode == TraceMode::kFull) {
    fold.keep.assign(n, true);
    fold.round.assign(n, false);
    fold.setup.assign(n, false);
    fold.entry.assign(n, -1);
  } else {
    fold = Kept(rt, trace, after);
  }
  const std::vector<bool>& keep = fold.keep;
  size_t shown = 0;
  for (bool k : keep) shown += k ? 1 : 0;
  const int preemptions = rt.preemptions();
  std::string s = "interleaving (" + std::to_string(n) + " steps, " +
                  std::to_string(preemptions) +
                  (preemptions == 1 ? " preemption" : " preemptions");
  if (shown < n) {
    s += "; " + std::to_string(n - shown) +
         " steps folded: touching nothing another task touches, under a lock every access "
         "holds, the module's setup, or inside interrupts that ran to their end; --trace=full "
         "shows them";
  }
  s += "; {locks held} where they change):\n";
  std::vector<std::pair<std::pair<int, int>, std::string>> locks;  // per context, as last shown
  auto remember = [&locks](const std::pair<int, int>& context, const std::string& held) {
    for (auto& [c, h] : locks) {
      if (c == context) {
        h = held;
        return;
      }
    }
    locks.emplace_back(context, held);
  };
  for (size_t i = 0; i < n;) {
    const TraceEvent& e = trace[i];
    if (e.preempted >= 0) {
      s += "        -- preempted: " + TaskTag(rt, e.preempted) + " -> " + TaskTag(rt, e.task) +
           " --\n";
    }
    if (!keep[i]) {
      // A run of folded steps of one context, or of one task on one CPU
      // through interrupts that ran to their end.
      const size_t j = FoldedRun(trace, fold, i);
      bool rounds = false;
      for (size_t k = i; k < j; ++k) rounds = rounds || fold.round[k];
      if (j - i == 1 && !rounds) {
        s += StepLine(rt, e, i + 1, false, "");
        i = j;
        continue;
      }
      if (j - i > 1) {
        s += FoldLine(rt, trace, after, fold, i, j, rounds);
        // Locks are not shown inside a fold; the next kept step of each
        // context shows them if they differ from those it held after the
        // fold (an interrupt's lock changes fold with it).
        if (rounds || fold.setup[i]) {
          for (size_t k = i; k < j; ++k) {
            remember({trace[k].task, static_cast<int>(trace[k].ctx)}, after[k]);
          }
        }
        i = j;
        continue;
      }
      // One step of a folded interrupt alone is shown as a kept step.
    }
    bool show = false;
    bool found = false;
    const std::pair<int, int> context{e.task, static_cast<int>(e.ctx)};
    for (auto& [c, held] : locks) {
      if (c != context) continue;
      found = true;
      show = held != after[i];
      held = after[i];
    }
    if (!found) {
      show = !after[i].empty();
      locks.emplace_back(context, after[i]);
    }
    s += StepLine(rt, e, i + 1, show, after[i]);
    ++i;
  }
  return s;
}

}  // namespace kmc
