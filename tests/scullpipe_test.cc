// Tests of the scullpipe driver (drivers/scullpipe) and its models
// (models/scullpipe_models.cc).
//
//   * one test per registered scullpipe model: its verdict, the search it
//     ran (clean models: exhaustive and complete, except the bounded
//     two_writers_one_reader), and for a failing model that its replay
//     prints the same report byte for byte;
//   * the seeded-bug scenarios run again with the bug bit cleared (and the
//     seed's read replaced by LDD3's) must be clean, so each model fails
//     because of its bug and nothing else;
//   * unit tests of the driver logic (open/release counting, discard on
//     open, wrap-around, poll, -EAGAIN, -EFAULT, -ENOMEM, signals), each run
//     as a throwaway model that is not registered.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "drivers/scull/scull_cxx.h"
#include "drivers/scullpipe/scullpipe.h"
#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using namespace kmc::kernel;              // NOLINT: kernel spelling
using namespace kmc::drivers::scullpipe;  // NOLINT: driver spelling
using kmc::drivers::scull::scull_module;
using ::kmc::testing::ExpectMatch;
using ::kmc::testing::ExpectReplayReproduces;

using ::kmc::testing::Contains;

void ExpectCleanExhaustive(const std::string& name) {
  Result r = ExpectMatch(name);
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_EQ(r.search, SearchMode::kExhaustive);
  EXPECT_TRUE(r.complete) << name << " must be explored exhaustively";
}

// ---------------------------------------------------------------------------
// The registered models.

TEST(ScullpipeModels, OneWriterOneReader) {
  ExpectCleanExhaustive("scullpipe/one_writer_one_reader");
}

TEST(ScullpipeModels, TwoWritersOneReaderIsBounded) {
  Result r = ExpectMatch("scullpipe/two_writers_one_reader");
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_EQ(r.search, SearchMode::kBounded);
  EXPECT_EQ(r.bound, 5);
  EXPECT_GT(r.executions, 100000u);
}

TEST(ScullpipeModels, Nonblocking) { ExpectCleanExhaustive("scullpipe/nonblocking"); }

TEST(ScullpipeModels, SignalWhileBlocked) {
  ExpectCleanExhaustive("scullpipe/signal_while_blocked");
}

TEST(ScullpipeModels, IfNotWhile) {
  ExpectReplayReproduces("scullpipe/if_not_while");
  Result r = ExpectMatch("scullpipe/if_not_while");
  EXPECT_TRUE(Contains(r.report, "drivers/scullpipe/scullpipe.cc")) << r.report;
}

TEST(ScullpipeModels, LostWakeup) {
  ExpectReplayReproduces("scullpipe/lost_wakeup");
  Result r = ExpectMatch("scullpipe/lost_wakeup");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  // The writer sleeps in schedule() after queueing on outq, with space free.
  EXPECT_TRUE(Contains(r.report, "schedule() after prepare_to_wait(&dev->outq)")) << r.report;
  EXPECT_TRUE(Contains(r.report, "scull_getwritespace")) << r.report;
}

TEST(ScullpipeModels, WakeBeforePublish) {
  ExpectReplayReproduces("scullpipe/wake_before_publish");
  Result r = ExpectMatch("scullpipe/wake_before_publish");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_TRUE(Contains(r.report, "wait_event_interruptible(&dev->inq, (dev->rp != dev->wp))"))
      << r.report;
}

TEST(ScullpipeModels, SleepHoldingLock) {
  ExpectReplayReproduces("scullpipe/sleep_holding_lock");
  Result r = ExpectMatch("scullpipe/sleep_holding_lock");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_TRUE(Contains(r.report, "down_interruptible(&dev->sem)")) << r.report;
}

TEST(ScullpipeModels, DoubleUnlock) { ExpectReplayReproduces("scullpipe/double_unlock"); }

