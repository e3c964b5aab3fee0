// Models of scullpipe, LDD3's blocking FIFO (drivers/scull/pipe.c, a file of
// the C module scull; spec: docs/DRIVERS.md, scullpipe): four clean
// scenarios and one per seeded bug (PB2, PB3, PB4, PB5, PB7, "scullpipe
// seeded bugs"), plus the reading notes' scull_p_read.
//
// Every model loads the module with one pipe device and a 4-byte buffer
// (insmod("scull", "... scull_p_nr_devs=1 scull_p_buffer=4 pipe_bugs=...")):
// three usable bytes, one slot always kept free, so a 4-byte stream already
// fills the pipe, blocks the writer and wraps both pointers. The fixture
// constructor is insmod plus the open(2)s: the files are opened before the
// tasks start, so the documented discard of buffered data on open
// (docs/DRIVERS.md, scullpipe behaviour, PB9) never drops bytes a model
// counts. Tasks read and write through the VFS (sync/vfs.h); the final
// check checks the lock, the FIFO and the pipe, closes every file as the
// processes exit (the counters go back to 0 and the last release frees the
// buffer); module exit follows, and everything kmalloc'd must be freed by
// then, or kmemleak reports it. Closing in the tasks would be more realistic
// but adds four scheduling points per model, which would put the clean
// models out of reach of an exhaustive search; the release paths are
// unit-tested in tests/scullpipe_test.cc. The final check reads the device
// through models/scullpipe_view.h.
//
// The FIFO ghost (docs/DRIVERS.md, scullpipe invariants (3)). Writer w writes a prefix of
// its own alphabet kStream[w] ("abcdefgh" or "ABCDEFGH"), so every byte
// names its writer and its position in that writer's stream. Each reader
// records what its reads returned: on the spot, every byte must come from a
// writer (nothing invented: kmalloc poison is 0x5a 'Z', neither alphabet has
// it) and, per writer, must come later in that writer's stream than the
// reader's previous byte from it (order kept, no duplicate). The final check
// adds that, over all readers, each writer's accepted bytes were read
// exactly once (nothing lost or duplicated). The ghost is plain model state:
// it has no scheduling points and each field is written by one task.

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "models/scullpipe_view.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;  // NOLINT: kernel spelling
using vfs::File;

constexpr int kBuffer = 4;  // scull_p_buffer: 3 usable bytes
constexpr int kWriters = 2;
constexpr int kReaders = 3;  // the last slot is the final check's drain
constexpr int kDrain = kReaders - 1;
constexpr const char* kStream[kWriters] = {"abcdefgh", "ABCDEFGH"};

// The FIFO ghost.
struct Ghost {
  size_t accepted[kWriters] = {0, 0};  // bytes of kStream[w] write() accepted
  std::string got[kReaders];           // bytes each reader received, in order
  int last[kReaders][kWriters] = {{-1, -1}, {-1, -1}, {-1, -1}};
  int64_t sizes[kReaders] = {};  // each read's byte count, one digit per read
};

// The writer and stream position of byte c, or false when no writer writes c.
bool Origin(char c, int* w, int* pos) {
  for (int i = 0; i < kWriters; ++i) {
    const char* p = std::strchr(kStream[i], c);
    if (c != '\0' && p != nullptr) {
      *w = i;
      *pos = static_cast<int>(p - kStream[i]);
      return true;
    }
  }
  return false;
}

// Reader r received `n` bytes: check them and record them.
void Received(Ghost& g, int r, UserBuffer& ub, ssize_t n) {
  for (ssize_t i = 0; i < n; ++i) {
    int w = 0, pos = 0;
    const bool written_by_a_writer = Origin(ub[i], &w, &pos);
    KMC_ASSERT(written_by_a_writer);
    const bool in_writer_order_and_not_duplicated = pos > g.last[r][w];
    KMC_ASSERT(in_writer_order_and_not_duplicated);
    g.last[r][w] = pos;
    g.got[r] += ub[i];
  }
}

