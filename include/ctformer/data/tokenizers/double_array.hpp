// A byte-keyed double-array trie in the unit layout of darts-clone, which SentencePiece stores in
// its .model files (normalizer_spec.precompiled_charsmap) and uses for its piece lookups.
// A unit is 32 bits: bits 0-7 the label, bit 8 "a key ends here", bits 10-30 the offset to the
// children (shifted left by 8 when bit 9 is set); a value unit has bit 31 set and the value in
// bits 0-30. The child of node p for byte c sits at p ^ offset(p) ^ c and must carry label c.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../error.hpp"

namespace ctformer::detail {

class double_array {
 public:
  double_array() = default;
  /// Takes the units as stored (little-endian 32-bit words; the caller has checked the size).
  explicit double_array(std::vector<std::uint32_t> units) : units_(std::move(units)) {}

  static bool has_leaf(std::uint32_t u) noexcept { return (u >> 8) & 1; }
  static std::uint32_t value(std::uint32_t u) noexcept { return u & 0x7FFFFFFFu; }
  /// A value unit's label has bit 31 set, so it never equals a byte.
  static std::uint32_t label(std::uint32_t u) noexcept { return u & 0x800000FFu; }
  static std::uint32_t offset(std::uint32_t u) noexcept { return (u >> 10) << ((u & (1u << 9)) >> 6); }

  std::size_t size() const noexcept { return units_.size(); }
  bool empty() const noexcept { return units_.empty(); }
  const std::vector<std::uint32_t>& units() const noexcept { return units_; }

  /// Calls f(length, value) for every key that is a prefix of text, shortest first, and stops after
  /// max_results calls (SentencePiece's normalizer looks at 32 at most). Positions outside the
  /// array end the walk: a corrupt array can never read out of bounds.
  template <class F>
  void common_prefix_search(std::string_view text, F&& f, std::size_t max_results = std::size_t(-1)) const {
    if (units_.empty()) return;
    std::size_t node = offset(units_[0]), found = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      node ^= c;
      if (node >= units_.size()) return;
      const std::uint32_t u = units_[node];
      if (label(u) != c) return;
      node ^= offset(u);
      if (has_leaf(u)) {
        if (node >= units_.size()) return;
        if (found++ < max_results) f(i + 1, value(units_[node]));
      }
    }
  }

  /// One transition from `node` on byte c, as darts-clone's traverse(): returns false when there
  /// is no such child; otherwise moves node and sets value to the key's value or -1.
  bool step(std::size_t& node, unsigned char c, std::int32_t& val) const noexcept {
    const std::size_t next = node ^ offset(units_[node]) ^ c;
    if (next >= units_.size()) return false;
    const std::uint32_t u = units_[next];
    if (label(u) != c) return false;
    node = next;
    if (has_leaf(u)) {
      const std::size_t leaf = next ^ offset(u);
      val = leaf < units_.size() ? std::int32_t(value(units_[leaf])) : -1;
    } else {
      val = -1;
    }
    return true;
  }

  /// The value of exactly this key, or -1.
  std::int32_t exact_match(std::string_view key) const noexcept {
    if (units_.empty()) return -1;
    std::size_t node = 0;
    std::int32_t val = -1;
    for (unsigned char c : key)
      if (!step(node, c, val)) return -1;
    return val;
  }

  /// What check_tree() found: the longest path from the root (in bytes) and the largest value.
  struct tree_facts {
    std::size_t longest_key = 0;
    std::uint32_t max_value = 0;
    bool has_values = false;
  };

