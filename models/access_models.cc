// Models of the scull access-control devices (drivers/scull/access.c, part
// of the C module scull; spec: docs/DRIVERS.md, scull access-control
// devices): scullsingle, sculluid, scullwuid and scullpriv. One clean
// scenario per admission policy, checked exhaustively, and one per seeded
// bug (S1, U1, W1, W3) plus P1, which is in LDD3's own scullpriv.
//
// The fixture constructor is `insmod scull.ko scull_quantum=4 scull_qset=2
// access_bugs=...`; the devices are the region "sculla" (minors 0..3:
// scullsingle, sculluid, scullwuid, scullpriv). Each task is a process: it
// sets its credentials, opens a device, uses it (one byte written through
// scull_write, under the device semaphore), and closes it. The ghost is
// plain model state (no scheduling points): who holds the device right now.
// A task adds itself between a successful open and the matching release,
// and checks the admission policy on the spot. The final check checks the
// counters through the devices themselves; the module is unloaded after it
// (every scull quantum and cloned device must be freed by then, or kmemleak
// reports it).

#include <fcntl.h>

#include <cstdio>
#include <string>

#include "drivers/scull/scull_view.h"
#include "sync/kernel.h"
#include "sync/model.h"
#include "sync/module.h"
#include "sync/vfs.h"

namespace kmc::models {
namespace {

// The minors of access.c's devices in the region "sculla".
enum { SCULL_A_SINGLE = 0, SCULL_A_UID = 1, SCULL_A_WUID = 2, SCULL_A_PRIV = 3 };

// The access devices loaded with `Bugs` (access_bugs) seeded.
template <unsigned Bugs = 0>
struct Access {
  // Ghost: the processes holding the device and the uid they hold it as.
  int holders = 0;
  unsigned holder_uid = 0;
  int opened = 0;  // successful opens