// Over all readers, each writer's accepted bytes were read exactly once.
void CheckFifo(const Ghost& g) {
  for (int w = 0; w < kWriters; ++w) {
    std::vector<int> seen;
    for (const std::string& got : g.got) {
      for (char c : got) {
        int from = 0, pos = 0;
        if (Origin(c, &from, &pos) && from == w) seen.push_back(pos);
      }
    }
    std::sort(seen.begin(), seen.end());
    bool each_accepted_byte_read_exactly_once = seen.size() == g.accepted[w];
    for (size_t i = 0; i < seen.size(); ++i) {
      if (seen[i] != static_cast<int>(i)) each_accepted_byte_read_exactly_once = false;
    }
    KMC_ASSERT(each_accepted_byte_read_exactly_once);
  }
}

// Seeded bugs: pipe_bugs bit n seeds PBn (drivers/scull/pipe.c).
constexpr unsigned kPB2 = 1u << 2, kPB3 = 1u << 3, kPB4 = 1u << 4, kPB5 = 1u << 5,
                   kPB7 = 1u << 7;

// The module's parameters for one pipe device with `bugs` seeded.
std::string PipeParams(unsigned bugs, bool seed_read = false) {
  std::string p = "scull_nr_devs=1 scull_p_nr_devs=1 scull_p_buffer=" + std::to_string(kBuffer) +
                  " pipe_bugs=" + std::to_string(bugs);
  if (seed_read) p += " pipe_seed_read=1";
  return p;
}

// scull loaded with one pipe device and `Bugs` seeded in it.
template <unsigned Bugs = 0, bool SeedRead = false>
struct Pipe {
  Ghost g;

  Pipe() { KMC_ASSERT(insmod("scull", PipeParams(Bugs, SeedRead)) == 0); }

  // open(2) of scullpipe0, at setup (before the tasks start).
  File* Open(unsigned flags) {
    BUG_ON(nfiles == kMaxFiles);
    File* filp = vfs::open(vfs::DeviceNumber("scullp"), flags);
    BUG_ON(filp == nullptr);
    files[nfiles++] = filp;
    return filp;
  }

  // The device (struct scull_pipe), through the first file.
  ScullPipeView* dev() { return ScullPipeOf(files[0]); }

  // close(2) of every file, as the processes exit (in the final check).
  void CloseAll() {
    for (int i = 0; i < nfiles; ++i) KMC_ASSERT(vfs::close(files[i]) == 0);
    nfiles = 0;
  }

  static constexpr int kMaxFiles = 3;
  File* files[kMaxFiles] = {};
  int nfiles = 0;
};

// write(2) of the next `chunk` bytes (at most) of writer w's stream, up to
// `len` bytes in all. Returns what scull_p_write returned.
template <class P>
ssize_t WriteOnce(P& p, File* filp, int w, size_t len, size_t chunk) {
  const size_t done = p.g.accepted[w];
  const size_t n = min(chunk, len - done);
  UserBuffer ub(std::string(kStream[w] + done, n));
  const ssize_t r = vfs::write(filp, ub.ptr(), n);
  const bool write_result_in_range = r == -EAGAIN || r == -ERESTARTSYS ||
                                     (r >= 1 && r <= static_cast<ssize_t>(n));
  KMC_ASSERT(write_result_in_range);  // inv 7: n >= 1 unless it fails
  if (r > 0) p.g.accepted[w] += static_cast<size_t>(r);
  return r;
}

// A blocking writer putting `len` bytes of its stream, `chunk` bytes per
// call. A call interrupted by a signal (-ERESTARTSYS) is restarted, as the
// kernel restarts the system call.
template <class P>
void WriteStream(P& p, File* filp, int w, size_t len, size_t chunk) {
  while (p.g.accepted[w] < len) {
    const ssize_t r = WriteOnce(p, filp, w, len, chunk);
    KMC_ASSERT(r != -EAGAIN);  // a blocking write sleeps instead
  }
}

