// kmc: lockdep. Classes, held-lock stacks, the dependency graph, irq usage
// and the kernel's splats; see sync/lockdep.h and docs/LOCKDEP.md.

#include "sync/lockdep.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string_view>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sync/internal/c_loc.h"
#include "sync/internal/runtime.h"

namespace kmc::internal::lockdep {
namespace {

// Usage bits, numbered as the kernel numbers them: bit 0 read, bit 1
// direction (0: used in irq, 1: irq enabled), bits 2+: the irq state.
enum Usage : int {
  kUsedInHardirq = 0,
  kUsedInHardirqRead = 1,
  kEnabledHardirq = 2,
  kEnabledHardirqRead = 3,
  kUsedInSoftirq = 4,
  kUsedInSoftirqRead = 5,
  kEnabledSoftirq = 6,
  kEnabledSoftirqRead = 7,
  kUsageBits = 8,
};
constexpr int kReadMask = 1;
constexpr int kDirMask = 2;
constexpr int kStateMask = ~3;

const char* UsageName(int bit) {
  static const char* const kNames[] = {"IN-HARDIRQ-W", "IN-HARDIRQ-R", "HARDIRQ-ON-W",
                                       "HARDIRQ-ON-R", "IN-SOFTIRQ-W", "IN-SOFTIRQ-R",
                                       "SOFTIRQ-ON-W", "SOFTIRQ-ON-R"};
  return kNames[bit];
}
// "HARDIRQ" or "HARDIRQ-READ" (the kernel's state_name()).
std::string StateName(int bit) {
  std::string s = (bit >> 2) == 0 ? "HARDIRQ" : "SOFTIRQ";
  if (bit & kReadMask) s += "-READ";
  return s;
}
// The opposite direction of the same state, write form.
int ExclusiveBit(int bit) { return (bit & kStateMask) | ((bit & kDirMask) ^ kDirMask); }

// Dependency kinds (the kernel's DEP_*_BIT): prev held exclusively (E) or
// shared (S), next taken non-recursively (N) or as a recursive reader (R).
enum Dep : uint8_t { kDepEN = 1, kDepER = 2, kDepSN = 4, kDepSR = 8 };
constexpr uint8_t kDepEMask = kDepEN | kDepER;
constexpr uint8_t kDepNMask = kDepEN | kDepSN;

uint8_t DepOf(Read prev, Read next) {
  const bool s = prev != kExclusive;
  const bool r = next == kRecursiveRead;
  return s ? (r ? kDepSR : kDepSN) : (r ? kDepER : kDepEN);
}

struct Site {
  uint64_t execution = 0;
  Loc loc;
  std::string who;    // "task/pid"
  std::string model;  // the model whose execution recorded it
  std::string token;  // an inherited site (another model): its replay token
};

struct LockClass {
  std::string name;  // as printed: "&dev->lock", "&dev->lock/1", "&dev->lock#2"
  WaitType wait = kWaitConfig;
  uint8_t usage = 0;
  Site usage_site[kUsageBits];
  std::vector<int> after;   // classes taken while this one was held
  std::vector<int> before;  // classes held while this one was taken
};

struct Edge {
  uint8_t deps = 0;
  Site site;           // the acquisition of the next lock that recorded it
  Loc prev_loc;        // where the held lock had been taken
};

// A class key (an init site, a static lock, a struct lock_class_key) and the
// classes of its subclasses, search-wide.
struct Key {
  std::string name;  // class name without the subclass
  WaitType wait = kWaitConfig;
  int cls[KMC_MAX_LOCKDEP_SUBCLASS + 1] = {-1, -1, -1, -1, -1, -1, -1, -1};
};

// One lock instance of the running execution.
struct Instance {
  const void* lock = nullptr;
  int key = -1;      // index into State::keys; -1 until known
  int subclass = 0;  // lockdep_set_subclass
};

struct Held {
  const void* lock = nullptr;
  int cls = -1;
  Read read = kExclusive;
  bool trylock = false;
  const void* nest = nullptr;
  Ctx ctx = Ctx::kProcess;
  Loc loc;
};

struct State {
  // Search-wide.
  std::vector<LockClass> classes;
  std::map<std::string, int> class_ids;
  std::map<std::string, int> name_versions;
  std::unordered_map<uint64_t, Edge> edges;
  std::map<uint64_t, std::string> exec_states;  // executions that recorded something
  Prediction prediction;
  std::vector<uint64_t> prediction_execs;
  bool pending_prediction = false;  // the running execution made the prediction
  bool search_off = false;          // one-shot, as debug_locks_off()
  // Per execution.
  uint64_t execution = 0;
  bool recorded = false;  // this execution added a dependency or usage
  std::vector<Key> keys;
  std::map<std::string, int> key_ids;
  // Init sites seen: (file, line, name) string pointers -> key.
  std::map<std::tuple<const char*, unsigned, const char*>, int> init_keys;
  std::vector<Instance> instances;        // few per model: searched linearly
  std::vector<std::vector<Held>> held;    // by context: engine thread + 1, 0 module
  std::string splat;
  std::string headline;
  Loc splat_loc;
  std::vector<PreemptPoint> points;  // of the splat, for a directed search
  // Driver scope: the model running now, and the tokens of other models'
  // executions the pending prediction needs (in the order first noted).
  std::string model;
  std::vector<std::string> foreign;
  std::vector<std::string> prediction_foreign;
};

// The directed search's points (outside State: a search starts afresh).
std::vector<PreemptPoint>& Directed() {
  static auto* d = new std::vector<PreemptPoint>();
  return *d;
}

PreemptPoint Point(const Loc& held, const Loc& at) {
  PreemptPoint p;
  p.held_file = held.file_name();
  p.held_line = held.line();
  if (at.line() != 0) {
    p.at_file = at.file_name();
    p.at_line = at.line();
  }
  return p;
}

State& S() {
  static State* s = new State();
  return *s;
}

uint64_t EdgeKey(int a, int b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

int ContextId() { return Runtime::Get().CurrentIndex(); }

std::vector<Held>& MyHeld() {
  State& st = S();
  const size_t i = static_cast<size_t>(ContextId() + 1);
  if (st.held.size() <= i) st.held.resize(i + 1);
  return st.held[i];
}

std::string Who() {
  const TaskState& t = Runtime::Get().Current();
  return t.name + "/" + std::to_string(t.pid);
}

std::string SiteText(const Loc& loc) {
  if (loc.line() == 0) return "?";
  return ShortFunction(loc) + " " + FormatLoc(loc);
}

char UsageChar(uint8_t usage, int used_bit) {
  const bool used = usage & (1u << used_bit);
  const bool enabled = usage & (1u << (used_bit + kDirMask));
  if (used && enabled) return '?';
  if (used) return '-';
  if (enabled) return '+';
  return '.';
}

// "(&dev->lock){+.+.}-{3:3}"
std::string ClassDesc(int cls) {
  const LockClass& c = S().classes[cls];
  std::string s = "(" + c.name + "){";
  for (int state = 0; state < 2; ++state) {
    s += UsageChar(c.usage, state * 4);
    s += UsageChar(c.usage, state * 4 + kReadMask);
  }
  s += "}-{" + std::to_string(c.wait) + ":" + std::to_string(c.wait) + "}";
  return s;
}

std::string HeldDesc(const Held& h) { return ClassDesc(h.cls) + ", at: " + SiteText(h.loc); }

std::string HeldLocks() {
  const std::vector<Held>& held = MyHeld();
  const std::string who = Who();
  if (held.empty()) return "no locks held by " + who + ".\n";
  std::string s = std::to_string(held.size()) + (held.size() == 1 ? " lock" : " locks") +
                  " held by " + who + ":\n";
  for (size_t i = 0; i < held.size(); ++i) {
    s += " #" + std::to_string(i) + ": " + HeldDesc(held[i]) + "\n";
  }
  return s;
}

std::string Backtrace(const Loc& loc) { return "\nstack backtrace:\n  " + SiteText(loc) + "\n"; }

// The irq state of the running context, as "[HC0[0]:SC0[0]:HE1:SE1]".
struct IrqState {
  bool hardirq = false;
  bool softirq = false;
  bool hardirqs_on = true;
  bool softirqs_on = true;
};
IrqState CurrentIrqState() {
  const TaskState& t = Runtime::Get().Current();
  IrqState s;
  s.hardirq = t.ctx == Ctx::kHardirq;
  s.softirq = t.ctx == Ctx::kSoftirq;
  s.hardirqs_on = !s.hardirq && !t.irqs_disabled;
  s.softirqs_on = !s.hardirq && !s.softirq && t.bh_count == 0;
  return s;
}
std::string IrqStateText(const IrqState& s) {
  const int hc = s.hardirq ? 1 : 0;
  const int sc = s.softirq ? 1 : 0;
  return "[HC" + std::to_string(hc) + "[" + std::to_string(hc) + "]:SC" + std::to_string(sc) +
         "[" + std::to_string(sc) + "]:HE" + (s.hardirqs_on ? "1" : "0") + ":SE" +
         (s.softirqs_on ? "1" : "0") + "]";
}

// --- Classes ----------------------------------------------------------------

int ClassFor(int key, int subclass) {
  State& st = S();
  Key& k = st.keys[key];
  if (k.cls[subclass] >= 0) return k.cls[subclass];
  LockClass c;
  std::string base = k.name;
  if (subclass > 0) base += "/" + std::to_string(subclass);
  const int version = ++st.name_versions[base];
  c.name = version > 1 ? base + "#" + std::to_string(version) : base;
  c.wait = k.wait;
  st.classes.push_back(std::move(c));
  k.cls[subclass] = static_cast<int>(st.classes.size()) - 1;
  return k.cls[subclass];
}

int KeyFor(const std::string& id, const std::string& name, WaitType wait) {
  State& st = S();
  auto it = st.key_ids.find(id);
  if (it != st.key_ids.end()) return it->second;
  Key k;
  k.name = name;
  k.wait = wait;
  st.keys.push_back(std::move(k));
  const int key = static_cast<int>(st.keys.size()) - 1;
  st.key_ids.emplace(id, key);
  return key;
}

Instance* FindInstance(const void* lock) {
  auto& v = S().instances;
  for (size_t i = v.size(); i-- > 0;) {
    if (v[i].lock == lock) return &v[i];
  }
  return nullptr;
}

Instance& InstanceOf(const void* lock, const std::string& name, WaitType wait, const char* type) {
  State& st = S();
  Instance* in = FindInstance(lock);
  if (in == nullptr) {
    st.instances.push_back(Instance{lock, -1, 0});
    in = &st.instances.back();
  }
  if (in->key < 0) {
    // Never initialized through an init call that lockdep saw: a statically
    // defined lock, a class of its own named after it.
    in->key = KeyFor(std::string("static:") + type + ":" + name, name, wait);
  }
  return *in;
}

// --- Reports ------------------------------------------------------------------

void NoteExecution(std::set<uint64_t>* execs, const Site& site) {
  State& st = S();
  if (site.model != st.model) {
    // Recorded by another model of the driver (kmc check --lockdep_scope=driver).
    if (!site.token.empty() &&
        std::find(st.foreign.begin(), st.foreign.end(), site.token) == st.foreign.end()) {
      st.foreign.push_back(site.token);
    }
    return;
  }
  if (site.execution != 0 && site.execution != st.execution) execs->insert(site.execution);
}

// "(task/pid, execution N)", naming the model when it is another one.
std::string SiteOrigin(const Site& site) {
  std::string s = "(" + site.who + ", ";
  if (site.model != S().model) s += "model " + site.model + ", ";
  return s + "execution " + std::to_string(site.execution) + ")";
}

// A prediction (a splat whose deadlock no execution needs to reach).
void Predict(const std::string& headline, const std::string& body, const std::set<uint64_t>& execs,
             const Loc& loc, std::vector<PreemptPoint> points) {
  State& st = S();
  if (st.splat.empty()) {
    st.splat = body;
    st.headline = headline;
    st.splat_loc = loc;
    st.points = std::move(points);
    Runtime::Get().Note("*** lockdep: " + headline, loc);
  }
  if (!CollectingHistory() && !st.prediction.valid && !st.pending_prediction) {
    st.pending_prediction = true;
    st.prediction.headline = headline;
    st.prediction.execution = st.execution;
    st.prediction_execs.assign(execs.begin(), execs.end());
    st.prediction_foreign = st.foreign;
    st.search_off = true;
  }
  st.foreign.clear();
}

bool ChecksOn() {
  const State& st = S();
  if (!st.splat.empty()) return false;  // one splat per execution
  return CollectingHistory() || !st.search_off;
}

// --- Graph searches -------------------------------------------------------------

// A strong path (no recursive read followed by a shared hold) from `from`
// (taken as `from_read` in the new dependency) to `to`, which is held as
// `to_read`. Returns the classes on it, from first to last, or empty.
std::vector<int> StrongPath(int from, Read from_read, int to, Read to_read) {
  State& st = S();
  const int n = static_cast<int>(st.classes.size());
  // State (class, only_xr): only_xr when every way we reached the class took
  // it as a recursive reader.
  std::vector<int> parent(2 * n, -2);
  std::deque<int> queue;
  const int start = 2 * from + (from_read == kRecursiveRead ? 1 : 0);
  parent[start] = -1;
  queue.push_back(start);
  while (!queue.empty()) {
    const int cur = queue.front();
    queue.pop_front();
    const int c = cur / 2;
    const bool only_xr = cur % 2;
    if (c == to && (to_read == kExclusive || !only_xr)) {
      std::vector<int> path;
      for (int s = cur; s != -1; s = parent[s]) path.push_back(s / 2);
      std::reverse(path.begin(), path.end());
      return path;
    }
    for (int next : st.classes[c].after) {
      const Edge& e = st.edges.at(EdgeKey(c, next));
      const uint8_t allowed = only_xr ? (e.deps & kDepEMask) : e.deps;
      if (allowed == 0) continue;
      const int ns = 2 * next + ((allowed & kDepNMask) ? 0 : 1);
      if (parent[ns] != -2) continue;
      if (ns % 2 == 1 && parent[ns - 1] != -2) continue;  // reached stronger already
      parent[ns] = cur;
      queue.push_back(ns);
    }
  }
  return {};
}

// Shortest path from `from` along `after` (forwards) or `before` edges to a
// class for which `match` holds; the classes on it, from `from`.
template <class Match>
std::vector<int> FindPath(int from, bool forwards, Match match) {
  State& st = S();
  std::vector<int> parent(st.classes.size(), -2);
  std::deque<int> queue{from};
  parent[from] = -1;
  while (!queue.empty()) {
    const int c = queue.front();
    queue.pop_front();
    if (match(c)) {
      std::vector<int> path;
      for (int s = c; s != -1; s = parent[s]) path.push_back(s);
      std::reverse(path.begin(), path.end());
      return path;
    }
    for (int n : forwards ? st.classes[c].after : st.classes[c].before) {
      if (parent[n] != -2) continue;
      parent[n] = c;
      queue.push_back(n);
    }
  }
  return {};
}

// Lines " -> (class) ..." for a path, each with the site that recorded it.
std::string DependencyLines(const std::vector<int>& path, bool forwards, std::set<uint64_t>* execs,
                            std::vector<PreemptPoint>* points) {
  State& st = S();
  std::string s;
  for (size_t i = 0; i < path.size(); ++i) {
    s += (i == 0 ? " -> " : "    -> ") + ClassDesc(path[i]) + "\n";
    if (i + 1 < path.size()) {
      const int a = forwards ? path[i] : path[i + 1];
      const int b = forwards ? path[i + 1] : path[i];
      const Edge& e = st.edges.at(EdgeKey(a, b));
      points->push_back(Point(e.prev_loc, e.site.loc));
      s += "       " + SiteText(e.site.loc) + " " + SiteOrigin(e.site) + "\n";
      NoteExecution(execs, e.site);
    }
  }
  return s;
}

std::string UsageSiteText(int cls, int bit) {
  const Site& u = S().classes[cls].usage_site[bit];
  return "  " + SiteText(u.loc) + " " + SiteOrigin(u) + "\n";
}

std::string IrqScenario(int safe, int unsafe, int middle) {
  const auto& c = S().classes;
  std::string s;
  if (middle != unsafe) {
    s += "Chain exists of:\n  " + c[safe].name + " --> " + c[middle].name + " --> " +
         c[unsafe].name + "\n\n";
  }
  s += " Possible interrupt unsafe locking scenario:\n\n"
       "       CPU0                    CPU1\n"
       "       ----                    ----\n"
       "  lock(" + c[unsafe].name + ");\n"
       "                               local_irq_disable();\n"
       "                               lock(" + c[safe].name + ");\n"
       "                               lock(" + c[middle].name + ");\n"
       "  <Interrupt>\n"
       "    lock(" + c[safe].name + ");\n"
       "\n *** DEADLOCK ***\n\n";
  return s;
}

// --- Checks ---------------------------------------------------------------------

// mark_lock(): a new usage bit of `h`'s class. Reports an inconsistent state,
// or an irq inversion against the dependencies recorded so far.
void MarkUsage(const Held& h, int bit, const IrqState& irq) {
  State& st = S();
  LockClass& c = st.classes[h.cls];
  if (c.usage & (1u << bit)) return;
  if (ChecksOn()) {
    const int excl = ExclusiveBit(bit);
    int bad = -1;
    if (c.usage & (1u << excl)) bad = excl;
    else if (!(bit & kReadMask) && (c.usage & (1u << (excl | kReadMask)))) bad = excl | kReadMask;
    if (bad >= 0) {
      std::set<uint64_t> execs;
      NoteExecution(&execs, c.usage_site[bad]);
      std::string body = std::string("inconsistent {") + UsageName(bad) + "} -> {" +
                         UsageName(bit) + "} usage.\n" + Who() + " " + IrqStateText(irq) +
                         " takes:\n " + HeldDesc(h) + "\n{" + UsageName(bad) +
                         "} state was registered at:\n" + UsageSiteText(h.cls, bad) +
                         "\nother info that might help us debug this:\n"
                         " Possible unsafe locking scenario:\n\n"
                         "       CPU0\n"
                         "       ----\n"
                         "  lock(" + c.name + ");\n"
                         "  <Interrupt>\n"
                         "    lock(" + c.name + ");\n"
                         "\n *** DEADLOCK ***\n\n" +
                         HeldLocks() + Backtrace(h.loc);
      c.usage |= static_cast<uint8_t>(1u << bit);
      c.usage_site[bit] = Site{st.execution, h.loc, Who(), st.model, ""};
      // The deadlock needs the interrupt while the lock is held with it enabled.
      Predict("WARNING: inconsistent lock state", body, execs, h.loc,
              {Point(c.usage_site[bad].loc, Loc()), Point(h.loc, Loc())});
      return;
    }
    // The dependencies must not connect this lock to one in the opposite
    // state: USED_IN looks forwards for ENABLED, ENABLED backwards for USED_IN.
    const bool forwards = !(bit & kDirMask);
    auto conflicts = [&](int other) {
      const uint8_t u = st.classes[other].usage;
      if (u & (1u << excl)) return true;
      return !(bit & kReadMask) && (u & (1u << (excl | kReadMask)));
    };
    std::vector<int> path = FindPath(h.cls, forwards, [&](int o) { return o != h.cls && conflicts(o); });
    if (!path.empty()) {
      const int other = path.back();
      const int other_bit = (st.classes[other].usage & (1u << excl)) ? excl : (excl | kReadMask);
      std::set<uint64_t> execs;
      NoteExecution(&execs, st.classes[other].usage_site[other_bit]);
      std::vector<PreemptPoint> points{Point(h.loc, Loc()),
                                       Point(st.classes[other].usage_site[other_bit].loc, Loc())};
      const std::string deps = DependencyLines(path, forwards, &execs, &points);
      const int middle = path.size() > 1 ? path[1] : other;
      c.usage |= static_cast<uint8_t>(1u << bit);
      c.usage_site[bit] = Site{st.execution, h.loc, Who(), st.model, ""};
      std::string body = Who() + " just changed the state of lock:\n " + HeldDesc(h) + "\n";
      body += forwards ? "but this lock took another, " + StateName(other_bit) + "-unsafe lock in the past:\n"
                       : "but this lock was taken by another, " + StateName(other_bit) + "-safe lock in the past:\n";
      body += " " + ClassDesc(other) + "\n\n\nand interrupts could create inverse lock ordering between them.\n\n"
              "\nother info that might help us debug this:\n";
      body += forwards ? IrqScenario(h.cls, other, middle == other ? other : middle)
                       : IrqScenario(other, h.cls, middle == other ? h.cls : middle);
      body += HeldLocks() + "\nthe shortest dependencies between 2nd lock and 1st lock:\n" + deps +
              "\n... which became " + StateName(other_bit) + (forwards ? "-unsafe" : "-safe") +
              " at:\n" + UsageSiteText(other, other_bit) + Backtrace(h.loc);
      Predict("WARNING: possible irq lock inversion dependency detected", body, execs, h.loc,
              std::move(points));
      return;
    }
  }
  c.usage |= static_cast<uint8_t>(1u << bit);
  c.usage_site[bit] = Site{st.execution, h.loc, Who(), st.model, ""};
  st.recorded = true;
}

void MarkIrqUsage(const Held& h, const IrqState& irq) {
  const int r = h.read != kExclusive ? kReadMask : 0;
  if (irq.hardirq) MarkUsage(h, kUsedInHardirq | r, irq);
  if (irq.softirq) MarkUsage(h, kUsedInSoftirq | r, irq);
  if (irq.hardirqs_on) {
    MarkUsage(h, kEnabledHardirq | r, irq);
    if (irq.softirqs_on) MarkUsage(h, kEnabledSoftirq | r, irq);
  }
}

// check_deadlock(): a lock of the class being taken is already held.
// Returns false when the new lock adds no dependency (a nest_lock holds).
bool CheckRecursion(const Held& next, const std::vector<Held>& held, size_t first,
                    const Acquisition& a) {
  for (size_t i = first; i < held.size(); ++i) {
    const Held& prev = held[i];
    if (prev.cls != next.cls) continue;
    if (next.read == kRecursiveRead && prev.read != kExclusive) continue;
    if (next.nest != nullptr && Holds(next.nest)) return false;
    const std::string& name = S().classes[next.cls].name;
    std::string body = Who() + " is trying to acquire lock:\n " + HeldDesc(next) +
                       "\n\nbut task is already holding lock:\n " + HeldDesc(prev) +
                       "\n\nother info that might help us debug this:\n"
                       " Possible unsafe locking scenario:\n\n"
                       "       CPU0\n"
                       "       ----\n"
                       "  lock(" + name + ");\n"
                       "  lock(" + name + ");\n"
                       "\n *** DEADLOCK ***\n\n"
                       " May be due to missing lock nesting notation\n\n" +
                       HeldLocks() + Backtrace(next.loc);
    const std::string headline = "WARNING: possible recursive locking detected";
    if (prev.lock == next.lock && next.read == kExclusive) {
      // The same lock again: this is not a prediction, the task waits for itself.
      Runtime::Get().Fail(Verdict::kDeadlock, headline, body, next.loc);
    }
    (void)a;
    Predict(headline, body, {}, next.loc, {Point(prev.loc, next.loc)});
    return true;
  }
  return true;
}

void CircularBug(const Held& prev, const Held& next, const std::vector<int>& path) {
  // path: next -> ... -> prev, already in the graph.
  State& st = S();
  std::set<uint64_t> execs;
  std::string chain;
  // The directed search preempts each task holding the first lock of a
  // dependency just before it takes the second.
  std::vector<PreemptPoint> points{Point(prev.loc, next.loc)};
  const int depth = static_cast<int>(path.size()) - 1;
  for (int i = depth; i >= 1; --i) {
    const Edge& e = st.edges.at(EdgeKey(path[i - 1], path[i]));
    points.push_back(Point(e.prev_loc, e.site.loc));
    chain += "\n-> #" + std::to_string(i) + " " + ClassDesc(path[i]) + ":\n       " +
             SiteText(e.site.loc) + " " + SiteOrigin(e.site) + "\n       held " +
             st.classes[path[i - 1]].name + " taken at " + SiteText(e.prev_loc) + "\n";
    NoteExecution(&execs, e.site);
  }
  chain += "\n-> #0 " + ClassDesc(next.cls) + ":\n       " + SiteText(next.loc) + " (" + Who() +
           ", execution " + std::to_string(st.execution) + ")\n       held " +
           st.classes[prev.cls].name + " taken at " + SiteText(prev.loc) + "\n";
  const auto& c = st.classes;
  const int source = next.cls;
  const int target = prev.cls;
  const int parent = path.size() >= 2 ? path[path.size() - 2] : source;
  std::string body = Who() + " is trying to acquire lock:\n " + HeldDesc(next) +
                     "\n\nbut task is already holding lock:\n " + HeldDesc(prev) +
                     "\n\nwhich lock already depends on the new lock.\n\n"
                     "\nthe existing dependency chain (in reverse order) is:\n" +
                     chain + "\nother info that might help us debug this:\n\n";
  if (parent != source) {
    body += "Chain exists of:\n  " + c[source].name + " --> " + c[parent].name + " --> " +
            c[target].name + "\n\n";
  }
  body += " Possible unsafe locking scenario:\n\n"
          "       CPU0                    CPU1\n"
          "       ----                    ----\n"
          "  lock(" + c[target].name + ");\n"
          "                               lock(" + c[parent].name + ");\n"
          "                               lock(" + c[target].name + ");\n"
          "  lock(" + c[source].name + ");\n"
          "\n *** DEADLOCK ***\n\n" +
          HeldLocks() + Backtrace(next.loc);
  Predict("WARNING: possible circular locking dependency detected", body, execs, next.loc,
          std::move(points));
}

// check_irq_usage() for a new dependency prev -> next: an irq-safe lock
// (prev or one before it) must not come to depend on an irq-unsafe one
// (next or one after it).
void CheckIrqDependency(const Held& prev, const Held& next) {
  State& st = S();
  for (int state = 0; state < 2; ++state) {
    for (int r = 0; r < 2; ++r) {
      const int used_bit = state * 4 + r;  // USED_IN (read when r)
      std::vector<int> back = FindPath(prev.cls, /*forwards=*/false, [&](int o) {
        return (st.classes[o].usage & (1u << used_bit)) != 0;
      });
      if (back.empty()) continue;
      const int excl = ExclusiveBit(used_bit);
      std::vector<int> fwd = FindPath(next.cls, /*forwards=*/true, [&](int o) {
        const uint8_t u = st.classes[o].usage;
        return (u & (1u << excl)) || (r == 0 && (u & (1u << (excl | kReadMask))));
      });
      if (fwd.empty()) continue;
      const int safe = back.back();
      const int unsafe = fwd.back();
      const int unsafe_bit =
          (st.classes[unsafe].usage & (1u << excl)) ? excl : (excl | kReadMask);
      std::set<uint64_t> execs;
      NoteExecution(&execs, st.classes[safe].usage_site[used_bit]);
      NoteExecution(&execs, st.classes[unsafe].usage_site[unsafe_bit]);
      std::vector<PreemptPoint> points{
          Point(prev.loc, next.loc), Point(st.classes[unsafe].usage_site[unsafe_bit].loc, Loc()),
          Point(st.classes[safe].usage_site[used_bit].loc, Loc())};
      const std::string back_deps = DependencyLines(back, false, &execs, &points);
      const std::string fwd_deps = DependencyLines(fwd, true, &execs, &points);
      const std::string safe_name = StateName(used_bit);
      const std::string unsafe_name = StateName(unsafe_bit);
      const IrqState irq = CurrentIrqState();
      std::string body = Who() + " " + IrqStateText(irq) + " is trying to acquire:\n " +
                         HeldDesc(next) + "\n\nand this task is already holding:\n " +
                         HeldDesc(prev) + "\nwhich would create a new lock dependency:\n " +
                         ClassDesc(prev.cls) + " -> " + ClassDesc(next.cls) +
                         "\n\nbut this new dependency connects a " + safe_name +
                         "-irq-safe lock:\n " + ClassDesc(safe) + "\n\n... which became " +
                         safe_name + "-irq-safe at:\n" + UsageSiteText(safe, used_bit) +
                         "\nto a " + unsafe_name + "-irq-unsafe lock:\n " + ClassDesc(unsafe) +
                         "\n\n... which became " + unsafe_name + "-irq-unsafe at:\n...\n" +
                         UsageSiteText(unsafe, unsafe_bit) +
                         "\nother info that might help us debug this:\n\n";
      const int middle = prev.cls == safe ? next.cls : prev.cls;
      body += IrqScenario(safe, unsafe, middle) + HeldLocks() + "\nthe dependencies between " +
              safe_name + "-irq-safe lock and the holding lock:\n" + back_deps +
              "\nthe dependencies between the lock to be acquired and " + unsafe_name +
              "-irq-unsafe lock:\n" + fwd_deps + Backtrace(next.loc);
      Predict("WARNING: " + safe_name + "-safe -> " + unsafe_name +
                  "-unsafe lock order detected",
              body, execs, next.loc, std::move(points));
      return;
    }
  }
}

// check_prev_add(): records prev -> next; checks it closes no cycle and
// connects no irq-safe lock to an irq-unsafe one.
void AddDependency(const Held& prev, const Held& next) {
  State& st = S();
  const uint8_t dep = DepOf(prev.read, next.read);
  const uint64_t key = EdgeKey(prev.cls, next.cls);
  auto it = st.edges.find(key);
  if (it != st.edges.end() && (it->second.deps & dep) == dep) return;
  if (ChecksOn()) {
    std::vector<int> path = StrongPath(next.cls, next.read, prev.cls, prev.read);
    if (!path.empty()) {
      CircularBug(prev, next, path);
      return;
    }
  }
  const bool is_new = it == st.edges.end();
  if (is_new) {
    Edge e;
    e.deps = dep;
    e.site = Site{st.execution, next.loc, Who(), st.model, ""};
    e.prev_loc = prev.loc;
    st.edges.emplace(key, e);
    st.classes[prev.cls].after.push_back(next.cls);
    st.classes[next.cls].before.push_back(prev.cls);
  } else {
    it->second.deps |= dep;
  }
  st.recorded = true;
  if (is_new && ChecksOn()) CheckIrqDependency(prev, next);
}

[[noreturn]] void InvalidWaitContext(const Held& next, int curr_inner) {
  const std::string ctx = std::to_string(curr_inner);
  Runtime::Get().Fail(Verdict::kInvalidContext, "[ BUG: Invalid wait context ]",
                      Who() + " is trying to lock:\n " + HeldDesc(next) +
                          "\nother info that might help us debug this:\ncontext-{" + ctx + ":" +
                          ctx + "}\n" + HeldLocks() + Backtrace(next.loc),
                      next.loc);
}

}  // namespace

// --- Hooks ----------------------------------------------------------------------

void Init(const void* lock, const char* name, const char* fn, WaitType wait, const Loc& loc) {
  State& st = S();
  for (const std::vector<Held>& held : st.held) {
    for (const Held& h : held) {
      if (h.lock != lock) continue;
      Runtime& rt = Runtime::Get();
      std::string who = Who();
      rt.Fail(Verdict::kLockMisuse, "WARNING: held lock freed!",
              who + " is freeing memory of a lock, with a lock still held there!\n " +
                  HeldDesc(h) + "\n(" + fn + "() at " + SiteText(loc) +
                  " re-initializes a lock that is held)\n" + HeldLocks() + Backtrace(loc),
              loc);
    }
  }
  const auto site = std::make_tuple(loc.file_name(), loc.line(), name);
  auto it = st.init_keys.find(site);
  int key;
  if (it != st.init_keys.end()) {
    key = it->second;
  } else {
    key = KeyFor(std::string("init:") + (loc.line() ? FormatLoc(loc) : std::string("?")) + ":" +
                     name,
                 name, wait);
    st.init_keys.emplace(site, key);
  }
  Instance* in = FindInstance(lock);
  if (in == nullptr) {
    st.instances.push_back(Instance{lock, key, 0});
  } else {
    *in = Instance{lock, key, 0};
  }
}

void Acquire(const void* lock, const std::string& name, const Acquisition& a, const Loc& loc) {
  State& st = S();
  Runtime& rt = Runtime::Get();
  if (rt.CurrentOrNull() == nullptr) return;
  Instance& in = InstanceOf(lock, name, a.wait, a.type);
  Held next;
  next.lock = lock;
  next.read = a.read;
  next.trylock = a.trylock;
  next.nest = a.nest_lock;
  next.loc = loc;
  next.ctx = rt.Current().ctx;
  int subclass = a.subclass + in.subclass;
  if (subclass > KMC_MAX_LOCKDEP_SUBCLASS) subclass = KMC_MAX_LOCKDEP_SUBCLASS;
  if (subclass < 0) subclass = 0;
  next.cls = ClassFor(in.key, subclass);
  std::vector<Held>& held = MyHeld();
  // The locks of the running irq context (a softirq run on a task's thread
  // at local_bh_enable() stacks on the task's locks, but depends on none).
  size_t first = held.size();
  while (first > 0 && held[first - 1].ctx == next.ctx) --first;

  if (a.nest_lock != nullptr && !Holds(a.nest_lock)) {
    rt.Fail(Verdict::kLockMisuse, "WARNING: Nested lock was not taken",
            Who() + " is trying to lock:\n " + HeldDesc(next) +
                "\n\nbut this task is not holding:\n" + name +
                "'s nest lock, the one passed to the *_nest_lock() call\n" + HeldLocks() +
                Backtrace(loc),
            loc);
  }
  // check_wait_context(): the strict rules of CONFIG_PROVE_RAW_LOCK_NESTING.
  if (!a.trylock) {
    const TaskState& t = rt.Current();
    int curr_inner = t.ctx == Ctx::kHardirq ? kWaitConfig   // threadable handler
                     : t.ctx == Ctx::kSoftirq ? kWaitConfig
                                             : kWaitMax;
    for (size_t i = first; i < held.size(); ++i) {
      curr_inner = std::min<int>(curr_inner, st.classes[held[i].cls].wait);
    }
    if (st.classes[next.cls].wait > curr_inner) InvalidWaitContext(next, curr_inner);
  }

  const IrqState irq = CurrentIrqState();
  MarkIrqUsage(next, irq);
  bool add_deps = !a.trylock;
  if (!a.trylock && ChecksOn()) add_deps = CheckRecursion(next, held, first, a);
  else if (!a.trylock) {
    // Even with checks off, the same lock taken again is a real self-deadlock
    // left to the primitive; the nesting still adds no dependency.
    for (size_t i = first; i < held.size(); ++i) {
      if (held[i].cls == next.cls && a.nest_lock != nullptr) add_deps = false;
    }
  }
  if (add_deps) {
    for (size_t i = held.size(); i-- > first;) {
      AddDependency(held[i], next);
      if (!held[i].trylock) break;
    }
  }
  MyHeld().push_back(next);
}

void MarkHeldLocks() {
  Runtime& rt = Runtime::Get();
  if (rt.CurrentOrNull() == nullptr) return;
  const IrqState irq = CurrentIrqState();
  std::vector<Held>& held = MyHeld();
  // Only the running irq context's own locks (as in Acquire).
  size_t first = held.size();
  const Ctx ctx = rt.Current().ctx;
  while (first > 0 && held[first - 1].ctx == ctx) --first;
  for (size_t i = first; i < held.size(); ++i) {
    const Held h = held[i];  // MarkUsage may report; keep a copy
    MarkIrqUsage(h, irq);
  }
}

void Downgrade(const void* lock) {
  Runtime& rt = Runtime::Get();
  if (rt.CurrentOrNull() == nullptr) return;
  for (Held& h : MyHeld()) {
    if (h.lock != lock || h.read != kExclusive) continue;
    h.read = kRead;
    const Held copy = h;
    MarkIrqUsage(copy, CurrentIrqState());
    return;
  }
}

void Release(const void* lock) {
  std::vector<Held>& held = MyHeld();
  for (size_t i = held.size(); i-- > 0;) {
    if (held[i].lock == lock) {
      held.erase(held.begin() + static_cast<long>(i));
      return;
    }
  }
}

void ReleaseAnywhere(const void* lock) {
  std::vector<Held>& mine = MyHeld();
  for (size_t i = mine.size(); i-- > 0;) {
    if (mine[i].lock == lock) {
      mine.erase(mine.begin() + static_cast<long>(i));
      return;
    }
  }
  for (std::vector<Held>& held : S().held) {
    for (size_t i = held.size(); i-- > 0;) {
      if (held[i].lock == lock) {
        held.erase(held.begin() + static_cast<long>(i));
        return;
      }
    }
  }
}

void CheckFree(const void* p, size_t n, const char* fn, const Loc& loc) {
  State& st = S();
  const auto* lo = static_cast<const char*>(p);
  const char* hi = lo + n;
  for (const Held& h : MyHeld()) {
    const auto* l = static_cast<const char*>(h.lock);
    if (l < lo || l >= hi) continue;
    char range[64];
    std::snprintf(range, sizeof range, "%zu bytes", n);
    Runtime::Get().Fail(Verdict::kLockMisuse, "WARNING: held lock freed!",
                        Who() + " is freeing memory (" + fn + " of " + range + " at " +
                            SiteText(loc) + "), with a lock still held there!\n " +
                            HeldDesc(h) + "\n" + HeldLocks() + Backtrace(loc),
                        loc);
  }
  // Locks in freed memory lose their init site; a later lock there is new.
  st.instances.erase(std::remove_if(st.instances.begin(), st.instances.end(),
                                    [&](const Instance& in) {
                                      const auto* l = static_cast<const char*>(in.lock);
                                      return l >= lo && l < hi;
                                    }),
                     st.instances.end());
}

bool Holds(const void* lock) {
  for (const Held& h : MyHeld()) {
    if (h.lock == lock) return true;
  }
  return false;
}

void BeginSearch() {
  State& st = S();
  std::string model = std::move(st.model);
  st = State();
  st.model = std::move(model);
}

void SetModel(const std::string& name) { S().model = name; }

// --- The graph across models (kmc check --lockdep_scope=driver) -----------------

namespace {

// Fields are separated by tabs, records by newlines; both are escaped.
std::string Esc(const std::string& x) {
  std::string out;
  for (char c : x) {
    if (c == '\\') out += "\\\\";
    else if (c == '\t') out += "\\t";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}
std::string Unesc(std::string_view x) {
  std::string out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == '\\' && i + 1 < x.size()) {
      ++i;
      out += x[i] == 't' ? '\t' : x[i] == 'n' ? '\n' : x[i];
    } else {
      out += x[i];
    }
  }
  return out;
}
std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> f;
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    f.push_back(Unesc(line.substr(start, tab == std::string_view::npos ? std::string_view::npos
                                                                      : tab - start)));
    if (tab == std::string_view::npos) return f;
    start = tab + 1;
  }
}

