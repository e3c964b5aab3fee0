// Runs the real kmc binary (//tools:kmc, a data dependency) and checks its
// output and exit status: 0 when every verdict matches, 1 when one does not,
// 2 on a usage error.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

struct CmdResult {
  int exit_code = -1;
  std::string out;  // what was captured (stdout, stderr or both)
};

enum class Capture { kStdout, kStderr, kBoth };

// The kmc binary in the test's runfiles.
std::string KmcPath() {
  std::vector<std::string> candidates;
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(std::string(srcdir) + "/kmc/tools/kmc");
  }
  candidates.push_back("tools/kmc");  // the working directory is the runfiles' kmc/
  candidates.push_back("kmc/tools/kmc");
  candidates.push_back("../kmc/tools/kmc");
  for (const auto& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

CmdResult Kmc(const std::vector<std::string>& args, Capture capture = Capture::kStdout) {
  CmdResult r;
  const std::string kmc = KmcPath();
  if (kmc.empty()) {
    ADD_FAILURE() << "kmc binary not found in the runfiles";
    return r;
  }
  std::string cmd = Quote(kmc);
  for (const auto& a : args) cmd += " " + Quote(a);
  switch (capture) {
    case Capture::kStdout: cmd += " 2>/dev/null"; break;
    case Capture::kStderr: cmd += " 2>&1 >/dev/null"; break;
    case Capture::kBoth: cmd += " 2>&1"; break;
  }
  cmd += " </dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen failed: " << cmd;
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status)) << cmd << " did not exit normally (status " << status << ")";
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// Model names from `kmc list` (first column, after the header).
std::vector<std::string> ListedModels() {
  CmdResult r = Kmc({"list"});
  std::vector<std::string> names;
  std::vector<std::string> lines = Lines(r.out);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string name = lines[i].substr(0, lines[i].find(' '));
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

// The report `kmc check` prints for a single model: from its first rule to
// the end of the output.
std::string ReportSection(const std::string& out) {
  const size_t pos = out.find("==================================================================\n");
  return pos == std::string::npos ? std::string() : out.substr(pos);
}

// The value of "replay" in a one-result JSON array.
std::string JsonReplay(const std::string& json) {
  const std::string key = "\"replay\": \"";
  const size_t pos = json.find(key);
  if (pos == std::string::npos) return "";
  const size_t start = pos + key.size();
  return json.substr(start, json.find('"', start) - start);
}

uint32_t Fnv1a(const std::string& s) {
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

std::string Sign(const std::string& body) {
  return body + "." + Hex(Fnv1a(body) & 0xffff, 4);
}

TEST(CliTest, BinaryIsInTheRunfiles) { EXPECT_FALSE(KmcPath().empty()); }

// --- list ---------------------------------------------------------------------

TEST(CliTest, ListExitsZeroAndPrintsModelNames) {
  CmdResult r = Kmc({"list"});
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.rfind("MODEL", 0), 0u) << r.out;
  for (const char* name : {"semaphore/missing_up_deadlock", "spinlock/recursion", "slab/leak",
                           "mutex/mutual_exclusion", "uaccess/fault_paths",
                           "atomic/inc_return_counts", "bitops/test_and_set_bit_lock"}) {
    EXPECT_NE(r.out.find("\n" + std::string(name) + " "), std::string::npos) << name;
  }
  // The runner's test-only models are not part of the binary.
  EXPECT_EQ(r.out.find("runner_test/"), std::string::npos) << r.out;
  const std::vector<std::string> names = ListedModels();
  EXPECT_GE(names.size(), 29u);
  for (size_t i = 1; i < names.size(); ++i) EXPECT_LT(names[i - 1], names[i]) << "sorted";
}

TEST(CliTest, ListTakesNoArguments) {
  EXPECT_EQ(Kmc({"list", "extra"}).exit_code, 2);
}

// --- check ----------------------------------------------------------------------

// `check --all --json` over every model is the main job (README quick start);
// each model's verdict is asserted by its own suite, so this test checks the
// JSON shape on a fixed set of fast models, clean and failing.
TEST(CliTest, CheckJsonReportsEveryRequestedModel) {
  const std::vector<std::string> models = {
      "atomic/inc_return_counts", "semaphore/missing_up_deadlock", "slab/leak",
      "spinlock/recursion", "mutex/mutual_exclusion"};
  std::vector<std::string> args = {"check", "--json"};
  args.insert(args.end(), models.begin(), models.end());
  CmdResult r = Kmc(args);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines.front(), "[");
  EXPECT_EQ(lines.back(), "]");
  size_t entries = 0;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    const std::string& e = lines[i];
    ASSERT_NE(e.find('{'), std::string::npos) << e;
    EXPECT_NE(e.find("\"model\": \"" + models[entries] + "\""), std::string::npos) << e;
    ++entries;
    EXPECT_NE(e.find("\"match\": true"), std::string::npos) << e;
    EXPECT_EQ(e.find("\"match\": false"), std::string::npos) << e;
    for (const char* field : {"\"model\": ", "\"expected\": ", "\"verdict\": ", "\"search\": ",
                              "\"complete\": ", "\"executions\": ", "\"seconds\": ",
                              "\"replay\": ", "\"message\": "}) {
      EXPECT_NE(e.find(field), std::string::npos) << field << " in " << e;
    }
    // Every entry but the last ends with a comma.
    EXPECT_EQ(e.back() == ',', i + 2 < lines.size()) << e;
  }
  EXPECT_EQ(entries, models.size());
}

