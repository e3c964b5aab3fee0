// Proves Abseil's flags and strings link from Debian's static archives
// (the kmc command line uses Abseil flags).
#include <string>
#include <vector>

#include <absl/flags/flag.h>
#include <absl/flags/parse.h>
#include <absl/flags/usage.h>
#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_split.h>
#include <gtest/gtest.h>

ABSL_FLAG(int, smoke_count, 1, "a number");
ABSL_FLAG(std::string, smoke_name, "none", "a name");

namespace {

// Debian builds Abseil with ABSL_OPTION_USE_STD_STRING_VIEW 0 (also
// OPTIONAL, ANY, VARIANT 0): absl::string_view is its own type and a
// std::string_view does not convert to it. Pass std::string, const char* or
// absl::string_view to Abseil.
absl::StatusOr<int> ParsePositive(absl::string_view text) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("not positive: ", text));
  }
  return value;
}

TEST(AbslSmoke, ParsesFlagsAndFormats) {
  absl::SetProgramUsageMessage("absl smoke test");
  std::vector<std::string> args = {"absl_flags_smoke", "--smoke_count=7",
                                   "--smoke_name=kmc", "positional"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  std::vector<char*> rest =
      absl::ParseCommandLine(static_cast<int>(argv.size()), argv.data());

  ASSERT_EQ(rest.size(), 2u);
  EXPECT_STREQ(rest[1], "positional");
  EXPECT_EQ(absl::GetFlag(FLAGS_smoke_count), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_smoke_name), "kmc");
  EXPECT_EQ(absl::StrFormat("%s=%d", absl::GetFlag(FLAGS_smoke_name),
                            absl::GetFlag(FLAGS_smoke_count)),
            "kmc=7");

  std::vector<std::string> parts = absl::StrSplit("a,b,c", ',');
  EXPECT_EQ(absl::StrJoin(parts, "+"), "a+b+c");

  EXPECT_EQ(*ParsePositive("42"), 42);
  EXPECT_EQ(ParsePositive("-1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
