// Models of scullpipe, LDD3's blocking FIFO (drivers/scullpipe, spec:
// docs/DRIVERS.md, scullpipe): four clean scenarios and one per
// seeded bug (PB2, PB3, PB4, PB5, PB7, "scullpipe seeded bugs"), plus SEED-002's
// scull_p_read.
//
// Every model loads one pipe device with a 4-byte buffer (scull_p_buffer=4:
// three usable bytes, one slot always kept free), so a 4-byte stream already
// fills the pipe, blocks the writer and wraps both pointers. The fixture
// constructor is `insmod` plus the open(2)s: the files are opened before the
// tasks start, so the documented discard of buffered data on open
// (docs/DRIVERS.md, scullpipe behaviour, PB9) never drops bytes a model counts. Tasks
// read and write; the final check checks the lock, the FIFO and the pipe,
// closes every file as the processes exit (the counters go back to 0 and the
// last release frees the buffer) and unloads the module (everything
// kmalloc'd must be freed by then, or kmemleak reports it). Closing in the
// tasks would be more realistic but adds four scheduling points per model,
// which would put the clean models out of reach of an exhaustive search;
// the release paths are unit-tested in tests/scullpipe_test.cc.
//
// The FIFO ghost (docs/DRIVERS.md, scullpipe invariants (3)). Writer w writes a prefix of
// its own alphabet kStream[w] ("abcdefgh" or "ABCDEFGH"), so every byte
// names its writer and its position in that writer's stream. Each reader
// records what its reads returned: on the spot, every byte must come from a
// writer (nothing invented: kmalloc poison is 'Z', freed memory 'k', neither
// in an alphabet) and, per writer, must come later in that writer's stream
// than the reader's previous byte from it (order kept, no duplicate). The
// final check adds that, over all readers, each writer's accepted bytes were
// read exactly once (nothing lost or duplicated). The ghost is plain model
// state: it has no scheduling points and each field is written by one task.

#include <algorithm>
#include <string>
#include <vector>

#include "drivers/scull/scull_cxx.h"
#include "drivers/scullpipe/scullpipe.h"
#include "sync/kernel.h"
#include "sync/model.h"

namespace kmc::models {
namespace {

using namespace kmc::kernel;              // NOLINT: kernel spelling
using namespace kmc::drivers::scullpipe;  // NOLINT: driver spelling
using kmc::drivers::scull::scull_module;

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

// scullpipe loaded with one device and `Bugs` seeded in it.
template <unsigned Bugs = 0>
struct Pipe {
  scull_module mod;  // main.c's globals: scull_p_buffer
  scull_p_module pmod;
  scull_pipe* dev = nullptr;
  Ghost g;

  Pipe() {
    mod.scull_p_buffer = kBuffer;
    pmod.scull = &mod;
    pmod.scull_p_nr_devs = 1;
    pmod.scull_p_bugs = Bugs;
    BUG_ON(scull_p_init(&pmod, 0) != 1);
    dev = &pmod.scull_p_devices[0];
  }

  // open(2) of scullpipe0, at setup (before the tasks start).
  file& Open(unsigned flags) {
    BUG_ON(nfiles == kMaxFiles);
    inode ino = scull_p_inode(&pmod, 0);
    file& filp = files[nfiles++];
    filp = make_file(flags);
    BUG_ON(scull_p_open(&ino, &filp) != 0);
    return filp;
  }

  // close(2) of every file, as the processes exit (in the final check).
  void CloseAll() {
    inode ino = scull_p_inode(&pmod, 0);
    for (int i = 0; i < nfiles; ++i) KMC_ASSERT(scull_p_release(&ino, &files[i]) == 0);
    nfiles = 0;
  }

  static constexpr int kMaxFiles = 3;
  file files[kMaxFiles];
  int nfiles = 0;

