// Tests of scullpipe, the pipe devices of the C module scull
// (drivers/scull/pipe.c), and its models (models/scullpipe_models.cc).
//
//   * one test per registered scullpipe model: its verdict, the search it
//     ran (clean models: exhaustive and complete, except the bounded
//     two_writers_one_reader), and for a failing model that its replay
//     prints the same report byte for byte;
//   * the seeded-bug scenarios run again with the bug bit cleared (and the
//     seed's read replaced by LDD3's) must be clean, so each model fails
//     because of its bug and nothing else;
//   * unit tests of the driver logic (open/release counting, discard on
//     open, wrap-around, poll, -EAGAIN, -EFAULT, -ENOMEM, signals, fasync,
//     ioctl), each run as a throwaway model that is not registered. They
//     load the module with insmod() and call it through the VFS
//     (sync/vfs.h); models/scullpipe_view.h shows them the device.

#include <fcntl.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "models/scullpipe_view.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/runner.h"
#include "sync/vfs.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling
using kmc::models::ScullPipeOf;
using kmc::models::ScullPipeView;
using vfs::File;
using ::kmc::testing::ExpectCleanAndComplete;
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

TEST(ScullpipeModels, TwoWritersOneReaderIsCleanAndExhaustive) {
  Result r = ExpectCleanAndComplete("scullpipe/two_writers_one_reader");
  EXPECT_EQ(r.search, SearchMode::kExhaustive);
  EXPECT_GT(r.executions, 5000u);  // 12,936: the bounded passes, then the reduced search
}

TEST(ScullpipeModels, Nonblocking) { ExpectCleanExhaustive("scullpipe/nonblocking"); }

TEST(ScullpipeModels, SignalWhileBlocked) {
  ExpectCleanExhaustive("scullpipe/signal_while_blocked");
}

