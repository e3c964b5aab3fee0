// --out: report.txt, trace.json (Chrome trace events) and trace.html of
// failing models, checked against the text report.

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/json_util.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

using testing::Contains;
using testing::JsonParser;
using testing::JsonValue;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string OutRoot() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/kmc_out";
}

// The step count the text report gives: "interleaving (N steps".
int ReportSteps(const std::string& report) {
  const size_t at = report.find("\ninterleaving (");
  if (at == std::string::npos) return -1;
  return std::atoi(report.c_str() + at + 15);
}

int Count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

struct Out {
  Result result;
  JsonValue json;
  std::string html;
};

Out CheckWithOut(const std::string& model) {
  RunOptions o;
  o.out_dir = OutRoot();
  Out out;
  out.result = testing::Check(model, o);
  EXPECT_TRUE(out.result.match) << out.result.report;
  EXPECT_TRUE(out.result.out_error.empty()) << out.result.out_error;
  const std::string dir = OutRoot() + "/" + model + "/";
  EXPECT_EQ(out.result.out_files,
            (std::vector<std::string>{dir + "report.txt", dir + "trace.json", dir + "trace.html"}));
  EXPECT_EQ(ReadFile(dir + "report.txt"), out.result.report);
  const std::string text = ReadFile(dir + "trace.json");
  JsonParser parser(text);
  EXPECT_TRUE(parser.Parse(&out.json)) << parser.error();
  out.html = ReadFile(dir + "trace.html");
  return out;
}

std::vector<const JsonValue*> Events(const JsonValue& doc, const std::string& cat) {
  std::vector<const JsonValue*> out;
  for (const JsonValue& e : doc["traceEvents"].array) {
    if (e["cat"].string == cat) out.push_back(&e);
  }
  return out;
}

// Every step of the report is one slice on its task's track, in order,
// with the report's operation, and the task tracks are the report's tasks.
void ExpectStepsMatchReport(const Out& out) {
  const int steps = ReportSteps(out.result.report);
  ASSERT_GT(steps, 0) << out.result.report;
  const auto slices = Events(out.json, "step");
  ASSERT_EQ(static_cast<int>(slices.size()), steps);
  EXPECT_EQ(static_cast<int>(out.result.steps), steps);
  std::map<int, std::string> thread_names;  // pid 2 tid -> task
  for (const JsonValue& e : out.json["traceEvents"].array) {
    if (e["ph"].string == "M" && e["name"].string == "thread_name" && e["pid"].number == 2) {
      thread_names[static_cast<int>(e["tid"].number)] = e["args"]["name"].string;
    }
  }
  std::set<std::string> lanes;
  int checked_lines = 0;
  int marks = 0;
  for (int i = 0; i < steps; ++i) {
    const JsonValue& s = *slices[static_cast<size_t>(i)];
    EXPECT_EQ(s["args"]["step"].number, i + 1);
    EXPECT_EQ(s["ts"].number, i * 10);
    EXPECT_EQ(s["ph"].string, "X");
    const std::string task = thread_names[static_cast<int>(s["tid"].number)];
    ASSERT_FALSE(task.empty());
    lanes.insert(task);
    // The report's line for this step (unless the short trace folded it)
    // names the same task, CPU, context and operation, and the locks held
    // where they change ("{&dev->sem}").
    char num[16];
    std::snprintf(num, sizeof num, "\n%4d  ", i + 1);
    const size_t at = out.result.report.find(num);
    if (at != std::string::npos) {
      const std::string line =
          out.result.report.substr(at + 1, out.result.report.find('\n', at + 1) - at - 1);
      ++checked_lines;
      EXPECT_TRUE(Contains(line, task)) << line << " vs " << task;
      EXPECT_TRUE(Contains(line, s["name"].string.substr(0, 30))) << line;
      EXPECT_TRUE(Contains(line, "CPU#" + std::to_string(static_cast<int>(s["args"]["cpu"].number)) +
                                     " " + s["args"]["context"].string))
          << line;
      if (s["args"]["line"].number > 0) {
        EXPECT_TRUE(Contains(line, s["args"]["file"].string + ":" +
                                       std::to_string(static_cast<int>(s["args"]["line"].number))))
            << line;
      }
      if (line.back() == '}' && line.rfind("  {") != std::string::npos) {
        const size_t open = line.rfind("  {") + 3;
        const std::string held = line.substr(open, line.size() - 1 - open);
        EXPECT_EQ(held == "no locks" ? "" : held, s["args"]["locks"].string) << line;
      }
      // Every check that fired ("*** headline") is an instant event there.
      const size_t mark = line.find("*** ");
      if (mark != std::string::npos) {
        bool found = false;
        for (const JsonValue* f : Events(out.json, "failure")) {
          found |= (*f)["args"]["step"].number == i + 1 &&
                   Contains(line, (*f)["name"].string.substr(0, 40));
        }
        EXPECT_TRUE(found) << line;
        ++marks;
      }
    }
  }
  EXPECT_GT(checked_lines, 0);
  EXPECT_EQ(lanes.size(), thread_names.size());
  // The HTML draws the same lanes and steps.
  EXPECT_TRUE(Contains(out.html, "data-steps=\"" + std::to_string(steps) + "\""));
  EXPECT_TRUE(Contains(out.html, "data-lanes=\"" + std::to_string(lanes.size()) + "\""));
  EXPECT_EQ(Count(out.html, "<rect class=\"step "), steps);
  EXPECT_EQ(Count(out.html, "<g class=\"lane\""), static_cast<int>(lanes.size()));
  for (const std::string& l : lanes) EXPECT_TRUE(Contains(out.html, ">" + l + "</text>")) << l;
  // Self-contained: nothing is fetched from elsewhere.
  EXPECT_FALSE(Contains(out.html, "<script src"));
  EXPECT_FALSE(Contains(out.html, "<link"));
  EXPECT_FALSE(Contains(out.html, "@import"));
  EXPECT_FALSE(Contains(out.html, "url(http"));
  EXPECT_EQ(Count(out.html, "http"), 1);  // the SVG namespace only
  // The failure instants are the report's "***" lines and, for a race,
  // the other access.
  int instants = 0;
  for (const JsonValue* f : Events(out.json, "failure")) {
    instants += (*f)["name"].string != "the other access of the race";
  }
  EXPECT_EQ(instants, marks);
}

