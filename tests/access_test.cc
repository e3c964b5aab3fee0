// Tests of the scull access-control devices (drivers/scull/access.c) and their
// models (models/access_models.cc).
//
//   * one test per registered model: its verdict, and for a failing model
//     that its replay prints the same report byte for byte; the clean
//     models are explored exhaustively;
//   * scenarios with the bug cleared (W1: the three-user thundering herd;
//     P1: scullpriv with the allocation moved out of atomic context) are
//     clean;
//   * unit tests of each open/release policy and of the scull operations the
//     devices reuse, each run as a throwaway model that is not registered;
//     the module is loaded with insmod and driven through kmc::vfs, and
//     access.c's statics (counts, owners, the clone list) are checked
//     through what the devices' opens answer.

#include <fcntl.h>

#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "drivers/scull/scull_view.h"
#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/runner.h"
#include "sync/vfs.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

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

TEST(AccessModels, SingleTwoOpeners) { ExpectCleanExhaustive("scullsingle/two_openers"); }

TEST(AccessModels, UidTwoUsers) { ExpectCleanExhaustive("sculluid/two_users"); }

TEST(AccessModels, WuidBlockingOpen) { ExpectCleanExhaustive("scullwuid/blocking_open"); }

TEST(AccessModels, SingleTestThenDecrement) {
  ExpectReplayReproduces("scullsingle/test_then_decrement");
  Result r = ExpectMatch("scullsingle/test_then_decrement");
  EXPECT_EQ(r.message, "kmc: assertion failed: at_most_one_holder") << r.report;
  EXPECT_TRUE(Contains(r.report, "drivers/scull/access.c")) << r.report;
}

TEST(AccessModels, UidSplitCriticalSection) {
  ExpectReplayReproduces("sculluid/split_critical_section");
  Result r = ExpectMatch("sculluid/split_critical_section");
  EXPECT_EQ(r.message, "kmc: assertion failed: one_user_at_a_time") << r.report;
  EXPECT_TRUE(Contains(r.report, "scull_u_lock")) << r.report;
}

TEST(AccessModels, WuidIfNotWhile) {
  ExpectReplayReproduces("scullwuid/if_not_while");
  Result r = ExpectMatch("scullwuid/if_not_while");
  EXPECT_EQ(r.message, "kmc: assertion failed: one_user_at_a_time") << r.report;
  EXPECT_EQ(r.search, SearchMode::kBounded);
}

TEST(AccessModels, WuidLostWakeup) {
  ExpectReplayReproduces("scullwuid/lost_wakeup");
  Result r = ExpectMatch("scullwuid/lost_wakeup");
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_TRUE(Contains(r.report, "prepare_to_wait(scull_w_wait)")) << r.report;
}

TEST(AccessModels, PrivKmallocUnderSpinlock) {
  ExpectReplayReproduces("scullpriv/kmalloc_under_spinlock");
  Result r = ExpectMatch("scullpriv/kmalloc_under_spinlock");
  EXPECT_EQ(r.message.rfind("BUG: sleeping function called from invalid context at "
                            "drivers/scull/access.c:",
                            0),
            0u)
      << r.message;
  EXPECT_TRUE(Contains(r.report, "scull_c_lock (spinlock_t)")) << r.report;
}

// ---------------------------------------------------------------------------
// Throwaway models.

// The minors of access.c's devices in the region "sculla".
enum { SCULL_A_SINGLE = 0, SCULL_A_UID = 1, SCULL_A_WUID = 2, SCULL_A_PRIV = 3 };
constexpr unsigned kTty1 = 0x8801, kTty2 = 0x8802;

template <unsigned Bugs = 0>
struct Access {
  int holders = 0;
  unsigned holder_uid = 0;
  void* devs[4] = {nullptr, nullptr, nullptr, nullptr};

  Access() {
    char params[96];
    std::snprintf(params, sizeof params, "scull_nr_devs=1 scull_quantum=4 scull_qset=2 access_bugs=%#x",
                  Bugs);
    BUG_ON(insmod("scull", params) != 0);
  }
};

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

  // Runs the scenario (exhaustively unless `options` says otherwise); module
  // exit (rmmod) after `check`.
  Result Run(const RunOptions& options = {}) const {
    Model m(name);
    auto f = m.Fixture<F>();
    m.Expect(Verdict::kClean).Enable(nondet);
    int cpu = 0;
    for (const auto& [task, body] : tasks) f.Task(task, cpu++ % 2, body);
    auto final_check = check;
    f.Check([final_check](F& a) {
      if (final_check) final_check(a);
    });
    return CheckModel(m, options);
  }
};

// open(2) of device `which` with `flags` as the current task: open's result,
// the file in *filp.
int Open(int which, vfs::File** filp, unsigned flags) {
  int err = 0;
  *filp = vfs::open(vfs::DeviceNumber("sculla", which), flags, &err);
  return err;
}

void Close(vfs::File* filp) { KMC_ASSERT(vfs::close(filp) == 0); }

long Write(vfs::File* filp, const std::string& data) {
  UserBuffer ub(data);
  return vfs::write(filp, ub.ptr(), ub.size());
}