TEST(ScullpipeModels, IfNotWhile) {
  ExpectReplayReproduces("scullpipe/if_not_while");
  Result r = ExpectMatch("scullpipe/if_not_while");
  EXPECT_TRUE(Contains(r.report, "drivers/scull/pipe.c")) << r.report;
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

// pipe_bugs bit n seeds PBn; scull's ioctl numbers for the pipe size.
constexpr unsigned kPipeIoctlMagic = 'k';
constexpr unsigned kScullPIocTSize = (kPipeIoctlMagic << 8) | 13;  // _IO('k', 13)
constexpr unsigned kScullPIocQSize = (kPipeIoctlMagic << 8) | 14;  // _IO('k', 14)

template <unsigned Bugs = 0, bool SeedRead = false>
struct Pipe {
  File* files[4] = {};  // three opens, and the access-mode-3 open of one test
  int nfiles = 0;
  std::string put[2];  // what each writer's writes accepted
  std::string got[2];  // what each reader's reads returned
  int results[4] = {0, 0, 0, 0};  // what a unit test wants the check to see

  Pipe() {
    std::string params = "scull_nr_devs=1 scull_p_nr_devs=1 scull_p_buffer=" +
                         std::to_string(kBuffer) + " pipe_bugs=" + std::to_string(Bugs);
    if (SeedRead) params += " pipe_seed_read=1";
    KMC_ASSERT(insmod("scull", params) == 0);
  }

  // Opens a file the test keeps in files[]; returns what open returned.
  int OpenFile(unsigned flags, File** out = nullptr) {
    int error = 0;
    File* filp = vfs::open(vfs::DeviceNumber("scullp"), flags, &error);
    files[nfiles++] = filp;
    if (out != nullptr) *out = filp;
    return filp != nullptr ? 0 : error;
  }
  File* Open(unsigned flags) {
    File* f = nullptr;
    BUG_ON(OpenFile(flags, &f) != 0);
    return f;
  }
  void Close(File*& filp) {
    KMC_ASSERT(vfs::close(filp) == 0);
    for (File*& f : files) {
      if (f == filp) f = nullptr;
    }
    filp = nullptr;
  }
  // The device, through any file still open, or as a test noted it (the
  // array lives until module exit); nullptr when no open succeeded.
  ScullPipeView* dev() {
    for (File* f : files) {
      if (f != nullptr) return ScullPipeOf(f);
    }
    return dev_;
  }
  ScullPipeView* dev_ = nullptr;
};

ssize_t Write(File* filp, const std::string& data) {
  UserBuffer ub(data);
  return vfs::write(filp, ub.ptr(), ub.size());
}

ssize_t Read(File* filp, size_t count, std::string* out = nullptr) {
  UserBuffer ub(count, '.');
  const ssize_t n = vfs::read(filp, ub.ptr(), count);
  if (n > 0 && out != nullptr) *out += ub.str(static_cast<size_t>(n));
  return n;
}

// Blocking writer: puts all of `data`, `chunk` bytes per call.
void WriteAll(File* filp, const std::string& data, size_t chunk, std::string* put) {
  while (put->size() < data.size()) {
    const ssize_t n = Write(filp, data.substr(put->size(), chunk));
    if (n == -ERESTARTSYS) continue;  // the system call is restarted
    KMC_ASSERT(n >= 1);
    *put += data.substr(put->size(), static_cast<size_t>(n));
  }
}

// Blocking reader: gets `total` bytes, `count` per call.
void ReadAll(File* filp, size_t total, size_t count, std::string* got) {
  while (got->size() < total) {
    const ssize_t n = Read(filp, count, got);
    if (n == -ERESTARTSYS) continue;
    KMC_ASSERT(n >= 1);
  }
}

// The lock is free, with a count of exactly 1.
template <class P>
void CheckLockBalance(P& p) {
  if (p.dev() == nullptr) return;  // no open ever succeeded
  semaphore* sem = p.dev()->lock();
  KMC_ASSERT(down_trylock(sem) == 0);
  KMC_ASSERT(down_trylock(sem) == 1);
  up(sem);
}

// readable + spacefree == buffersize - 1 (docs/DRIVERS.md, scullpipe invariants (2)).
template <class P>
void CheckCounts(P& p) {
  ScullPipeView* d = p.dev();
  KMC_ASSERT(d->readable() + d->spacefree() == d->buffersize - 1);
}

// Closes every file still open, checks the buffer went with the last one;
// module exit follows.
template <class P>
void CloseAllAndUnload(P& p) {
  CheckLockBalance(p);
  ScullPipeView* d = p.dev();
  if (d == nullptr) return;  // no open ever succeeded
  for (File*& f : p.files) {
    if (f != nullptr) p.Close(f);
  }
  KMC_ASSERT(d->nreaders == 0 && d->nwriters == 0);
  KMC_ASSERT(d->buffer == nullptr);
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
  File* wr = Open(O_WRONLY);
  File* rd = Open(O_RDONLY);
};

TEST(ScullpipeFixed, WhileRetestsAfterWaking) {  // PB2 cleared
  struct F : Pipe<> {
    File* wr = Open(O_WRONLY);
    File* rd0 = Open(O_RDONLY);
    File* rd1 = Open(O_RDONLY);
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

TEST(ScullpipeFixed, RecheckAfterPrepareToWait) {  // PB3 cleared
  Scenario<WR> s("fixed/recheck");
  s.Task("writer", [](WR& p) { WriteAll(p.wr, "abcd", 4, &p.put[0]); });
  s.Task("reader", [](WR& p) { ReadAll(p.rd, 4, 4, &p.got[0]); });
  s.check = [](WR& p) { KMC_ASSERT(p.got[0] == "abcd"); };
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeFixed, NonblockingWriterUnlocksOnce) {  // PB7 cleared
  struct F : Pipe<> {
    File* wr = Open(O_WRONLY | O_NONBLOCK);
    File* rd = Open(O_RDONLY);
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
    p.rd->f_flags |= O_NONBLOCK;
    while (Read(p.rd, 4, &p.got[0]) > 0) {
    }
    KMC_ASSERT(p.got[0] == p.put[0]);
  };
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeFixed, LddReadInSeedScenario) {  // scullpipe/seed_read with LDD3's read
  Scenario<WR> s("fixed/ldd3_read");
  s.Task("writer", [](WR& p) { WriteAll(p.wr, "ab", 1, &p.put[0]); });
  s.Task("reader", [](WR& p) { ReadAll(p.rd, 2, 2, &p.got[0]); });
  s.check = [](WR& p) { KMC_ASSERT(p.got[0] == "ab"); };
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeFixed, SeedReadIsFineWhenThePipeIsNeverEmpty) {
  // The seed's two up()s only run on an empty pipe: with the data already
  // there, its read is LDD3's.
  struct F : Pipe<0, /*SeedRead=*/true> {
    File* wr = Open(O_WRONLY);
    File* rd = Open(O_RDONLY);
  };
  Scenario<F> s("fixed/seed_read_nonempty");
  s.Task("reader", [](F& p) {
    KMC_ASSERT(Write(p.wr, "abc") == 3);
    ReadAll(p.rd, 3, 4, &p.got[0]);
  });
  s.check = [](F& p) { KMC_ASSERT(p.got[0] == "abc"); };
  EXPECT_CLEAN(s.Run());
}

// ---------------------------------------------------------------------------
// Unit tests of the driver logic.

TEST(ScullpipeUnit, OpenReleaseCountsAndBuffer) {
  Scenario<Pipe<>> s("unit/open_release");
  s.Task("t", [](Pipe<>& p) {
    File* r = nullptr;
    File* w = nullptr;
    File* rw = nullptr;
    KMC_ASSERT(p.OpenFile(O_RDONLY, &r) == 0);
    ScullPipeView* d = p.dev_ = ScullPipeOf(r);
    char* const buffer = d->buffer;
    KMC_ASSERT(buffer != nullptr);
    KMC_ASSERT(d->end == buffer + kBuffer && d->buffersize == kBuffer);
    KMC_ASSERT(p.OpenFile(O_WRONLY, &w) == 0);
    KMC_ASSERT(p.OpenFile(O_RDWR, &rw) == 0);
    KMC_ASSERT(d->buffer == buffer);                       // allocated once
    KMC_ASSERT(d->nreaders == 2 && d->nwriters == 2);       // f_mode, not f_flags
    p.Close(rw);
    KMC_ASSERT(d->nreaders == 1 && d->nwriters == 1);
    p.Close(r);
    KMC_ASSERT(d->buffer == buffer);
    p.Close(w);
    KMC_ASSERT(d->buffer == nullptr);  // the last release frees it
    // An open with access mode 3 has neither FMODE_READ nor FMODE_WRITE: it
    // allocates the buffer without counting (docs/DRIVERS.md, scullpipe invariants (4)), and its
    // release frees it.
    File* odd = nullptr;
    KMC_ASSERT(p.OpenFile(O_ACCMODE, &odd) == 0);
    KMC_ASSERT(d->buffer != nullptr);
    KMC_ASSERT(d->nreaders == 0 && d->nwriters == 0);
    p.Close(odd);
    KMC_ASSERT(d->buffer == nullptr);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, OpenDiscardsBufferedData) {  // PB9: real behaviour
  Scenario<WR> s("unit/open_discards");
  s.Task("t", [](WR& p) {
    KMC_ASSERT(Write(p.wr, "ab") == 2);
    KMC_ASSERT(p.dev()->readable() == 2);
    p.Open(O_RDONLY | O_NONBLOCK);  // rp = wp = buffer
    KMC_ASSERT(p.dev()->readable() == 0);
    p.rd->f_flags |= O_NONBLOCK;
    KMC_ASSERT(Read(p.rd, 4) == -EAGAIN);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, WrapAroundAndContiguousChunks) {
  Scenario<WR> s("unit/wrap");
  s.Task("t", [](WR& p) {
    ScullPipeView* d = p.dev();
    char* const buffer = d->buffer;
    std::string got;
    KMC_ASSERT(Write(p.wr, "abcd") == 3);  // spacefree is buffersize - 1
    CheckCounts(p);
    KMC_ASSERT(d->spacefree() == 0);
    KMC_ASSERT(Read(p.rd, 2, &got) == 2 && got == "ab");
    CheckCounts(p);
    // wp >= rp: a write goes up to the end of the buffer only.
    KMC_ASSERT(Write(p.wr, "de") == 1);
    KMC_ASSERT(d->wp == buffer);  // wrapped
    CheckCounts(p);
    // wp < rp: a write fills up to rp - 1.
    KMC_ASSERT(Write(p.wr, "ef") == 1);
    KMC_ASSERT(d->spacefree() == 0);
    CheckCounts(p);
    // The data wraps: one read returns one contiguous chunk, up to end.
    KMC_ASSERT(d->readable() == 3);
    KMC_ASSERT(Read(p.rd, 4, &got) == 2 && got == "abcd");
    KMC_ASSERT(d->rp == buffer);  // wrapped
    KMC_ASSERT(Read(p.rd, 4, &got) == 1 && got == "abcde");
    KMC_ASSERT(d->rp == d->wp);
    // count == 0 returns 0 even with data present.
    KMC_ASSERT(Write(p.wr, "x") == 1);
    KMC_ASSERT(Read(p.rd, 0) == 0);
    KMC_ASSERT(d->readable() == 1);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, PollMask) {
  Scenario<WR> s("unit/poll");
  s.Task("t", [](WR& p) {
    int queued = 0;
    KMC_ASSERT(vfs::poll(p.rd, &queued) == (POLLOUT | POLLWRNORM));
    KMC_ASSERT(queued == 2);  // inq and outq
    KMC_ASSERT(Write(p.wr, "a") == 1);
    KMC_ASSERT(vfs::poll(p.rd) == (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM));
    KMC_ASSERT(Write(p.wr, "bc") == 2);
    KMC_ASSERT(vfs::poll(p.rd) == (POLLIN | POLLRDNORM));
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, NonblockingNeverSleeps) {
  struct F : Pipe<> {
    File* wr = Open(O_WRONLY | O_NONBLOCK);
    File* rd = Open(O_RDONLY | O_NONBLOCK);
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

TEST(ScullpipeUnit, NoSeek) {
  Scenario<WR> s("unit/llseek");
  s.Task("t", [](WR& p) { KMC_ASSERT(vfs::llseek(p.rd, 0, 0) == -ESPIPE); });  // no_llseek
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, UserFaults) {
  Scenario<WR> s("unit/efault", kUserFault);
  s.Task("t", [](WR& p) {
    ScullPipeView* d = p.dev();
    char* const wp = d->wp;
    const ssize_t w = Write(p.wr, "ab");
    KMC_ASSERT(w == 2 || w == -EFAULT);
    if (w == -EFAULT) {
      KMC_ASSERT(d->wp == wp);  // nothing accepted
      return;
    }
    char* const rp = d->rp;
    std::string got;
    const ssize_t r = Read(p.rd, 2, &got);
    KMC_ASSERT(r == 2 || r == -EFAULT);
    if (r == -EFAULT) KMC_ASSERT(d->rp == rp);  // nothing consumed
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, OpenAllocationFailure) {
  Scenario<Pipe<>> s("unit/enomem", kAllocFailure);
  s.Task("t", [](Pipe<>& p) {
    File* f = nullptr;
    const int r = p.OpenFile(O_RDONLY, &f);
    KMC_ASSERT(r == 0 || r == -ENOMEM);
    if (r == -ENOMEM) {
      KMC_ASSERT(f == nullptr);  // not open: nothing to release
      // The failed open left no trace: the next one that succeeds is the
      // only reader, with a fresh buffer.
      if (p.OpenFile(O_RDONLY, &f) != 0) return;
    }
    p.dev_ = ScullPipeOf(f);
    KMC_ASSERT(p.dev_->buffer != nullptr && p.dev_->nreaders == 1);
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
    p.rd->f_flags |= O_NONBLOCK;
    while (Read(p.rd, 4, &p.got[0]) > 0) {
    }
    KMC_ASSERT(p.got[0] == p.put[0]);
  };
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, FasyncListFollowsTheFiles) {
  // fcntl(F_SETFL, FASYNC) calls fops->fasync(fd, filp, 1): the file goes on
  // dev->async_queue (a kmalloc'd entry), a write signals it, and release
  // takes it off again (else kmemleak would report the entry at module
  // exit).
  Scenario<WR> s("unit/fasync");
  s.Task("t", [](WR& p) {
    ScullPipeView* d = p.dev_ = p.dev();
    KMC_ASSERT(p.rd->f_op->fasync(3, p.rd, 1) == 1);
    KMC_ASSERT(d->async_queue != nullptr && (p.rd->f_flags & FASYNC) != 0);
    KMC_ASSERT(p.rd->f_op->fasync(4, p.rd, 1) == 0);  // already on the list
    KMC_ASSERT(Write(p.wr, "a") == 1);                 // kill_fasync(SIGIO, POLL_IN)
    p.Close(p.rd);
    KMC_ASSERT(d->async_queue == nullptr);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(ScullpipeUnit, ResizeIoctlAppliesToTheNextAllocation) {
  // SCULL_P_IOCTSIZE sets scull_p_buffer (scull's ioctl, shared by the pipe
  // devices); SCULL_P_IOCQSIZE reads it back. The open buffer keeps its
  // allocation until the last release.
  Scenario<Pipe<>> s("unit/ioctl_size");
  s.Task("t", [](Pipe<>& p) {
    File* f = p.Open(O_RDWR);
    p.dev_ = ScullPipeOf(f);
    KMC_ASSERT(vfs::ioctl(f, kScullPIocQSize, 0) == kBuffer);
    KMC_ASSERT(vfs::ioctl(f, kScullPIocTSize, 8) == 0);
    KMC_ASSERT(vfs::ioctl(f, kScullPIocQSize, 0) == 8);
    p.Close(f);
    f = p.Open(O_RDWR);
    KMC_ASSERT(p.dev_->buffersize == 8);
    KMC_ASSERT(Write(f, "abcdefgh") == 7);
    std::string got;
    KMC_ASSERT(Read(f, 8, &got) == 7 && got == "abcdefg");
  });
  EXPECT_CLEAN(s.Run());
}

}  // namespace
}  // namespace kmc