// read(2) of at most `count` bytes by reader r. Returns what the read
// returned.
template <class P>
ssize_t ReadOnce(P& p, File* filp, int r, size_t count) {
  UserBuffer ub(count, '.');
  const ssize_t n = vfs::read(filp, ub.ptr(), count);
  const bool read_result_in_range = n == -EAGAIN || n == -ERESTARTSYS ||
                                    (n >= 1 && n <= static_cast<ssize_t>(count));
  KMC_ASSERT(read_result_in_range);  // inv 7: n >= 1 unless it fails
  if (n > 0) {
    Received(p.g, r, ub, n);
    p.g.sizes[r] = p.g.sizes[r] * 10 + n;
  }
  return n;
}

// A blocking reader that reads until it has `total` bytes, `count` per call;
// interrupted calls are restarted.
template <class P>
void ReadStream(P& p, File* filp, int r, size_t total, size_t count) {
  while (p.g.got[r].size() < total) {
    const ssize_t n = ReadOnce(p, filp, r, count);
    KMC_ASSERT(n != -EAGAIN);  // a blocking read sleeps instead
  }
}

// The lock is free and its count is exactly 1 (inv 5: lock balance).
template <class P>
void CheckLockBalance(P& p) {
  semaphore* sem = p.dev()->lock();
  const bool sem_free = down_trylock(sem) == 0;
  KMC_ASSERT(sem_free);
  const bool sem_count_was_exactly_one = down_trylock(sem) == 1;
  KMC_ASSERT(sem_count_was_exactly_one);
  up(sem);
}

// Drains the pipe through `rd` with non-blocking reads (in the final check:
// no task runs any more, so a sleep could never end; kmc would report it).
template <class P>
void Drain(P& p, File* rd) {
  const unsigned flags = rd->f_flags;
  rd->f_flags |= O_NONBLOCK;  // fcntl(F_SETFL)
  while (ReadOnce(p, rd, kDrain, kBuffer) > 0) {
  }
  rd->f_flags = flags;
}

// The final check: the lock is free, the FIFO holds (after draining through
// `drain` when the readers may have left bytes behind), the pipe is empty;
// then the processes exit (every file is closed: the counters go back to 0
// and the last release frees the buffer); module exit follows the check.
template <class P>
void CheckAndUnload(P& p, File* drain = nullptr) {
  // What the readers got, and in which pieces: the reduced search must see
  // every outcome the unreduced one sees (tests/por_test.cc).
  for (int r = 0; r < kDrain; ++r) {
    int64_t bytes = 0;
    for (char c : p.g.got[r]) bytes = bytes * 256 + static_cast<unsigned char>(c);
    Observe(r == 0 ? "reader0_bytes" : "reader1_bytes", bytes);
    Observe(r == 0 ? "reader0_reads" : "reader1_reads", p.g.sizes[r]);
  }
  CheckLockBalance(p);
  if (drain != nullptr) Drain(p, drain);
  CheckFifo(p.g);
  ScullPipeView* dev = p.dev();
  KMC_ASSERT(dev->rp == dev->wp);  // everything accepted was read
  p.CloseAll();
  KMC_ASSERT(dev->nreaders == 0 && dev->nwriters == 0);
  KMC_ASSERT(dev->buffer == nullptr);  // inv 4: freed on the last release
}

// ---------------------------------------------------------------------------
// Clean scenarios.

struct OneWriterOneReader : Pipe<> {
  File* wr = Open(O_WRONLY);
  File* rd = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/one_writer_one_reader") {
  auto f = m.Fixture<OneWriterOneReader>();
  m.Describe("clean scullpipe: a writer puts 4 bytes through a 3-byte pipe (it blocks on the "
             "full pipe, both pointers wrap), a reader takes them; FIFO ghost, no leak");
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, [](OneWriterOneReader& p) { WriteStream(p, p.wr, 0, 4, 4); });
  f.Task("reader", 1, [](OneWriterOneReader& p) { ReadStream(p, p.rd, 0, 4, 4); });
  f.Check([](OneWriterOneReader& p) { CheckAndUnload(p); });
}

