// Tests of sync/runner.h: search modes, determinism, replay tokens (and how
// they fail), JSON output, and the verdicts for models that are themselves
// broken (livelock, nondeterminism, no tasks). The broken models are in
// tests/runner_test_models.cc, linked into this test only.

#include "sync/runner.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "tests/model_test_util.h"

namespace kmc::runner_test_models {
// Defined in tests/runner_test_models.cc.
void ResetNondeterministicModels();
}  // namespace kmc::runner_test_models

namespace kmc {
namespace {

using ::kmc::testing::Bounded;
using ::kmc::testing::Check;
using ::kmc::testing::ExpectMatch;
using ::kmc::testing::ExpectReplayReproduces;

constexpr const char kDeadlockModel[] = "semaphore/missing_up_deadlock";
constexpr const char kRaceModel[] = "semaphore/extra_up_breaks_exclusion";

const Model& M(const std::string& name) {
  const Model* m = FindModel(name);
  EXPECT_NE(m, nullptr) << name;
  static const Model kNone("none");
  return m != nullptr ? *m : kNone;
}

// --- Replay token helpers (replicating sync/runner.cc's format) -------------

// FNV-1a, 32 bits: the hash replay tokens use for the model name and, cut to
// its low 16 bits, for the checksum.
uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string Hex(uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*x", digits, v);
  return buf;
}

// Appends a valid checksum to a token body.
std::string Sign(const std::string& body) {
  return body + "." + Hex(Fnv1a(body) & 0xffff, 4);
}

std::string Body(const std::string& token) { return token.substr(0, token.rfind('.')); }

std::string ModelHash(const std::string& name) { return Hex(Fnv1a(name), 8); }

// The reduced exhaustive search alone, without the bounded passes of
// iterative context bounding first (its tokens are kmc1.x.).
RunOptions NoIcb() {
  RunOptions o;
  o.icb_bound = -1;
  return o;
}

std::string TokenOf(const std::string& name, const RunOptions& options = {}) {
  Result r = Check(name, options);
  EXPECT_FALSE(r.replay.empty()) << name << " did not fail";
  return r.replay;
}

// Replays `token` on `model` and expects a clean rejection.
void ExpectRejected(const std::string& model, std::string_view token,
                    const std::string& error_part = "") {
  std::string error;
  std::optional<Result> r = ReplayModel(M(model), token, &error);
  EXPECT_FALSE(r.has_value()) << "token '" << token << "' was accepted: "
                              << (r ? r->report : std::string());
  EXPECT_FALSE(error.empty()) << "token '" << token << "' was rejected without a reason";
  if (!error_part.empty()) {
    EXPECT_NE(error.find(error_part), std::string::npos)
        << "token '" << token << "': error '" << error << "' lacks '" << error_part << "'";
  }
}

// --- Token format sanity ------------------------------------------------------

TEST(TokenFormatTest, OurChecksumMatchesTheRunners) {
  const std::string token = TokenOf(kDeadlockModel, NoIcb());
  ASSERT_EQ(token.rfind("kmc1.x.", 0), 0u) << token;
  EXPECT_EQ(Sign(Body(token)), token);
  EXPECT_NE(token.find("." + ModelHash(kDeadlockModel) + "."), std::string::npos) << token;
  // Only [0-9a-z.-]: safe to paste into a shell.
  EXPECT_EQ(token.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz.-"), std::string::npos)
      << token;
}

// --- Search modes -------------------------------------------------------------

RunOptions Random(uint64_t executions, uint64_t seed) {
  RunOptions o;
  o.search = SearchMode::kRandom;
  o.executions = executions;
  o.seed = seed;
  return o;
}

// A bounded search runs the passes with at most 0, 1, ..., K preemptions
// (iterative context bounding): the race needs one preemption, so the
// pass with at most one finds it, with its i1 token.
TEST(SearchModeTest, BoundedOneFindsTheBug) {
  Result r = ExpectMatch(kRaceModel, Bounded(1));
  EXPECT_EQ(r.search, SearchMode::kBounded);
  EXPECT_EQ(r.bound, 1);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.verdict, Verdict::kClean);
  EXPECT_GE(r.executions, 1u);
  EXPECT_EQ(r.preemption_bound, 1);
  EXPECT_EQ(r.preemptions, 1);
  EXPECT_EQ(r.replay.rfind("kmc1.i1.", 0), 0u) << r.replay;
  EXPECT_NE(r.report.find("of the pass with at most 1 preemption (iterative context bounding; "
                          "the passes with fewer found nothing)"),
            std::string::npos)
      << r.report;
}

TEST(SearchModeTest, BoundedTwoFindsTheBug) {
  Result r = ExpectMatch(kRaceModel, Bounded(2));
  EXPECT_EQ(r.search, SearchMode::kBounded);
  EXPECT_EQ(r.bound, 2);
  EXPECT_FALSE(r.complete);
  // Found by the same pass as with --bound=1, with the same token.
  EXPECT_EQ(r.preemption_bound, 1);
  EXPECT_EQ(r.replay, TokenOf(kRaceModel, Bounded(1)));
}

// A bounded search beyond the passes of iterative context bounding
// (RunOptions::icb_bound) ends with the pass at its own bound; an old b<K>
// token still replays as that pass.
TEST(SearchModeTest, BoundedPassBeyondTheIterativePasses) {
  RunOptions o = Bounded(2);
  o.icb_bound = 0;
  Result r = ExpectMatch(kRaceModel, o);
  EXPECT_EQ(r.preemption_bound, -1);
  EXPECT_EQ(r.replay.rfind("kmc1.b2.", 0), 0u) << r.replay;
  EXPECT_NE(r.report.find("of a bounded search (context bound 2)"), std::string::npos) << r.report;
  ExpectReplayReproduces(kRaceModel, o);
}

TEST(SearchModeTest, BoundedFindsTheDeadlock) {
  for (int bound : {1, 2}) {
    Result r = ExpectMatch(kDeadlockModel, Bounded(bound));
    EXPECT_EQ(r.verdict, Verdict::kDeadlock) << "bound " << bound;
    EXPECT_FALSE(r.complete) << "bound " << bound;
  }
}

TEST(SearchModeTest, BoundedReplayReproduces) {
  ExpectReplayReproduces(kRaceModel, Bounded(1));
  ExpectReplayReproduces(kRaceModel, Bounded(2));
  ExpectReplayReproduces(kDeadlockModel, Bounded(2));
}

TEST(SearchModeTest, BoundedSearchOfACleanModelIsNotComplete) {
  for (int bound : {1, 2}) {
    Result r = ExpectMatch("semaphore/mutual_exclusion", Bounded(bound));
    EXPECT_EQ(r.verdict, Verdict::kClean);
    EXPECT_FALSE(r.complete) << "a bounded search never explores everything";
    EXPECT_TRUE(r.replay.empty());
  }
}

TEST(SearchModeTest, RandomFindsTheBug) {
  Result r = ExpectMatch(kRaceModel, Random(50, 7));
  EXPECT_EQ(r.search, SearchMode::kRandom);
  EXPECT_EQ(r.seed, 7u);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.verdict, Verdict::kClean);
  EXPECT_GE(r.executions, 1u);
  EXPECT_LE(r.executions, 50u);
  EXPECT_EQ(r.replay.rfind("kmc1.r.", 0), 0u) << r.replay;
  EXPECT_NE(r.report.find("of a random search"), std::string::npos) << r.report;
}

// Replays a random-search failure: same verdict, a random-mode token, and
// the same report byte for byte ("found in: execution N" names the seed of
// the failing execution both when checking and when replaying).
void ExpectRandomReplayReproduces(const std::string& name, const RunOptions& options) {
  Result r = ExpectMatch(name, options);
  ASSERT_NE(r.verdict, Verdict::kClean) << name;
  ASSERT_EQ(r.replay.rfind("kmc1.r.", 0), 0u) << r.replay;
  std::string error;
  std::optional<Result> again = ReplayModel(M(name), r.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(again->verdict, r.verdict) << name;
  EXPECT_EQ(again->message, r.message) << name;
  EXPECT_EQ(again->search, SearchMode::kRandom) << name;
  EXPECT_EQ(again->report, r.report) << name;
}

TEST(SearchModeTest, RandomReplayReproduces) {
  ExpectRandomReplayReproduces(kRaceModel, Random(50, 7));
  ExpectRandomReplayReproduces(kDeadlockModel, Random(50, 7));
  ExpectRandomReplayReproduces("slab/use_after_free", Random(50, 7));
  ExpectRandomReplayReproduces("spinlock/wrong_owner", Random(50, 7));
}

// With seed 1 the execution count and the seed of the failing execution
// coincide, so the report is reproduced byte for byte.
TEST(SearchModeTest, RandomReplayWithSeedOneReproducesByteForByte) {
  ExpectReplayReproduces(kRaceModel, Random(50, 1));
  ExpectReplayReproduces(kDeadlockModel, Random(50, 1));
}

TEST(SearchModeTest, RandomTokenNamesTheFailingExecution) {
  Result r = Check(kRaceModel, Random(50, 7));
  ASSERT_FALSE(r.replay.empty());
  // kmc1.r.<hash>.<iteration>.<check>; the iteration is a seed in [7, 56].
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = r.replay.find('.', start);
    parts.push_back(r.replay.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  ASSERT_EQ(parts.size(), 5u) << r.replay;
  EXPECT_EQ(parts[2], ModelHash(kRaceModel));
  const uint64_t iteration = std::stoull(parts[3]);
  EXPECT_GE(iteration, 7u);
  EXPECT_LE(iteration, 56u);
  EXPECT_EQ(iteration, 7u + r.executions - 1);
}

// Regression test: a seed whose tokens could not be replayed (iterations at
// or above 2^62) is refused up front instead of producing such a token.
TEST(SearchModeTest, LargeSeedsAreRefused) {
  for (uint64_t seed : {uint64_t{1} << 62, ~uint64_t{0} - 10}) {
    Result r = Check(kDeadlockModel, Random(50, seed));
    EXPECT_EQ(r.verdict, Verdict::kModelError) << seed;
    EXPECT_TRUE(r.replay.empty()) << seed;
    EXPECT_NE(r.message.find("2^62"), std::string::npos) << r.message;
  }
}

TEST(SearchModeTest, RandomSearchOfACleanModelIsNotComplete) {
  Result r = ExpectMatch("mutex/mutual_exclusion", Random(50, 7));
  EXPECT_EQ(r.verdict, Verdict::kClean);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.executions, 50u);
  EXPECT_TRUE(r.replay.empty());
}

TEST(SearchModeTest, ExhaustiveSearchOfACleanModelIsComplete) {
  RunOptions o;
  o.search = SearchMode::kExhaustive;
  Result r = ExpectMatch("mutex/mutual_exclusion", o);
  EXPECT_TRUE(r.complete);
  EXPECT_GT(r.executions, 1u);
}

// --- Determinism --------------------------------------------------------------

TEST(DeterminismTest, SameModelTwiceGivesTheSameReport) {
  for (const char* name : {kDeadlockModel, kRaceModel, "slab/use_after_free",
                           "spinlock/wrong_owner", "semaphore/trylock_inverted"}) {
    Result a = Check(name);
    Result b = Check(name);
    EXPECT_EQ(a.verdict, b.verdict) << name;
    EXPECT_EQ(a.executions, b.executions) << name;
    EXPECT_EQ(a.message, b.message) << name;
    EXPECT_EQ(a.replay, b.replay) << name;
    EXPECT_EQ(a.report, b.report) << name;
  }
}

TEST(DeterminismTest, SameRandomSearchTwiceGivesTheSameReport) {
  Result a = Check(kRaceModel, Random(50, 7));
  Result b = Check(kRaceModel, Random(50, 7));
  EXPECT_EQ(a.replay, b.replay);
  EXPECT_EQ(a.report, b.report);
}

TEST(DeterminismTest, ReplayingTwiceGivesTheSameReport) {
  const std::string token = TokenOf(kDeadlockModel);
  std::string error;
  std::optional<Result> a = ReplayModel(M(kDeadlockModel), token, &error);
  std::optional<Result> b = ReplayModel(M(kDeadlockModel), token, &error);
  ASSERT_TRUE(a && b) << error;
  EXPECT_EQ(a->report, b->report);
  EXPECT_EQ(a->replay, token);
}

// --- Replay token robustness ------------------------------------------------------

TEST(ReplayTokenTest, ValidTokenReplays) {
  const std::string token = TokenOf(kDeadlockModel);
  std::string error;
  std::optional<Result> r = ReplayModel(M(kDeadlockModel), token, &error);
  ASSERT_TRUE(r.has_value()) << error;
  EXPECT_EQ(r->verdict, Verdict::kDeadlock);
  EXPECT_TRUE(r->match);
  EXPECT_EQ(r->model, kDeadlockModel);
}

TEST(ReplayTokenTest, EmptyTokenIsRejected) { ExpectRejected(kDeadlockModel, ""); }

TEST(ReplayTokenTest, EveryTruncationIsRejected) {
  const std::string token = TokenOf(kDeadlockModel);
  for (size_t n = 0; n < token.size(); ++n) {
    ExpectRejected(kDeadlockModel, std::string_view(token).substr(0, n));
  }
  // Cut from the front, too.
  for (size_t n = 1; n < token.size(); ++n) {
    ExpectRejected(kDeadlockModel, std::string_view(token).substr(n));
  }
}

TEST(ReplayTokenTest, EveryFlippedCharacterIsRejected) {
  const std::string token = TokenOf(kDeadlockModel);
  for (size_t i = 0; i < token.size(); ++i) {
    for (char c : std::string("0179afz.-")) {
      if (token[i] == c) continue;
      std::string bad = token;
      bad[i] = c;
      ExpectRejected(kDeadlockModel, bad);
    }
  }
}

TEST(ReplayTokenTest, WrongChecksumIsRejected) {
  const std::string token = TokenOf(kDeadlockModel);
  const std::string body = Body(token);
  const std::string good = token.substr(body.size() + 1);
  for (const char* sum : {"0000", "ffff", "zzzz", "", "0", "12345", "acfe0"}) {
    if (good == sum) continue;
    ExpectRejected(kDeadlockModel, body + "." + sum, "malformed replay token");
  }
  // Upper-case hex is a different token.
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != good) ExpectRejected(kDeadlockModel, body + "." + upper);
}

TEST(ReplayTokenTest, AnotherModelsTokenIsRejected) {
  const std::string leak = TokenOf("slab/leak");
  ExpectRejected(kDeadlockModel, leak, "another model");
  const std::string deadlock = TokenOf(kDeadlockModel);
  ExpectRejected("slab/leak", deadlock, "another model");
  ExpectRejected("mutex/mutual_exclusion", deadlock, "another model");
}

TEST(ReplayTokenTest, WrongModeIsRejected) {
  const std::string token = TokenOf(kDeadlockModel, NoIcb());
  const std::string hash = ModelHash(kDeadlockModel);
  // The decisions of an exhaustive search, labelled as a random execution.
  std::string as_random = token;
  as_random.replace(0, 7, "kmc1.r.");
  ExpectRejected(kDeadlockModel, as_random);                      // checksum
  ExpectRejected(kDeadlockModel, Sign(Body(as_random)), "malformed replay token");
  for (const char* mode : {"q", "", "b", "bx", "b-1", "xx", "rr", "b1x", "e", "i", "i-1", "ix"}) {
    ExpectRejected(kDeadlockModel, Sign("kmc1." + std::string(mode) + "." + hash + ".1.2a0-2a0"),
                   "malformed replay token");
  }
  // Wrong version prefix.
  ExpectRejected(kDeadlockModel, Sign("kmc2.x." + hash + ".1.2a0-2a0"), "malformed replay token");
  ExpectRejected(kDeadlockModel, Sign("x." + hash + ".1.2a0-2a0"), "malformed replay token");
}

TEST(ReplayTokenTest, HugeNumbersAreRejected) {
  const std::string h = ModelHash(kDeadlockModel);
  const std::vector<std::string> bodies = {
      "kmc1.x." + h + ".99999999999999999999999999.2a0-2a0",  // iteration overflows
      "kmc1.x." + h + ".18446744073709551616.2a0-2a0",        // 2^64
      "kmc1.x." + h + ".18446744073709551615.2a0-2a0",        // 2^64 - 1
      "kmc1.x." + h + ".4611686018427387905.2a0-2a0",         // 2^62 + 1
      "kmc1.x." + h + ".0.2a0-2a0",                           // no execution 0
      "kmc1.x." + h + ".1.99999999999999999999a0-2a0",        // count overflows
      "kmc1.x." + h + ".1.4097a0-2a0",                        // count above the limit
      "kmc1.x." + h + ".1.2a99999999999999999999-2a0",        // index overflows
      "kmc1.x." + h + ".1.4294967298a1-2a0",                  // 2^32 + 2: wraps to 2 in 32 bits
      "kmc1.b99999999999999999999." + h + ".1.2a0-2a0",       // bound overflows
      "kmc1.b1001." + h + ".1.2a0-2a0",                       // bound above the limit
      "kmc1.r." + h + ".99999999999999999999999",             // random iteration overflows
      "kmc1.r." + h + ".4611686018427387905",                 // 2^62 + 1
      "kmc1.r." + h + ".0",
  };
  for (const auto& body : bodies) ExpectRejected(kDeadlockModel, Sign(body));
}

TEST(ReplayTokenTest, OversizedTokenIsRejected) {
  const std::string h = ModelHash(kDeadlockModel);
  std::string nodes = "2a0";
  while (nodes.size() < (1u << 20) + 10) nodes += "-2a0";
  ExpectRejected(kDeadlockModel, Sign("kmc1.x." + h + ".1." + nodes), "too long");
}

TEST(ReplayTokenTest, GarbageAndShellMetacharactersAreRejected) {
  const std::string token = TokenOf(kDeadlockModel);
  const std::vector<std::string> garbage = {
      "$(rm -rf /)",
      "`id`",
      "; echo pwned",
      "a|b&&c||d>e<f",
      "'\"\\",
      "*?[]{}~#!",
      token + "; ls",
      token + " ",
      " " + token,
      token + "\n",
      std::string(token).replace(0, 4, "KMC1"),
      "kmc1",
      ".",
      "..",
      "....",
      "-",
      "kmc1.x...",
      "kmc1.x.0.0.0.0",
      "\xff\xfe",
      "\xc3\xa9t\xc3\xa9",  // UTF-8
      std::string("kmc1\0x", 6),
      std::string(5000, 'a'),
      std::string(5000, '.'),
  };
  for (const auto& g : garbage) ExpectRejected(kDeadlockModel, g);
}

TEST(ReplayTokenTest, StructurallyBadDecisionsAreRejected) {
  const std::string h = ModelHash(kDeadlockModel);
  const std::vector<std::string> decisions = {
      "2a2",      // index == count
      "2a3",      // index > count
      "1a1",      // index == count
      "0a0",      // no alternatives
      "2a0-0a0",  // no alternatives, second node
      "2a0-2a2",  // index == count, second node
      "2f0",      // no decision type f
      "2z0",      // no decision type z
      "2A0",      // upper case
      "a0",       // no count
      "2a",       // no index
      "2",        // neither type nor index
      "2a0-",     // empty node
      "-2a0",     // empty node
      "2a0--2a0", // empty node
      "",         // no decisions (the empty path is spelled "0")
      "2aa0",     // two types
      "2a0a",     // trailing letter
  };
  for (const auto& d : decisions) {
    ExpectRejected(kDeadlockModel, Sign("kmc1.x." + h + ".1." + d), "malformed replay token");
  }
  // Missing or extra fields.
  ExpectRejected(kDeadlockModel, Sign("kmc1.x." + h + ".1"), "malformed replay token");
  ExpectRejected(kDeadlockModel, Sign("kmc1.x." + h + ".1.2a0.2a0"), "malformed replay token");
  ExpectRejected(kDeadlockModel, Sign("kmc1.r." + h + ".1.2a0"), "malformed replay token");
}

// A checksum-valid token whose decisions do not fit the model's execution
// must end in the nondeterminism verdict, not in a crash and not in a bug
// report of the model.
void ExpectNondeterministicReplay(const std::string& model, const std::string& body) {
  const std::string token = Sign(body);
  std::string error;
  std::optional<Result> r = ReplayModel(M(model), token, &error);
  ASSERT_TRUE(r.has_value()) << token << ": " << error;
  EXPECT_EQ(r->verdict, Verdict::kNondeterministic)
      << token << " replayed as " << VerdictName(r->verdict) << "\n"
      << r->report;
  EXPECT_FALSE(r->match) << token;
  EXPECT_NE(r->message.find("nondeterministic"), std::string::npos) << r->message;
  EXPECT_FALSE(r->report.empty());
}

TEST(ReplayTokenTest, DecisionsThatDoNotFitAreNondeterministic) {
  const std::string h = ModelHash(kDeadlockModel);
  // Two tasks: the second decision picks one of 2 runnable tasks, not of 3.
  // (The first decision of each token stays within the task count: see
  // FirstDecisionOutOfRangeIsNondeterministic.)
  ExpectNondeterministicReplay(kDeadlockModel, "kmc1.x." + h + ".1.3a0-3a0");
  ExpectNondeterministicReplay(kDeadlockModel, "kmc1.x." + h + ".1.3a1-3a2");
  ExpectNondeterministicReplay(kDeadlockModel, "kmc1.x." + h + ".1.2a0-4096a4095");
  ExpectNondeterministicReplay(kDeadlockModel, "kmc1.x." + h + ".1.2a1-1a0");
  // Right count, wrong decision type.
  ExpectNondeterministicReplay(kDeadlockModel, "kmc1.x." + h + ".1.2a0-2e1");
  ExpectNondeterministicReplay(kDeadlockModel, "kmc1.x." + h + ".1.2a0-2d0");
  // The same in a bounded token.
  ExpectNondeterministicReplay(kDeadlockModel, "kmc1.b2." + h + ".1.3a1-3a1");
}

TEST(ReplayTokenTest, DecisionsThatDoNotFitARaceModelAreNondeterministic) {
  const std::string h = ModelHash(kRaceModel);
  ExpectNondeterministicReplay(kRaceModel, "kmc1.x." + h + ".3.3a0-7a6-7a6");
  ExpectNondeterministicReplay(kRaceModel, "kmc1.x." + h + ".3.3a2-2a1-2a1-2a1-2a1");
}

// A random-search token whose execution does not fail.
TEST(ReplayTokenTest, RandomTokenOfACleanExecutionIsNondeterministic) {
  const std::string h = ModelHash("mutex/mutual_exclusion");
  ExpectNondeterministicReplay("mutex/mutual_exclusion", "kmc1.r." + h + ".12345");
  ExpectNondeterministicReplay("mutex/mutual_exclusion", "kmc1.r." + h + ".4611686018427387904");
}

// An exhaustive token of a clean model: the named execution does not fail.
TEST(ReplayTokenTest, ExhaustiveTokenOfACleanExecutionIsNondeterministic) {
  const std::string h = ModelHash("mutex/mutual_exclusion");
  ExpectNondeterministicReplay("mutex/mutual_exclusion", "kmc1.x." + h + ".1.0");
  ExpectNondeterministicReplay("mutex/mutual_exclusion", "kmc1.x." + h + ".4611686018427387904.0");
  ExpectNondeterministicReplay("mutex/mutual_exclusion", "kmc1.x." + h + ".1.2a1-2a1-2a1");
}

// Regression test for a fixed bug (sync/internal/relacy_shim.cc, KmcTreeScheduler): the first decision
// of every execution is not validated. Relacy's
// tree_search_scheduler::iteration_begin_impl() calls its own rand_impl()
// (a non-virtual, statically bound call), not KmcTreeScheduler::rand_impl(),
// so the first node of a replay token is used unchecked: its index picks
// running_threads[index] past the end of the vector, and the engine switches
// to a garbage fiber. Repro: `kmc replay semaphore/extra_up_breaks_exclusion
// kmc1.x.c74704f6.1.7a6.ab75` dies with SIGSEGV (exit 139). For one-task
// models the first decision is the only one, so a wrong count there is
// never noticed: `kmc replay slab/leak kmc1.x.6532481d.1.2a1.6259` prints
// the kmemleak report and exits 0.
TEST(ReplayTokenTest, FirstDecisionOutOfRangeIsNondeterministic) {
  ExpectNondeterministicReplay(kRaceModel, "kmc1.x." + ModelHash(kRaceModel) + ".1.7a6");
  ExpectNondeterministicReplay(kRaceModel, "kmc1.x." + ModelHash(kRaceModel) + ".1.4096a4095");
  ExpectNondeterministicReplay(kDeadlockModel,
                               "kmc1.x." + ModelHash(kDeadlockModel) + ".1.3a2-3a2");
  ExpectNondeterministicReplay("slab/leak", "kmc1.x." + ModelHash("slab/leak") + ".1.2a1");
  ExpectNondeterministicReplay("slab/leak", "kmc1.x." + ModelHash("slab/leak") + ".1.1e0");
}

// Regression test for a fixed bug (sync/runner.cc, ReplayInto): EngineOutcome::diverged is never read.
// A diverging decision is only noticed by Runtime::Step() at the task's
// next scheduling point; when the execution fails before taking another
// step, the replay reports the model's own bug as if the token had been
// valid. runner_test/one_step_then_fail's tasks each take one step and then
// fail; its real token is ...1.2a0-2a0, and ...1.2a0-3a0 (3 alternatives
// where the execution has 2) replays as "assertion failed". Repro with a
// shipped model: `kmc replay spinlock/wrong_owner
// kmc1.x.2050d5d8.1.2a0-3a0.615a` prints the invalid-context report and
// exits 0.
TEST(ReplayTokenTest, DivergenceWithoutALaterStepIsNondeterministic) {
  const std::string h = ModelHash("runner_test/one_step_then_fail");
  ExpectNondeterministicReplay("runner_test/one_step_then_fail", "kmc1.x." + h + ".1.2a0-3a0");
  ExpectNondeterministicReplay("spinlock/wrong_owner",
                               "kmc1.x." + ModelHash("spinlock/wrong_owner") + ".1.2a0-3a0");
}

// The same model, with the divergence at a point where another step follows:
// detected.
TEST(ReplayTokenTest, DivergenceBeforeALaterStepIsNondeterministic) {
  const std::string h = ModelHash("runner_test/one_step_then_fail");
  ExpectNondeterministicReplay("runner_test/one_step_then_fail", "kmc1.x." + h + ".1.2a1-3a0");
  Result r = ExpectMatch("runner_test/one_step_then_fail", NoIcb());
  EXPECT_EQ(r.replay, Sign("kmc1.x." + h + ".1.2a0-2a0"));
}

// Regression test for a fixed bug (sync/internal/relacy_shim.cc): nothing checks that a replayed
// execution consumed every decision of its token. Relacy's
// iteration_end_impl() only RL_VERIFYs stree_depth_ == stree_.size(), which
// is compiled out, so a token with decisions appended after the failure
// replays as the original failure. Repro: `kmc replay
// semaphore/missing_up_deadlock kmc1.x.0cd25dc6.1.2a0-2a0-2a1-2a1-2a1.4613`
// prints the deadlock report and exits 0.
TEST(ReplayTokenTest, ExtraTrailingDecisionsAreNondeterministic) {
  const std::string token = TokenOf(kDeadlockModel);
  ExpectNondeterministicReplay(kDeadlockModel, Body(token) + "-2a1-2a1-2a1");
}

// --- Initial values of atomics --------------------------------------------------

// Regression test: the engine cell of an atomic_t is created lazily by the
// first task that touches it. Its ATOMIC_INIT value used to be written as a
// relaxed store *by that task*, so another task that had not synchronized
// with it could read "before" that store: Relacy's relaxed load walked back
// past the only history record and reported an uninitialized access. Two
// tasks that only atomic_read() an ATOMIC_INIT(5) counter got the verdict
// "uninitialized read" (bare headline "kmc: uninitialized read", no
// details) in every search mode. Fixed in sync/internal/relacy_shim.cc
// (NewAtomicCell seeds the initial record) while these tests were written.
TEST(AtomicInitTest, ReadingAnInitializedAtomicFromTwoTasksIsClean) {
  for (const RunOptions& o : {RunOptions{}, Bounded(2), Random(200, 1)}) {
    Result r = Check("runner_test/two_readers_of_initialized_atomic", o);
    EXPECT_EQ(r.verdict, Verdict::kClean) << SearchModeName(r.search) << ": " << r.report;
  }
}

// The same bug on a shipped model: with --search=random --seed=7 the lost
// update was reported as "uninitialized read".
TEST(AtomicInitTest, RandomSearchOfReadThenSetFindsTheLostUpdate) {
  Result r = ExpectMatch("atomic/read_then_set_loses_update", Random(50, 7));
  EXPECT_EQ(r.verdict, Verdict::kAssertionFailed);
}

// --- JSON -------------------------------------------------------------------------

TEST(JsonTest, FailingResultHasTheDocumentedFields) {
  Result r = Check(kDeadlockModel);
  const std::string json = ResultToJson(r);
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
  EXPECT_EQ(json.find('\n'), std::string::npos) << json;
  EXPECT_NE(json.find("\"model\": \"semaphore/missing_up_deadlock\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"expected\": \"deadlock\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"verdict\": \"deadlock\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"match\": true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"search\": \"exhaustive\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"complete\": false"), std::string::npos) << json;
  EXPECT_NE(json.find("\"executions\": " + std::to_string(r.executions)), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"seconds\": "), std::string::npos) << json;
  EXPECT_NE(json.find("\"replay\": \"" + r.replay + "\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"message\": \"" + r.message + "\""), std::string::npos) << json;
  // Fields in the documented order.
  size_t last = 0;
  for (const char* field : {"\"model\"", "\"expected\"", "\"verdict\"", "\"match\"",
                            "\"search\"", "\"complete\"", "\"executions\"", "\"seconds\"",
                            "\"replay\"", "\"message\""}) {
    const size_t pos = json.find(field);
    ASSERT_NE(pos, std::string::npos) << field << " in " << json;
    EXPECT_GT(pos, last) << field << " out of order in " << json;
    last = pos;
  }
}