TEST(TraceOutTest, RaceLinksBothAccesses) {
  const Out out = CheckWithOut("scull/unlocked_write");
  ExpectStepsMatchReport(out);
  const auto failures = Events(out.json, "failure");
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[1]->operator[]("name").string, "the other access of the race");
  EXPECT_EQ(failures[1]->operator[]("args")["where"].string,
            "drivers/scull/main.c:122 scull_follow");
  bool race_flow = false;
  for (const JsonValue* f : Events(out.json, "flow")) race_flow |= (*f)["name"].string == "race";
  EXPECT_TRUE(race_flow);
  EXPECT_TRUE(Contains(out.html, "class=\"race\""));
  EXPECT_TRUE(Contains(out.html, "class=\"step proc racing\""));
  EXPECT_EQ(out.result.locations.size(), 2u);
  EXPECT_EQ(out.result.locations[0].function, "scull_follow");
}

TEST(TraceOutTest, LocksSleepsAndWakeUps) {
  const Out out = CheckWithOut("scullpipe/if_not_while");
  ExpectStepsMatchReport(out);
  std::set<std::string> locks;
  for (const JsonValue* l : Events(out.json, "lock")) locks.insert((*l)["name"].string);
  EXPECT_EQ(locks, (std::set<std::string>{"&dev->sem"}));
  EXPECT_FALSE(Events(out.json, "sleep").empty());
  int wakes = 0;
  for (const JsonValue* f : Events(out.json, "flow")) wakes += (*f)["name"].string == "wake-up";
  EXPECT_GE(wakes, 2);  // one "s" and one "f" per arrow
  EXPECT_TRUE(Contains(out.html, "class=\"wake\""));
  EXPECT_TRUE(Contains(out.html, "class=\"preempt\""));
  EXPECT_TRUE(Contains(out.html, "class=\"sleep\""));
}