struct TwoWritersOneReader : Pipe<> {
  File* wr0 = Open(O_WRONLY);
  File* wr1 = Open(O_WRONLY);
  File* rd = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/two_writers_one_reader") {
  auto f = m.Fixture<TwoWritersOneReader>();
  m.Describe("clean scullpipe: two writers (\"ab\", \"AB\": one of them blocks on the full "
             "pipe) and a reader; the reader gets an order-preserving interleaving of both "
             "streams, nothing lost or invented");
  m.Expect(Verdict::kClean);
  // The unreduced search of three tasks does not finish (300,000
  // executions are far from it); the reduced one (source-set DPOR)
  // completes in 11,232 executions (tests/bench/search_benchmark.cc).
  m.DefaultSearch(SearchMode::kExhaustive);
  m.Large();  // kmc check --jobs=N splits its search into N shards
  f.Task("writer0", 0, [](TwoWritersOneReader& p) { WriteStream(p, p.wr0, 0, 2, 2); });
  f.Task("writer1", 1, [](TwoWritersOneReader& p) { WriteStream(p, p.wr1, 1, 2, 2); });
  f.Task("reader", 1, [](TwoWritersOneReader& p) { ReadStream(p, p.rd, 0, 4, 4); });
  f.Check([](TwoWritersOneReader& p) { CheckAndUnload(p); });
}

struct NonBlocking : Pipe<> {
  File* wr = Open(O_WRONLY | O_NONBLOCK);
  File* rd = Open(O_RDONLY | O_NONBLOCK);
};

KMC_MODEL("scullpipe/nonblocking") {
  auto f = m.Fixture<NonBlocking>();
  m.Describe("O_NONBLOCK: a read of an empty pipe and a write to a full one return -EAGAIN "
             "instead of sleeping; concurrent non-blocking reads and writes keep the FIFO");
  m.Expect(Verdict::kClean);
  f.Task("writer", 0, [](NonBlocking& p) {
    for (int attempt = 0; attempt < 3 && p.g.accepted[0] < 5; ++attempt) {
      KMC_ASSERT(WriteOnce(p, p.wr, 0, 5, 5) != -ERESTARTSYS);
    }
  });
  f.Task("reader", 1, [](NonBlocking& p) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      KMC_ASSERT(ReadOnce(p, p.rd, 0, 4) != -ERESTARTSYS);
    }
  });
  f.Check([](NonBlocking& p) {
    Drain(p, p.rd);
    CheckFifo(p.g);
    // No task runs any more, so a sleep could never end (kmc would report
    // it): O_NONBLOCK must get -EAGAIN. Empty pipe: reads fail, poll says
    // writable only.
    int queued = 0;
    KMC_ASSERT(vfs::poll(p.rd, &queued) == (POLLOUT | POLLWRNORM) && queued == 2);
    UserBuffer one(1);
    KMC_ASSERT(vfs::read(p.rd, one.ptr(), 1) == -EAGAIN);
    // Fill it (3 bytes, in one or two writes depending on where wp is):
    // writes fail, poll says readable only.
    const size_t before = p.g.accepted[0];
    while (WriteOnce(p, p.wr, 0, 8, 8) > 0) {
    }
    KMC_ASSERT(p.g.accepted[0] == before + kBuffer - 1);
    KMC_ASSERT(vfs::poll(p.wr) == (POLLIN | POLLRDNORM));
    CheckAndUnload(p, p.rd);
  });
}

struct SignalWhileBlocked : Pipe<> {
  File* wr = Open(O_WRONLY);
  File* rd = Open(O_RDONLY);
  int interrupted_reads = 0;
};

