// kmc: the interleaving of a failing execution, as text (see report.h).

#include "sync/report.h"

#include <cstdint>
#include <cstdio>
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

// Steps a short trace shows. Folded are steps that touch nothing another
// task touches, plain accesses to memory that every access touches under
// one common lock, and plain reads of memory that no step writes (a module
// parameter): they cannot race and do not decide the interleaving. Always shown: the failing step, the steps on both sides
// of a preemption, lock changes, interrupt entries and exits, and explored
// outcomes. Linear in the steps and the granules they touch.
std::vector<bool> Kept(const std::vector<TraceEvent>& trace, const std::vector<std::string>& after) {
  const size_t n = trace.size();
  std::map<uintptr_t, Granule> granules;
  for (const TraceEvent& e : trace) {
    // Allocations, and insmod restoring a module's globals, happen before
    // any access to that memory.
    const bool alloc = e.text.rfind("kmalloc(", 0) == 0 || e.text.rfind("alloc_page", 0) == 0 ||
                       e.text.rfind("insmod ", 0) == 0;
    const std::vector<std::string> locks = SplitLocks(e.locks);
    for (uintptr_t g : Granules(e)) {
      Granule& gr = granules[g];
      gr.tasks.insert(e.task);
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
  std::vector<bool> keep(n, false);
  for (size_t i = 0; i < n; ++i) {
    const TraceEvent& e = trace[i];
    if (e.failure || e.preempted >= 0) keep[i] = true;
    if (i + 1 < n && trace[i + 1].preempted >= 0) keep[i] = true;
    if (after[i] != e.locks) keep[i] = true;
    if (e.text.rfind("irq ", 0) == 0 && !keep[i]) continue;  // "irq gpio raised"
    if (e.text.rfind("hardirq", 0) == 0 || e.text.rfind("softirq", 0) == 0 ||
        e.text.rfind("signal", 0) == 0 || e.text.rfind("timeout", 0) == 0 ||
        e.text.find("(injected)") != std::string::npos) {
      keep[i] = true;  // context changes and explored outcomes
    }
    if (keep[i] || e.lo == e.hi) continue;
    bool shared = false, guarded = e.access, read_only = e.access;
    for (uintptr_t g : Granules(e)) {
      const Granule& gr = granules[g];
      if (gr.tasks.size() > 1) shared = true;
      if (gr.common_locks.empty() || gr.unlocked_use) guarded = false;
      if (gr.written || gr.unlocked_use) read_only = false;
    }
    guarded = guarded || read_only;
    keep[i] = shared && !guarded;
  }
  return keep;
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

}  // namespace

int RecordedPreemptions() { return Runtime::Get().preemptions(); }

std::vector<std::string> LocksAfterEachStep() { return LocksAfter(Runtime::Get().trace()); }

std::string FormatInterleaving(TraceMode mode) {
  const Runtime& rt = Runtime::Get();
  const auto& trace = rt.trace();
  const std::vector<std::string> after = LocksAfter(trace);
  const std::vector<bool> keep =
      mode == TraceMode::kFull ? std::vector<bool>(trace.size(), true) : Kept(trace, after);
  size_t shown = 0;
  for (bool k : keep) shown += k ? 1 : 0;
  const int preemptions = rt.preemptions();
  std::string s = "interleaving (" + std::to_string(trace.size()) + " steps, " +
                  std::to_string(preemptions) +
                  (preemptions == 1 ? " preemption" : " preemptions");
  if (shown < trace.size()) {
    s += "; " + std::to_string(trace.size() - shown) +
         " steps folded: touching nothing another task touches, or under a lock every "
         "access holds; --trace=full shows them";
  }
  s += "; {locks held} where they change):\n";
  std::vector<std::pair<std::pair<int, int>, std::string>> locks;  // per context, as last shown
  for (size_t i = 0; i < trace.size();) {
    const TraceEvent& e = trace[i];
    if (e.preempted >= 0) {
      s += "        -- preempted: " + TaskTag(rt, e.preempted) + " -> " + TaskTag(rt, e.task) +
           " --\n";
    }
    if (!keep[i]) {
      // A run of folded steps of one context.
      size_t j = i;
      std::vector<std::string> functions;
      while (j < trace.size() && !keep[j] && trace[j].task == e.task && trace[j].ctx == e.ctx &&
             (j == i || trace[j].preempted < 0)) {
        const std::string fn = internal::ShortFunction(trace[j].loc);
        bool seen = false;
        for (const auto& f : functions) seen = seen || f == fn;
        if (!seen) functions.push_back(fn);
        ++j;
      }
      if (j - i == 1) {
        s += StepLine(rt, e, i + 1, false, "");
      } else {
        std::string fns;
        for (size_t k = 0; k < functions.size() && k < 4; ++k) fns += (k ? ", " : "") + functions[k];
        if (functions.size() > 4) fns += ", ...";
        s += "   ...  " + Pad(TaskTag(rt, e.task), 16) + " CPU#" + std::to_string(e.cpu) + " " +
             Pad(CtxShort(e.ctx), 8) + "steps " + std::to_string(i + 1) + "-" +
             std::to_string(j) + " (" + std::to_string(j - i) + ") in " + fns + "\n";
      }
      // Locks are not shown inside a fold; the next kept step of the task
      // shows them if they differ from the last shown.
      i = j;
      continue;
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