TEST(JsonTest, CleanResultHasNullReplay) {
  Result r = Check("mutex/mutual_exclusion");
  const std::string json = ResultToJson(r);
  EXPECT_NE(json.find("\"verdict\": \"clean\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"complete\": true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"replay\": null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"match\": true"), std::string::npos) << json;
}

TEST(JsonTest, BoundedAndRandomResultsNameTheirParameters) {
  const std::string bounded = ResultToJson(Check(kRaceModel, Bounded(2)));
  EXPECT_NE(bounded.find("\"search\": \"bounded\""), std::string::npos) << bounded;
  EXPECT_NE(bounded.find("\"bound\": 2"), std::string::npos) << bounded;
  const std::string random = ResultToJson(Check(kRaceModel, Random(50, 7)));
  EXPECT_NE(random.find("\"search\": \"random\""), std::string::npos) << random;
  EXPECT_NE(random.find("\"seed\": 7"), std::string::npos) << random;
}

TEST(JsonTest, EscapesQuotesBackslashesAndControlCharacters) {
  Result r;
  r.model = "odd/\"name\"";
  r.expected = Verdict::kClean;
  r.verdict = Verdict::kAssertionFailed;
  r.message = "line one\nsaid \"hi\"\tand \\ left\r\x01";
  r.replay = "kmc1.x.00000000.1.0.0000";
  const std::string json = ResultToJson(r);
  EXPECT_NE(json.find("\"model\": \"odd/\\\"name\\\"\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"message\": \"line one\\nsaid \\\"hi\\\"\\tand \\\\ left\\r\\u0001\""),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find('\n'), std::string::npos) << json;
  EXPECT_EQ(json.find('\t'), std::string::npos) << json;
  EXPECT_NE(json.find("\"match\": false"), std::string::npos) << json;
}

