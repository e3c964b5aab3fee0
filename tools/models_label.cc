// Linked into every kmc_models() library (tools/kmc.bzl): the replay lines
// of its reports name the package's own command line,
// `bazel run //pkg:name -- replay ...`, which has these models, instead of
// //:kmc, which does not.

#include "sync/runner.h"

#ifndef KMC_MODELS_LABEL
#error "KMC_MODELS_LABEL is set by kmc_models() in tools/kmc.bzl"
#endif

namespace {
const bool kRegistered = (kmc::SetReplayCommand(KMC_MODELS_LABEL), true);
}  // namespace