KMC_MODEL("scullpipe/signal_while_blocked") {
  auto f = m.Fixture<SignalWhileBlocked>();
  m.Describe("signals: a read interrupted while it sleeps on inq (or on dev->sem) returns "
             "-ERESTARTSYS without the lock and without consuming data; the restarted read "
             "finds the pipe intact");
  m.Expect(Verdict::kClean);
  // The writer's 3 bytes fit: with a writer that also blocks on a full
  // pipe the search no longer finishes (tests/scullpipe_test.cc runs that
  // scenario with a bounded search).
  m.Enable(kSignals);
  f.Task("writer", 0, [](SignalWhileBlocked& p) {
    WriteStream(p, p.wr, 0, 3, 3);
  });
  f.Task("reader", 1, [](SignalWhileBlocked& p) {
    while (p.g.got[0].size() < 3) {
      const size_t before = p.g.got[0].size();
      const ssize_t n = ReadOnce(p, p.rd, 0, 2);
      if (n == -ERESTARTSYS) {
        p.interrupted_reads++;
        KMC_ASSERT(p.g.got[0].size() == before);  // nothing consumed
      }
    }
  });
  f.Check([](SignalWhileBlocked& p) {
    KMC_ASSERT(p.interrupted_reads <= 1);  // SignalsPerTask
    CheckAndUnload(p);
  });
}

// ---------------------------------------------------------------------------
// PB2: `if` instead of `while` in scull_p_read.

struct IfNotWhile : Pipe<kPB2> {
  File* wr = Open(O_WRONLY);
  File* rd0 = Open(O_RDONLY);
  File* rd1 = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/if_not_while") {
  auto f = m.Fixture<IfNotWhile>();
  m.Describe("PB2: scull_p_read tests rp == wp with `if`, not `while`; two readers wake for one "
             "byte and the loser reads an empty buffer (stale bytes, rp past wp)");
  m.Expect({Verdict::kAssertionFailed, Verdict::kDataRace});
  f.Task("writer", 0, [](IfNotWhile& p) {
    WriteStream(p, p.wr, 0, 2, 1);  // "a", then "b": two writes
  });
  f.Task("reader0", 1, [](IfNotWhile& p) {
    ReadStream(p, p.rd0, 0, 1, 1);
  });
  f.Task("reader1", 1, [](IfNotWhile& p) {
    ReadStream(p, p.rd1, 1, 1, 1);
  });
  f.Check([](IfNotWhile& p) { CheckAndUnload(p); });
}

// ---------------------------------------------------------------------------
// PB3: scull_getwritespace sleeps without re-checking after prepare_to_wait.

struct LostWakeup : Pipe<kPB3> {
  File* wr = Open(O_WRONLY);
  File* rd = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/lost_wakeup") {
  auto f = m.Fixture<LostWakeup>();
  m.Describe("PB3: scull_getwritespace drops the re-check after prepare_to_wait; the reader "
             "empties the pipe in the window and the writer sleeps forever with space free");
  m.Expect(Verdict::kDeadlock);
  f.Task("writer", 0, [](LostWakeup& p) {
    WriteStream(p, p.wr, 0, 4, 4);  // 3 bytes fit, the 4th waits for space
  });
  f.Task("reader", 1, [](LostWakeup& p) {
    ReadStream(p, p.rd, 0, 4, 4);
  });
  f.Check([](LostWakeup& p) { CheckAndUnload(p); });
}

// ---------------------------------------------------------------------------
// PB4: scull_p_write wakes the readers before it publishes the data.

struct WakeBeforePublish : Pipe<kPB4> {
  File* wr = Open(O_WRONLY);
  File* rd = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/wake_before_publish") {
  auto f = m.Fixture<WakeBeforePublish>();
  m.Describe("PB4: scull_p_write calls wake_up_interruptible(&dev->inq) before the data and wp "
             "are published; a reader that checks in between sleeps and is never woken");
  m.Expect(Verdict::kDeadlock);
  f.Task("writer", 0, [](WakeBeforePublish& p) {
    WriteStream(p, p.wr, 0, 2, 2);
  });
  f.Task("reader", 1, [](WakeBeforePublish& p) {
    ReadStream(p, p.rd, 0, 2, 2);
  });
  f.Check([](WakeBeforePublish& p) { CheckAndUnload(p); });
}

