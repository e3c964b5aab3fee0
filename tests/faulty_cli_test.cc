// `kmc check --all --json` over the faulty models (tests/kmc_faulty): a
// crash, a hang, stack overflows, abort() and exit() among healthy models.
// Every model is reported, the JSON array parses, and the exit status says
// a verdict did not match. SIGTERM in the middle of a search still closes
// the JSON, with the interrupted model's executions, and exits 143.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

std::string KmcFaulty() {
  std::vector<std::string> candidates;
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(std::string(srcdir) + "/kmc/tests/kmc_faulty");
  }
  candidates.push_back("tests/kmc_faulty");
  for (const auto& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

// Runs kmc_faulty with `args`; stdout in *out. With term_after_bytes > 0,
// sends SIGTERM once that much of stdout has arrived.
int RunKmc(const std::vector<std::string>& args, std::string* out, size_t term_after_bytes = 0,
           int sig = SIGTERM, const std::string& stderr_file = "") {
  const std::string bin = KmcFaulty();
  if (bin.empty()) {
    ADD_FAILURE() << "kmc_faulty not found";
    return -1;
  }
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    if (!stderr_file.empty()) {
      const int fd = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, 2);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  bool sent = false;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) {
    out->append(buf, static_cast<size_t>(n));
    if (term_after_bytes > 0 && !sent && out->size() >= term_after_bytes) {
      kill(pid, sig);
      sent = true;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A small strict JSON parser: an array of objects whose values are strings,
// numbers, true, false, null, or nested arrays/objects (kept as text). Fills
// one map per object.
class Json {
 public:
  explicit Json(const std::string& s) : s_(s) {}
  bool ParseArray(std::vector<std::map<std::string, std::string>>* out) {
    Ws();
    if (!Eat('[')) return false;
    Ws();
    if (Eat(']')) return End();
    for (;;) {
      std::map<std::string, std::string> obj;
      if (!Object(&obj)) return false;
      out->push_back(obj);
      Ws();
      if (Eat(']')) return End();
      if (!Eat(',')) return false;
      Ws();
    }
  }

 private:
  bool End() {
    Ws();
    return p_ == s_.size();
  }
  void Ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\t' || s_[p_] == '\r')) ++p_;
  }
  bool Eat(char c) {
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool String(std::string* v) {
    if (!Eat('"')) return false;
    while (p_ < s_.size() && s_[p_] != '"') {
      if (static_cast<unsigned char>(s_[p_]) < 0x20) return false;
      if (s_[p_] == '\\') {
        ++p_;
        if (p_ >= s_.size()) return false;
        const char e = s_[p_];
        if (e == 'u') {
          if (p_ + 4 >= s_.size()) return false;
          p_ += 4;
          v->push_back('?');
        } else if (std::string("\"\\/bfnrt").find(e) != std::string::npos) {
          v->push_back(e == 'n' ? '\n' : e);
        } else {
          return false;
        }
        ++p_;
        continue;
      }
      v->push_back(s_[p_++]);
    }
    return Eat('"');
  }
  // A nested array or object (a failing model's tasks and locations): kept
  // as its text, checked only for balanced brackets outside strings.
  bool Nested(std::string* v) {
    const size_t start = p_;
    int depth = 0;
    while (p_ < s_.size()) {
      const char c = s_[p_];
      if (c == '"') {
        std::string ignored;
        if (!String(&ignored)) return false;
        continue;
      }
      ++p_;
      if (c == '[' || c == '{') ++depth;
      if (c == ']' || c == '}') --depth;
      if (depth == 0) {
        *v = s_.substr(start, p_ - start);
        return true;
      }
    }
    return false;
  }
  bool Value(std::string* v) {
    if (p_ < s_.size() && s_[p_] == '"') return String(v);
    if (p_ < s_.size() && (s_[p_] == '[' || s_[p_] == '{')) return Nested(v);
    for (const char* word : {"true", "false", "null"}) {
      if (s_.compare(p_, std::string(word).size(), word) == 0) {
        *v = word;
        p_ += std::string(word).size();
        return true;
      }
    }
    const size_t start = p_;
    while (p_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[p_])) || s_[p_] == '.' || s_[p_] == '-')) ++p_;
    *v = s_.substr(start, p_ - start);
    return p_ > start;
  }
  bool Object(std::map<std::string, std::string>* obj) {
    if (!Eat('{')) return false;
    Ws();
    if (Eat('}')) return true;
    for (;;) {
      Ws();
      std::string key, value;
      if (!String(&key)) return false;
      Ws();
      if (!Eat(':')) return false;
      Ws();
      if (!Value(&value)) return false;
      (*obj)[key] = value;
      Ws();
      if (Eat('}')) return true;
      if (!Eat(',')) return false;
    }
  }
  const std::string& s_;
  size_t p_ = 0;
};