// Imported locations live for the rest of the process, as C call sites do.
Loc InternLoc(const std::string& file, const std::string& fn, unsigned line) {
  if (line == 0) return Loc();
  static auto* strings = new std::set<std::string>();
  static auto* records = new std::map<std::tuple<std::string, std::string, unsigned>, LocRecord*>();
  auto key = std::make_tuple(file, fn, line);
  auto it = records->find(key);
  if (it == records->end()) {
    auto* r = new LocRecord{strings->insert(file).first->c_str(), strings->insert(fn).first->c_str(),
                            line, 0};
    it = records->emplace(key, r).first;
  }
  return FromRecord(it->second);
}

std::string LocFields(const Loc& loc) {
  return Esc(loc.line() ? loc.file_name() : "") + "\t" +
         Esc(loc.line() ? loc.function_name() : "") + "\t" + std::to_string(loc.line());
}

std::string SiteFields(const Site& site, const std::function<std::string(const std::string&)>& token) {
  std::string t = site.token;
  if (t.empty() && site.model == S().model && site.execution != 0) {
    auto it = S().exec_states.find(site.execution);
    if (it != S().exec_states.end()) t = token(it->second);
  }
  return LocFields(site.loc) + "\t" + Esc(site.who) + "\t" + Esc(site.model) + "\t" +
         std::to_string(site.execution) + "\t" + Esc(t);
}

