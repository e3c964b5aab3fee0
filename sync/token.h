// kmc: replay tokens.
//
//   kmc1.<mode>.<model-hash>.<iteration>[.<choices>].<check>
//
// mode: x (exhaustive), b<K> (context bound K), r (random). choices: the
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

#include "sync/model.h"

namespace kmc {

struct Token {
  SearchMode mode = SearchMode::kExhaustive;
  int bound = 0;
  uint64_t iteration = 0;
  std::string engine_state;  // Relacy's "iteration size c i t ..." form
};

// engine_state: "<iteration> <n> (<count> <index> <type>)*", or
// "<iteration>" for a random search.
std::string EncodeToken(std::string_view model_name, SearchMode mode, int bound,
                        const std::string& engine_state);

// nullopt and *error on a token that is not valid for `model_name`.
std::optional<Token> DecodeToken(std::string_view model_name, std::string_view text,
                                 std::string* error);

}  // namespace kmc

#endif  // KMC_SYNC_TOKEN_H_