TEST(CliTest, CheckOneModelPrintsItsReport) {
  CmdResult r = Kmc({"check", "semaphore/missing_up_deadlock"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 of 1 models match their expected verdict."), std::string::npos)
      << r.out;
  const std::string report = ReportSection(r.out);
  EXPECT_NE(report.find("blocked forever"), std::string::npos) << r.out;
  EXPECT_NE(report.find("replay:   bazel run //:kmc -- replay semaphore/missing_up_deadlock kmc1."),
            std::string::npos)
      << r.out;
}

TEST(CliTest, CheckInOtherSearchModes) {
  CmdResult bounded = Kmc({"check", "--search=bounded", "--bound=1", "semaphore/extra_up_breaks_exclusion"});
  EXPECT_EQ(bounded.exit_code, 0) << bounded.out;
  EXPECT_NE(bounded.out.find("bounded(1)"), std::string::npos) << bounded.out;
  CmdResult random = Kmc({"check", "--search=random", "--executions=50", "--seed=7", "--json",
                    "semaphore/extra_up_breaks_exclusion"});
  EXPECT_EQ(random.exit_code, 0) << random.out;
  EXPECT_NE(random.out.find("\"search\": \"random\""), std::string::npos) << random.out;
  EXPECT_NE(random.out.find("\"seed\": 7"), std::string::npos) << random.out;
  EXPECT_NE(random.out.find("\"complete\": false"), std::string::npos) << random.out;
  CmdResult pct = Kmc({"check", "--search=pct", "--depth=2", "--executions=200", "--seed=3",
                       "scullsingle/test_then_decrement"});
  EXPECT_EQ(pct.exit_code, 0) << pct.out;
  EXPECT_NE(pct.out.find("pct(2)"), std::string::npos) << pct.out;
  EXPECT_NE(pct.out.find("scullsingle/test_then_decrement: pct, depth 2 (not a proof): n = 2 "
                         "threads, k = "),
            std::string::npos)
      << pct.out;
  EXPECT_NE(pct.out.find("of a pct search (depth 2: "), std::string::npos) << pct.out;
}

// Flags that do not apply to PCT, and PCT's own flag elsewhere, are usage
// errors.
TEST(CliTest, PctFlagsThatDoNotApplyExitTwo) {
  const char* m = "scullsingle/test_then_decrement";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"check", "--search=pct", "--bound=2", m},
           {"check", "--search=pct", "--max_executions=5", m},
           {"check", "--search=pct", "--icb=1", m},
           {"check", "--depth=2", m},
           {"check", "--search=random", "--depth=2", m},
           {"check", "--search=pct", "--depth=0", m},
           {"check", "--search=pct", "--depth=65", m},
       }) {
    CmdResult r = Kmc(args, Capture::kStderr);
    EXPECT_EQ(r.exit_code, 2) << args[1] << " " << args[2] << ": " << r.out;
  }
  CmdResult r = Kmc({"check", "--depth=2", m}, Capture::kStderr);
  EXPECT_NE(r.out.find("--depth applies only to --search=pct"), std::string::npos) << r.out;
}