unsigned long long Num(const std::string& x) { return std::strtoull(x.c_str(), nullptr, 10); }

Site ParseSite(const std::vector<std::string>& f, size_t i) {
  Site site;
  site.loc = InternLoc(f[i], f[i + 1], static_cast<unsigned>(Num(f[i + 2])));
  site.who = f[i + 3];
  site.model = f[i + 4];
  site.execution = Num(f[i + 5]);
  site.token = f[i + 6];
  return site;
}

}  // namespace

std::string ExportGraph(const std::function<std::string(const std::string& state)>& token) {
  State& st = S();
  std::string out;
  for (const auto& [id, key] : st.key_ids) {
    const Key& k = st.keys[key];
    out += "K\t" + Esc(id) + "\t" + Esc(k.name) + "\t" + std::to_string(k.wait);
    for (int c : k.cls) out += "\t" + std::to_string(c);
    out += "\n";
  }
  for (const auto& [base, n] : st.name_versions) {
    out += "V\t" + Esc(base) + "\t" + std::to_string(n) + "\n";
  }
  for (const LockClass& c : st.classes) {
    out += "C\t" + Esc(c.name) + "\t" + std::to_string(c.wait) + "\t" + std::to_string(c.usage);
    for (int b = 0; b < kUsageBits; ++b) out += "\t" + SiteFields(c.usage_site[b], token);
    out += "\n";
  }
  for (size_t c = 0; c < st.classes.size(); ++c) {
    for (int n : st.classes[c].after) {
      const Edge& e = st.edges.at(EdgeKey(static_cast<int>(c), n));
      out += "E\t" + std::to_string(c) + "\t" + std::to_string(n) + "\t" +
             std::to_string(e.deps) + "\t" + SiteFields(e.site, token) + "\t" +
             LocFields(e.prev_loc) + "\n";
    }
  }
  for (size_t c = 0; c < st.classes.size(); ++c) {
    out += "B\t" + std::to_string(c);
    for (int b : st.classes[c].before) out += "\t" + std::to_string(b);
    out += "\n";
  }
  return out;
}

