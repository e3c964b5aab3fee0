// trace.html in a real browser: Debian's chromium, headless. For a race, a
// deadlock in interrupt context and an invalid context in an interrupt
// handler, the page must load without console messages, its script must
// run, and the lanes and steps it draws must match the text report.
// Screenshots are kept as test outputs ($TEST_UNDECLARED_OUTPUTS_DIR).
// Skipped, with a message, where chromium is not installed
// (tools/bootstrap.sh installs it).

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"
#include "tests/model_test_util.h"

namespace kmc {
namespace {

std::string Chromium() {
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (access(c, X_OK) == 0) return c;
  }
  return "";
}

std::string Tmp() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

std::string Outputs() {
  const char* t = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  return t ? t : Tmp();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Loads `html` in headless chromium once: returns the DOM after the page's
// script ran, writes a screenshot to `png`, and puts chromium's log (where
// console messages appear as ":CONSOLE") in *log.
std::string Browse(const std::string& html, const std::string& png, std::string* log) {
  static int n = 0;
  const std::string profile = Tmp() + "/chromium-profile-" + std::to_string(++n);
  const std::string err = Tmp() + "/chromium-stderr-" + std::to_string(n);
  const std::string cmd = "HOME=" + Tmp() + " timeout 120 " + Chromium() +
                          " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                          " --disable-background-networking --disable-component-update"
                          " --disable-sync --user-data-dir=" + profile +
                          " --enable-logging=stderr --v=0 --window-size=1400,700"
                          " --screenshot=" + png + " --dump-dom file://" + html + " 2>" + err +
                          " </dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t k;
  while (p != nullptr && (k = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
  if (p != nullptr) pclose(p);
  *log = ReadFile(err);
  return out;
}

std::string Attribute(const std::string& dom, const std::string& name) {
  const size_t at = dom.find(name + "=\"");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 2;
  return dom.substr(start, dom.find('"', start) - start);
}

int Count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// The tasks the text report's interleaving names (second column of its
// step lines and of its folded "..." lines).
std::set<std::string> ReportTasks(const std::string& report) {
  std::set<std::string> tasks;
  std::istringstream in(report.substr(report.find("\ninterleaving (") + 1));
  std::string line;
  std::getline(in, line);  // the "interleaving (" line itself
  while (std::getline(in, line) && line.rfind("replay:", 0) != 0) {
    std::istringstream words(line);
    std::string first, task;
    words >> first >> task;
    if (first == "--") continue;  // "-- preempted: a -> b --"
    if (!task.empty()) tasks.insert(task);
  }
  return tasks;
}

void CheckInBrowser(const std::string& model, Verdict verdict) {
  if (Chromium().empty()) {
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium; tools/bootstrap.sh "
                    "installs it): trace.html is not checked in a browser";
  }
  RunOptions o;
  o.out_dir = Tmp() + "/browser";
  const Result r = testing::Check(model, o);
  ASSERT_EQ(r.verdict, verdict) << r.report;
  ASSERT_EQ(r.out_files.size(), 3u) << r.out_error;
  std::string name = model;
  for (char& c : name) c = c == '/' ? '_' : c;
  const std::string png = Outputs() + "/" + name + ".png";
  std::string log;
  const std::string dom = Browse(r.out_files[2], png, &log);
  ASSERT_FALSE(dom.empty()) << "chromium printed no DOM\n" << log;
  // No console message of any level (errors, uncaught exceptions).
  EXPECT_EQ(Count(log, ":CONSOLE"), 0) << log;
  // The page's script ran and counted what was drawn: one lane per task
  // of the report's interleaving, one box per step of it.
  const std::set<std::string> tasks = ReportTasks(r.report);
  ASSERT_FALSE(tasks.empty()) << r.report;
  const std::string steps = std::to_string(
      std::atoi(r.report.c_str() + r.report.find("\ninterleaving (") + 15));
  EXPECT_EQ(Attribute(dom, "data-rendered"),
            "lanes=" + std::to_string(tasks.size()) + " steps=" + steps);
  for (const std::string& t : tasks) {
    EXPECT_NE(dom.find("data-task=\"" + t + "\""), std::string::npos) << t;
  }
  // The failing step's details are shown when the page opens.
  EXPECT_NE(dom.find("<div id=\"detail\">" + steps + "  "), std::string::npos);
  // The screenshot, kept as a test output.
  const std::string image = ReadFile(png);
  ASSERT_GT(image.size(), 1000u) << log;
  EXPECT_EQ(image.substr(1, 3), "PNG");
}

TEST(BrowserTest, DataRace) { CheckInBrowser("scull/unlocked_write", Verdict::kDataRace); }

TEST(BrowserTest, DeadlockInInterruptContext) {
  CheckInBrowser("asgn2/tasklet_cb_lock_at_irq_exit", Verdict::kDeadlock);
}

TEST(BrowserTest, InvalidContextInAnInterrupt) {
  CheckInBrowser("irq/mutex_in_handler", Verdict::kInvalidContext);
}

// The console check can fail: a page with a script error is caught.
TEST(BrowserTest, ConsoleErrorsAreSeen) {
  if (Chromium().empty()) GTEST_SKIP() << "chromium is not installed";
  const std::string html = Tmp() + "/broken.html";
  std::ofstream(html) << "<html><body><script>console.error('kmc');nosuchfn();</script>"
                         "</body></html>";
  std::string log;
  Browse(html, Tmp() + "/broken.png", &log);
  EXPECT_EQ(Count(log, ":CONSOLE"), 2) << log;
}

}  // namespace
}  // namespace kmc
