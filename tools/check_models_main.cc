// main() of the tests kmc_models() (tools/kmc.bzl) generates: checks every
// model linked into the binary with its default search and fails when one
// does not match its expected verdict (printing that model's report).

#include <cstdio>

#include "sync/model.h"
#include "sync/runner.h"

int main() {
  int mismatches = 0;
  const auto& models = kmc::AllModels();
  for (const kmc::Model* m : models) {
    const kmc::Result r = kmc::CheckModel(*m, kmc::RunOptions{});
    std::printf("%-40s expected %-24s got %-22s %s, %llu executions\n", r.model.c_str(),
                r.expected.ToString().c_str(), std::string(kmc::VerdictName(r.verdict)).c_str(),
                r.match ? "ok" : "MISMATCH", static_cast<unsigned long long>(r.executions));
    if (!r.warning.empty()) std::printf("  warning: %s\n", r.warning.c_str());
    if (!r.match) {
      ++mismatches;
      std::printf("%s\n", r.report.empty() ? r.message.c_str() : r.report.c_str());
    }
  }
  std::printf("%zu models, %d mismatches\n", models.size(), mismatches);
  return models.empty() || mismatches != 0 ? 1 : 0;
}
