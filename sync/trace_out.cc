// kmc: trace.json and trace.html of a failing execution (see trace_out.h).

#include "sync/trace_out.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sync/internal/engine.h"
#include "sync/internal/runtime.h"
#include "sync/report.h"

namespace kmc {
namespace {

using internal::Ctx;
using internal::Runtime;
using internal::TraceEvent;

constexpr size_t kStepUs = 10;  // trace.json: one step is 10 microseconds
// trace.json's processes: CPUs (a track per CPU), tasks (a track per task),
// locks held (a track per task and lock).
constexpr int kTraceCpusPid = 1;
constexpr int kTraceTasksPid = 2;
constexpr int kTraceLocksPid = 3;


std::string Html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* CtxShort(Ctx c) {
  switch (c) {
    case Ctx::kProcess: return "proc";
    case Ctx::kSoftirq: return "softirq";
    case Ctx::kHardirq: return "hardirq";
  }
  return "?";
}

// Everything both pictures need, computed once from the runtime. A trace
// longer than kTraceOutMaxSteps is drawn from step `first` on (its end:
// where the failure is).
struct Picture {
  struct Lane {
    int task;  // index into tasks, -1 for module init/exit (insmod)
    std::string name;
    int cpu;
  };
  struct LockSpan {
    int task;
    std::string lock;
    size_t from, to;  // steps [from, to]
  };
  struct Span {
    int task;
    size_t from, to;  // steps [from, to)
    std::string what;
  };
  size_t first = 0;
  std::vector<Lane> lanes;  // grouped by CPU
  std::vector<LockSpan> locks;
  std::vector<Span> sleeps;
  std::vector<std::pair<size_t, size_t>> wakes;  // waker step -> woken step
  int failure = -1;           // the failing step
  std::vector<size_t> marks;  // steps noting a check that fired ("*** ...")
  std::vector<std::pair<size_t, std::string>> blocked;  // last step of a task asleep for good
  int other_access = -1;      // the other access of a race
  std::vector<std::string> after;  // locks held after each step
};

std::string TaskName(const Runtime& rt, int task) {
  if (task >= 0 && task < static_cast<int>(rt.tasks().size())) {
    return rt.tasks()[task].name + "/" + std::to_string(rt.tasks()[task].pid);
  }
  return "insmod/100";
}

int TaskCpu(const Runtime& rt, int task) {
  if (task >= 0 && task < static_cast<int>(rt.tasks().size())) return rt.tasks()[task].cpu;
  return 0;
}

std::set<std::string> SplitLocks(const std::string& s) {
  std::set<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(", ", start);
    if (comma == std::string::npos) comma = s.size();
    out.insert(s.substr(start, comma - start));
    start = comma + 2;
  }
  return out;
}

Picture Build() {
  const Runtime& rt = Runtime::Get();
  const auto& trace = rt.trace();
  Picture p;
  p.first = trace.size() > kTraceOutMaxSteps ? trace.size() - kTraceOutMaxSteps : 0;
  p.after = LocksAfterEachStep();
  // Lanes: the tasks that ran a step, grouped by CPU.
  std::set<int> seen;
  for (size_t i = p.first; i < trace.size(); ++i) seen.insert(trace[i].task);
  int max_cpu = 0;
  for (int t : seen) max_cpu = std::max(max_cpu, TaskCpu(rt, t));
  for (int c = 0; c <= max_cpu; ++c) {
    for (int t : seen) {
      if (TaskCpu(rt, t) == c) p.lanes.push_back({t, TaskName(rt, t), c});
    }
  }
  // Lock holds, per task and context.
  std::map<std::pair<int, int>, std::map<std::string, size_t>> open;
  for (size_t i = p.first; i < trace.size(); ++i) {
    const TraceEvent& e = trace[i];
    auto& held = open[{e.task, static_cast<int>(e.ctx)}];
    const std::set<std::string> now = SplitLocks(p.after[i]);
    for (auto it = held.begin(); it != held.end();) {
      if (now.count(it->first) == 0) {
        p.locks.push_back({e.task, it->first, it->second, i});
        it = held.erase(it);
      } else {
        ++it;
      }
    }
    for (const std::string& l : now) {
      if (held.count(l) == 0) held[l] = i;
    }
  }
  for (const auto& [key, held] : open) {
    for (const auto& [lock, from] : held) {
      p.locks.push_back({key.first, lock, from, trace.empty() ? 0 : trace.size() - 1});
    }
  }
  // Sleeps and the wake-ups that ended them.
  for (size_t i = p.first; i < trace.size(); ++i) {
    const TraceEvent& e = trace[i];
    if (e.sleep_from < 0) continue;
    const size_t from = std::max(static_cast<size_t>(e.sleep_from) + 1, p.first);
    p.sleeps.push_back({e.task, from, i, "asleep"});
    // The waker: the latest wake-up or release by another task since the
    // task went to sleep, preferring one on the object it slept on.
    const size_t lo = std::max(from, i > 1000 ? i - 1000 : 0);
    const uintptr_t slept_on = trace[static_cast<size_t>(e.sleep_from)].lo;
    int any = -1, same = -1;
    for (size_t j = i; j-- > lo && same < 0;) {
      const int k = trace[j].access_kind;
      if (trace[j].task == e.task || (k != static_cast<int>(internal::Access::kWake) &&
                                      k != static_cast<int>(internal::Access::kRelease))) {
        continue;
      }
      if (any < 0) any = static_cast<int>(j);
      if (slept_on != 0 && trace[j].lo == slept_on) same = static_cast<int>(j);
    }
    if (same >= 0 || any >= 0) p.wakes.emplace_back(static_cast<size_t>(same >= 0 ? same : any), i);
  }
  // Tasks asleep for good: from their last step to one step past the end.
  for (size_t t = 0; t < rt.tasks().size(); ++t) {
    const auto& ts = rt.tasks()[t];
    if (ts.finished || ts.wait_object == nullptr) continue;
    for (size_t j = trace.size(); j-- > p.first;) {
      if (trace[j].task == static_cast<int>(t)) {
        p.sleeps.push_back(
            {static_cast<int>(t), j + 1, trace.size() + 1, "asleep in " + ts.wait_what});
        p.blocked.emplace_back(j, "asleep for good in " + ts.wait_what);
        break;
      }
    }
  }
  // The failing step, the checks that fired and the other access of a race.
  for (size_t i = p.first; i < trace.size(); ++i) {
    if (trace[i].failure) p.failure = static_cast<int>(i);
    if (trace[i].text.rfind("*** ", 0) == 0) p.marks.push_back(i);
  }
  const internal::PendingReport& rep = rt.report();
  if (rep.other_task >= 0 && rep.other_loc.line() != 0) {
    const size_t end = p.failure >= 0 ? static_cast<size_t>(p.failure) : trace.size();
    for (size_t j = end; j-- > p.first;) {
      const TraceEvent& e = trace[j];
      if (e.task == rep.other_task && e.access && e.loc.line() == rep.other_loc.line() &&
          std::strcmp(e.loc.file_name(), rep.other_loc.file_name()) == 0) {
        p.other_access = static_cast<int>(j);
        break;
      }
    }
  }
  return p;
}

std::string Where(const TraceEvent& e) {
  std::string s = internal::FormatLoc(e.loc);
  if (e.loc.line() != 0) s += " " + internal::ShortFunction(e.loc);
  return s;
}

std::string N(size_t v) { return std::to_string(v); }
std::string N(int v) { return std::to_string(v); }

}  // namespace