  Access() {
    char params[96];
    std::snprintf(params, sizeof params, "scull_nr_devs=1 scull_quantum=4 scull_qset=2 access_bugs=%#x",
                  Bugs);
    KMC_ASSERT(insmod("scull", params) == 0);
  }
};

// open(2) of access device `which`; *err receives open's result.
vfs::File* OpenA(int which, unsigned flags, int* err) {
  *err = 0;
  return vfs::open(vfs::DeviceNumber("sculla", which), flags, err);
}

// A process of `uid` opens device `which` (O_RDWR), writes one byte while it
// holds it, and closes it. `single_holder` is the policy: at most one holder
// (scullsingle), or holders all of one uid (sculluid, scullwuid). Returns
// what open returned.
template <class A>
int UseDevice(A& a, int which, unsigned uid, bool single_holder) {
  SetCurrentCredentials(uid, uid);
  int r = 0;
  vfs::File* filp = OpenA(which, O_RDWR, &r);
  const bool open_result_allowed = r == 0 || r == -EBUSY;
  KMC_ASSERT(open_result_allowed);
  if (r != 0) return r;
  KMC_ASSERT(filp != nullptr);

  if (single_holder) {
    const bool at_most_one_holder = a.holders == 0;
    KMC_ASSERT(at_most_one_holder);
  } else {
    const bool one_user_at_a_time = a.holders == 0 || a.holder_uid == uid;
    KMC_ASSERT(one_user_at_a_time);
  }
  a.holders++;
  a.holder_uid = uid;
  a.opened++;

  UserBuffer ub(std::string(1, static_cast<char>('a' + uid % 26)));
  KMC_ASSERT(vfs::write(filp, ub.ptr(), 1) == 1);

  a.holders--;
  KMC_ASSERT(vfs::close(filp) == 0);
  return 0;
}

// Final checks: the device is free again, seen through its open. A uid no
// task used (2000, without CAP_DAC_OVERRIDE) gets in exactly when the count
// (scull_u_count, scull_w_count) is back to 0.
void ExpectFreeFor(int which, unsigned flags) {
  SetCurrentCredentials(2000, 2000);
  int r = 0;
  vfs::File* filp = OpenA(which, flags, &r);
  KMC_ASSERT(r == 0 && filp != nullptr);
  KMC_ASSERT(vfs::close(filp) == 0);
}

// ---------------------------------------------------------------------------
// scullsingle: one open at a time (atomic_dec_and_test on scull_s_available).

template <class A>
void SingleChecks(A& a) {
  KMC_ASSERT(a.holders == 0);
  KMC_ASSERT(a.opened >= 1);  // the first to decrement always gets in
  // scull_s_available is back to 1: one open succeeds, a second is -EBUSY.
  int r = 0;
  vfs::File* first = OpenA(SCULL_A_SINGLE, O_RDONLY, &r);
  KMC_ASSERT(r == 0 && first != nullptr);
  vfs::File* second = OpenA(SCULL_A_SINGLE, O_RDONLY, &r);
  KMC_ASSERT(r == -EBUSY && second == nullptr);
  KMC_ASSERT(vfs::close(first) == 0);
}

template <class A>
void SingleOpener(A& a, unsigned uid) {
  UseDevice(a, SCULL_A_SINGLE, uid, /*single_holder=*/true);
}

using Single = Access<>;

KMC_MODEL("scullsingle/two_openers") {
  auto f = m.Fixture<Single>();
  m.Describe("clean scullsingle: two processes open at once; one gets -EBUSY unless the other "
             "already closed; never two holders; scull_s_available back to 1");
  m.Expect(Verdict::kClean);
  f.Task("opener0", 0, [](Single& a) { SingleOpener(a, 1000); });
  f.Task("opener1", 1, [](Single& a) { SingleOpener(a, 1001); });
  f.Check([](Single& a) { SingleChecks(a); });
}

using SingleS1 = Access<SCULL_A_BUG_S1_TEST_THEN_DEC>;

KMC_MODEL("scullsingle/test_then_decrement") {
  auto f = m.Fixture<SingleS1>();
  m.Describe("S1: scull_s_open reads scull_s_available, then decrements it in a second step; "
             "both openers see 1 and both hold the device");
  m.Expect(Verdict::kAssertionFailed);
  f.Task("opener0", 0, [](SingleS1& a) { SingleOpener(a, 1000); });
  f.Task("opener1", 1, [](SingleS1& a) { SingleOpener(a, 1001); });
  f.Check([](SingleS1& a) { SingleChecks(a); });
}

// ---------------------------------------------------------------------------
// sculluid: one user at a time, others get -EBUSY (scull_u_lock).

template <class A>
void UidUser(A& a, unsigned uid) {
  UseDevice(a, SCULL_A_UID, uid, /*single_holder=*/false);
}

template <class A>
void UidChecks(A& a) {
  KMC_ASSERT(a.holders == 0);
  KMC_ASSERT(a.opened >= 1);
  ExpectFreeFor(SCULL_A_UID, O_RDONLY);  // scull_u_count == 0
}

using Uid = Access<>;

KMC_MODEL("sculluid/two_users") {
  auto f = m.Fixture<Uid>();
  m.Describe("clean sculluid: alice (two processes) and bob open at once; while the device is "
             "open only its owner's processes get in, the other user gets -EBUSY");
  m.Expect(Verdict::kClean);
  f.Task("alice", 0, [](Uid& a) { UidUser(a, 1000); });
  f.Task("bob", 1, [](Uid& a) { UidUser(a, 1001); });
  f.Task("alice2", 1, [](Uid& a) { UidUser(a, 1000); });
  f.Check([](Uid& a) { UidChecks(a); });
}

using UidU1 = Access<SCULL_A_BUG_U1_SPLIT_CRITICAL_SECTION>;

KMC_MODEL("sculluid/split_critical_section") {
  auto f = m.Fixture<UidU1>();
  m.Describe("U1: scull_u_open tests the owner and claims the device in two critical sections; "
             "alice and bob both pass the test and both get in");
  m.Expect(Verdict::kAssertionFailed);
  f.Task("alice", 0, [](UidU1& a) { UidUser(a, 1000); });
  f.Task("bob", 1, [](UidU1& a) { UidUser(a, 1001); });
  f.Check([](UidU1& a) { UidChecks(a); });
}

// ---------------------------------------------------------------------------
// scullwuid: one user at a time, others sleep on scull_w_wait.

template <class A>
void WuidUser(A& a, unsigned uid) {
  const int r = UseDevice(a, SCULL_A_WUID, uid, /*single_holder=*/false);
  KMC_ASSERT(r == 0);  // a blocking open waits, it never fails without a signal
}

template <class A>
void WuidChecks(A& a, int processes) {
  KMC_ASSERT(a.holders == 0);
  KMC_ASSERT(a.opened == processes);  // everybody got in eventually
  ExpectFreeFor(SCULL_A_WUID, O_RDONLY | O_NONBLOCK);  // scull_w_count == 0
}

using Wuid = Access<>;

KMC_MODEL("scullwuid/blocking_open") {
  auto f = m.Fixture<Wuid>();
  m.Describe("clean scullwuid: alice and bob open at once; the one who comes second sleeps on "
             "scull_w_wait until the holder closes, then gets in; never two users at once");
  m.Expect(Verdict::kClean);
  f.Task("alice", 0, [](Wuid& a) { WuidUser(a, 1000); });
  f.Task("bob", 1, [](Wuid& a) { WuidUser(a, 1001); });
  f.Check([](Wuid& a) { WuidChecks(a, 2); });
}

using WuidW1 = Access<SCULL_A_BUG_W1_IF_NOT_WHILE>;

KMC_MODEL("scullwuid/if_not_while") {
  auto f = m.Fixture<WuidW1>();
  m.Describe("W1: after waking, scull_w_open claims the device without re-testing under "
             "scull_w_lock; bob and carol both wake on alice's release and both get in");
  m.Expect(Verdict::kAssertionFailed);
  // Three processes make the exhaustive tree large (about 400,000
  // executions before the first failure); three preemptions are enough for
  // the counterexample, and its report is the short one.
  m.DefaultSearch(SearchMode::kBounded, 3);
  f.Task("alice", 0, [](WuidW1& a) { WuidUser(a, 1000); });
  f.Task("bob", 1, [](WuidW1& a) { WuidUser(a, 1001); });
  f.Task("carol", 1, [](WuidW1& a) { WuidUser(a, 1002); });
  f.Check([](WuidW1& a) { WuidChecks(a, 3); });
}

using WuidW3 = Access<SCULL_A_BUG_W3_LOST_WAKEUP>;

KMC_MODEL("scullwuid/lost_wakeup") {
  auto f = m.Fixture<WuidW3>();
  m.Describe("W3: scull_w_open checks under the spinlock, unlocks, then queues and sleeps with "
             "no re-check; a release in that window wakes nobody and the opener sleeps forever");
  m.Expect(Verdict::kDeadlock);
  f.Task("alice", 0, [](WuidW3& a) { WuidUser(a, 1000); });
  f.Task("bob", 1, [](WuidW3& a) { WuidUser(a, 1001); });
  f.Check([](WuidW3& a) { WuidChecks(a, 2); });
}

// ---------------------------------------------------------------------------
// scullpriv: a device per controlling tty, looked up and created under a
// spinlock.

constexpr unsigned kTty1 = 0x8801;  // /dev/pts/1
constexpr unsigned kTty2 = 0x8802;  // /dev/pts/2

// A process on `tty` opens scullpriv, writes one byte and closes it.
void PrivUser(unsigned tty) {
  SetCurrentTty(tty);
  int r = 0;
  vfs::File* filp = OpenA(SCULL_A_PRIV, O_RDWR, &r);
  KMC_ASSERT(r == 0 && filp != nullptr);
  UserBuffer ub(std::string("p"));
  KMC_ASSERT(vfs::write(filp, ub.ptr(), 1) == 1);
  KMC_ASSERT(vfs::close(filp) == 0);
}

using Priv = Access<>;

KMC_MODEL("scullpriv/kmalloc_under_spinlock") {
  auto f = m.Fixture<Priv>();
  m.Describe("P1 (in LDD3's own access.c): scull_c_lookfor_device allocates a new device with "
             "GFP_KERNEL while holding scull_c_lock");
  m.Expect(Verdict::kInvalidContext);
  f.Task("tty1", 0, [](Priv&) { PrivUser(kTty1); });
  f.Task("tty2", 1, [](Priv&) { PrivUser(kTty2); });
}

}  // namespace
}  // namespace kmc::models