bool ImportGraph(const std::string& graph) {
  State& st = S();
  std::string_view rest = graph;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.empty()) continue;
    const std::vector<std::string> f = Fields(line);
    const auto n = static_cast<int>(st.classes.size());
    if (f[0] == "K" && f.size() == 4 + KMC_MAX_LOCKDEP_SUBCLASS + 1) {
      Key k;
      k.name = f[2];
      k.wait = static_cast<WaitType>(Num(f[3]));
      for (int i = 0; i <= KMC_MAX_LOCKDEP_SUBCLASS; ++i) k.cls[i] = std::atoi(f[4 + i].c_str());
      st.keys.push_back(std::move(k));
      st.key_ids.emplace(f[1], static_cast<int>(st.keys.size()) - 1);
    } else if (f[0] == "V" && f.size() == 3) {
      st.name_versions[f[1]] = static_cast<int>(Num(f[2]));
    } else if (f[0] == "C" && f.size() == 4 + 7 * kUsageBits) {
      LockClass c;
      c.name = f[1];
      c.wait = static_cast<WaitType>(Num(f[2]));
      c.usage = static_cast<uint8_t>(Num(f[3]));
      for (int b = 0; b < kUsageBits; ++b) c.usage_site[b] = ParseSite(f, 4 + 7 * b);
      st.classes.push_back(std::move(c));
    } else if (f[0] == "E" && f.size() == 4 + 7 + 3) {
      const int a = std::atoi(f[1].c_str());
      const int b = std::atoi(f[2].c_str());
      if (a < 0 || b < 0 || a >= n || b >= n) return false;
      Edge e;
      e.deps = static_cast<uint8_t>(Num(f[3]));
      e.site = ParseSite(f, 4);
      e.prev_loc = InternLoc(f[11], f[12], static_cast<unsigned>(Num(f[13])));
      st.edges.emplace(EdgeKey(a, b), e);
      st.classes[a].after.push_back(b);
    } else if (f[0] == "B" && f.size() >= 2) {
      const int c = std::atoi(f[1].c_str());
      if (c < 0 || c >= n) return false;
      for (size_t i = 2; i < f.size(); ++i) st.classes[c].before.push_back(std::atoi(f[i].c_str()));
    } else {
      return false;
    }
  }
  return true;
}