TEST(ScullpipeModels, SeedRead) {
  ExpectReplayReproduces("scullpipe/seed_read");
  Result r = ExpectMatch("scullpipe/seed_read");
  EXPECT_TRUE(Contains(r.report, "scull_p_read_seed002")) << r.report;
}

// ---------------------------------------------------------------------------
// Throwaway models over one pipe device with a 4-byte buffer.

constexpr int kBuffer = 4;

template <unsigned Bugs = 0>
struct Pipe {
  scull_module mod;
  scull_p_module pmod;
  scull_pipe* dev = nullptr;
  file files[4];  // three opens, and the access-mode-3 open of one test
  int nfiles = 0;
  std::string put[2];  // what each writer's writes accepted
  std::string got[2];  // what each reader's reads returned
  int results[4] = {0, 0, 0, 0};  // what a unit test wants the check to see

  Pipe() {
    mod.scull_p_buffer = kBuffer;
    pmod.scull = &mod;
    pmod.scull_p_nr_devs = 1;
    pmod.scull_p_bugs = Bugs;
    BUG_ON(scull_p_init(&pmod, 0) != 1);
    dev = &pmod.scull_p_devices[0];
  }

  inode Inode() { return scull_p_inode(&pmod, 0); }

  // Opens a file the test keeps in files[]; returns what open returned.
  int OpenFile(unsigned flags, file** out = nullptr) {
    inode ino = Inode();
    file& filp = files[nfiles++];
    filp = make_file(flags);
    if (out != nullptr) *out = &filp;
    return scull_p_open(&ino, &filp);
  }
  file& Open(unsigned flags) {
    file* f = nullptr;
    BUG_ON(OpenFile(flags, &f) != 0);
    return *f;
  }
  void Close(file& filp) {
    inode ino = Inode();
    KMC_ASSERT(scull_p_release(&ino, &filp) == 0);
  }
};

ssize_t Write(file& filp, const std::string& data) {
  UserBuffer ub(data);
  return scull_p_write(&filp, ub.ptr(), ub.size(), &filp.f_pos);
}

using ReadFn = ssize_t (*)(struct file*, char __user*, size_t, loff_t*);

ssize_t ReadVia(ReadFn fn, file& filp, size_t count, std::string* out) {
  UserBuffer ub(count, '.');
  const ssize_t n = fn(&filp, ub.ptr(), count, &filp.f_pos);
  if (n > 0 && out != nullptr) *out += ub.str(static_cast<size_t>(n));
  return n;
}

ssize_t Read(file& filp, size_t count, std::string* out = nullptr) {
  return ReadVia(scull_p_read, filp, count, out);
}

// Blocking writer: puts all of `data`, `chunk` bytes per call.
void WriteAll(file& filp, const std::string& data, size_t chunk, std::string* put) {
  while (put->size() < data.size()) {
    const ssize_t n = Write(filp, data.substr(put->size(), chunk));
    if (n == -ERESTARTSYS) continue;  // the system call is restarted
    KMC_ASSERT(n >= 1);
    *put += data.substr(put->size(), static_cast<size_t>(n));
  }
}

// Blocking reader: gets `total` bytes, `count` per call.
void ReadAll(file& filp, size_t total, size_t count, std::string* got, ReadFn fn = scull_p_read) {
  while (got->size() < total) {
    const ssize_t n = ReadVia(fn, filp, count, got);
    if (n == -ERESTARTSYS) continue;
    KMC_ASSERT(n >= 1);
  }
}

// The lock is free, with a count of exactly 1.
template <class P>
void CheckLockBalance(P& p) {
  KMC_ASSERT(down_trylock(&p.dev->sem) == 0);
  KMC_ASSERT(down_trylock(&p.dev->sem) == 1);
  up(&p.dev->sem);
}