  /// Checks an array read from a file before anyone walks it: the nodes reachable from the root
  /// form a DAG (darts-clone shares common suffixes, so a node may have several parents, but a
  /// cycle would make a walk as long as the text), no path is longer than max_key bytes, and every
  /// key's value sits in a value unit inside the array. O(256 x reachable nodes); throws
  /// ctformer::error naming `where`.
  tree_facts check_tree(std::string_view where = "double-array trie", std::size_t max_key = 256) const {
    tree_facts facts;
    if (units_.empty()) return facts;
    enum : std::uint8_t { unseen, open, done };
    std::vector<std::uint8_t> state(units_.size(), unseen);
    std::vector<std::uint16_t> height(units_.size(), 0);  // longest path below a node, <= max_key
    struct frame {
      std::size_t node, next_byte;
    };
    std::vector<frame> stack{{0, 0}};
    state[0] = open;
    const auto enter = [&](std::size_t node) {
      const std::uint32_t u = units_[node];
      if (!has_leaf(u)) return;
      const std::size_t leaf = node ^ offset(u);
      if (leaf >= units_.size())
        fail("{}: unit {} ends a key but its value would be unit {}, past the {} units", where, node, leaf,
             units_.size());
      if (!(units_[leaf] & 0x80000000u))
        fail("{}: unit {} ends a key but unit {} holding its value is not a value unit (0x{:08X})", where, node,
             leaf, units_[leaf]);
      facts.max_value = std::max(facts.max_value, value(units_[leaf]));
      facts.has_values = true;
    };
    while (!stack.empty()) {
      const std::size_t node = stack.back().node;
      const std::size_t base = node ^ offset(units_[node]);
      std::size_t c = stack.back().next_byte, child = 0;
      for (; c < 256; ++c) {
        child = base ^ c;
        if (child < units_.size() && label(units_[child]) == c) break;
      }
      stack.back().next_byte = c + 1;
      if (c < 256) {
        if (state[child] == open)
          fail("{}: unit {} leads back to itself (a cycle: corrupt trie)", where, child);
        if (state[child] == unseen) {
          if (stack.size() >= max_key) fail("{}: a key is longer than {} bytes (corrupt trie?)", where, max_key);
          state[child] = open;
          enter(child);
          stack.push_back({child, 0});
        } else if (std::size_t(height[child]) + 1 > height[node]) {
          height[node] = std::uint16_t(height[child] + 1);
        }
        continue;
      }
      state[node] = done;
      stack.pop_back();
      if (!stack.empty()) {
        const std::size_t parent = stack.back().node;
        height[parent] = std::max<std::uint16_t>(height[parent], std::uint16_t(height[node] + 1));
      }
    }
    if (height[0] > max_key) fail("{}: a key is longer than {} bytes (corrupt trie?)", where, max_key);
    facts.longest_key = height[0];
    return facts;
  }

  /// Every (key, value) pair, in byte order of the keys (for tests and for decompiling a charsmap).
  /// Checks the array first, so a corrupt one fails instead of looping, and stops at max_entries
  /// (suffix sharing lets a small corrupt array spell exponentially many keys).
  std::vector<std::pair<std::string, std::uint32_t>> entries(std::size_t max_entries = std::size_t(1) << 20) const {
    std::vector<std::pair<std::string, std::uint32_t>> out;
    if (units_.empty()) return out;
    check_tree();
    std::string key;
    std::vector<std::pair<std::size_t, int>> stack{{0, 1}};  ///< (node, next byte to try)
    while (!stack.empty()) {
      auto& [node, c] = stack.back();
      if (c > 255) {
        stack.pop_back();
        if (!key.empty()) key.pop_back();
        continue;
      }
      const std::size_t next = node ^ offset(units_[node]) ^ std::size_t(c);
      const int byte = c++;
      if (next >= units_.size() || label(units_[next]) != std::uint32_t(byte)) continue;
      key.push_back(char(byte));
      const std::uint32_t u = units_[next];
      if (has_leaf(u) && (next ^ offset(u)) < units_.size())
        out.emplace_back(key, value(units_[next ^ offset(u)]));
      if (out.size() > max_entries) fail("double-array trie: more than {} keys (corrupt trie?)", max_entries);
      stack.emplace_back(next, 1);
    }
    return out;
  }

  /// Builds an array from keys sorted in byte order, unique, non-empty and without NUL bytes;
  /// values must fit in 31 bits. Placement is first-fit; unused units get a label that matches
  /// no byte, so a NUL byte in the text never follows an empty unit.
  static double_array build(const std::vector<std::pair<std::string, std::uint32_t>>& kv);

 private:
  std::vector<std::uint32_t> units_;
};