// --lockdep_scope=driver: the graph travels from one model's worker to the
// next model of the driver; alone (or with the default scope) both are clean.
TEST(CliTest, LockdepScopeDriverSharesTheGraphAcrossWorkers) {
  CmdResult apart = Kmc({"check", "--jobs=2", "lockdep_scope/ab", "lockdep_scope/ba"});
  EXPECT_EQ(apart.exit_code, 0) << apart.out;
  CmdResult together = Kmc({"check", "--jobs=2", "--lockdep_scope=driver", "lockdep_scope/ab",
                            "lockdep_scope/ba"});
  EXPECT_EQ(together.exit_code, 1) << together.out;
  EXPECT_NE(together.out.find("1 of 2 models match their expected verdict."), std::string::npos)
      << together.out;
  EXPECT_NE(together.out.find("MISMATCH: ======"), std::string::npos) << together.out;
  EXPECT_NE(together.out.find("WARNING: possible circular locking dependency detected\n"),
            std::string::npos)
      << together.out;
  EXPECT_NE(together.out.find("(opener/101, model lockdep_scope/ab, execution 1)"),
            std::string::npos)
      << together.out;
  CmdResult bad = Kmc({"check", "--lockdep_scope=kernel", "lockdep_scope/ab"}, Capture::kStderr);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("bad value for --lockdep_scope: kernel (model or driver)"),
            std::string::npos)
      << bad.out;
}

TEST(CliTest, CheckUnknownModelExitsTwo) {
  CmdResult r = Kmc({"check", "nosuch/model"}, Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("unknown model"), std::string::npos) << r.out;
}