void BeginExecution() {
  State& st = S();
  st.execution = ExecutionNumber();
  st.recorded = false;
  st.pending_prediction = false;
  st.instances.clear();
  for (std::vector<Held>& h : st.held) h.clear();
  st.splat.clear();
  st.headline.clear();
  st.points.clear();
  st.foreign.clear();
}

void FinishExecution() {
  State& st = S();
  if (CollectingHistory()) return;
  if (st.recorded || st.pending_prediction) st.exec_states[st.execution] = ExecutionState();
  if (st.pending_prediction) {
    st.pending_prediction = false;
    st.prediction.valid = true;
    st.prediction.states.clear();
    for (uint64_t e : st.prediction_execs) {
      auto it = st.exec_states.find(e);
      if (it != st.exec_states.end()) st.prediction.states.push_back(it->second);
    }
    st.prediction.states.push_back(st.exec_states[st.execution]);
    st.prediction.foreign = st.prediction_foreign;
  }
}

const std::string& ExecutionSplat() { return S().splat; }
const std::string& ExecutionHeadline() { return S().headline; }
Loc ExecutionSplatLoc() { return S().splat_loc; }
bool ExecutionPredicted() { return !S().splat.empty(); }
const Prediction& SearchPrediction() { return S().prediction; }
const std::vector<PreemptPoint>& ExecutionPreemptPoints() { return S().points; }
void SetDirectedPoints(std::vector<PreemptPoint> points) { Directed() = std::move(points); }