std::string ReadAt(vfs::File* filp, long long pos, size_t count) {
  UserBuffer ub(count);
  KMC_ASSERT(vfs::llseek(filp, pos, 0) == pos);
  const long n = vfs::read(filp, ub.ptr(), count);
  return n > 0 ? ub.str(static_cast<size_t>(n)) : std::string();
}

// The uid device `which` (sculluid, scullwuid) is free: a uid nobody used,
// without CAP_DAC_OVERRIDE, gets in (its count is 0). Restores no creds.
void ExpectFree(int which) {
  SetCurrentCredentials(2000, 2000);
  vfs::File* filp = nullptr;
  KMC_ASSERT(Open(which, &filp, O_RDONLY | O_NONBLOCK) == 0);
  Close(filp);
}

// ---------------------------------------------------------------------------
// Bugs cleared.

TEST(AccessFixed, WuidThunderingHerdRetestsUnderTheLock) {  // W1 cleared, three users
  Scenario<Access<>> s("fixed/wuid_herd");
  for (unsigned uid : {1000u, 1001u, 1002u}) {
    s.Task("user" + std::to_string(uid), [uid](Access<>& a) {
      SetCurrentCredentials(uid, uid);
      vfs::File* filp = nullptr;
      KMC_ASSERT(Open(SCULL_A_WUID, &filp, O_RDWR) == 0);
      KMC_ASSERT(a.holders == 0 || a.holder_uid == uid);
      a.holders++;
      a.holder_uid = uid;
      KMC_ASSERT(Write(filp, "w") == 1);
      a.holders--;
      Close(filp);
    });
  }
  s.check = [](Access<>&) { ExpectFree(SCULL_A_WUID); };  // scull_w_count == 0
  RunOptions options;  // three processes: see scullwuid/if_not_while
  options.search = SearchMode::kBounded;
  options.bound = 3;
  const Result r = s.Run(options);
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_GT(r.executions, 1000u);
}

TEST(AccessFixed, PrivWithAtomicAllocation) {  // P1 fixed
  using A = Access<SCULL_A_FIX_P1>;
  Scenario<A> s("fixed/priv_gfp_atomic");
  for (int i = 0; i < 2; ++i) {
    s.Task(i == 0 ? "tty1" : "tty2", [i](A& a) {
      SetCurrentTty(i == 0 ? kTty1 : kTty2);
      vfs::File* filp = nullptr;
      KMC_ASSERT(Open(SCULL_A_PRIV, &filp, O_RDWR) == 0);
      a.devs[i] = filp->private_data;
      KMC_ASSERT(Write(filp, "p") == 1);
      Close(filp);
    });
  }
  s.check = [](A& a) {
    KMC_ASSERT(a.devs[0] != nullptr && a.devs[1] != nullptr && a.devs[0] != a.devs[1]);
  };
  EXPECT_CLEAN(s.Run());
}

// ---------------------------------------------------------------------------
// Unit tests.

