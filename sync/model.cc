#include "sync/model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace kmc {
namespace {

std::vector<const Model*>& Registry() {
  static auto* models = new std::vector<const Model*>();
  return *models;
}

}  // namespace

const char* SearchModeName(SearchMode m) {
  switch (m) {
    case SearchMode::kExhaustive: return "exhaustive";
    case SearchMode::kBounded: return "bounded";
    case SearchMode::kRandom: return "random";
    case SearchMode::kFull: return "full";
    case SearchMode::kPct: return "pct";
  }
  return "?";
}

ModelRegistrar::ModelRegistrar(const char* name, void (*define)(Model&)) {
  auto* m = new Model(name);
  define(*m);
  auto& reg = Registry();
  for (const Model* other : reg) {
    if (other->name() == m->name()) {
      std::fprintf(stderr, "kmc: model %s is defined twice\n", name);
      std::abort();
    }
  }
  auto pos = std::lower_bound(reg.begin(), reg.end(), m, [](const Model* a, const Model* b) {
    return a->name() < b->name();
  });
  reg.insert(pos, m);
}

const std::vector<const Model*>& AllModels() { return Registry(); }

const Model* FindModel(const std::string& name) {
  for (const Model* m : Registry()) {
    if (m->name() == name) return m;
  }
  return nullptr;
}

}  // namespace kmc
