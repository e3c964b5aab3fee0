// kmc: replay tokens.
//
//   kmc1.<mode>.<model-hash>.<iteration>[.<choices>].<check>
//
// mode: x (exhaustive), f (full), b<K> (context bound K), r (random), p<D>
// (PCT for bugs of depth D; its one extra field is the number of scheduling
// choices the execution drew its priority change points from), i<K>
// (the pass with at most K preemptions of iterative context bounding: the
// same tree as b<K>, reported as such), d (an execution of lockdep's
// directed search, a full search's path); a trailing g (xg, i2g, rg, ...)
// marks an execution with fine-grained interleaving (Model::FineGrained),
// which must be replayed the same way. choices: the
// engine's decision path, one "<count><type><index>" per decision joined by
// '-' (type is a letter). model-hash and check are FNV-1a hashes in hex.
// Only [0-9a-z.-] appear, so a token is safe to paste into a shell.
//
// A run of three or more equal decisions is written once, followed by
// "r<count>" ("2a0r5000"), so a long execution has a short token. Decoding
// validates everything: a token that is malformed, truncated, edited or made
// for another model is refused with a reason (never a crash; tools/fuzz
// fuzzes this decoder).

#ifndef KMC_SYNC_TOKEN_H_
#define KMC_SYNC_TOKEN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sync/search_mode.h"

namespace kmc {

struct Token {
  SearchMode mode = SearchMode::kExhaustive;
  int bound = 0;  // the context bound (b, i), or the bug depth of a PCT token (p)
  // An i<K> token: mode is kBounded and bound K, and the execution belongs
  // to the K-th pass of iterative context bounding (sync/runner.h).
  bool icb_pass = false;
  uint64_t iteration = 0;
  std::string engine_state;  // Relacy's "iteration size c i t ..." form
  // Mode "d": an execution of lockdep's directed search, replayed as a full
  // search's (sync/lockdep.h).
  bool directed = false;
  // Mode with a trailing g: fine-grained interleaving.
  bool fine_grained = false;
};

// engine_state: "<iteration> <n> (<count> <index> <type>)*", or
// "<iteration>" for a random search, or "<iteration> <k>" for a PCT one
// (bound: its depth).
// icb_pass (with mode kBounded): an i<bound> token.
std::string EncodeToken(std::string_view model_name, SearchMode mode, int bound,
                        const std::string& engine_state, bool icb_pass = false, bool directed = false,
                        bool fine_grained = false);

// nullopt and *error on a token that is not valid for `model_name`.
std::optional<Token> DecodeToken(std::string_view model_name, std::string_view text,
                                 std::string* error);

}  // namespace kmc

#endif  // KMC_SYNC_TOKEN_H_
