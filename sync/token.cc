// kmc: replay tokens (see token.h).

#include "sync/token.h"

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace kmc {
namespace {

uint32_t Fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string Hex(uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*x", digits, v);
  return buf;
}

std::string ModeCode(SearchMode m, int bound, bool icb_pass) {
  if (icb_pass && m == SearchMode::kBounded) return "i" + std::to_string(bound);
  switch (m) {
    case SearchMode::kExhaustive: return "x";
    case SearchMode::kBounded: return "b" + std::to_string(bound);
    case SearchMode::kRandom: return "r";
    case SearchMode::kFull: return "f";
    case SearchMode::kPct: return "p" + std::to_string(bound);
  }
  return "x";
}

bool ParseU64(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos
                                                                 : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

}  // namespace

std::string EncodeToken(std::string_view model_name, SearchMode mode, int bound,
                        const std::string& engine_state, bool icb_pass, bool directed,
                        bool fine_grained) {
  std::istringstream in(engine_state);
  uint64_t iteration = 0;
  in >> iteration;
  if (directed) mode = SearchMode::kFull;
  std::string body = "kmc1." + (directed ? std::string("d") : ModeCode(mode, bound, icb_pass)) +
                     (fine_grained ? "g" : "") + "." + Hex(Fnv1a(model_name), 8) + "." +
                     std::to_string(iteration);
  if (mode == SearchMode::kPct) {
    // The scheduling choices the execution's change points were drawn from.
    uint64_t k = 0;
    in >> k;
    body += "." + std::to_string(k);
  } else if (mode != SearchMode::kRandom) {
    size_t n = 0;
    in >> n;
    // Run-length encoded: a run of three or more equal decisions is written
    // once with "r<count>" (a 200,000-step livelock stays short).
    std::string nodes;
    std::string prev;
    size_t run = 0;
    auto flush = [&] {
      if (run == 0) return;
      if (run >= 3) {
        if (!nodes.empty()) nodes += "-";
        nodes += prev + "r" + std::to_string(run);
      } else {
        for (size_t k = 0; k < run; ++k) {
          if (!nodes.empty()) nodes += "-";
          nodes += prev;
        }
      }
    };
    for (size_t i = 0; i < n; ++i) {
      unsigned count = 0, index = 0, type = 0;
      in >> count >> index >> type;
      std::string node = std::to_string(count) + static_cast<char>('a' + type) + std::to_string(index);
      if (run > 0 && node == prev) {
        ++run;
        continue;
      }
      flush();
      prev = node;
      run = 1;
    }
    flush();
    body += "." + (nodes.empty() ? std::string("0") : nodes);
  }
  return body + "." + Hex(Fnv1a(body) & 0xffff, 4);
}

std::optional<Token> DecodeToken(std::string_view model_name, std::string_view text,
                                 std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Token> {
    *error = "malformed replay token: " + why;
    return std::nullopt;
  };
  if (text.size() > (1u << 20)) return fail("it is too long");
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '-')) {
      return fail("unexpected character '" + std::string(1, c) + "'");
    }
  }
  const size_t last_dot = text.rfind('.');
  if (last_dot == std::string_view::npos) return fail("it has no checksum");
  const std::string_view body = text.substr(0, last_dot);
  if (text.substr(last_dot + 1) != Hex(Fnv1a(body) & 0xffff, 4)) {
    return fail("its checksum does not match (was it truncated or edited?)");
  }
  auto parts = Split(body, '.');
  if (parts.size() < 4 || parts[0] != "kmc1") return fail("it does not start with kmc1.");
  Token t;
  std::string_view mode = parts[1];
  if (mode.size() > 1 && mode.back() == 'g') {
    t.fine_grained = true;
    mode.remove_suffix(1);
  }
  if (mode == "x") {
    t.mode = SearchMode::kExhaustive;
  } else if (mode == "f" || mode == "d") {
    t.mode = SearchMode::kFull;
    t.directed = mode == "d";
  } else if (mode == "r") {
    t.mode = SearchMode::kRandom;
  } else if (mode.size() > 1 && mode[0] == 'p') {
    uint64_t d = 0;
    if (!ParseU64(mode.substr(1), 64, &d) || d == 0) return fail("bad PCT depth");
    t.mode = SearchMode::kPct;
    t.bound = static_cast<int>(d);
  } else if (mode.size() > 1 && (mode[0] == 'b' || mode[0] == 'i')) {
    uint64_t k = 0;
    if (!ParseU64(mode.substr(1), 1000, &k)) return fail("bad context bound");
    t.mode = SearchMode::kBounded;
    t.bound = static_cast<int>(k);
    t.icb_pass = mode[0] == 'i';
  } else {
    return fail("unknown search mode '" + std::string(mode) + "'");
  }
  if (parts[2] != Hex(Fnv1a(model_name), 8)) {
    *error = "replay token was made for another model, not " + std::string(model_name);
    return std::nullopt;
  }
  if (!ParseU64(parts[3], uint64_t{1} << 62, &t.iteration) || t.iteration == 0) {
    return fail("bad execution number");
  }
  if (t.mode == SearchMode::kRandom) {
    if (parts.size() != 4) return fail("unexpected fields after a random-search execution");
    t.engine_state = std::to_string(t.iteration);
    return t;
  }
  if (t.mode == SearchMode::kPct) {
    uint64_t k = 0;
    if (parts.size() != 5 || !ParseU64(parts[4], uint64_t{1} << 40, &k)) {
      return fail("a PCT execution needs its number of scheduling choices");
    }
    t.engine_state = std::to_string(t.iteration) + " " + std::to_string(k);
    return t;
  }
  if (parts.size() != 5) return fail("missing or extra fields");
  std::string state = std::to_string(t.iteration) + " ";
  std::string nodes;  // " <count> <index> <type>" per decision
  uint64_t node_count = 0;
  if (parts[4] != "0") {
    constexpr uint64_t kMaxDecisions = uint64_t{1} << 22;
    for (std::string_view node : Split(parts[4], '-')) {
      uint64_t repeat = 1;
      const size_t r = node.find('r');
      if (r != std::string_view::npos) {
        if (!ParseU64(node.substr(r + 1), kMaxDecisions, &repeat) || repeat < 2) {
          return fail("bad repeat count in '" + std::string(node) + "'");
        }
        node = node.substr(0, r);
      }
      size_t p = 0;
      while (p < node.size() && node[p] >= '0' && node[p] <= '9') ++p;
      if (p == 0 || p + 1 >= node.size()) return fail("bad decision '" + std::string(node) + "'");
      const char type = node[p];
      if (type < 'a' || type > 'e') return fail("bad decision type in '" + std::string(node) + "'");
      uint64_t count = 0, index = 0;
      if (!ParseU64(node.substr(0, p), 4096, &count) ||
          !ParseU64(node.substr(p + 1), 4096, &index) || count == 0 || index >= count) {
        return fail("bad decision '" + std::string(node) + "'");
      }
      if (node_count + repeat > kMaxDecisions) return fail("it holds too many decisions");
      const std::string one = " " + std::to_string(count) + " " + std::to_string(index) + " " +
                              std::to_string(type - 'a');
      for (uint64_t k = 0; k < repeat; ++k) nodes += one;
      node_count += repeat;
    }
  }
  state += std::to_string(node_count) + nodes;
  t.engine_state = state;
  return t;
}

}  // namespace kmc
