// Test helpers: check a model's verdict and its replay.

#ifndef KMC_TESTS_MODEL_TEST_UTIL_H_
#define KMC_TESTS_MODEL_TEST_UTIL_H_

#include <string>

#include "gtest/gtest.h"
#include "sync/model.h"
#include "sync/runner.h"

namespace kmc::testing {

// Runs `name` with its default search (or `options`) and returns the result.
// Fails the test when the model is unknown.
Result Check(const std::string& name, const RunOptions& options = {});

// Asserts that the model's verdict matches its expectation; prints the whole
// report on a mismatch. Returns the result for further checks.
Result ExpectMatch(const std::string& name, const RunOptions& options = {});

// Asserts that the model fails as expected and that replaying its token
// prints the same report, byte for byte.
void ExpectReplayReproduces(const std::string& name, const RunOptions& options = {});

// A clean model whose exhaustive search finishes (a proof for its scenario).
Result ExpectCleanAndComplete(const std::string& name);

// A failing model: its expected verdict, a replay token, and a replay that
// reproduces the report byte for byte.
Result ExpectFailure(const std::string& name);

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Options for a context-bounded search with at most `preemptions`.
RunOptions Bounded(int preemptions);

}  // namespace kmc::testing

// A clean verdict (the report is printed otherwise); an exhaustive search
// must also have finished. For throwaway models run with CheckModel().
#define EXPECT_CLEAN(result)                                                \
  do {                                                                      \
    const ::kmc::Result r_ = (result);                                      \
    EXPECT_EQ(r_.verdict, ::kmc::Verdict::kClean) << r_.report;             \
    EXPECT_TRUE(r_.complete || r_.search != ::kmc::SearchMode::kExhaustive) \
        << "an exhaustive search that did not finish";                      \
  } while (0)

#endif  // KMC_TESTS_MODEL_TEST_UTIL_H_