// ---------------------------------------------------------------------------
// PB5: scull_p_read sleeps holding dev->sem.

struct SleepHoldingLock : Pipe<kPB5> {
  File* wr = Open(O_WRONLY);
  File* rd = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/sleep_holding_lock") {
  auto f = m.Fixture<SleepHoldingLock>();
  m.Describe("PB5: scull_p_read waits on inq without up(&dev->sem); the writer that would "
             "wake it blocks on the semaphore");
  m.Expect(Verdict::kDeadlock);
  f.Task("writer", 0, [](SleepHoldingLock& p) {
    WriteStream(p, p.wr, 0, 1, 1);
  });
  f.Task("reader", 1, [](SleepHoldingLock& p) {
    ReadStream(p, p.rd, 0, 1, 1);
  });
  f.Check([](SleepHoldingLock& p) { CheckAndUnload(p); });
}

// ---------------------------------------------------------------------------
// PB7: scull_p_write up()s again after scull_getwritespace failed.
//
// As for seed_read, the extra up() is legal for a semaphore, so "lock
// misuse" cannot come from it; the bug shows as broken mutual exclusion
// (a data race) or as the lock-balance assertion of the final check.

struct DoubleUnlock : Pipe<kPB7> {
  File* wr = Open(O_WRONLY | O_NONBLOCK);
  File* rd = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/double_unlock") {
  auto f = m.Fixture<DoubleUnlock>();
  m.Describe("PB7: after scull_getwritespace returns -EAGAIN (lock already released) "
             "scull_p_write up()s again; the semaphore then admits two tasks at once");
  m.Expect({Verdict::kLockMisuse, Verdict::kAssertionFailed, Verdict::kDataRace});
  f.Task("writer", 0, [](DoubleUnlock& p) {  // non-blocking: -EAGAIN on a full pipe
    for (int attempt = 0; attempt < 3 && p.g.accepted[0] < 5; ++attempt) {
      WriteOnce(p, p.wr, 0, 5, 5);
    }
  });
  f.Task("reader", 1, [](DoubleUnlock& p) { ReadStream(p, p.rd, 0, 3, 4); });
  f.Check([](DoubleUnlock& p) { CheckAndUnload(p, p.rd); });
}

// ---------------------------------------------------------------------------
// SEED-002's scull_p_read: two up()s on an empty pipe.
//
// Verdicts: the kernel has no check for an extra up() (a semaphore may be
// up()ed by anyone), so the double release itself is silent, and so is it
// in kmc. What it breaks is mutual exclusion: once the count is 2, the
// reader re-takes dev->sem while the writer holds it, and reads dev->wp as
// the writer updates it (data race in scull_p_read_seed002); in the
// interleavings where the two never overlap, the final check finds the
// count left at 2 (assertion sem_count_was_exactly_one). The exhaustive
// search meets the assertion first; random searches find both.

struct SeedRead : Pipe<0, /*SeedRead=*/true> {
  File* wr = Open(O_WRONLY);
  File* rd = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/seed_read") {
  auto f = m.Fixture<SeedRead>();
  m.Describe("SEED-002's scull_p_read (not LDD3's): up(&dev->sem) twice when the pipe is empty, "
             "so the semaphore count reaches 2 and reader and writer share the critical section");
  m.Expect({Verdict::kDataRace, Verdict::kAssertionFailed});
  f.Task("writer", 0, [](SeedRead& p) {
    WriteStream(p, p.wr, 0, 2, 1);
  });
  f.Task("reader", 1, [](SeedRead& p) {
    ReadStream(p, p.rd, 0, 2, 2);  // pipe_seed_read=1: scull_p_read_seed002
  });
  f.Check([](SeedRead& p) { CheckAndUnload(p); });
}

}  // namespace
}  // namespace kmc::models