TEST(FaultyCliTest, CheckAllReportsEveryFaultyModelWithValidJson) {
  std::string out;
  const int rc = RunKmc({"check", "--all", "--json", "--watchdog=0.25", "--max_executions=2000"}, &out);
  EXPECT_EQ(rc, 1) << out;  // robust_test/crash_expected_clean does not match
  std::vector<std::map<std::string, std::string>> results;
  ASSERT_TRUE(Json(out).ParseArray(&results)) << out;
  std::map<std::string, std::map<std::string, std::string>> by_model;
  for (const auto& r : results) by_model[r.at("model")] = r;
  std::string listed;
  ASSERT_EQ(RunKmc({"list"}, &listed), 0);
  size_t models = 0;
  for (size_t pos = listed.find("\nrobust_test/"); pos != std::string::npos;
       pos = listed.find("\nrobust_test/", pos + 1)) {
    ++models;
  }
  EXPECT_EQ(results.size(), models) << out;
  const std::map<std::string, std::string> expected = {
      {"robust_test/clean_counter", "clean"},
      {"robust_test/null_write", "kernel oops"},
      {"robust_test/abort", "kernel oops"},
      {"robust_test/exit", "model error"},
      {"robust_test/runaway_recursion", "stack overflow"},
      {"robust_test/deep_kernel_stack", "stack overflow"},
      {"robust_test/spin_without_schedule_point", "soft lockup"},
      {"robust_test/host_mutex", "soft lockup"},
      {"robust_test/crash_expected_clean", "kernel oops"},
      {"robust_test/huge_kmalloc", "clean"},
  };
  for (const auto& [model, verdict] : expected) {
    ASSERT_EQ(by_model.count(model), 1u) << model << " missing in\n" << out;
    EXPECT_EQ(by_model[model]["verdict"], verdict) << model;
    EXPECT_EQ(by_model[model]["match"], model == "robust_test/crash_expected_clean" ? "false" : "true")
        << model;
  }
  EXPECT_NE(by_model["robust_test/abort"]["replay"], "null");
}

// --jobs=3: the same verdicts, printed in the same (model) order.
TEST(FaultyCliTest, JobsRunModelsAtOnceWithTheSameResults) {
  std::string one, three;
  const std::vector<std::string> args = {"check", "--all", "--json", "--watchdog=0.25",
                                         "--max_executions=2000"};
  std::vector<std::string> args3 = args;
  args3.push_back("--jobs=3");
  EXPECT_EQ(RunKmc(args, &one), 1);
  EXPECT_EQ(RunKmc(args3, &three), 1);
  std::vector<std::map<std::string, std::string>> r1, r3;
  ASSERT_TRUE(Json(one).ParseArray(&r1)) << one;
  ASSERT_TRUE(Json(three).ParseArray(&r3)) << three;
  ASSERT_EQ(r1.size(), r3.size());
  for (size_t i = 0; i < r1.size(); ++i) {
    EXPECT_EQ(r1[i]["model"], r3[i]["model"]);
    EXPECT_EQ(r1[i]["verdict"], r3[i]["verdict"]) << r1[i]["model"];
    EXPECT_EQ(r1[i]["replay"], r3[i]["replay"]) << r1[i]["model"];
    EXPECT_EQ(r1[i]["executions"], r3[i]["executions"]) << r1[i]["model"];
  }
  std::string out;
  EXPECT_EQ(RunKmc({"check", "--jobs=0", "--all"}, &out), 2);
  EXPECT_EQ(RunKmc({"check", "--jobs=65", "--all"}, &out), 2);
}

TEST(FaultyCliTest, SigtermClosesTheJsonAndExits143) {
  std::string out;
  // "[\n" is printed before the search starts; SIGTERM then arrives during
  // (or just before) the search, which takes hours to finish.
  const int rc = RunKmc({"check", "robust_test/long_search", "--json"}, &out, 2);
  EXPECT_EQ(rc, 143) << out;
  std::vector<std::map<std::string, std::string>> results;
  ASSERT_TRUE(Json(out).ParseArray(&results)) << out;
  ASSERT_EQ(results.size(), 1u) << out;
  EXPECT_EQ(results[0]["complete"], "false");
  EXPECT_EQ(results[0]["interrupted"], "true") << out;
  EXPECT_EQ(results[0]["verdict"], "clean");
}

TEST(FaultyCliTest, FlagsThatDoNotApplyAreErrors) {
  std::string out;
  EXPECT_EQ(RunKmc({"check", "--bound=3", "robust_test/clean_counter"}, &out), 2);
  EXPECT_EQ(RunKmc({"check", "--search=random", "--max_executions=5", "robust_test/clean_counter"}, &out), 2);
  EXPECT_EQ(RunKmc({"check", "--search=exhaustive", "--seed=5", "robust_test/clean_counter"}, &out), 2);
  EXPECT_EQ(RunKmc({"check", "--executions=5", "robust_test/clean_counter"}, &out), 2);
  EXPECT_EQ(RunKmc({"check", "--search=bounded", "--bound=2", "robust_test/clean_counter"}, &out), 0);
}