TEST(CliTest, CheckUnknownFlagExitsTwo) {
  EXPECT_EQ(Kmc({"check", "--bogus"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--bogus", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "-x", "--all"}).exit_code, 2);
}

TEST(CliTest, CheckBadSearchExitsTwo) {
  CmdResult r = Kmc({"check", "--search=foo", "--all"}, Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--search"), std::string::npos) << r.out;
  EXPECT_EQ(Kmc({"check", "--search", "foo", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--search=", "--all"}).exit_code, 2);
}

TEST(CliTest, CheckBadNumbersExitTwo) {
  EXPECT_EQ(Kmc({"check", "--bound=x", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--bound=-1", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--bound=65", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--bound", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--executions=0", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--executions=1e3", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--seed=99999999999999999999", "--all"}).exit_code, 2);
  EXPECT_EQ(Kmc({"check", "--json=maybe", "--all"}).exit_code, 2);
}

TEST(CliTest, CheckBadShardExitsTwo) {
  for (const char* bad : {"--shard=2/2", "--shard=1", "--shard=a/b", "--shard=0/0", "--shard=-1/2",
                          "--shard=0/1025", "--shard=/2", "--shard=1/", "--shard=0/2/3"}) {
    CmdResult r = Kmc({"check", bad, "slab/leak"}, Capture::kStderr);
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.out.find("bad value for --shard"), std::string::npos) << bad << ": " << r.out;
  }
  CmdResult icb = Kmc({"check", "--shard=0/2", "--icb=1", "slab/leak"}, Capture::kStderr);
  EXPECT_EQ(icb.exit_code, 2);
  EXPECT_NE(icb.out.find("--icb does not apply with --shard"), std::string::npos) << icb.out;
  EXPECT_EQ(Kmc({"check", "--shard=1/2", "scull/writers_and_reader"}).exit_code, 0);
}

// --jobs=2 splits a large model (Model::Large) into two shards and prints
// one merged result.
TEST(CliTest, JobsSplitsALargeModelIntoShards) {
  CmdResult r = Kmc({"check", "--jobs=2", "--json", "--max_executions=300",
                     "scullpipe/two_writers_one_reader", "slab/leak"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"shards\": 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"executions\": 600"), std::string::npos) << r.out;
}

TEST(CliTest, CheckWithNoArgumentsExitsTwo) {
  CmdResult r = Kmc({"check"}, Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("usage:"), std::string::npos) << r.out;
}

TEST(CliTest, CheckNamesAndAllExitsTwo) {
  EXPECT_EQ(Kmc({"check", "--all", "slab/leak"}).exit_code, 2);
}

// --- replay -----------------------------------------------------------------------

TEST(CliTest, ReplayOfMalformedTokenExitsTwo) {
  CmdResult r = Kmc({"replay", "semaphore/missing_up_deadlock", "not-a-token"}, Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("malformed replay token"), std::string::npos) << r.out;
  CmdResult out = Kmc({"replay", "semaphore/missing_up_deadlock", "not-a-token"});
  EXPECT_TRUE(out.out.empty()) << "nothing on stdout: " << out.out;
}

TEST(CliTest, ReplayOfShellMetacharactersExitsTwo) {
  for (const char* token : {"$(touch /tmp/kmc_cli_test_pwned)", "`id`", "a;b", "x|y", "'\"",
                            ""}) {
    CmdResult r = Kmc({"replay", "semaphore/missing_up_deadlock", token}, Capture::kStderr);
    EXPECT_EQ(r.exit_code, 2) << token;
    EXPECT_NE(r.out.find("malformed replay token"), std::string::npos) << token << ": " << r.out;
  }
}

TEST(CliTest, ReplayReproducesTheCheckReport) {
  CmdResult json = Kmc({"check", "semaphore/missing_up_deadlock", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.out;
  const std::string token = JsonReplay(json.out);
  ASSERT_EQ(token.rfind("kmc1.", 0), 0u) << json.out;

  CmdResult check = Kmc({"check", "semaphore/missing_up_deadlock"});
  ASSERT_EQ(check.exit_code, 0) << check.out;
  const std::string report = ReportSection(check.out);
  ASSERT_FALSE(report.empty()) << check.out;
  EXPECT_NE(report.find(token), std::string::npos) << "same token in both runs";

  CmdResult replay = Kmc({"replay", "semaphore/missing_up_deadlock", token});
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  EXPECT_EQ(replay.out, report);
}

// --fine_grained: the token says so, and replay needs no flag to print the
// same report.
TEST(CliTest, FineGrainedCheckAndReplay) {
  CmdResult check = Kmc({"check", "atomic/plain_counter_race", "--fine_grained"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_NE(check.out.find("exhaustive+fine"), std::string::npos) << check.out;
  const std::string report = ReportSection(check.out);
  ASSERT_FALSE(report.empty()) << check.out;
  EXPECT_NE(report.find("interleaving: fine-grained"), std::string::npos) << report;
  CmdResult json = Kmc({"check", "atomic/plain_counter_race", "--fine_grained", "--json"});
  EXPECT_NE(json.out.find("\"fine_grained\": true"), std::string::npos) << json.out;
  const std::string token = JsonReplay(json.out);
  ASSERT_NE(token.find("g."), std::string::npos) << token;
  CmdResult replay = Kmc({"replay", "atomic/plain_counter_race", token});
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  EXPECT_EQ(replay.out, report);
  CmdResult bad = Kmc({"check", "atomic/plain_counter_race", "--fine_grained=maybe"},
                      Capture::kStderr);
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  CmdResult off = Kmc({"check", "fine/lost_update", "--nofine_grained"});
  EXPECT_EQ(off.exit_code, 1) << off.out;  // clean, expected assertion failed
}

TEST(CliTest, ReplayOfAnotherModelsTokenExitsTwo) {
  CmdResult json = Kmc({"check", "slab/leak", "--json"});
  const std::string token = JsonReplay(json.out);
  ASSERT_FALSE(token.empty()) << json.out;
  CmdResult r = Kmc({"replay", "semaphore/missing_up_deadlock", token}, Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("another model"), std::string::npos) << r.out;
}

// A well-formed token naming an execution that does not fail: the replay
// verdict ("nondeterministic model") is not what the model expects.
TEST(CliTest, ReplayWithAnUnexpectedVerdictExitsOne) {
  const std::string token = Sign("kmc1.x." + Hex(Fnv1a("mutex/mutual_exclusion"), 8) + ".1.0");
  CmdResult r = Kmc({"replay", "mutex/mutual_exclusion", token});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("nondeterministic"), std::string::npos) << r.out;
}

TEST(CliTest, ReplayUsageErrorsExitTwo) {
  EXPECT_EQ(Kmc({"replay"}).exit_code, 2);
  EXPECT_EQ(Kmc({"replay", "semaphore/missing_up_deadlock"}).exit_code, 2);
  EXPECT_EQ(Kmc({"replay", "nosuch/model", "kmc1.x.0.1.0.0000"}).exit_code, 2);
  EXPECT_EQ(Kmc({"replay", "a", "b", "c"}).exit_code, 2);
}

// --- --out -----------------------------------------------------------------------

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string Slurp(const std::string& path) {
  std::string s;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

TEST(CliTest, OutWritesThePicturesAndReplayWritesTheSame) {
  const std::string dir = TmpDir() + "/cli_out";
  CmdResult check = Kmc({"check", "scull/unlocked_write", "--out=" + dir});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  const std::string model_dir = dir + "/scull/unlocked_write/";
  for (const char* f : {"report.txt", "trace.json", "trace.html"}) {
    EXPECT_NE(check.out.find("wrote " + model_dir + f + "\n"), std::string::npos) << check.out;
    EXPECT_FALSE(Slurp(model_dir + f).empty()) << f;
  }
  EXPECT_NE(check.out.find(Slurp(model_dir + "report.txt")), std::string::npos);
  const std::string token = JsonReplay(Kmc({"check", "scull/unlocked_write", "--json"}).out);
  ASSERT_FALSE(token.empty());
  const std::string again = TmpDir() + "/cli_out_replay";
  CmdResult replay = Kmc({"replay", "scull/unlocked_write", token, "--out", again});
  EXPECT_EQ(replay.exit_code, 0) << replay.out;
  for (const char* f : {"report.txt", "trace.json", "trace.html"}) {
    EXPECT_EQ(Slurp(again + "/scull/unlocked_write/" + f), Slurp(model_dir + f)) << f;
  }
}

TEST(CliTest, OutThatCannotBeWrittenExitsTwo) {
  CmdResult r = Kmc({"check", "scull/unlocked_write", "--out=/proc/kmc-no-such-dir"},
                    Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("kmc: --out: cannot create /proc/kmc-no-such-dir"), std::string::npos)
      << r.out;
  EXPECT_EQ(Kmc({"check", "scull/unlocked_write", "--out="}).exit_code, 2);
  CmdResult list = Kmc({"list", "--out=x"}, Capture::kStderr);
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_NE(list.out.find("--out applies only to check and replay"), std::string::npos) << list.out;
}

// --- commands -------------------------------------------------------------------

TEST(CliTest, UnknownCommandExitsTwo) {
  CmdResult r = Kmc({"frobnicate"}, Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("unknown command"), std::string::npos) << r.out;
}

TEST(CliTest, NoCommandExitsTwo) {
  CmdResult r = Kmc(std::initializer_list<std::string>{}, Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("usage:"), std::string::npos) << r.out;
}

TEST(CliTest, SuppressionsFile) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  const std::string bad = dir + "/bad.supp";
  {
    std::FILE* f = std::fopen(bad.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("# known\nrace:scull_follow\nmutex:foo\n", f);
    std::fclose(f);
  }
  CmdResult r = Kmc({"check", "atomic/plain_counter_race", "--suppressions=" + bad},
                    Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(bad + ":3: unknown kind 'mutex'"), std::string::npos) << r.out;
  r = Kmc({"check", "atomic/plain_counter_race", "--suppressions=" + dir + "/missing.supp"},
          Capture::kStderr);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("cannot read suppressions file"), std::string::npos) << r.out;
  const std::string good = dir + "/good.supp";
  {
    std::FILE* f = std::fopen(good.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("race:*\n", f);
    std::fclose(f);
  }
  r = Kmc({"check", "atomic/plain_counter_race", "--suppressions=" + good, "--json"});
  EXPECT_NE(r.out.find("\"suppressed_by\": {\"race:*\": "), std::string::npos) << r.out;
}

}  // namespace