  // Module exit: frees the buffers and the device array.
  void Unload() { scull_p_cleanup(&pmod); }
};

// write(2) of the next `chunk` bytes (at most) of writer w's stream, up to
// `len` bytes in all. Returns what scull_p_write returned.
template <class P>
ssize_t WriteOnce(P& p, file& filp, int w, size_t len, size_t chunk) {
  const size_t done = p.g.accepted[w];
  const size_t n = min(chunk, len - done);
  UserBuffer ub(std::string(kStream[w] + done, n));
  const ssize_t r = scull_p_write(&filp, ub.ptr(), n, &filp.f_pos);
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
void WriteStream(P& p, file& filp, int w, size_t len, size_t chunk) {
  while (p.g.accepted[w] < len) {
    const ssize_t r = WriteOnce(p, filp, w, len, chunk);
    KMC_ASSERT(r != -EAGAIN);  // a blocking write sleeps instead
  }
}

using ReadFn = ssize_t (*)(struct file*, char __user*, size_t, loff_t*);

// read(2) of at most `count` bytes by reader r. Returns what the read
// returned.
template <class P>
ssize_t ReadOnce(P& p, file& filp, int r, size_t count, ReadFn fn = scull_p_read) {
  UserBuffer ub(count, '.');
  const ssize_t n = fn(&filp, ub.ptr(), count, &filp.f_pos);
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
void ReadStream(P& p, file& filp, int r, size_t total, size_t count, ReadFn fn = scull_p_read) {
  while (p.g.got[r].size() < total) {
    const ssize_t n = ReadOnce(p, filp, r, count, fn);
    KMC_ASSERT(n != -EAGAIN);  // a blocking read sleeps instead
  }
}

// The lock is free and its count is exactly 1 (inv 5: lock balance).
template <class P>
void CheckLockBalance(P& p) {
  const bool sem_free = down_trylock(&p.dev->sem) == 0;
  KMC_ASSERT(sem_free);
  const bool sem_count_was_exactly_one = down_trylock(&p.dev->sem) == 1;
  KMC_ASSERT(sem_count_was_exactly_one);
  up(&p.dev->sem);
}

// Drains the pipe through `rd` with non-blocking reads (in the final check:
// no task runs any more, so a sleep could never end; kmc would report it).
template <class P>
void Drain(P& p, file& rd) {
  const unsigned flags = rd.f_flags;
  rd.f_flags |= O_NONBLOCK;
  while (ReadOnce(p, rd, kDrain, kBuffer) > 0) {
  }
  rd.f_flags = flags;
}

// The final check: the lock is free, the FIFO holds (after draining through
// `drain` when the readers may have left bytes behind), the pipe is empty;
// then the processes exit (every file is closed: the counters go back to 0
// and the last release frees the buffer) and the module is unloaded.
template <class P>
void CheckAndUnload(P& p, file* drain = nullptr) {
  // What the readers got, and in which pieces: the reduced search must see
  // every outcome the unreduced one sees (tests/por_test.cc).
  for (int r = 0; r < kDrain; ++r) {
    int64_t bytes = 0;
    for (char c : p.g.got[r]) bytes = bytes * 256 + static_cast<unsigned char>(c);
    Observe(r == 0 ? "reader0_bytes" : "reader1_bytes", bytes);
    Observe(r == 0 ? "reader0_reads" : "reader1_reads", p.g.sizes[r]);
  }
  CheckLockBalance(p);
  if (drain != nullptr) Drain(p, *drain);
  CheckFifo(p.g);
  KMC_ASSERT(p.dev->rp.get() == p.dev->wp.get());  // everything accepted was read
  p.CloseAll();
  KMC_ASSERT(p.dev->nreaders.get() == 0 && p.dev->nwriters.get() == 0);
  KMC_ASSERT(p.dev->buffer.get() == nullptr);  // inv 4: freed on the last release
  p.Unload();
}

// ---------------------------------------------------------------------------
// Clean scenarios.

struct OneWriterOneReader : Pipe<> {
  file& wr = Open(O_WRONLY);
  file& rd = Open(O_RDONLY);
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
  file& wr0 = Open(O_WRONLY);
  file& wr1 = Open(O_WRONLY);
  file& rd = Open(O_RDONLY);
};

KMC_MODEL("scullpipe/two_writers_one_reader") {
  auto f = m.Fixture<TwoWritersOneReader>();
  m.Describe("clean scullpipe: two writers (\"ab\", \"AB\": one of them blocks on the full "
             "pipe) and a reader; the reader gets an order-preserving interleaving of both "
             "streams, nothing lost or invented");
  m.Expect(Verdict::kClean);
  // Three tasks are too many for an exhaustive search: it ran 22 million
  // executions in 10 minutes and had covered about a fifth of the tree.
  // Five preemptions (any number of blocking switches) take about 290,000
  // executions and 8 s.
  m.DefaultSearch(SearchMode::kBounded, 5);
  f.Task("writer0", 0, [](TwoWritersOneReader& p) { WriteStream(p, p.wr0, 0, 2, 2); });
  f.Task("writer1", 1, [](TwoWritersOneReader& p) { WriteStream(p, p.wr1, 1, 2, 2); });
  f.Task("reader", 1, [](TwoWritersOneReader& p) { ReadStream(p, p.rd, 0, 4, 4); });
  f.Check([](TwoWritersOneReader& p) { CheckAndUnload(p); });
}

struct NonBlocking : Pipe<> {
  file& wr = Open(O_WRONLY | O_NONBLOCK);
  file& rd = Open(O_RDONLY | O_NONBLOCK);
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
    poll_table pt;
    KMC_ASSERT(scull_p_poll(&p.rd, &pt) == (POLLOUT | POLLWRNORM) && pt.queued == 2);
    UserBuffer one(1);
    KMC_ASSERT(scull_p_read(&p.rd, one.ptr(), 1, &p.rd.f_pos) == -EAGAIN);
    // Fill it (3 bytes, in one or two writes depending on where wp is):
    // writes fail, poll says readable only.
    const size_t before = p.g.accepted[0];
    while (WriteOnce(p, p.wr, 0, 8, 8) > 0) {
    }
    KMC_ASSERT(p.g.accepted[0] == before + kBuffer - 1);
    KMC_ASSERT(scull_p_poll(&p.wr, &pt) == (POLLIN | POLLRDNORM));
    CheckAndUnload(p, &p.rd);
  });
}

struct SignalWhileBlocked : Pipe<> {
  file& wr = Open(O_WRONLY);
  file& rd = Open(O_RDONLY);
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

struct IfNotWhile : Pipe<SCULL_P_BUG_IF_NOT_WHILE> {
  file& wr = Open(O_WRONLY);
  file& rd0 = Open(O_RDONLY);
  file& rd1 = Open(O_RDONLY);
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

struct LostWakeup : Pipe<SCULL_P_BUG_LOST_WAKEUP> {
  file& wr = Open(O_WRONLY);
  file& rd = Open(O_RDONLY);
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

struct WakeBeforePublish : Pipe<SCULL_P_BUG_WAKE_BEFORE_PUBLISH> {
  file& wr = Open(O_WRONLY);
  file& rd = Open(O_RDONLY);
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

struct SleepHoldingLock : Pipe<SCULL_P_BUG_SLEEP_HOLDING_LOCK> {
  file& wr = Open(O_WRONLY);
  file& rd = Open(O_RDONLY);
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

struct DoubleUnlock : Pipe<SCULL_P_BUG_DOUBLE_UNLOCK> {
  file& wr = Open(O_WRONLY | O_NONBLOCK);
  file& rd = Open(O_RDONLY);
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
  f.Check([](DoubleUnlock& p) { CheckAndUnload(p, &p.rd); });
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

struct SeedRead : Pipe<> {
  file& wr = Open(O_WRONLY);
  file& rd = Open(O_RDONLY);
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
    ReadStream(p, p.rd, 0, 2, 2, scull_p_read_seed002);
  });
  f.Check([](SeedRead& p) { CheckAndUnload(p); });
}

}  // namespace
}  // namespace kmc::models