TEST(FaultyCliTest, NumericFlagsTakeTheirWholeRange) {
  std::string out;
  // A 19-digit seed is valid (below 2^62 with the executions).
  EXPECT_EQ(RunKmc({"check", "--search=random", "--executions=3", "--seed=1234567890123456789",
                    "--json", "robust_test/clean_counter"}, &out), 0) << out;
  EXPECT_NE(out.find("\"seed\": 1234567890123456789"), std::string::npos) << out;
  // Past the real limit: a usage error that names it.
  EXPECT_EQ(RunKmc({"check", "--search=random", "--executions=3", "--seed=4611686018427387903",
                    "robust_test/clean_counter"}, &out), 2);
  EXPECT_EQ(RunKmc({"check", "--max_executions=9223372036854775807", "robust_test/clean_counter"}, &out), 0);
  EXPECT_EQ(RunKmc({"check", "--max_executions=9223372036854775808", "robust_test/clean_counter"}, &out), 2);
  EXPECT_EQ(RunKmc({"check", "--watchdog=x", "robust_test/clean_counter"}, &out), 2);
}

TEST(FaultyCliTest, ReplayReadsATokenFile) {
  std::string json;
  ASSERT_EQ(RunKmc({"check", "robust_test/null_write", "--json"}, &json), 0) << json;
  const std::string key = "\"replay\": \"";
  const size_t at = json.find(key);
  ASSERT_NE(at, std::string::npos) << json;
  const std::string token = json.substr(at + key.size(), json.find('"', at + key.size()) - at - key.size());
  const std::string dir = std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
  const std::string file = dir + "/token.txt";
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fprintf(f, "%s\n", token.c_str());
  std::fclose(f);
  std::string by_file, by_arg;
  EXPECT_EQ(RunKmc({"replay", "robust_test/null_write", "--token_file=" + file}, &by_file), 0);
  EXPECT_EQ(RunKmc({"replay", "robust_test/null_write", token}, &by_arg), 0);
  EXPECT_EQ(by_file, by_arg);
  EXPECT_NE(by_file.find("BUG: kernel NULL pointer dereference"), std::string::npos) << by_file;
}

TEST(FaultyCliTest, SigintPrintsTheResultSoFarAndExits130) {
  std::string out;
  const int rc = RunKmc({"check", "robust_test/long_search"}, &out, 1, SIGINT);
  EXPECT_EQ(rc, 130) << out;
  EXPECT_NE(out.find("robust_test/long_search"), std::string::npos) << out;
  EXPECT_NE(out.find("stopped"), std::string::npos) << out;
  EXPECT_NE(out.find("interrupted by SIGINT after 1 of 1 models: not a proof."), std::string::npos)
      << out;
}

// Runs kmc_faulty with stderr in a file (not a terminal); stderr in *err.
int RunKmcStderr(const std::vector<std::string>& args, std::string* out, std::string* err) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string file = std::string(tmp != nullptr ? tmp : "/tmp") + "/kmc_stderr.txt";
  const int rc = RunKmc(args, out, 0, SIGTERM, file);
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  *err = s.str();
  return rc;
}

// --progress when stderr is a log, not a terminal: plain lines, one every
// --progress_every executions, naming the model, the executions so far, the
// rate and (for a tree search) how much of the tree is explored.
TEST(FaultyCliTest, ProgressLinesInALog) {
  std::string out, err;
  // --icb=off: the passes of iterative context bounding each count their
  // executions from zero, so the lines are checked on one pass.
  EXPECT_EQ(RunKmcStderr({"check", "--progress", "--progress_every=1000", "--max_executions=3500",
                          "--icb=off", "robust_test/long_search"},
                         &out, &err),
            0)
      << out << err;
  const std::regex line(
      R"(\[kmc\] robust_test/long_search: ([0-9]+) executions, [0-9]+/s(, [0-9]+\.[0-9]{2}% of the tree)?)");
  std::vector<std::string> counts;
  std::istringstream lines(err);
  for (std::string l; std::getline(lines, l);) {
    EXPECT_EQ(l.find('\r'), std::string::npos) << "a terminal's redraw in a log: " << l;
    std::smatch m;
    if (std::regex_match(l, m, line)) counts.push_back(m[1]);
  }
  EXPECT_EQ(counts, (std::vector<std::string>{"1000", "2000", "3000"})) << err;
  EXPECT_NE(out.find("robust_test/long_search"), std::string::npos) << out;

  // Without --progress a log gets no progress lines; --progress_every alone
  // is a usage error.
  err.clear();
  EXPECT_EQ(RunKmcStderr({"check", "--max_executions=2500", "robust_test/long_search"}, &out, &err),
            0);
  EXPECT_EQ(err.find("[kmc]"), std::string::npos) << err;
  EXPECT_EQ(RunKmcStderr({"check", "--progress_every=10", "robust_test/long_search"}, &out, &err),
            2);
  EXPECT_NE(err.find("--progress_every applies only with --progress"), std::string::npos) << err;
  EXPECT_EQ(RunKmcStderr({"check", "--progress", "--progress_every=x", "robust_test/long_search"},
                         &out, &err),
            2);
}

TEST(FaultyCliTest, HelpExitsZero) {
  std::string out;
  EXPECT_EQ(RunKmc({"--help"}, &out), 0);
  EXPECT_NE(out.find("usage:"), std::string::npos) << out;
}

}  // namespace
