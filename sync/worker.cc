// kmc: checking a model in a worker process (see worker.h).

#include "sync/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>

#include "sync/internal/crash.h"
#include "sync/internal/engine.h"
#include "sync/internal/runtime.h"

namespace kmc {
namespace {

using internal::FlightRecorder;

constexpr uint32_t kRecorderCapacity = 1u << 20;  // decisions of one execution

// Workers running now (several with kmc check --jobs=N), for signals.
constexpr int kMaxWorkers = 64;
std::atomic<pid_t> g_child_pids[kMaxWorkers];
volatile sig_atomic_t g_interrupt_sig = 0;

// --- Results over a pipe ---------------------------------------------------

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutStr(std::string* out, const std::string& s) {
  PutU64(out, s.size());
  out->append(s);
}

struct In {
  const std::string& buf;
  size_t pos = 0;
  bool ok = true;
  uint64_t U64() {
    if (pos + 8 > buf.size()) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(buf[pos + i])) << (8 * i);
    pos += 8;
    return v;
  }
  std::string Str() {
    const uint64_t n = U64();
    if (!ok || n > buf.size() - pos) {
      ok = false;
      return "";
    }
    std::string s = buf.substr(pos, n);
    pos += n;
    return s;
  }
};

// kind: 'R' the child's result, 'D' its last words (it is about to die).
std::string Serialize(const Result& r, char kind) {
  std::string body;
  PutU64(&body, static_cast<uint64_t>(kind));
  PutU64(&body, static_cast<uint64_t>(r.verdict));
  PutU64(&body, static_cast<uint64_t>(r.search));
  PutU64(&body, static_cast<uint64_t>(r.bound));
  PutU64(&body, r.seed);
  PutU64(&body, static_cast<uint64_t>(r.depth));
  PutU64(&body, static_cast<uint64_t>(r.pct_threads));
  PutU64(&body, r.pct_steps);
  PutU64(&body, r.complete ? 1 : 0);
  PutU64(&body, r.executions);
  PutU64(&body, r.interrupted ? 1 : 0);
  PutStr(&body, r.replay);
  PutStr(&body, r.message);
  PutStr(&body, r.report);
  PutStr(&body, r.warning);
  PutU64(&body, r.observations.size());
  for (const std::string& o : r.observations) PutStr(&body, o);
  PutU64(&body, r.traces.size());
  for (uint64_t t : r.traces) PutU64(&body, t);
  PutU64(&body, r.all_bugs ? 1 : 0);
  PutU64(&body, r.bugs.size());
  for (const BugFound& b : r.bugs) {
    PutU64(&body, static_cast<uint64_t>(b.verdict));
    PutStr(&body, b.message);
    PutU64(&body, b.locations.size());
    for (const std::string& l : b.locations) PutStr(&body, l);
    PutU64(&body, b.first_execution);
    PutU64(&body, b.hits);
    PutU64(&body, b.execution);
    PutU64(&body, static_cast<uint64_t>(b.preemptions));
    PutU64(&body, b.steps);
    PutStr(&body, b.replay);
    PutStr(&body, b.report);
  }
  // What --json, --sarif and --out report about a failing execution.
  PutU64(&body, static_cast<uint64_t>(r.preemptions));
  PutU64(&body, r.steps);
  PutU64(&body, r.tasks.size());
  for (const TaskSummary& t : r.tasks) {
    PutStr(&body, t.name);
    PutU64(&body, static_cast<uint64_t>(t.cpu));
    PutStr(&body, t.state);
  }
  PutU64(&body, r.locations.size());
  for (const SourceLocation& l : r.locations) {
    PutStr(&body, l.role);
    PutStr(&body, l.file);
    PutU64(&body, static_cast<uint64_t>(l.line));
    PutStr(&body, l.function);
  }
  PutU64(&body, r.interleaving.size());
  for (const Result::Step& s : r.interleaving) {
    PutStr(&body, s.task);
    PutStr(&body, s.context);
    PutStr(&body, s.text);
    PutStr(&body, s.file);
    PutU64(&body, static_cast<uint64_t>(s.line));
    PutStr(&body, s.function);
  }
  PutU64(&body, r.out_files.size());
  for (const std::string& f : r.out_files) PutStr(&body, f);
  PutStr(&body, r.out_error);
  PutU64(&body, static_cast<uint64_t>(static_cast<int64_t>(r.preemption_bound)));
  PutStr(&body, r.lockdep_graph);
  PutU64(&body, r.fine_grained ? 1 : 0);
  PutU64(&body, r.suppressed);
  PutU64(&body, r.suppressed_by.size());
  for (const auto& [rule, count] : r.suppressed_by) {
    PutStr(&body, rule);
    PutU64(&body, count);
  }
  PutU64(&body, static_cast<uint64_t>(static_cast<int64_t>(r.shard_index)));
  PutU64(&body, static_cast<uint64_t>(static_cast<int64_t>(r.shard_count)));
  PutU64(&body, r.shard_subtree);
  std::string msg;
  PutU64(&msg, body.size());
  return msg + body;
}

bool Deserialize(const std::string& buf, Result* r, char* kind) {
  In in{buf};
  const uint64_t size = in.U64();
  if (!in.ok || size != buf.size() - 8) return false;
  *kind = static_cast<char>(in.U64());
  r->verdict = static_cast<Verdict>(in.U64());
  r->search = static_cast<SearchMode>(in.U64());
  r->bound = static_cast<int>(in.U64());
  r->seed = in.U64();
  r->depth = static_cast<int>(in.U64());
  r->pct_threads = static_cast<int>(in.U64());
  r->pct_steps = in.U64();
  r->complete = in.U64() != 0;
  r->executions = in.U64();
  r->interrupted = in.U64() != 0;
  r->replay = in.Str();
  r->message = in.Str();
  r->report = in.Str();
  r->warning = in.Str();
  const uint64_t observations = in.U64();
  r->observations.clear();
  for (uint64_t i = 0; i < observations && in.ok; ++i) r->observations.insert(in.Str());
  const uint64_t traces = in.U64();
  r->traces.clear();
  for (uint64_t i = 0; i < traces && in.ok; ++i) r->traces.insert(in.U64());
  r->all_bugs = in.U64() != 0;
  const uint64_t bugs = in.U64();
  r->bugs.clear();
  for (uint64_t i = 0; i < bugs && in.ok; ++i) {
    BugFound b;
    b.verdict = static_cast<Verdict>(in.U64());
    b.message = in.Str();
    const uint64_t locations = in.U64();
    for (uint64_t k = 0; k < locations && in.ok; ++k) b.locations.push_back(in.Str());
    b.first_execution = in.U64();
    b.hits = in.U64();
    b.execution = in.U64();
    b.preemptions = static_cast<int>(in.U64());
    b.steps = in.U64();
    b.replay = in.Str();
    b.report = in.Str();
    r->bugs.push_back(std::move(b));
  }
  r->preemptions = static_cast<int>(in.U64());
  r->steps = in.U64();
  const uint64_t kMaxItems = buf.size();  // each item takes at least 8 bytes
  r->tasks.clear();
  for (uint64_t n = in.U64(); in.ok && n > 0 && n <= kMaxItems; --n) {
    TaskSummary t;
    t.name = in.Str();
    t.cpu = static_cast<int>(in.U64());
    t.state = in.Str();
    r->tasks.push_back(std::move(t));
  }
  r->locations.clear();
  for (uint64_t n = in.U64(); in.ok && n > 0 && n <= kMaxItems; --n) {
    SourceLocation l;
    l.role = in.Str();
    l.file = in.Str();
    l.line = static_cast<int>(in.U64());
    l.function = in.Str();
    r->locations.push_back(std::move(l));
  }
  r->interleaving.clear();
  for (uint64_t n = in.U64(); in.ok && n > 0 && n <= kMaxItems; --n) {
    Result::Step s;
    s.task = in.Str();
    s.context = in.Str();
    s.text = in.Str();
    s.file = in.Str();
    s.line = static_cast<int>(in.U64());
    s.function = in.Str();
    r->interleaving.push_back(std::move(s));
  }
  r->out_files.clear();
  for (uint64_t n = in.U64(); in.ok && n > 0 && n <= kMaxItems; --n) r->out_files.push_back(in.Str());
  r->out_error = in.Str();
  r->preemption_bound = static_cast<int>(static_cast<int64_t>(in.U64()));
  r->lockdep_graph = in.Str();
  r->fine_grained = in.U64() != 0;
  r->suppressed = in.U64();
  const uint64_t rules = in.U64();
  r->suppressed_by.clear();
  for (uint64_t i = 0; i < rules && in.ok && i < buf.size(); ++i) {
    std::string rule = in.Str();
    const uint64_t count = in.U64();
    r->suppressed_by.emplace_back(std::move(rule), count);
  }
  r->shard_index = static_cast<int>(static_cast<int64_t>(in.U64()));
  r->shard_count = static_cast<int>(static_cast<int64_t>(in.U64()));
  r->shard_subtree = in.U64();
  return in.ok && in.pos == buf.size();
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// --- The child -------------------------------------------------------------

int g_out_fd = -1;
const Model* g_model = nullptr;
Result g_base;               // what the child knows before it starts
bool g_dying_report = false;  // replaying: last words carry the traced report
uint64_t g_iteration = 0;

void ChildLastWords(Verdict v, const std::string& headline, const std::string& details) {
  Result r = g_base;
  r.verdict = v;
  r.message = headline;
  if (FlightRecorder* fr = internal::GetFlightRecorder()) r.executions = fr->executions;
  if (g_dying_report && g_model != nullptr) {
    r.report = FormatDyingReport(*g_model, r, v, headline, details, g_iteration);
  } else {
    r.report = details;  // the parent replays the path for the interleaving
  }
  WriteAll(g_out_fd, Serialize(r, 'D'));
  _exit(0);
}

void ChildStop(int) { internal::Runtime::RequestStop(); }

// --- The parent ------------------------------------------------------------

struct Outcome {
  bool got = false;  // a message arrived
  char kind = 0;
  Result r;
  int status = 0;
  bool hung = false;         // killed by the parent's watchdog
  bool interrupted = false;  // SIGINT/SIGTERM arrived while it ran
  // The flight recorder when the child ended.
  uint64_t executions = 0;
  int pass_bound = -1;      // FlightRecorder::pass_bound
  uint64_t pass_start = 0;  // FlightRecorder::pass_start
  uint64_t pct_steps = 0;   // FlightRecorder::pct_steps
  std::string path;  // "<n> (<count> <index> <type>)*", empty when it did not fit
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ForkSafeSection: one lock for the process, entered once per thread.
std::mutex g_fork_mu;
thread_local int t_fork_depth = 0;

// Leaves the calling thread's section while it waits (poll, waitpid).
class OutsideSection {
 public:
  OutsideSection() : held_(t_fork_depth > 0) {
    if (held_) g_fork_mu.unlock();
  }
  ~OutsideSection() {
    if (held_) g_fork_mu.lock();
  }

 private:
  bool held_;
};

Outcome RunChild(const Model& model, const Result& base, bool dying_report, uint64_t iteration,
                 const std::function<Result()>& work) {
  Outcome out;
  const size_t shm_size = sizeof(FlightRecorder) + kRecorderCapacity * sizeof(FlightRecorder::Node);
  void* shm = mmap(nullptr, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int fds[2];
  if (shm == MAP_FAILED || pipe2(fds, O_CLOEXEC) != 0) {
    // No isolation possible: run in-process.
    if (shm != MAP_FAILED) munmap(shm, shm_size);
    out.got = true;
    out.kind = 'R';
    out.r = work();
    return out;
  }
  auto* rec = static_cast<FlightRecorder*>(shm);
  rec->capacity = kRecorderCapacity;
  rec->pass_bound = -1;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    signal(SIGINT, &ChildStop);
    signal(SIGTERM, &ChildStop);
    if (g_interrupt_sig != 0) internal::Runtime::RequestStop();
    internal::SetFlightRecorder(rec);
    g_out_fd = fds[1];
    g_model = &model;
    g_base = base;
    g_dying_report = dying_report;
    g_iteration = iteration;
    internal::SetLastWords(&ChildLastWords);
    const Result r = work();
    internal::SetLastWords(nullptr);
    WriteAll(fds[1], Serialize(r, 'R'));
    _exit(0);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    munmap(shm, shm_size);
    out.got = true;
    out.kind = 'R';
    out.r = work();
    return out;
  }
  int slot = -1;
  for (int i = 0; i < kMaxWorkers && slot < 0; ++i) {
    pid_t expected = 0;
    if (g_child_pids[i].compare_exchange_strong(expected, pid)) slot = i;
  }
  std::string buf;
  const double budget = internal::WatchdogSeconds();
  // Longer than the child's own watchdog takes for a task blocked in the
  // host (four budgets, sync/internal/crash.cc): the parent is the backstop
  // for hangs outside a task (a fixture, the final check).
  const double patience = budget > 0 ? 5 * budget + 1 : 0;
  uint64_t last_progress = rec->progress;
  double last_change = Now();
  bool forwarded = false;
  double forwarded_at = 0;
  for (;;) {
    pollfd p = {fds[0], POLLIN, 0};
    int n;
    {
      OutsideSection waiting;
      n = poll(&p, 1, 100);
    }
    if (n > 0) {
      char chunk[65536];
      const ssize_t got = read(fds[0], chunk, sizeof chunk);
      if (got > 0) {
        buf.append(chunk, static_cast<size_t>(got));
        continue;
      }
      if (got == 0) break;
      if (errno != EINTR && errno != EAGAIN) break;
    }
    const double now = Now();
    if (g_interrupt_sig != 0) {
      out.interrupted = true;
      if (!forwarded) {
        kill(pid, SIGTERM);
        forwarded = true;
        forwarded_at = now;
      } else if (now - forwarded_at > 5) {
        kill(pid, SIGKILL);
      }
    }
    if (rec->progress != last_progress) {
      last_progress = rec->progress;
      last_change = now;
    } else if (patience > 0 && now - last_change > patience && !out.hung) {
      out.hung = true;
      kill(pid, SIGKILL);
    }
  }
  close(fds[0]);
  int status = 0;
  {
    OutsideSection waiting;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (slot >= 0) g_child_pids[slot].store(0);
  out.status = status;
  out.executions = rec->executions;
  out.pass_bound = rec->pass_bound;
  out.pass_start = rec->pass_start;
  out.pct_steps = rec->pct_steps;
  if (!rec->overflow) {
    const uint32_t depth = rec->depth;
    out.path = std::to_string(depth);
    for (uint32_t i = 0; i < depth && i < rec->capacity; ++i) {
      const auto& node = rec->nodes[i];
      out.path += " " + std::to_string(node.count) + " " + std::to_string(node.index) + " " +
                  std::to_string(node.type);
    }
  }
  munmap(shm, shm_size);
  if (!buf.empty()) {
    Result r = base;
    char kind = 0;
    if (Deserialize(buf, &r, &kind)) {
      out.got = true;
      out.kind = kind;
      out.r = r;
    }
  }
  return out;
}

std::string SignalName(int sig) {
  const char* name = sigabbrev_np(sig);
  return name ? std::string("SIG") + name : "signal " + std::to_string(sig);
}

// The report when no worker could produce one: headline, details, what is
// known, the token.
std::string FallbackReport(const Model& model, const Result& r, const std::string& details) {
  std::string s = "==================================================================\n";
  s += r.message + "\n------------------------------------------------------------------\n";
  s += details;
  if (!details.empty() && details.back() != '\n') s += "\n";
  s += "\nmodel:    " + model.name() + "\n";
  s += "verdict:  " + std::string(VerdictName(r.verdict)) + " (expected: " +
       model.expected().ToString() + ")\n";
  s += "(the worker process died before it could record the interleaving)\n";
  if (!r.replay.empty()) {
    s += "replay:   bazel run " + ReplayCommand() + " -- replay " + model.name() + " " +
         r.replay + "\n";
  }
  s += "==================================================================\n";
  return s;
}

// What a worker that died without a message amounts to.
void DescribeDeath(const Outcome& o, Result* r, std::string* details) {
  if (o.hung) {
    const int secs = static_cast<int>(internal::WatchdogSeconds() + 0.999);
    r->verdict = Verdict::kSoftLockup;
    r->message = "watchdog: BUG: soft lockup - CPU#0 stuck for " + std::to_string(secs) +
                 "s! [kmc-worker]";
    *details = "The worker made no progress for twice the watchdog budget and was killed: "
               "something blocked outside a simulated task (a fixture constructor, the final "
               "check, or a host lock).\n";
  } else if (WIFSIGNALED(o.status)) {
    r->verdict = Verdict::kKernelOops;
    r->message = "kmc: the worker died of " + SignalName(WTERMSIG(o.status)) +
                 " inside an execution";
    *details = "The fault happened where kmc could not turn it into a report (outside a "
               "simulated task, or while reporting another fault).\n";
  } else {
    r->verdict = Verdict::kModelError;
    r->message = "kmc: the worker exited with status " +
                 std::to_string(WIFEXITED(o.status) ? WEXITSTATUS(o.status) : -1) +
                 " in the middle of an execution";
    *details = "Something called exit() or _exit() outside a simulated task.\n";
  }
}

Result BaseResult(const Model& model, const RunOptions& options) {
  Result r;
  r.model = model.name();
  r.expected = model.expected();
  r.search = options.search.value_or(model.default_search());
  r.bound = r.search == SearchMode::kBounded ? options.bound.value_or(model.default_bound()) : 0;
  const bool sampled = r.search == SearchMode::kRandom || r.search == SearchMode::kPct;
  r.seed = sampled ? (options.seed == 0 ? 1 : options.seed) : 0;
  if (r.search == SearchMode::kPct) {
    r.depth = options.depth.value_or(model.default_search() == SearchMode::kPct
                                         ? model.default_bound()
                                         : kDefaultPctDepth);
  }
  r.fine_grained = options.fine_grained.value_or(model.fine_grained());
  if (options.shard_count > 0) {
    r.shard_index = options.shard_index;
    r.shard_count = options.shard_count;
  }
  return r;
}

uint64_t TokenIteration(std::string_view token) {
  // kmc1.<mode>.<hash>.<iteration>...; of a lockdep prediction's executions
  // (joined by '+'), the last one is the execution that failed.
  if (const size_t plus = token.rfind('+'); plus != std::string_view::npos) {
    token = token.substr(plus + 1);
  }
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = token.find('.', pos);
    if (pos == std::string_view::npos) return 0;
    ++pos;
  }
  uint64_t v = 0;
  while (pos < token.size() && token[pos] >= '0' && token[pos] <= '9') {
    v = v * 10 + static_cast<uint64_t>(token[pos++] - '0');
  }
  return v;
}

// The preemption bound of an i<K> token's pass of iterative context
// bounding (sync/token.h), else -1.
int TokenPassBound(std::string_view token) {
  if (const size_t plus = token.rfind('+'); plus != std::string_view::npos) {
    token = token.substr(plus + 1);
  }
  if (token.substr(0, 6) != "kmc1.i") return -1;
  int k = 0;
  for (size_t pos = 6; pos < token.size() && token[pos] >= '0' && token[pos] <= '9'; ++pos) {
    k = k * 10 + (token[pos] - '0');
    if (k > 1000) return -1;
  }
  return k;
}

// Replays `token` in a worker; a worker that dies gives its last words.
Result ReplayInWorker(const Model& model, const Result& base, const std::string& token,
                      const std::string& fallback_details, TraceMode mode,
                      const std::string& out_dir, const Suppressions* suppressions) {
  const uint64_t iteration = TokenIteration(token);
  Result replay_base = base;
  replay_base.replay = token;
  Outcome o = RunChild(model, replay_base, true, iteration,
                       [&model, &token, mode, &out_dir, suppressions] {
    std::string error;
    std::optional<Result> r = ReplayModel(model, token, &error, mode, out_dir, suppressions);
    if (!r) {
      Result bad;
      bad.verdict = Verdict::kModelError;
      bad.message = "kmc: " + error;
      return bad;
    }
    return *r;
  });
  Result r = replay_base;
  r.executions = iteration;
  if (o.got) {
    r.verdict = o.r.verdict;
    r.message = o.r.message;
    r.report = o.r.report;
    r.preemption_bound = TokenPassBound(token);
    if (o.kind == 'R') {
      r.executions = o.r.executions;
      r.preemptions = o.r.preemptions;
      r.steps = o.r.steps;
      r.tasks = o.r.tasks;
      r.locations = o.r.locations;
      r.interleaving = o.r.interleaving;
      r.out_files = o.r.out_files;
      r.out_error = o.r.out_error;
    }
  } else {
    std::string details = fallback_details;
    DescribeDeath(o, &r, &details);
    r.report = FallbackReport(model, r, details);
  }
  r.match = r.expected.Contains(r.verdict);
  return r;
}

}  // namespace

ForkSafeSection::ForkSafeSection() {
  if (t_fork_depth++ == 0) g_fork_mu.lock();
}

ForkSafeSection::~ForkSafeSection() {
  if (--t_fork_depth == 0) g_fork_mu.unlock();
}

Result CheckModelIsolated(const Model& model, const RunOptions& options) {
  ForkSafeSection section;
  const auto t0 = std::chrono::steady_clock::now();
  const Result base = BaseResult(model, options);
  Outcome o = RunChild(model, base, false, 0, [&model, &options] { return CheckModel(model, options); });
  Result r = base;
  if (o.got && o.kind == 'R') {
    r = o.r;
    r.model = base.model;
    r.expected = base.expected;
  } else {
    // The worker died in the middle of an execution: its recorded path is
    // the replay token, and a fresh worker replays it for the report.
    std::string details;
    if (o.got) {
      r.verdict = o.r.verdict;
      r.message = o.r.message;
      details = o.r.report;
    } else {
      DescribeDeath(o, &r, &details);
    }
    r.executions = o.executions;
    r.complete = false;
    const bool sampled = r.search == SearchMode::kRandom || r.search == SearchMode::kPct;
    if (o.interrupted && !o.got) {
      r.verdict = Verdict::kClean;
      r.interrupted = true;
      r.message = "no bug found in the first " + std::to_string(o.executions) +
                  " executions (interrupted; not a proof)";
    } else if (!o.path.empty() || sampled) {
      // The execution's number within its pass (a search may run several:
      // iterative context bounding, then the exhaustive search).
      const uint64_t iteration = sampled ? r.seed + o.executions - 1
                                 : o.executions > o.pass_start ? o.executions - o.pass_start
                                                               : o.executions;
      std::string state = std::to_string(iteration);
      if (r.search == SearchMode::kPct) {
        state += " " + std::to_string(o.pct_steps);  // the execution's k
      } else if (!sampled) {
        state += " " + o.path;
      }
      r.preemption_bound = o.pass_bound;
      r.replay = o.pass_bound >= 0
                     ? EncodeReplayToken(model, SearchMode::kBounded, o.pass_bound, state, true,
                                         r.fine_grained)
                     : EncodeReplayToken(model, r.search,
                                         r.search == SearchMode::kPct ? r.depth : r.bound, state,
                                         false, r.fine_grained);
      const Result replayed =
          ReplayInWorker(model, r, r.replay, details, options.trace, options.out_dir,
                         options.suppressions.get());
      const Verdict first_verdict = r.verdict;
      const std::string first_message = r.message;
      r.verdict = replayed.verdict;
      r.message = replayed.message;
      r.report = replayed.report;
      if (r.verdict == Verdict::kNondeterministic && first_verdict != r.verdict) {
        // What the worker saw before it died is the evidence: keep it.
        r.report += "The search's worker process, before it died: " +
                    std::string(VerdictName(first_verdict)) + ": " + first_message + "\n" +
                    details;
      }
      r.preemptions = replayed.preemptions;
      r.steps = replayed.steps;
      r.tasks = replayed.tasks;
      r.locations = replayed.locations;
      r.interleaving = replayed.interleaving;
      r.out_files = replayed.out_files;
      r.out_error = replayed.out_error;
    } else {
      r.report = FallbackReport(model, r, details + "(the decision path was too long to record)\n");
    }
  }
  if (o.interrupted) r.interrupted = true;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.match = r.expected.Contains(r.verdict);
  return r;
}

std::optional<Result> ReplayModelIsolated(const Model& model, std::string_view token,
                                          std::string* error, TraceMode trace,
                                          const std::string& out_dir,
                                          const Suppressions* suppressions) {
  ForkSafeSection section;
  // Decoded in the parent: a bad token is a usage error, not a crash.
  RunOptions options;
  SearchMode mode = SearchMode::kExhaustive;
  int bound = 0;
  if (!ValidateReplayToken(model, token, &mode, &bound, error)) return std::nullopt;
  options.search = mode;
  options.bound = bound;
  options.depth = bound;
  options.seed = TokenIteration(token);
  const auto t0 = std::chrono::steady_clock::now();
  Result base = BaseResult(model, options);
  Result r = ReplayInWorker(model, base, std::string(token), "", trace, out_dir, suppressions);
  r.replay = std::string(token);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void InterruptWorkers(int sig) {
  g_interrupt_sig = sig;
  internal::Runtime::RequestStop();
  for (auto& p : g_child_pids) {
    const pid_t pid = p.load();
    if (pid > 0) kill(pid, SIGTERM);
  }
}

}  // namespace kmc
