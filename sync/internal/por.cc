// Partial-order reduction: step footprints (see por.h).

#include "sync/internal/por.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>

namespace kmc::internal {
namespace {

constexpr uint64_t kTagShift = 56;
constexpr uint64_t kTagOrdinal = uint64_t{1} << kTagShift;
constexpr uint64_t kTagTask = uint64_t{2} << kTagShift;
constexpr uint64_t kRegistryKey = uint64_t{3} << kTagShift;
constexpr uint64_t kSeqCstKey = uint64_t{4} << kTagShift;
constexpr uint64_t kTagHeap = uint64_t{5} << kTagShift;
constexpr uint64_t kTagFixture = uint64_t{6} << kTagShift;
constexpr uint64_t kTagCell = uint64_t{7} << kTagShift;
constexpr uint64_t kTagCpu = uint64_t{8} << kTagShift;
constexpr uint64_t kTagIrq = uint64_t{9} << kTagShift;
constexpr uint64_t kTagOwnedCell = uint64_t{10} << kTagShift;
constexpr uint64_t kTasksDoneKey = uint64_t{11} << kTagShift;
constexpr uint64_t kUntrackedKey = uint64_t{12} << kTagShift;
constexpr int kMaxThreads = 64;

struct Sticky {
  bool has = false;
  bool global = false;
  uint64_t key = 0;
  bool write = false;
  bool fresh = false;  // announced, not yet run
};

struct PorState {
  bool recording = false;
  std::unordered_map<const void*, uint64_t> ordinals;
  uint64_t next_ordinal = 0;
  uintptr_t fixture = 0;
  size_t fixture_size = 0;
  int step_thread = -1;
  uint32_t ids[kMaxThreads + 1] = {};  // creation ids made, per thread (+1: setup)
  Footprint step;
  bool keep_touched = false;  // PorKeepTouched
  Footprint touched;  // the step's own touches (PorEndStep)
  Sticky sticky[kMaxThreads];
  std::vector<LockCount> locks;       // the running step's (PorLockCount)
  std::vector<LockCount> ended_locks;  // the last ended step's
};

inline PorState& S() {
  static PorState* const s = new PorState();
  return *s;
}

bool SortedIntersect(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) return true;
    if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

void MergeSorted(std::vector<uint64_t>& into, const std::vector<uint64_t>& from) {
  if (from.empty()) return;
  if (std::includes(into.begin(), into.end(), from.begin(), from.end())) return;
  // The union goes through a scratch vector that is swapped in: both keep
  // their capacity, so merging allocates only while the sets still grow.
  static std::vector<uint64_t>* scratch = new std::vector<uint64_t>();
  scratch->clear();
  std::set_union(into.begin(), into.end(), from.begin(), from.end(),
                 std::back_inserter(*scratch));
  into.swap(*scratch);
}

void Add(Footprint& f, uint64_t key, bool write) {
  if (write) {
    f.Write(key);
  } else {
    f.Read(key);
  }
}

// A touch by the running step's own code.
void Touch(PorState& s, uint64_t key, bool write) {
  Add(s.step, key, write);
  if (s.keep_touched) Add(s.touched, key, write);
}

// The announced operation of `st` runs in the current step.
void RunAnnounced(PorState& s, Sticky& st) {
  if (st.global) {
    s.step.SetGlobal();
    if (st.fresh && s.keep_touched) s.touched.SetGlobal();
  } else if (st.fresh) {
    Touch(s, st.key, st.write);
  } else {
    Add(s.step, st.key, st.write);
  }
  st.fresh = false;
}

}  // namespace

void Footprint::Merge(const Footprint& other) {
  global_ = global_ || other.global_;
  MergeSorted(reads_, other.reads_);
  MergeSorted(writes_, other.writes_);
}

bool Footprint::Conflicts(const Footprint& other) const {
  if (global_ || other.global_) return true;
  return SortedIntersect(writes_, other.writes_) || SortedIntersect(writes_, other.reads_) ||
         SortedIntersect(reads_, other.writes_);
}

std::string Footprint::DebugString() const {
  auto list = [](const std::vector<uint64_t>& v) {
    std::string s;
    for (uint64_t k : v) {
      s += std::to_string(k >> kTagShift) + ":" +
           std::to_string(k & ((uint64_t{1} << kTagShift) - 1)) + " ";
    }
    return s;
  };
  return std::string(global_ ? "global " : "") + "R{" + list(reads_) + "} W{" + list(writes_) +
         "}";
}

uint64_t PorNewId() {
  PorState& s = S();
  const int slot = s.recording && s.step_thread >= 0 && s.step_thread < kMaxThreads
                       ? s.step_thread + 1
                       : 0;
  return (uint64_t{static_cast<uint32_t>(slot)} << 24) | (++s.ids[slot] & 0xffffff);
}

uint64_t PorHeapKey(uint64_t id, size_t granule) {
  return kTagHeap | (id << 20) | (granule & 0xfffff);
}

uint64_t PorCellKey(uint64_t id) { return kTagCell | id; }

uint64_t PorUntrackedKey() { return kUntrackedKey; }

uint64_t PorOwnedCellKey(uint64_t owner_key) {
  constexpr uint64_t kPayload = (uint64_t{1} << 52) - 1;
  return kTagOwnedCell | ((owner_key >> kTagShift) << 52) | (owner_key & kPayload);
}

uint64_t PorTaskKey(int thread) { return kTagTask | static_cast<uint32_t>(thread); }

uint64_t PorCpuKey(int cpu) { return kTagCpu | static_cast<uint32_t>(cpu); }

uint64_t PorIrqKey(int cpu) { return kTagIrq | static_cast<uint32_t>(cpu); }

uint64_t PorSeqCstKey() { return kSeqCstKey; }

uint64_t PorTasksDoneKey() { return kTasksDoneKey; }

void PorTouchCpu(int cpu) { PorTouchKey(PorIrqKey(cpu), true); }

void PorTouchCpuStack(int cpu) {
  PorTouchKey(PorCpuKey(cpu), true);
  PorTouchKey(PorIrqKey(cpu), true);
}

void PorSetFixture(const void* base, size_t size) {
  PorState& s = S();
  s.fixture = reinterpret_cast<uintptr_t>(base);
  s.fixture_size = base == nullptr ? 0 : size;
}

uint64_t PorAddressKey(const void* addr) {
  PorState& s = S();
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  if (a >= s.fixture && a - s.fixture < s.fixture_size) return kTagFixture | (a - s.fixture);
  auto [it, inserted] = s.ordinals.try_emplace(addr, 0);
  if (inserted) {
    it->second = kTagOrdinal | ++s.next_ordinal;
    if (s.recording) Touch(s, kRegistryKey, true);
  }
  return it->second;
}

const char kPorOwnTask = 0;
const char kPorOwnCpu = 0;
const char kPorFence = 0;
const char kPorLocalFence = 0;

bool g_por_enabled = false;

void PorTouchKey(uint64_t key, bool write) {
  PorState& s = S();
  if (s.recording && key != kUntrackedKey) Touch(s, key, write);
}

void PorTouchTask(int thread) { PorTouchKey(PorTaskKey(thread), true); }

void PorTouchGlobal() {
  PorState& s = S();
  if (s.recording) {
    s.step.SetGlobal();
    if (s.keep_touched) s.touched.SetGlobal();
  }
}

void PorTouchSeqCst() { PorTouchKey(kSeqCstKey, true); }

void PorAnnounce(int thread, uint64_t key, bool global, bool write) {
  PorState& s = S();
  if (!g_por_enabled || thread < 0 || thread >= kMaxThreads) return;
  s.sticky[thread] = Sticky{true, global, key, write, true};
}

void PorStepRunsAnnounced(int thread) {
  PorState& s = S();
  if (!s.recording || thread < 0 || thread >= kMaxThreads) return;
  Sticky& st = s.sticky[thread];
  if (!st.has) return;
  RunAnnounced(s, st);
}

void PorStepParksForCpu(int thread) {
  PorState& s = S();
  if (!s.recording || thread != s.step_thread || thread < 0 || thread >= kMaxThreads) return;
  s.step.Clear();
  s.touched.Clear();
  Sticky& st = s.sticky[thread];
  if (st.has) st.fresh = true;
}

void PorLockCount(uint64_t key, int before, int delta, bool sleeping_acquire) {
  PorState& s = S();
  if (s.recording) s.locks.push_back(LockCount{key, before, delta, sleeping_acquire});
}

const std::vector<LockCount>& PorStepLockCounts() { return S().ended_locks; }

void PorEnable(bool on) {
  g_por_enabled = on;
  if (!on) S().recording = false;
}

void PorKeepTouched(bool on) { S().keep_touched = on; }

void PorBeginExecution() {
  PorState& s = S();
  s.ordinals.clear();
  s.next_ordinal = 0;
  s.recording = false;
  s.fixture = 0;
  s.fixture_size = 0;
  s.step.Clear();
  s.touched.Clear();
  std::fill(std::begin(s.ids), std::end(s.ids), 0);
  for (Sticky& st : s.sticky) st = Sticky{};
}

void PorSetRecording(bool on) { S().recording = on && g_por_enabled; }

void PorBeginStep(int thread) {
  PorState& s = S();
  s.step.Clear();
  s.touched.Clear();
  s.locks.clear();
  s.step_thread = thread;
  if (!g_por_enabled || thread < 0 || thread >= kMaxThreads) return;
  Sticky& st = s.sticky[thread];
  if (st.has) RunAnnounced(s, st);
}

void PorEndStep(Footprint* out, Footprint* touched) {
  PorState& s = S();
  // Swapped, not copied: each side keeps a buffer that has grown already.
  out->Swap(s.step);
  s.step.Clear();
  if (touched != nullptr) touched->Swap(s.touched);
  s.touched.Clear();
  s.ended_locks.swap(s.locks);
  s.locks.clear();
}

}  // namespace kmc::internal