// readable + spacefree == buffersize - 1 (docs/DRIVERS.md, scullpipe invariants (2)).
template <class P>
int Readable(P& p) {
  const long d = p.dev->wp.get() - p.dev->rp.get();
  return static_cast<int>((d + p.dev->buffersize.get()) % p.dev->buffersize.get());
}
template <class P>
void CheckCounts(P& p) {
  KMC_ASSERT(Readable(p) + spacefree(p.dev) == p.dev->buffersize.get() - 1);
}

// Closes every file still open, checks the buffer went with the last one,
// unloads the module.
template <class P>
void CloseAllAndUnload(P& p) {
  CheckLockBalance(p);
  for (int i = 0; i < p.nfiles; ++i) {
    if (p.files[i].private_data != nullptr) p.Close(p.files[i]);
  }
  KMC_ASSERT(p.dev->nreaders.get() == 0 && p.dev->nwriters.get() == 0);
  KMC_ASSERT(p.dev->buffer.get() == nullptr);
  scull_p_cleanup(&p.pmod);
}

template <class F>
struct Scenario {
  explicit Scenario(std::string n, uint32_t nd = kNondetNone) : name(std::move(n)), nondet(nd) {}

  std::string name;
  uint32_t nondet;
  std::vector<std::pair<std::string, std::function<void(F&)>>> tasks;
  std::function<void(F&)> check;

  Scenario& Task(std::string task, std::function<void(F&)> body) {
    tasks.emplace_back(std::move(task), std::move(body));
    return *this;
  }

  // Runs the scenario (exhaustively unless `options` says otherwise); the
  // final check is followed by closing every file and module exit.
  Result Run(const RunOptions& options = {}) const {
    Model m(name);
    auto f = m.Fixture<F>();
    m.Expect(Verdict::kClean).Enable(nondet);
    int cpu = 0;
    for (const auto& [task, body] : tasks) f.Task(task, cpu++ % 2, body);
    auto final_check = check;
    f.Check([final_check](F& p) {
      if (final_check) final_check(p);
      CloseAllAndUnload(p);
    });
    return CheckModel(m, options);
  }
};

// ---------------------------------------------------------------------------
// The bug scenarios with the bug cleared: all clean.

// Two files open at load (a writer's and a reader's), one writer task, one
// reader task: the shape of most bug models.
struct WR : Pipe<> {
  file& wr = Open(O_WRONLY);
  file& rd = Open(O_RDONLY);
};

TEST(ScullpipeFixed, WhileRetestsAfterWaking) {  // PB2 cleared
  struct F : Pipe<> {
    file& wr = Open(O_WRONLY);
    file& rd0 = Open(O_RDONLY);
    file& rd1 = Open(O_RDONLY);
  };
  Scenario<F> s("fixed/while_not_if");
  s.Task("writer", [](F& p) { WriteAll(p.wr, "ab", 1, &p.put[0]); });
  s.Task("reader0", [](F& p) { ReadAll(p.rd0, 1, 1, &p.got[0]); });
  s.Task("reader1", [](F& p) { ReadAll(p.rd1, 1, 1, &p.got[1]); });
  s.check = [](F& p) {
    KMC_ASSERT(p.got[0] + p.got[1] == "ab" || p.got[1] + p.got[0] == "ab");
  };
  // Three tasks: the exhaustive tree is too large (the bug model finds its
  // counterexample early, the clean scenario would have to finish it).
  RunOptions options;
  options.search = SearchMode::kBounded;
  options.bound = 4;
  const Result r = s.Run(options);
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_GT(r.executions, 1000u);
}

TEST(ScullpipeFixed, WakeAfterPublishAndSleepWithoutLock) {  // PB4 and PB5 cleared
  for (size_t len : {1u, 2u}) {
    Scenario<WR> s("fixed/wake_after_publish");
    s.Task("writer",
           [len](WR& p) { WriteAll(p.wr, std::string("ab").substr(0, len), len, &p.put[0]); });
    s.Task("reader", [len](WR& p) { ReadAll(p.rd, len, len, &p.got[0]); });
    s.check = [](WR& p) { KMC_ASSERT(p.got[0] == p.put[0]); };
    EXPECT_CLEAN(s.Run());
  }
}

