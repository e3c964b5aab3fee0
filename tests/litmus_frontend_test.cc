// kmc litmus (tools/litmus): the parser's errors, the Never / Sometimes /
// Always answers, witnesses and their replay, and the known-mismatch list.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tools/litmus/litmus.h"

namespace kmc::litmus {
namespace {

constexpr const char* kMp = R"(C MP+test

(* Result: Sometimes *)

{ x=0; y=0; }

P0(int *x, int *y)
{
	WRITE_ONCE(*x, 1);
	WRITE_ONCE(*y, 1);
}

P1(int *x, int *y)
{
	int r0;
	int r1;

	r0 = READ_ONCE(*y);
	r1 = READ_ONCE(*x);
}

exists (1:r0=1 /\ 1:r1=0)
)";

std::unique_ptr<litmus::Test> MustParse(const std::string& text) {
  std::string error;
  std::unique_ptr<litmus::Test> t = Parse(text, "inline.litmus", &error);
  EXPECT_NE(t, nullptr) << error;
  return t;
}

std::string ParseError(const std::string& text) {
  std::string error;
  std::unique_ptr<litmus::Test> t = Parse(text, "bad.litmus", &error);
  EXPECT_EQ(t, nullptr);
  return error;
}

TEST(LitmusParse, ReadsHeaderResultInitProcessesAndClauses) {
  std::unique_ptr<litmus::Test> t = MustParse(kMp);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->name, "MP+test");
  ASSERT_TRUE(t->expected.has_value());
  EXPECT_EQ(*t->expected, "Sometimes");
  EXPECT_EQ(t->procs.size(), 2u);
  EXPECT_EQ(t->vars.size(), 2u);
  ASSERT_NE(t->exists, nullptr);
}

TEST(LitmusParse, ErrorsNameTheFileAndLine) {
  EXPECT_EQ(ParseError("X not a litmus test\n"), "bad.litmus:1: expected the header 'C <name>'");
  EXPECT_NE(ParseError("C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\n").find("no exists clause"),
            std::string::npos);
  EXPECT_NE(ParseError("C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1);\n").find("bad.litmus:3"),
            std::string::npos);
  EXPECT_NE(ParseError("C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (q=1)\n")
                .find("unknown shared variable 'q'"),
            std::string::npos);
  EXPECT_NE(ParseError("C t\n{}\nP1(int *x) { }\nexists (x=1)\n").find("P0, P1, ... in order"),
            std::string::npos);
}

TEST(LitmusRun, UnsupportedCallsAreAnErrorNotACrash) {
  std::unique_ptr<litmus::Test> t =
      MustParse("C t\n{}\nP0(int *x) { frobnicate(x); }\nexists (x=1)\n");
  ASSERT_NE(t, nullptr);
  const Outcome o = litmus::Run(*t);
  EXPECT_EQ(o.verdict, "error");
  EXPECT_NE(o.error.find("frobnicate() is not supported"), std::string::npos) << o.error;
}

TEST(LitmusRun, SometimesWithAWitnessThatReplays) {
  std::unique_ptr<litmus::Test> t = MustParse(kMp);
  ASSERT_NE(t, nullptr);
  const Outcome o = litmus::Run(*t);
  EXPECT_EQ(o.verdict, "Sometimes");
  EXPECT_TRUE(o.match);
  EXPECT_NE(o.witness.find("exists clause reached: 1:r0=1 1:r1=0"), std::string::npos) << o.witness;
  EXPECT_NE(o.witness.find("READ_ONCE(x) = 0  [stale: reads the initial value"), std::string::npos)
      << o.witness;
  std::string error;
  const std::optional<std::string> again = litmus::Replay(*t, o.replay, &error);
  ASSERT_TRUE(again.has_value()) << error;
  EXPECT_EQ(*again, o.witness);
}

TEST(LitmusRun, NeverIsCompleteAndAlwaysIsFound) {
  std::unique_ptr<litmus::Test> never = MustParse(R"(C MP+rel+acq
(* Result: Never *)
{}
P0(int *x, int *y) { WRITE_ONCE(*x, 1); smp_store_release(y, 1); }
P1(int *x, int *y) { int r0; int r1; r0 = smp_load_acquire(y); r1 = READ_ONCE(*x); }
exists (1:r0=1 /\ 1:r1=0)
)");
  ASSERT_NE(never, nullptr);
  const Outcome n = litmus::Run(*never);
  EXPECT_EQ(n.verdict, "Never");
  EXPECT_TRUE(n.complete);
  EXPECT_TRUE(n.match);

  std::unique_ptr<litmus::Test> always = MustParse(R"(C inc
{}
P0(atomic_t *v) { atomic_inc(v); }
P1(atomic_t *v) { atomic_inc(v); }
filter (v=2)
exists (v=2)
)");
  ASSERT_NE(always, nullptr);
  const Outcome a = litmus::Run(*always);
  EXPECT_EQ(a.verdict, "Always");
  EXPECT_FALSE(a.expected.has_value());
}

TEST(LitmusRun, ExpectedResultMismatchIsReported) {
  std::string text = kMp;
  text.replace(text.find("Result: Sometimes"), 17, "Result: Never");
  std::unique_ptr<litmus::Test> t = MustParse(text);
  ASSERT_NE(t, nullptr);
  const Outcome o = litmus::Run(*t);
  EXPECT_EQ(o.verdict, "Sometimes");
  EXPECT_FALSE(o.match);
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(LitmusMain, ExitStatusFollowsMatchesAndTheKnownMismatchList) {
  const std::string ok = WriteTemp("ok.litmus", kMp);
  std::string wrong_text = kMp;
  wrong_text.replace(wrong_text.find("Result: Sometimes"), 17, "Result: Never");
  wrong_text.replace(wrong_text.find("MP+test"), 7, "MP+wrong");
  const std::string wrong = WriteTemp("wrong.litmus", wrong_text);
  EXPECT_EQ(Main({ok}, {}, ""), 0);
  EXPECT_EQ(Main({ok, wrong}, {}, ""), 1);
  EXPECT_EQ(Main({ok, wrong}, {"MP+wrong"}, ""), 0);
  // A listed test that matches, or a listed name that is not there, fails.
  EXPECT_EQ(Main({ok}, {"MP+test"}, ""), 1);
  EXPECT_EQ(Main({ok}, {"nonexistent"}, ""), 1);
  // Unreadable and malformed files: status 2.
  EXPECT_EQ(Main({"/nonexistent/x.litmus"}, {}, ""), 2);
  EXPECT_EQ(Main({WriteTemp("bad.litmus", "garbage\n")}, {}, ""), 2);
}

}  // namespace
}  // namespace kmc::litmus