std::string TraceJson(const std::string& model, const std::string& verdict) {
  const Runtime& rt = Runtime::Get();
  const auto& trace = rt.trace();
  const Picture p = Build();
  std::vector<std::string> ev;
  auto meta = [&](int pid, int tid, const char* what, const std::string& name) {
    std::string s = "{\"name\": \"" + std::string(what) + "\", \"ph\": \"M\", \"pid\": " + N(pid);
    if (tid >= 0) s += ", \"tid\": " + N(tid);
    ev.push_back(s + ", \"args\": {\"name\": " + JsonString(name) + "}}");
  };
  auto tid_of = [](int task) { return task + 2; };  // insmod (-1) is tid 1
  meta(kTraceCpusPid, -1, "process_name", "CPUs");
  meta(kTraceTasksPid, -1, "process_name", "tasks");
  meta(kTraceLocksPid, -1, "process_name", "locks held");
  std::set<int> cpus;
  for (const auto& l : p.lanes) cpus.insert(l.cpu);
  for (size_t i = p.first; i < trace.size(); ++i) cpus.insert(trace[i].cpu);
  for (int c : cpus) meta(kTraceCpusPid, c, "thread_name", "CPU#" + N(c));
  for (const auto& l : p.lanes) meta(kTraceTasksPid, tid_of(l.task), "thread_name", l.name);
  auto slice = [&](int pid, int tid, size_t from, size_t to, const std::string& name,
                   const std::string& cat, const std::string& args) {
    ev.push_back("{\"name\": " + JsonString(name) + ", \"cat\": " + JsonString(cat) +
                 ", \"ph\": \"X\", \"pid\": " + N(pid) + ", \"tid\": " + N(tid) +
                 ", \"ts\": " + N(from * kStepUs) + ", \"dur\": " + N((to - from) * kStepUs) +
                 (args.empty() ? "" : ", \"args\": {" + args + "}") + "}");
  };
  // CPU tracks: contexts nested as the CPU runs them (an interrupt inside
  // the context it interrupted when that context runs on afterwards).
  struct Frame {
    int task;
    Ctx ctx;
    size_t from, last;
  };
  std::map<int, std::vector<Frame>> stacks;
  auto close = [&](int cpu, const Frame& f) {
    const std::string name = TaskName(rt, f.task) + " (" + CtxShort(f.ctx) + ")";
    slice(kTraceCpusPid, cpu, f.from, f.last + 1, name, CtxShort(f.ctx), "");
  };
  for (size_t i = p.first; i < trace.size(); ++i) {
    const TraceEvent& e = trace[i];
    auto& st = stacks[e.cpu];
    int found = -1;
    for (size_t k = 0; k < st.size(); ++k) {
      if (st[k].task == e.task && st[k].ctx == e.ctx) found = static_cast<int>(k);
    }
    if (found >= 0) {
      while (static_cast<int>(st.size()) > found + 1) {
        close(e.cpu, st.back());
        st.pop_back();
      }
    } else {
      while (!st.empty() && static_cast<int>(st.back().ctx) >= static_cast<int>(e.ctx)) {
        close(e.cpu, st.back());
        st.pop_back();
      }
      st.push_back({e.task, e.ctx, i, i});
    }
    // The frames below were interrupted: they go on up to here.
    for (Frame& f : st) f.last = i;
  }
  for (auto& [cpu, st] : stacks) {
    while (!st.empty()) {
      close(cpu, st.back());
      st.pop_back();
    }
  }
  // Task tracks: one slice per step.
  for (size_t i = p.first; i < trace.size(); ++i) {
    const TraceEvent& e = trace[i];
    std::string args = "\"step\": " + N(i + 1) + ", \"cpu\": " + N(e.cpu) +
                       ", \"context\": " + JsonString(CtxShort(e.ctx)) +
                       ", \"file\": " + JsonString(e.loc.line() ? internal::SourceFile(e.loc) : "") +
                       ", \"line\": " + N(static_cast<size_t>(e.loc.line())) +
                       ", \"function\": " +
                       JsonString(e.loc.line() ? internal::ShortFunction(e.loc) : "") +
                       ", \"locks\": " + JsonString(p.after[i]);
    if (e.preempted >= 0) args += ", \"preempted\": " + JsonString(TaskName(rt, e.preempted));
    slice(kTraceTasksPid, tid_of(e.task), i, i + 1, e.text, "step", args);
  }
  for (const auto& s : p.sleeps) {
    if (s.to > s.from) slice(kTraceTasksPid, tid_of(s.task), s.from, s.to, s.what, "sleep", "");
  }
  // Lock holds: a track per task and lock (holds of different locks need
  // not nest).
  std::map<std::pair<int, std::string>, int> lock_tid;
  for (const auto& l : p.locks) {
    auto [it, added] = lock_tid.emplace(std::make_pair(l.task, l.lock),
                                        static_cast<int>(lock_tid.size()) + 1);
    if (added) meta(kTraceLocksPid, it->second, "thread_name", TaskName(rt, l.task) + " " + l.lock);
    slice(kTraceLocksPid, it->second, l.from, l.to + 1, l.lock, "lock",
          "\"task\": " + JsonString(TaskName(rt, l.task)));
  }
  auto instant = [&](size_t i, const std::string& cat, const std::string& name) {
    const TraceEvent& e = trace[i];
    ev.push_back("{\"name\": " + JsonString(name) + ", \"cat\": " + JsonString(cat) +
                 ", \"ph\": \"i\", \"s\": \"t\", \"pid\": " + N(kTraceTasksPid) +
                 ", \"tid\": " + N(tid_of(e.task)) + ", \"ts\": " + N(i * kStepUs + kStepUs / 2) +
                 ", \"args\": {\"step\": " + N(i + 1) + ", \"where\": " + JsonString(Where(e)) + "}}");
  };
  int flow_id = 1;
  auto flow = [&](size_t from, size_t to, const std::string& name) {
    const std::string id = N(flow_id++);
    ev.push_back("{\"name\": " + JsonString(name) + ", \"cat\": \"flow\", \"ph\": \"s\", \"id\": " + id +
                 ", \"pid\": " + N(kTraceTasksPid) + ", \"tid\": " + N(tid_of(trace[from].task)) +
                 ", \"ts\": " + N(from * kStepUs + kStepUs / 2) + "}");
    ev.push_back("{\"name\": " + JsonString(name) +
                 ", \"cat\": \"flow\", \"ph\": \"f\", \"bp\": \"e\", \"id\": " + id +
                 ", \"pid\": " + N(kTraceTasksPid) + ", \"tid\": " + N(tid_of(trace[to].task)) +
                 ", \"ts\": " + N(to * kStepUs + kStepUs / 2) + "}");
  };
  // Every check that fired (the failure; lockdep's splat before a deadlock).
  for (size_t i : p.marks) instant(i, "failure", trace[i].text.substr(4));
  if (p.other_access >= 0) {
    instant(static_cast<size_t>(p.other_access), "failure", "the other access of the race");
    if (p.failure >= 0) {
      flow(static_cast<size_t>(p.other_access), static_cast<size_t>(p.failure), "race");
    }
  }
  for (const auto& [step, what] : p.blocked) instant(step, "blocked", what);
  for (const auto& [waker, woken] : p.wakes) flow(waker, woken, "wake-up");
  std::string s = "{\"traceEvents\": [\n";
  for (size_t i = 0; i < ev.size(); ++i) s += "  " + ev[i] + (i + 1 < ev.size() ? ",\n" : "\n");
  s += "],\n\"displayTimeUnit\": \"ns\",\n\"otherData\": {\"model\": " + JsonString(model) +
       ", \"verdict\": " + JsonString(verdict) + ", \"headline\": " + JsonString(rt.report().headline) +
       ", \"steps\": " + N(trace.size()) + ", \"first_step\": " + N(p.first + 1) +
       ", \"preemptions\": " + N(rt.preemptions()) + ", \"step_us\": " + N(kStepUs) + "}}\n";
  return s;
}