TEST(ScullpipeFixed, NonblockingWriterUnlocksOnce) {  // PB7 cleared
  struct F : Pipe<> {
    file& wr = Open(O_WRONLY | O_NONBLOCK);
    file& rd = Open(O_RDONLY);
  };
  Scenario<F> s("fixed/single_unlock");
  s.Task("writer", [](F& p) {
    const std::string data = "abcde";
    for (int attempt = 0; attempt < 3 && p.put[0].size() < data.size(); ++attempt) {
      const ssize_t n = Write(p.wr, data.substr(p.put[0].size()));
      KMC_ASSERT(n == -EAGAIN || n >= 1);
      if (n > 0) p.put[0] += data.substr(p.put[0].size(), static_cast<size_t>(n));
    }
  });
  s.Task("reader", [](F& p) { ReadAll(p.rd, 3, 4, &p.got[0]); });
  s.check = [](F& p) {
    CheckLockBalance(p);
    p.rd.f_flags |= O_NONBLOCK;
    while (Read(p.rd, 4, &p.got[0]) > 0) {
    }
    KMC_ASSERT(p.got[0] == p.put[0]);
  };
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeFixed, LddReadInSeedScenario) {  // scullpipe/seed_read with LDD3's read
  Scenario<WR> s("fixed/ldd3_read");
  s.Task("writer", [](WR& p) { WriteAll(p.wr, "ab", 1, &p.put[0]); });
  s.Task("reader", [](WR& p) { ReadAll(p.rd, 2, 2, &p.got[0], scull_p_read); });
  s.check = [](WR& p) { KMC_ASSERT(p.got[0] == "ab"); };
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeFixed, SeedReadIsFineWhenThePipeIsNeverEmpty) {
  // The seed's two up()s only run on an empty pipe: with the data already
  // there, its read is LDD3's.
  Scenario<WR> s("fixed/seed_read_nonempty");
  s.Task("reader", [](WR& p) {
    KMC_ASSERT(Write(p.wr, "abc") == 3);
    ReadAll(p.rd, 3, 4, &p.got[0], scull_p_read_seed002);
  });
  s.check = [](WR& p) { KMC_ASSERT(p.got[0] == "abc"); };
  EXPECT_CLEAN(s.Run());
}

// ---------------------------------------------------------------------------
// Unit tests of the driver logic.

