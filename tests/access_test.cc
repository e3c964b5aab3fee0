// Tests of the scull access-control devices (drivers/scull_access) and their
// models (models/access_models.cc).
//
//   * one test per registered model: its verdict, and for a failing model
//     that its replay prints the same report byte for byte; the clean
//     models are explored exhaustively;
//   * scenarios with the bug cleared (W1: the three-user thundering herd;
//     P1: scullpriv with the allocation moved out of atomic context) are
//     clean;
//   * unit tests of each open/release policy and of the scull operations the
//     devices reuse, each run as a throwaway model that is not registered.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "drivers/scull/scull_cxx.h"
#include "drivers/scull_access/access.h"
#include "gtest/gtest.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using namespace kmc::kernel;                 // NOLINT: kernel spelling
using namespace kmc::drivers::scull_access;  // NOLINT: driver spelling
using kmc::drivers::scull::scull_llseek;
using kmc::drivers::scull::scull_module;
using kmc::drivers::scull::scull_read;
using kmc::drivers::scull::scull_write;
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
  EXPECT_TRUE(Contains(r.report, "drivers/scull_access/access.cc")) << r.report;
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
                            "drivers/scull_access/access.cc:",
                            0),
            0u)
      << r.message;
  EXPECT_TRUE(Contains(r.report, "scull_c_lock (spinlock_t)")) << r.report;
}

// ---------------------------------------------------------------------------
// Throwaway models.

template <unsigned Bugs = 0>
struct Access {
  scull_module mod;
  scull_access_module amod;
  int holders = 0;
  unsigned holder_uid = 0;
  int opened = 0;
  int results[4] = {0, 0, 0, 0};
  void* devs[4] = {nullptr, nullptr, nullptr, nullptr};