std::string TraceHtml(const std::string& model, const std::string& verdict,
                      const std::string& report) {
  const Runtime& rt = Runtime::Get();
  const auto& trace = rt.trace();
  const Picture p = Build();
  const size_t shown = trace.size() - p.first;
  // Steps get narrower as there are more of them, so that a typical
  // interleaving fits a window.
  const int step_w = static_cast<int>(std::clamp<size_t>(shown ? 1100 / shown : 16, 6, 16));
  constexpr int kLabel = 170, kLane = 30, kTop = 28, kGroupGap = 18;
  std::map<int, int> lane_y;  // task -> y of its lane
  int y = kTop;
  int cpu = -1;
  std::string groups;
  for (const auto& l : p.lanes) {
    if (l.cpu != cpu) {
      if (cpu >= 0) y += kGroupGap;
      cpu = l.cpu;
      groups += "<text class=\"cpu\" x=\"4\" y=\"" + N(y + 12) + "\">CPU#" + N(cpu) + "</text>\n";
      y += 16;
    }
    lane_y[l.task] = y;
    groups += "<g class=\"lane\" data-task=\"" + Html(l.name) + "\" data-cpu=\"" + N(l.cpu) +
              "\"><rect class=\"lanebg\" x=\"" + N(kLabel) + "\" y=\"" + N(y) + "\" width=\"" +
              N(shown * static_cast<size_t>(step_w)) + "\" height=\"" + N(kLane - 6) +
              "\"/><text class=\"name\" x=\"14\" y=\"" + N(y + 15) + "\">" + Html(l.name) +
              "</text></g>\n";
    y += kLane;
  }
  const int width = kLabel + static_cast<int>(shown) * step_w + 20;
  const int height = y + 10;
  auto x_of = [&](size_t i) { return kLabel + static_cast<int>(i - p.first) * step_w; };
  std::string body;
  // Sleeps.
  for (const auto& s : p.sleeps) {
    const size_t to = std::min(s.to, trace.size());
    if (to <= s.from) continue;
    body += "<rect class=\"sleep\" x=\"" + N(x_of(s.from)) + "\" y=\"" + N(lane_y[s.task] + 8) +
            "\" width=\"" + N(static_cast<int>(to - s.from) * step_w) +
            "\" height=\"8\"><title>" + Html(TaskName(rt, s.task) + " " + s.what) +
            "</title></rect>\n";
  }
  // Interrupt contexts over the task they interrupted (from the hardirq's
  // entry until that task runs again; softirqs run at irq exit included).
  std::map<int, int> victim_of;  // interrupt source -> interrupted task
  for (size_t i = p.first; i < trace.size(); ++i) {
    const TraceEvent& e = trace[i];
    if (e.interrupted == -2) victim_of.erase(e.task);
    if (e.interrupted >= 0 && e.interrupted != e.task) victim_of[e.task] = e.interrupted;
    if (e.ctx == Ctx::kProcess) {
      for (auto it = victim_of.begin(); it != victim_of.end();) {
        it = it->second == e.task ? victim_of.erase(it) : std::next(it);
      }
      continue;
    }
    auto it = victim_of.find(e.task);
    if (it == victim_of.end() || lane_y.count(it->second) == 0) continue;
    const int o = it->second;
    body += "<rect class=\"over " + std::string(CtxShort(e.ctx)) + "\" x=\"" + N(x_of(i)) +
            "\" y=\"" + N(lane_y[o]) + "\" width=\"" + N(step_w) + "\" height=\"" +
            N(kLane - 6) + "\"><title>" +
            Html(TaskName(rt, o) + " interrupted by " + TaskName(rt, e.task) + " (" +
                 CtxShort(e.ctx) + "): " + e.text) +
            "</title></rect>\n";
  }
  // Lock holds: bars under the lane, one row per lock.
  std::map<std::string, int> lock_row;
  for (const auto& l : p.locks) {
    if (lock_row.count(l.lock) == 0) {
      const int n = static_cast<int>(lock_row.size());
      lock_row[l.lock] = n;
    }
    const int row = lock_row[l.lock] % 2;
    body += "<rect class=\"lock l" + N(lock_row[l.lock] % 6) + "\" x=\"" + N(x_of(l.from)) +
            "\" y=\"" + N(lane_y[l.task] + kLane - 6 - 8 + row * 4) + "\" width=\"" +
            N(static_cast<int>(l.to - l.from + 1) * step_w) + "\" height=\"4\"><title>" +
            Html(TaskName(rt, l.task) + " holds " + l.lock) + "</title></rect>\n";
  }
  // Steps.
  for (size_t i = p.first; i < trace.size(); ++i) {
    const TraceEvent& e = trace[i];
    std::string cls = std::string("step ") + CtxShort(e.ctx);
    if (static_cast<int>(i) == p.failure) cls += " failure";
    if (static_cast<int>(i) == p.other_access) cls += " racing";
    const std::string tip = N(i + 1) + "  " + TaskName(rt, e.task) + "  CPU#" + N(e.cpu) + " " +
                            CtxShort(e.ctx) + "\n" + e.text + "\n" + Where(e) +
                            (p.after[i].empty() ? "" : "\nholds " + p.after[i]);
    body += "<rect class=\"" + cls + "\" data-step=\"" + N(i + 1) + "\" data-task=\"" +
            Html(TaskName(rt, e.task)) + "\" data-where=\"" + Html(Where(e)) + "\" x=\"" +
            N(x_of(i) + 1) + "\" y=\"" + N(lane_y[e.task] + 2) + "\" width=\"" +
            N(step_w - 2) + "\" height=\"" + N(kLane - 16) + "\"><title>" + Html(tip) +
            "</title></rect>\n";
    if (e.preempted >= 0) {
      body += "<line class=\"preempt\" x1=\"" + N(x_of(i)) + "\" x2=\"" + N(x_of(i)) +
              "\" y1=\"" + N(kTop - 6) + "\" y2=\"" + N(height - 6) + "\"><title>" +
              Html("preempted: " + TaskName(rt, e.preempted) + " -> " + TaskName(rt, e.task)) +
              "</title></line>\n";
    }
  }
  auto link = [&](size_t from, size_t to, const std::string& cls, const std::string& title) {
    const int x1 = x_of(from) + step_w / 2, y1 = lane_y[trace[from].task] + kLane / 2 - 6;
    const int x2 = x_of(to) + step_w / 2, y2 = lane_y[trace[to].task] + kLane / 2 - 6;
    body += "<path class=\"" + cls + "\" d=\"M" + N(x1) + " " + N(y1) + " C" + N(x1) + " " +
            N((y1 + y2) / 2 - 20) + " " + N(x2) + " " + N((y1 + y2) / 2 - 20) + " " + N(x2) +
            " " + N(y2) + "\" marker-end=\"url(#arrow)\"><title>" + Html(title) +
            "</title></path>\n";
  };
  for (const auto& [waker, woken] : p.wakes) {
    link(waker, woken, "wake",
         "wake-up: step " + N(waker + 1) + " wakes " + TaskName(rt, trace[woken].task));
  }
  if (p.other_access >= 0 && p.failure >= 0) {
    link(static_cast<size_t>(p.other_access), static_cast<size_t>(p.failure), "race",
         "the two accesses of the race: steps " + N(static_cast<size_t>(p.other_access) + 1) +
             " and " + N(static_cast<size_t>(p.failure) + 1));
  }
  std::string axis;
  const size_t every = shown > 200 ? 50 : shown > 60 ? 10 : 5;
  for (size_t i = p.first; i < trace.size(); ++i) {
    if ((i + 1) % every == 0 || i == p.first) {
      axis += "<text class=\"num\" x=\"" + N(x_of(i)) + "\" y=\"14\">" + N(i + 1) + "</text>";
    }
  }
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>kmc: " +
       Html(model) + "</title>\n<style>\n"
       "body{font:13px monospace;margin:12px;color:#222;background:#fff}\n"
       "h1{font-size:15px;margin:0 0 4px}\n.meta{margin:0 0 8px;color:#444}\n"
       ".lanebg{fill:#f4f4f4}.name{font-size:12px}.cpu{font-weight:bold;font-size:12px}\n"
       ".num{font-size:9px;fill:#888}\n"
       ".step{stroke:#fff;cursor:pointer}.step.proc{fill:#4a78c2}.step.softirq{fill:#e39a2d}"
       ".step.hardirq{fill:#c8402e}\n.step.failure{fill:#000;stroke:#f00;stroke-width:2}"
       ".step.racing{stroke:#f00;stroke-width:2}\n.step.sel{stroke:#0a0;stroke-width:3}\n"
       ".over{fill-opacity:.3;stroke-dasharray:2 2}.over.softirq{fill:#e39a2d;stroke:#e39a2d}"
       ".over.hardirq{fill:#c8402e;stroke:#c8402e}\n"
       ".sleep{fill:#aaa;fill-opacity:.6}\n.lock{fill-opacity:.9}.l0{fill:#2a9d4b}"
       ".l1{fill:#8e44ad}.l2{fill:#16a2b8}.l3{fill:#b5651d}.l4{fill:#d63384}.l5{fill:#6c757d}\n"
       ".preempt{stroke:#999;stroke-dasharray:4 3}\n"
       ".race{fill:none;stroke:#f00;stroke-width:2}.wake{fill:none;stroke:#0a0;stroke-width:1.5}\n"
       "#detail{white-space:pre;background:#f8f8e8;border:1px solid #ccc;padding:6px;"
       "min-height:4.5em}\n"
       ".legend span{display:inline-block;margin-right:12px}.sw{display:inline-block;width:10px;"
       "height:10px;margin-right:3px;vertical-align:middle}\n"
       "</style></head><body>\n";
  h += "<h1>" + Html(rt.report().headline) + "</h1>\n";
  h += "<p class=\"meta\">model " + Html(model) + " &middot; verdict " + Html(verdict) +
       " &middot; " + N(trace.size()) + " steps" +
       (p.first > 0 ? " (the last " + N(shown) + " drawn)" : std::string()) + " &middot; " +
       N(rt.preemptions()) + " preemptions &middot; " + N(p.lanes.size()) + " lanes</p>\n";
  h += "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#4a78c2\"></i>process</span>"
       "<span><i class=\"sw\" style=\"background:#e39a2d\"></i>softirq</span>"
       "<span><i class=\"sw\" style=\"background:#c8402e\"></i>hardirq (translucent: over the "
       "task it interrupted)</span>"
       "<span><i class=\"sw\" style=\"background:#aaa\"></i>asleep</span>"
       "<span><i class=\"sw\" style=\"background:#2a9d4b\"></i>lock held</span>"
       "<span><i class=\"sw\" style=\"background:#000;border:1px solid red\"></i>the bug</span>"
       "<span>red curve: the two accesses of a race; green arrows: wake-ups; dashed: "
       "preemptions</span></p>\n";
  h += "<div style=\"overflow-x:auto\"><svg id=\"lanes\" xmlns=\"http://www.w3.org/2000/svg\" "
       "width=\"" + N(width) + "\" height=\"" + N(height) + "\" data-lanes=\"" +
       N(p.lanes.size()) + "\" data-steps=\"" + N(shown) + "\" data-preemptions=\"" +
       N(rt.preemptions()) +
       "\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
       "markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0 0 L10 5 L0 10 z\" "
       "fill=\"#555\"/></marker></defs>\n";
  h += axis + "\n" + groups + body + "</svg></div>\n";
  h += "<p>Hover over a step for its source line; click it to keep the details here:</p>\n"
       "<div id=\"detail\"></div>\n";
  h += "<details open><summary>text report</summary><pre>" + Html(report) + "</pre></details>\n";
  h += "<script>\n"
       "(function(){var sel=null;var d=document.getElementById('detail');\n"
       "document.querySelectorAll('rect.step').forEach(function(r){r.addEventListener('click',"
       "function(){if(sel)sel.classList.remove('sel');sel=r;r.classList.add('sel');"
       "var t=r.querySelector('title');d.textContent=t?t.textContent:'';});});\n"
       "var f=document.querySelector('rect.step.failure');"
       "if(f){var t=f.querySelector('title');d.textContent=t?t.textContent:'';}\n"
       "document.body.setAttribute('data-rendered','lanes='+"
       "document.querySelectorAll('#lanes g.lane').length+' steps='+"
       "document.querySelectorAll('#lanes rect.step').length);})();\n"
       "</script>\n</body></html>\n";
  return h;
}