TEST(AccessUnit, SingleOpenPolicyAndTrim) {
  Scenario<Access<>> s("unit/single");
  s.Task("t", [](Access<>&) {
    vfs::File *f1 = nullptr, *f2 = nullptr;
    KMC_ASSERT(Open(SCULL_A_SINGLE, &f1, O_RDWR) == 0);
    KMC_ASSERT(Write(f1, "data") == 4);
    KMC_ASSERT(Open(SCULL_A_SINGLE, &f2, O_RDWR) == -EBUSY);
    // The loser gave scull_s_available back (0, not -1): still -EBUSY, and
    // one close makes it free again.
    KMC_ASSERT(Open(SCULL_A_SINGLE, &f2, O_RDONLY) == -EBUSY);
    Close(f1);
    // The data persists across opens; a write-only open trims it.
    KMC_ASSERT(Open(SCULL_A_SINGLE, &f2, O_RDONLY) == 0);
    KMC_ASSERT(ReadAt(f2, 0, 8) == "data");
    Close(f2);
    KMC_ASSERT(Open(SCULL_A_SINGLE, &f2, O_WRONLY) == 0);
    Close(f2);
    KMC_ASSERT(Open(SCULL_A_SINGLE, &f2, O_RDONLY) == 0);
    KMC_ASSERT(ReadAt(f2, 0, 8).empty());  // size 0
    Close(f2);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, UidPolicy) {
  Scenario<Access<>> s("unit/uid");
  s.Task("t", [](Access<>&) {
    vfs::File *alice, *bob, *root, *su, *bob2, *alice2;
    SetCurrentCredentials(1000, 1000);
    KMC_ASSERT(Open(SCULL_A_UID, &alice, O_RDWR) == 0);  // alice owns it
    SetCurrentCredentials(1001, 1001);
    KMC_ASSERT(Open(SCULL_A_UID, &bob, O_RDWR) == -EBUSY);  // not -EPERM
    SetCurrentCredentials(0, 0, /*cap_dac_override=*/true);
    KMC_ASSERT(Open(SCULL_A_UID, &root, O_RDWR) == 0);  // still allow root
    SetCurrentCredentials(1001, 1000);
    KMC_ASSERT(Open(SCULL_A_UID, &su, O_RDWR) == 0);  // whoever did su
    Close(alice);
    Close(root);
    // The count is 1 (su), the owner still alice: bob stays out.
    SetCurrentCredentials(1001, 1001);
    KMC_ASSERT(Open(SCULL_A_UID, &bob, O_RDWR) == -EBUSY);
    Close(su);
    // The count is 0: bob's real uid grabs it, and alice is out now.
    KMC_ASSERT(Open(SCULL_A_UID, &bob2, O_RDWR) == 0);
    SetCurrentCredentials(1000, 1000);
    KMC_ASSERT(Open(SCULL_A_UID, &alice2, O_RDWR) == -EBUSY);
    Close(bob2);
    ExpectFree(SCULL_A_UID);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, WuidNonblockingAndSameUser) {
  Scenario<Access<>> s("unit/wuid_nonblock");
  s.Task("t", [](Access<>&) {
    vfs::File *alice, *alice2, *bob;
    SetCurrentCredentials(1000, 1000);
    KMC_ASSERT(Open(SCULL_A_WUID, &alice, O_RDWR) == 0);
    KMC_ASSERT(Open(SCULL_A_WUID, &alice2, O_RDWR) == 0);  // same user
    SetCurrentCredentials(1001, 1001);
    KMC_ASSERT(Open(SCULL_A_WUID, &bob, O_RDWR | O_NONBLOCK) == -EAGAIN);
    Close(alice);
    KMC_ASSERT(Open(SCULL_A_WUID, &bob, O_RDWR | O_NONBLOCK) == -EAGAIN);
    Close(alice2);
    KMC_ASSERT(Open(SCULL_A_WUID, &bob, O_RDWR | O_NONBLOCK) == 0);
    SetCurrentCredentials(1000, 1000);  // bob owns it now
    vfs::File* alice3 = nullptr;
    KMC_ASSERT(Open(SCULL_A_WUID, &alice3, O_RDWR | O_NONBLOCK) == -EAGAIN);
    Close(bob);
    ExpectFree(SCULL_A_WUID);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, WuidSignalWhileWaiting) {
  Scenario<Access<>> s("unit/wuid_signal", kSignals);
  // Whoever comes second sleeps in scull_w_open and may be interrupted.
  for (unsigned uid : {1000u, 1001u}) {
    s.Task("user" + std::to_string(uid), [uid](Access<>&) {
      SetCurrentCredentials(uid, uid);
      vfs::File* filp = nullptr;
      const int r = Open(SCULL_A_WUID, &filp, O_RDWR);
      KMC_ASSERT(r == 0 || r == -ERESTARTSYS);
      if (r != 0) return;
      KMC_ASSERT(Write(filp, "w") == 1);
      Close(filp);
    });
  }
  // An interrupted open left nothing behind: the count is 0 and
  // scull_w_lock is free (the open takes it).
  s.check = [](Access<>&) { ExpectFree(SCULL_A_WUID); };
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, PrivDevicePerTty) {
  using A = Access<SCULL_A_FIX_P1>;
  Scenario<A> s("unit/priv");
  s.Task("t", [](A&) {
    vfs::File *none, *f1, *f1b, *f2;
    SetCurrentTty(0);
    KMC_ASSERT(Open(SCULL_A_PRIV, &none, O_RDWR) == -EINVAL);  // no controlling tty
    SetCurrentTty(kTty1);
    KMC_ASSERT(Open(SCULL_A_PRIV, &f1, O_RDWR) == 0);
    KMC_ASSERT(Write(f1, "one") == 3);
    void* dev1 = f1->private_data;
    Close(f1);  // the device persists
    KMC_ASSERT(Open(SCULL_A_PRIV, &f1b, O_RDONLY) == 0);
    KMC_ASSERT(f1b->private_data == dev1);  // same tty, same device
    KMC_ASSERT(ReadAt(f1b, 0, 8) == "one");
    SetCurrentTty(kTty2);
    KMC_ASSERT(Open(SCULL_A_PRIV, &f2, O_RDWR) == 0);
    KMC_ASSERT(f2->private_data != dev1);  // another tty, another device
    KMC_ASSERT(ReadAt(f2, 0, 8).empty());
  });
  // Module exit frees both cloned devices and their quanta (or kmemleak).
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, PrivAllocationFailure) {
  using A = Access<SCULL_A_FIX_P1>;
  Scenario<A> s("unit/priv_enomem", kAllocFailure);
  s.Task("t", [](A&) {
    SetCurrentTty(kTty1);
    vfs::File *f1, *f1b;
    const int r = Open(SCULL_A_PRIV, &f1, O_RDONLY);
    KMC_ASSERT(r == 0 || r == -ENOMEM);
    if (r == 0) {
      // The device is in the list: a second open finds it, allocating nothing.
      KMC_ASSERT(Open(SCULL_A_PRIV, &f1b, O_RDONLY) == 0 && f1b->private_data == f1->private_data);
    }
    // With -ENOMEM nothing was linked; kmemleak checks nothing leaked.
  });
  EXPECT_CLEAN(s.Run());
}

}  // namespace
}  // namespace kmc
