// Proves the toolchain chain: Bazel -> g++ C++20 -Werror -> Relacy -> GoogleTest.
#include <gtest/gtest.h>

#include "tests/smoke/relacy_probe.h"

namespace {

TEST(RelacySmoke, FullSearchPassesAtomicAndCatchesLostUpdate) {
  EXPECT_TRUE(kmc::smoke::RunRelacyProbe());
}

}  // namespace