bool MayPreempt(int thread, Access access, const Loc& loc) {
  State& st = S();
  const size_t i = static_cast<size_t>(thread + 1);
  if (thread < 0 || i >= st.held.size() || st.held[i].empty()) return false;
  for (const PreemptPoint& p : Directed()) {
    if (p.at_line != 0 &&
        (access != Access::kAcquire || p.at_line != loc.line() || p.at_file != loc.file_name())) {
      continue;
    }
    for (const Held& h : st.held[i]) {
      if (h.loc.line() == p.held_line && p.held_file == h.loc.file_name()) return true;
    }
  }
  return false;
}

}  // namespace kmc::internal::lockdep

namespace kmc::kernel::detail {

void LockdepSetClass(const void* lock, const char* lock_name, lock_class_key* key,
                     const char* key_name, int subclass, const Loc& loc) {
  (void)loc;
  (void)lock_name;
  namespace ld = internal::lockdep;
  auto& st = ld::S();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", static_cast<void*>(key));
  ld::Instance* in = ld::FindInstance(lock);
  // The wait type stays the one of the lock's kind (from its init).
  const ld::WaitType wait = in != nullptr && in->key >= 0 ? st.keys[in->key].wait : ld::kWaitConfig;
  const int k = ld::KeyFor(std::string("key:") + buf, key_name, wait);
  if (in == nullptr) {
    st.instances.push_back(ld::Instance{lock, k, subclass});
  } else {
    in->key = k;
    in->subclass = subclass;
  }
}

void LockdepSetSubclass(const void* lock, int subclass, const Loc& loc) {
  (void)loc;
  namespace ld = internal::lockdep;
  ld::Instance* in = ld::FindInstance(lock);
  if (in == nullptr) {
    ld::S().instances.push_back(ld::Instance{lock, -1, subclass});
  } else {
    in->subclass = subclass;
  }
}

bool LockdepIsHeld(const void* lock) { return internal::lockdep::Holds(lock); }

void LockdepAssertHeld(const void* lock, const char* what, const Loc& loc) {
  if (internal::lockdep::Holds(lock)) return;
  internal::Runtime& rt = internal::Runtime::Get();
  rt.Fail(Verdict::kLockMisuse,
          "WARNING: CPU: " + std::to_string(rt.Current().cpu) + " PID: " +
              std::to_string(rt.Current().pid) + " at " + internal::FormatLoc(loc) + " " +
              internal::ShortFunction(loc),
          std::string("lockdep_assert_held(") + what + ") failed: " + rt.Who() +
              " does not hold it\n",
          loc);
}

}  // namespace kmc::kernel::detail