std::vector<std::string> WriteTraceFiles(const std::string& dir, const std::string& model,
                                         const std::string& verdict, const std::string& report,
                                         std::string* error) {
  std::vector<std::string> written;
  std::string path = dir;
  // DIR/<model>: the model's name has one '/' per directory level.
  for (const std::string& part : {std::string(), model}) {
    if (!part.empty()) path += "/" + part;
    std::string sofar;
    for (size_t i = 0; i <= path.size(); ++i) {
      if (i == path.size() || path[i] == '/') {
        sofar = path.substr(0, i);
        if (!sofar.empty() && mkdir(sofar.c_str(), 0755) != 0 && errno != EEXIST) {
          *error = "cannot create " + sofar + ": " + std::strerror(errno);
          return written;
        }
      }
    }
  }
  const std::pair<const char*, std::string> files[] = {
      {"report.txt", report},
      {"trace.json", TraceJson(model, verdict)},
      {"trace.html", TraceHtml(model, verdict, report)},
  };
  for (const auto& [name, text] : files) {
    const std::string file = path + "/" + name;
    std::FILE* f = std::fopen(file.c_str(), "w");
    if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
      *error = "cannot write " + file + ": " + std::strerror(errno);
      if (f != nullptr) std::fclose(f);
      return written;
    }
    if (std::fclose(f) != 0) {
      *error = "cannot write " + file + ": " + std::strerror(errno);
      return written;
    }
    written.push_back(file);
  }
  return written;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace kmc