TEST(TraceOutTest, InterruptsNestOnTheCpuTrack) {
  const Out out = CheckWithOut("asgn2/tasklet_cb_lock_at_irq_exit");
  ExpectStepsMatchReport(out);
  // models/asgn2_rig.h is found through the include path ".": every file
  // names it without the "./" its __FILE__ carries.
  EXPECT_EQ(out.result.interleaving[0].file, "models/asgn2_rig.h");
  EXPECT_FALSE(Contains(out.result.report, "./models/")) << out.result.report;
  EXPECT_FALSE(Contains(ReadFile(OutRoot() + "/asgn2/tasklet_cb_lock_at_irq_exit/trace.json"),
                        "./models/"));
  EXPECT_FALSE(Contains(out.html, "./models/"));
  for (const Result::Step& s : out.result.interleaving) EXPECT_NE(s.file.rfind("./", 0), 0u);
  // On CPU#0 (pid 1, tid 0) the last hardirq slice lies inside a softirq
  // slice: the interrupt came while the tasklet ran.
  const JsonValue* hard = nullptr;
  std::vector<const JsonValue*> soft;
  for (const JsonValue& e : out.json["traceEvents"].array) {
    if (e["pid"].number != 1 || e["ph"].string != "X") continue;
    if (e["cat"].string == "hardirq") hard = &e;
    if (e["cat"].string == "softirq") soft.push_back(&e);
  }
  ASSERT_NE(hard, nullptr);
  bool nested = false;
  for (const JsonValue* s : soft) {
    nested |= (*s)["ts"].number <= (*hard)["ts"].number &&
              (*hard)["ts"].number + (*hard)["dur"].number <=
                  (*s)["ts"].number + (*s)["dur"].number;
  }
  EXPECT_TRUE(nested);
  EXPECT_TRUE(Contains(out.html, "class=\"step hardirq failure\""));
  EXPECT_TRUE(Contains(out.html, "class=\"over hardirq\"") ||
              Contains(out.html, "class=\"step softirq\""));
}

TEST(TraceOutTest, UseAfterFreeAndDeadlock) {
  ExpectStepsMatchReport(CheckWithOut("rcu/free_without_grace_period"));
  const Out dl = CheckWithOut("mutex/ab_ba");
  ExpectStepsMatchReport(dl);
  std::set<std::string> locks;
  for (const JsonValue* l : Events(dl.json, "lock")) locks.insert((*l)["name"].string);
  EXPECT_EQ(locks, (std::set<std::string>{"&a", "&b"}));
  EXPECT_EQ(Events(dl.json, "sleep").size(), 2u);  // both asleep at the end
}

TEST(TraceOutTest, ReplayWritesTheSameFiles) {
  const Out first = CheckWithOut("scull/unlocked_write");
  const std::string dir = OutRoot() + "/replayed";
  std::string error;
  const auto again = ReplayModel(*FindModel("scull/unlocked_write"), first.result.replay, &error,
                                 TraceMode::kShort, dir);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(ReadFile(dir + "/scull/unlocked_write/trace.json"),
            ReadFile(OutRoot() + "/scull/unlocked_write/trace.json"));
  EXPECT_EQ(ReadFile(dir + "/scull/unlocked_write/trace.html"),
            ReadFile(OutRoot() + "/scull/unlocked_write/trace.html"));
}

TEST(TraceOutTest, BazelTestOutputsGetThePicturesWithoutAFlag) {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (dir == nullptr) GTEST_SKIP() << "not run by bazel test";
  const Result r = testing::Check("rcu/free_without_grace_period");
  ASSERT_EQ(r.out_files.size(), 3u);
  EXPECT_EQ(r.out_files[2], std::string(dir) + "/rcu/free_without_grace_period/trace.html");
  EXPECT_FALSE(ReadFile(r.out_files[2]).empty());
}

TEST(TraceOutTest, AnUnwritableDirectoryIsReported) {
  RunOptions o;
  o.out_dir = "/proc/kmc-cannot-write-here";
  const Result r = testing::Check("rcu/free_without_grace_period", o);
  EXPECT_TRUE(r.out_files.empty());
  EXPECT_TRUE(Contains(r.out_error, "cannot create /proc/kmc-cannot-write-here")) << r.out_error;
}

}  // namespace
}  // namespace kmc