TEST(JsonTest, EscapesARealHeadline) {
  Result r = ExpectMatch("runner_test/quote_in_message");
  ASSERT_NE(r.message.find('"'), std::string::npos) << r.message;
  const std::string json = ResultToJson(r);
  // The headline holds the assertion's source text, backslashes included:
  //   kmc: assertion failed: std::string("say \"hi\"\\") == "" && ...
  EXPECT_NE(
      json.find(
          R"json("message": "kmc: assertion failed: std::string(\"say \\\"hi\\\"\\\\\") == \"\" && n.value == 0")json"),
      std::string::npos)
      << json;
}

// --- Models that are themselves broken ---------------------------------------------

TEST(BrokenModelTest, SpinningOnAFlagNobodySetsIsALivelock) {
  Result r = ExpectMatch("runner_test/spin_on_unset_flag");
  EXPECT_EQ(r.verdict, Verdict::kLivelock);
  EXPECT_NE(r.message.find("livelock"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("2000"), std::string::npos) << r.message;
  EXPECT_NE(r.report.find("spinner"), std::string::npos) << r.report;
  EXPECT_FALSE(r.replay.empty());
}

TEST(BrokenModelTest, LivelockReplayReproduces) {
  ExpectReplayReproduces("runner_test/spin_on_unset_flag");
  ExpectReplayReproduces("runner_test/spin_while_other_exits");
}

TEST(BrokenModelTest, LivelockWithAnotherTaskExiting) {
  Result r = ExpectMatch("runner_test/spin_while_other_exits");
  EXPECT_EQ(r.verdict, Verdict::kLivelock);
}

TEST(BrokenModelTest, LivelockInEverySearchMode) {
  EXPECT_EQ(Check("runner_test/spin_on_unset_flag", Bounded(1)).verdict, Verdict::kLivelock);
  EXPECT_EQ(Check("runner_test/spin_on_unset_flag", Random(5, 3)).verdict, Verdict::kLivelock);
}

TEST(BrokenModelTest, StaticCounterIsNondeterministic) {
  runner_test_models::ResetNondeterministicModels();
  Result r = Check("runner_test/flaky_static_counter");
  EXPECT_EQ(r.verdict, Verdict::kNondeterministic) << r.report;
  EXPECT_FALSE(r.match);
  EXPECT_NE(r.message.find("nondeterministic"), std::string::npos) << r.message;
  EXPECT_FALSE(r.report.empty());
  // The process survived; a second check says the same.
  runner_test_models::ResetNondeterministicModels();
  Result again = Check("runner_test/flaky_static_counter");
  EXPECT_EQ(again.verdict, Verdict::kNondeterministic);
  EXPECT_EQ(again.report, r.report);
}

TEST(BrokenModelTest, ChangingBugIsNondeterministic) {
  runner_test_models::ResetNondeterministicModels();
  Result r = Check("runner_test/changing_bug");
  EXPECT_EQ(r.verdict, Verdict::kNondeterministic) << r.report;
  EXPECT_NE(r.report.find("first run:"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("assertion failed"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("double free"), std::string::npos) << r.report;
}

TEST(BrokenModelTest, ChangingDecisionKindIsNondeterministic) {
  runner_test_models::ResetNondeterministicModels();
  Result r = Check("runner_test/changing_decision_kind");
  EXPECT_EQ(r.verdict, Verdict::kNondeterministic) << r.report;
  EXPECT_FALSE(r.match);
  EXPECT_NE(r.message.find("nondeterministic"), std::string::npos) << r.message;
}

// Regression test for a fixed bug (sync/internal/relacy_shim.cc KmcTreeScheduler::rand_impl): when the
// re-run of a failing execution makes more decisions than the replay state
// holds, the extra ones are silently explored from index 0 instead of being
// reported as a divergence. A model whose static counter adds steps to every
// other execution (runner_test/changing_path_longer) is therefore reported
// as its ordinary bug ("assertion failed", match = true), and the report's
// interleaving shows three atomic_inc steps of t0 that the execution the
// search found never took.
// A deterministic model can never need more decisions on a re-run than the
// recorded path, so any decision past the end of the replay state is a
// divergence.
TEST(BrokenModelTest, LongerReRunIsNondeterministic) {
  runner_test_models::ResetNondeterministicModels();
  Result r = Check("runner_test/changing_path_longer", NoIcb());
  EXPECT_EQ(r.verdict, Verdict::kNondeterministic) << r.report;
  EXPECT_FALSE(r.match);
  EXPECT_NE(r.message.find("took another path"), std::string::npos) << r.message;
  // What the search saw first is the evidence a user needs: it stays in the report.
  EXPECT_NE(r.report.find("first run:  assertion failed"), std::string::npos) << r.report;
}

TEST(BrokenModelTest, NondeterministicInRandomMode) {
  runner_test_models::ResetNondeterministicModels();
  Result r = Check("runner_test/flaky_static_counter", Random(10, 1));
  EXPECT_EQ(r.verdict, Verdict::kNondeterministic) << r.report;
}

TEST(BrokenModelTest, NoTasksIsAModelError) {
  Result r = Check("runner_test/no_tasks");
  EXPECT_EQ(r.verdict, Verdict::kModelError);
  EXPECT_FALSE(r.match);
  EXPECT_FALSE(r.message.empty());
  EXPECT_TRUE(r.replay.empty());
  EXPECT_NE(ResultToJson(r).find("\"verdict\": \"model error\""), std::string::npos);
}

TEST(BrokenModelTest, NoFixtureIsAModelError) {
  Result r = Check("runner_test/nothing_at_all");
  EXPECT_EQ(r.verdict, Verdict::kModelError);
  EXPECT_FALSE(r.match);
}

TEST(BrokenModelTest, TooManyTasksIsAModelError) {
  Result r = Check("runner_test/too_many_tasks");
  EXPECT_EQ(r.verdict, Verdict::kModelError) << r.report;
  EXPECT_FALSE(r.match);
  EXPECT_NE(r.message.find("8"), std::string::npos) << r.message;
}

TEST(BrokenModelTest, ReplayOnAModelWithoutTasksDoesNotCrash) {
  std::string error;
  const std::string token = Sign("kmc1.x." + ModelHash("runner_test/no_tasks") + ".1.1a0");
  std::optional<Result> r = ReplayModel(M("runner_test/no_tasks"), token, &error);
  if (r.has_value()) {
    EXPECT_NE(r->verdict, Verdict::kClean);
  } else {
    EXPECT_FALSE(error.empty());
  }
}

// After all of the above, the engine still checks ordinary models correctly.
TEST(BrokenModelTest, EngineStillWorksAfterBrokenModels) {
  runner_test_models::ResetNondeterministicModels();
  (void)Check("runner_test/flaky_static_counter");
  (void)Check("runner_test/spin_on_unset_flag");
  (void)Check("runner_test/too_many_tasks");
  ExpectReplayReproduces(kDeadlockModel);
  Result r = ExpectMatch("semaphore/mutual_exclusion");
  EXPECT_TRUE(r.complete);
}

}  // namespace
}  // namespace kmc

namespace kmc::testing {
namespace {

// A search budget stops an exhaustive search early: the verdict stays
// "clean" (nothing was found in the executions run) but the result is not
// complete, so it is never mistaken for a proof.
TEST(SearchBudgetTest, BudgetStopsTheSearchAndIsNotAProof) {
  RunOptions o;
  o.max_executions = 10;
  Result r = Check("rwsem/readers_and_writer", o);
  EXPECT_EQ(r.verdict, Verdict::kClean);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.executions, 10u);
  EXPECT_NE(r.message.find("not a proof"), std::string::npos) << r.message;
  // Without the budget the same search finishes and is complete.
  Result full = Check("rwsem/readers_and_writer");
  EXPECT_TRUE(full.complete);
  EXPECT_GT(full.executions, 10u);
}

// A failure found within the budget is reported as usual.
TEST(SearchBudgetTest, FailuresWithinTheBudgetAreReported) {
  RunOptions o;
  o.max_executions = 1000;
  Result r = Check("semaphore/missing_up_deadlock", o);
  EXPECT_EQ(r.verdict, Verdict::kDeadlock);
  EXPECT_FALSE(r.replay.empty());
}

}  // namespace
}  // namespace kmc::testing