TEST(ScullpipeUnit, OpenReleaseCountsAndBuffer) {
  Scenario<Pipe<>> s("unit/open_release");
  s.Task("t", [](Pipe<>& p) {
    file* r = nullptr;
    file* w = nullptr;
    file* rw = nullptr;
    KMC_ASSERT(p.OpenFile(O_RDONLY, &r) == 0);
    char* const buffer = p.dev->buffer.get();
    KMC_ASSERT(buffer != nullptr);
    KMC_ASSERT(p.dev->end.get() == buffer + kBuffer && p.dev->buffersize.get() == kBuffer);
    KMC_ASSERT(p.OpenFile(O_WRONLY, &w) == 0);
    KMC_ASSERT(p.OpenFile(O_RDWR, &rw) == 0);
    KMC_ASSERT(p.dev->buffer.get() == buffer);  // allocated once
    KMC_ASSERT(p.dev->nreaders.get() == 2 && p.dev->nwriters.get() == 2);  // f_mode, not f_flags
    p.Close(*rw);
    rw->private_data = nullptr;
    KMC_ASSERT(p.dev->nreaders.get() == 1 && p.dev->nwriters.get() == 1);
    p.Close(*r);
    r->private_data = nullptr;
    KMC_ASSERT(p.dev->buffer.get() == buffer);
    p.Close(*w);
    w->private_data = nullptr;
    KMC_ASSERT(p.dev->buffer.get() == nullptr);  // the last release frees it
    // An open with access mode 3 has neither FMODE_READ nor FMODE_WRITE: it
    // allocates the buffer without counting (docs/DRIVERS.md, scullpipe invariants (4)), and its
    // release frees it.
    file* odd = nullptr;
    p.files[p.nfiles] = make_file(O_RDONLY);
    p.files[p.nfiles].f_mode = 0;
    odd = &p.files[p.nfiles++];
    inode ino = p.Inode();
    KMC_ASSERT(scull_p_open(&ino, odd) == 0);
    KMC_ASSERT(p.dev->buffer.get() != nullptr);
    KMC_ASSERT(p.dev->nreaders.get() == 0 && p.dev->nwriters.get() == 0);
    p.Close(*odd);
    odd->private_data = nullptr;
    KMC_ASSERT(p.dev->buffer.get() == nullptr);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, OpenDiscardsBufferedData) {  // PB9: real behaviour
  Scenario<WR> s("unit/open_discards");
  s.Task("t", [](WR& p) {
    KMC_ASSERT(Write(p.wr, "ab") == 2);
    KMC_ASSERT(Readable(p) == 2);
    p.Open(O_RDONLY | O_NONBLOCK);  // rp = wp = buffer
    KMC_ASSERT(Readable(p) == 0);
    p.rd.f_flags |= O_NONBLOCK;
    KMC_ASSERT(Read(p.rd, 4) == -EAGAIN);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, WrapAroundAndContiguousChunks) {
  Scenario<WR> s("unit/wrap");
  s.Task("t", [](WR& p) {
    char* const buffer = p.dev->buffer.get();
    std::string got;
    KMC_ASSERT(Write(p.wr, "abcd") == 3);  // spacefree is buffersize - 1
    CheckCounts(p);
    KMC_ASSERT(spacefree(p.dev) == 0);
    KMC_ASSERT(Read(p.rd, 2, &got) == 2 && got == "ab");
    CheckCounts(p);
    // wp >= rp: a write goes up to the end of the buffer only.
    KMC_ASSERT(Write(p.wr, "de") == 1);
    KMC_ASSERT(p.dev->wp.get() == buffer);  // wrapped
    CheckCounts(p);
    // wp < rp: a write fills up to rp - 1.
    KMC_ASSERT(Write(p.wr, "ef") == 1);
    KMC_ASSERT(spacefree(p.dev) == 0);
    CheckCounts(p);
    // The data wraps: one read returns one contiguous chunk, up to end.
    KMC_ASSERT(Readable(p) == 3);
    KMC_ASSERT(Read(p.rd, 4, &got) == 2 && got == "abcd");
    KMC_ASSERT(p.dev->rp.get() == buffer);  // wrapped
    KMC_ASSERT(Read(p.rd, 4, &got) == 1 && got == "abcde");
    KMC_ASSERT(p.dev->rp.get() == p.dev->wp.get());
    // count == 0 returns 0 even with data present.
    KMC_ASSERT(Write(p.wr, "x") == 1);
    KMC_ASSERT(Read(p.rd, 0) == 0);
    KMC_ASSERT(Readable(p) == 1);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, PollMask) {
  Scenario<WR> s("unit/poll");
  s.Task("t", [](WR& p) {
    poll_table pt;
    KMC_ASSERT(scull_p_poll(&p.rd, &pt) == (POLLOUT | POLLWRNORM));
    KMC_ASSERT(pt.queued == 2);  // inq and outq
    KMC_ASSERT(Write(p.wr, "a") == 1);
    KMC_ASSERT(scull_p_poll(&p.rd, nullptr) == (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM));
    KMC_ASSERT(Write(p.wr, "bc") == 2);
    KMC_ASSERT(scull_p_poll(&p.rd, nullptr) == (POLLIN | POLLRDNORM));
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, NonblockingNeverSleeps) {
  struct F : Pipe<> {
    file& wr = Open(O_WRONLY | O_NONBLOCK);
    file& rd = Open(O_RDONLY | O_NONBLOCK);
  };
  Scenario<F> s("unit/nonblocking");
  s.Task("t", [](F& p) {
    KMC_ASSERT(Read(p.rd, 1) == -EAGAIN);  // empty
    KMC_ASSERT(Write(p.wr, "abc") == 3);
    KMC_ASSERT(Write(p.wr, "d") == -EAGAIN);  // full
    CheckLockBalance(p);  // both -EAGAIN paths released the lock
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, UserFaults) {
  Scenario<WR> s("unit/efault", kUserFault);
  s.Task("t", [](WR& p) {
    char* const wp = p.dev->wp.get();
    const ssize_t w = Write(p.wr, "ab");
    KMC_ASSERT(w == 2 || w == -EFAULT);
    if (w == -EFAULT) {
      KMC_ASSERT(p.dev->wp.get() == wp);  // nothing accepted
      return;
    }
    char* const rp = p.dev->rp.get();
    std::string got;
    const ssize_t r = Read(p.rd, 2, &got);
    KMC_ASSERT(r == 2 || r == -EFAULT);
    if (r == -EFAULT) KMC_ASSERT(p.dev->rp.get() == rp);  // nothing consumed
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, OpenAllocationFailure) {
  Scenario<Pipe<>> s("unit/enomem", kAllocFailure);
  s.Task("t", [](Pipe<>& p) {
    file* f = nullptr;
    const int r = p.OpenFile(O_RDONLY, &f);
    KMC_ASSERT(r == 0 || r == -ENOMEM);
    if (r == -ENOMEM) {
      KMC_ASSERT(p.dev->buffer.get() == nullptr && p.dev->nreaders.get() == 0);
      f->private_data = nullptr;  // not open: nothing to release
    }
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, SignalWhileWriterBlockedOnFullPipe) {
  // scullpipe/signal_while_blocked with a writer that also sleeps in
  // scull_getwritespace (4 bytes into 3): too large for an exhaustive or
  // even a 3-preemption bounded search, so 20,000 random executions.
  Scenario<WR> s("unit/signal_full_pipe", kSignals);
  s.Task("writer", [](WR& p) { WriteAll(p.wr, "abcd", 4, &p.put[0]); });
  s.Task("reader", [](WR& p) { ReadAll(p.rd, 4, 2, &p.got[0]); });
  s.check = [](WR& p) { KMC_ASSERT(p.got[0] == "abcd" && p.put[0] == "abcd"); };
  RunOptions options;
  options.search = SearchMode::kRandom;
  options.executions = 20000;
  const Result r = s.Run(options);
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_EQ(r.executions, 20000u);
}

TEST(ScullpipeUnit, InterruptedWriteReturnsWithoutTheLock) {
  // A writer asleep on a full pipe may get a signal: scull_getwritespace
  // returns -ERESTARTSYS with dev->sem released (the final check's lock
  // balance) and nothing written (the FIFO comparison).
  Scenario<WR> s("unit/interrupted_write", kSignals);
  s.Task("writer", [](WR& p) {
    WriteAll(p.wr, "abc", 3, &p.put[0]);
    const ssize_t n = Write(p.wr, "d");
    KMC_ASSERT(n == 1 || n == -ERESTARTSYS);
    if (n == 1) p.put[0] += "d";
  });
  s.Task("reader", [](WR& p) { ReadAll(p.rd, 1, 1, &p.got[0]); });
  s.check = [](WR& p) {
    CheckLockBalance(p);
    p.rd.f_flags |= O_NONBLOCK;
    while (Read(p.rd, 4, &p.got[0]) > 0) {
    }
    KMC_ASSERT(p.got[0] == p.put[0]);
  };
  EXPECT_CLEAN(s.Run());
}

}  // namespace
}  // namespace kmc
