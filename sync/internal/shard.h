// kmc: splitting one tree search into shards (kmc check --shard=I/N).
//
// The tree scheduler (sync/internal/relacy_shim.cc) reports every decision
// of an execution here, in order, and asks two questions: may this node be
// branched (its later alternatives explored) by this shard, and does the
// running execution belong to this shard.
//
// The split. Along every path of the tree, the split node is the first
// choice of the next thread whose depth-product (the product of the
// alternative counts of the nodes above it) reaches kMinSubtrees(N). The
// nodes above it are the top of the tree: every shard explores the top
// exactly as the unsplit search does. The split node and everything below
// it form one subtree; subtrees are numbered in the order the depth-first
// search enters them and dealt out round robin (Owns()): neighbouring
// subtrees, often of similar size, go to different shards. A
// path that ends above any split node is a subtree of its own. In a subtree
// it does not own, a shard runs one execution (the subtree's first path)
// and branches nowhere below the split: that execution is not counted and
// its failure, if any, is left to the owner.
//
// Why the split sits at a choice of the next thread: a step (what one
// thread runs between two such choices) that starts above the split ends at
// or above it, so everything the search learns about a top node (the
// footprints of its alternatives' first steps, for sleep sets) comes from
// executions of the top, which every shard runs. The number of subtrees is
// at least kMinSubtrees(N) whenever the tree is that large: each path's
// depth-product is the inverse of the probability that a uniformly random
// descent takes it, and those probabilities sum to 1.

#ifndef KMC_SYNC_INTERNAL_SHARD_H_
#define KMC_SYNC_INTERNAL_SHARD_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kmc::internal {

class ShardSplit {
 public:
  // Subtrees the split aims at: at least 1024, so that --shard=0/1 and every
  // N up to 8 split the tree the same way, and 128 per shard beyond.
  static double MinSubtrees(int count) { return count <= 8 ? 1024.0 : 128.0 * count; }

  // Subtree k belongs to shard k mod N, in a snake order: the groups of N
  // consecutive subtrees go to shards 0..N-1 and N-1..0 in turn. With sleep
  // sets a subtree tends to be smaller than its left neighbour (more of its
  // threads are asleep), and the snake keeps shard 0 from always getting
  // the larger one of every group.
  bool Owns(uint64_t k) const {
    const uint64_t n = static_cast<uint64_t>(count_);
    const uint64_t pos = (k / n) % 2 == 0 ? k % n : n - 1 - k % n;
    return pos == static_cast<uint64_t>(index_);
  }

  ShardSplit() = default;
  // count 0: no sharding (every question answers "yes").
  ShardSplit(int index, int count)
      : index_(index), count_(count), min_subtrees_(MinSubtrees(count)) {}

  bool on() const { return count_ > 0; }

  // A new execution starts at the root. Unless the search backtracked
  // above the split, it goes on in the subtree of the last one (always an
  // owned one: nothing below the split of another's subtree is branched).
  void BeginExecution() {
    resolved_ = split_ >= 0;
    foreign_ = split_ >= 0 && !owned_;
  }

  // The decision at `depth` of the running execution: `alternatives` of
  // them, `thread_choice` when it picks the next thread. Returns true when
  // this decision makes the running execution foreign (it just entered a
  // subtree another shard owns), so the caller can stop counting it.
  bool Visit(size_t depth, unsigned alternatives, bool thread_choice) {
    if (!on()) return false;
    if (split_ >= 0 && depth >= static_cast<size_t>(split_)) return false;  // in the subtree
    if (product_.size() <= depth) product_.resize(depth + 1, 1.0);
    const double above = product_[depth];
    if (thread_choice && above >= min_subtrees_) {
      // The split node: a subtree this path enters for the first time
      // (backtracking above the split forgets the old one).
      split_ = static_cast<long>(depth);
      owned_ = Owns(next_subtree_);
      subtree_ = next_subtree_++;
      return Resolve(owned_);
    }
    if (product_.size() <= depth + 1) product_.resize(depth + 2, 1.0);
    product_[depth + 1] = above * alternatives;
    return false;
  }

  // The running execution ended (or failed). Returns
  // true when that makes it foreign (it ended above every split node, as a
  // subtree of its own, owned by another shard).
  bool EndExecution() {
    if (!on() || resolved_) return false;
    subtree_ = next_subtree_++;
    return Resolve(Owns(subtree_));
  }

  // May the node at `depth` be branched by this shard?
  bool MayBranch(size_t depth) const {
    return !on() || split_ < 0 || depth < static_cast<size_t>(split_) || owned_;
  }

  // Is the node at `depth` in the top of the tree (above the running path's
  // split, or on a path that has not reached one yet)? Every shard explores
  // the top; false when the search is not sharded.
  bool InTop(size_t depth) const {
    return on() && (split_ < 0 || depth < static_cast<size_t>(split_));
  }

  // The search backtracks to the node at `depth` (the deepest one with an
  // alternative left) and takes its next alternative.
  void Backtrack(size_t depth) {
    if (!on()) return;
    if (split_ >= 0 && depth < static_cast<size_t>(split_)) split_ = -1;  // back in the top
    if (product_.size() > depth + 1) product_.resize(depth + 1);
  }

  // Whether the running execution belongs to another shard (known once it
  // entered a subtree, or ended).
  bool foreign() const { return foreign_; }
  // The number of the subtree the running (or last) execution is in.
  uint64_t subtree() const { return subtree_; }
  // Subtrees entered so far.
  uint64_t subtrees() const { return next_subtree_; }

 private:
  bool Resolve(bool owned) {
    resolved_ = true;
    foreign_ = !owned;
    return foreign_;
  }

  int index_ = 0;
  int count_ = 0;
  double min_subtrees_ = 1024;
  // Of the running path.
  long split_ = -1;            // depth of its split node, -1 while in the top
  bool owned_ = true;          // its subtree belongs to this shard
  std::vector<double> product_;  // [d]: product of the alternative counts above depth d
  // Of the running execution.
  bool resolved_ = false;
  bool foreign_ = false;
  uint64_t subtree_ = 0;
  uint64_t next_subtree_ = 0;
};

}  // namespace kmc::internal

#endif  // KMC_SYNC_INTERNAL_SHARD_H_