inline double_array double_array::build(const std::vector<std::pair<std::string, std::uint32_t>>& kv) {
  for (std::size_t i = 0; i < kv.size(); ++i) {
    if (kv[i].first.empty() || kv[i].first.find('\0') != std::string::npos)
      fail("double-array trie: keys must be non-empty and free of NUL bytes");
    if (i > 0 && !(kv[i - 1].first < kv[i].first))
      fail("double-array trie: keys must be sorted and unique ('{}' after '{}')", kv[i].first, kv[i - 1].first);
    if (kv[i].second >= 0x80000000u) fail("double-array trie: value {} does not fit in 31 bits", kv[i].second);
  }
  constexpr std::uint32_t free_unit = 0x80000000u;
  std::vector<std::uint32_t> units;
  std::vector<bool> base_used;
  /// Unused positions form a doubly linked list (index units.size() is the end), so a search
  /// skips the filled part of the array instead of rescanning it.
  std::vector<std::uint32_t> next_free, prev_free;
  std::uint32_t head = 0;
  const auto add_block = [&] {
    const std::uint32_t n = std::uint32_t(units.size()), m = n + 256;
    units.resize(m, free_unit);
    base_used.resize(m, false);
    next_free.resize(m + 1);
    prev_free.resize(m + 1);
    /// Relink: the old end marker n becomes the first new position.
    const std::uint32_t tail = prev_free[n];
    const bool list_empty = head == n;
    for (std::uint32_t q = n; q < m; ++q) {
      next_free[q] = q + 1;
      prev_free[q + 1] = q;
    }
    if (list_empty) {
      head = n;
    } else {
      next_free[tail] = n;
      prev_free[n] = tail;
    }
  };
  const auto take = [&](std::uint32_t q) {
    const std::uint32_t p = prev_free[q], n = next_free[q];
    if (q == head) head = n; else next_free[p] = n;
    prev_free[n] = p;
    next_free[q] = prev_free[q] = q;  // marks q as used
  };
  const auto is_free = [&](std::uint32_t q) { return next_free[q] != q; };
  next_free.assign(1, 0);
  prev_free.assign(1, 0);
  add_block();
  take(0);  // the root
  units[0] = 0;

  /// Keys [lo, hi) share their first `depth` bytes and belong to the node at `pos`.
  struct task {
    std::size_t lo, hi, depth;
    std::uint32_t pos;
  };
  std::vector<task> todo{{0, kv.size(), 0, 0}};
  std::vector<unsigned> labels;
  while (!todo.empty()) {
    const task t = todo.back();
    todo.pop_back();
    labels.clear();
    std::size_t lo = t.lo;
    const bool leaf = lo < t.hi && kv[lo].first.size() == t.depth;
    if (leaf) {
      labels.push_back(0);
      ++lo;
    }
    for (std::size_t i = lo; i < t.hi; ++i) {
      const unsigned c = static_cast<unsigned char>(kv[i].first[t.depth]);
      if (labels.empty() || labels.back() != c) labels.push_back(c);
    }
    if (labels.empty()) continue;
    /// First fit: a base whose slots base ^ label are all free and which no other node uses (two
    /// nodes with one base would accept each other's children). The slots of one base lie in one
    /// 256-unit block, the block of the candidate slot q.
    std::uint32_t base = 0;
    for (std::uint32_t q = head;; q = next_free[q]) {
      if (q == units.size()) add_block();
      const std::uint32_t b = q ^ labels[0];
      if (b == 0 || base_used[b]) continue;
      bool ok = true;
      for (std::size_t k = 1; k < labels.size() && ok; ++k) ok = is_free(b ^ labels[k]);
      if (ok) {
        base = b;
        break;
      }
    }
    base_used[base] = true;
    for (unsigned l : labels) take(base ^ l);

    const std::uint32_t off = t.pos ^ base;
    std::uint32_t& u = units[t.pos];
    if (u == free_unit) u = 0;
    if (off < (1u << 21)) {
      u |= off << 10;
    } else if ((off & 0xFF) == 0 && off < (1u << 29)) {
      u |= ((off >> 8) << 10) | (1u << 9);
    } else {
      fail("double-array trie: offset {} cannot be encoded (too many keys)", off);
    }
    if (leaf) {
      u |= 1u << 8;
      units[base] = kv[t.lo].second | 0x80000000u;
    }
    std::size_t hi = t.hi;
    for (std::size_t k = labels.size(); k-- > (leaf ? 1u : 0u);) {
      const unsigned c = labels[k];
      std::size_t start = hi;
      while (start > lo && static_cast<unsigned char>(kv[start - 1].first[t.depth]) == c) --start;
      units[base ^ c] = c;
      todo.push_back({start, hi, t.depth + 1, base ^ c});
      hi = start;
    }
  }
  return double_array(std::move(units));
}

}  // namespace ctformer::detail