  Access() {
    mod.scull_quantum = 4;
    mod.scull_qset = 2;
    amod.scull = &mod;
    amod.bugs = Bugs;
    BUG_ON(scull_access_init(&amod, 0) != SCULL_N_ADEVS);
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
  // exit after `check`.
  Result Run(const RunOptions& options = {}) const {
    Model m(name);
    auto f = m.Fixture<F>();
    m.Expect(Verdict::kClean).Enable(nondet);
    int cpu = 0;
    for (const auto& [task, body] : tasks) f.Task(task, cpu++ % 2, body);
    auto final_check = check;
    f.Check([final_check](F& a) {
      if (final_check) final_check(a);
      scull_access_cleanup(&a.amod);
    });
    return CheckModel(m, options);
  }
};

using OpenFn = int (*)(struct inode*, struct file*);

// open(2) of device `which` with `flags` as the current task.
template <class A>
int Open(A& a, int which, OpenFn open, file* filp, unsigned flags) {
  inode ino = scull_a_inode(&a.amod, which);
  *filp = make_file(flags);
  return open(&ino, filp);
}

template <class A>
void Close(A& a, int which, OpenFn release, file* filp) {
  inode ino = scull_a_inode(&a.amod, which);
  KMC_ASSERT(release(&ino, filp) == 0);
}

ssize_t Write(file& filp, const std::string& data) {
  UserBuffer ub(data);
  return scull_write(&filp, ub.ptr(), ub.size(), &filp.f_pos);
}

std::string ReadAt(file& filp, loff_t pos, size_t count) {
  UserBuffer ub(count);
  KMC_ASSERT(scull_llseek(&filp, pos, 0) == pos);
  const ssize_t n = scull_read(&filp, ub.ptr(), count, &filp.f_pos);
  return n > 0 ? ub.str(static_cast<size_t>(n)) : std::string();
}

// ---------------------------------------------------------------------------
// Bugs cleared.

TEST(AccessFixed, WuidThunderingHerdRetestsUnderTheLock) {  // W1 cleared, three users
  Scenario<Access<>> s("fixed/wuid_herd");
  for (unsigned uid : {1000u, 1001u, 1002u}) {
    s.Task("user" + std::to_string(uid), [uid](Access<>& a) {
      SetCurrentCredentials(uid, uid);
      file filp;
      KMC_ASSERT(Open(a, SCULL_A_WUID, scull_w_open, &filp, O_RDWR) == 0);
      KMC_ASSERT(a.holders == 0 || a.holder_uid == uid);
      a.holders++;
      a.holder_uid = uid;
      KMC_ASSERT(Write(filp, "w") == 1);
      a.holders--;
      Close(a, SCULL_A_WUID, scull_w_release, &filp);
    });
  }
  s.check = [](Access<>& a) { KMC_ASSERT(a.amod.scull_w_count.get() == 0); };
  RunOptions options;  // three processes: see scullwuid/if_not_while
  options.search = SearchMode::kBounded;
  options.bound = 3;
  const Result r = s.Run(options);
  EXPECT_EQ(r.verdict, Verdict::kClean) << r.report;
  EXPECT_GT(r.executions, 1000u);
}

TEST(AccessFixed, PrivWithAtomicAllocation) {  // P1 fixed
  const tty_struct tty1{0x8801}, tty2{0x8802};
  using A = Access<SCULL_A_FIX_P1>;
  Scenario<A> s("fixed/priv_gfp_atomic");
  for (int i = 0; i < 2; ++i) {
    const tty_struct* tty = i == 0 ? &tty1 : &tty2;
    s.Task(i == 0 ? "tty1" : "tty2", [i, tty](A& a) {
      file filp;
      filp = make_file(O_RDWR);
      filp.f_owner_key = tty;
      inode ino = scull_a_inode(&a.amod, SCULL_A_PRIV);
      KMC_ASSERT(scull_c_open(&ino, &filp) == 0);
      a.devs[i] = filp.private_data;
      KMC_ASSERT(Write(filp, "p") == 1);
      KMC_ASSERT(scull_c_release(&ino, &filp) == 0);
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
  s.Task("t", [](Access<>& a) {
    file f1, f2;
    KMC_ASSERT(Open(a, SCULL_A_SINGLE, scull_s_open, &f1, O_RDWR) == 0);
    KMC_ASSERT(Write(f1, "data") == 4);
    KMC_ASSERT(Open(a, SCULL_A_SINGLE, scull_s_open, &f2, O_RDWR) == -EBUSY);
    KMC_ASSERT(atomic_read(&a.amod.scull_s_available) == 0);  // the loser gave it back
    Close(a, SCULL_A_SINGLE, scull_s_release, &f1);
    KMC_ASSERT(atomic_read(&a.amod.scull_s_available) == 1);
    // The data persists across opens; a write-only open trims it.
    KMC_ASSERT(Open(a, SCULL_A_SINGLE, scull_s_open, &f2, O_RDONLY) == 0);
    KMC_ASSERT(ReadAt(f2, 0, 8) == "data");
    Close(a, SCULL_A_SINGLE, scull_s_release, &f2);
    KMC_ASSERT(Open(a, SCULL_A_SINGLE, scull_s_open, &f2, O_WRONLY) == 0);
    KMC_ASSERT(a.amod.scull_s_device.size.get() == 0);
    Close(a, SCULL_A_SINGLE, scull_s_release, &f2);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, UidPolicy) {
  Scenario<Access<>> s("unit/uid");
  s.Task("t", [](Access<>& a) {
    file alice, bob, root, su, bob2;
    SetCurrentCredentials(1000, 1000);
    KMC_ASSERT(Open(a, SCULL_A_UID, scull_u_open, &alice, O_RDWR) == 0);
    KMC_ASSERT(a.amod.scull_u_owner.get().val == 1000 && a.amod.scull_u_count.get() == 1);
    SetCurrentCredentials(1001, 1001);
    KMC_ASSERT(Open(a, SCULL_A_UID, scull_u_open, &bob, O_RDWR) == -EBUSY);  // not -EPERM
    SetCurrentCredentials(0, 0, /*cap_dac_override=*/true);
    KMC_ASSERT(Open(a, SCULL_A_UID, scull_u_open, &root, O_RDWR) == 0);  // still allow root
    SetCurrentCredentials(1001, 1000);
    KMC_ASSERT(Open(a, SCULL_A_UID, scull_u_open, &su, O_RDWR) == 0);  // whoever did su
    KMC_ASSERT(a.amod.scull_u_count.get() == 3);
    KMC_ASSERT(a.amod.scull_u_owner.get().val == 1000);  // owner only set at count 0
    Close(a, SCULL_A_UID, scull_u_release, &alice);
    Close(a, SCULL_A_UID, scull_u_release, &root);
    Close(a, SCULL_A_UID, scull_u_release, &su);
    KMC_ASSERT(a.amod.scull_u_count.get() == 0);
    KMC_ASSERT(a.amod.scull_u_owner.get().val == 1000);  // stale, not cleared
    SetCurrentCredentials(1001, 1001);
    KMC_ASSERT(Open(a, SCULL_A_UID, scull_u_open, &bob2, O_RDWR) == 0);
    KMC_ASSERT(a.amod.scull_u_owner.get().val == 1001);  // the real uid grabs it
    Close(a, SCULL_A_UID, scull_u_release, &bob2);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, WuidNonblockingAndSameUser) {
  Scenario<Access<>> s("unit/wuid_nonblock");
  s.Task("t", [](Access<>& a) {
    file alice, alice2, bob;
    SetCurrentCredentials(1000, 1000);
    KMC_ASSERT(Open(a, SCULL_A_WUID, scull_w_open, &alice, O_RDWR) == 0);
    KMC_ASSERT(Open(a, SCULL_A_WUID, scull_w_open, &alice2, O_RDWR) == 0);  // same user
    SetCurrentCredentials(1001, 1001);
    KMC_ASSERT(Open(a, SCULL_A_WUID, scull_w_open, &bob, O_RDWR | O_NONBLOCK) == -EAGAIN);
    Close(a, SCULL_A_WUID, scull_w_release, &alice);
    KMC_ASSERT(Open(a, SCULL_A_WUID, scull_w_open, &bob, O_RDWR | O_NONBLOCK) == -EAGAIN);
    Close(a, SCULL_A_WUID, scull_w_release, &alice2);
    KMC_ASSERT(Open(a, SCULL_A_WUID, scull_w_open, &bob, O_RDWR | O_NONBLOCK) == 0);
    KMC_ASSERT(a.amod.scull_w_owner.get().val == 1001);
    Close(a, SCULL_A_WUID, scull_w_release, &bob);
    KMC_ASSERT(a.amod.scull_w_count.get() == 0);
  });
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, WuidSignalWhileWaiting) {
  Scenario<Access<>> s("unit/wuid_signal", kSignals);
  // Whoever comes second sleeps in scull_w_open and may be interrupted.
  for (unsigned uid : {1000u, 1001u}) {
    s.Task("user" + std::to_string(uid), [uid](Access<>& a) {
      SetCurrentCredentials(uid, uid);
      file filp;
      const int r = Open(a, SCULL_A_WUID, scull_w_open, &filp, O_RDWR);
      KMC_ASSERT(r == 0 || r == -ERESTARTSYS);
      if (r != 0) return;
      KMC_ASSERT(Write(filp, "w") == 1);
      Close(a, SCULL_A_WUID, scull_w_release, &filp);
    });
  }
  s.check = [](Access<>& a) {
    // An interrupted open left nothing behind.
    KMC_ASSERT(a.amod.scull_w_count.get() == 0);
    KMC_ASSERT(!spin_is_locked(&a.amod.scull_w_lock));
  };
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, PrivDevicePerTty) {
  using A = Access<SCULL_A_FIX_P1>;
  Scenario<A> s("unit/priv");
  s.Task("t", [](A& a) {
    const tty_struct tty1{0x8801}, tty2{0x8802};
    inode ino = scull_a_inode(&a.amod, SCULL_A_PRIV);
    file none = make_file(O_RDWR);
    KMC_ASSERT(scull_c_open(&ino, &none) == -EINVAL);  // no controlling tty
    file f1 = make_file(O_RDWR), f1b = make_file(O_RDONLY), f2 = make_file(O_RDWR);
    f1.f_owner_key = f1b.f_owner_key = &tty1;
    f2.f_owner_key = &tty2;
    KMC_ASSERT(scull_c_open(&ino, &f1) == 0);
    KMC_ASSERT(Write(f1, "one") == 3);
    KMC_ASSERT(scull_c_release(&ino, &f1) == 0);  // the device persists
    KMC_ASSERT(scull_c_open(&ino, &f1b) == 0);
    KMC_ASSERT(f1b.private_data == f1.private_data);  // same tty, same device
    KMC_ASSERT(ReadAt(f1b, 0, 8) == "one");
    KMC_ASSERT(scull_c_open(&ino, &f2) == 0);
    KMC_ASSERT(f2.private_data != f1.private_data);  // another tty, another device
    KMC_ASSERT(ReadAt(f2, 0, 8).empty());
    KMC_ASSERT(!list_empty(&a.amod.scull_c_list));
  });
  // Module exit frees both cloned devices and their quanta (or kmemleak).
  EXPECT_CLEAN(s.Run());
}

TEST(AccessUnit, PrivAllocationFailure) {
  using A = Access<SCULL_A_FIX_P1>;
  Scenario<A> s("unit/priv_enomem", kAllocFailure);
  s.Task("t", [](A& a) {
    const tty_struct tty1{0x8801};
    inode ino = scull_a_inode(&a.amod, SCULL_A_PRIV);
    file f1 = make_file(O_RDONLY);
    f1.f_owner_key = &tty1;
    const int r = scull_c_open(&ino, &f1);
    KMC_ASSERT(r == 0 || r == -ENOMEM);
    KMC_ASSERT((r == -ENOMEM) == list_empty(&a.amod.scull_c_list));
  });
  EXPECT_CLEAN(s.Run());
}

}  // namespace
}  // namespace kmc
